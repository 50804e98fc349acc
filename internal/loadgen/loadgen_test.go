package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// nearestRank is the reference quantile: the sample of rank ceil(q*n) in
// ascending order.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	r := int(math.Ceil(q * float64(len(sorted))))
	return sorted[max(r, 1)-1]
}

func TestBucketsCoverEveryValue(t *testing.T) {
	// Every bucket boundary round-trips, buckets are contiguous and the
	// largest value has a bucket.
	prevEnd := uint64(0)
	for i := range numBuckets {
		low, width := bucketRange(i)
		if low != prevEnd {
			t.Fatalf("bucket %d starts at %d, previous ended at %d", i, low, prevEnd)
		}
		if got := bucketOf(low); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", low, got, i)
		}
		if got := bucketOf(low + width - 1); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d (end of bucket)", low+width-1, got, i)
		}
		if i >= exactBelow && float64(width)/float64(low) > 1.0/subCount {
			t.Fatalf("bucket %d is %d wide at %d: more than 1/%d", i, width, low, subCount)
		}
		prevEnd = low + width
	}
	if prevEnd != 0 { // the last bucket ends at 2^64, which wraps to 0
		t.Fatalf("buckets end at %d, want 2^64", prevEnd)
	}
	if got := bucketOf(math.MaxUint64); got != numBuckets-1 {
		t.Fatalf("bucketOf(max) = %d, want %d", got, numBuckets-1)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tests := []struct {
		name    string
		samples func() []time.Duration
		relErr  float64 // allowed relative error of each quantile
	}{
		{"small exact values", func() []time.Duration {
			var s []time.Duration
			for i := range 200 {
				s = append(s, time.Duration(i%250))
			}
			return s
		}, 0},
		{"one sample", func() []time.Duration { return []time.Duration{1234567} }, 0},
		{"uniform 1us..10ms", func() []time.Duration {
			s := make([]time.Duration, 50_000)
			for i := range s {
				s[i] = time.Microsecond + time.Duration(rng.Int64N(int64(10*time.Millisecond)))
			}
			return s
		}, 1.0 / 256},
		{"long tail", func() []time.Duration {
			s := make([]time.Duration, 20_000)
			for i := range s {
				s[i] = time.Duration(math.Exp(rng.Float64()*12) * float64(time.Microsecond))
			}
			return s
		}, 1.0 / 256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			samples := tc.samples()
			var h Histogram
			for _, d := range samples {
				h.Record(d)
			}
			sorted := slices.Clone(samples)
			slices.Sort(sorted)
			if h.Count() != uint64(len(samples)) {
				t.Fatalf("Count %d, want %d", h.Count(), len(samples))
			}
			if h.Min() != sorted[0] || h.Max() != sorted[len(sorted)-1] {
				t.Fatalf("Min/Max %v/%v, want %v/%v", h.Min(), h.Max(), sorted[0], sorted[len(sorted)-1])
			}
			var sum float64
			for _, d := range samples {
				sum += float64(d)
			}
			if want := time.Duration(math.Round(sum / float64(len(samples)))); h.Mean() != want {
				t.Fatalf("Mean %v, want %v", h.Mean(), want)
			}
			for _, q := range []float64{0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1} {
				got, want := h.Quantile(q), nearestRank(sorted, q)
				if diff := math.Abs(float64(got - want)); diff > tc.relErr*float64(want) {
					t.Errorf("Quantile(%v) = %v, want %v within %.2f%%", q, got, want, 100*tc.relErr)
				}
			}
		})
	}
}

func TestHistogramEdges(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Max() != 0 || h.Mean() != 0 || h.Count() != 0 {
		t.Fatal("empty histogram is not all zero")
	}
	h.Record(-time.Second) // counts as zero
	h.Record(3 * time.Second)
	if h.Min() != 0 || h.Max() != 3*time.Second {
		t.Fatalf("Min/Max %v/%v", h.Min(), h.Max())
	}
	for _, q := range []float64{0, -1, 1.5, math.NaN()} {
		if got := h.Quantile(q); got != 0 {
			t.Errorf("Quantile(%v) = %v, want 0", q, got)
		}
	}
}

func TestHistogramMerge(t *testing.T) {
	var a, b, all Histogram
	for i := range 1000 {
		d := time.Duration(i*i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(nil)
	m.Merge(&Histogram{})
	if m.Count() != all.Count() || m.Min() != all.Min() || m.Max() != all.Max() || m.Mean() != all.Mean() {
		t.Fatalf("merged %d/%v/%v/%v, want %d/%v/%v/%v", m.Count(), m.Min(), m.Max(), m.Mean(),
			all.Count(), all.Min(), all.Max(), all.Mean())
	}
	for _, q := range []float64{0.1, 0.5, 0.99} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("Quantile(%v): merged %v, recorded together %v", q, m.Quantile(q), all.Quantile(q))
		}
	}
}

func TestRunRequests(t *testing.T) {
	var calls, inFlight, peak atomic.Int64
	bad := errors.New("wrong answer")
	op := func(ctx context.Context, w int) error {
		if w < 0 || w >= 4 {
			return fmt.Errorf("worker %d out of range", w)
		}
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(200 * time.Microsecond)
		if calls.Add(1)%5 == 0 {
			return bad
		}
		return nil
	}
	r, err := Run(context.Background(), Options{Name: "req", Workers: 4, Requests: 500}, op)
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 500 {
		t.Fatalf("%d calls, want 500", calls.Load())
	}
	if r.Count != 400 || r.Errors != 100 || r.FirstError != bad.Error() {
		t.Fatalf("count %d errors %d first %q, want 400, 100, %q", r.Count, r.Errors, r.FirstError, bad)
	}
	if peak.Load() > 4 {
		t.Fatalf("%d calls at once with 4 workers", peak.Load())
	}
	if r.Name != "req" || r.Workers != 4 || r.Seconds <= 0 || r.PerSecond <= 0 {
		t.Fatalf("result %+v", r)
	}
	if r.P50Ms < 0.2 || r.P99Ms < r.P50Ms || r.MaxMs < r.P99Ms {
		t.Fatalf("latencies p50 %v p99 %v max %v: the op sleeps 0.2 ms", r.P50Ms, r.P99Ms, r.MaxMs)
	}
	if want := float64(r.Count) / r.Seconds; math.Abs(r.PerSecond-want) > 1e-9*want {
		t.Fatalf("PerSecond %v, want %v", r.PerSecond, want)
	}
}

func TestRunDuration(t *testing.T) {
	const d = 150 * time.Millisecond
	var lastStart atomic.Int64
	start := time.Now()
	r, err := Run(context.Background(), Options{Workers: 3, Duration: d}, func(ctx context.Context, w int) error {
		lastStart.Store(int64(time.Since(start)))
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Count < 10 {
		t.Fatalf("only %d calls in %v", r.Count, d)
	}
	if r.Seconds < d.Seconds() {
		t.Fatalf("elapsed %vs is less than the duration %v", r.Seconds, d)
	}
	if got := time.Duration(lastStart.Load()); got > d+50*time.Millisecond {
		t.Fatalf("a call started %v after the start, duration %v", got, d)
	}
}

func TestRunStops(t *testing.T) {
	t.Run("MaxErrors", func(t *testing.T) {
		var calls atomic.Int64
		r, err := Run(context.Background(), Options{Workers: 2, Duration: time.Minute, MaxErrors: 10}, func(ctx context.Context, w int) error {
			calls.Add(1)
			return errors.New("down")
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.Errors < 10 || r.Errors > 11 || r.Count != 0 || r.Seconds > 10 {
			t.Fatalf("errors %d count %d in %vs, want 10 or 11 errors quickly", r.Errors, r.Count, r.Seconds)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		r, err := Run(ctx, Options{Workers: 2, Duration: time.Minute}, func(ctx context.Context, w int) error {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
				return nil
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if r.Seconds > 5 || r.Count == 0 {
			t.Fatalf("count %d in %vs: the run did not stop with its context", r.Count, r.Seconds)
		}
	})
	t.Run("bad options", func(t *testing.T) {
		for _, o := range []Options{{Workers: 0, Requests: 1}, {Workers: 1}, {Workers: 1, Requests: 1, MaxErrors: -1}} {
			if _, err := Run(context.Background(), o, func(context.Context, int) error { return nil }); err == nil {
				t.Errorf("Run(%+v) accepted", o)
			}
		}
	})
}

func TestSingle(t *testing.T) {
	r := Single("build", 1500*time.Millisecond)
	if r.Count != 1 || r.P50Ms != 1500 || r.P99Ms != 1500 || r.MaxMs != 1500 || r.Seconds != 1.5 {
		t.Fatalf("%+v", r)
	}
}

func TestReport(t *testing.T) {
	rep := NewReport("pcad bench test")
	rep.Settings["store"] = "sqlite"
	ok := Result{Name: "issue/csr", Count: 3000, PerSecond: 2999.6, P50Ms: 1.234, P99Ms: 12.34, MaxMs: 1234, Extra: "ratio 0.31"}
	ok.SetFigure("ceiling_per_second", 9700)
	bad := Result{Name: "list/none", Count: 10, Errors: 2, FirstError: "TotalCount 9, want 10", PerSecond: 5}
	rep.Add(ok, bad)
	rep.SetFigure("server_peak_rss_bytes", 50*1024*1024)
	rep.Note("note %d", 1)
	if rep.Errors() != 2 {
		t.Fatalf("Errors %d, want 2", rep.Errors())
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"scenario", "per-second", "issue/csr", "3000/s", "1.23ms", "12.3ms", "1.23s", "ratio 0.31",
		"ERRORS=2 (first: TotalCount 9, want 10)", "5.0/s", "server_peak_rss_bytes: 50.0 MiB", "note 1"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	path := t.TempDir() + "/r.json"
	if err := rep.WriteJSONFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Results) != 2 || back.Results[0].Figures["ceiling_per_second"] != 9700 || back.Results[1].Errors != 2 ||
		back.Figures["server_peak_rss_bytes"] != 50*1024*1024 || back.Settings["store"] != "sqlite" || back.Machine.CPUs != runtime.NumCPU() {
		t.Fatalf("JSON round trip: %s", data)
	}
	if !bytes.Contains(data, []byte(`"p50_ms": 1.234`)) {
		t.Errorf("JSON lacks p50_ms: %s", data)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"zero ms", FormatMillis(0), "0"},
		{"sub-ms", FormatMillis(0.41234), "0.412ms"},
		{"ms", FormatMillis(4.5678), "4.57ms"},
		{"tens", FormatMillis(45.678), "45.7ms"},
		{"hundreds", FormatMillis(456.78), "457ms"},
		{"seconds", FormatMillis(4567.8), "4.57s"},
		{"rate", FormatRate(3012.6), "3013/s"},
		{"slow rate", FormatRate(12.34), "12.3/s"},
		{"bytes", FormatBytes(512), "512 B"},
		{"MiB", FormatBytes(1.5 * 1024 * 1024), "1.5 MiB"},
		{"figure bytes", FormatFigure("x_bytes", 2048), "2.0 KiB"},
		{"figure ms", FormatFigure("build_ms", 1500), "1.50s"},
		{"figure rate", FormatFigure("ceiling_per_second", 9999.7), "10000/s"},
		{"figure ratio", FormatFigure("ratio", 0.3126), "0.313"},
		{"figure count", FormatFigure("entries", 1e6), "1000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Errorf("got %q, want %q", tc.got, tc.want)
			}
		})
	}
}

func TestProcMemory(t *testing.T) {
	m, err := ReadProcMemory(os.Getpid())
	if errors.Is(err, ErrNoProc) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS == 0 || m.PeakRSS < m.RSS {
		t.Fatalf("RSS %d peak %d", m.RSS, m.PeakRSS)
	}
	// Touch 64 MiB, give it back, reset the peak: the peak must fall.
	buf := make([]byte, 64<<20)
	for i := 0; i < len(buf); i += 4096 {
		buf[i] = 1
	}
	high, err := ReadProcMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if high.PeakRSS < m.RSS+32<<20 {
		t.Fatalf("peak %d after touching 64 MiB over RSS %d", high.PeakRSS, m.RSS)
	}
	runtime.KeepAlive(buf)
	debug.FreeOSMemory()
	if err := ResetPeakRSS(os.Getpid()); err != nil {
		t.Skipf("cannot reset the peak here: %v", err)
	}
	after, err := ReadProcMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after.PeakRSS >= high.PeakRSS {
		t.Fatalf("peak %d after reset, was %d", after.PeakRSS, high.PeakRSS)
	}
	if _, err := ReadProcMemory(-1); err == nil {
		t.Error("ReadProcMemory(-1) succeeded")
	}
}
