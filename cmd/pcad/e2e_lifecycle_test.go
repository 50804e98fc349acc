package main

// Certificate lifecycle actions (spec B.3) through the official client in
// both signature modes: delete, status lookups, lookups by serial, the two
// paged lists, UpdatePcaCertificate, UploadPcaCertToCas and the private-key
// export, with strict JSON types and the per-operation date forms of C.7.

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// ---- helpers (lc: lifecycle) ------------------------------------------------

// lcBodyToken are the actions whose SDK model sends ClientToken in a form
// body (spec A.1).
var lcBodyToken = map[string]bool{
	"CreateClientCertificate": true,
	"CreateSubCACertificate":  true,
	"UpdatePcaCertificate":    true,
}

// lcCall is call with ClientToken in the body for every action of
// lcBodyToken (call only knows the first two).
func lcCall(t *testing.T, c *openapiclient.Client, action string, q map[string]string) (map[string]any, error) {
	t.Helper()
	q = maps.Clone(q)
	var form map[string]string
	if tok, ok := q["ClientToken"]; ok && lcBodyToken[action] {
		delete(q, "ClientToken")
		form = map[string]string{"ClientToken": tok}
	}
	res, err := callFull(t, c, action, q, form)
	if err != nil {
		return nil, err
	}
	if res.Status != http.StatusOK {
		t.Fatalf("%s: success with HTTP status %d", action, res.Status)
	}
	if _, ok := res.Body["Code"]; ok {
		t.Fatalf("%s: a 200 answer carries an error Code: %v", action, res.Body)
	}
	requestID(t, res.Body)
	return res.Body, nil
}

func lcMust(t *testing.T, c *openapiclient.Client, action string, q map[string]string) map[string]any {
	t.Helper()
	b, err := lcCall(t, c, action, q)
	if err != nil {
		t.Fatalf("%s %v: %v", action, q, describeErr(err))
	}
	return b
}

// lcKeys checks that m has exactly the fields want.
func lcKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	got := keysOf(m)
	sort.Strings(got)
	w := slices.Clone(want)
	sort.Strings(w)
	if !slices.Equal(got, w) {
		t.Errorf("%s fields\n got %v\nwant %v", what, got, w)
	}
}

// lcOnlyRequestID checks an answer that B.3/B.4 define as RequestId only.
func lcOnlyRequestID(t *testing.T, action string, b map[string]any) {
	t.Helper()
	lcKeys(t, action+" answer", b, "RequestId")
}

// lcDescribe returns DescribeClientCertificate's Certificate object.
func lcDescribe(t *testing.T, c *openapiclient.Client, id string) map[string]any {
	t.Helper()
	return jObj(t, mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": id}), "Certificate")
}

// lcSerial returns a certificate's serial as DescribeClientCertificate gives it.
func lcSerial(t *testing.T, c *openapiclient.Client, id string) string {
	t.Helper()
	return jStr(t, lcDescribe(t, c, id), "SerialNumber")
}

// lcAccount returns a client of a fresh account (exact totals per test)
// and the account's service Actor.
func lcAccount(t *testing.T, ts *testServer, mode string) (*openapiclient.Client, service.Actor) {
	t.Helper()
	key, act := lcAccountKey(t, ts)
	return clientFor(t, ts, mode, key.ID, key.Secret), act
}

// lcAccountKey creates an account and returns its owner's AccessKey and Actor.
func lcAccountKey(t *testing.T, ts *testServer) (pca.AccessKey, service.Actor) {
	t.Helper()
	_, key, err := ts.app.svc.CreateAccount(context.Background(), fmt.Sprintf("lc-%d", accountSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return key, service.Actor{AccountID: key.AccountID, PrincipalID: key.PrincipalID}
}

// lcBad runs one refused call and checks its code, status and message.
type lcBad struct {
	name    string
	params  map[string]string
	status  int
	code    string
	mention []string
}

func lcRunBad(t *testing.T, c *openapiclient.Client, action string, cases []lcBad) {
	t.Helper()
	for _, tc := range cases {
		t.Run("bad/"+tc.name, func(t *testing.T) {
			_, err := lcCall(t, c, action, tc.params)
			wantErr(t, err, tc.status, tc.code, tc.mention...)
		})
	}
}

// lcCertRows counts the certificate rows of the store (nothing may change
// on a refused request).
func lcRows(t *testing.T, ts *testServer, table string) int64 {
	t.Helper()
	var n int64
	if err := ts.app.store.DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

var (
	lcMinuteRe = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\dZ$`)
	lcDayRe    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT00:00Z$`)
)

// ---- DeleteClientCertificate --------------------------------------------------

func TestLifecycleDeleteClientCertificate(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c, _ := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			_, sub := hierarchy(t, c)
			live := issueClient(t, c, sub.ID, nil)
			doomed := issueServer(t, c, sub.ID, nil)
			serial := lcSerial(t, c, doomed)

			// Only a revoked certificate can be deleted.
			_, err := call(t, c, "DeleteClientCertificate", map[string]string{"Identifier": doomed})
			wantErr(t, err, http.StatusBadRequest, "OperationDenied.CertificateNotRevoked", doomed)
			revoke(t, c, doomed)

			before := lcRows(t, ts, "certificates")
			lcRunBad(t, c, "DeleteClientCertificate", []lcBad{
				{"missing-identifier", nil, 400, "MissingParameter", []string{"Identifier"}},
				{"unknown", map[string]string{"Identifier": "01234567-89ab-7cde-8f01-000000000000"}, 404, "NotFound.Certificate", []string{"Identifier"}},
				{"too-long", map[string]string{"Identifier": strings.Repeat("a", 65)}, 400, "InvalidParameter.Identifier", []string{"Identifier"}},
			})
			t.Run("other-account", func(t *testing.T) {
				_, err := call(t, other, "DeleteClientCertificate", map[string]string{"Identifier": doomed})
				wantErr(t, err, http.StatusNotFound, "NotFound.Certificate")
			})
			if after := lcRows(t, ts, "certificates"); after != before {
				t.Fatalf("refused deletes changed the certificate rows: %d -> %d", before, after)
			}

			lcOnlyRequestID(t, "DeleteClientCertificate", mustCall(t, c, "DeleteClientCertificate", map[string]string{"Identifier": doomed}))

			// Gone from the inventory...
			_, err = call(t, c, "DescribeClientCertificate", map[string]string{"Identifier": doomed})
			wantErr(t, err, http.StatusNotFound, "NotFound.Certificate")
			if ids := listIDs(t, list(t, c, nil)); !slices.Equal(ids, []string{live}) {
				t.Errorf("ListCert after delete = %v, want only %s", ids, live)
			}
			if n := jInt(t, mustCall(t, c, "ListRevokeCertificate", nil), "TotalCount"); n != 0 {
				t.Errorf("ListRevokeCertificate TotalCount %d after the only revoked certificate was deleted", n)
			}
			_, err = call(t, c, "DeleteClientCertificate", map[string]string{"Identifier": doomed})
			wantErr(t, err, http.StatusNotFound, "NotFound.Certificate")
			// ...but still revoked for whoever asks by serial.
			st := jObjects(t, mustCall(t, c, "DescribeClientCertificateStatusForSerialNumber", map[string]string{"SerialNumber": serial}), "CertificateStatus")
			if len(st) != 1 || jStr(t, st[0], "Status") != "revoked" || !near(time.UnixMilli(jInt(t, st[0], "RevokeTime"))) {
				t.Errorf("status by serial after delete = %v, want revoked with a RevokeTime of now", st)
			}
			st = jObjects(t, mustCall(t, c, "DescribeClientCertificateStatus", map[string]string{"Identifier": doomed}), "CertificateStatus")
			if len(st) != 1 || jStr(t, st[0], "Status") != "unknown" {
				t.Errorf("status by identifier after delete = %v, want unknown", st)
			}
		})
	}
}

// ---- DescribeClientCertificateStatus[ForSerialNumber] ---------------------------

func TestLifecycleCertificateStatus(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			c, act := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			root, sub := hierarchy(t, c)
			sub2 := createSub(t, c, root.ID, "ECC_256", map[string]string{"CommonName": "Sub Two"})
			good := issueClient(t, c, sub.ID, nil)
			srv := issueServer(t, c, sub.ID, nil)
			rev := issueClient(t, c, sub.ID, nil)
			under2 := issueClient(t, c, sub2.ID, nil)
			revoke(t, c, rev)
			sn := map[string]string{}
			for _, id := range []string{good, srv, rev, under2} {
				sn[id] = lcSerial(t, c, id)
			}
			revAt := time.UnixMilli(jInt(t, lcStatusOne(t, c, rev), "RevokeTime"))

			type entry struct{ serial, status string }
			cases := []struct {
				name   string
				action string
				param  string
				value  string
				want   []entry
			}{
				{"id/good", "DescribeClientCertificateStatus", "Identifier", good, []entry{{sn[good], "good"}}},
				{"id/server-good", "DescribeClientCertificateStatus", "Identifier", srv, []entry{{sn[srv], "good"}}},
				{"id/revoked", "DescribeClientCertificateStatus", "Identifier", rev, []entry{{sn[rev], "revoked"}}},
				{"id/unknown", "DescribeClientCertificateStatus", "Identifier", "no-such-id", []entry{{"", "unknown"}}},
				{"id/ca-is-not-a-certificate", "DescribeClientCertificateStatus", "Identifier", sub.ID, []entry{{"", "unknown"}}},
				{"id/list-spaces-repeats", "DescribeClientCertificateStatus", "Identifier", " " + good + " , " + rev + ",," + good + ", nope ",
					[]entry{{sn[good], "good"}, {sn[rev], "revoked"}, {"", "unknown"}}},
				{"serial/good", "DescribeClientCertificateStatusForSerialNumber", "SerialNumber", sn[good], []entry{{sn[good], "good"}}},
				{"serial/upper-case-leading-zeros", "DescribeClientCertificateStatusForSerialNumber", "SerialNumber", "000" + strings.ToUpper(sn[rev]),
					[]entry{{sn[rev], "revoked"}}},
				{"serial/unknown", "DescribeClientCertificateStatusForSerialNumber", "SerialNumber", "abcdef0123", []entry{{"abcdef0123", "unknown"}}},
				{"serial/list", "DescribeClientCertificateStatusForSerialNumber", "SerialNumber", sn[srv] + "," + sn[rev] + ", 1",
					[]entry{{sn[srv], "good"}, {sn[rev], "revoked"}, {"1", "unknown"}}},
			}
			check := func(t *testing.T, b map[string]any, want []entry) {
				t.Helper()
				lcKeys(t, "answer", b, "RequestId", "CertificateStatus")
				got := jObjects(t, b, "CertificateStatus")
				if len(got) != len(want) {
					t.Fatalf("%d entries %v, want %d", len(got), got, len(want))
				}
				for i, e := range got {
					if s, st := jStr(t, e, "SerialNumber"), jStr(t, e, "Status"); s != want[i].serial || st != want[i].status {
						t.Errorf("entry %d = %s/%s, want %s/%s", i, s, st, want[i].serial, want[i].status)
					}
					if want[i].status == "revoked" {
						lcKeys(t, "revoked entry", e, "SerialNumber", "Status", "RevokeTime")
						if rt := jInt(t, e, "RevokeTime"); !near(time.UnixMilli(rt)) {
							t.Errorf("RevokeTime %d ms is not now", rt)
						}
					} else {
						lcKeys(t, want[i].status+" entry", e, "SerialNumber", "Status")
					}
				}
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					check(t, mustCall(t, c, tc.action, map[string]string{tc.param: tc.value}), tc.want)
				})
			}
			t.Run("revoke-time-is-the-revocation", func(t *testing.T) {
				cert, err := ts.app.svc.GetCertificate(ctx, act, rev)
				if err != nil {
					t.Fatal(err)
				}
				if !revAt.Equal(cert.RevokedAt) {
					t.Errorf("RevokeTime %v, stored revocation %v", revAt, cert.RevokedAt)
				}
			})
			t.Run("other-account-sees-unknown", func(t *testing.T) {
				check(t, mustCall(t, other, "DescribeClientCertificateStatus", map[string]string{"Identifier": good + "," + rev}),
					[]entry{{"", "unknown"}, {"", "unknown"}})
				check(t, mustCall(t, other, "DescribeClientCertificateStatusForSerialNumber", map[string]string{"SerialNumber": sn[good] + "," + sn[rev]}),
					[]entry{{sn[good], "unknown"}, {sn[rev], "unknown"}})
			})
			many := make([]string, 101)
			for i := range many {
				many[i] = fmt.Sprintf("id-%d", i)
			}
			manySerials := make([]string, 101)
			for i := range manySerials {
				manySerials[i] = fmt.Sprintf("%x", i+1)
			}
			lcRunBad(t, c, "DescribeClientCertificateStatus", []lcBad{
				{"missing", nil, 400, "MissingParameter", []string{"Identifier"}},
				{"only-commas", map[string]string{"Identifier": " , ,"}, 400, "MissingParameter", []string{"Identifier"}},
				{"too-many", map[string]string{"Identifier": strings.Join(many, ",")}, 400, "InvalidParameter.Identifier", []string{"Identifier", "100"}},
				{"item-too-long", map[string]string{"Identifier": strings.Repeat("x", 65)}, 400, "InvalidParameter.Identifier", []string{"Identifier"}},
			})
			lcRunBad(t, c, "DescribeClientCertificateStatusForSerialNumber", []lcBad{
				{"missing", nil, 400, "MissingParameter", []string{"SerialNumber"}},
				{"not-hex", map[string]string{"SerialNumber": sn[good] + ",xyz"}, 400, "InvalidParameter.SerialNumber", []string{"SerialNumber"}},
				{"too-long", map[string]string{"SerialNumber": strings.Repeat("a", 41)}, 400, "InvalidParameter.SerialNumber", []string{"SerialNumber"}},
				{"too-many", map[string]string{"SerialNumber": strings.Join(manySerials, ",")}, 400, "InvalidParameter.SerialNumber", []string{"SerialNumber"}},
			})

			// A revoked CA revokes everything below it: sub2's certificate
			// becomes revoked at the CA's revocation time; sub's stay good.
			t.Run("revoked-sub-ca", func(t *testing.T) {
				at := time.Now().UTC().Truncate(time.Millisecond)
				if _, err := ts.app.store.RevokeCA(ctx, act.AccountID, sub2.ID, at); err != nil {
					t.Fatal(err)
				}
				e := lcStatusOne(t, c, under2)
				if jStr(t, e, "Status") != "revoked" || jInt(t, e, "RevokeTime") != at.UnixMilli() {
					t.Errorf("certificate under a revoked sub-CA: %v, want revoked at %d", e, at.UnixMilli())
				}
				if got := jStr(t, lcStatusOne(t, c, good), "Status"); got != "good" {
					t.Errorf("certificate under the live sub-CA: %s", got)
				}
			})
			t.Run("revoked-root", func(t *testing.T) {
				at := time.Now().UTC().Truncate(time.Millisecond)
				if _, err := ts.app.store.RevokeCA(ctx, act.AccountID, root.ID, at); err != nil {
					t.Fatal(err)
				}
				b := mustCall(t, c, "DescribeClientCertificateStatusForSerialNumber", map[string]string{"SerialNumber": sn[good] + "," + sn[rev]})
				got := jObjects(t, b, "CertificateStatus")
				if len(got) != 2 || jStr(t, got[0], "Status") != "revoked" || jInt(t, got[0], "RevokeTime") != at.UnixMilli() {
					t.Errorf("good certificate under a revoked root: %v, want revoked at %d", got, at.UnixMilli())
				}
				if jInt(t, got[1], "RevokeTime") != revAt.UnixMilli() {
					t.Errorf("a certificate revoked before its root keeps its own time: %v, want %d", got[1], revAt.UnixMilli())
				}
			})
		})
	}
}

// lcStatusOne returns the one CertificateStatus entry of a certificate.
func lcStatusOne(t *testing.T, c *openapiclient.Client, id string) map[string]any {
	t.Helper()
	got := jObjects(t, mustCall(t, c, "DescribeClientCertificateStatus", map[string]string{"Identifier": id}), "CertificateStatus")
	if len(got) != 1 {
		t.Fatalf("%d status entries for one identifier", len(got))
	}
	return got[0]
}

// ---- DescribeClientCertificateForSerialNumber ------------------------------------

func TestLifecycleDescribeForSerialNumber(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c, _ := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			_, sub := hierarchy(t, c)
			srvB := mustCall(t, c, "CreateServerCertificate", with(serverParams(sub.ID), map[string]string{
				"Domain": "api.example.com", "Days": "400", "AliasName": "ignored", "CustomIdentifier": "cust-" + mode}))
			srv := jStr(t, srvB, "Identifier")
			cli := issueClient(t, c, sub.ID, map[string]string{"SanType": "1", "SanValue": "alice@example.com"})
			revoke(t, c, cli)
			want := map[string]map[string]any{srv: lcDescribe(t, c, srv), cli: lcDescribe(t, c, cli)}

			b := mustCall(t, c, "DescribeClientCertificateForSerialNumber", map[string]string{
				"SerialNumber": strings.ToUpper(jStr(t, want[cli], "SerialNumber")) + ", ffff0000, " + jStr(t, want[srv], "SerialNumber")})
			lcKeys(t, "answer", b, "RequestId", "CertificateList")
			list := jObjects(t, b, "CertificateList")
			if len(list) != 2 {
				t.Fatalf("%d certificates, want 2 (unknown serials are left out)", len(list))
			}
			for i, id := range []string{cli, srv} {
				it, d := list[i], want[id]
				lcKeys(t, "CertificateList entry", it, "Identifier", "ParentIdentifier", "SerialNumber", "CertificateType", "Status",
					"CommonName", "Organization", "OrganizationUnit", "Locality", "State", "CountryCode", "SubjectDN", "Algorithm",
					"KeySize", "SignAlgorithm", "Sans", "Md5", "Sha2", "X509Certificate", "BeforeDate", "AfterDate", "Years")
				for _, k := range []string{"Identifier", "ParentIdentifier", "SerialNumber", "CertificateType", "Status", "CommonName",
					"Organization", "OrganizationUnit", "Locality", "State", "CountryCode", "SubjectDN", "Algorithm", "SignAlgorithm",
					"Sans", "Md5", "Sha2", "X509Certificate"} {
					if got, w := jStr(t, it, k), jStr(t, d, k); got != w {
						t.Errorf("%s: %s = %q, DescribeClientCertificate says %q", id, k, got, w)
					}
				}
				if jInt(t, it, "KeySize") != 256 {
					t.Errorf("KeySize %d", jInt(t, it, "KeySize"))
				}
				cert := parsePEM(t, jStr(t, it, "X509Certificate"))
				for k, tm := range map[string]time.Time{"BeforeDate": cert.NotBefore, "AfterDate": cert.NotAfter} {
					got := jStr(t, it, k)
					if !lcMinuteRe.MatchString(got) || got != tm.UTC().Format("2006-01-02T15:04Z") {
						t.Errorf("%s = %q, want %q (String, UTC to the minute)", k, got, tm.UTC().Format("2006-01-02T15:04Z"))
					}
				}
			}
			if y := jInt(t, list[1], "Years"); y != 1 {
				t.Errorf("Years of a 400-day certificate = %d, want 1", y)
			}
			if y := jInt(t, list[0], "Years"); y != 0 {
				t.Errorf("Years of a 30-day certificate = %d, want 0", y)
			}
			if jStr(t, list[0], "Status") != "REVOKE" {
				t.Errorf("revoked certificate listed as %s", jStr(t, list[0], "Status"))
			}
			t.Run("other-account", func(t *testing.T) {
				b := mustCall(t, other, "DescribeClientCertificateForSerialNumber", map[string]string{"SerialNumber": jStr(t, want[srv], "SerialNumber")})
				if l := jArr(t, b, "CertificateList"); len(l) != 0 {
					t.Errorf("another account sees %d certificates", len(l))
				}
			})
			lcRunBad(t, c, "DescribeClientCertificateForSerialNumber", []lcBad{
				{"missing", nil, 400, "MissingParameter", []string{"SerialNumber"}},
				{"not-hex", map[string]string{"SerialNumber": "12g4"}, 400, "InvalidParameter.SerialNumber", []string{"SerialNumber"}},
			})
		})
	}
}

// ---- ListClientCertificate ------------------------------------------------------

func TestLifecycleListClientCertificate(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c, act := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			root, subA := hierarchy(t, c)
			subB := createSub(t, c, root.ID, "ECC_256", map[string]string{"CommonName": "Sub B"})
			// Issue order: A-client, A-server (rg-x), B-client, A-client (revoked).
			ids := []string{
				issueClient(t, c, subA.ID, nil),
				issueServer(t, c, subA.ID, map[string]string{"ResourceGroupId": "rg-x", "CustomIdentifier": "lc-" + mode}),
				issueClient(t, c, subB.ID, nil),
				issueClient(t, c, subA.ID, map[string]string{"AliasName": "alias-" + mode}),
			}
			revoke(t, c, ids[3])
			newest := reversed(ids)
			// An END_ENTITY certificate (as CreateCustomCertificate makes) is
			// in ListCert but not here: only CLIENT and SERVER are listed.
			ee, err := ts.app.svc.GetCertificate(context.Background(), act, ids[0])
			if err != nil {
				t.Fatal(err)
			}
			ee.ID, ee.Identifier, ee.SerialNumber, ee.Type, ee.Tags = 0, "end-entity-"+mode, "e0e0e0", pca.TypeEndEntity, nil
			if err := ts.app.store.InsertCertificate(context.Background(), &ee, nil); err != nil {
				t.Fatal(err)
			}
			if n := total(t, c, nil); n != 5 {
				t.Fatalf("ListCert TotalCount %d, want 5 with the END_ENTITY one", n)
			}

			listed := func(t *testing.T, q map[string]string) (map[string]any, []string) {
				t.Helper()
				b := mustCall(t, c, "ListClientCertificate", q)
				lcKeys(t, "answer", b, "RequestId", "TotalCount", "PageCount", "CurrentPage", "ShowSize", "MaxResults", "CertificateList")
				var got []string
				for _, it := range jObjects(t, b, "CertificateList") {
					got = append(got, jStr(t, it, "Identifier"))
				}
				return b, got
			}
			cases := []struct {
				name                                 string
				q                                    map[string]string
				want                                 []string
				total, pages, page, size, maxResults int64
			}{
				{"defaults", nil, newest, 4, 1, 1, 20, 20},
				{"page1-of-2", map[string]string{"ShowSize": "3"}, newest[:3], 4, 2, 1, 3, 3},
				{"page2-of-2", map[string]string{"ShowSize": "3", "CurrentPage": "2"}, newest[3:], 4, 2, 2, 3, 3},
				{"past-the-end", map[string]string{"ShowSize": "3", "CurrentPage": "9"}, nil, 4, 2, 9, 3, 3},
				{"issuer-A", map[string]string{"Identifier": subA.ID}, []string{ids[3], ids[1], ids[0]}, 3, 1, 1, 20, 20},
				{"issuer-B", map[string]string{"Identifier": subB.ID}, []string{ids[2]}, 1, 1, 1, 20, 20},
				{"issuer-unknown", map[string]string{"Identifier": "nope"}, nil, 0, 0, 1, 20, 20},
				{"resource-group", map[string]string{"ResourceGroupId": "rg-x"}, []string{ids[1]}, 1, 1, 1, 20, 20},
				{"max-show-size", map[string]string{"ShowSize": "1000"}, newest, 4, 1, 1, 1000, 1000},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					b, got := listed(t, tc.q)
					if !slices.Equal(got, tc.want) {
						t.Errorf("certificates %v, want %v", got, tc.want)
					}
					for k, w := range map[string]int64{"TotalCount": tc.total, "PageCount": tc.pages, "CurrentPage": tc.page, "ShowSize": tc.size, "MaxResults": tc.maxResults} {
						if g := jInt(t, b, k); g != w {
							t.Errorf("%s = %d, want %d", k, g, w)
						}
					}
				})
			}
			t.Run("entry", func(t *testing.T) {
				b, _ := listed(t, map[string]string{"ResourceGroupId": "rg-x"})
				it := jObjects(t, b, "CertificateList")[0]
				lcKeys(t, "CertificateList entry", it, "Identifier", "Id", "ParentIdentifier", "SerialNumber", "CertificateType", "Status",
					"CommonName", "Organization", "OrganizationUnit", "Locality", "State", "CountryCode", "SubjectDN", "Algorithm",
					"KeySize", "SignAlgorithm", "Sans", "Md5", "Sha2", "X509Certificate", "BeforeDate", "AfterDate", "Days",
					"CustomIdentifier", "AliasName", "ResourceGroupId")
				d := lcDescribe(t, c, ids[1])
				for _, k := range []string{"Identifier", "ParentIdentifier", "SerialNumber", "CertificateType", "Status", "SubjectDN",
					"Algorithm", "SignAlgorithm", "Sans", "Md5", "Sha2", "X509Certificate", "CustomIdentifier", "AliasName", "ResourceGroupId"} {
					if g, w := jStr(t, it, k), jStr(t, d, k); g != w {
						t.Errorf("%s = %q, DescribeClientCertificate says %q", k, g, w)
					}
				}
				for _, k := range []string{"Id", "BeforeDate", "AfterDate", "Days", "KeySize"} {
					if g, w := jInt(t, it, k), jInt(t, d, k); g != w {
						t.Errorf("%s = %d, DescribeClientCertificate says %d", k, g, w)
					}
				}
				if jStr(t, it, "CertificateType") != "SERVER" || jStr(t, it, "ResourceGroupId") != "rg-x" {
					t.Errorf("entry %v", it)
				}
			})
			t.Run("other-account", func(t *testing.T) {
				if n := jInt(t, mustCall(t, other, "ListClientCertificate", nil), "TotalCount"); n != 0 {
					t.Errorf("another account lists %d certificates", n)
				}
			})
			lcRunBad(t, c, "ListClientCertificate", []lcBad{
				{"show-size-0", map[string]string{"ShowSize": "0"}, 400, "InvalidParameter.ShowSize", []string{"ShowSize"}},
				{"show-size-1001", map[string]string{"ShowSize": "1001"}, 400, "InvalidParameter.ShowSize", []string{"ShowSize"}},
				{"show-size-text", map[string]string{"ShowSize": "ten"}, 400, "InvalidParameter.ShowSize", []string{"ShowSize"}},
				{"page-0", map[string]string{"CurrentPage": "0"}, 400, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
				{"page-huge", map[string]string{"CurrentPage": "2147483648"}, 400, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
				{"identifier-too-long", map[string]string{"Identifier": strings.Repeat("i", 65)}, 400, "InvalidParameter.Identifier", []string{"Identifier"}},
			})
		})
	}
}

// ---- ListRevokeCertificate --------------------------------------------------------

func TestLifecycleListRevokeCertificate(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c, _ := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			_, sub := hierarchy(t, c)
			a := issueClient(t, c, sub.ID, map[string]string{"CustomIdentifier": "rev-a-" + mode})
			issueServer(t, c, sub.ID, nil) // stays ISSUE
			b := issueServer(t, c, sub.ID, nil)
			revoke(t, c, a)
			revoke(t, c, b)

			page := func(t *testing.T, q map[string]string) (map[string]any, []map[string]any) {
				t.Helper()
				r := mustCall(t, c, "ListRevokeCertificate", q)
				lcKeys(t, "answer", r, "RequestId", "TotalCount", "PageCount", "CurrentPage", "ShowSize", "CertificateList")
				return r, jObjects(t, r, "CertificateList")
			}
			r, items := page(t, nil)
			if jInt(t, r, "TotalCount") != 2 || jInt(t, r, "PageCount") != 1 || jInt(t, r, "CurrentPage") != 1 || jInt(t, r, "ShowSize") != 20 {
				t.Errorf("counts %v", r)
			}
			if len(items) != 2 || jStr(t, items[0], "Identifier") != b || jStr(t, items[1], "Identifier") != a {
				t.Fatalf("entries %v, want [%s %s]", items, b, a)
			}
			for _, it := range items {
				lcKeys(t, "CertificateList entry", it, "Identifier", "ParentIdentifier", "SerialNumber", "CertificateType", "Status",
					"CommonName", "Organization", "OrganizationUnit", "Locality", "State", "CountryCode", "SubjectDN", "Algorithm",
					"KeySize", "SignAlgorithm", "Sans", "Md5", "Sha2", "BeforeDate", "AfterDate", "RevokeDate", "CustomIdentifier")
				id := jStr(t, it, "Identifier")
				d := lcDescribe(t, c, id)
				cert := parsePEM(t, jStr(t, d, "X509Certificate"))
				day := func(tm time.Time) string { return tm.UTC().Format("2006-01-02") + "T00:00Z" }
				for k, w := range map[string]string{"BeforeDate": day(cert.NotBefore), "AfterDate": day(cert.NotAfter),
					"RevokeDate": day(time.Now()), "Status": "REVOKE", "SerialNumber": jStr(t, d, "SerialNumber"),
					"Sha2": jStr(t, d, "Sha2"), "CustomIdentifier": jStr(t, d, "CustomIdentifier")} {
					if g := jStr(t, it, k); g != w {
						t.Errorf("%s: %s = %q, want %q", id, k, g, w)
					}
				}
				for _, k := range []string{"BeforeDate", "AfterDate", "RevokeDate"} {
					if g := jStr(t, it, k); !lcDayRe.MatchString(g) {
						t.Errorf("%s = %q is not yyyy-MM-ddT00:00Z", k, g)
					}
				}
			}
			_, items = page(t, map[string]string{"ShowSize": "1", "CurrentPage": "2"})
			if len(items) != 1 || jStr(t, items[0], "Identifier") != a {
				t.Errorf("page 2 of size 1 = %v, want %s", items, a)
			}
			if n := jInt(t, mustCall(t, other, "ListRevokeCertificate", nil), "TotalCount"); n != 0 {
				t.Errorf("another account lists %d revoked certificates", n)
			}
			lcRunBad(t, c, "ListRevokeCertificate", []lcBad{
				{"show-size-0", map[string]string{"ShowSize": "0"}, 400, "InvalidParameter.ShowSize", []string{"ShowSize"}},
				{"page-negative", map[string]string{"CurrentPage": "-1"}, 400, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
			})
		})
	}
}

// ---- UpdatePcaCertificate ------------------------------------------------------------

func TestLifecycleUpdatePcaCertificate(t *testing.T) {
	clock := &fakeClock{}
	day0 := time.Now().UTC().Truncate(time.Second)
	clock.Set(day0)
	ts := startServerClock(t, clock)
	for i, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			clock.Set(day0.Add(time.Duration(i) * 72 * time.Hour))
			c, _ := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			root, sub := hierarchy(t, c)
			id := issueClient(t, c, sub.ID, map[string]string{"Tags.1.Key": "env", "Tags.1.Value": "dev", "AliasName": "old"})
			still := issueClient(t, c, sub.ID, nil)

			// The update happens a day later: ListCert's window sees it.
			later := clock.Now().Add(24 * time.Hour)
			clock.Set(later)
			b := lcMust(t, c, "UpdatePcaCertificate", map[string]string{"Identifier": id, "AliasName": "new alias",
				"ResourceGroupId": "rg-upd", "Tags.1.Key": "env", "Tags.1.Value": "prod", "Tags.2.Key": "team", "Tags.2.Value": "pki",
				"ClientToken": "upd-" + mode})
			lcOnlyRequestID(t, "UpdatePcaCertificate", b)
			d := lcDescribe(t, c, id)
			if jStr(t, d, "AliasName") != "new alias" || jStr(t, d, "ResourceGroupId") != "rg-upd" {
				t.Errorf("after update: AliasName %q ResourceGroupId %q", jStr(t, d, "AliasName"), jStr(t, d, "ResourceGroupId"))
			}
			if got := lcTagPairs(t, d); got != "env=prod,team=pki" {
				t.Errorf("tags %s, want env=prod,team=pki", got)
			}
			window := map[string]string{"AfterDate": later.Add(-time.Minute).Format(time.DateTime)}
			if got := listIDs(t, list(t, c, window)); !slices.Equal(got, []string{id}) {
				t.Errorf("ListCert changed since the update = %v, want [%s]", got, id)
			}

			// Only the given fields change; an empty AliasName clears it.
			lcMust(t, c, "UpdatePcaCertificate", map[string]string{"Identifier": id, "AliasName": ""})
			d = lcDescribe(t, c, id)
			if jStr(t, d, "AliasName") != "" || jStr(t, d, "ResourceGroupId") != "rg-upd" || lcTagPairs(t, d) != "env=prod,team=pki" {
				t.Errorf("after clearing the alias: %q %q %s", jStr(t, d, "AliasName"), jStr(t, d, "ResourceGroupId"), lcTagPairs(t, d))
			}

			t.Run("ca", func(t *testing.T) {
				lcMust(t, c, "UpdatePcaCertificate", map[string]string{"Identifier": root.ID, "AliasName": "root alias",
					"ResourceGroupId": "rg-ca", "Tags.1.Key": "tier", "Tags.1.Value": "0"})
				rec := jObj(t, mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": root.ID}), "Certificate")
				if jStr(t, rec, "ResourceGroupId") != "rg-ca" || lcTagPairs(t, rec) != "tier=0" {
					t.Errorf("CA after update: %q %s", jStr(t, rec, "ResourceGroupId"), lcTagPairs(t, rec))
				}
				if got := lcLastLog(t, c, root.ID); !strings.Contains(got, `alias set to "root alias"`) || !strings.Contains(got, "tier=0") {
					t.Errorf("the CA log's last entry %q does not record the update", got)
				}
			})

			full := map[string]string{"Identifier": still}
			for i := 1; i <= 20; i++ {
				full[fmt.Sprintf("Tags.%d.Key", i)] = fmt.Sprintf("k%02d", i)
			}
			lcMust(t, c, "UpdatePcaCertificate", full)
			beforeBad := lcDescribe(t, c, still)
			lcRunBad(t, c, "UpdatePcaCertificate", []lcBad{
				{"missing-identifier", map[string]string{"AliasName": "x"}, 400, "MissingParameter", []string{"Identifier"}},
				{"unknown", map[string]string{"Identifier": "nope", "AliasName": "x"}, 404, "NotFound.Resource", []string{"Identifier"}},
				{"alias-too-long", map[string]string{"Identifier": still, "AliasName": strings.Repeat("a", 129)}, 400, "InvalidParameter.AliasName", []string{"AliasName"}},
				{"rg-too-long", map[string]string{"Identifier": still, "ResourceGroupId": strings.Repeat("r", 65)}, 400, "InvalidParameter.ResourceGroupId", []string{"ResourceGroupId"}},
				{"tag-without-key", map[string]string{"Identifier": still, "Tags.1.Value": "v"}, 400, "InvalidParameter.Tags", []string{"Tags"}},
				{"21st-tag", map[string]string{"Identifier": still, "AliasName": "must-not-stick", "Tags.1.Key": "one-more"}, 400, "QuotaExceeded.Tags", []string{"20"}},
				{"token-too-long", map[string]string{"Identifier": still, "AliasName": "x", "ClientToken": strings.Repeat("t", 65)}, 400, "InvalidParameter.ClientToken", []string{"ClientToken"}},
			})
			t.Run("other-account", func(t *testing.T) {
				_, err := lcCall(t, other, "UpdatePcaCertificate", map[string]string{"Identifier": still, "AliasName": "stolen"})
				wantErr(t, err, http.StatusNotFound, "NotFound.Resource")
			})
			if afterBad := lcDescribe(t, c, still); fmt.Sprint(afterBad) != fmt.Sprint(beforeBad) {
				t.Errorf("refused updates changed the certificate:\n%v\n%v", beforeBad, afterBad)
			}

			// Tag and resource-group calls are changes too, for ListCert's window.
			for step, tc := range []struct {
				action string
				q      map[string]string
				id     string
			}{
				{"TagResources", lcWithTags(lcTagQuery("certificate", still), "k01=changed"), still},
				{"UntagResources", with(lcTagQuery("instance", id), map[string]string{"TagKey.1": "team"}), id},
				{"MoveResourceGroup", map[string]string{"ResourceId": still, "ResourceType": "instance", "ResourceGroupId": "rg-moved"}, still},
			} {
				at := later.Add(time.Duration(step+1) * 24 * time.Hour)
				clock.Set(at)
				lcMust(t, c, tc.action, tc.q)
				window := map[string]string{"AfterDate": at.Add(-time.Minute).Format(time.DateTime)}
				if got := listIDs(t, list(t, c, window)); !slices.Equal(got, []string{tc.id}) {
					t.Errorf("after %s: ListCert changed since = %v, want [%s]", tc.action, got, tc.id)
				}
			}
		})
	}
}

// lcLastLog returns "OpType: Content" of the last ListCACertificateLog entry of a CA.
func lcLastLog(t *testing.T, c *openapiclient.Client, caID string) string {
	t.Helper()
	logs := jObjects(t, mustCall(t, c, "ListCACertificateLog", map[string]string{"Identifier": caID}), "LogList")
	if len(logs) == 0 {
		t.Fatalf("CA %s has no log", caID)
	}
	last := logs[len(logs)-1]
	return jStr(t, last, "OpType") + ": " + jStr(t, last, "Content")
}

// lcTagPairs renders a describe record's Tags ([{TagKey, TagValue}]) as k=v,...
func lcTagPairs(t *testing.T, rec map[string]any) string {
	t.Helper()
	var out []string
	for _, tg := range jObjects(t, rec, "Tags") {
		lcKeys(t, "tag", tg, "TagKey", "TagValue")
		out = append(out, jStr(t, tg, "TagKey")+"="+jStr(t, tg, "TagValue"))
	}
	return strings.Join(out, ",")
}

// ---- UploadPcaCertToCas -------------------------------------------------------------

func TestLifecycleUploadPcaCertToCas(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c, act := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			_, sub := hierarchy(t, c)
			ids := []string{issueClient(t, c, sub.ID, nil), issueServer(t, c, sub.ID, nil), issueClient(t, c, sub.ID, nil)}
			num := map[string]string{}
			for _, id := range ids {
				num[id] = strconv.FormatInt(jInt(t, lcDescribe(t, c, id), "Id"), 10)
			}
			uploaded := func(t *testing.T, id string) bool {
				t.Helper()
				cert, err := ts.app.svc.GetCertificate(context.Background(), act, id)
				if err != nil {
					t.Fatal(err)
				}
				return cert.Uploaded
			}

			// Another account naming our ids changes nothing (and learns nothing).
			lcOnlyRequestID(t, "UploadPcaCertToCas", mustCall(t, other, "UploadPcaCertToCas", map[string]string{"Ids": num[ids[0]]}))
			if uploaded(t, ids[0]) {
				t.Fatal("another account's upload marked our certificate")
			}
			lcRunBad(t, c, "UploadPcaCertToCas", []lcBad{
				{"missing", nil, 400, "MissingParameter", []string{"Ids"}},
				{"not-numeric", map[string]string{"Ids": num[ids[0]] + ",abc"}, 400, "InvalidParameter.Ids", []string{"Ids"}},
				{"zero", map[string]string{"Ids": "0"}, 400, "InvalidParameter.Ids", []string{"Ids"}},
				{"negative", map[string]string{"Ids": "-5"}, 400, "InvalidParameter.Ids", []string{"Ids"}},
				{"too-many", map[string]string{"Ids": lcSeq(101)}, 400, "InvalidParameter.Ids", []string{"Ids", "100"}},
			})
			if uploaded(t, ids[0]) {
				t.Fatal("a refused upload marked a certificate")
			}

			// Unknown ids are ignored (spec C.15); spaces are trimmed.
			lcOnlyRequestID(t, "UploadPcaCertToCas", mustCall(t, c, "UploadPcaCertToCas", map[string]string{"Ids": " " + num[ids[0]] + " , 999999999," + num[ids[1]]}))
			for i, want := range []bool{true, true, false} {
				if got := uploaded(t, ids[i]); got != want {
					t.Errorf("certificate %d uploaded = %v, want %v", i, got, want)
				}
			}
			// DescribeClientCertificate still carries UploadFlag as a JSON number.
			jInt(t, lcDescribe(t, c, ids[0]), "UploadFlag")
		})
	}
}

// lcSeq returns "1,2,...,n".
func lcSeq(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		if i > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(i))
	}
	return b.String()
}

// ---- DescribeCertificatePrivateKey -----------------------------------------------

func TestLifecycleDescribeCertificatePrivateKey(t *testing.T) {
	ts := startServer(t, 0)
	openssl, _ := exec.LookPath("openssl")
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ctx := context.Background()
			c, act := lcAccount(t, ts, mode)
			other, _ := lcAccount(t, ts, mode)
			_, sub := hierarchy(t, c)
			cli := issueClient(t, c, sub.ID, nil)
			srv := issueServer(t, c, sub.ID, map[string]string{"ResourceGroupId": "rg-key"})
			gone := issueClient(t, c, sub.ID, nil)
			revoke(t, c, gone)
			mustCall(t, c, "DeleteClientCertificate", map[string]string{"Identifier": gone})

			// A certificate whose key pcad does not hold (as issued from a
			// CSR): a copy of cli's record without key.
			rec, err := ts.app.svc.GetCertificate(ctx, act, cli)
			if err != nil {
				t.Fatal(err)
			}
			rec.ID, rec.Identifier, rec.SerialNumber, rec.KeyRef, rec.Tags = 0, "csr-like-"+mode, "c5c5c5"+mode[1:], "", nil
			if err := ts.app.store.InsertCertificate(ctx, &rec, nil); err != nil {
				t.Fatal(err)
			}

			// Each export costs a PBKDF2 of 600000 iterations, and so does each
			// openssl run: one success per mode keeps the suite fast.
			type exportCase struct{ name, id, password, group string }
			tc := map[string]exportCase{
				"v3": {"client", cli, "Ab1,.+-_#xyz", ""},
				"v1": {"server-in-its-group-punctuation-32", srv, `!$%&()*:;<=>?@[]^{|}~'"\` + "Ab1,.+-_", "rg-key"},
			}[mode]
			if len(tc.password) > 32 {
				t.Fatalf("test password of %d bytes", len(tc.password))
			}
			t.Run(tc.name, func(t *testing.T) {
				b := mustCall(t, c, "DescribeCertificatePrivateKey", map[string]string{"Identifier": tc.id, "EncryptedCode": tc.password, "ResourceGroupId": tc.group})
				lcKeys(t, "answer", b, "RequestId", "EncryptedData")
				data := jStr(t, b, "EncryptedData")
				blk, rest := pem.Decode([]byte(data))
				if blk == nil || blk.Type != "ENCRYPTED PRIVATE KEY" || strings.TrimSpace(string(rest)) != "" {
					t.Fatalf("EncryptedData is not one ENCRYPTED PRIVATE KEY PEM block: %q", data)
				}
				if strings.Contains(data, tc.password) {
					t.Error("the password appears in the answer")
				}
				if openssl == "" {
					t.Skip("openssl not installed")
				}
				dir := t.TempDir()
				keyFile := writePEM(t, dir, "key.pem", data)
				certFile := writePEM(t, dir, "cert.pem", jStr(t, lcDescribe(t, c, tc.id), "X509Certificate"))
				fromKey, err := exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "pass:"+tc.password, "-pubout").CombinedOutput()
				if err != nil {
					t.Fatalf("openssl pkey: %v\n%s", err, fromKey)
				}
				fromCert, err := exec.Command(openssl, "x509", "-in", certFile, "-pubkey", "-noout").CombinedOutput()
				if err != nil {
					t.Fatalf("openssl x509: %v\n%s", err, fromCert)
				}
				if !strings.Contains(string(fromKey), "BEGIN PUBLIC KEY") || string(fromKey) != string(fromCert) {
					t.Errorf("the exported key's public key\n%s\ndiffers from the certificate's\n%s", fromKey, fromCert)
				}
				if mode == "v3" {
					if out, err := exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "pass:wrong-password", "-noout").CombinedOutput(); err == nil {
						t.Errorf("openssl opened the key with a wrong password:\n%s", out)
					}
				}
			})
			secret := "Secret#123"
			cases := []lcBad{
				{"missing-identifier", map[string]string{"EncryptedCode": secret}, 400, "MissingParameter", []string{"Identifier"}},
				{"missing-password", map[string]string{"Identifier": cli}, 400, "MissingParameter", []string{"EncryptedCode"}},
				{"empty-password", map[string]string{"Identifier": cli, "EncryptedCode": ""}, 400, "MissingParameter", []string{"EncryptedCode"}},
				{"password-33", map[string]string{"Identifier": cli, "EncryptedCode": strings.Repeat("a", 33)}, 400, "InvalidParameter.EncryptedCode", []string{"EncryptedCode", "32"}},
				{"password-space", map[string]string{"Identifier": cli, "EncryptedCode": "Secret 123"}, 400, "InvalidParameter.EncryptedCode", []string{"EncryptedCode"}},
				{"password-leading-space", map[string]string{"Identifier": cli, "EncryptedCode": " " + secret}, 400, "InvalidParameter.EncryptedCode", []string{"EncryptedCode"}},
				{"password-non-ascii", map[string]string{"Identifier": cli, "EncryptedCode": "Sécret123"}, 400, "InvalidParameter.EncryptedCode", []string{"EncryptedCode"}},
				{"unknown", map[string]string{"Identifier": "nope", "EncryptedCode": secret}, 404, "NotFound.Certificate", []string{"Identifier"}},
				{"other-resource-group", map[string]string{"Identifier": srv, "EncryptedCode": secret, "ResourceGroupId": "rg-other"}, 404, "NotFound.Certificate", nil},
				{"deleted", map[string]string{"Identifier": gone, "EncryptedCode": secret}, 404, "NotFound.Certificate", nil},
				{"key-not-held", map[string]string{"Identifier": rec.Identifier, "EncryptedCode": secret}, 400, "OperationDenied.PrivateKeyNotHeld", []string{rec.Identifier}},
			}
			for _, tc := range cases {
				t.Run("bad/"+tc.name, func(t *testing.T) {
					_, err := call(t, c, "DescribeCertificatePrivateKey", tc.params)
					e := wantErr(t, err, tc.status, tc.code, tc.mention...)
					if pw := tc.params["EncryptedCode"]; len(strings.TrimSpace(pw)) > 3 && strings.Contains(e.Message, strings.TrimSpace(pw)) {
						t.Errorf("the message echoes the password: %q", e.Message)
					}
				})
			}
			t.Run("other-account", func(t *testing.T) {
				_, err := call(t, other, "DescribeCertificatePrivateKey", map[string]string{"Identifier": cli, "EncryptedCode": secret})
				wantErr(t, err, http.StatusNotFound, "NotFound.Certificate")
			})
		})
	}
}

// lcSyncBuffer is a bytes.Buffer safe for the server's concurrent logging.
type lcSyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lcSyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lcSyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLifecycleExportNotLogged runs the export, good and bad, on a server
// logging at debug level, and checks that neither the password nor the key
// reaches the log.
func TestLifecycleExportNotLogged(t *testing.T) {
	ctx := context.Background()
	logs := &lcSyncBuffer{}
	dir := t.TempDir()
	a, err := newApp(ctx, config{Data: filepath.Join(dir, "data")}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.store.Close() })
	srv := httptest.NewServer(a.handler)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	ts := &testServer{app: a, srv: srv, endpoint: u.Host}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c, _ := lcAccount(t, ts, mode)
			_, sub := hierarchy(t, c)
			id := issueClient(t, c, sub.ID, nil)
			password := "Pw-" + mode + "-Xq7#Lr9"
			data := jStr(t, mustCall(t, c, "DescribeCertificatePrivateKey", map[string]string{"Identifier": id, "EncryptedCode": password}), "EncryptedData")
			for _, bad := range []struct {
				params map[string]string
				code   string
			}{
				{map[string]string{"Identifier": id, "EncryptedCode": password + " tail"}, "InvalidParameter.EncryptedCode"},
				{map[string]string{"Identifier": id, "EncryptedCode": password + strings.Repeat("z", 30)}, "InvalidParameter.EncryptedCode"},
				{map[string]string{"Identifier": "nope", "EncryptedCode": password}, "NotFound.Certificate"},
			} {
				_, err := call(t, c, "DescribeCertificatePrivateKey", bad.params)
				wantErr(t, err, 0, bad.code)
			}
			body := strings.Split(strings.TrimSpace(data), "\n")[1] // a line of the key's base64
			out := logs.String()
			if !strings.Contains(out, "DescribeCertificatePrivateKey") {
				t.Fatalf("the requests were not logged at all:\n%s", out)
			}
			for _, leak := range []string{password, body, "PRIVATE KEY"} {
				if strings.Contains(out, leak) {
					t.Errorf("the log contains %q", leak)
				}
			}
		})
	}
}
