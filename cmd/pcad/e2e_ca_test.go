package main

// CA queries and instances through the official client in both signature
// modes: DescribeCACertificateList, DescribeCACertificateCount,
// DescribePcaAndExternalCACertificateList, ListPcaCaCertificate,
// ListCACertificateLog, GetCAInstanceStatus, AssignCertificateCount,
// ListAllEndEntityInstance, and what DescribeCACertificate gained (Alias,
// a root's counts). Helpers here are prefixed caq.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// ---- fixtures -----------------------------------------------------------------

// caqAccount creates an account on ts and returns its AccessKey.
func caqAccount(t *testing.T, ts *testServer) pca.AccessKey {
	t.Helper()
	_, key, err := ts.app.svc.CreateAccount(context.Background(), fmt.Sprintf("caq-%d", accountSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// caqWorld is one account's CAs: roots R1 (resource group rg-a) and R2 (other
// organization), sub-CAs S1 and S2 (revoked) under R1, and X, an external
// sub-CA under R1 (key held outside pcad). Created in the order R1, S1, S2,
// R2, X.
type caqWorld struct {
	acct int64
	ids  map[string]string // name -> Identifier
}

// newest returns the identifiers of names in newest-first order.
func (w *caqWorld) newest(names ...string) []string {
	order := []string{"X", "R2", "S2", "S1", "R1"}
	out := []string{}
	for _, n := range order {
		if slices.Contains(names, n) {
			out = append(out, w.ids[n])
		}
	}
	return out
}

func (w *caqWorld) name(id string) string {
	for n, v := range w.ids {
		if v == id {
			return n
		}
	}
	return id
}

func (w *caqWorld) names(ids []string) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, w.name(id))
	}
	return out
}

func caqBuildWorld(t *testing.T, ts *testServer, c *openapiclient.Client, acct int64) *caqWorld {
	t.Helper()
	w := &caqWorld{acct: acct, ids: map[string]string{}}
	r1 := createRoot(t, c, "ECC_256", map[string]string{"CommonName": "Alpha Root", "ResourceGroupId": "rg-a"})
	w.ids["R1"] = r1.ID
	w.ids["S1"] = createSub(t, c, r1.ID, "ECC_256", map[string]string{"CommonName": "Beta Sub"}).ID
	w.ids["S2"] = createSub(t, c, r1.ID, "ECC_256", map[string]string{"CommonName": "Gamma Sub"}).ID
	w.ids["R2"] = createRoot(t, c, "ECC_256", map[string]string{"CommonName": "Delta Root", "Organization": "Other Org"}).ID
	w.ids["X"] = caqExternalCA(t, ts, acct, r1.ID, "Epsilon External")
	caqRevokeCA(t, ts, acct, w.ids["S2"])
	return w
}

// caqExternalCA stores, through the store, a sub-CA of parent whose key is
// held outside pcad (IssuerType external), with the parent's validity. It
// draws one from the parent's instance, as every sub-CA does.
func caqExternalCA(t *testing.T, ts *testServer, acct int64, parentID, cn string) string {
	t.Helper()
	ctx := context.Background()
	parent, err := ts.app.store.GetCA(ctx, acct, parentID)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	subj := pkix.Name{CommonName: cn, Organization: []string{"Ext Org"}, Country: []string{"CN"}}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: subj, NotBefore: parent.NotBefore,
		NotAfter: parent.NotAfter, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	id, err := pca.NewIdentifier(time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := pca.NewIdentifier(time.Now(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	x := pca.CA{AccountID: acct, Identifier: id, ParentID: parent.ID, ParentIdentifier: parent.Identifier, Type: pca.CASub,
		Status: pca.StatusIssue, Subject: pca.Subject{CommonName: cn, Organization: "Ext Org", Country: "CN"},
		SubjectDN: "CN=" + cn + ",O=Ext Org,C=CN", Algorithm: pca.ECC256, SerialNumber: tmpl.SerialNumber.Text(16), DER: der,
		NotBefore: parent.NotBefore, NotAfter: parent.NotAfter, Years: parent.Years, InstanceUUID: inst,
		IssuerType: "external", CRLDays: 7, Created: time.Now()}
	if err := ts.app.store.CreateCA(ctx, &x, store.KeyRecord{}); err != nil {
		t.Fatal(err)
	}
	return id
}

// caqRevokeCA revokes a CA through the store.
func caqRevokeCA(t *testing.T, ts *testServer, acct int64, id string) {
	t.Helper()
	if _, err := ts.app.store.RevokeCA(context.Background(), acct, id, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// caqDigest is what a refused request must leave alone: row counts of every
// table a CA call may touch, each instance's quota and count, each CA's
// status and alias.
func caqDigest(t *testing.T, ts *testServer) string {
	t.Helper()
	ctx := context.Background()
	db := ts.app.store.DB()
	var b strings.Builder
	for _, table := range []string{"cas", "certificates", "private_keys", "instances", "serials", "ca_events"} {
		var n int64
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		fmt.Fprintf(&b, "%s=%d;", table, n)
	}
	for _, q := range []string{"SELECT id, total_count, issued_count FROM instances ORDER BY id",
		"SELECT id, status, alias FROM cas ORDER BY id"} {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a, x, y any
			if err := rows.Scan(&a, &x, &y); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%v/%v/%v;", a, x, y)
		}
		rows.Close()
	}
	return b.String()
}

// caqInstance returns the numeric id and UUID of a CA's default instance,
// read through GetCAInstanceStatus.
func caqInstance(t *testing.T, c *openapiclient.Client, caID string) (int64, string) {
	t.Helper()
	b := mustCall(t, c, "GetCAInstanceStatus", map[string]string{"Identifier": caID})
	list := jObjects(t, b, "InstanceStatusList")
	if len(list) != 1 {
		t.Fatalf("CA %s has %d instances, want 1", caID, len(list))
	}
	return jInt(t, list[0], "Id"), jStr(t, list[0], "InstanceId")
}

// caqCollect walks a page-mode CA list with ShowSize size, checking the
// paging fields on every page and that the page after the last is empty
// with the same TotalCount, and returns every Identifier and the total.
func caqCollect(t *testing.T, c *openapiclient.Client, action string, filter map[string]string, size int) ([]string, int64) {
	t.Helper()
	ids := []string{}
	var tot int64 = -1
	pages := int64(1)
	for page := int64(1); page <= pages+1; page++ {
		b := mustCall(t, c, action, with(filter, map[string]string{"ShowSize": strconv.Itoa(size), "CurrentPage": strconv.FormatInt(page, 10)}))
		n := jInt(t, b, "TotalCount")
		if tot >= 0 && n != tot {
			t.Fatalf("TotalCount moved from %d to %d between pages", tot, n)
		}
		tot = n
		pages = jInt(t, b, "PageCount")
		if want := (tot + int64(size) - 1) / int64(size); pages != want {
			t.Errorf("PageCount %d, want ceil(%d/%d) = %d", pages, tot, size, want)
		}
		if got := jInt(t, b, "CurrentPage"); got != page {
			t.Errorf("CurrentPage %d, want %d", got, page)
		}
		if got := jInt(t, b, "ShowSize"); got != int64(size) {
			t.Errorf("ShowSize %d, want %d", got, size)
		}
		items := jObjects(t, b, "CertificateList")
		if want := min(int64(size), max(0, tot-(page-1)*int64(size))); int64(len(items)) != want {
			t.Errorf("page %d holds %d items, want %d (total %d)", page, len(items), want, tot)
		}
		for _, it := range items {
			ids = append(ids, jStr(t, it, "Identifier"))
		}
		if page > 50 {
			t.Fatal("too many pages")
		}
	}
	return ids, tot
}

// caqTokenWalk walks ListPcaCaCertificate with MaxResults size and returns
// the pages' CertIdentifiers, checking TotalCount and MaxResults.
func caqTokenWalk(t *testing.T, c *openapiclient.Client, size int, wantTotal int64) [][]string {
	t.Helper()
	var pages [][]string
	token := ""
	for {
		q := map[string]string{"MaxResults": strconv.Itoa(size)}
		if token != "" {
			q["NextToken"] = token
		}
		b := mustCall(t, c, "ListPcaCaCertificate", q)
		if got := jInt(t, b, "TotalCount"); got != wantTotal {
			t.Errorf("TotalCount %d, want %d", got, wantTotal)
		}
		if got := jInt(t, b, "MaxResults"); got != int64(size) {
			t.Errorf("MaxResults %d, want %d", got, size)
		}
		page := []string{}
		for _, it := range jObjects(t, b, "List") {
			page = append(page, jStr(t, it, "CertIdentifier"))
		}
		pages = append(pages, page)
		if token = jStr(t, b, "NextToken"); token == "" {
			return pages
		}
		if len(pages) > 20 {
			t.Fatal("too many pages")
		}
	}
}

// caqInstanceWalk walks ListAllEndEntityInstance in token mode and returns
// every InstanceUuid.
func caqInstanceWalk(t *testing.T, c *openapiclient.Client, filter map[string]string, size int) ([]string, int64) {
	t.Helper()
	var out []string
	var tot int64 = -1
	token := ""
	for page := 1; ; page++ {
		q := with(filter, map[string]string{"MaxResults": strconv.Itoa(size)})
		if token != "" {
			q["NextToken"] = token
		}
		b := mustCall(t, c, "ListAllEndEntityInstance", q)
		n := jInt(t, b, "TotalCount")
		if tot >= 0 && n != tot {
			t.Fatalf("TotalCount moved from %d to %d", tot, n)
		}
		tot = n
		for _, k := range []string{"MaxResults", "ShowSize"} {
			if got := jInt(t, b, k); got != int64(size) {
				t.Errorf("%s %d, want %d", k, got, size)
			}
		}
		if got := jInt(t, b, "CurrentPage"); got != int64(page) {
			t.Errorf("CurrentPage %d, want %d", got, page)
		}
		if got, want := jInt(t, b, "PageCount"), (tot+int64(size)-1)/int64(size); got != want {
			t.Errorf("PageCount %d, want %d", got, want)
		}
		items := jObjects(t, b, "List")
		for _, it := range items {
			out = append(out, jStr(t, it, "InstanceUuid"))
		}
		if token = jStr(t, b, "NextToken"); token == "" {
			return out, tot
		}
		if len(items) != size {
			t.Errorf("page %d holds %d items but a NextToken follows", page, len(items))
		}
		if page > 20 {
			t.Fatal("too many pages")
		}
	}
}

// caqFlip changes one base64url character of a token (its top data bit).
func caqFlip(s string, i int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := []byte(s)
	b[i] = alphabet[strings.IndexByte(alphabet, b[i])^0x20]
	return string(b)
}

// caqForgedTokens are tokens no listing may accept, derived from a genuine one.
func caqForgedTokens(tok string) map[string]string {
	random := make([]byte, 24)
	rand.Read(random)
	return map[string]string{
		"garbage":         "!!not a token!!",
		"short":           "abc",
		"random":          base64.RawURLEncoding.EncodeToString(random),
		"truncated":       tok[:len(tok)-2],
		"truncated-front": tok[2:],
		"extended":        tok + "AA",
		"tampered-first":  caqFlip(tok, 0),
		"tampered-last":   caqFlip(tok, len(tok)-1),
		"std-base64":      base64.StdEncoding.EncodeToString([]byte(tok)),
	}
}

// ---- DescribeCACertificateList ------------------------------------------------

// TestCAQueryDescribeCACertificateList checks the record of every CA and the
// JSON type of every field, and the defaults.
func TestCAQueryDescribeCACertificateList(t *testing.T) {
	ts := startServer(t, 0)
	acct := actorOf(t, ts).AccountID
	c0 := ts.client(t, "v3")
	w := caqBuildWorld(t, ts, c0, acct)
	alias := "my first root"
	if err := ts.app.store.UpdateCA(context.Background(), acct, w.ids["R1"], &alias, nil); err != nil {
		t.Fatal(err)
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		t.Run(mode+"/defaults", func(t *testing.T) {
			b := mustCall(t, c, "DescribeCACertificateList", nil)
			for k, want := range map[string]int64{"TotalCount": 5, "PageCount": 1, "CurrentPage": 1, "ShowSize": 20} {
				if got := jInt(t, b, k); got != want {
					t.Errorf("%s = %d, want %d", k, got, want)
				}
			}
			var got []string
			for _, it := range jObjects(t, b, "CertificateList") {
				got = append(got, jStr(t, it, "Identifier"))
			}
			if want := w.newest("R1", "S1", "S2", "R2", "X"); !equalStrings(got, want) {
				t.Errorf("order %v, want newest first %v", w.names(got), w.names(want))
			}
		})
		for _, tc := range []struct {
			name, typ, parent, status, alias, rg, issuer string
			years                                        int64
		}{
			{"R1", "ROOT", "", "ISSUE", alias, "rg-a", "local", 10},
			{"S1", "SUB_ROOT", "R1", "ISSUE", "", "", "local", 5},
			{"S2", "SUB_ROOT", "R1", "REVOKE", "", "", "local", 5},
			{"X", "SUB_ROOT", "R1", "ISSUE", "", "", "external", 10},
		} {
			t.Run(mode+"/record-"+tc.name, func(t *testing.T) {
				id := w.ids[tc.name]
				b := mustCall(t, c, "DescribeCACertificateList", map[string]string{"Identifier": id})
				list := jObjects(t, b, "CertificateList")
				if len(list) != 1 || jInt(t, b, "TotalCount") != 1 {
					t.Fatalf("Identifier filter gave %d items (TotalCount %v)", len(list), b["TotalCount"])
				}
				rec := list[0]
				cert := parsePEM(t, jStr(t, rec, "X509Certificate"))
				strs := map[string]string{
					"Identifier": id, "CertificateType": tc.typ, "Status": tc.status, "CommonName": cert.Subject.CommonName,
					"Algorithm": "ECC", "FullAlgorithm": "ECC_256", "SerialNumber": cert.SerialNumber.Text(16),
					"Alias": tc.alias, "ResourceGroupId": tc.rg, "IssuerType": tc.issuer, "Sans": "",
				}
				if tc.name != "X" {
					strs["Organization"], strs["OrganizationUnit"], strs["Locality"], strs["State"], strs["CountryCode"] =
						"pcad", "QA", "Hangzhou", "Zhejiang", "CN"
					strs["SubjectDN"] = cert.Subject.String()
				}
				for k, want := range strs {
					if got := jStr(t, rec, k); got != want {
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
				if tc.parent != "" {
					if got := jStr(t, rec, "ParentIdentifier"); got != w.ids[tc.parent] {
						t.Errorf("ParentIdentifier %q, want %q", got, w.ids[tc.parent])
					}
				} else if p, ok := rec["ParentIdentifier"]; ok && p != "" {
					t.Errorf("a root has ParentIdentifier %v", p)
				}
				md5hex, sha2hex := caqFingerprints(cert.Raw)
				if jStr(t, rec, "Md5") != md5hex || jStr(t, rec, "Sha2") != sha2hex {
					t.Errorf("Md5 %v Sha2 %v, want %s %s", rec["Md5"], rec["Sha2"], md5hex, sha2hex)
				}
				if tc.name != "X" && jStr(t, rec, "SignAlgorithm") == "" {
					t.Error("SignAlgorithm is empty")
				}
				ints := map[string]int64{"KeySize": 256, "BeforeDate": cert.NotBefore.UnixMilli(), "AfterDate": cert.NotAfter.UnixMilli(),
					"Years": tc.years, "Gift": 0, "Trial": 0}
				for k, want := range ints {
					if got := jInt(t, rec, k); got != want {
						t.Errorf("%s = %d, want %d", k, got, want)
					}
				}
			})
		}
	}
}

// caqFingerprints returns the lower-case hex MD5 and SHA-256 of der.
func caqFingerprints(der []byte) (string, string) {
	m, s := md5.Sum(der), sha256.Sum256(der)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

// TestCAQueryCAListFilters checks every DescribeCACertificateList filter
// (alone and combined) in page mode at three moments: with every CA within
// its validity, six years later (the 5-year sub-CAs expired), and a day
// before the CAs were made (none valid yet).
func TestCAQueryCAListFilters(t *testing.T) {
	clock := &fakeClock{}
	t0 := time.Now().UTC()
	clock.Set(t0)
	ts := startServerClock(t, clock)
	worlds := map[string]*caqWorld{}
	clients := map[string]*openapiclient.Client{}
	for _, mode := range modes {
		key := caqAccount(t, ts)
		clients[mode] = clientFor(t, ts, mode, key.ID, key.Secret)
		worlds[mode] = caqBuildWorld(t, ts, clients[mode], key.AccountID)
	}
	all := []string{"R1", "S1", "S2", "R2", "X"}
	type fcase struct {
		name   string
		filter map[string]string
		want   []string
	}
	phases := []struct {
		name  string
		at    time.Time
		cases []fcase
	}{
		{"now", t0.Add(time.Hour), []fcase{
			{"no-filter", nil, all},
			{"Identifier=S1", map[string]string{"Identifier": "S1"}, []string{"S1"}},
			{"Identifier=unknown", map[string]string{"Identifier": "01234567-89ab-7cde-8f01-23456789abcd"}, nil},
			{"CaStatus=issue", map[string]string{"CaStatus": "issue"}, []string{"R1", "S1", "R2", "X"}},
			{"CaStatus=forbidden", map[string]string{"CaStatus": "forbidden"}, nil},
			{"CaStatus=revoke", map[string]string{"CaStatus": "revoke"}, []string{"S2"}},
			{"CertType=root", map[string]string{"CertType": "root"}, []string{"R1", "R2"}},
			{"CertType=subRoot", map[string]string{"CertType": "subRoot"}, []string{"S1", "S2", "X"}},
			{"CertType=externalCa", map[string]string{"CertType": "externalCa"}, []string{"X"}},
			{"IssuerType=local", map[string]string{"IssuerType": "local"}, []string{"R1", "S1", "S2", "R2"}},
			{"IssuerType=external", map[string]string{"IssuerType": "external"}, []string{"X"}},
			{"IssuerType=iTrusChina", map[string]string{"IssuerType": "iTrusChina"}, nil},
			{"ValidStatus=valid", map[string]string{"ValidStatus": "valid"}, all},
			{"ValidStatus=notValid", map[string]string{"ValidStatus": "notValid"}, nil},
			{"ResourceGroupId=rg-a", map[string]string{"ResourceGroupId": "rg-a"}, []string{"R1"}},
			{"ResourceGroupId=rg-none", map[string]string{"ResourceGroupId": "rg-none"}, nil},
			{"externalCa+IssuerType=local", map[string]string{"CertType": "externalCa", "IssuerType": "local"}, nil},
			{"externalCa+IssuerType=external", map[string]string{"CertType": "externalCa", "IssuerType": "external"}, []string{"X"}},
			{"revoke+subRoot", map[string]string{"CaStatus": "revoke", "CertType": "subRoot"}, []string{"S2"}},
			{"issue+subRoot+local", map[string]string{"CaStatus": "issue", "CertType": "subRoot", "IssuerType": "local"}, []string{"S1"}},
			{"Identifier=R1+subRoot", map[string]string{"Identifier": "R1", "CertType": "subRoot"}, nil},
			{"empty-values-ignored", map[string]string{"CaStatus": "", "CertType": "", "Identifier": ""}, all},
		}},
		{"plus-6-years", t0.AddDate(6, 0, 0), []fcase{
			{"CaStatus=issue", map[string]string{"CaStatus": "issue"}, []string{"R1", "R2", "X"}},
			{"CaStatus=forbidden", map[string]string{"CaStatus": "forbidden"}, []string{"S1"}},
			{"CaStatus=revoke", map[string]string{"CaStatus": "revoke"}, []string{"S2"}},
			{"ValidStatus=valid", map[string]string{"ValidStatus": "valid"}, []string{"R1", "R2", "X"}},
			{"ValidStatus=notValid", map[string]string{"ValidStatus": "notValid"}, []string{"S1", "S2"}},
			{"issue+notValid", map[string]string{"CaStatus": "issue", "ValidStatus": "notValid"}, nil},
			{"forbidden+valid", map[string]string{"CaStatus": "forbidden", "ValidStatus": "valid"}, nil},
			{"forbidden+notValid", map[string]string{"CaStatus": "forbidden", "ValidStatus": "notValid"}, []string{"S1"}},
			{"revoke+notValid", map[string]string{"CaStatus": "revoke", "ValidStatus": "notValid"}, []string{"S2"}},
			{"forbidden+root", map[string]string{"CaStatus": "forbidden", "CertType": "root"}, nil},
		}},
		{"day-before", t0.AddDate(0, 0, -1), []fcase{
			{"CaStatus=forbidden", map[string]string{"CaStatus": "forbidden"}, []string{"R1", "S1", "R2", "X"}},
			{"CaStatus=issue", map[string]string{"CaStatus": "issue"}, nil},
			{"CaStatus=revoke", map[string]string{"CaStatus": "revoke"}, []string{"S2"}},
			{"ValidStatus=notValid", map[string]string{"ValidStatus": "notValid"}, all},
			{"ValidStatus=valid", map[string]string{"ValidStatus": "valid"}, nil},
		}},
	}
	for _, ph := range phases {
		clock.Set(ph.at)
		for _, mode := range modes {
			w, c := worlds[mode], clients[mode]
			for _, tc := range ph.cases {
				t.Run(ph.name+"/"+mode+"/"+tc.name, func(t *testing.T) {
					f := map[string]string{}
					for k, v := range tc.filter {
						if id, ok := w.ids[v]; ok && k == "Identifier" {
							v = id
						}
						f[k] = v
					}
					want := w.newest(tc.want...)
					got, tot := caqCollect(t, c, "DescribeCACertificateList", f, 2)
					if !equalStrings(got, want) {
						t.Errorf("got %v, want %v", w.names(got), w.names(want))
					}
					if tot != int64(len(want)) {
						t.Errorf("TotalCount %d, want %d", tot, len(want))
					}
				})
			}
		}
	}
}

// ---- DescribePcaAndExternalCACertificateList ------------------------------------

func TestCAQueryPcaAndExternalList(t *testing.T) {
	ts := startServer(t, 0)
	acct := actorOf(t, ts).AccountID
	w := caqBuildWorld(t, ts, ts.client(t, "v3"), acct)
	all := []string{"R1", "S1", "S2", "R2", "X"}
	ids := func(names ...string) string {
		var out []string
		for _, n := range names {
			if id, ok := w.ids[n]; ok {
				out = append(out, id)
			} else {
				out = append(out, n)
			}
		}
		return strings.Join(out, ",")
	}
	cases := []struct {
		name   string
		filter map[string]string
		want   []string
	}{
		{"no-filter", nil, all},
		{"KeyWord=beta-any-case", map[string]string{"KeyWord": "bEtA"}, []string{"S1"}},
		{"KeyWord=organization", map[string]string{"KeyWord": "other org"}, []string{"R2"}},
		{"KeyWord=shared-organization", map[string]string{"KeyWord": "pcad"}, []string{"R1", "S1", "S2"}},
		{"KeyWord=unit", map[string]string{"KeyWord": "qa"}, []string{"R1", "S1", "S2", "R2"}},
		{"KeyWord=root", map[string]string{"KeyWord": "Root"}, []string{"R1", "R2"}},
		{"KeyWord=no-match", map[string]string{"KeyWord": "zzz-nothing"}, nil},
		{"KeyWord=percent-is-literal", map[string]string{"KeyWord": "%"}, nil},
		{"KeyWord=underscore-is-literal", map[string]string{"KeyWord": "_"}, nil},
		{"Identifiers=two", map[string]string{"Identifiers": ids("S1", "R2")}, []string{"S1", "R2"}},
		{"Identifiers=spaces-and-empties", map[string]string{"Identifiers": " " + w.ids["X"] + " , ," + w.ids["R1"] + " "}, []string{"X", "R1"}},
		{"Identifiers=unknown-omitted", map[string]string{"Identifiers": ids("S1", "01234567-89ab-7cde-8f01-23456789abcd")}, []string{"S1"}},
		{"Identifiers=only-unknown", map[string]string{"Identifiers": "01234567-89ab-7cde-8f01-23456789abcd"}, nil},
		{"Identifiers+KeyWord", map[string]string{"Identifiers": ids("S1", "S2", "R2"), "KeyWord": "sub"}, []string{"S1", "S2"}},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		t.Run(mode+"/defaults", func(t *testing.T) {
			b := mustCall(t, c, "DescribePcaAndExternalCACertificateList", nil)
			for k, want := range map[string]int64{"TotalCount": 5, "PageCount": 1, "CurrentPage": 1, "ShowSize": 50} {
				if got := jInt(t, b, k); got != want {
					t.Errorf("%s = %d, want %d", k, got, want)
				}
			}
			for _, rec := range jObjects(t, b, "CertificateList") {
				cert := parsePEM(t, jStr(t, rec, "X509Certificate"))
				if _, ok := rec["ResourceGroupId"]; ok {
					t.Errorf("record carries ResourceGroupId, which this list does not define")
				}
				for _, k := range []string{"Identifier", "CertificateType", "Status", "CommonName", "SubjectDN", "Algorithm", "SerialNumber", "Md5", "Sha2"} {
					jStr(t, rec, k)
				}
				if got := jInt(t, rec, "AfterDate"); got != cert.NotAfter.UnixMilli() {
					t.Errorf("AfterDate %d, want %d", got, cert.NotAfter.UnixMilli())
				}
				if got := jInt(t, rec, "BeforeDate"); got != cert.NotBefore.UnixMilli() {
					t.Errorf("BeforeDate %d, want %d", got, cert.NotBefore.UnixMilli())
				}
				if got := jInt(t, rec, "KeySize"); got != 256 {
					t.Errorf("KeySize %d", got)
				}
			}
		})
		for _, tc := range cases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				want := w.newest(tc.want...)
				got, tot := caqCollect(t, c, "DescribePcaAndExternalCACertificateList", tc.filter, 2)
				if !equalStrings(got, want) || tot != int64(len(want)) {
					t.Errorf("got %v (TotalCount %d), want %v", w.names(got), tot, w.names(want))
				}
			})
		}
	}
}

// ---- DescribeCACertificateCount -----------------------------------------------

func TestCAQueryDescribeCACertificateCount(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			key := caqAccount(t, ts)
			c := clientFor(t, ts, mode, key.ID, key.Secret)
			count := func() int64 { return jInt(t, mustCall(t, c, "DescribeCACertificateCount", nil), "TotalCount") }
			if got := count(); got != 0 {
				t.Errorf("fresh account: TotalCount %d, want 0", got)
			}
			w := caqBuildWorld(t, ts, c, key.AccountID)
			if got := count(); got != 5 {
				t.Errorf("TotalCount %d, want 5 (roots + sub-CAs, revoked ones included)", got)
			}
			createSub(t, c, w.ids["R2"], "ECC_256", nil)
			if got := count(); got != 6 {
				t.Errorf("after one more sub-CA: TotalCount %d, want 6", got)
			}
		})
	}
}

// ---- ListPcaCaCertificate ---------------------------------------------------------

func TestCAQueryListPcaCaCertificate(t *testing.T) {
	ts := startServer(t, 0)
	acct := actorOf(t, ts).AccountID
	c0 := ts.client(t, "v3")
	w := caqBuildWorld(t, ts, c0, acct)
	all := w.newest("R1", "S1", "S2", "R2", "X")
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range []struct {
			size int
			want [][]string
		}{
			{1, [][]string{all[:1], all[1:2], all[2:3], all[3:4], all[4:]}},
			{2, [][]string{all[:2], all[2:4], all[4:]}},
			{4, [][]string{all[:4], all[4:]}},
			{5, [][]string{all}}, // a full last page ends the walk
			{2000, [][]string{all}},
		} {
			t.Run(fmt.Sprintf("%s/MaxResults=%d", mode, tc.size), func(t *testing.T) {
				got := caqTokenWalk(t, c, tc.size, 5)
				if fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("pages %v, want %v", got, tc.want)
				}
			})
		}
		t.Run(mode+"/defaults-and-fields", func(t *testing.T) {
			b := mustCall(t, c, "ListPcaCaCertificate", nil)
			if jInt(t, b, "MaxResults") != 20 || jInt(t, b, "TotalCount") != 5 || jStr(t, b, "NextToken") != "" {
				t.Errorf("MaxResults %v TotalCount %v NextToken %v, want 20, 5, empty", b["MaxResults"], b["TotalCount"], b["NextToken"])
			}
			items := jObjects(t, b, "List")
			if len(items) != 5 {
				t.Fatalf("%d items, want 5", len(items))
			}
			issuer := map[string]string{"R1": "R1", "S1": "R1", "S2": "R1", "R2": "R2", "X": "R1"}
			cn := map[string]string{"R1": "Alpha Root", "S1": "Beta Sub", "S2": "Gamma Sub", "R2": "Delta Root", "X": "Epsilon External"}
			for i, it := range items {
				name := w.name(all[i])
				_, inst := caqInstance(t, c, all[i])
				status := "ISSUE"
				if name == "S2" {
					status = "REVOKE"
				}
				want := map[string]string{"CertIdentifier": all[i], "IssuerIdentifier": w.ids[issuer[name]], "CommonName": cn[name],
					"Status": status, "PrivateCaInstanceId": inst, "PrivateCaRegionId": "local", "UserId": strconv.FormatInt(acct, 10)}
				for k, v := range want {
					if got := jStr(t, it, k); got != v {
						t.Errorf("%s: %s = %q, want %q", name, k, got, v)
					}
				}
			}
		})
		t.Run(mode+"/empty-NextToken-is-first-page", func(t *testing.T) {
			b := mustCall(t, c, "ListPcaCaCertificate", map[string]string{"NextToken": "", "MaxResults": "3"})
			if n := len(jArr(t, b, "List")); n != 3 || jStr(t, b, "NextToken") == "" {
				t.Errorf("%d items, NextToken %q", n, b["NextToken"])
			}
		})
	}
	for _, mode := range modes {
		t.Run(mode+"/stable-under-inserts", func(t *testing.T) {
			key := caqAccount(t, ts)
			c := clientFor(t, ts, mode, key.ID, key.Secret)
			w := caqBuildWorld(t, ts, c, key.AccountID)
			all := w.newest("R1", "S1", "S2", "R2", "X")
			b := mustCall(t, c, "ListPcaCaCertificate", map[string]string{"MaxResults": "2"})
			tok := jStr(t, b, "NextToken")
			// A new CA lands before the cursor: the walk neither repeats nor skips.
			createRoot(t, c, "ECC_256", map[string]string{"CommonName": "Late Root"})
			b = mustCall(t, c, "ListPcaCaCertificate", map[string]string{"MaxResults": "10", "NextToken": tok})
			var got []string
			for _, it := range jObjects(t, b, "List") {
				got = append(got, jStr(t, it, "CertIdentifier"))
			}
			if !equalStrings(got, all[2:]) {
				t.Errorf("after an insert: %v, want %v", w.names(got), w.names(all[2:]))
			}
			if n := jInt(t, b, "TotalCount"); n != 6 {
				t.Errorf("TotalCount %d, want 6 with the new CA", n)
			}
		})
	}
}

// TestCAQueryListPcaCaCertificateBadToken: forged, foreign and other
// listings' tokens are refused with InvalidParameter.NextToken.
func TestCAQueryListPcaCaCertificateBadToken(t *testing.T) {
	ts := startServer(t, 0)
	acct := actorOf(t, ts).AccountID
	c0 := ts.client(t, "v3")
	w := caqBuildWorld(t, ts, c0, acct)
	for range 3 {
		issueServer(t, c0, w.ids["S1"], nil)
	}
	tokenOf := func(c *openapiclient.Client, action string, q map[string]string) string {
		t.Helper()
		tok := jStr(t, mustCall(t, c, action, q), "NextToken")
		if tok == "" {
			t.Fatalf("%s %v gave no NextToken", action, q)
		}
		return tok
	}
	tok := tokenOf(c0, "ListPcaCaCertificate", map[string]string{"MaxResults": "2"})
	tokens := caqForgedTokens(tok)
	tokens["ListCert-token"] = tokenOf(c0, "ListCert", map[string]string{"MaxResults": "2"})
	tokens["ListAllEndEntityInstance-token"] = tokenOf(c0, "ListAllEndEntityInstance", map[string]string{"MaxResults": "2"})
	ts2 := startServer(t, 0)
	c2 := ts2.client(t, "v3")
	caqBuildWorld(t, ts2, c2, actorOf(t, ts2).AccountID)
	tokens["other-server"] = tokenOf(c2, "ListPcaCaCertificate", map[string]string{"MaxResults": "2"})
	for _, mode := range modes {
		c := ts.client(t, mode)
		for name, bad := range tokens {
			t.Run(mode+"/"+name, func(t *testing.T) {
				_, err := call(t, c, "ListPcaCaCertificate", map[string]string{"NextToken": bad})
				wantErr(t, err, http.StatusBadRequest, "InvalidParameter.NextToken", "NextToken")
			})
		}
		t.Run(mode+"/other-account", func(t *testing.T) {
			other := otherAccount(t, ts, mode)
			_, err := call(t, other, "ListPcaCaCertificate", map[string]string{"NextToken": tok, "MaxResults": "2"})
			wantErr(t, err, http.StatusBadRequest, "InvalidParameter.NextToken", "NextToken")
		})
		t.Run(mode+"/control", func(t *testing.T) {
			b := mustCall(t, c, "ListPcaCaCertificate", map[string]string{"NextToken": tok, "MaxResults": "2"})
			if n := len(jArr(t, b, "List")); n != 2 {
				t.Errorf("the genuine token gave %d items, want 2", n)
			}
		})
	}
}

// ---- ListCACertificateLog -----------------------------------------------------------

func TestCAQueryListCACertificateLog(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			start := time.Now().Add(-time.Second).UnixMilli()
			root, sub := hierarchy(t, c)
			subInst, _ := caqInstance(t, c, sub.ID)
			mustCall(t, c, "AssignCertificateCount", map[string]string{"Id": strconv.FormatInt(subInst, 10), "CertTotalCount": "7"})
			type entry struct{ op, content string }
			logOf := func(id string) []entry {
				t.Helper()
				var out []entry
				last := start
				for _, it := range jObjects(t, mustCall(t, c, "ListCACertificateLog", map[string]string{"Identifier": id}), "LogList") {
					if got := jStr(t, it, "Identifier"); got != id {
						t.Errorf("Identifier %q, want %q", got, id)
					}
					ct := jInt(t, it, "CreateTime")
					if ct < last || !near(time.UnixMilli(ct)) {
						t.Errorf("CreateTime %d is not a recent Unix ms time in order (previous %d)", ct, last)
					}
					last = ct
					out = append(out, entry{jStr(t, it, "OpType"), jStr(t, it, "Content")})
				}
				return out
			}
			cases := []struct {
				name string
				id   string
				want []struct {
					op      string
					mention []string
				}
			}{
				{"root", root.ID, []struct {
					op      string
					mention []string
				}{
					{"ADD", []string{"created ROOT CA", "CN=pcad Test Root ECC_256", "ECC_256", root.Cert.NotBefore.UTC().Format(time.DateTime), root.Cert.NotAfter.UTC().Format(time.DateTime)}},
					{"UPDATE", []string{"signed SUB_ROOT CA", sub.ID}},
				}},
				{"sub", sub.ID, []struct {
					op      string
					mention []string
				}{
					{"ADD", []string{"created SUB_ROOT CA", "CN=pcad Test Sub ECC_256", "ECC_256", "signed by CA " + root.ID, sub.Cert.NotAfter.UTC().Format(time.DateTime)}},
					{"UPDATE", []string{"certificate count", "set to 7", "was unlimited"}},
				}},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					got := logOf(tc.id)
					if len(got) != len(tc.want) {
						t.Fatalf("log %v, want %d entries", got, len(tc.want))
					}
					for i, w := range tc.want {
						if got[i].op != w.op {
							t.Errorf("entry %d OpType %q, want %q", i, got[i].op, w.op)
						}
						for _, m := range w.mention {
							if !strings.Contains(got[i].content, m) {
								t.Errorf("entry %d Content %q does not mention %q", i, got[i].content, m)
							}
						}
					}
				})
			}
		})
	}
}

// ---- GetCAInstanceStatus ----------------------------------------------------------

func TestCAQueryGetCAInstanceStatus(t *testing.T) {
	ts := startServer(t, 0)
	acct := actorOf(t, ts).AccountID
	c0 := ts.client(t, "v3")
	w := caqBuildWorld(t, ts, c0, acct)
	issueServer(t, c0, w.ids["S1"], nil)
	issueClient(t, c0, w.ids["S1"], nil)
	s1ID, s1UUID := caqInstance(t, c0, w.ids["S1"])
	mustCall(t, c0, "AssignCertificateCount", map[string]string{"Id": strconv.FormatInt(s1ID, 10), "CertTotalCount": "9"})
	cert := func(name string) *x509.Certificate {
		b := mustCall(t, c0, "DescribeCACertificate", map[string]string{"Identifier": w.ids[name]})
		return parsePEM(t, jStr(t, jObj(t, b, "Certificate"), "X509Certificate"))
	}
	cases := []struct {
		name, ca, typ, status string
		by                    string // "Identifier", "InstanceId" or "both"
		total, issued         int64
	}{
		{"sub-by-Identifier", "S1", "SUB_ROOT", "USED", "Identifier", 9, 2},
		{"sub-by-InstanceId", "S1", "SUB_ROOT", "USED", "InstanceId", 9, 2},
		{"sub-by-both", "S1", "SUB_ROOT", "USED", "both", 9, 2},
		{"root-counts-sub-CAs", "R1", "ROOT", "USED", "Identifier", 0, 3},
		{"revoked-sub", "S2", "SUB_ROOT", "REVOKE", "InstanceId", 0, 0},
		{"fresh-root", "R2", "ROOT", "USED", "Identifier", 0, 0},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range cases {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				id := w.ids[tc.ca]
				_, uuid := caqInstance(t, c0, id)
				q := map[string]string{}
				if tc.by != "InstanceId" {
					q["Identifier"] = id
				}
				if tc.by != "Identifier" {
					q["InstanceId"] = strings.ToUpper(uuid) // UUIDs match case-insensitively
				}
				list := jObjects(t, mustCall(t, c, "GetCAInstanceStatus", q), "InstanceStatusList")
				if len(list) != 1 {
					t.Fatalf("%d instances, want 1", len(list))
				}
				it := list[0]
				crt := cert(tc.ca)
				strs := map[string]string{"InstanceId": uuid, "Identifier": id, "Type": tc.typ, "Status": tc.status}
				for k, want := range strs {
					if got := jStr(t, it, k); got != want {
						t.Errorf("%s = %q, want %q", k, got, want)
					}
				}
				ints := map[string]int64{"CertTotalCount": tc.total, "CertIssuedCount": tc.issued, "BeforeTime": crt.NotBefore.UnixMilli(),
					"AfterTime": crt.NotAfter.UnixMilli(), "UseExpireTime": crt.NotAfter.UnixMilli()}
				for k, want := range ints {
					if got := jInt(t, it, k); got != want {
						t.Errorf("%s = %d, want %d", k, got, want)
					}
				}
				if jInt(t, it, "Id") <= 0 {
					t.Errorf("Id %v is not a positive number", it["Id"])
				}
				if tc.ca == "S1" && (uuid != s1UUID || jInt(t, it, "Id") != s1ID) {
					t.Errorf("instance %v/%v, want %d/%s", it["Id"], uuid, s1ID, s1UUID)
				}
			})
		}
	}
}

// ---- AssignCertificateCount and quota enforcement -------------------------------------

func TestCAQueryAssignCertificateCount(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c := ts.client(t, mode)
			root, sub := hierarchy(t, c)
			subInst, _ := caqInstance(t, c, sub.ID)
			rootInst, _ := caqInstance(t, c, root.ID)
			assign := func(id, total int64) {
				t.Helper()
				b := mustCall(t, c, "AssignCertificateCount", map[string]string{"Id": strconv.FormatInt(id, 10), "CertTotalCount": strconv.FormatInt(total, 10)})
				if got := jInt(t, b, "CertCount"); got != total {
					t.Errorf("CertCount %d, want %d", got, total)
				}
				if got := jInt(t, b, "CurrentYearFreeCertCount"); got != 0 {
					t.Errorf("CurrentYearFreeCertCount %d, want 0", got)
				}
			}
			counts := func(caID string) (total, issued, remaining int64) {
				t.Helper()
				rec := jObj(t, mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": caID}), "Certificate")
				return jInt(t, rec, "CertTotalCount"), jInt(t, rec, "CertIssuedCount"), jInt(t, rec, "CertRemainingCount")
			}
			refused := func(name, action string, params map[string]string) {
				t.Helper()
				t.Run(name, func(t *testing.T) {
					before := caqDigest(t, ts)
					_, err := call(t, c, action, params)
					wantErr(t, err, http.StatusBadRequest, "QuotaExceeded.CertificateCount")
					if after := caqDigest(t, ts); after != before {
						t.Errorf("a refused issue changed the store:\nbefore %s\nafter  %s", before, after)
					}
				})
			}

			// End-entity certificates of the sub-CA.
			assign(subInst, 2)
			issueServer(t, c, sub.ID, nil)
			issueClient(t, c, sub.ID, nil)
			refused("server-beyond-quota", "CreateServerCertificate", serverParams(sub.ID))
			refused("client-beyond-quota", "CreateClientCertificate", clientParams(sub.ID))
			if tot, iss, rem := counts(sub.ID); tot != 2 || iss != 2 || rem != 0 {
				t.Errorf("sub-CA counts total %d issued %d remaining %d, want 2 2 0", tot, iss, rem)
			}
			assign(subInst, 3)
			if _, _, rem := counts(sub.ID); rem != 1 {
				t.Errorf("remaining after raising the quota: %d, want 1", rem)
			}
			issueServer(t, c, sub.ID, nil)
			refused("server-beyond-raised-quota", "CreateServerCertificate", serverParams(sub.ID))
			assign(subInst, 1) // below what is issued: accepted, stops issuance
			refused("server-below-issued", "CreateServerCertificate", serverParams(sub.ID))
			assign(subInst, 0) // unlimited
			issueServer(t, c, sub.ID, nil)
			if tot, iss, _ := counts(sub.ID); tot != 0 || iss != 4 {
				t.Errorf("unlimited sub-CA: total %d issued %d, want 0 4", tot, iss)
			}

			// Sub-CAs of the root (one already drawn).
			assign(rootInst, 1)
			refused("sub-CA-beyond-quota", "CreateSubCACertificate", subParams(root.ID, "ECC_256"))
			assign(rootInst, 2)
			createSub(t, c, root.ID, "ECC_256", nil)
			refused("second-sub-CA-beyond-quota", "CreateSubCACertificate", subParams(root.ID, "ECC_256"))
			if tot, iss, rem := counts(root.ID); tot != 2 || iss != 2 || rem != 0 {
				t.Errorf("root counts total %d issued %d remaining %d, want 2 2 0", tot, iss, rem)
			}
			st := jObjects(t, mustCall(t, c, "GetCAInstanceStatus", map[string]string{"Identifier": root.ID}), "InstanceStatusList")[0]
			if jInt(t, st, "CertTotalCount") != 2 || jInt(t, st, "CertIssuedCount") != 2 {
				t.Errorf("GetCAInstanceStatus of the root: %v", st)
			}
		})
	}
}

// ---- ListAllEndEntityInstance ------------------------------------------------------------

func TestCAQueryListAllEndEntityInstance(t *testing.T) {
	ts := startServer(t, 0)
	acct := actorOf(t, ts).AccountID
	c0 := ts.client(t, "v3")
	w := caqBuildWorld(t, ts, c0, acct)
	issueServer(t, c0, w.ids["S1"], nil)
	inst := map[string]string{} // name -> UUID
	instID := map[string]int64{}
	for n, id := range w.ids {
		instID[n], inst[n] = caqInstance(t, c0, id)
	}
	mustCall(t, c0, "AssignCertificateCount", map[string]string{"Id": strconv.FormatInt(instID["S1"], 10), "CertTotalCount": "5"})
	uuids := func(names ...string) []string {
		out := []string{}
		for _, n := range names {
			out = append(out, inst[n])
		}
		return out
	}
	parent := func(n string) string { return strconv.FormatInt(instID[n], 10) }
	cases := []struct {
		name   string
		filter map[string]string
		want   []string // creation (id) order
	}{
		{"all", nil, uuids("R1", "S1", "S2", "R2", "X")},
		{"all-recursive-ignored", map[string]string{"RecursiveChildren": "1"}, uuids("R1", "S1", "S2", "R2", "X")},
		{"root-own", map[string]string{"ParentId": parent("R1")}, uuids("R1")},
		{"root-own-explicit-0", map[string]string{"ParentId": parent("R1"), "RecursiveChildren": "0"}, uuids("R1")},
		{"root-recursive", map[string]string{"ParentId": parent("R1"), "RecursiveChildren": "1"}, uuids("R1", "S1", "S2", "X")},
		{"sub", map[string]string{"ParentId": parent("S1")}, uuids("S1")},
		{"sub-recursive", map[string]string{"ParentId": parent("S1"), "RecursiveChildren": "1"}, uuids("S1")},
		{"other-root-recursive", map[string]string{"ParentId": parent("R2"), "RecursiveChildren": "1"}, uuids("R2")},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range cases {
			t.Run(mode+"/page/"+tc.name, func(t *testing.T) {
				var got []string
				var tot int64 = -1
				for page := int64(1); page <= 4; page++ {
					b := mustCall(t, c, "ListAllEndEntityInstance", with(tc.filter, map[string]string{"ShowSize": "2", "CurrentPage": strconv.FormatInt(page, 10)}))
					tot = jInt(t, b, "TotalCount")
					if jInt(t, b, "CurrentPage") != page || jInt(t, b, "ShowSize") != 2 || jInt(t, b, "MaxResults") != 2 ||
						jInt(t, b, "PageCount") != (tot+1)/2 || jStr(t, b, "NextToken") != "" {
						t.Errorf("page %d paging fields: %v", page, b)
					}
					for _, it := range jObjects(t, b, "List") {
						got = append(got, jStr(t, it, "InstanceUuid"))
					}
				}
				if !equalStrings(got, tc.want) || tot != int64(len(tc.want)) {
					t.Errorf("got %v (TotalCount %d), want %v", got, tot, tc.want)
				}
			})
			t.Run(mode+"/token/"+tc.name, func(t *testing.T) {
				got, tot := caqInstanceWalk(t, c, tc.filter, 2)
				if !equalStrings(got, tc.want) || tot != int64(len(tc.want)) {
					t.Errorf("got %v (TotalCount %d), want %v", got, tot, tc.want)
				}
			})
		}
		t.Run(mode+"/defaults-and-fields", func(t *testing.T) {
			b := mustCall(t, c, "ListAllEndEntityInstance", nil)
			for k, want := range map[string]int64{"TotalCount": 5, "PageCount": 1, "CurrentPage": 1, "ShowSize": 20, "MaxResults": 20} {
				if got := jInt(t, b, k); got != want {
					t.Errorf("%s = %d, want %d", k, got, want)
				}
			}
			type want struct {
				caType, status           string
				total, issued, remaining int64
				unlimited                bool
			}
			wants := map[string]want{
				"R1": {"ROOT", "USED", 0, 3, 0, true}, "S1": {"SUB_ROOT", "USED", 5, 1, 4, false},
				"S2": {"SUB_ROOT", "REVOKE", 0, 0, 0, true}, "R2": {"ROOT", "USED", 0, 0, 0, true}, "X": {"SUB_ROOT", "USED", 0, 0, 0, true},
			}
			for _, it := range jObjects(t, b, "List") {
				var name string
				for n, u := range inst {
					if u == jStr(t, it, "InstanceUuid") {
						name = n
					}
				}
				wt, ok := wants[name]
				if !ok {
					t.Fatalf("unexpected instance %v", it)
				}
				if jInt(t, it, "Id") != instID[name] || jStr(t, it, "CaIdentifier") != w.ids[name] || jStr(t, it, "CaType") != wt.caType ||
					jStr(t, it, "Status") != wt.status || jInt(t, it, "CertTotalCount") != wt.total || jInt(t, it, "CertIssuedCount") != wt.issued ||
					jInt(t, it, "CertRemainingCount") != wt.remaining || jBool(t, it, "Unlimited") != wt.unlimited {
					t.Errorf("%s: %v, want %+v", name, it, wt)
				}
			}
		})
	}
	t.Run("bad-tokens", func(t *testing.T) {
		tokenOf := func(action string, q map[string]string) string {
			t.Helper()
			tok := jStr(t, mustCall(t, c0, action, q), "NextToken")
			if tok == "" {
				t.Fatalf("%s %v gave no NextToken", action, q)
			}
			return tok
		}
		recursive := map[string]string{"ParentId": parent("R1"), "RecursiveChildren": "1", "MaxResults": "2"}
		tok := tokenOf("ListAllEndEntityInstance", recursive)
		bad := map[string]map[string]string{}
		for name, forged := range caqForgedTokens(tok) {
			bad[name] = with(recursive, map[string]string{"NextToken": forged})
		}
		bad["ListPcaCaCertificate-token"] = with(recursive, map[string]string{"NextToken": tokenOf("ListPcaCaCertificate", map[string]string{"MaxResults": "2"})})
		bad["RecursiveChildren-changed"] = with(recursive, map[string]string{"NextToken": tok, "RecursiveChildren": "0"})
		bad["ParentId-dropped"] = with(recursive, map[string]string{"NextToken": tok, "ParentId": drop, "RecursiveChildren": drop})
		bad["ParentId-changed"] = with(recursive, map[string]string{"NextToken": tok, "ParentId": parent("R2")})
		for _, mode := range modes {
			c := ts.client(t, mode)
			for name, q := range bad {
				t.Run(mode+"/"+name, func(t *testing.T) {
					_, err := call(t, c, "ListAllEndEntityInstance", q)
					wantErr(t, err, http.StatusBadRequest, "InvalidParameter.NextToken", "NextToken")
				})
			}
			t.Run(mode+"/control", func(t *testing.T) {
				b := mustCall(t, c, "ListAllEndEntityInstance", with(recursive, map[string]string{"NextToken": tok}))
				var got []string
				for _, it := range jObjects(t, b, "List") {
					got = append(got, jStr(t, it, "InstanceUuid"))
				}
				if !equalStrings(got, uuids("S2", "X")) || jInt(t, b, "CurrentPage") != 2 {
					t.Errorf("second page %v (CurrentPage %v), want S2, X", got, b["CurrentPage"])
				}
			})
		}
	})
}

// ---- DescribeCACertificate additions ----------------------------------------------------

func TestCAQueryDescribeCACertificateAdditions(t *testing.T) {
	ts := startServer(t, 0)
	acct := actorOf(t, ts).AccountID
	c0 := ts.client(t, "v3")
	w := caqBuildWorld(t, ts, c0, acct)
	alias := "the sub"
	if err := ts.app.store.UpdateCA(context.Background(), acct, w.ids["S1"], &alias, nil); err != nil {
		t.Fatal(err)
	}
	r1Inst, _ := caqInstance(t, c0, w.ids["R1"])
	mustCall(t, c0, "AssignCertificateCount", map[string]string{"Id": strconv.FormatInt(r1Inst, 10), "CertTotalCount": "5"})
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range []struct {
			name, alias, issuer      string
			total, issued, remaining int64
		}{
			{"R1", "", "local", 5, 3, 2}, // S1, S2 and X drew on the root's instance
			{"S1", alias, "local", 0, 0, 0},
			{"R2", "", "local", 0, 0, 0},
			{"X", "", "external", 0, 0, 0},
		} {
			t.Run(mode+"/"+tc.name, func(t *testing.T) {
				rec := jObj(t, mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": w.ids[tc.name]}), "Certificate")
				if got := jStr(t, rec, "Alias"); got != tc.alias {
					t.Errorf("Alias %q, want %q", got, tc.alias)
				}
				if got := jStr(t, rec, "IssuerType"); got != tc.issuer {
					t.Errorf("IssuerType %q, want %q", got, tc.issuer)
				}
				got := [3]int64{jInt(t, rec, "CertTotalCount"), jInt(t, rec, "CertIssuedCount"), jInt(t, rec, "CertRemainingCount")}
				if want := [3]int64{tc.total, tc.issued, tc.remaining}; got != want {
					t.Errorf("total/issued/remaining %v, want %v", got, want)
				}
			})
		}
	}
}

// ---- bad input ------------------------------------------------------------------------------

func TestCAQueryBadInput(t *testing.T) {
	ts := startServer(t, 0)
	acct := actorOf(t, ts).AccountID
	c0 := ts.client(t, "v3")
	w := caqBuildWorld(t, ts, c0, acct)
	leaf := issueServer(t, c0, w.ids["S1"], nil)
	s1ID, s1UUID := caqInstance(t, c0, w.ids["S1"])
	_, r2UUID := caqInstance(t, c0, w.ids["R2"])
	const (
		unknownCA   = "01234567-89ab-7cde-8f01-23456789abcd"
		unknownUUID = "01234567-89ab-7cde-8f01-000000000000"
		bad         = http.StatusBadRequest
		nf          = http.StatusNotFound
		list        = "DescribeCACertificateList"
		pcaExt      = "DescribePcaAndExternalCACertificateList"
		pcaList     = "ListPcaCaCertificate"
		logAct      = "ListCACertificateLog"
		status      = "GetCAInstanceStatus"
		assign      = "AssignCertificateCount"
		instances   = "ListAllEndEntityInstance"
	)
	long := strings.Repeat("a", 65)
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf("id-%d", i))
	}
	s1 := strconv.FormatInt(s1ID, 10)
	cases := []struct {
		name, action string
		params       map[string]string
		status       int
		code         string
		mention      []string
	}{
		{"CurrentPage=0", list, map[string]string{"CurrentPage": "0"}, bad, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
		{"CurrentPage=-1", list, map[string]string{"CurrentPage": "-1"}, bad, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
		{"CurrentPage=abc", list, map[string]string{"CurrentPage": "abc"}, bad, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
		{"CurrentPage=1.5", list, map[string]string{"CurrentPage": "1.5"}, bad, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
		{"CurrentPage=2^31", list, map[string]string{"CurrentPage": "2147483648"}, bad, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
		{"ShowSize=0", list, map[string]string{"ShowSize": "0"}, bad, "InvalidParameter.ShowSize", []string{"ShowSize"}},
		{"ShowSize=1001", list, map[string]string{"ShowSize": "1001"}, bad, "InvalidParameter.ShowSize", []string{"ShowSize"}},
		{"ShowSize=abc", list, map[string]string{"ShowSize": "abc"}, bad, "InvalidParameter.ShowSize", []string{"ShowSize"}},
		{"CaStatus=ISSUE", list, map[string]string{"CaStatus": "ISSUE"}, bad, "InvalidParameter.CaStatus", []string{"CaStatus"}},
		{"CaStatus=expired", list, map[string]string{"CaStatus": "expired"}, bad, "InvalidParameter.CaStatus", []string{"CaStatus"}},
		{"CertType=ROOT", list, map[string]string{"CertType": "ROOT"}, bad, "InvalidParameter.CertType", []string{"CertType"}},
		{"CertType=SUB_ROOT", list, map[string]string{"CertType": "SUB_ROOT"}, bad, "InvalidParameter.CertType", []string{"CertType"}},
		{"IssuerType=LOCAL", list, map[string]string{"IssuerType": "LOCAL"}, bad, "InvalidParameter.IssuerType", []string{"IssuerType"}},
		{"ValidStatus=VALID", list, map[string]string{"ValidStatus": "VALID"}, bad, "InvalidParameter.ValidStatus", []string{"ValidStatus"}},
		{"Identifier-too-long", list, map[string]string{"Identifier": long}, bad, "InvalidParameter.Identifier", []string{"Identifier"}},
		{"ResourceGroupId-too-long", list, map[string]string{"ResourceGroupId": long}, bad, "InvalidParameter.ResourceGroupId", []string{"ResourceGroupId"}},

		{"CurrentPage=0", pcaExt, map[string]string{"CurrentPage": "0"}, bad, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
		{"ShowSize=0", pcaExt, map[string]string{"ShowSize": "0"}, bad, "InvalidParameter.ShowSize", []string{"ShowSize"}},
		{"ShowSize=1001", pcaExt, map[string]string{"ShowSize": "1001"}, bad, "InvalidParameter.ShowSize", []string{"ShowSize"}},
		{"KeyWord-too-long", pcaExt, map[string]string{"KeyWord": strings.Repeat("k", 129)}, bad, "InvalidParameter.KeyWord", []string{"KeyWord"}},
		{"Identifiers-entry-too-long", pcaExt, map[string]string{"Identifiers": w.ids["R1"] + "," + long}, bad, "InvalidParameter.Identifiers", []string{"Identifiers"}},
		{"Identifiers-too-many", pcaExt, map[string]string{"Identifiers": strings.Join(many, ",")}, bad, "InvalidParameter.Identifiers", []string{"Identifiers", "100"}},

		{"MaxResults=0", pcaList, map[string]string{"MaxResults": "0"}, bad, "InvalidParameter.MaxResults", []string{"MaxResults"}},
		{"MaxResults=2001", pcaList, map[string]string{"MaxResults": "2001"}, bad, "InvalidParameter.MaxResults", []string{"MaxResults"}},
		{"MaxResults=-1", pcaList, map[string]string{"MaxResults": "-1"}, bad, "InvalidParameter.MaxResults", []string{"MaxResults"}},
		{"MaxResults=abc", pcaList, map[string]string{"MaxResults": "abc"}, bad, "InvalidParameter.MaxResults", []string{"MaxResults"}},
		{"NextToken=garbage", pcaList, map[string]string{"NextToken": "garbage!"}, bad, "InvalidParameter.NextToken", []string{"NextToken"}},

		{"missing-Identifier", logAct, map[string]string{}, bad, "MissingParameter", []string{"Identifier"}},
		{"empty-Identifier", logAct, map[string]string{"Identifier": ""}, bad, "MissingParameter", []string{"Identifier"}},
		{"unknown-Identifier", logAct, map[string]string{"Identifier": unknownCA}, nf, "NotFound.CA", []string{"Identifier"}},
		{"leaf-Identifier", logAct, map[string]string{"Identifier": leaf}, nf, "NotFound.CA", []string{"Identifier"}},

		{"missing-both", status, map[string]string{}, bad, "MissingParameter", []string{"InstanceId", "Identifier"}},
		{"InstanceId-not-a-UUID", status, map[string]string{"InstanceId": "cas-member-123"}, bad, "InvalidParameter.InstanceId", []string{"InstanceId"}},
		{"unknown-InstanceId", status, map[string]string{"InstanceId": unknownUUID}, nf, "NotFound.Instance", []string{"InstanceId"}},
		{"unknown-Identifier", status, map[string]string{"Identifier": unknownCA}, nf, "NotFound.CA", []string{"Identifier"}},
		{"unknown-Identifier-with-InstanceId", status, map[string]string{"Identifier": unknownCA, "InstanceId": s1UUID}, nf, "NotFound.CA", []string{"Identifier"}},
		{"mismatched-pair", status, map[string]string{"Identifier": w.ids["S1"], "InstanceId": r2UUID}, bad, "InvalidParameter.InstanceId", []string{"InstanceId", "Identifier"}},

		{"missing-Id", assign, map[string]string{"CertTotalCount": "5"}, bad, "MissingParameter", []string{"Id"}},
		{"missing-CertTotalCount", assign, map[string]string{"Id": s1}, bad, "MissingParameter", []string{"CertTotalCount"}},
		{"Id=0", assign, map[string]string{"Id": "0", "CertTotalCount": "5"}, bad, "InvalidParameter.Id", []string{"Id"}},
		{"Id=-1", assign, map[string]string{"Id": "-1", "CertTotalCount": "5"}, bad, "InvalidParameter.Id", []string{"Id"}},
		{"Id=abc", assign, map[string]string{"Id": "abc", "CertTotalCount": "5"}, bad, "InvalidParameter.Id", []string{"Id"}},
		{"Id=uuid", assign, map[string]string{"Id": s1UUID, "CertTotalCount": "5"}, bad, "InvalidParameter.Id", []string{"Id"}},
		{"CertTotalCount=-1", assign, map[string]string{"Id": s1, "CertTotalCount": "-1"}, bad, "InvalidParameter.CertTotalCount", []string{"CertTotalCount"}},
		{"CertTotalCount=2^31", assign, map[string]string{"Id": s1, "CertTotalCount": "2147483648"}, bad, "InvalidParameter.CertTotalCount", []string{"CertTotalCount"}},
		{"CertTotalCount=abc", assign, map[string]string{"Id": s1, "CertTotalCount": "abc"}, bad, "InvalidParameter.CertTotalCount", []string{"CertTotalCount"}},
		{"CertTotalCount=1.5", assign, map[string]string{"Id": s1, "CertTotalCount": "1.5"}, bad, "InvalidParameter.CertTotalCount", []string{"CertTotalCount"}},
		{"unknown-Id", assign, map[string]string{"Id": "987654321", "CertTotalCount": "5"}, nf, "NotFound.Instance", []string{"Id"}},

		{"ParentId=0", instances, map[string]string{"ParentId": "0"}, bad, "InvalidParameter.ParentId", []string{"ParentId"}},
		{"ParentId=-1", instances, map[string]string{"ParentId": "-1"}, bad, "InvalidParameter.ParentId", []string{"ParentId"}},
		{"ParentId=abc", instances, map[string]string{"ParentId": "abc"}, bad, "InvalidParameter.ParentId", []string{"ParentId"}},
		{"unknown-ParentId", instances, map[string]string{"ParentId": "987654321"}, nf, "NotFound.Instance", []string{"ParentId"}},
		{"unknown-ParentId-recursive", instances, map[string]string{"ParentId": "987654321", "RecursiveChildren": "1"}, nf, "NotFound.Instance", []string{"ParentId"}},
		{"RecursiveChildren=2", instances, map[string]string{"RecursiveChildren": "2"}, bad, "InvalidParameter.RecursiveChildren", []string{"RecursiveChildren"}},
		{"RecursiveChildren=-1", instances, map[string]string{"RecursiveChildren": "-1"}, bad, "InvalidParameter.RecursiveChildren", []string{"RecursiveChildren"}},
		{"RecursiveChildren=true", instances, map[string]string{"RecursiveChildren": "true"}, bad, "InvalidParameter.RecursiveChildren", []string{"RecursiveChildren"}},
		{"ShowSize=0", instances, map[string]string{"ShowSize": "0"}, bad, "InvalidParameter.ShowSize", []string{"ShowSize"}},
		{"ShowSize=1001", instances, map[string]string{"ShowSize": "1001"}, bad, "InvalidParameter.ShowSize", []string{"ShowSize"}},
		{"CurrentPage=0", instances, map[string]string{"CurrentPage": "0"}, bad, "InvalidParameter.CurrentPage", []string{"CurrentPage"}},
		{"MaxResults=0", instances, map[string]string{"MaxResults": "0"}, bad, "InvalidParameter.MaxResults", []string{"MaxResults"}},
		{"MaxResults=1001", instances, map[string]string{"MaxResults": "1001"}, bad, "InvalidParameter.MaxResults", []string{"MaxResults"}},
		{"mixed-modes", instances, map[string]string{"CurrentPage": "1", "MaxResults": "2"}, bad, "InvalidParameter", []string{"CurrentPage", "MaxResults"}},
		{"mixed-modes-token", instances, map[string]string{"ShowSize": "5", "NextToken": ""}, bad, "InvalidParameter", []string{"ShowSize", "NextToken"}},
		{"NextToken=garbage", instances, map[string]string{"NextToken": "garbage!"}, bad, "InvalidParameter.NextToken", []string{"NextToken"}},
	}
	for _, mode := range modes {
		c := ts.client(t, mode)
		for _, tc := range cases {
			t.Run(mode+"/"+tc.action+"/"+tc.name, func(t *testing.T) {
				before := caqDigest(t, ts)
				_, err := call(t, c, tc.action, tc.params)
				wantErr(t, err, tc.status, tc.code, tc.mention...)
				if after := caqDigest(t, ts); after != before {
					t.Errorf("a refused request changed the store:\nbefore %s\nafter  %s", before, after)
				}
			})
		}
	}
	// Controls: the same actions succeed with good input.
	t.Run("controls", func(t *testing.T) {
		mustCall(t, c0, list, map[string]string{"CurrentPage": "2147483647", "ShowSize": "1000"})
		mustCall(t, c0, pcaExt, map[string]string{"Identifiers": strings.Join(many[:100], ",")})
		mustCall(t, c0, pcaList, map[string]string{"MaxResults": "2000"})
		mustCall(t, c0, status, map[string]string{"Identifier": w.ids["S1"], "InstanceId": s1UUID})
		mustCall(t, c0, assign, map[string]string{"Id": s1, "CertTotalCount": "2147483647"})
		mustCall(t, c0, instances, map[string]string{"ParentId": s1, "RecursiveChildren": "1", "ShowSize": "1000"})
	})
}

// ---- tenancy ------------------------------------------------------------------------------------

func TestCAQueryTenantIsolation(t *testing.T) {
	ts := startServer(t, 0)
	acct := actorOf(t, ts).AccountID
	a := ts.client(t, "v3")
	w := caqBuildWorld(t, ts, a, acct)
	s1ID, s1UUID := caqInstance(t, a, w.ids["S1"])
	r1ID, _ := caqInstance(t, a, w.ids["R1"])
	pcaTok := jStr(t, mustCall(t, a, "ListPcaCaCertificate", map[string]string{"MaxResults": "2"}), "NextToken")
	instTok := jStr(t, mustCall(t, a, "ListAllEndEntityInstance", map[string]string{"MaxResults": "2"}), "NextToken")
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			b := otherAccount(t, ts, mode)
			empties := []struct {
				action, listKey string
				q               map[string]string
			}{
				{"DescribeCACertificateList", "CertificateList", nil},
				{"DescribeCACertificateList", "CertificateList", map[string]string{"Identifier": w.ids["R1"]}},
				{"DescribePcaAndExternalCACertificateList", "CertificateList", map[string]string{"Identifiers": w.ids["R1"] + "," + w.ids["S1"]}},
				{"DescribePcaAndExternalCACertificateList", "CertificateList", map[string]string{"KeyWord": "Alpha"}},
				{"ListPcaCaCertificate", "List", nil},
				{"ListAllEndEntityInstance", "List", nil},
			}
			for _, e := range empties {
				res := mustCall(t, b, e.action, e.q)
				if n := jInt(t, res, "TotalCount"); n != 0 || len(jArr(t, res, e.listKey)) != 0 {
					t.Errorf("%s %v: the other account sees %d", e.action, e.q, n)
				}
			}
			if n := jInt(t, mustCall(t, b, "DescribeCACertificateCount", nil), "TotalCount"); n != 0 {
				t.Errorf("DescribeCACertificateCount %d, want 0", n)
			}
			refusals := []struct {
				name, action string
				q            map[string]string
				status       int
				code, param  string
			}{
				{"log", "ListCACertificateLog", map[string]string{"Identifier": w.ids["R1"]}, http.StatusNotFound, "NotFound.CA", "Identifier"},
				{"status-by-Identifier", "GetCAInstanceStatus", map[string]string{"Identifier": w.ids["S1"]}, http.StatusNotFound, "NotFound.CA", "Identifier"},
				{"status-by-InstanceId", "GetCAInstanceStatus", map[string]string{"InstanceId": s1UUID}, http.StatusNotFound, "NotFound.Instance", "InstanceId"},
				{"assign", "AssignCertificateCount", map[string]string{"Id": strconv.FormatInt(s1ID, 10), "CertTotalCount": "1"}, http.StatusNotFound, "NotFound.Instance", "Id"},
				{"instances-of-parent", "ListAllEndEntityInstance", map[string]string{"ParentId": strconv.FormatInt(r1ID, 10), "RecursiveChildren": "1"}, http.StatusNotFound, "NotFound.Instance", "ParentId"},
				{"pca-token", "ListPcaCaCertificate", map[string]string{"NextToken": pcaTok}, http.StatusBadRequest, "InvalidParameter.NextToken", "NextToken"},
				{"instance-token", "ListAllEndEntityInstance", map[string]string{"NextToken": instTok}, http.StatusBadRequest, "InvalidParameter.NextToken", "NextToken"},
			}
			for _, r := range refusals {
				t.Run(r.name, func(t *testing.T) {
					before := caqDigest(t, ts)
					_, err := call(t, b, r.action, r.q)
					wantErr(t, err, r.status, r.code, r.param)
					if after := caqDigest(t, ts); after != before {
						t.Errorf("a foreign request changed the store:\nbefore %s\nafter  %s", before, after)
					}
				})
			}
			// The other account's own CA is its own; the first account is untouched.
			own := createRoot(t, b, "ECC_256", nil)
			res := mustCall(t, b, "DescribeCACertificateList", nil)
			if items := jObjects(t, res, "CertificateList"); len(items) != 1 || jStr(t, items[0], "Identifier") != own.ID {
				t.Errorf("the other account lists %v, want only its own root", items)
			}
			if n := jInt(t, mustCall(t, a, "DescribeCACertificateCount", nil), "TotalCount"); n != 5 {
				t.Errorf("first account count %d, want 5", n)
			}
			st := jObjects(t, mustCall(t, a, "GetCAInstanceStatus", map[string]string{"Identifier": w.ids["S1"]}), "InstanceStatusList")[0]
			if jInt(t, st, "CertTotalCount") != 0 {
				t.Errorf("a foreign AssignCertificateCount changed the quota: %v", st)
			}
		})
	}
}
