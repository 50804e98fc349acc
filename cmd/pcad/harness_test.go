package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/tea"
)

// testServer is a whole pcad (SQLite store in a temporary directory, real
// service, real protocol layer) behind an httptest server.
type testServer struct {
	app      *app
	srv      *httptest.Server
	keyID    string
	secret   string
	endpoint string // host:port
}

// startServer starts pcad with throttling at qps (0 = off).
func startServer(t *testing.T, qps float64) *testServer {
	t.Helper()
	return startServerConfig(t, config{QPSPerUser: qps})
}

// startServerConfig starts pcad with cfg; cfg.Data is set to a temporary directory.
func startServerConfig(t *testing.T, cfg config) *testServer {
	t.Helper()
	return startServerLogged(t, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// startServerLogged is startServerConfig with the server logging to logger.
func startServerLogged(t *testing.T, cfg config, logger *slog.Logger) *testServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg.Data = filepath.Join(dir, "data")
	// Listen first so that certificates can name the server's real address.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg.PublicURL = "http://" + ln.Addr().String()
	a, err := newApp(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	if _, created, err := a.bootstrap(ctx); err != nil || !created {
		t.Fatalf("bootstrap: created=%v err=%v", created, err)
	}
	id, secret, err := loadCredentials(filepath.Join(dir, "data", "credentials.ini"), "default")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.handler)
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	pkiCtx, stopPKI := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.svc.RunPKI(pkiCtx, pkiPollInterval); close(done) }()
	t.Cleanup(func() { stopPKI(); <-done })
	u, _ := url.Parse(srv.URL)
	return &testServer{app: a, srv: srv, keyID: id, secret: secret, endpoint: u.Host}
}

// client returns the official Alibaba Cloud client pointed at the server.
// mode "v3" signs with ACS3-HMAC-SHA256 (the default), "v1" with HMAC-SHA1.
func (ts *testServer) client(t *testing.T, mode string) *openapiclient.Client {
	t.Helper()
	cfg := &openapiclient.Config{
		AccessKeyId:     tea.String(ts.keyID),
		AccessKeySecret: tea.String(ts.secret),
		Endpoint:        tea.String(ts.endpoint),
		Protocol:        tea.String("HTTP"),
	}
	if mode == "v1" {
		cfg.SignatureAlgorithm = tea.String("v2") // the client's name for HMAC-SHA1 signing
	}
	c, err := openapiclient.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
