package pkcs11

import (
	"strings"
	"testing"
)

func TestParseURI(t *testing.T) {
	const mod = "/usr/lib/softhsm/libsofthsm2.so"
	tests := []struct {
		name    string
		in      string
		want    Config
		wantErr string // substring of the error; "" = success
	}{
		{"pin-file", "pkcs11:module=" + mod + ";token=ca-test;pin-file=/run/secrets/hsm-pin",
			Config{Module: mod, Token: "ca-test", PINFile: "/run/secrets/hsm-pin"}, ""},
		{"pin-value", "pkcs11:module=" + mod + ";token=ca-test;pin-value=1234", Config{Module: mod, Token: "ca-test", PIN: "1234"}, ""},
		{"rfc7512-names-and-query", "pkcs11:token=ca%20test;module-path=" + mod + "?pin-source=file:/run/pin",
			Config{Module: mod, Token: "ca test", PINFile: "/run/pin"}, ""},
		{"serial", "pkcs11:module=" + mod + ";serial=0123abcd;pin-value=1234", Config{Module: mod, Serial: "0123abcd", PIN: "1234"}, ""},
		{"attribute-names-ignore-case", "pkcs11:Module=" + mod + ";TOKEN=t;Pin-Value=1", Config{Module: mod, Token: "t", PIN: "1"}, ""},
		{"empty-attributes-skipped", "pkcs11:module=" + mod + ";;token=t;pin-value=1;", Config{Module: mod, Token: "t", PIN: "1"}, ""},
		{"no-scheme", "module=" + mod + ";token=t;pin-value=1", Config{}, `start with "pkcs11:"`},
		{"no-module", "pkcs11:token=t;pin-value=1", Config{}, "module="},
		{"no-token", "pkcs11:module=" + mod + ";pin-value=1", Config{}, "token="},
		{"token-and-serial", "pkcs11:module=" + mod + ";token=t;serial=s;pin-value=1", Config{}, "not both"},
		{"no-pin", "pkcs11:module=" + mod + ";token=t", Config{}, "pin-file="},
		{"two-pins", "pkcs11:module=" + mod + ";token=t;pin-value=1;pin-file=/f", Config{}, "not both"},
		{"twice", "pkcs11:module=" + mod + ";token=t;token=u;pin-value=1", Config{}, "token given twice"},
		{"alias-twice", "pkcs11:module=" + mod + ";module-path=/x;token=t;pin-value=1", Config{}, "module given twice"},
		{"unknown", "pkcs11:module=" + mod + ";token=t;pin-value=1;slot-id=3", Config{}, `unknown attribute "slot-id"`},
		{"no-value", "pkcs11:module=" + mod + ";token;pin-value=1", Config{}, "attribute 2 is not of the form name=value"},
		{"bad-escape", "pkcs11:module=" + mod + ";token=%zz;pin-value=1", Config{}, "token: bad percent-encoding"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseURI(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseURI(%q) = %+v, %v; want an error containing %q", tc.in, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseURI(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestParseURIHidesPIN: neither an error nor String shows a PIN.
func TestParseURIHidesPIN(t *testing.T) {
	const secret = "S3cr3t-PIN-value"
	for _, in := range []string{
		"pkcs11:module=/m;token=t;pin-value=" + secret + ";pin-value=" + secret,
		"pkcs11:module=/m;token=t;pin-value=" + secret + ";bogus=" + secret,
		"pkcs11:module=/m;token=t;serial=s;pin-value=" + secret,
		"pkcs11:module=/m;token=t;pin-file=/f;pin-value=" + secret,
		"pkcs11:module=/m;token=t;pin-value=%zz" + secret,
		"pkcs11:module=/m;token=t;" + secret,
		secret,
	} {
		if _, err := ParseURI(in); err == nil || strings.Contains(err.Error(), secret) {
			t.Errorf("ParseURI(%q): error %v, want one that does not show the PIN", in, err)
		}
	}
	c, err := ParseURI("pkcs11:module=/m;token=t;pin-value=" + secret)
	if err != nil {
		t.Fatal(err)
	}
	if s := c.String(); strings.Contains(s, secret) || !strings.Contains(s, "token=t") {
		t.Errorf("String() = %q: want the token and no PIN", s)
	}
}
