package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/pcad-dev/pcad/internal/store"
)

// claim calls ClaimIdempotency and fails the test on error.
func (f *fixture) claim(t *testing.T, accountID int64, action, token, fp string) (store.Idempotency, bool) {
	t.Helper()
	rec, claimed, err := f.s.ClaimIdempotency(f.ctx, accountID, action, token, fp, t0)
	checkErr(t, fmt.Sprintf("ClaimIdempotency(%d, %s, %s)", accountID, action, token), err, nil)
	return rec, claimed
}

// checkClaim fails the test unless a claim of (account, action, token) with a
// fresh fingerprint is refused with the record {fp, response}, or is
// accepted when fp is "".
func (f *fixture) checkClaim(t *testing.T, accountID int64, action, token, fp string, response []byte) {
	t.Helper()
	fresh := fmt.Sprintf("fp-probe-%d", f.next())
	rec, claimed := f.claim(t, accountID, action, token, fresh)
	if fp == "" {
		if !claimed {
			t.Errorf("claim of %s/%s not accepted; existing record %+v", action, token, rec)
		}
		return
	}
	if claimed {
		t.Fatalf("claim of %s/%s accepted, want the existing record of %q", action, token, fp)
	}
	if rec.Fingerprint != fp {
		t.Errorf("existing record Fingerprint = %q, want %q", rec.Fingerprint, fp)
	}
	switch {
	case response == nil && rec.Response != nil:
		t.Errorf("existing record Response = %q, want nil (call still running)", rec.Response)
	case response != nil && (rec.Response == nil || !bytes.Equal(rec.Response, response)):
		t.Errorf("existing record Response = %q, want %q", rec.Response, response)
	}
}

func testIdempotencyClaim(t *testing.T, open opener) {
	f := newFixture(t, open)
	acct := f.account().ID
	rec, claimed := f.claim(t, acct, "IssueCert", "tok-1", "fp-1")
	if !claimed {
		t.Fatalf("first claim not accepted; record %+v", rec)
	}
	t.Run("fail/same-fingerprint", func(t *testing.T) {
		rec, claimed := f.claim(t, acct, "IssueCert", "tok-1", "fp-1")
		if claimed || rec.Fingerprint != "fp-1" || rec.Response != nil {
			t.Errorf("second claim = %+v, claimed %v; want {fp-1, nil}, not claimed", rec, claimed)
		}
	})
	t.Run("fail/other-fingerprint", func(t *testing.T) {
		f.checkClaim(t, acct, "IssueCert", "tok-1", "fp-1", nil)
	})
	t.Run("ok/other-token", func(t *testing.T) {
		f.checkClaim(t, acct, "IssueCert", "tok-2", "", nil)
	})
}

func testIdempotencyComplete(t *testing.T, open opener) {
	tests := []struct {
		name     string
		response []byte
	}{
		{"ok/json", []byte(`{"Identifier":"abc","RequestId":"r1"}`)},
		{"ok/binary", []byte{0, 0xff, 0x00, 0x7f}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			acct := f.account().ID
			f.claim(t, acct, "IssueCert", "tok", "fp-1")
			checkErr(t, "CompleteIdempotency", f.s.CompleteIdempotency(f.ctx, acct, "IssueCert", "tok", tc.response), nil)
			f.checkClaim(t, acct, "IssueCert", "tok", "fp-1", tc.response)
			// Still the same after another read.
			f.checkClaim(t, acct, "IssueCert", "tok", "fp-1", tc.response)
		})
	}
}

func testIdempotencyRelease(t *testing.T, open opener) {
	response := []byte(`{"ok":true}`)
	tests := []struct {
		name     string
		complete bool
		forgets  bool
	}{
		{"ok/incomplete-is-forgotten", false, true},
		{"ok/complete-is-kept", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, open)
			acct := f.account().ID
			f.claim(t, acct, "RevokeCert", "tok", "fp-1")
			f.claim(t, acct, "RevokeCert", "bystander", "fp-b")
			if tc.complete {
				checkErr(t, "CompleteIdempotency", f.s.CompleteIdempotency(f.ctx, acct, "RevokeCert", "tok", response), nil)
			}
			checkErr(t, "ReleaseIdempotency", f.s.ReleaseIdempotency(f.ctx, acct, "RevokeCert", "tok"), nil)
			switch {
			case tc.forgets:
				rec, claimed := f.claim(t, acct, "RevokeCert", "tok", "fp-2")
				if !claimed {
					t.Fatalf("claim after release not accepted; record %+v", rec)
				}
				f.checkClaim(t, acct, "RevokeCert", "tok", "fp-2", nil)
			default:
				f.checkClaim(t, acct, "RevokeCert", "tok", "fp-1", response)
			}
			f.checkClaim(t, acct, "RevokeCert", "bystander", "fp-b", nil)
		})
	}
}

func testIdempotencyScope(t *testing.T, open opener) {
	f := newFixture(t, open)
	a, b := f.account().ID, f.account().ID
	resp := []byte("first response")
	f.claim(t, a, "IssueCert", "tok", "fp-a")
	checkErr(t, "CompleteIdempotency(a)", f.s.CompleteIdempotency(f.ctx, a, "IssueCert", "tok", resp), nil)
	tests := []struct {
		name    string
		account int64
		action  string
		fp      string // of the record a second claim must meet
	}{
		{"ok/other-account-claims", b, "IssueCert", "fp-b"},
		{"ok/other-action-claims", a, "RevokeCert", "fp-act"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, claimed := f.claim(t, tc.account, tc.action, "tok", tc.fp)
			if !claimed {
				t.Fatalf("claim not accepted; met record %+v", rec)
			}
			// Completing and releasing elsewhere did not touch it.
			f.checkClaim(t, tc.account, tc.action, "tok", tc.fp, nil)
		})
	}
	t.Run("ok/release-elsewhere-keeps-record", func(t *testing.T) {
		checkErr(t, "ReleaseIdempotency(b)", f.s.ReleaseIdempotency(f.ctx, b, "IssueCert", "tok"), nil)
		checkErr(t, "ReleaseIdempotency(other action)", f.s.ReleaseIdempotency(f.ctx, a, "RevokeCert", "tok"), nil)
		f.checkClaim(t, a, "IssueCert", "tok", "fp-a", resp)
	})
	t.Run("ok/complete-elsewhere-keeps-record", func(t *testing.T) {
		f.claim(t, b, "IssueCert", "tok2", "fp-b2")
		f.claim(t, a, "IssueCert", "tok2", "fp-a2")
		// Completing b's token (or a's under another action) leaves a's running.
		checkErr(t, "CompleteIdempotency(b)", f.s.CompleteIdempotency(f.ctx, b, "IssueCert", "tok2", []byte("b")), nil)
		f.checkClaim(t, a, "IssueCert", "tok2", "fp-a2", nil)
		f.checkClaim(t, b, "IssueCert", "tok2", "fp-b2", []byte("b"))
	})
}

func testIdempotencyConcurrent(t *testing.T, open opener) {
	const callers = 8
	f := newFixture(t, open)
	acct := f.account().ID
	type result struct {
		rec     store.Idempotency
		claimed bool
		err     error
	}
	results := make([]result, callers)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[i]
			r.rec, r.claimed, r.err = f.s.ClaimIdempotency(f.ctx, acct, "IssueCert", "race", fmt.Sprintf("fp-%d", i), t0)
		}()
	}
	wg.Wait()
	winner := -1
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("caller %d: %v", i, r.err)
		}
		if r.claimed {
			if winner >= 0 {
				t.Fatalf("callers %d and %d both claimed the token", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no caller claimed the token")
	}
	want := fmt.Sprintf("fp-%d", winner)
	for i, r := range results {
		if !r.claimed && (r.rec.Fingerprint != want || r.rec.Response != nil) {
			t.Errorf("caller %d met %+v, want {%s, nil}", i, r.rec, want)
		}
	}
}
