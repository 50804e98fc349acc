package pki

import (
	"strconv"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Upper bounds of the relative forms of the Validity parameter (inclusive).
// They only keep the arithmetic sane: FitIssuer then holds the window to the
// issuing CA.
const (
	MaxValidityYears  = 100
	MaxValidityMonths = 12 * MaxValidityYears
	MaxValidityDays   = 366 * MaxValidityYears
)

// validityLayout is the absolute time form of the Validity parameter:
// yyyy-MM-ddTHH:mm:ssZ, always UTC.
const validityLayout = "2006-01-02T15:04:05Z"

// ParseValidity parses the Validity parameter of CreateCustomCertificate and
// CreateExternalCACertificate (param names it in errors). It is pure: now is
// the current time. Both results are UTC and whole seconds.
//
// The forms are:
//
//   - relative "<n>y", "<n>m" or "<n>d": n years, months or days (calendar
//     arithmetic, time.Time.AddDate) from now truncated to the second; n is a
//     positive decimal integer, at most MaxValidityYears, MaxValidityMonths or
//     MaxValidityDays; the unit is lower-case;
//   - absolute "<NotAfter>": from now truncated to the second to NotAfter;
//   - absolute "<NotBefore>/<NotAfter>".
//
// Absolute times are written yyyy-MM-ddTHH:mm:ssZ (for example
// 2030-12-31T23:59:59Z: UTC, no fraction, no offset) and each may carry a
// leading "$", as the API documentation writes "$NotBefore/$NotAfter".
// Surrounding white space is ignored.
//
// Errors, all *pca.Error with Param param: an empty value is KindMissing;
// any other form, a NotAfter not later than NotBefore, or a NotAfter not
// later than now is KindInvalid. Whether the window fits the issuing CA is
// FitIssuer's business.
func ParseValidity(param, s string, now time.Time) (notBefore, notAfter time.Time, err error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, time.Time{}, pca.Missing(param)
	}
	bad := func(why string) (time.Time, time.Time, error) {
		return time.Time{}, time.Time{}, pca.Invalid(param, "The specified parameter %s is not valid: %q %s; use a relative validity such as 10y, 6m or 30d, or an absolute one such as 2030-12-31T23:59:59Z or 2026-01-01T00:00:00Z/2030-12-31T23:59:59Z.", param, s, why)
	}
	start := now.UTC().Truncate(time.Second)
	if unit := s[len(s)-1]; unit == 'y' || unit == 'm' || unit == 'd' {
		digits := s[:len(s)-1]
		if digits == "" || len(digits) > 6 || !allDigits(digits) {
			return bad("is not a positive whole number followed by y, m or d")
		}
		n, _ := strconv.Atoi(digits)
		switch {
		case n == 0:
			return bad("is zero")
		case unit == 'y' && n > MaxValidityYears:
			return bad("is more than " + strconv.Itoa(MaxValidityYears) + " years")
		case unit == 'm' && n > MaxValidityMonths:
			return bad("is more than " + strconv.Itoa(MaxValidityMonths) + " months")
		case unit == 'd' && n > MaxValidityDays:
			return bad("is more than " + strconv.Itoa(MaxValidityDays) + " days")
		}
		switch unit {
		case 'y':
			return start, start.AddDate(n, 0, 0), nil
		case 'm':
			return start, start.AddDate(0, n, 0), nil
		}
		return start, start.AddDate(0, 0, n), nil
	}
	parts := strings.Split(s, "/")
	if len(parts) > 2 {
		return bad("has more than two times")
	}
	times := make([]time.Time, len(parts))
	for i, p := range parts {
		p = strings.TrimPrefix(strings.TrimSpace(p), "$")
		t, err := time.Parse(validityLayout, p)
		if err != nil || len(p) != len(validityLayout) {
			return bad("is not in the form yyyy-MM-ddTHH:mm:ssZ")
		}
		times[i] = t
	}
	notBefore, notAfter = start, times[len(times)-1]
	if len(times) == 2 {
		notBefore = times[0]
	}
	if !notAfter.After(notBefore) {
		return time.Time{}, time.Time{}, pca.Invalid(param, "The specified parameter %s is not valid: the end %s must be later than the start %s.", param, utc(notAfter), utc(notBefore))
	}
	if !notAfter.After(start) {
		return time.Time{}, time.Time{}, pca.Invalid(param, "The specified parameter %s is not valid: the end %s is already past.", param, utc(notAfter))
	}
	return notBefore, notAfter, nil
}

// FitIssuer checks that a validity window from ParseValidity fits a CA valid
// over [issuerNotBefore, issuerNotAfter] and, when maxDays > 0 (the CA's
// CertMaxTime), lasts at most maxDays days. Every refusal is a
// pca.Invalid(param, ...) whose message gives the limit in UTC, in the style
// of LeafWindow: a start before the CA's or not before its end, an end after
// the CA's, a window longer than maxDays, or an empty window.
func FitIssuer(param string, notBefore, notAfter, issuerNotBefore, issuerNotAfter time.Time, maxDays int) error {
	nb, na := notBefore.UTC(), notAfter.UTC()
	inb, ina := issuerNotBefore.UTC(), issuerNotAfter.UTC()
	switch {
	case !na.After(nb):
		return pca.Invalid(param, "The specified parameter %s is not valid: the certificate would end at %s, not after its start at %s.", param, utc(na), utc(nb))
	case nb.Before(inb) || !nb.Before(ina):
		return pca.Invalid(param, "The specified parameter %s is not valid: the certificate would start at %s, but the issuing CA is valid only from %s to %s.", param, utc(nb), utc(inb), utc(ina))
	case na.After(ina):
		return pca.Invalid(param, "The specified parameter %s is not valid: the certificate would end at %s and outlive the issuing CA, which expires at %s.", param, utc(na), utc(ina))
	case maxDays > 0 && na.Sub(nb) > time.Duration(maxDays)*24*time.Hour:
		return pca.Invalid(param, "The specified parameter %s is not valid: the issuing CA allows certificates of at most %d days; this one would last from %s to %s.", param, maxDays, utc(nb), utc(na))
	}
	return nil
}
