package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestClientAddr(t *testing.T) {
	trusted, err := parseTrustedProxies("10.0.0.0/8, 192.168.1.5")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		peer   string
		xff    []string
		want   string
		proxys trustedProxies
	}{
		{"no proxies configured", "10.1.2.3:5000", []string{"203.0.113.9"}, "10.1.2.3:5000", nil},
		{"untrusted peer keeps its address", "198.51.100.7:4000", []string{"203.0.113.9"}, "198.51.100.7:4000", trusted},
		{"trusted peer forwards the client", "10.1.2.3:5000", []string{"203.0.113.9"}, "203.0.113.9:0", trusted},
		{"single trusted address", "192.168.1.5:5000", []string{"203.0.113.9"}, "203.0.113.9:0", trusted},
		{"forged left-most hop ignored", "10.1.2.3:5000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9:0", trusted},
		{"chain of trusted proxies skipped", "10.1.2.3:5000", []string{"203.0.113.9, 10.9.9.9", "192.168.1.5"}, "203.0.113.9:0", trusted},
		{"all hops trusted keeps the peer", "10.1.2.3:5000", []string{"10.2.2.2"}, "10.1.2.3:5000", trusted},
		{"malformed hop keeps the peer", "10.1.2.3:5000", []string{"203.0.113.9, bogus"}, "10.1.2.3:5000", trusted},
		{"no header keeps the peer", "10.1.2.3:5000", nil, "10.1.2.3:5000", trusted},
		{"IPv6 client", "10.1.2.3:5000", []string{"2001:db8::1"}, "[2001:db8::1]:0", trusted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tc.proxys.clientAddr(r); got != tc.want {
				t.Errorf("clientAddr = %q, want %q", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "1.2.3"} {
		if _, err := parseTrustedProxies(bad); err == nil {
			t.Errorf("parseTrustedProxies(%q) accepted a bad value", bad)
		}
	}
}

// TestTrustProxyHandler: the handler hands the next one the client address,
// and leaves requests alone without trusted proxies.
func TestTrustProxyHandler(t *testing.T) {
	trusted, _ := parseTrustedProxies("127.0.0.1")
	for _, tc := range []struct {
		name    string
		proxies trustedProxies
		want    string
	}{
		{"trusted", trusted, "203.0.113.9:0"},
		{"none", nil, "127.0.0.1:4444"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen string
			h := tc.proxies.handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }))
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = "127.0.0.1:4444"
			r.Header.Set("X-Forwarded-For", "203.0.113.9")
			h.ServeHTTP(httptest.NewRecorder(), r)
			if seen != tc.want {
				t.Errorf("next saw RemoteAddr %q, want %q", seen, tc.want)
			}
		})
	}
}
