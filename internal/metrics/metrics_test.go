package metrics

import "testing"

func TestRoute(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"/", "api"},
		{"/pki/ocsp", "ocsp"},
		{"/pki/ocsp/MEkwRzBFMEMwQTAJBgUrDgMCGgUABBQ", "ocsp"},
		{"/pki/crl/abc.crl", "crl"},
		{"/pki/ca/abc.crt", "ca"},
		{"/healthz", "health"},
		{"/readyz", "health"},
		{"/metrics", "metrics"},
		{"/console/", "other"},
		{"/pki/crlx", "other"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			if got := Route(tc.path); got != tc.want {
				t.Errorf("Route(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}
