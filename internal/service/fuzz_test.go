package service

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// FuzzOpenToken feeds arbitrary NextTokens to the token check: only a token
// this service sealed for the same binding opens, and it gives back the id
// it was sealed with; everything else is refused without a panic.
//
//	go test ./internal/service -run '^$' -fuzz FuzzOpenToken -fuzztime 10m
func FuzzOpenToken(f *testing.F) {
	svc, _ := newTestService(f)
	f.Add("acct:1|ListCert", svc.sealToken("acct:1|ListCert", 42), int64(42))
	f.Add("acct:1|ListCert", svc.sealToken("acct:2|ListCert", 42), int64(7))
	f.Add("", "", int64(1))
	f.Add("b", "AAAAAAAAAAAAAAAAAAAAAAAA", int64(1<<62))
	f.Fuzz(func(t *testing.T, binding, token string, id int64) {
		if last, ok := svc.openToken(binding, token); ok {
			// Same bytes as the token sealed for that id (base64 may spell them two ways).
			raw, _ := base64.RawURLEncoding.DecodeString(token)
			want, _ := base64.RawURLEncoding.DecodeString(svc.sealToken(binding, last))
			if last <= 0 || !bytes.Equal(raw, want) {
				t.Fatalf("openToken(%q, %q) accepted a token this service did not seal (last %d)", binding, token, last)
			}
		}
		if id <= 0 || id > 1<<62 {
			return
		}
		sealed := svc.sealToken(binding, id)
		if last, ok := svc.openToken(binding, sealed); !ok || last != id {
			t.Fatalf("a sealed token did not open: %d, %v; want %d", last, ok, id)
		}
		if _, ok := svc.openToken(binding+"x", sealed); ok {
			t.Fatalf("a token opened under another binding")
		}
	})
}
