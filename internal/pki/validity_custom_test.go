package pki

import (
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

func TestParseValidity(t *testing.T) {
	now := time.Date(2026, 6, 15, 12, 30, 45, 999_000_000, time.FixedZone("UTC+8", 8*3600))
	nowS := time.Date(2026, 6, 15, 4, 30, 45, 0, time.UTC)
	d := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name     string
		in       string
		from, to time.Time
		kind     pca.Kind
		msgPart  string
	}{
		{name: "ok/years", in: "10y", from: nowS, to: nowS.AddDate(10, 0, 0)},
		{name: "ok/months", in: "6m", from: nowS, to: nowS.AddDate(0, 6, 0)},
		{name: "ok/days-trimmed", in: " 30d ", from: nowS, to: nowS.AddDate(0, 0, 30)},
		{name: "ok/max-days", in: "36600d", from: nowS, to: nowS.AddDate(0, 0, MaxValidityDays)},
		{name: "ok/not-after", in: "2030-12-31T23:59:59Z", from: nowS, to: d("2030-12-31T23:59:59Z")},
		{name: "ok/dollar-not-after", in: "$2030-12-31T23:59:59Z", from: nowS, to: d("2030-12-31T23:59:59Z")},
		{name: "ok/pair", in: "2026-01-01T00:00:00Z/2027-01-01T00:00:00Z", from: d("2026-01-01T00:00:00Z"), to: d("2027-01-01T00:00:00Z")},
		{name: "ok/dollar-pair", in: "$2026-07-01T00:00:00Z/$2027-01-01T00:00:00Z", from: d("2026-07-01T00:00:00Z"), to: d("2027-01-01T00:00:00Z")},

		{name: "fail/empty", in: "  ", kind: pca.KindMissing},
		{name: "fail/zero", in: "0d", kind: pca.KindInvalid, msgPart: "zero"},
		{name: "fail/negative", in: "-1d", kind: pca.KindInvalid, msgPart: "positive whole number"},
		{name: "fail/no-number", in: "y", kind: pca.KindInvalid},
		{name: "fail/upper-case-unit", in: "10Y", kind: pca.KindInvalid},
		{name: "fail/hours", in: "10h", kind: pca.KindInvalid},
		{name: "fail/space-inside", in: "10 d", kind: pca.KindInvalid},
		{name: "fail/fraction", in: "1.5y", kind: pca.KindInvalid},
		{name: "fail/too-many-years", in: "101y", kind: pca.KindInvalid, msgPart: "100 years"},
		{name: "fail/too-many-months", in: "1201m", kind: pca.KindInvalid, msgPart: "1200 months"},
		{name: "fail/huge", in: "99999999999d", kind: pca.KindInvalid},
		{name: "fail/offset", in: "2030-12-31T23:59:59+08:00", kind: pca.KindInvalid, msgPart: "yyyy-MM-ddTHH:mm:ssZ"},
		{name: "fail/fractional-second", in: "2030-12-31T23:59:59.5Z", kind: pca.KindInvalid},
		{name: "fail/date-only", in: "2030-12-31", kind: pca.KindInvalid},
		{name: "fail/space-separator", in: "2030-12-31 23:59:59Z", kind: pca.KindInvalid},
		{name: "fail/bad-day", in: "2030-02-30T00:00:00Z", kind: pca.KindInvalid},
		{name: "fail/double-dollar", in: "$$2030-12-31T23:59:59Z", kind: pca.KindInvalid},
		{name: "fail/three-parts", in: "2026-01-01T00:00:00Z/2027-01-01T00:00:00Z/2028-01-01T00:00:00Z", kind: pca.KindInvalid},
		{name: "fail/mixed-relative", in: "2026-01-01T00:00:00Z/30d", kind: pca.KindInvalid},
		{name: "fail/end-before-start", in: "2027-01-01T00:00:00Z/2026-07-01T00:00:00Z", kind: pca.KindInvalid, msgPart: "later than the start"},
		{name: "fail/end-equals-start", in: "2027-01-01T00:00:00Z/2027-01-01T00:00:00Z", kind: pca.KindInvalid, msgPart: "later than the start"},
		{name: "fail/end-past", in: "2026-01-01T00:00:00Z", kind: pca.KindInvalid, msgPart: "later than the start"},
		{name: "fail/pair-in-past", in: "2020-01-01T00:00:00Z/2021-01-01T00:00:00Z", kind: pca.KindInvalid, msgPart: "already past"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nb, na, err := ParseValidity("Validity", tc.in, now)
			if tc.kind == 0 {
				wantErr(t, err, 0, "")
				if !nb.Equal(tc.from) || !na.Equal(tc.to) || nb.Location() != time.UTC || na.Location() != time.UTC {
					t.Errorf("got [%s, %s], want [%s, %s] in UTC", nb, na, tc.from, tc.to)
				}
				return
			}
			wantErr(t, err, tc.kind, "Validity")
			if e, _ := pca.AsError(err); !strings.Contains(e.Msg, tc.msgPart) {
				t.Errorf("message %q lacks %q", e.Msg, tc.msgPart)
			}
		})
	}
}

func TestFitIssuer(t *testing.T) {
	caFrom := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	caTo := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		nb, na  time.Time
		maxDays int
		msgPart string // "" means no error
	}{
		{name: "ok/inside", nb: start, na: start.AddDate(1, 0, 0)},
		{name: "ok/exactly-the-issuer", nb: caFrom, na: caTo},
		{name: "ok/max-days", nb: start, na: start.AddDate(0, 0, 90), maxDays: 90},
		{name: "fail/starts-before", nb: caFrom.Add(-time.Second), na: start, msgPart: "valid only from 2026-01-01T00:00:00Z to 2031-01-01T00:00:00Z"},
		{name: "fail/starts-at-issuer-end", nb: caTo, na: caTo.Add(time.Hour), msgPart: "valid only from"},
		{name: "fail/outlives", nb: start, na: caTo.Add(time.Second), msgPart: "which expires at 2031-01-01T00:00:00Z"},
		{name: "fail/too-long", nb: start, na: start.AddDate(0, 0, 91), maxDays: 90, msgPart: "at most 90 days"},
		{name: "fail/empty", nb: start, na: start, msgPart: "not after its start"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := FitIssuer("Validity", tc.nb, tc.na, caFrom, caTo, tc.maxDays)
			if tc.msgPart == "" {
				wantErr(t, err, 0, "")
				return
			}
			wantErr(t, err, pca.KindInvalid, "Validity")
			if !strings.Contains(err.Error(), tc.msgPart) {
				t.Errorf("message %q lacks %q", err, tc.msgPart)
			}
		})
	}
}

// TestParseValidityThenFit ties the two together as CreateCustomCertificate
// uses them: a relative validity that outlives the CA is refused by FitIssuer.
func TestParseValidityThenFit(t *testing.T) {
	now := time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC)
	nb, na, err := ParseValidity("Validity", "10y", now)
	if err != nil {
		t.Fatal(err)
	}
	err = FitIssuer("Validity", nb, na, now.AddDate(-1, 0, 0), now.AddDate(5, 0, 0), 0)
	wantErr(t, err, pca.KindInvalid, "Validity")
}
