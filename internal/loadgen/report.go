package loadgen

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the outcome of one scenario. Latencies are in milliseconds so
// that the JSON reads without conversion.
type Result struct {
	Name       string  `json:"name"`
	Workers    int     `json:"workers,omitempty"`
	Count      int64   `json:"count"`  // successful calls
	Errors     int64   `json:"errors"` // failed calls (wrong answers included)
	FirstError string  `json:"first_error,omitempty"`
	Seconds    float64 `json:"seconds"`    // elapsed wall time
	PerSecond  float64 `json:"per_second"` // Count / Seconds
	P50Ms      float64 `json:"p50_ms"`
	P99Ms      float64 `json:"p99_ms"`
	MaxMs      float64 `json:"max_ms"`
	MeanMs     float64 `json:"mean_ms"`
	// Extra is free text for the table's last column.
	Extra string `json:"extra,omitempty"`
	// Figures are further named numbers of the scenario (sizes, ratios,
	// memory), units in their names.
	Figures map[string]float64 `json:"figures,omitempty"`
}

// Summarize makes the Result of h's samples over elapsed wall time.
func Summarize(name string, h *Histogram, elapsed time.Duration) Result {
	r := Result{Name: name, Count: int64(h.Count()), Seconds: elapsed.Seconds(),
		P50Ms: Millis(h.Quantile(0.50)), P99Ms: Millis(h.Quantile(0.99)), MaxMs: Millis(h.Max()), MeanMs: Millis(h.Mean())}
	if elapsed > 0 {
		r.PerSecond = float64(r.Count) / elapsed.Seconds()
	}
	return r
}

// Single is the Result of one timed event (a build, a download): count 1,
// every latency the event's duration.
func Single(name string, d time.Duration) Result {
	var h Histogram
	h.Record(d)
	return Summarize(name, &h, d)
}

// SetFigure sets a named figure of r.
func (r *Result) SetFigure(name string, v float64) {
	if r.Figures == nil {
		r.Figures = map[string]float64{}
	}
	r.Figures[name] = v
}

// Millis converts d to float milliseconds.
func Millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Machine describes where a report was made.
type Machine struct {
	OS            string `json:"os"`
	Arch          string `json:"arch"`
	CPUs          int    `json:"cpus"`
	CPUModel      string `json:"cpu_model,omitempty"`
	MemTotalBytes uint64 `json:"mem_total_bytes,omitempty"`
	GoVersion     string `json:"go_version"`
}

// DescribeMachine reports this machine: OS, architecture, logical CPUs, Go
// version, and on Linux the CPU model and total memory.
func DescribeMachine() Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	m.CPUModel = procField("/proc/cpuinfo", "model name")
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		if n, err := strconv.ParseUint(strings.TrimSuffix(kb, " kB"), 10, 64); err == nil {
			m.MemTotalBytes = n * 1024
		}
	}
	return m
}

// procField returns the value of the first "key: value" line named key in a
// /proc file, or "" when there is none.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// Report is one benchmark run: what ran, where, its scenarios and its
// run-wide figures.
type Report struct {
	Command  string             `json:"command"`
	Started  time.Time          `json:"started"`
	Machine  Machine            `json:"machine"`
	Settings map[string]string  `json:"settings,omitempty"`
	Results  []Result           `json:"results"`
	Figures  map[string]float64 `json:"figures,omitempty"`
	Notes    []string           `json:"notes,omitempty"`
}

// NewReport starts a report of command on this machine.
func NewReport(command string) *Report {
	return &Report{Command: command, Started: time.Now().UTC().Truncate(time.Second), Machine: DescribeMachine(),
		Settings: map[string]string{}, Figures: map[string]float64{}}
}

// Add appends results.
func (r *Report) Add(res ...Result) { r.Results = append(r.Results, res...) }

// SetFigure sets a run-wide named figure.
func (r *Report) SetFigure(name string, v float64) {
	if r.Figures == nil {
		r.Figures = map[string]float64{}
	}
	r.Figures[name] = v
}

// Note appends a line printed under the table.
func (r *Report) Note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Errors is the number of failed calls over all results.
func (r *Report) Errors() int64 {
	var n int64
	for _, res := range r.Results {
		n += res.Errors
	}
	return n
}

// WriteTable prints the results as an aligned table (scenario, count,
// per-second, p50, p99, max, extra; errors, when any, in extra), then the
// run-wide figures in name order and the notes.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tcount\tper-second\tp50\tp99\tmax\textra")
	for _, res := range r.Results {
		extra := res.Extra
		if res.Errors > 0 {
			extra = strings.TrimSpace(fmt.Sprintf("ERRORS=%d (first: %s) %s", res.Errors, res.FirstError, extra))
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", res.Name, res.Count, FormatRate(res.PerSecond),
			FormatMillis(res.P50Ms), FormatMillis(res.P99Ms), FormatMillis(res.MaxMs), extra)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	names := make([]string, 0, len(r.Figures))
	for k := range r.Figures {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if _, err := fmt.Fprintf(w, "%s: %s\n", k, FormatFigure(k, r.Figures[k])); err != nil {
			return err
		}
	}
	for _, n := range r.Notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteJSONFile writes the report as indented JSON to path (mode 0644).
func (r *Report) WriteJSONFile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	err = r.WriteJSON(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("loadgen: write %s: %w", path, err)
	}
	return nil
}

// FormatMillis prints a latency in milliseconds with three significant
// digits: "0.412ms", "12.3ms", "1.23s".
func FormatMillis(ms float64) string {
	switch {
	case ms <= 0:
		return "0"
	case ms >= 1000:
		return strconv.FormatFloat(ms/1000, 'f', digits(ms/1000), 64) + "s"
	}
	return strconv.FormatFloat(ms, 'f', digits(ms), 64) + "ms"
}

// digits is the number of decimals that leave three significant digits.
func digits(v float64) int {
	switch {
	case v >= 100:
		return 0
	case v >= 10:
		return 1
	case v >= 1:
		return 2
	}
	return 3
}

// FormatRate prints a rate per second: "12345/s", "12.3/s".
func FormatRate(perSecond float64) string {
	if perSecond >= 100 {
		return strconv.FormatFloat(math.Round(perSecond), 'f', 0, 64) + "/s"
	}
	return strconv.FormatFloat(perSecond, 'f', 1, 64) + "/s"
}

// FormatBytes prints a size in binary units: "512 B", "1.5 MiB".
func FormatBytes(n float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for n >= 1024 && i < len(units)-1 {
		n /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatFloat(n, 'f', 0, 64) + " B"
	}
	return strconv.FormatFloat(n, 'f', 1, 64) + " " + units[i]
}

// FormatFigure prints a figure by the unit its name ends with: "_bytes" as
// a size, "_ms" as a latency, "_per_second" as a rate; others as a number.
func FormatFigure(name string, v float64) string {
	switch {
	case strings.HasSuffix(name, "_bytes"):
		return FormatBytes(v)
	case strings.HasSuffix(name, "_ms"):
		return FormatMillis(v)
	case strings.HasSuffix(name, "_per_second"):
		return FormatRate(v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	t := strings.TrimRight(strconv.FormatFloat(v, 'f', 3, 64), "0")
	return strings.TrimSuffix(t, ".")
}
