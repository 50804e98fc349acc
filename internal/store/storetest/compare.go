package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// checkErr fails the test unless err is nil (want nil) or matches want.
func checkErr(t *testing.T, call string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", call, err)
	case want != nil && !errors.Is(err, want):
		t.Fatalf("%s: error = %v, want %v", call, err, want)
	}
}

// diffRecord compares two records of the same type. Times are compared after
// bringing want to millisecond precision in UTC and must come back in UTC;
// everything else must be deeply equal. wt and gt point at the time fields of
// want and got (zeroed here), in the order of names. It returns "" when the
// records match.
func diffRecord(want, got any, names []string, wt, gt []*time.Time) string {
	var diffs []string
	for i, name := range names {
		w, g := msUTC(*wt[i]), *gt[i]
		if !g.Equal(w) || g.Location() != time.UTC {
			diffs = append(diffs, fmt.Sprintf("%s = %s, want %s", name, fmtTime(g), fmtTime(w)))
		}
		*wt[i], *gt[i] = time.Time{}, time.Time{}
	}
	if !reflect.DeepEqual(want, got) {
		diffs = append(diffs, fmt.Sprintf("got  %+v\nwant %+v", got, want))
	}
	return strings.Join(diffs, "\n")
}

func fmtTime(t time.Time) string { return t.Format("2006-01-02T15:04:05.000000000 MST") }

var certTimeNames = []string{"NotBefore", "NotAfter", "RevokedAt", "Created", "Changed"}

func certTimes(c *pca.Certificate) []*time.Time {
	return []*time.Time{&c.NotBefore, &c.NotAfter, &c.RevokedAt, &c.Created, &c.Changed}
}

// emptyNil returns s, or nil when s is empty: the contract does not tell an
// empty list from an absent one.
func emptyNil[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return s
}

// byKey returns tags sorted by key: the contract returns them in key order.
func byKey(tags []pca.Tag) []pca.Tag {
	out := slices.Clone(emptyNil(tags))
	slices.SortFunc(out, func(a, b pca.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// diffCert compares two certificates field by field (see diffRecord).
func diffCert(want, got pca.Certificate) string {
	for _, c := range []*pca.Certificate{&want, &got} {
		c.SANs, c.Tags, c.DER = emptyNil(c.SANs), byKey(c.Tags), emptyNil(c.DER)
	}
	return diffRecord(&want, &got, certTimeNames, certTimes(&want), certTimes(&got))
}

// diffCA compares two CAs field by field (see diffRecord).
func diffCA(want, got pca.CA) string {
	for _, c := range []*pca.CA{&want, &got} {
		c.Tags, c.ExtendedKeyUsages, c.DER = byKey(c.Tags), emptyNil(c.ExtendedKeyUsages), emptyNil(c.DER)
	}
	names := []string{"NotBefore", "NotAfter", "Created"}
	times := func(c *pca.CA) []*time.Time { return []*time.Time{&c.NotBefore, &c.NotAfter, &c.Created} }
	return diffRecord(&want, &got, names, times(&want), times(&got))
}

// diffKey compares two key records (see diffRecord).
func diffKey(want, got store.KeyRecord) string {
	return diffRecord(&want, &got, []string{"Created"}, []*time.Time{&want.Created}, []*time.Time{&got.Created})
}

// ids returns the ids of certs in order.
func ids(certs []pca.Certificate) []int64 {
	out := make([]int64, len(certs))
	for i, c := range certs {
		out[i] = c.ID
	}
	return out
}

// checkPage fails the test unless res holds exactly want's certificates in
// want's order and reports total.
func checkPage(t *testing.T, res store.ListResult, want []pca.Certificate, total int64) {
	t.Helper()
	if got, w := ids(res.Items), ids(want); !slices.Equal(got, w) {
		t.Errorf("item ids = %v, want %v", got, w)
	}
	if res.Total != total {
		t.Errorf("Total = %d, want %d", res.Total, total)
	}
}
