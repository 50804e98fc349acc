// Package storetest is the conformance suite every store.Store backend must
// pass. It tests only the contract written in package store, never a
// backend's internals, so the same suite runs on SQLite and PostgreSQL.
//
// A backend's test calls Run with a function that opens a fresh, empty store
// for each subtest and registers its cleanup with t.Cleanup. Subtests run one
// after another (never in parallel), so a backend may reset one shared
// database per subtest.
package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// opener returns a fresh, empty store for one subtest; the caller closes it
// with t.Cleanup.
type opener = func(t *testing.T) store.Store

// Run runs the whole conformance suite against the stores open returns.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open opener)
	}{
		{"Accounts/Create", testCreateAccount},
		{"Accounts/Count", testCountAccounts},
		{"Accounts/AccessKey", testGetAccessKey},
		{"Accounts/DuplicateAccessKey", testDuplicateAccessKey},
		{"Secrets/Get", testGetSecret},
		{"Secrets/FirstWriterWins", testPutSecretIfAbsent},
		{"Secrets/Concurrent", testPutSecretConcurrent},
		{"Keys/RoundTrip", testKeyRoundTrip},
		{"Keys/NotFound", testKeyNotFound},
		{"Keys/DuplicateRef", testKeyDuplicate},
		{"Serials/Reserve", testReserveSerial},
		{"CAs/RoundTrip", testCARoundTrip},
		{"CAs/StoresKey", testCAStoresKey},
		{"CAs/NotFound", testCANotFound},
		{"CAs/DuplicateIdentifier", testCADuplicate},
		{"Instances/Default", testDefaultInstance},
		{"Instances/NotFound", testInstanceNotFound},
		{"Certificates/RoundTrip", testCertRoundTrip},
		{"Certificates/NotFound", testCertNotFound},
		{"Certificates/Conflict", testCertConflict},
		{"Certificates/CustomIdentifierPerAccount", testCustomIDPerAccount},
		{"Certificates/OtherAccountInstance", testCertOtherAccountInstance},
		{"Certificates/DrawsFromInstance", testCertDraws},
		{"Certificates/UnlimitedByDefault", testQuotaUnlimited},
		{"Certificates/Quota", testQuota},
		{"Certificates/QuotaBelowIssued", testQuotaBelowIssued},
		{"Certificates/SetQuotaNotFound", testSetQuotaNotFound},
		{"Certificates/ConcurrentInsert", testCertConcurrentInsert},
		{"Certificates/InsertIssued", testInsertIssued},
		{"Certificates/ConcurrentIssueRevoke", testConcurrentIssueRevoke},
		{"Revoke/IssueToRevoke", testRevoke},
		{"Revoke/Twice", testRevokeTwice},
		{"Revoke/NotFound", testRevokeNotFound},
		{"List/NewestFirst", testListNewestFirst},
		{"List/ItemsMatchGet", testListItems},
		{"List/Filters", testListFilters},
		{"List/DateBounds", testListDateBounds},
		{"List/WindowTotals", testListWindowTotals},
		{"List/UnknownFilter", testListUnknown},
		{"List/TotalAfterRevoke", testListTotalAfterRevoke},
		{"List/TotalIgnoresPaging", testListTotalIgnoresPaging},
		{"List/KeysetPaging", testListKeyset},
		{"List/OffsetPaging", testListOffset},
		{"List/OffsetPastEnd", testListOffsetPastEnd},
		{"List/TenantIsolation", testListTenants},
		{"Context/Canceled", testCanceled},
		{"CAs/InstanceForEveryCA", testCreateCAInstances},
		{"CAs/SubDrawsFromParent", testCreateSubDraws},
		{"CAs/ParentWithoutInstance", testCreateSubNoParentInstance},
		{"CAs/CreateRefused", testCreateCARefused},
		{"CAs/ParentOfOtherAccount", testCreateCAParentOfOtherAccount},
		{"CAs/Revoke", testRevokeCA},
		{"CAs/RevokeTwice", testRevokeCATwice},
		{"CAs/RevokeNotFound", testRevokeCANotFound},
		{"CAs/Update", testUpdateCA},
		{"CAs/Events", testCAEvents},
		{"Audit/ForResource", testAuditForResource},
		{"CAs/InstanceByID", testInstanceByID},
		{"CAs/ListInstances", testListInstances},
		{"CAList/Filters", testListCAsFilters},
		{"CAList/KeysetPaging", testListCAsKeyset},
		{"CAList/OffsetPaging", testListCAsOffset},
		{"Lifecycle/Delete", testDeleteCertificate},
		{"Lifecycle/DeleteCounts", testDeleteCounts},
		{"Lifecycle/Update", testUpdateCertificate},
		{"Lifecycle/BySerial", testCertificatesBySerial},
		{"Lifecycle/UploadFlag", testSetUploadFlag},
		{"Lifecycle/ResourceGroup", testSetResourceGroup},
		{"Tags/Set", testSetTags},
		{"Tags/KeyOrder", testTagsKeyOrder},
		{"Tags/Remove", testRemoveTags},
		{"Tags/Get", testGetTags},
		{"Tags/Tenants", testTagsTenants},
		{"Tags/Find", testFindTagged},
		{"Idempotency/Claim", testIdempotencyClaim},
		{"Idempotency/Complete", testIdempotencyComplete},
		{"Idempotency/Release", testIdempotencyRelease},
		{"Idempotency/Scope", testIdempotencyScope},
		{"Idempotency/Concurrent", testIdempotencyConcurrent},
		{"PKI/AllCAs", testAllCAs},
		{"PKI/CertificateByIssuerSerial", testCertificateByIssuerSerial},
		{"PKI/RevokeRecords", testRevokeRecords},
		{"PKI/RevocationSeq", testRevocationSeq},
		{"PKI/Revocations", testRevocations},
		{"PKI/RevocationsStop", testRevocationsStop},
		{"PKI/RevocationsManyBatches", testRevocationsMany},
		{"PKI/CRL", testCRL},
		{"PKI/CRLConcurrent", testCRLConcurrent},
		{"Context/CanceledLifecycle", testCanceledLifecycle},
		{"Leases/Sequence", testLeaseSequence},
		{"Leases/Concurrent", testLeaseConcurrent},
		{"DataKeys/RoundTrip", testDataKeys},
		{"DataKeys/FirstWriterWins", testDataKeysFirstWriterWins},
		{"DataKeys/Rewrap", testRewrapDataKey},
		{"DataKeys/ListSealedValues", testListSealedValues},
		{"DataKeys/SwapSealedValue", testSwapSealedValue},
		{"DataKeys/Canceled", testDataKeysCanceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// t0 is the suite's fixed clock: a time with sub-millisecond digits in a
// zone other than UTC, so that every round trip checks precision and zone.
var t0 = time.Date(2026, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+05:30", 5*3600+30*60))

// msUTC is t as the contract returns it: millisecond precision, UTC.
func msUTC(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}

// fixture is one fresh store plus deterministic generators for unique values.
type fixture struct {
	t   *testing.T
	s   store.Store
	ctx context.Context
	seq int
}

func newFixture(t *testing.T, open opener) *fixture {
	t.Helper()
	s := open(t)
	if s == nil {
		t.Fatal("open returned a nil store")
	}
	return &fixture{t: t, s: s, ctx: t.Context()}
}

// next returns a number never returned before by this fixture.
func (f *fixture) next() int {
	f.seq++
	return f.seq
}

// uuid returns a fresh lower-case version-7-shaped UUID. It always holds
// hex letters, so that upper-casing it changes it.
func (f *fixture) uuid() string {
	n := f.next()
	return fmt.Sprintf("%08x-cafe-7abc-8def-%012x", n, n)
}

// account creates an account with one access key and returns it.
func (f *fixture) account() pca.Account {
	f.t.Helper()
	a, _, err := f.s.CreateAccount(f.ctx, fmt.Sprintf("acct-%d", f.next()),
		store.AccessKeyRecord{ID: fmt.Sprintf("AK%06d", f.next()), SecretSealed: []byte{1, 2, 3}, Active: true, Created: t0}, t0)
	if err != nil {
		f.t.Fatalf("CreateAccount: %v", err)
	}
	return a
}

// issuer is a sub-CA and its default end-entity instance.
type issuer struct {
	ca   pca.CA
	inst pca.Instance
}

// newCA returns a CA record of account acct, not yet stored, and its key.
func (f *fixture) newCA(acct pca.Account, parent *pca.CA) (pca.CA, store.KeyRecord) {
	n := f.next()
	ca := pca.CA{
		AccountID:  acct.ID,
		Identifier: f.uuid(),
		Type:       pca.CARoot,
		Status:     pca.StatusIssue,
		Subject: pca.Subject{CommonName: fmt.Sprintf("CA %d", n), Organization: "Example Org", OrganizationUnit: "PKI",
			Locality: "Hangzhou", State: "Zhejiang", Country: "CN"},
		SubjectDN:         fmt.Sprintf("CN=CA %d,OU=PKI,O=Example Org,L=Hangzhou,ST=Zhejiang,C=CN", n),
		Algorithm:         pca.RSA2048,
		KeyRef:            fmt.Sprintf("key-ca-%d", n),
		SerialNumber:      fmt.Sprintf("0a%04x", n),
		DER:               []byte{0x30, 0x82, 0x00, byte(n), 0xff},
		NotBefore:         t0,
		NotAfter:          t0.AddDate(10, 0, 0),
		Years:             10,
		PathLen:           2,
		ExtendedKeyUsages: []string{"serverAuth", "clientAuth"},
		CertMaxTime:       365,
		EnableCRL:         true,
		CRLDays:           7,
		ResourceGroupID:   "rg-ca",
		Tags:              []pca.Tag{{Key: "env", Value: "prod"}, {Key: "team", Value: "pki"}},
		IssuerType:        "local",
		AliasName:         fmt.Sprintf("ca-alias-%d", n),
		Created:           t0,
	}
	if parent != nil {
		ca.Type, ca.ParentID, ca.InstanceUUID = pca.CASub, parent.ID, f.uuid()
		ca.PathLen, ca.Years, ca.EnableCRL, ca.CRLDays = 0, 5, false, 0
		ca.NotAfter = t0.AddDate(5, 0, 0)
	}
	key := store.KeyRecord{Ref: ca.KeyRef, AccountID: acct.ID, Algorithm: ca.Algorithm, Sealed: []byte{0, 0xca, byte(n)}, Created: t0}
	return ca, key
}

// root creates a root CA of account acct.
func (f *fixture) root(acct pca.Account) pca.CA {
	f.t.Helper()
	ca, key := f.newCA(acct, nil)
	if err := f.s.CreateCA(f.ctx, &ca, key); err != nil {
		f.t.Fatalf("CreateCA(root): %v", err)
	}
	return ca
}

// sub creates a sub-CA under root and returns it with its default instance.
func (f *fixture) sub(root pca.CA) issuer {
	f.t.Helper()
	ca, key := f.newCA(pca.Account{ID: root.AccountID}, &root)
	if err := f.s.CreateCA(f.ctx, &ca, key); err != nil {
		f.t.Fatalf("CreateCA(sub): %v", err)
	}
	ca.ParentIdentifier = root.Identifier
	inst, err := f.s.GetInstance(f.ctx, ca.AccountID, ca.InstanceUUID)
	if err != nil {
		f.t.Fatalf("GetInstance(%s): %v", ca.InstanceUUID, err)
	}
	return issuer{ca: ca, inst: inst}
}

// issuerOf creates an account, a root and a sub-CA in one call.
func (f *fixture) issuerOf() issuer {
	f.t.Helper()
	return f.sub(f.root(f.account()))
}

// newCert returns an ISSUE certificate record under iss, not yet stored,
// changed (and created) at.
func (f *fixture) newCert(iss issuer, typ pca.CertType, at time.Time) pca.Certificate {
	n := f.next()
	return pca.Certificate{
		AccountID:        iss.ca.AccountID,
		Identifier:       f.uuid(),
		CAID:             iss.ca.ID,
		ParentIdentifier: iss.ca.Identifier,
		InstanceID:       iss.inst.ID,
		InstanceUUID:     iss.inst.UUID,
		Type:             typ,
		Status:           pca.StatusIssue,
		Subject:          pca.Subject{CommonName: fmt.Sprintf("host%d.example.com", n), Organization: "Example Org"},
		SubjectDN:        fmt.Sprintf("CN=host%d.example.com,O=Example Org", n),
		Algorithm:        pca.ECC256,
		SerialNumber:     fmt.Sprintf("1f%06x", n),
		DER:              []byte{0x30, 0x82, 0x01, byte(n)},
		NotBefore:        at,
		NotAfter:         at.AddDate(1, 0, 0),
		Created:          at,
		Changed:          at,
	}
}

// insert stores c (filling its ID) and fails the test on error.
func (f *fixture) insert(c *pca.Certificate, key *store.KeyRecord) {
	f.t.Helper()
	if err := f.s.InsertCertificate(f.ctx, c, key); err != nil {
		f.t.Fatalf("InsertCertificate(%s): %v", c.Identifier, err)
	}
	if c.ID <= 0 {
		f.t.Fatalf("InsertCertificate(%s): ID = %d, want > 0", c.Identifier, c.ID)
	}
}

// cert creates and stores an ISSUE certificate under iss.
func (f *fixture) cert(iss issuer, typ pca.CertType, at time.Time) pca.Certificate {
	f.t.Helper()
	c := f.newCert(iss, typ, at)
	f.insert(&c, nil)
	return c
}

// instance re-reads an instance.
func (f *fixture) instance(accountID int64, uuid string) pca.Instance {
	f.t.Helper()
	in, err := f.s.GetInstance(f.ctx, accountID, uuid)
	if err != nil {
		f.t.Fatalf("GetInstance(%s): %v", uuid, err)
	}
	return in
}

// list runs ListCertificates and fails the test on error.
func (f *fixture) list(accountID int64, q store.ListQuery) store.ListResult {
	f.t.Helper()
	res, err := f.s.ListCertificates(f.ctx, accountID, q)
	if err != nil {
		f.t.Fatalf("ListCertificates(%+v): %v", q, err)
	}
	return res
}
