package pki

import (
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Bounds of the end-entity validity parameters (inclusive).
const (
	MaxDays   = 3650
	MaxMonths = 120
	MaxYears  = 10
)

// Bounds of the Years parameter of CreateRootCACertificate and
// CreateSubCACertificate (inclusive), as the API documents them.
const (
	MinCAYears = 5
	MaxCAYears = 10
)

// Validity holds the validity parameters of an end-entity create call. Zero
// means "not given" for every field. BeforeTime and AfterTime are Unix times
// in seconds.
type Validity struct {
	Years, Months, Days   int
	BeforeTime, AfterTime int64
}

// LeafWindow computes [notBefore, notAfter] for an end-entity certificate
// issued by a CA valid over [issuerNotBefore, issuerNotAfter]. It is pure:
// now is the current time. Both results are UTC and whole seconds.
//
// The start is BeforeTime when given, else now truncated to the second. The
// end is chosen by precedence: start + Days days, else start + Months months,
// else start + Years years (calendar arithmetic, time.Time.AddDate), else
// AfterTime. Every field that is given must be in range, even one that loses:
// Days 1..MaxDays, Months 1..MaxMonths, Years 1..MaxYears, BeforeTime and
// AfterTime positive.
//
// maxDays > 0 (the CA's CertMaxTime) caps the length of the window in days.
//
// Errors, all *pca.Error: nothing given is KindMissing with Param "Days";
// only one of BeforeTime and AfterTime (without Days, Months or Years) is
// KindInvalid naming the missing one; AfterTime <= BeforeTime is
// Invalid("AfterTime"); a start outside the issuer's validity is
// Invalid("BeforeTime"), or Invalid("ParentIdentifier") when the start is
// now; an end after issuerNotAfter or a window longer than maxDays is
// KindInvalid with the Param that set the end ("Days", "Months", "Years" or
// "AfterTime"), and the message gives the limit in UTC.
func LeafWindow(now time.Time, v Validity, issuerNotBefore, issuerNotAfter time.Time, maxDays int) (notBefore, notAfter time.Time, err error) {
	if err := checkRanges(v); err != nil {
		return time.Time{}, time.Time{}, err
	}
	haveRel := v.Days > 0 || v.Months > 0 || v.Years > 0
	switch {
	case !haveRel && v.BeforeTime == 0 && v.AfterTime == 0:
		return time.Time{}, time.Time{}, &pca.Error{Kind: pca.KindMissing, Param: "Days",
			Msg: "The validity of the certificate is not supplied: give one of Days, Months, Years, or both BeforeTime and AfterTime."}
	case !haveRel && v.AfterTime == 0:
		return time.Time{}, time.Time{}, pca.Invalid("AfterTime", "The parameter AfterTime is not supplied: BeforeTime must come with AfterTime unless Days, Months or Years is given.")
	case !haveRel && v.BeforeTime == 0:
		return time.Time{}, time.Time{}, pca.Invalid("BeforeTime", "The parameter BeforeTime is not supplied: AfterTime must come with BeforeTime unless Days, Months or Years is given.")
	}

	issuerNotBefore, issuerNotAfter = issuerNotBefore.UTC(), issuerNotAfter.UTC()
	startParam := "ParentIdentifier"
	start := now.UTC().Truncate(time.Second)
	if v.BeforeTime > 0 {
		startParam = "BeforeTime"
		start = time.Unix(v.BeforeTime, 0).UTC()
	}
	var end time.Time
	var endParam string
	switch {
	case v.Days > 0:
		end, endParam = start.AddDate(0, 0, v.Days), "Days"
	case v.Months > 0:
		end, endParam = start.AddDate(0, v.Months, 0), "Months"
	case v.Years > 0:
		end, endParam = start.AddDate(v.Years, 0, 0), "Years"
	default:
		end, endParam = time.Unix(v.AfterTime, 0).UTC(), "AfterTime"
		if !end.After(start) {
			return time.Time{}, time.Time{}, pca.Invalid("AfterTime", "The specified parameter AfterTime is not valid: it must be later than BeforeTime.")
		}
	}

	if start.Before(issuerNotBefore) || !start.Before(issuerNotAfter) {
		if startParam == "BeforeTime" {
			return time.Time{}, time.Time{}, pca.Invalid("BeforeTime", "The specified parameter BeforeTime is not valid: the issuing CA is valid only from %s to %s.", utc(issuerNotBefore), utc(issuerNotAfter))
		}
		return time.Time{}, time.Time{}, pca.Invalid("ParentIdentifier", "The issuing CA given in ParentIdentifier is not valid now: it is valid only from %s to %s.", utc(issuerNotBefore), utc(issuerNotAfter))
	}
	if end.After(issuerNotAfter) {
		return time.Time{}, time.Time{}, pca.Invalid(endParam, "The specified parameter %s is not valid: the certificate would end at %s and outlive the issuing CA, which expires at %s.", endParam, utc(end), utc(issuerNotAfter))
	}
	if maxDays > 0 && end.Sub(start) > time.Duration(maxDays)*24*time.Hour {
		return time.Time{}, time.Time{}, pca.Invalid(endParam, "The specified parameter %s is not valid: the issuing CA allows certificates of at most %d days; this one would last from %s to %s.", endParam, maxDays, utc(start), utc(end))
	}
	return start, end, nil
}

// checkRanges checks every given validity field against its bounds.
func checkRanges(v Validity) error {
	ints := []struct {
		param string
		value int
		max   int
		unit  string
	}{
		{"Days", v.Days, MaxDays, "days"},
		{"Months", v.Months, MaxMonths, "months"},
		{"Years", v.Years, MaxYears, "years"},
	}
	for _, f := range ints {
		if f.value < 0 || f.value > f.max {
			return pca.Invalid(f.param, "The specified parameter %s is out of range: give 1 to %d %s.", f.param, f.max, f.unit)
		}
	}
	if v.BeforeTime < 0 {
		return pca.Invalid("BeforeTime", "The specified parameter BeforeTime is not valid: it must be a positive Unix time in seconds.")
	}
	if v.AfterTime < 0 {
		return pca.Invalid("AfterTime", "The specified parameter AfterTime is not valid: it must be a positive Unix time in seconds.")
	}
	return nil
}

// CAWindow computes [notBefore, notAfter] for a CA certificate valid for
// years years from now (truncated to the second; UTC). years must be in
// MinCAYears..MaxCAYears (pca.Missing("Years") when 0, pca.Invalid("Years")
// otherwise). For a root pass zero issuer times. For a subordinate CA the
// window must lie within the parent's [issuerNotBefore, issuerNotAfter]: a
// parent not valid now is Invalid("ParentIdentifier"), and an end after the
// parent's is Invalid("Years") with the parent's expiry in the message.
func CAWindow(now time.Time, years int, issuerNotBefore, issuerNotAfter time.Time) (notBefore, notAfter time.Time, err error) {
	if years == 0 {
		return time.Time{}, time.Time{}, pca.Missing("Years")
	}
	if years < MinCAYears || years > MaxCAYears {
		return time.Time{}, time.Time{}, pca.Invalid("Years", "The specified parameter Years is out of range: give %d to %d years.", MinCAYears, MaxCAYears)
	}
	start := now.UTC().Truncate(time.Second)
	end := start.AddDate(years, 0, 0)
	if issuerNotBefore.IsZero() && issuerNotAfter.IsZero() {
		return start, end, nil
	}
	issuerNotBefore, issuerNotAfter = issuerNotBefore.UTC(), issuerNotAfter.UTC()
	if start.Before(issuerNotBefore) || !start.Before(issuerNotAfter) {
		return time.Time{}, time.Time{}, pca.Invalid("ParentIdentifier", "The parent CA given in ParentIdentifier is not valid now: it is valid only from %s to %s.", utc(issuerNotBefore), utc(issuerNotAfter))
	}
	if end.After(issuerNotAfter) {
		return time.Time{}, time.Time{}, pca.Invalid("Years", "The specified parameter Years is not valid: a CA certificate of %d years would end at %s and outlive its parent CA, which expires at %s.", years, utc(end), utc(issuerNotAfter))
	}
	return start, end, nil
}

func utc(t time.Time) string { return t.UTC().Format(time.RFC3339) }
