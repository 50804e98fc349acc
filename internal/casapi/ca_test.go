package casapi

import (
	"net/url"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// TestCAKeyStoreParam: KeyStore, pcad's extension of the CA create calls,
// takes HSM or SOFTWARE exactly; absent, the server decides.
func TestCAKeyStoreParam(t *testing.T) {
	tests := []struct {
		name    string
		value   string
		present bool
		want    service.KeyStore
		wantErr bool
	}{
		{"absent", "", false, service.KeyStoreDefault, false},
		{"empty", "", true, service.KeyStoreDefault, false},
		{"hsm", "HSM", true, service.KeyStoreHSM, false},
		{"software", "SOFTWARE", true, service.KeyStoreSoftware, false},
		{"lower-case", "hsm", true, "", true},
		{"other", "KMS", true, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{}
			if tc.present {
				v.Set("KeyStore", tc.value)
			}
			b := &binder{p: openapi.NewParams(v)}
			got := caKeyStore(b)
			if tc.wantErr {
				e, ok := pca.AsError(b.err)
				if !ok || e.Kind != pca.KindInvalid || e.Param != "KeyStore" || !strings.Contains(e.Msg, "HSM, SOFTWARE") {
					t.Fatalf("KeyStore=%q: err %v, want KindInvalid naming KeyStore and its values", tc.value, b.err)
				}
				return
			}
			if b.err != nil || got != tc.want {
				t.Fatalf("KeyStore=%q: got %q, err %v; want %q", tc.value, got, b.err, tc.want)
			}
		})
	}
}
