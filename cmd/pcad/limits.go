package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/ratelimit"
)

// The --limits file sets request rates (requests per second, per calling
// user and action) by action, by account and by account and action:
//
//	{
//	  "default": 10,
//	  "actions": {"CreateServerCertificate": 5},
//	  "accounts": {
//	    "1000000000000001": {"default": 50, "actions": {"ListCert": 100}}
//	  }
//	}
//
// Every member is optional. "default" replaces --qps-per-user. A rate is a
// number from 0 to maxRate; 0 means unlimited. The most specific rate wins:
// the account's rate for the action, else the action's rate, else the
// account's default, else the default (see ratelimit.Config.Rate).

// maxRate is the highest rate a limits file may set.
const maxRate = 1_000_000

// limitTable is a parsed --limits file.
type limitTable struct {
	defaultRate *float64 // nil: --qps-per-user
	perAction   map[string]float64
	perAccount  map[string]ratelimit.AccountRates
}

// limitsJSON is the file's syntax; rates are checked one by one so that an
// error can name the member.
type limitsJSON struct {
	Default  json.RawMessage              `json:"default"`
	Actions  map[string]json.RawMessage   `json:"actions"`
	Accounts map[string]accountLimitsJSON `json:"accounts"`
}

type accountLimitsJSON struct {
	Default json.RawMessage            `json:"default"`
	Actions map[string]json.RawMessage `json:"actions"`
}

// loadLimits reads and checks a --limits file. Errors name the file and the
// offending member, e.g. `accounts["12"].actions["ListCert"]`. Action names
// are checked later, against the served actions (newLimiter).
func loadLimits(path string) (*limitTable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lt, err := parseLimits(data)
	if err != nil {
		return nil, fmt.Errorf("limits file %s: %w", path, err)
	}
	return lt, nil
}

func parseLimits(data []byte) (*limitTable, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw limitsJSON
	if err := dec.Decode(&raw); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty: want a JSON object")
		}
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("unexpected data after the JSON object")
	}
	lt := &limitTable{perAction: map[string]float64{}, perAccount: map[string]ratelimit.AccountRates{}}
	var err error
	if lt.defaultRate, err = parseRate("default", raw.Default); err != nil {
		return nil, err
	}
	if lt.perAction, err = parseActionRates("actions", raw.Actions); err != nil {
		return nil, err
	}
	for id, acct := range raw.Accounts {
		where := fmt.Sprintf("accounts[%q]", id)
		if n, err := strconv.ParseInt(id, 10, 64); err != nil || n <= 0 || strconv.FormatInt(n, 10) != id {
			return nil, fmt.Errorf("%s: not an account id (a positive decimal number, as AccountId)", where)
		}
		var ar ratelimit.AccountRates
		if ar.Default, err = parseRate(where+".default", acct.Default); err != nil {
			return nil, err
		}
		if ar.PerAction, err = parseActionRates(where+".actions", acct.Actions); err != nil {
			return nil, err
		}
		lt.perAccount[id] = ar
	}
	return lt, nil
}

// parseRate checks one rate; absent (nil) is nil.
func parseRate(where string, raw json.RawMessage) (*float64, error) {
	if raw == nil {
		return nil, nil
	}
	var r float64
	if err := json.Unmarshal(raw, &r); err != nil || string(raw) == "null" {
		return nil, fmt.Errorf("%s: %s is not a rate: want a number of requests per second (0 = unlimited)", where, raw)
	}
	if r < 0 || r > maxRate || math.IsNaN(r) {
		return nil, fmt.Errorf("%s: rate %v is out of range: want 0 (unlimited) to %d requests per second", where, r, maxRate)
	}
	return &r, nil
}

func parseActionRates(where string, raw map[string]json.RawMessage) (map[string]float64, error) {
	rates := make(map[string]float64, len(raw))
	for action, v := range raw {
		w := fmt.Sprintf("%s[%q]", where, action)
		if action == "" {
			return nil, fmt.Errorf("%s: empty action name", w)
		}
		if v == nil {
			v = json.RawMessage("null")
		}
		r, err := parseRate(w, v)
		if err != nil {
			return nil, err
		}
		rates[action] = *r
	}
	return rates, nil
}

// config returns the limiter configuration with qps as the default unless
// the file sets one.
func (lt *limitTable) config(qps float64) ratelimit.Config {
	c := ratelimit.Config{PerSecond: qps, PerAction: lt.perAction, PerAccount: lt.perAccount}
	if lt.defaultRate != nil {
		c.PerSecond = *lt.defaultRate
	}
	return c
}

// checkActions reports the first action the table names that is in none of
// known (the served action tables): a misspelt action would otherwise
// silently keep the default rate.
func (lt *limitTable) checkActions(known ...map[string]openapi.HandlerFunc) error {
	served := func(action string) bool {
		return slices.ContainsFunc(known, func(m map[string]openapi.HandlerFunc) bool { _, ok := m[action]; return ok })
	}
	for _, action := range sortedKeys(lt.perAction) {
		if !served(action) {
			return fmt.Errorf("actions[%q]: this server has no such action", action)
		}
	}
	for _, id := range sortedKeys(lt.perAccount) {
		for _, action := range sortedKeys(lt.perAccount[id].PerAction) {
			if !served(action) {
				return fmt.Errorf("accounts[%q].actions[%q]: this server has no such action", id, action)
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// limited reports whether c limits anything at all.
func limited(c ratelimit.Config) bool {
	if c.PerSecond > 0 {
		return true
	}
	for _, r := range c.PerAction {
		if r > 0 {
			return true
		}
	}
	for _, a := range c.PerAccount {
		if a.Default != nil && *a.Default > 0 {
			return true
		}
		for _, r := range a.PerAction {
			if r > 0 {
				return true
			}
		}
	}
	return false
}

// newLimiter returns the request limiter of cfg (--qps-per-user and
// --limits), checking the action names of the limits file against the
// served action tables; nil when nothing is limited, so that answers carry
// no x-ratelimit-user-api header.
func newLimiter(cfg config, logger *slog.Logger, actions ...map[string]openapi.HandlerFunc) (openapi.Limiter, error) {
	lt := cfg.limits
	if lt == nil && cfg.LimitsFile != "" { // config built without parseServeFlags
		var err error
		if lt, err = loadLimits(cfg.LimitsFile); err != nil {
			return nil, fmt.Errorf("serve: --limits: %w", err)
		}
	}
	rc := ratelimit.Config{PerSecond: cfg.QPSPerUser}
	if lt != nil {
		if err := lt.checkActions(actions...); err != nil {
			return nil, fmt.Errorf("serve: --limits: limits file %s: %w", cfg.LimitsFile, err)
		}
		rc = lt.config(cfg.QPSPerUser)
		logger.Info("request rate limits", "file", cfg.LimitsFile, "default", rc.PerSecond,
			"actions", len(rc.PerAction), "accounts", len(rc.PerAccount))
	}
	if !limited(rc) {
		return nil, nil
	}
	if cfg.rdb != nil { // --redis (redis.go)
		return redisLimiter(cfg, rc), nil
	}
	return limiterAdapter{ratelimit.NewMemory(rc)}, nil
}
