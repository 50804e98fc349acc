package pki

import (
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

func TestLeafWindow(t *testing.T) {
	// The issuing CA is valid 2026-01-01 .. 2031-01-01; "now" is mid-2026
	// with a fractional second that must be dropped.
	caFrom := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	caTo := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 6, 15, 12, 30, 45, 999_000_000, time.FixedZone("UTC+8", 8*3600))
	nowS := time.Date(2026, 6, 15, 4, 30, 45, 0, time.UTC)
	bt := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	at := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)

	tests := []struct {
		name     string
		v        Validity
		maxDays  int
		from, to time.Time
		kind     pca.Kind
		param    string
	}{
		{name: "ok/days-from-now", v: Validity{Days: 30}, from: nowS, to: nowS.AddDate(0, 0, 30)},
		{name: "ok/months-from-now", v: Validity{Months: 6}, from: nowS, to: nowS.AddDate(0, 6, 0)},
		{name: "ok/years-from-now", v: Validity{Years: 2}, from: nowS, to: nowS.AddDate(2, 0, 0)},
		{name: "ok/pair", v: Validity{BeforeTime: bt.Unix(), AfterTime: at.Unix()}, from: bt, to: at},
		{name: "ok/days-beat-months-and-years", v: Validity{Days: 10, Months: 3, Years: 1}, from: nowS, to: nowS.AddDate(0, 0, 10)},
		{name: "ok/months-beat-years", v: Validity{Months: 3, Years: 1}, from: nowS, to: nowS.AddDate(0, 3, 0)},
		{name: "ok/years-beat-pair", v: Validity{Years: 1, BeforeTime: bt.Unix(), AfterTime: at.Unix()}, from: bt, to: bt.AddDate(1, 0, 0)},
		{name: "ok/days-beat-pair-start-from-before-time", v: Validity{Days: 10, BeforeTime: bt.Unix(), AfterTime: at.Unix()}, from: bt, to: bt.AddDate(0, 0, 10)},
		{name: "ok/days-with-before-time-only", v: Validity{Days: 10, BeforeTime: bt.Unix()}, from: bt, to: bt.AddDate(0, 0, 10)},
		{name: "ok/days-with-after-time-only-ignored", v: Validity{Days: 10, AfterTime: at.Unix()}, from: nowS, to: nowS.AddDate(0, 0, 10)},
		{name: "ok/ends-exactly-at-issuer-end", v: Validity{BeforeTime: bt.Unix(), AfterTime: caTo.Unix()}, from: bt, to: caTo},
		{name: "ok/within-max-days", v: Validity{Days: 365}, maxDays: 365, from: nowS, to: nowS.AddDate(0, 0, 365)},

		{name: "fail/nothing", v: Validity{}, kind: pca.KindMissing, param: "Days"},
		{name: "fail/before-time-without-after-time", v: Validity{BeforeTime: bt.Unix()}, kind: pca.KindInvalid, param: "AfterTime"},
		{name: "fail/after-time-without-before-time", v: Validity{AfterTime: at.Unix()}, kind: pca.KindInvalid, param: "BeforeTime"},
		{name: "fail/after-equals-before", v: Validity{BeforeTime: bt.Unix(), AfterTime: bt.Unix()}, kind: pca.KindInvalid, param: "AfterTime"},
		{name: "fail/after-before-before", v: Validity{BeforeTime: at.Unix(), AfterTime: bt.Unix()}, kind: pca.KindInvalid, param: "AfterTime"},
		{name: "fail/days-negative", v: Validity{Days: -1}, kind: pca.KindInvalid, param: "Days"},
		{name: "fail/days-too-many", v: Validity{Days: MaxDays + 1}, kind: pca.KindInvalid, param: "Days"},
		{name: "fail/months-too-many", v: Validity{Months: MaxMonths + 1}, kind: pca.KindInvalid, param: "Months"},
		{name: "fail/years-negative", v: Validity{Years: -2}, kind: pca.KindInvalid, param: "Years"},
		{name: "fail/years-too-many-even-when-days-win", v: Validity{Days: 5, Years: MaxYears + 1}, kind: pca.KindInvalid, param: "Years"},
		{name: "fail/before-time-negative", v: Validity{BeforeTime: -5, AfterTime: at.Unix()}, kind: pca.KindInvalid, param: "BeforeTime"},
		{name: "fail/after-time-negative", v: Validity{BeforeTime: bt.Unix(), AfterTime: -5}, kind: pca.KindInvalid, param: "AfterTime"},
		{name: "fail/days-outlive-issuer", v: Validity{Days: 3650}, kind: pca.KindInvalid, param: "Days"},
		{name: "fail/months-outlive-issuer", v: Validity{Months: 60}, kind: pca.KindInvalid, param: "Months"},
		{name: "fail/years-outlive-issuer", v: Validity{Years: 5}, kind: pca.KindInvalid, param: "Years"},
		{name: "fail/after-time-outlives-issuer", v: Validity{BeforeTime: bt.Unix(), AfterTime: caTo.Unix() + 1}, kind: pca.KindInvalid, param: "AfterTime"},
		{name: "fail/before-time-before-issuer", v: Validity{BeforeTime: caFrom.Unix() - 1, AfterTime: at.Unix()}, kind: pca.KindInvalid, param: "BeforeTime"},
		{name: "fail/before-time-after-issuer", v: Validity{Days: 1, BeforeTime: caTo.Unix()}, kind: pca.KindInvalid, param: "BeforeTime"},
		{name: "fail/longer-than-max-days", v: Validity{Days: 366}, maxDays: 365, kind: pca.KindInvalid, param: "Days"},
		{name: "fail/pair-longer-than-max-days", v: Validity{BeforeTime: bt.Unix(), AfterTime: at.Unix()}, maxDays: 30, kind: pca.KindInvalid, param: "AfterTime"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to, err := LeafWindow(now, tc.v, caFrom, caTo, tc.maxDays)
			wantErr(t, err, tc.kind, tc.param)
			if tc.param != "" {
				return
			}
			if !from.Equal(tc.from) || !to.Equal(tc.to) {
				t.Errorf("got [%s, %s], want [%s, %s]", from, to, tc.from, tc.to)
			}
			if from.Location() != time.UTC || to.Location() != time.UTC {
				t.Errorf("got locations %v, %v, want UTC", from.Location(), to.Location())
			}
		})
	}
}

func TestLeafWindowMessages(t *testing.T) {
	caFrom := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	caTo := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	_, _, err := LeafWindow(now, Validity{Days: 365}, caFrom, caTo, 0)
	e, ok := pca.AsError(err)
	if !ok {
		t.Fatalf("got %v, want *pca.Error", err)
	}
	for _, want := range []string{"outlive the issuing CA", "2027-01-01T00:00:00Z"} {
		if !strings.Contains(e.Msg, want) {
			t.Errorf("message %q lacks %q", e.Msg, want)
		}
	}

	_, _, err = LeafWindow(now, Validity{}, caFrom, caTo, 0)
	e, _ = pca.AsError(err)
	for _, want := range []string{"Days", "Months", "Years", "BeforeTime", "AfterTime"} {
		if e == nil || !strings.Contains(e.Msg, want) {
			t.Errorf("missing-validity message %v lacks %q", e, want)
		}
	}

	// Issuer not valid yet and issuer expired, start = now.
	for _, n := range []time.Time{caFrom.Add(-time.Hour), caTo} {
		_, _, err = LeafWindow(n, Validity{Days: 1}, caFrom, caTo, 0)
		wantErr(t, err, pca.KindInvalid, "ParentIdentifier")
	}
}

func TestCAWindow(t *testing.T) {
	now := time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)
	nowS := now.Truncate(time.Second)
	parentFrom := nowS.AddDate(-1, 0, 0)
	parentTo := nowS.AddDate(9, 0, 0)
	tests := []struct {
		name             string
		years            int
		parentFrom, pTo  time.Time
		kind             pca.Kind
		param            string
		wantFrom, wantTo time.Time
	}{
		{name: "ok/root-10-years", years: 10, wantFrom: nowS, wantTo: nowS.AddDate(10, 0, 0)},
		{name: "ok/root-5-years", years: 5, wantFrom: nowS, wantTo: nowS.AddDate(5, 0, 0)},
		{name: "ok/sub-fits", years: 9, parentFrom: parentFrom, pTo: parentTo, wantFrom: nowS, wantTo: parentTo},
		{name: "fail/missing", years: 0, kind: pca.KindMissing, param: "Years"},
		{name: "fail/too-short", years: MinCAYears - 1, kind: pca.KindInvalid, param: "Years"},
		{name: "fail/too-long", years: MaxCAYears + 1, kind: pca.KindInvalid, param: "Years"},
		{name: "fail/sub-outlives-parent", years: 10, parentFrom: parentFrom, pTo: parentTo, kind: pca.KindInvalid, param: "Years"},
		{name: "fail/parent-expired", years: 5, parentFrom: nowS.AddDate(-10, 0, 0), pTo: nowS.Add(-time.Second), kind: pca.KindInvalid, param: "ParentIdentifier"},
		{name: "fail/parent-not-yet-valid", years: 5, parentFrom: nowS.Add(time.Hour), pTo: parentTo, kind: pca.KindInvalid, param: "ParentIdentifier"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, to, err := CAWindow(now, tc.years, tc.parentFrom, tc.pTo)
			wantErr(t, err, tc.kind, tc.param)
			if tc.param == "" && (!from.Equal(tc.wantFrom) || !to.Equal(tc.wantTo)) {
				t.Errorf("got [%s, %s], want [%s, %s]", from, to, tc.wantFrom, tc.wantTo)
			}
		})
	}
}
