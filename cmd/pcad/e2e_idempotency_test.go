package main

// ClientToken idempotency (spec C.17) through the official client in both
// signature modes: a repeated token answers the first result, a token reused
// with other parameters is IdempotentParameterMismatch, a token whose first
// call still runs is refused, and a failed first call leaves the token free.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
)

func TestIdempotencyClientToken(t *testing.T) {
	ts := startServer(t, 0)
	key, act := lcAccountKey(t, ts)
	clients := map[string]*openapiclient.Client{
		"v3": clientFor(t, ts, "v3", key.ID, key.Secret),
		"v1": clientFor(t, ts, "v1", key.ID, key.Secret), // same account, other signature mode
	}
	c3, c1 := clients["v3"], clients["v1"]
	other, _ := lcAccount(t, ts, "v3")
	root, sub := hierarchy(t, c3)
	cert := issueClient(t, c3, sub.ID, nil)
	doomed := createSub(t, c3, root.ID, "ECC_256", map[string]string{"CommonName": "Doomed"})
	spare := createSub(t, c3, root.ID, "ECC_256", map[string]string{"CommonName": "Spare"})

	type action struct {
		name    string
		params  map[string]string
		changed map[string]string // other parameters for the same token
		table   string            // rows that the first call adds ("" = none)
		id      string            // answer field that must repeat ("" = none)
	}
	actions := []action{
		{"CreateRootCACertificate", rootParams("ECC_256"), map[string]string{"CommonName": "Another Root"}, "cas", "Identifier"},
		{"CreateSubCACertificate", subParams(root.ID, "ECC_256"), map[string]string{"Years": "6"}, "cas", "Identifier"},
		{"CreateClientCertificate", clientParams(sub.ID), map[string]string{"Days": "31"}, "certificates", "Identifier"},
		{"UpdatePcaCertificate", map[string]string{"Identifier": cert, "AliasName": "first"}, map[string]string{"AliasName": "second"}, "", ""},
		// Revoking twice is refused, so a replay that answers success shows
		// the second call did not run.
		{"UpdateCACertificateStatus", map[string]string{"Identifier": doomed.ID, "Status": "REVOKE"}, map[string]string{"Identifier": spare.ID}, "", ""},
	}
	for _, ac := range actions {
		t.Run(ac.name, func(t *testing.T) {
			token := "tok-" + ac.name
			q := with(ac.params, map[string]string{"ClientToken": token})
			var rows int64
			if ac.table != "" {
				rows = lcRows(t, ts, ac.table)
			}
			first := lcMust(t, c3, ac.name, q)
			answers := map[string]map[string]any{
				"again":      lcMust(t, c3, ac.name, q),
				"other-mode": lcMust(t, c1, ac.name, q), // a retry signed the other way
				// Protocol parameters are not part of the call.
				"with-RegionId": lcMust(t, c3, ac.name, with(q, map[string]string{"RegionId": "cn-shanghai"})),
			}
			for name, b := range answers {
				if fmt.Sprint(lcWithoutRequestID(b)) != fmt.Sprint(lcWithoutRequestID(first)) {
					t.Errorf("%s: answer differs from the first:\n%v\n%v", name, b, first)
				}
				if b["RequestId"] == first["RequestId"] {
					t.Errorf("%s: RequestId %v repeated: each request has its own", name, b["RequestId"])
				}
				if ac.id != "" && jStr(t, b, ac.id) != jStr(t, first, ac.id) {
					t.Errorf("%s: %s %s, first %s", name, ac.id, jStr(t, b, ac.id), jStr(t, first, ac.id))
				}
			}
			if ac.table != "" {
				if n := lcRows(t, ts, ac.table); n != rows+1 {
					t.Errorf("%s rows %d -> %d, want one more", ac.table, rows, n)
				}
				rows++
			}
			for mode, c := range clients {
				_, err := lcCall(t, c, ac.name, with(q, ac.changed))
				if e := wantErr(t, err, http.StatusBadRequest, "IdempotentParameterMismatch", token); t.Failed() {
					t.Logf("%s: %+v", mode, e)
				}
			}
			if ac.table != "" {
				if n := lcRows(t, ts, ac.table); n != rows {
					t.Errorf("a mismatch changed %s rows: %d -> %d", ac.table, rows, n)
				}
			}
			// Without the token the changed call runs normally.
			lcMust(t, c3, ac.name, with(ac.params, ac.changed))
		})
	}
	t.Run("tokens-are-per-account", func(t *testing.T) {
		q := with(rootParams("ECC_256"), map[string]string{"ClientToken": "tok-CreateRootCACertificate"})
		mine := lcMust(t, c3, "CreateRootCACertificate", q)
		theirs := lcMust(t, other, "CreateRootCACertificate", q)
		if jStr(t, theirs, "Identifier") == jStr(t, mine, "Identifier") {
			t.Error("another account got the first account's answer")
		}
	})
	t.Run("replay-does-not-reapply", func(t *testing.T) {
		q := map[string]string{"Identifier": cert, "AliasName": "by-token", "ClientToken": "tok-alias"}
		lcMust(t, c3, "UpdatePcaCertificate", q)
		lcMust(t, c3, "UpdatePcaCertificate", map[string]string{"Identifier": cert, "AliasName": "manual"})
		lcMust(t, c3, "UpdatePcaCertificate", q) // answered from the record, not run
		if got := jStr(t, lcDescribe(t, c3, cert), "AliasName"); got != "manual" {
			t.Errorf("AliasName %q: the replay ran the update again", got)
		}
	})
	t.Run("failed-first-call-frees-the-token", func(t *testing.T) {
		q := with(subParams("01234567-89ab-7cde-8f01-23456789abcd", "ECC_256"), map[string]string{"ClientToken": "tok-fail"})
		for _, c := range []*openapiclient.Client{c3, c1} { // runs again each time: errors are not stored
			_, err := lcCall(t, c, "CreateSubCACertificate", q)
			wantErr(t, err, http.StatusNotFound, "NotFound.CA")
		}
		good := with(q, map[string]string{"ParentIdentifier": root.ID})
		b := lcMust(t, c3, "CreateSubCACertificate", good) // other parameters: no mismatch
		if b2 := lcMust(t, c1, "CreateSubCACertificate", good); jStr(t, b2, "Identifier") != jStr(t, b, "Identifier") {
			t.Error("the token was not recorded by the successful call")
		}
	})
	t.Run("in-progress", func(t *testing.T) {
		// A first call still running is a claimed token without an answer:
		// claim one with the fingerprint these parameters give.
		ctx := context.Background()
		q := with(rootParams("ECC_256"), map[string]string{"CommonName": "In Progress", "ClientToken": "tok-probe"})
		lcMust(t, c3, "CreateRootCACertificate", q)
		var fp string
		if err := ts.app.store.DB().QueryRowContext(ctx, "SELECT fingerprint FROM idempotency WHERE account_id = ? AND token = ?",
			act.AccountID, "tok-probe").Scan(&fp); err != nil {
			t.Fatal(err)
		}
		if _, claimed, err := ts.app.store.ClaimIdempotency(ctx, act.AccountID, "CreateRootCACertificate", "tok-running", fp, time.Now()); err != nil || !claimed {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		rows := lcRows(t, ts, "cas")
		running := with(q, map[string]string{"ClientToken": "tok-running"})
		for _, c := range []*openapiclient.Client{c3, c1} {
			_, err := lcCall(t, c, "CreateRootCACertificate", running)
			wantErr(t, err, http.StatusConflict, "AlreadyExists.ClientTokenInProgress", "tok-running")
		}
		_, err := lcCall(t, c3, "CreateRootCACertificate", with(running, map[string]string{"Years": "9"}))
		wantErr(t, err, http.StatusBadRequest, "IdempotentParameterMismatch")
		if n := lcRows(t, ts, "cas"); n != rows {
			t.Errorf("refused calls created %d CAs", n-rows)
		}
	})
	t.Run("concurrent-duplicates", func(t *testing.T) {
		// Whatever the interleaving: one CA is made, every success names it,
		// every refusal says the first call is in progress. The official
		// client shares an http.Client it mutates per call (a data race under
		// -race), so these requests are signed by pcad's own V3 signer.
		q := with(rootParams("RSA_2048"), map[string]string{"CommonName": "Concurrent", "ClientToken": "tok-race"})
		params := url.Values{}
		for k, v := range q {
			params.Set(k, v)
		}
		base, _ := url.Parse("http://" + ts.endpoint)
		rows := lcRows(t, ts, "cas")
		const n = 4
		type answer struct {
			status int
			body   map[string]any
			err    error
		}
		answers := make([]answer, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := signedRequest(context.Background(), base, "CreateRootCACertificate", apiVersion, params, key.ID, key.Secret, time.Now())
				if err != nil {
					answers[i].err = err
					return
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					answers[i].err = err
					return
				}
				defer resp.Body.Close()
				answers[i].status = resp.StatusCode
				answers[i].err = json.NewDecoder(resp.Body).Decode(&answers[i].body)
			}()
		}
		wg.Wait()
		first := ""
		for i, a := range answers {
			if a.err != nil {
				t.Fatalf("request %d: %v", i, a.err)
			}
			if a.status != http.StatusOK {
				if a.status != http.StatusConflict || a.body["Code"] != "AlreadyExists.ClientTokenInProgress" {
					t.Errorf("request %d: HTTP %d %v, want 200 or 409 AlreadyExists.ClientTokenInProgress", i, a.status, a.body)
				}
				continue
			}
			id, _ := a.body["Identifier"].(string)
			if first == "" {
				first = id
			}
			if id == "" || id != first {
				t.Errorf("answer %d names %q, another %q", i, id, first)
			}
		}
		if got := lcRows(t, ts, "cas"); got != rows+1 {
			t.Errorf("%d CAs created, want 1", got-rows)
		}
		if b := lcMust(t, c3, "CreateRootCACertificate", q); first != "" && jStr(t, b, "Identifier") != first {
			t.Errorf("after the race the token answers %s, want %s", jStr(t, b, "Identifier"), first)
		}
	})
	rows := lcRows(t, ts, "cas")
	for _, tc := range []struct{ name, token string }{
		{"65-chars", fmt.Sprintf("%065d", 7)},
		{"non-ascii", "tök"},
		{"control", "tok\tx"},
	} {
		for mode, c := range clients {
			t.Run("bad-token/"+tc.name+"/"+mode, func(t *testing.T) {
				_, err := lcCall(t, c, "CreateRootCACertificate", with(rootParams("ECC_256"), map[string]string{"ClientToken": tc.token}))
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter.ClientToken", "ClientToken")
			})
		}
	}
	if n := lcRows(t, ts, "cas"); n != rows {
		t.Errorf("refused calls created %d CAs", n-rows)
	}
}

// lcWithoutRequestID returns the answer without its RequestId.
func lcWithoutRequestID(b map[string]any) map[string]any {
	out := maps.Clone(b)
	delete(out, "RequestId")
	return out
}
