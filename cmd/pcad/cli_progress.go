package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// cliIsTerminal reports whether w is a terminal (a character device). Tests
// replace it.
var cliIsTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress is a one-line progress bar on a terminal. newProgress returns
// nil when w is not a terminal, and every method of a nil *progress does
// nothing, so pipes and files stay quiet.
type progress struct {
	mu          sync.Mutex
	w           io.Writer
	label       string
	total, done int64
	last        time.Time
	shown       bool
}

// progressEvery limits redraws.
const progressEvery = 100 * time.Millisecond

const progressWidth = 30

func newProgress(w io.Writer, label string, total int64) *progress {
	if !cliIsTerminal(w) {
		return nil
	}
	return &progress{w: w, label: label, total: total}
}

// SetTotal sets the number of steps once it is known (0: unknown).
func (p *progress) SetTotal(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = n
	p.draw(false)
}

// Add counts n more steps done.
func (p *progress) Add(n int64) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.draw(false)
}

// Clear erases the bar so that other output can be written; the next Add
// draws it again.
func (p *progress) Clear() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
		p.last = time.Time{}
	}
}

// Finish draws the final state and ends the line.
func (p *progress) Finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw(true)
	fmt.Fprintln(p.w)
	p.shown = false
}

// withClear runs fn with the bar erased (for writing a line of output).
func (p *progress) withClear(fn func()) {
	if p == nil {
		fn()
		return
	}
	p.Clear()
	p.mu.Lock()
	defer p.mu.Unlock()
	fn()
}

func (p *progress) draw(force bool) {
	now := time.Now()
	if !force && now.Sub(p.last) < progressEvery {
		return
	}
	p.last = now
	p.shown = true
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r\x1b[K%s %d", p.label, p.done)
		return
	}
	frac := min(float64(p.done)/float64(p.total), 1)
	n := int(frac * progressWidth)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", progressWidth-n)
	fmt.Fprintf(p.w, "\r\x1b[K%s [%s] %3d%% %d/%d", p.label, bar, int(frac*100), p.done, p.total)
}
