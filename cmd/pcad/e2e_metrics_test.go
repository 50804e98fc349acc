package main

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// scrape returns the value of one series in the server's /metrics answer,
// or -1 when the series is absent.
func scrape(t *testing.T, ts *testServer, series string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + ts.endpoint + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v", resp.StatusCode, err)
	}
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatalf("series %s: %v", series, err)
	}
	return v
}

// TestMetrics: /metrics counts calls by action and code, PKI requests by
// route, and reports that a lone replica leads the background work.
func TestMetrics(t *testing.T) {
	ts := startServer(t, 100)
	c := ts.client(t, "v3")
	okSeries := `pcad_api_requests_total{action="ListCert",code="OK"}`
	if v := scrape(t, ts, okSeries); v != -1 {
		t.Fatalf("%s = %v before any call, want absent", okSeries, v)
	}
	for range 3 {
		mustCall(t, c, "ListCert", nil)
	}
	_, err := call(t, c, "DescribeCACertificate", map[string]string{"Identifier": "nope"})
	wantErr(t, err, 404, "NotFound.CA")
	if _, err := http.Get("http://" + ts.endpoint + "/pki/crl/nope.crl"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		series string
		want   float64
	}{
		{okSeries, 3},
		{`pcad_api_requests_total{action="DescribeCACertificate",code="NotFound.CA"}`, 1},
		{`pcad_api_request_duration_seconds_count{action="ListCert"}`, 3},
		{`pcad_http_requests_total{route="crl",status="4xx"}`, 1},
		{`pcad_http_requests_total{route="api",status="2xx"}`, 3},
	}
	for _, tc := range tests {
		if got := scrape(t, ts, tc.series); got != tc.want {
			t.Errorf("%s = %v, want %v", tc.series, got, tc.want)
		}
	}
	// The poller takes the background lease within its first poll.
	deadline := time.Now().Add(5 * time.Second)
	for scrape(t, ts, "pcad_background_leader") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("pcad_background_leader did not become 1 on a lone replica")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v := scrape(t, ts, `pcad_build_info{version="`+version+`"}`); v != 1 {
		t.Errorf("pcad_build_info{version=%q} = %v, want 1", version, v)
	}
}
