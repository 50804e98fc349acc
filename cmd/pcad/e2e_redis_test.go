package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/casapi"
	"github.com/pcad-dev/pcad/internal/keys"
)

// redisPair starts two pcad replicas sharing PCAD_TEST_REDIS (under a key
// prefix of the test's own) and a master key, each with its own SQLite
// store. The bootstrap AccessKey of a is copied, sealed under b's data key, into b's store, so
// that one AccessKey works on both, as with a shared PostgreSQL store; the
// only state the replicas share is then Redis. Skipped without
// PCAD_TEST_REDIS.
func redisPair(t *testing.T, qps float64) (a, b *testServer) {
	t.Helper()
	redisURL := os.Getenv("PCAD_TEST_REDIS")
	if redisURL == "" {
		t.Skip("PCAD_TEST_REDIS not set (e.g. redis://127.0.0.1:6379/0)")
	}
	master := make([]byte, 32)
	rand.Read(master)
	cfg := config{QPSPerUser: qps, Redis: redisURL, MasterKey: hex.EncodeToString(master),
		redisPrefix: "pcad-test:" + rand.Text() + ":"}
	a, b = startServerConfig(t, cfg), startServerConfig(t, cfg)
	for _, ts := range []*testServer{a, b} {
		if ts.app.cfg.rdb == nil {
			t.Fatal("--redis set but the app has no Redis client")
		}
		t.Cleanup(func() { ts.app.cfg.rdb.Close() })
	}
	rec, err := a.app.store.GetAccessKey(t.Context(), a.keyID)
	if err != nil {
		t.Fatal(err)
	}
	// Each store has its own data keys: seal the secret again for b's.
	ringB, err := keys.OpenKeyring(t.Context(), master, b.app.store, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if rec.SecretSealed, err = ringB.Seal([]byte(a.secret), keys.AccessKeyAAD(a.keyID)); err != nil {
		t.Fatal(err)
	}
	if err := b.app.store.AddAccessKey(t.Context(), rec, 10); err != nil {
		t.Fatalf("copy AccessKey to b: %v", err)
	}
	return a, b
}

// send does req and returns the HTTP status and the error Code ("" on success).
func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var e struct{ Code string }
	if res.StatusCode != http.StatusOK {
		if err := json.Unmarshal(body, &e); err != nil {
			t.Fatalf("HTTP %d, body %q", res.StatusCode, body)
		}
	}
	return res.StatusCode, e.Code
}

// TestRedisNonceSharedAcrossReplicas: a signed request accepted by replica a
// is refused as a replay by replica b, whose nonce cache is the same Redis.
func TestRedisNonceSharedAcrossReplicas(t *testing.T) {
	a, b := redisPair(t, 0)
	baseA := &url.URL{Scheme: "http", Host: a.endpoint}
	sign := func() *http.Request {
		req, err := signedRequest(t.Context(), baseA, "ListCert", casapi.Version, url.Values{}, a.keyID, a.secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	toB := func(req *http.Request) *http.Request {
		r := req.Clone(context.Background())
		r.URL.Host = b.endpoint // the signed Host header stays a's
		return r
	}

	// Control: b accepts a fresh request signed for a's host with a's key.
	if status, code := send(t, toB(sign())); status != http.StatusOK {
		t.Fatalf("fresh request on b: HTTP %d %s", status, code)
	}
	req := sign()
	if status, code := send(t, req); status != http.StatusOK {
		t.Fatalf("first use on a: HTTP %d %s", status, code)
	}
	if _, code := send(t, toB(req)); code != "SignatureNonceUsed" {
		t.Fatalf("replay on b: code %q, want SignatureNonceUsed", code)
	}
	if _, code := send(t, req.Clone(context.Background())); code != "SignatureNonceUsed" {
		t.Fatalf("replay on a: code %q, want SignatureNonceUsed", code)
	}
}

// TestRedisThrottleSharedAcrossReplicas: at --qps-per-user 2 (burst 2, then
// one call per 500 ms), rapid calls of one user alternating between the two
// replicas pass twice in all, not twice per replica.
func TestRedisThrottleSharedAcrossReplicas(t *testing.T) {
	a, b := redisPair(t, 2)
	ca, cb := a.client(t, "v3"), clientFor(t, b, "v3", a.keyID, a.secret)
	passed, refused := 0, 0
	for i := range 6 {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		if _, err := callFull(t, c, "ListCert", nil, nil); err != nil {
			wantErr(t, err, 0, "Throttling.User")
			refused++
			continue
		}
		passed++
	}
	if passed != 2 || refused != 4 {
		t.Fatalf("across both replicas: %d passed, %d refused; want 2 and 4 (one shared bucket)", passed, refused)
	}
}

// TestRedisUnreachable: --redis pointing at a closed port fails at start
// with an error naming the address but not the password.
func TestRedisUnreachable(t *testing.T) {
	cfg := config{Data: t.TempDir(), Redis: "redis://user:s3cret-pw@127.0.0.1:1/0"}
	_, err := newApp(t.Context(), cfg, nil)
	if err == nil {
		t.Fatal("newApp succeeded with an unreachable Redis")
	}
	if msg := err.Error(); !strings.Contains(msg, "127.0.0.1:1") || strings.Contains(msg, "s3cret-pw") {
		t.Fatalf("error %q: want the address and no password", msg)
	}
	cfg.Redis = "redis://user:s3cret-pw@[::1"
	if _, err := newApp(t.Context(), cfg, nil); err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Fatalf("bad URL: error %v: want one without the password", err)
	}
}
