// Package ratelimit limits request rates per key with GCRA (the generic cell
// rate algorithm): each key may make Rate requests per second, with bursts of
// up to Burst requests, and a refused request learns when to retry.
//
// Keys have the form "<account>/<principal>/<action>"; the rate for a key
// comes from a small table (Config.Rate): a rate set for the account and
// action, else for the action, else for the account, else the default.
package ratelimit

import (
	"context"
	"maps"
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

// Config sets the rates, in requests per second. A rate <= 0 means
// unlimited. The zero Config limits nothing.
type Config struct {
	// PerSecond is the default rate per key.
	PerSecond float64
	// PerAction overrides the rate for keys of one action, in every account.
	PerAction map[string]float64
	// PerAccount overrides rates for the keys of one account, by the
	// account's decimal id as the key writes it.
	PerAccount map[string]AccountRates
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// AccountRates are the rate overrides of one account.
type AccountRates struct {
	// Default, if non-nil, replaces Config.PerSecond for this account: it is
	// the rate of the account's actions that have an entry neither in
	// PerAction below nor in Config.PerAction.
	Default *float64
	// PerAction overrides the rate of one action for this account; it wins
	// over everything else.
	PerAction map[string]float64
}

// Rate returns the rate of action for account, most specific setting first:
//
//  1. PerAccount[account].PerAction[action]
//  2. PerAction[action]
//  3. PerAccount[account].Default
//  4. PerSecond
//
// An action's own rate (2) thus holds for an account whose default (3) is
// raised or lowered; to change it for one account, set (1). Rate is pure.
func (c Config) Rate(account, action string) float64 {
	acct, hasAcct := c.PerAccount[account]
	if r, ok := acct.PerAction[action]; ok {
		return r
	}
	if r, ok := c.PerAction[action]; ok {
		return r
	}
	if hasAcct && acct.Default != nil {
		return *acct.Default
	}
	return c.PerSecond
}

// splitKey returns the account and action of a key
// "<account>/<principal>/<action>". A key with fewer parts has no account;
// its action is what follows the last '/', or the whole key.
func splitKey(key string) (account, action string) {
	i := strings.LastIndexByte(key, '/')
	action = key[i+1:]
	if i > 0 {
		if j := strings.IndexByte(key[:i], '/'); j >= 0 {
			account = key[:j]
		}
	}
	return account, action
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

// NewMemory returns an in-process limiter. It copies cfg's tables, so the
// caller may reuse them.
func NewMemory(cfg Config) *Memory {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Memory{cfg: cfg.clone(), tat: map[string]time.Time{}}
}

// clone returns c with its tables copied.
func (c Config) clone() Config {
	cfg := c
	cfg.PerAction = maps.Clone(cfg.PerAction)
	accounts := make(map[string]AccountRates, len(cfg.PerAccount))
	for id, a := range cfg.PerAccount {
		if a.Default != nil {
			d := *a.Default
			a.Default = &d
		}
		a.PerAction = maps.Clone(a.PerAction)
		accounts[id] = a
	}
	cfg.PerAccount = accounts
	return cfg
}

func (m *Memory) rate(key string) float64 {
	return m.cfg.Rate(splitKey(key))
}

// Allow decides whether one request under key ("<account>/<principal>/<action>")
// may proceed now. It never returns an error.
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
