package main

// ListCert, one test per rule of spec/listcert.md, through the official
// client in both signature modes.

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
)

var digitsRe = regexp.MustCompile(`^[0-9]+$`)

// rec is the test's model of one certificate.
type rec struct {
	ID, Type, Status, Sub string
}

// dataset is a populated account: two sub-CAs under one root and eight
// certificates, three of them revoked.
type dataset struct {
	Root, SubA, SubB ca
	Certs            []rec // issue order
}

// seed issues, in this order: A-server, A-client, B-server, A-server,
// B-client, B-client, A-client, B-server; then revokes the 2nd, 5th and 8th.
func seed(t *testing.T, c *openapiclient.Client) *dataset {
	t.Helper()
	d := &dataset{}
	d.Root = createRoot(t, c, "ECC_256", nil)
	d.SubA = createSub(t, c, d.Root.ID, "ECC_256", map[string]string{"CommonName": "Sub A"})
	d.SubB = createSub(t, c, d.Root.ID, "ECC_256", map[string]string{"CommonName": "Sub B"})
	plan := []struct{ typ, sub string }{
		{"SERVER", "A"}, {"CLIENT", "A"}, {"SERVER", "B"}, {"SERVER", "A"},
		{"CLIENT", "B"}, {"CLIENT", "B"}, {"CLIENT", "A"}, {"SERVER", "B"},
	}
	for _, p := range plan {
		sub := d.SubA.ID
		if p.sub == "B" {
			sub = d.SubB.ID
		}
		var id string
		if p.typ == "SERVER" {
			id = issueServer(t, c, sub, nil)
		} else {
			id = issueClient(t, c, sub, nil)
		}
		d.Certs = append(d.Certs, rec{ID: id, Type: p.typ, Status: "ISSUE", Sub: sub})
	}
	for _, i := range []int{1, 4, 7} {
		revoke(t, c, d.Certs[i].ID)
		d.Certs[i].Status = "REVOKE"
	}
	return d
}

// want returns the identifiers matching keep, newest first.
func (d *dataset) want(keep func(r rec) bool) []string {
	var out []string
	for i := len(d.Certs) - 1; i >= 0; i-- {
		if keep(d.Certs[i]) {
			out = append(out, d.Certs[i].ID)
		}
	}
	return out
}

func all(rec) bool { return true }

// collectPages walks a filter in page mode (ShowSize 3) and returns every
// identifier in order and the TotalCount, checking the paging fields on the
// way and that the page after the last is empty with the same total.
func collectPages(t *testing.T, c *openapiclient.Client, filter map[string]string) ([]string, int64) {
	t.Helper()
	const size = 3
	var ids []string
	var tot int64 = -1
	pages := int64(1)
	for page := int64(1); page <= pages+1; page++ {
		b := list(t, c, with(filter, map[string]string{"ShowSize": strconv.Itoa(size), "CurrentPage": strconv.FormatInt(page, 10)}))
		n := jInt(t, b, "TotalCount")
		if tot >= 0 && n != tot {
			t.Fatalf("TotalCount moved from %d to %d between pages", tot, n)
		}
		tot = n
		pages = jInt(t, b, "PageCount")
		if want := (tot + size - 1) / size; pages != want {
			t.Errorf("PageCount %d, want ceil(%d/%d) = %d", pages, tot, size, want)
		}
		if got := jInt(t, b, "CurrentPage"); got != page {
			t.Errorf("CurrentPage %d, want %d", got, page)
		}
		if got := jInt(t, b, "ShowSize"); got != size {
			t.Errorf("ShowSize %d, want %d", got, size)
		}
		got := listIDs(t, b)
		wantLen := min(int64(size), max(0, tot-(page-1)*size))
		if int64(len(got)) != wantLen {
			t.Errorf("page %d holds %d items, want %d (total %d)", page, len(got), wantLen, tot)
		}
		ids = append(ids, got...)
		if page > 50 {
			t.Fatal("too many pages")
		}
	}
	return ids, tot
}

// collectTokens walks a filter in token mode (MaxResults 2).
func collectTokens(t *testing.T, c *openapiclient.Client, filter map[string]string) ([]string, int64) {
	t.Helper()
	const size = 2
	var ids []string
	var tot int64 = -1
	token := ""
	for page := 1; ; page++ {
		q := with(filter, map[string]string{"MaxResults": strconv.Itoa(size)})
		if token != "" {
			q["NextToken"] = token
		}
		b := list(t, c, q)
		n := jInt(t, b, "TotalCount")
		if tot >= 0 && n != tot {
			t.Fatalf("TotalCount moved from %d to %d between pages", tot, n)
		}
		tot = n
		if got := jInt(t, b, "MaxResults"); got != size {
			t.Errorf("MaxResults %d, want %d", got, size)
		}
		got := listIDs(t, b)
		ids = append(ids, got...)
		token = jStr(t, b, "NextToken")
		if token == "" {
			break
		}
		if len(got) != size {
			t.Errorf("page %d holds %d items but a NextToken follows", page, len(got))
		}
		if page > 50 {
			t.Fatal("too many pages")
		}
	}
	return ids, tot
}

// checkFilter checks one filter in both paging modes against the model.
func checkFilter(t *testing.T, c *openapiclient.Client, filter map[string]string, want []string) {
	t.Helper()
	for name, collect := range map[string]func(*testing.T, *openapiclient.Client, map[string]string) ([]string, int64){
		"page": collectPages, "token": collectTokens,
	} {
		got, tot := collect(t, c, filter)
		if !equalStrings(got, want) {
			t.Errorf("%s mode, filter %v: got %d items %v, want %d %v", name, filter, len(got), got, len(want), want)
		}
		if tot != int64(len(want)) {
			t.Errorf("%s mode, filter %v: TotalCount %d, want %d", name, filter, tot, len(want))
		}
	}
}

func TestListCertAllParamsOptional(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			b := list(t, c, nil)
			if jInt(t, b, "TotalCount") != 0 || len(jArr(t, b, "List")) != 0 {
				t.Errorf("empty account lists %v", b)
			}
			if jInt(t, b, "CurrentPage") != 1 || jInt(t, b, "ShowSize") != 50 || jInt(t, b, "PageCount") != 0 {
				t.Errorf("page fields %v %v %v, want 1, 50, 0", b["CurrentPage"], b["ShowSize"], b["PageCount"])
			}
			// Unknown and common parameters are ignored.
			b = list(t, c, map[string]string{"RegionId": "cn-hangzhou", "ResourceGroupId": "rg-1", "Foo": "bar"})
			jInt(t, b, "TotalCount")
		})
	}
}

func TestListCertFormBody(t *testing.T) {
	ts := startServer(t, 0)
	c := ts.client(t, "v3")
	d := seed(t, c)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			// Parameters may arrive in the query, in a form body, or both.
			res, err := callFull(t, c, "ListCert", map[string]string{"Status": "ISSUE"}, map[string]string{"ShowSize": "2", "Type": "SERVER"})
			if err != nil {
				t.Fatal(describeErr(err))
			}
			want := d.want(func(r rec) bool { return r.Status == "ISSUE" && r.Type == "SERVER" })
			if got := jInt(t, res.Body, "TotalCount"); got != int64(len(want)) {
				t.Errorf("TotalCount %d, want %d", got, len(want))
			}
			if got := jInt(t, res.Body, "ShowSize"); got != 2 {
				t.Errorf("ShowSize %d from the body, want 2", got)
			}
			if got := listIDs(t, res.Body); !equalStrings(got, want[:2]) {
				t.Errorf("List %v, want %v", got, want[:2])
			}
		})
	}
}

func TestListCertPageMode(t *testing.T) {
	ts := startServer(t, 0)
	d := seed(t, ts.client(t, "v3"))
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			got, tot := collectPages(t, c, nil)
			if want := d.want(all); !equalStrings(got, want) || tot != 8 {
				t.Errorf("pages gave %v (total %d), want %v (8)", got, tot, want)
			}
			// Any ShowSize in range partitions the same sequence.
			for _, size := range []int{1, 5, 8, 1000} {
				var ids []string
				for page := 1; page <= (8+size-1)/size; page++ {
					b := list(t, c, map[string]string{"ShowSize": strconv.Itoa(size), "CurrentPage": strconv.Itoa(page)})
					ids = append(ids, listIDs(t, b)...)
				}
				if !equalStrings(ids, d.want(all)) {
					t.Errorf("ShowSize %d: %v", size, ids)
				}
			}
		})
	}
}

func TestListCertTokenMode(t *testing.T) {
	ts := startServer(t, 0)
	d := seed(t, ts.client(t, "v3"))
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			got, tot := collectTokens(t, c, nil)
			if want := d.want(all); !equalStrings(got, want) || tot != 8 {
				t.Errorf("tokens gave %v (total %d), want %v (8)", got, tot, want)
			}
			for _, size := range []string{"1", "3", "8", "1000"} {
				var ids []string
				q := map[string]string{"MaxResults": size}
				for range 20 {
					b := list(t, c, q)
					ids = append(ids, listIDs(t, b)...)
					tok := jStr(t, b, "NextToken")
					if tok == "" {
						break
					}
					q["NextToken"] = tok
				}
				if !equalStrings(ids, d.want(all)) {
					t.Errorf("MaxResults %s: %v", size, ids)
				}
			}
			// A page that ends exactly at the last certificate has no NextToken.
			b := list(t, c, map[string]string{"MaxResults": "8"})
			if len(listIDs(t, b)) != 8 || jStr(t, b, "NextToken") != "" {
				t.Errorf("MaxResults 8 of 8: %d items, NextToken %q, want 8 and empty", len(listIDs(t, b)), b["NextToken"])
			}
			// An empty NextToken starts at the beginning.
			b = list(t, c, map[string]string{"NextToken": "", "MaxResults": "3"})
			if got := listIDs(t, b); !equalStrings(got, d.want(all)[:3]) {
				t.Errorf("NextToken empty: %v", got)
			}
			// The page size may change between pages; the token is reusable.
			b = list(t, c, map[string]string{"MaxResults": "3"})
			tok := jStr(t, b, "NextToken")
			for range 2 {
				b2 := list(t, c, map[string]string{"MaxResults": "5", "NextToken": tok})
				if got := listIDs(t, b2); !equalStrings(got, d.want(all)[3:8]) {
					t.Errorf("continuing with MaxResults 5: %v, want %v", got, d.want(all)[3:8])
				}
				if jStr(t, b2, "NextToken") != "" {
					t.Errorf("the last page has NextToken %q", b2["NextToken"])
				}
			}
		})
	}
}

func TestListCertDefaults(t *testing.T) {
	ts := startServer(t, 0)
	c := ts.client(t, "v3")
	_, sub := hierarchy(t, c)
	var ids []string
	for i := range 55 {
		if i%2 == 0 {
			ids = append(ids, issueServer(t, c, sub.ID, map[string]string{"Immediately": "0"}))
		} else {
			ids = append(ids, issueClient(t, c, sub.ID, map[string]string{"Immediately": "0"}))
		}
	}
	want := reversed(ids)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			b := list(t, c, nil)
			if got := listIDs(t, b); !equalStrings(got, want[:50]) {
				t.Errorf("default page holds %d items, want the newest 50", len(got))
			}
			if jInt(t, b, "ShowSize") != 50 || jInt(t, b, "PageCount") != 2 || jInt(t, b, "TotalCount") != 55 {
				t.Errorf("ShowSize %v PageCount %v TotalCount %v, want 50, 2, 55", b["ShowSize"], b["PageCount"], b["TotalCount"])
			}
			b = list(t, c, map[string]string{"CurrentPage": "2"})
			if got := listIDs(t, b); !equalStrings(got, want[50:]) {
				t.Errorf("default page 2 holds %d items, want 5", len(got))
			}
			// Token mode without MaxResults: 20 per page.
			b = list(t, c, map[string]string{"NextToken": ""})
			if got := listIDs(t, b); !equalStrings(got, want[:20]) || jInt(t, b, "MaxResults") != 20 {
				t.Errorf("default token page: %d items, MaxResults %v, want 20 and 20", len(got), b["MaxResults"])
			}
			var all []string
			q := map[string]string{"NextToken": ""}
			for range 10 {
				b := list(t, c, q)
				all = append(all, listIDs(t, b)...)
				if q["NextToken"] = jStr(t, b, "NextToken"); q["NextToken"] == "" {
					break
				}
			}
			if !equalStrings(all, want) {
				t.Errorf("default token walk: %d items, want 55 in order", len(all))
			}
		})
	}
}

func TestListCertMixedModes(t *testing.T) {
	ts := startServer(t, 0)
	c0 := ts.client(t, "v3")
	seed(t, c0)
	tok := jStr(t, list(t, c0, map[string]string{"MaxResults": "2"}), "NextToken")
	if tok == "" {
		t.Fatal("no NextToken to test with")
	}
	cases := []struct {
		name string
		q    map[string]string
	}{
		{"CurrentPage+MaxResults", map[string]string{"CurrentPage": "1", "MaxResults": "10"}},
		{"ShowSize+MaxResults", map[string]string{"ShowSize": "10", "MaxResults": "10"}},
		{"CurrentPage+NextToken", map[string]string{"CurrentPage": "2", "NextToken": tok}},
		{"ShowSize+NextToken", map[string]string{"ShowSize": "10", "NextToken": tok}},
		{"all four", map[string]string{"CurrentPage": "1", "ShowSize": "10", "MaxResults": "10", "NextToken": tok}},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range cases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				_, err := call(t, c, "ListCert", tc.q)
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter", "NextToken")
			})
		}
	}
}

func TestListCertFilterStatus(t *testing.T) {
	ts := startServer(t, 0)
	d := seed(t, ts.client(t, "v3"))
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, st := range []string{"ISSUE", "REVOKE"} {
			t.Run(mode+"/"+st, func(t *testing.T) {
				checkFilter(t, c, map[string]string{"Status": st}, d.want(func(r rec) bool { return r.Status == st }))
			})
		}
		for _, bad := range []string{"issue", "Revoke", "REVOKED", "ALL", "good"} {
			t.Run(mode+"/bad="+bad, func(t *testing.T) {
				_, err := call(t, c, "ListCert", map[string]string{"Status": bad})
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter.Status", "Status")
			})
		}
	}
}

func TestListCertFilterType(t *testing.T) {
	ts := startServer(t, 0)
	d := seed(t, ts.client(t, "v3"))
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, typ := range []string{"SERVER", "CLIENT", "END_ENTITY"} {
			t.Run(mode+"/"+typ, func(t *testing.T) {
				checkFilter(t, c, map[string]string{"Type": typ}, d.want(func(r rec) bool { return r.Type == typ }))
			})
		}
		for _, bad := range []string{"server", "Client", "ROOT", "SUB_ROOT", "free", "cas"} {
			t.Run(mode+"/bad="+bad, func(t *testing.T) {
				_, err := call(t, c, "ListCert", map[string]string{"Type": bad})
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter.Type", "Type")
			})
		}
	}
}

func TestListCertFilterInstanceUuid(t *testing.T) {
	ts := startServer(t, 0)
	d := seed(t, ts.client(t, "v3"))
	instA, instB := instanceOf(t, ts, d.SubA.ID), instanceOf(t, ts, d.SubB.ID)
	if instA == instB {
		t.Fatal("two sub-CAs share one instance")
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		t.Run(mode+"/known", func(t *testing.T) {
			checkFilter(t, c, map[string]string{"InstanceUuid": instA}, d.want(func(r rec) bool { return r.Sub == d.SubA.ID }))
			checkFilter(t, c, map[string]string{"InstanceUuid": instB}, d.want(func(r rec) bool { return r.Sub == d.SubB.ID }))
			// A UUID is well-formed in either case.
			checkFilter(t, c, map[string]string{"InstanceUuid": strings.ToUpper(instA)}, d.want(func(r rec) bool { return r.Sub == d.SubA.ID }))
			checkFilter(t, c, map[string]string{"InstanceUuid": instB, "Status": "REVOKE", "Type": "CLIENT"},
				d.want(func(r rec) bool { return r.Sub == d.SubB.ID && r.Status == "REVOKE" && r.Type == "CLIENT" }))
		})
		for _, unknown := range []string{"1ef79512-569b-6a4e-9105-9b91473562f7", "00000000-0000-0000-0000-000000000000", d.SubA.ID} {
			t.Run(mode+"/unknown="+unknown, func(t *testing.T) {
				checkFilter(t, c, map[string]string{"InstanceUuid": unknown}, nil)
			})
		}
		for _, bad := range []string{"not-a-uuid", "1ef79512569b6a4e91059b91473562f7", "1ef79512-569b-6a4e-9105-9b91473562f",
			"{1ef79512-569b-6a4e-9105-9b91473562f7}", "zzzzzzzz-569b-6a4e-9105-9b91473562f7", "1ef79512-569b-6a4e-9105-9b91473562f7x"} {
			t.Run(mode+"/malformed="+bad, func(t *testing.T) {
				_, err := call(t, c, "ListCert", map[string]string{"InstanceUuid": bad})
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter.InstanceUuid", "InstanceUuid")
			})
		}
	}
}

func TestListCertFilterParentIdentifier(t *testing.T) {
	ts := startServer(t, 0)
	d := seed(t, ts.client(t, "v3"))
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, sub := range []ca{d.SubA, d.SubB} {
			t.Run(mode+"/"+sub.Cert.Subject.CommonName, func(t *testing.T) {
				checkFilter(t, c, map[string]string{"ParentIdentifier": sub.ID}, d.want(func(r rec) bool { return r.Sub == sub.ID }))
				checkFilter(t, c, map[string]string{"ParentIdentifier": sub.ID, "Status": "ISSUE"},
					d.want(func(r rec) bool { return r.Sub == sub.ID && r.Status == "ISSUE" }))
			})
		}
		// Unknown identifiers, and a root (which issues no end-entity
		// certificates), give an empty list, not an error.
		for _, unknown := range []string{"01a2b3c4-0000-7000-8000-000000000000", "no-such-ca", d.Root.ID} {
			t.Run(mode+"/empty="+unknown, func(t *testing.T) {
				checkFilter(t, c, map[string]string{"ParentIdentifier": unknown}, nil)
			})
		}
	}
}

// TestListCertDateWindow pins AfterDate (inclusive) and BeforeDate
// (exclusive) on the last-change time, to the second, with the service's
// clock under control.
func TestListCertDateWindow(t *testing.T) {
	clock := &fakeClock{}
	day0 := time.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -3)
	day1, day2 := day0.AddDate(0, 0, 1), day0.AddDate(0, 0, 2)
	clock.Set(day0.Add(time.Hour))
	ts := startServerClock(t, clock)
	c := ts.client(t, "v3")
	_, sub := hierarchy(t, c)

	clock.Set(day0.Add(2 * time.Hour))
	x := issueServer(t, c, sub.ID, nil) // issued on day0, revoked on day2
	clock.Set(day1)
	y := issueClient(t, c, sub.ID, nil) // exactly midnight of day1
	clock.Set(day1.Add(30 * time.Minute))
	z := issueServer(t, c, sub.ID, nil)
	clock.Set(day2.Add(10 * time.Second))
	revoke(t, c, x)
	clock.Set(day2.Add(time.Hour))

	// Last changes: y = day1 00:00:00, z = day1 00:30:00, x = day2 00:00:10.
	d := func(t time.Time) string { return t.Format(time.DateOnly) }
	dt := func(t time.Time) string { return t.Format(time.DateTime) }
	cases := []struct {
		name  string
		q     map[string]string
		want  []string
		sound string
	}{
		{"after-day1-date", map[string]string{"AfterDate": d(day1)}, []string{z, y, x}, "inclusive at midnight"},
		{"after-day1-datetime", map[string]string{"AfterDate": dt(day1)}, []string{z, y, x}, "same instant, other format"},
		{"after-day1+1s", map[string]string{"AfterDate": dt(day1.Add(time.Second))}, []string{z, x}, ""},
		{"after-z-exact", map[string]string{"AfterDate": dt(day1.Add(30 * time.Minute))}, []string{z, x}, "inclusive"},
		{"before-day1-date", map[string]string{"BeforeDate": d(day1)}, nil, "exclusive; x moved to day2 by its revocation"},
		{"before-day1+1s", map[string]string{"BeforeDate": dt(day1.Add(time.Second))}, []string{y}, ""},
		{"before-z-exact", map[string]string{"BeforeDate": dt(day1.Add(30 * time.Minute))}, []string{y}, "exclusive"},
		{"before-day2-date", map[string]string{"BeforeDate": d(day2)}, []string{z, y}, ""},
		{"window-z", map[string]string{"AfterDate": dt(day1.Add(30 * time.Minute)), "BeforeDate": d(day2)}, []string{z}, ""},
		{"after-day2-revocation-counts", map[string]string{"AfterDate": d(day2)}, []string{x}, "a revocation is a change"},
		{"after-x-exact", map[string]string{"AfterDate": dt(day2.Add(10 * time.Second))}, []string{x}, ""},
		{"before-x-exact", map[string]string{"AfterDate": d(day2), "BeforeDate": dt(day2.Add(10 * time.Second))}, nil, ""},
		{"empty-window", map[string]string{"AfterDate": dt(day1), "BeforeDate": dt(day1)}, nil, "equal bounds are valid and empty"},
		{"day0-only", map[string]string{"AfterDate": d(day0), "BeforeDate": d(day1)}, nil, "x was issued on day0 but changed on day2"},
		{"all", map[string]string{"AfterDate": d(day0), "BeforeDate": d(day2.AddDate(0, 0, 1))}, []string{z, y, x}, ""},
		{"with-status", map[string]string{"AfterDate": d(day1), "Status": "ISSUE"}, []string{z, y}, ""},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range cases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				if tc.sound != "" {
					t.Log(tc.sound)
				}
				checkFilter(t, c, tc.q, tc.want)
			})
		}
	}
}

func TestListCertDateFormats(t *testing.T) {
	ts := startServer(t, 0)
	c0 := ts.client(t, "v3")
	_, sub := hierarchy(t, c0)
	ids := []string{issueServer(t, c0, sub.ID, nil), issueClient(t, c0, sub.ID, nil)}
	now := time.Now().UTC()
	today, tomorrow := now.Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly)
	ago := now.Add(-time.Hour).Format(time.DateTime)
	soon := now.Add(time.Hour).Format(time.DateTime)
	everything := reversed(ids)
	good := []struct {
		name string
		q    map[string]string
		want []string
	}{
		{"after-today", map[string]string{"AfterDate": today}, everything},
		{"after-tomorrow", map[string]string{"AfterDate": tomorrow}, nil},
		{"before-today", map[string]string{"BeforeDate": today}, nil},
		{"before-tomorrow", map[string]string{"BeforeDate": tomorrow}, everything},
		{"after-an-hour-ago", map[string]string{"AfterDate": ago}, everything},
		{"before-an-hour-ago", map[string]string{"BeforeDate": ago}, nil},
		{"window-datetime", map[string]string{"AfterDate": ago, "BeforeDate": soon}, everything},
		{"window-mixed", map[string]string{"AfterDate": today, "BeforeDate": soon}, everything},
	}
	bad := []string{"2024/05/13", "2024-05-13T12:59:45Z", "2024-05-13T12:59:45", "2024-05-13 12:59", "13-05-2024",
		"2024-13-01", "2024-02-30", "2024-05-13 24:00:00", "20240513", "yesterday", "2024-05-13 12:59:45.123", "2024-05-13 12:59:45,5",
		"2024-5-3", "2024-05-13 12:59:45 +0800", "1715605185"}
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range good {
			t.Run(mode+"/"+tc.name, func(t *testing.T) { checkFilter(t, c, tc.q, tc.want) })
		}
		for _, param := range []string{"AfterDate", "BeforeDate"} {
			for _, v := range bad {
				t.Run(mode+"/"+param+"="+v, func(t *testing.T) {
					_, err := call(t, c, "ListCert", map[string]string{param: v})
					wantErr(t, err, http.StatusBadRequest, "InvalidParameter."+param, param)
				})
			}
		}
		t.Run(mode+"/after-later-than-before", func(t *testing.T) {
			for _, q := range []map[string]string{
				{"AfterDate": tomorrow, "BeforeDate": today},
				{"AfterDate": soon, "BeforeDate": ago},
				{"AfterDate": today + " 00:00:01", "BeforeDate": today},
			} {
				_, err := call(t, c, "ListCert", q)
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter", "AfterDate", "BeforeDate")
			}
		})
	}
}

func TestListCertBadNumbers(t *testing.T) {
	ts := startServer(t, 0)
	c0 := ts.client(t, "v3")
	_, sub := hierarchy(t, c0)
	issueServer(t, c0, sub.ID, nil)
	bad := []struct{ param, value string }{
		{"ShowSize", "0"}, {"ShowSize", "1001"}, {"ShowSize", "abc"}, {"ShowSize", "-1"}, {"ShowSize", "1.5"},
		{"ShowSize", "10abc"}, {"ShowSize", "1e2"}, {"ShowSize", "99999999999999999999"},
		{"MaxResults", "0"}, {"MaxResults", "1001"}, {"MaxResults", "abc"}, {"MaxResults", "-5"}, {"MaxResults", "2.0"},
		{"CurrentPage", "0"}, {"CurrentPage", "-1"}, {"CurrentPage", "abc"}, {"CurrentPage", "1.0"},
	}
	good := []struct{ param, value string }{
		{"ShowSize", "1"}, {"ShowSize", "1000"}, {"MaxResults", "1"}, {"MaxResults", "1000"}, {"CurrentPage", "1"}, {"CurrentPage", "1000"},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range bad {
			t.Run(mode+"/"+tc.param+"="+tc.value, func(t *testing.T) {
				_, err := call(t, c, "ListCert", map[string]string{tc.param: tc.value})
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter."+tc.param, tc.param)
			})
		}
		for _, tc := range good {
			t.Run(mode+"/ok/"+tc.param+"="+tc.value, func(t *testing.T) {
				b := list(t, c, map[string]string{tc.param: tc.value})
				if jInt(t, b, "TotalCount") != 1 {
					t.Errorf("TotalCount %v, want 1", b["TotalCount"])
				}
				if tc.param != "CurrentPage" {
					if got := jInt(t, b, tc.param); strconv.FormatInt(got, 10) != tc.value {
						t.Errorf("%s echoed as %d, want %s (never clamped)", tc.param, got, tc.value)
					}
				}
			})
		}
	}
}

func TestListCertPagePastEnd(t *testing.T) {
	ts := startServer(t, 0)
	seed(t, ts.client(t, "v3"))
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, q := range []map[string]string{
			{"CurrentPage": "2"},
			{"CurrentPage": "4", "ShowSize": "3"},
			{"CurrentPage": "100000", "ShowSize": "1000"},
			{"CurrentPage": "2147483647"},
			{"CurrentPage": "3", "ShowSize": "2", "Status": "REVOKE"},
		} {
			t.Run(fmt.Sprint(mode, q), func(t *testing.T) {
				b := list(t, c, q)
				if l := jArr(t, b, "List"); len(l) != 0 {
					t.Errorf("page past the end holds %d items", len(l))
				}
				want := int64(8)
				if q["Status"] == "REVOKE" {
					want = 3
				}
				if got := jInt(t, b, "TotalCount"); got != want {
					t.Errorf("TotalCount %d past the end, want the true %d", got, want)
				}
				if got := jInt(t, b, "CurrentPage"); strconv.FormatInt(got, 10) != q["CurrentPage"] {
					t.Errorf("CurrentPage %d, want %s", got, q["CurrentPage"])
				}
			})
		}
	}
}

func TestListCertNewestFirst(t *testing.T) {
	ts := startServer(t, 0)
	d := seed(t, ts.client(t, "v3"))
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			for _, q := range []map[string]string{nil, {"NextToken": ""}} {
				b := list(t, c, q)
				if got := listIDs(t, b); !equalStrings(got, d.want(all)) {
					t.Errorf("order %v, want newest first %v", got, d.want(all))
				}
				var prev int64 = 1 << 62
				for _, it := range jObjects(t, b, "List") {
					s := jStr(t, it, "Id")
					if !digitsRe.MatchString(s) {
						t.Fatalf("Id %q is not a string of digits", s)
					}
					n, _ := strconv.ParseInt(s, 10, 64)
					if n >= prev {
						t.Errorf("Id %d after %d: not descending", n, prev)
					}
					prev = n
				}
			}
		})
	}
}

func TestListCertTokenStableUnderInserts(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			c := ts.client(t, mode)
			_, sub := hierarchy(t, c)
			var old []string
			for range 7 {
				old = append(old, issueServer(t, c, sub.ID, nil))
			}
			want := reversed(old)

			b := list(t, c, map[string]string{"MaxResults": "3"})
			seen := listIDs(t, b)
			tok := jStr(t, b, "NextToken")
			// New certificates arrive (newer than everything seen), and one
			// already seen and one not yet seen are revoked.
			added := []string{issueServer(t, c, sub.ID, nil), issueClient(t, c, sub.ID, nil)}
			revoke(t, c, want[0])
			revoke(t, c, want[5])
			for pages := 0; tok != ""; pages++ {
				b = list(t, c, map[string]string{"MaxResults": "3", "NextToken": tok})
				if got := jInt(t, b, "TotalCount"); got != 9 {
					t.Errorf("TotalCount %d after inserts, want 9", got)
				}
				seen = append(seen, listIDs(t, b)...)
				tok = jStr(t, b, "NextToken")
				if pages > 10 {
					t.Fatal("token walk does not end")
				}
			}
			if !equalStrings(seen, want) {
				t.Errorf("walk across inserts gave %v, want each original certificate once, in order: %v", seen, want)
			}
			for _, a := range added {
				if slices.Contains(seen, a) {
					t.Errorf("certificate %s inserted after the walk began was visited", a)
				}
			}

			// The same with a Status filter: a certificate revoked before
			// the walk reaches it leaves the ISSUE set; nothing else moves.
			b = list(t, c, map[string]string{"MaxResults": "2", "Status": "ISSUE"})
			first := listIDs(t, b)
			tok = jStr(t, b, "NextToken")
			revoke(t, c, want[3])
			added = append(added, issueServer(t, c, sub.ID, nil))
			rest := []string{}
			for tok != "" {
				b = list(t, c, map[string]string{"MaxResults": "2", "Status": "ISSUE", "NextToken": tok})
				rest = append(rest, listIDs(t, b)...)
				tok = jStr(t, b, "NextToken")
			}
			wantIssue := []string{added[1], added[0], want[1], want[2], want[4], want[6]}
			if got := append(first, rest...); !equalStrings(got, wantIssue) {
				t.Errorf("ISSUE walk gave %v, want %v", got, wantIssue)
			}
		})
	}
}

func TestListCertBadToken(t *testing.T) {
	ts := startServer(t, 0)
	c0 := ts.client(t, "v3")
	d := seed(t, c0)
	token := func(c *openapiclient.Client, q map[string]string) string {
		t.Helper()
		tok := jStr(t, list(t, c, with(q, map[string]string{"MaxResults": "2"})), "NextToken")
		if tok == "" {
			t.Fatalf("no NextToken for %v", q)
		}
		return tok
	}
	tok := token(c0, nil)
	issueTok := token(c0, map[string]string{"Status": "ISSUE"})
	// A token from another pcad (another server key) for the same account id.
	ts2 := startServer(t, 0)
	seed(t, ts2.client(t, "v3"))
	foreignServerTok := token(ts2.client(t, "v3"), nil)

	random := make([]byte, 24)
	rand.Read(random)
	// flip changes the top data bit of one base64url character (never only
	// padding bits, which a lenient decoder would ignore).
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	flip := func(s string, i int) string {
		b := []byte(s)
		b[i] = alphabet[strings.IndexByte(alphabet, b[i])^0x20]
		return string(b)
	}
	cases := []struct {
		name string
		q    map[string]string
	}{
		{"garbage", map[string]string{"NextToken": "!!not a token!!"}},
		{"short", map[string]string{"NextToken": "abc"}},
		{"random", map[string]string{"NextToken": base64.RawURLEncoding.EncodeToString(random)}},
		{"truncated", map[string]string{"NextToken": tok[:len(tok)-2]}},
		{"truncated-front", map[string]string{"NextToken": tok[2:]}},
		{"extended", map[string]string{"NextToken": tok + "AA"}},
		{"tampered-first", map[string]string{"NextToken": flip(tok, 0)}},
		{"tampered-last", map[string]string{"NextToken": flip(tok, len(tok)-1)}},
		{"std-base64", map[string]string{"NextToken": base64.StdEncoding.EncodeToString([]byte(tok))}},
		{"filter-added-status", map[string]string{"NextToken": tok, "Status": "ISSUE"}},
		{"filter-added-type", map[string]string{"NextToken": tok, "Type": "SERVER"}},
		{"filter-added-parent", map[string]string{"NextToken": tok, "ParentIdentifier": d.SubA.ID}},
		{"filter-added-date", map[string]string{"NextToken": tok, "AfterDate": "2020-01-01"}},
		{"filter-removed", map[string]string{"NextToken": issueTok}},
		{"filter-changed", map[string]string{"NextToken": issueTok, "Status": "REVOKE"}},
		{"other-server", map[string]string{"NextToken": foreignServerTok}},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range cases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				_, err := call(t, c, "ListCert", tc.q)
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter.NextToken", "NextToken")
			})
		}
		t.Run(mode+"/other-account", func(t *testing.T) {
			other := otherAccount(t, ts, mode)
			_, err := call(t, other, "ListCert", map[string]string{"NextToken": tok})
			wantErr(t, err, http.StatusBadRequest, "InvalidParameter.NextToken", "NextToken")
			_, err = call(t, other, "ListCert", map[string]string{"NextToken": tok, "MaxResults": "5"})
			wantErr(t, err, http.StatusBadRequest, "InvalidParameter.NextToken", "NextToken")
		})
		t.Run(mode+"/controls", func(t *testing.T) {
			// The genuine tokens work with their own filters.
			if got := listIDs(t, list(t, c, map[string]string{"NextToken": tok})); !equalStrings(got, d.want(all)[2:]) {
				t.Errorf("genuine token: %v", got)
			}
			issue := d.want(func(r rec) bool { return r.Status == "ISSUE" })
			if got := listIDs(t, list(t, c, map[string]string{"NextToken": issueTok, "Status": "ISSUE"})); !equalStrings(got, issue[2:]) {
				t.Errorf("genuine ISSUE token: %v, want %v", got, issue[2:])
			}
		})
	}
}

func TestListCertTotalCountExact(t *testing.T) {
	ts := startServer(t, 0)
	d := seed(t, ts.client(t, "v3"))
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			for _, st := range []string{"", "ISSUE", "REVOKE"} {
				for _, typ := range []string{"", "SERVER", "CLIENT", "END_ENTITY"} {
					for _, sub := range []string{"", d.SubA.ID, d.SubB.ID} {
						q := map[string]string{}
						for k, v := range map[string]string{"Status": st, "Type": typ, "ParentIdentifier": sub} {
							if v != "" {
								q[k] = v
							}
						}
						want := int64(len(d.want(func(r rec) bool {
							return (st == "" || r.Status == st) && (typ == "" || r.Type == typ) && (sub == "" || r.Sub == sub)
						})))
						for _, extra := range []map[string]string{{"ShowSize": "1"}, {"MaxResults": "1"}} {
							if got := total(t, c, with(q, extra)); got != want {
								t.Errorf("filter %v %v: TotalCount %d, want %d", q, extra, got, want)
							}
						}
					}
				}
			}
		})
	}
}

func TestListCertRevokedCounted(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ts := startServer(t, 0)
			c := ts.client(t, mode)
			_, sub := hierarchy(t, c)
			ids := []string{issueServer(t, c, sub.ID, nil), issueClient(t, c, sub.ID, nil), issueServer(t, c, sub.ID, nil), issueClient(t, c, sub.ID, nil)}
			counts := func() [3]int64 {
				return [3]int64{total(t, c, nil), total(t, c, map[string]string{"Status": "ISSUE"}), total(t, c, map[string]string{"Status": "REVOKE"})}
			}
			if got := counts(); got != [3]int64{4, 4, 0} {
				t.Errorf("before revoking: all/ISSUE/REVOKE = %v, want [4 4 0]", got)
			}
			revoke(t, c, ids[1])
			if got := counts(); got != [3]int64{4, 3, 1} {
				t.Errorf("after one revocation: %v, want [4 3 1]", got)
			}
			revoke(t, c, ids[2])
			if got := counts(); got != [3]int64{4, 2, 2} {
				t.Errorf("after two revocations: %v, want [4 2 2]", got)
			}
			b := list(t, c, map[string]string{"Status": "REVOKE"})
			if got := listIDs(t, b); !equalStrings(got, []string{ids[2], ids[1]}) {
				t.Errorf("REVOKE list %v", got)
			}
			for _, it := range jObjects(t, b, "List") {
				if jStr(t, it, "Status") != "REVOKE" {
					t.Errorf("item %v in the REVOKE list has Status %v", it["Identifier"], it["Status"])
				}
			}
			if got := total(t, c, map[string]string{"Status": "REVOKE", "Type": "SERVER"}); got != 1 {
				t.Errorf("REVOKE+SERVER %d, want 1", got)
			}
			if got := total(t, c, map[string]string{"Status": "ISSUE", "Type": "CLIENT"}); got != 1 {
				t.Errorf("ISSUE+CLIENT %d, want 1", got)
			}
		})
	}
}

func TestListCertNoCACertificates(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			lone := createRoot(t, c, "ECC_256", nil)
			root, sub := hierarchy(t, c)
			cas := []string{lone.ID, root.ID, sub.ID}
			before := total(t, c, nil)
			for _, q := range []map[string]string{nil, {"Type": "END_ENTITY"}, {"Status": "ISSUE"}, {"ParentIdentifier": root.ID}, {"NextToken": ""}} {
				b := list(t, c, q)
				for _, id := range listIDs(t, b) {
					if slices.Contains(cas, id) {
						t.Errorf("ListCert %v lists the CA %s", q, id)
					}
				}
			}
			leaf := issueServer(t, c, sub.ID, nil)
			b := list(t, c, nil)
			if got := jInt(t, b, "TotalCount"); got != before+1 {
				t.Errorf("TotalCount %d, want %d: CAs must not count", got, before+1)
			}
			if ids := listIDs(t, b); len(ids) == 0 || ids[0] != leaf {
				t.Errorf("newest item %v, want the leaf %s", ids, leaf)
			}
			for _, it := range jObjects(t, b, "List") {
				if typ := jStr(t, it, "CertificateType"); typ != "SERVER" && typ != "CLIENT" {
					t.Errorf("CertificateType %q in ListCert", typ)
				}
			}
			if got := total(t, c, map[string]string{"Type": "END_ENTITY"}); got != 0 {
				t.Errorf("END_ENTITY %d, want 0 (no CreateCustomCertificate yet)", got)
			}
		})
	}
}

func TestListCertTenantIsolation(t *testing.T) {
	ts := startServer(t, 0)
	a := ts.client(t, "v3")
	d := seed(t, a)
	instA := instanceOf(t, ts, d.SubA.ID)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			b := otherAccount(t, ts, mode)
			for _, q := range []map[string]string{nil, {"NextToken": ""}, {"Status": "ISSUE"}, {"ParentIdentifier": d.SubA.ID},
				{"InstanceUuid": instA}, {"AfterDate": "2000-01-01"}} {
				res := list(t, b, q)
				if n := jInt(t, res, "TotalCount"); n != 0 || len(jArr(t, res, "List")) != 0 {
					t.Errorf("other account sees %d certificates with %v", n, q)
				}
			}
			leaf := d.Certs[0].ID
			_, err := call(t, b, "DescribeClientCertificate", map[string]string{"Identifier": leaf})
			wantErr(t, err, http.StatusNotFound, "NotFound.Certificate", "Identifier")
			_, err = call(t, b, "CreateRevokeClientCertificate", map[string]string{"Identifier": leaf})
			wantErr(t, err, http.StatusNotFound, "NotFound.Certificate", "Identifier")
			_, err = call(t, b, "DescribeCACertificate", map[string]string{"Identifier": d.SubA.ID})
			wantErr(t, err, http.StatusNotFound, "NotFound.CA", "Identifier")
			_, err = call(t, b, "CreateServerCertificate", serverParams(d.SubA.ID))
			wantErr(t, err, http.StatusNotFound, "NotFound.CA", "ParentIdentifier")
			_, err = call(t, b, "CreateSubCACertificate", subParams(d.Root.ID, "ECC_256"))
			wantErr(t, err, http.StatusNotFound, "NotFound.CA", "ParentIdentifier")

			// The other account's own certificates are its own.
			_, subB := hierarchy(t, b)
			mine := issueClient(t, b, subB.ID, nil)
			if got := listIDs(t, list(t, b, nil)); !equalStrings(got, []string{mine}) {
				t.Errorf("other account lists %v, want only its own %s", got, mine)
			}
			// And the first account is untouched.
			if got := listIDs(t, list(t, a, nil)); !equalStrings(got, d.want(all)) {
				t.Errorf("first account now lists %v", got)
			}
			st := jStr(t, jObj(t, mustCall(t, a, "DescribeClientCertificate", map[string]string{"Identifier": leaf}), "Certificate"), "Status")
			if st != "ISSUE" {
				t.Errorf("a foreign revoke changed the status to %s", st)
			}
		})
	}
}

// TestListCertItemFields checks every List item field's JSON type and value
// against the issued certificate (spec/listcert.md, Response).
func TestListCertItemFields(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			_, sub := hierarchy(t, c)
			srvB := mustCall(t, c, "CreateServerCertificate", with(serverParams(sub.ID), map[string]string{
				"Domain": "api.example.com", "Organization": "Example Org", "OrganizationUnit": "Web",
				"CustomIdentifier": "item-srv-" + mode, "Tags.1.Key": "env", "Tags.1.Value": "prod", "Tags.2.Key": "team", "Tags.2.Value": "pki"}))
			cliB := mustCall(t, c, "CreateClientCertificate", with(clientParams(sub.ID), map[string]string{
				"AliasName": "alias-" + mode, "CustomIdentifier": "item-cli-" + mode, "SanType": "1", "SanValue": "a@example.com"}))
			revoke(t, c, jStr(t, cliB, "Identifier"))

			items := jObjects(t, list(t, c, map[string]string{"ParentIdentifier": sub.ID}), "List")
			if len(items) != 2 {
				t.Fatalf("%d items, want 2", len(items))
			}
			for i, tc := range []struct {
				body          map[string]any
				typ, status   string
				alias, custom string
				tags          []map[string]string
				org, ou, cn   string
			}{
				{cliB, "CLIENT", "REVOKE", "alias-" + mode, "item-cli-" + mode, nil, "pcad", "QA", "alice"},
				{srvB, "SERVER", "ISSUE", "", "item-srv-" + mode, []map[string]string{{"env": "prod"}, {"team": "pki"}}, "Example Org", "Web", "www.example.com"},
			} {
				it := items[i]
				cert := parsePEM(t, jStr(t, tc.body, "X509Certificate"))
				id := jStr(t, it, "Id")
				if !digitsRe.MatchString(id) {
					t.Errorf("Id %q is not a JSON string of digits", id)
				}
				desc := jObj(t, mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": jStr(t, it, "Identifier")}), "Certificate")
				if want := jInt(t, desc, "Id"); id != strconv.FormatInt(want, 10) {
					t.Errorf("ListCert Id %q, DescribeClientCertificate Id %d: the same internal id", id, want)
				}
				strs := map[string]string{
					"Identifier": jStr(t, tc.body, "Identifier"), "SerialNumber": cert.SerialNumber.Text(16),
					"Status": tc.status, "CertificateType": tc.typ, "CommonName": tc.cn, "Organization": tc.org,
					"OrganizationUnit": tc.ou, "SubjectDn": cert.Subject.String(), "Algorithm": "ECC",
					"BeforeDate": cert.NotBefore.UTC().Format(time.DateTime), "AfterDate": cert.NotAfter.UTC().Format(time.DateTime),
					"AliasName": tc.alias, "CustomIdentifier": tc.custom,
				}
				for k, want := range strs {
					if got := jStr(t, it, k); got != want {
						t.Errorf("item %d %s = %q, want %q", i, k, got, want)
					}
				}
				if !lowerHexRe.MatchString(jStr(t, it, "SerialNumber")) {
					t.Errorf("SerialNumber %q is not lower-case hex", it["SerialNumber"])
				}
				if !jBool(t, it, "KeyExportable") {
					t.Errorf("KeyExportable false for a service-generated key")
				}
				if got := jInt(t, it, "BeforeTime"); got != cert.NotBefore.UnixMilli() {
					t.Errorf("BeforeTime %d, want %d ms", got, cert.NotBefore.UnixMilli())
				}
				if got := jInt(t, it, "AfterTime"); got != cert.NotAfter.UnixMilli() {
					t.Errorf("AfterTime %d, want %d ms", got, cert.NotAfter.UnixMilli())
				}
				if extra := jStr(t, it, "Extra"); extra != "" && !json.Valid([]byte(extra)) {
					t.Errorf("Extra %q is not JSON text", extra)
				}
				// Tags: an array of strings, each the JSON text of one object.
				raw := jArr(t, it, "Tags")
				if len(raw) != len(tc.tags) {
					t.Fatalf("Tags %v, want %d entries", raw, len(tc.tags))
				}
				for j, v := range raw {
					s, ok := v.(string)
					if !ok {
						t.Fatalf("Tags[%d] = %#v (%T): must be a string holding JSON text, never an object", j, v, v)
					}
					var obj map[string]string
					if err := json.Unmarshal([]byte(s), &obj); err != nil {
						t.Fatalf("Tags[%d] %q is not the JSON text of an object: %v", j, s, err)
					}
					if fmt.Sprint(obj) != fmt.Sprint(tc.tags[j]) {
						t.Errorf("Tags[%d] = %v, want %v", j, obj, tc.tags[j])
					}
				}
			}
		})
	}
}
