package casapi

import (
	"net/url"
	"testing"

	"github.com/pcad-dev/pcad/internal/openapi"
)

func TestFingerprint(t *testing.T) {
	fp := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return fingerprint(openapi.NewParams(v))
	}
	base := fp("CommonName", "a", "Years", "5")
	tests := []struct {
		name string
		got  string
		same bool
	}{
		{"protocol-v1-params-ignored", fp("CommonName", "a", "Years", "5", "AccessKeyId", "k", "Signature", "s", "SignatureMethod", "HMAC-SHA1",
			"SignatureVersion", "1.0", "SignatureNonce", "n", "Timestamp", "t", "Format", "json", "Version", "2020-06-30", "Action", "X"), true},
		{"region-and-token-ignored", fp("CommonName", "a", "Years", "5", "RegionId", "cn-hangzhou", "ClientToken", "other", "SecurityToken", "x"), true},
		{"other-value", fp("CommonName", "b", "Years", "5"), false},
		{"extra-param", fp("CommonName", "a", "Years", "5", "Days", "1"), false},
		{"missing-param", fp("CommonName", "a"), false},
		{"empty-value-is-a-value", fp("CommonName", "a", "Years", "5", "AliasName", ""), false},
		{"no-ambiguous-joins", fp("CommonName", "a;Years=5", "Years", ""), false},
		{"name-case-matters", fp("commonName", "a", "Years", "5"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.got == base) != tc.same {
				t.Errorf("fingerprint equal to the base = %v, want %v", tc.got == base, tc.same)
			}
		})
	}
}
