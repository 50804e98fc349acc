// Package metrics exposes pcad's operational figures in the Prometheus text
// format at GET /metrics: API calls by action and answer code with their
// latency, requests to the public PKI endpoints (CRL, OCSP, CA certificates),
// whether this replica does the background work, and the Go runtime and
// process collectors. Label values come from closed sets (served action names,
// error codes, route groups), never from request data, so series stay bounded.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one registry of pcad's collectors. It is safe for concurrent use.
type Metrics struct {
	reg     *prometheus.Registry
	calls   *prometheus.CounterVec
	latency *prometheus.HistogramVec
	http    *prometheus.CounterVec
	httpDur *prometheus.HistogramVec
}

// Options are the read-outs Metrics samples at scrape time; nil ones are left out.
type Options struct {
	// Leading reports whether this replica holds the background-work lease.
	Leading func() bool
	// Version is the build's version, exported as pcad_build_info{version}.
	Version string
}

// latencyBuckets span an OCSP cache hit (tens of microseconds) to an RSA-4096
// key generation (seconds).
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// New returns Metrics with every collector registered.
func New(o Options) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pcad_api_requests_total",
			Help: "RPC API calls by action and answer code (OK on success; Throttling.User when throttled).",
		}, []string{"action", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pcad_api_request_duration_seconds",
			Help:    "Time from receiving an RPC API call to having written its answer, by action.",
			Buckets: latencyBuckets,
		}, []string{"action"}),
		http: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pcad_http_requests_total",
			Help: "HTTP requests by route group (api, ocsp, crl, ca, health, metrics, other) and status class.",
		}, []string{"route", "status"}),
		httpDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pcad_http_request_duration_seconds",
			Help:    "HTTP request time by route group.",
			Buckets: latencyBuckets,
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.calls, m.latency, m.http, m.httpDur,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if o.Leading != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pcad_background_leader",
			Help: "1 when this replica holds the lease for background work (CRL rebuilds), else 0.",
		}, func() float64 {
			if o.Leading() {
				return 1
			}
			return 0
		}))
	}
	if o.Version != "" {
		info := prometheus.NewGauge(prometheus.GaugeOpts{
			Name:        "pcad_build_info",
			Help:        "Always 1; the version label names the running build.",
			ConstLabels: prometheus.Labels{"version": o.Version},
		})
		info.Set(1)
		m.reg.MustRegister(info)
	}
	return m
}

// ObserveCall records one finished RPC call (openapi.Config.Observe).
func (m *Metrics) ObserveCall(action, code string, _ int, took time.Duration) {
	if action == "" {
		action = "unknown"
	}
	m.calls.WithLabelValues(action, code).Inc()
	m.latency.WithLabelValues(action).Observe(took.Seconds())
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Wrap counts and times every request next serves, by route group.
func (m *Metrics) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		route := Route(r.URL.Path)
		m.http.WithLabelValues(route, strconv.Itoa(sw.status/100)+"xx").Inc()
		m.httpDur.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

// Route names the group of a request path, from a closed set.
func Route(path string) string {
	switch {
	case path == "/":
		return "api"
	case strings.HasPrefix(path, "/pki/ocsp"):
		return "ocsp"
	case strings.HasPrefix(path, "/pki/crl/"):
		return "crl"
	case strings.HasPrefix(path, "/pki/ca/"):
		return "ca"
	case path == "/healthz" || path == "/readyz":
		return "health"
	case path == "/metrics":
		return "metrics"
	}
	return "other"
}

// statusWriter remembers the status code written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
