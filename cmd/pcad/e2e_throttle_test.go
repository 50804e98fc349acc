package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
)

// writeLimits writes a --limits file and returns its path.
func writeLimits(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "limits.json")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// callRate makes n rapid calls of action and returns how many passed and
// the x-ratelimit-user-api header of the first; every refusal must be
// Throttling.User.
func callRate(t *testing.T, c *openapiclient.Client, action string, n int) (passed int, header string) {
	t.Helper()
	for i := range n {
		res, err := callFull(t, c, action, nil, nil)
		if err != nil {
			wantErr(t, err, 0, "Throttling.User")
			continue
		}
		if i == 0 {
			header = res.Headers["x-ratelimit-user-api"]
		}
		passed++
	}
	return passed, header
}

// TestThrottleLimitsFile runs a server started with --qps-per-user 10 and a
// limits file: ListCert is slowed for everyone, while another action keeps
// the default; a second account gets ListCert back at a high rate and a
// slow default of its own. A rate of 0.1 (one call, then one every ten
// seconds) makes "the second rapid call is refused" independent of speed.
func TestThrottleLimitsFile(t *testing.T) {
	const second = "1000000000000002" // the account created after the bootstrap one
	path := writeLimits(t, `{
		"actions": {"ListCert": 0.1},
		"accounts": {"`+second+`": {"default": 0.1, "actions": {"ListCert": 20}}}
	}`)
	cfg, err := parseServeFlags([]string{"--qps-per-user", "10", "--limits", path}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ts := startServerConfig(t, cfg)
	_, key, err := ts.app.svc.CreateAccount(context.Background(), "throttle-second")
	if err != nil {
		t.Fatal(err)
	}
	if got := key.AccountID; got != 1000000000000002 {
		t.Fatalf("second account id %d, want %s (the limits file names it)", got, second)
	}
	first := ts.client(t, "v3")
	other := clientFor(t, ts, "v3", key.ID, key.Secret)

	tests := []struct {
		name       string
		c          *openapiclient.Client
		action     string
		calls      int
		wantPassed int
		wantLimit  string
	}{
		{"action-rate/throttles-that-action", first, "ListCert", 3, 1, "Limit:1,"},
		{"default/other-action-passes", first, "DescribeCACertificateCount", 5, 5, "Limit:10,"},
		{"account-action/beats-action-rate", other, "ListCert", 5, 5, "Limit:20,"},
		{"account-default/beats-default", other, "DescribeCACertificateCount", 3, 1, "Limit:1,"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			passed, header := callRate(t, tc.c, tc.action, tc.calls)
			if passed != tc.wantPassed {
				t.Errorf("%d of %d rapid %s calls passed, want %d", passed, tc.calls, tc.action, tc.wantPassed)
			}
			if !strings.HasPrefix(header, tc.wantLimit) {
				t.Errorf("x-ratelimit-user-api = %q, want %s...", header, tc.wantLimit)
			}
		})
	}
	// The throttled answer tells the client when to retry.
	_, err = callFull(t, first, "ListCert", nil, nil)
	if e := wantErr(t, err, 400, "Throttling.User"); e.Message == "" {
		t.Error("Throttling.User without a message")
	}
}

// TestThrottleLimitsFileDefault: the file's default replaces
// --qps-per-user, and a table that limits nothing leaves throttling off
// (no x-ratelimit-user-api header), as --qps-per-user 0 does.
func TestThrottleLimitsFileDefault(t *testing.T) {
	t.Run("file-default-replaces-flag", func(t *testing.T) {
		cfg, err := parseServeFlags([]string{"--qps-per-user", "10", "--limits", writeLimits(t, `{"default": 0.1}`)}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		ts := startServerConfig(t, cfg)
		if passed, header := callRate(t, ts.client(t, "v1"), "DescribeCACertificateCount", 2); passed != 1 || !strings.HasPrefix(header, "Limit:1,") {
			t.Errorf("passed %d of 2 (header %q), want 1 with Limit:1", passed, header)
		}
	})
	t.Run("nothing-limited-is-off", func(t *testing.T) {
		cfg, err := parseServeFlags([]string{"--limits", writeLimits(t, `{"default": 0, "actions": {"ListCert": 0}}`)}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		ts := startServerConfig(t, cfg)
		passed, header := callRate(t, ts.client(t, "v3"), "ListCert", 20)
		if passed != 20 || header != "" {
			t.Errorf("passed %d of 20, header %q; want all and no header", passed, header)
		}
	})
	t.Run("env-PCAD_LIMITS", func(t *testing.T) {
		path := writeLimits(t, `{"default": 3}`)
		t.Setenv("PCAD_LIMITS", path)
		cfg, err := parseServeFlags(nil, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.LimitsFile != path || cfg.limits == nil || *cfg.limits.defaultRate != 3 {
			t.Errorf("PCAD_LIMITS: file %q, table %+v", cfg.LimitsFile, cfg.limits)
		}
	})
}

// TestLimitsFileErrors: a bad limits file stops the server at start with an
// error naming the file and the member.
func TestLimitsFileErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"syntax/not-json", `{"default": 10,}`, "invalid character"},
		{"syntax/empty", ``, "empty"},
		{"syntax/trailing-data", `{} {}`, "after the JSON object"},
		{"syntax/unknown-member", `{"action": {"ListCert": 1}}`, `unknown field "action"`},
		{"syntax/unknown-account-member", `{"accounts": {"1": {"defaults": 1}}}`, `unknown field "defaults"`},
		{"syntax/actions-not-object", `{"actions": ["ListCert"]}`, "actions"},
		{"rate/negative-default", `{"default": -1}`, `default: rate -1 is out of range`},
		{"rate/too-high", `{"default": 1e7}`, `default: rate 1e+07 is out of range`},
		{"rate/string", `{"actions": {"ListCert": "5"}}`, `actions["ListCert"]: "5" is not a rate`},
		{"rate/null-action", `{"actions": {"ListCert": null}}`, `actions["ListCert"]: null is not a rate`},
		{"rate/null-default", `{"default": null}`, `default: null is not a rate`},
		{"rate/account-default", `{"accounts": {"1000000000000001": {"default": -2}}}`, `accounts["1000000000000001"].default: rate -2`},
		{"rate/account-action", `{"accounts": {"1000000000000001": {"actions": {"ListCert": true}}}}`, `accounts["1000000000000001"].actions["ListCert"]: true is not a rate`},
		{"account/not-a-number", `{"accounts": {"acme": {"default": 1}}}`, `accounts["acme"]: not an account id`},
		{"account/zero", `{"accounts": {"0": {"default": 1}}}`, `accounts["0"]: not an account id`},
		{"account/leading-zero", `{"accounts": {"01": {"default": 1}}}`, `accounts["01"]: not an account id`},
		{"action/empty-name", `{"actions": {"": 1}}`, `actions[""]: empty action name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeLimits(t, tc.body)
			_, err := parseServeFlags([]string{"--limits", path}, io.Discard)
			if err == nil {
				t.Fatalf("no error for %s", tc.body)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || !strings.Contains(msg, path) || !strings.HasPrefix(msg, "serve: --limits: ") {
				t.Errorf("error %q, want it to name %s and %q", msg, path, tc.want)
			}
		})
	}
	t.Run("file/missing", func(t *testing.T) {
		_, err := parseServeFlags([]string{"--limits", filepath.Join(t.TempDir(), "none.json")}, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "none.json") {
			t.Errorf("err %v, want one naming the file", err)
		}
	})
	t.Run("ok/all-members", func(t *testing.T) {
		path := writeLimits(t, `{"default": 10, "actions": {"CreateServerCertificate": 5},
			"accounts": {"1000000000000001": {"default": 50, "actions": {"ListCert": 100}}}}`)
		cfg, err := parseServeFlags([]string{"--limits", path, "--qps-per-user", "0"}, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		rc := cfg.limits.config(cfg.QPSPerUser)
		for _, c := range []struct {
			account, action string
			want            float64
		}{
			{"1000000000000001", "ListCert", 100},
			{"1000000000000001", "CreateServerCertificate", 5},
			{"1000000000000001", "DescribeCACertificate", 50},
			{"1000000000000002", "DescribeCACertificate", 10},
		} {
			if got := rc.Rate(c.account, c.action); got != c.want {
				t.Errorf("Rate(%s, %s) = %v, want %v", c.account, c.action, got, c.want)
			}
		}
	})
	// Action names are checked against the served actions when the server
	// is wired: a misspelt action would silently keep the default rate.
	for _, tc := range []struct{ name, body, want string }{
		{"action/unknown", `{"actions": {"CreateServerCert": 1}}`, `actions["CreateServerCert"]: this server has no such action`},
		{"action/unknown-in-account", `{"accounts": {"1000000000000001": {"actions": {"listcert": 1}}}}`, `accounts["1000000000000001"].actions["listcert"]: this server has no such action`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeLimits(t, tc.body)
			cfg, err := parseServeFlags([]string{"--limits", path, "--data", filepath.Join(t.TempDir(), "data")}, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err == nil {
				a.store.Close()
				t.Fatal("server started with an unknown action in its limits file")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %q, want it to name %s and %q", err, path, tc.want)
			}
		})
	}
}
