package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startDebugServer serves Go's profiler (/debug/pprof/) on addr, apart from
// the API listener, so that an operator or `pcad bench --server-profile` can
// see where the server spends its time. It answers without authentication:
// bind it to a loopback address. Empty addr: nothing is started. It returns
// the address it listens on and the function that closes the listener.
func startDebugServer(addr string, logger *slog.Logger) (bound string, stop func(), err error) {
	if addr == "" {
		return "", func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("--debug-addr: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			logger.Warn("debug listener stopped", "err", err)
		}
	}()
	logger.Info("profiler listening", "addr", ln.Addr().String())
	return ln.Addr().String(), func() { srv.Close() }, nil
}
