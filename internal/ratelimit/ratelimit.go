// Package ratelimit limits request rates per key with GCRA (the generic cell
// rate algorithm): each key may make Rate requests per second, with bursts of
// up to Burst requests, and a refused request learns when to retry.
//
// Keys have the form "<user>/<action>"; the rate for a key is the override
// for its action, if one is configured, else the default.
package ratelimit

import (
	"context"
	"math"
	"strings"
	"sync"
	"time"
)

// Decision is the outcome of one Allow call.
type Decision struct {
	Allowed    bool
	Limit      int           // requests per second for this key
	Remaining  int           // requests that could be made right now
	RetryAfter time.Duration // when refused: time until one would be allowed
}

// Config sets the rates. A rate <= 0 means unlimited.
type Config struct {
	// PerSecond is the default rate per key.
	PerSecond float64
	// PerAction overrides the rate for keys of one action.
	PerAction map[string]float64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Memory is an in-process limiter. It is safe for concurrent use; memory is
// bounded by the number of keys active within the last second or so, because
// idle keys are swept.
type Memory struct {
	cfg       Config
	mu        sync.Mutex
	tat       map[string]time.Time // theoretical arrival time per key
	lastSweep time.Time
}

// NewMemory returns an in-process limiter.
func NewMemory(cfg Config) *Memory {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Memory{cfg: cfg, tat: map[string]time.Time{}}
}

func (m *Memory) rate(key string) float64 {
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		if r, ok := m.cfg.PerAction[key[i+1:]]; ok {
			return r
		}
	}
	return m.cfg.PerSecond
}

// Allow decides whether one request under key may proceed now.
func (m *Memory) Allow(_ context.Context, key string) (Decision, error) {
	rate := m.rate(key)
	if rate <= 0 {
		return Decision{Allowed: true, Limit: 0, Remaining: math.MaxInt32}, nil
	}
	now := m.cfg.Now()
	interval := time.Duration(float64(time.Second) / rate)
	burst := int(math.Max(1, math.Ceil(rate)))
	window := time.Duration(burst) * interval

	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	tat := m.tat[key]
	if tat.Before(now) {
		tat = now
	}
	newTAT := tat.Add(interval)
	allowAt := newTAT.Add(-window)
	d := Decision{Limit: burst}
	if now.Before(allowAt) {
		d.RetryAfter = allowAt.Sub(now)
		return d, nil
	}
	m.tat[key] = newTAT
	d.Allowed = true
	d.Remaining = int(now.Sub(newTAT.Add(-window)) / interval)
	return d, nil
}

// sweep drops keys whose bucket is full again, at most once a second.
func (m *Memory) sweep(now time.Time) {
	if now.Sub(m.lastSweep) < time.Second {
		return
	}
	m.lastSweep = now
	for k, t := range m.tat {
		if t.Before(now) {
			delete(m.tat, k)
		}
	}
}
