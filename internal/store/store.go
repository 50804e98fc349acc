// Package store is the storage contract of pcad: the Store interface every
// backend implements, the records it moves and the errors it returns.
//
// Contract for every implementation:
//   - Every method that reads or writes tenant data takes the account id and
//     never returns or changes another account's objects; an object of another
//     account is reported exactly as a missing one (ErrNotFound).
//   - Times are stored truncated to milliseconds and returned in UTC.
//   - Instance UUIDs match case-insensitively everywhere; certificate and CA
//     identifiers match exactly.
//   - Methods are safe for concurrent use and honour context cancellation.
//   - A method that returns an error has changed nothing.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Errors returned by every Store; test with errors.Is.
var (
	// ErrNotFound: the object does not exist in the caller's account.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique value (serial per issuer, custom identifier,
	// identifier) is already taken.
	ErrConflict = errors.New("store: conflict")
	// ErrState: the object's state does not allow the change.
	ErrState = errors.New("store: state does not allow this change")
	// ErrQuota: the end-entity instance has no certificates left.
	ErrQuota = errors.New("store: instance quota exhausted")
	// ErrSerialTaken: InsertIssued found the serial already used under the
	// issuing CA.
	ErrSerialTaken = errors.New("store: serial already used by the issuer")
)

// AccessKeyRecord is an AccessKey as stored: the secret is sealed (see
// DataKey), never held in clear.
type AccessKeyRecord struct {
	ID           string
	AccountID    int64
	PrincipalID  int64
	SecretSealed []byte
	Active       bool
	Created      time.Time
}

// KeyRecord is a private key held by the service, sealed (see DataKey).
type KeyRecord struct {
	Ref       string
	AccountID int64
	Algorithm pca.Algorithm
	Sealed    []byte
	Created   time.Time
}

// ListQuery selects end-entity certificates of one account, newest first
// (descending id). Zero fields do not filter.
type ListQuery struct {
	Status pca.Status
	Type   pca.CertType
	// Types, when not empty, keeps only these types (Type must then be empty).
	Types            []pca.CertType
	ResourceGroupID  string
	InstanceUUID     string
	ParentIdentifier string
	// ChangedFrom keeps certificates whose last change is at or after it.
	ChangedFrom time.Time
	// ChangedBefore keeps certificates whose last change is strictly before it.
	ChangedBefore time.Time
	// BeforeID, when > 0, keeps only ids strictly below it (keyset paging).
	BeforeID int64
	// Offset skips that many matching rows (page mode). Use BeforeID or Offset.
	Offset int64
	// Limit is the page size (1..1000).
	Limit int
}

// ListResult is one page and the exact number of certificates matching the
// filters (ignoring BeforeID, Offset and Limit).
type ListResult struct {
	Items []pca.Certificate // DER is not filled
	Total int64
}

// Store is the persistence contract of pcad.
type Store interface {
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Close releases resources.
	Close() error

	// CountAccounts returns how many accounts exist.
	CountAccounts(ctx context.Context) (int64, error)
	// CreateAccount creates an account and its owner principal, with one
	// AccessKey for the owner (key.AccountID and key.PrincipalID are filled).
	CreateAccount(ctx context.Context, name string, key AccessKeyRecord, now time.Time) (pca.Account, pca.Principal, error)
	// GetAccessKey returns an AccessKey by id, or ErrNotFound.
	GetAccessKey(ctx context.Context, id string) (AccessKeyRecord, error)

	// GetSecret returns a sealed server secret by name, or ErrNotFound.
	GetSecret(ctx context.Context, name string) ([]byte, error)
	// PutSecretIfAbsent stores sealed under name unless a value exists; it
	// returns the value that is stored afterwards (first writer wins).
	PutSecretIfAbsent(ctx context.Context, name string, sealed []byte) ([]byte, error)
	// SwapSecret stores sealed under name if the stored value is exactly old
	// (old nil: if no value is stored); otherwise it changes nothing and
	// returns ErrConflict (compare-and-swap, for values that move on, such as
	// the audit log's sealed head).
	SwapSecret(ctx context.Context, name string, old, sealed []byte) error

	// PutKey stores a sealed private key; ErrConflict if the ref exists.
	PutKey(ctx context.Context, k KeyRecord) error
	// GetKey returns a sealed key of the account, or ErrNotFound.
	GetKey(ctx context.Context, accountID int64, ref string) (KeyRecord, error)

	// ReserveSerial records serial (lower-case hex) as used under the issuing
	// CA issuerID, before anything is signed with it. ErrConflict if taken.
	ReserveSerial(ctx context.Context, issuerID int64, serial string, now time.Time) error

	// CreateCA stores a CA (ID filled on return) and its sealed key (when
	// key.Ref is set), in one transaction. When ca.InstanceUUID is set it also
	// creates the CA's default instance with that UUID. A CA with a parent
	// draws one from the parent's default instance, if the parent has one:
	// ErrQuota when it is exhausted.
	CreateCA(ctx context.Context, ca *pca.CA, key KeyRecord) error
	// GetCA returns a CA of the account by identifier, or ErrNotFound.
	GetCA(ctx context.Context, accountID int64, identifier string) (pca.CA, error)
	// GetCAUntagged is GetCA without the CA's Tags (nil): one read instead
	// of two, for calls that check and use a CA rather than describe it.
	GetCAUntagged(ctx context.Context, accountID int64, identifier string) (pca.CA, error)
	// GetCAByID returns a CA of the account by internal id, or ErrNotFound.
	GetCAByID(ctx context.Context, accountID, id int64) (pca.CA, error)

	// InsertCertificate stores an issued end-entity certificate (ID filled),
	// draws one from its instance (ErrQuota when none is left) and keeps the
	// counters behind ListResult.Total in the same transaction. A taken
	// identifier or custom identifier gives ErrConflict; an instance that is
	// not the account's gives ErrNotFound.
	// key, when not nil, is the certificate's service-generated sealed key,
	// stored in the same transaction.
	InsertCertificate(ctx context.Context, c *pca.Certificate, key *KeyRecord) error
	// InsertIssued is InsertCertificate that also reserves c.SerialNumber
	// under c.CAID (as ReserveSerial, at c.Created) in the same transaction,
	// for a certificate signed with a serial not reserved before: a serial
	// already used gives ErrSerialTaken and stores nothing. audit, when not
	// nil, is appended to the audit log in the same transaction (see
	// AuditAppend): the certificate and the record of the call that made it
	// commit together or not at all.
	InsertIssued(ctx context.Context, c *pca.Certificate, key *KeyRecord, audit *AuditAppend) error
	// GetInstance returns an end-entity instance of the account by UUID, or
	// ErrNotFound.
	GetInstance(ctx context.Context, accountID int64, uuid string) (pca.Instance, error)
	// SetInstanceQuota sets an instance's total certificate count (0 =
	// unlimited). A total below the number already issued is allowed: it
	// only stops further issuance. ErrNotFound for an unknown instance.
	SetInstanceQuota(ctx context.Context, accountID int64, uuid string, total int64) error
	// GetCertificate returns an end-entity certificate with DER, or ErrNotFound.
	GetCertificate(ctx context.Context, accountID int64, identifier string) (pca.Certificate, error)
	// RevokeCertificate moves an ISSUE certificate to REVOKE with time and
	// reason and returns it; ErrState if it is not ISSUE.
	RevokeCertificate(ctx context.Context, accountID int64, identifier string, at time.Time, reason pca.RevocationReason) (pca.Certificate, error)
	// ListCertificates returns one page of end-entity certificates, with tags.
	ListCertificates(ctx context.Context, accountID int64, q ListQuery) (ListResult, error)

	CAStore
	LifecycleStore
	PKIStore
	IAMStore
	AuditStore
	LeaseStore
	DataKeyStore
}

// UserUpdate changes a RAM user; nil fields are left as they are.
type UserUpdate struct {
	NewName     *string
	DisplayName *string
	Email       *string
	MobilePhone *string
	Comments    *string
	At          time.Time
}

// Policy is a custom RAM policy of an account.
type Policy struct {
	AccountID   int64
	Name        string
	Description string
	Document    string
	Created     time.Time
	Updated     time.Time
	Attachments int // how many principals it is attached to (filled by reads)
}

// Attachment names one policy attached to a principal.
type Attachment struct {
	PolicyType string // "Custom" or "System"
	PolicyName string
	Attached   time.Time
}

// IAMStore holds identities, AccessKeys and policies. Names are unique per
// account; the owner principal is never returned by the user methods.
type IAMStore interface {
	// ListAccounts returns every account, oldest first.
	ListAccounts(ctx context.Context) ([]pca.Account, error)
	// CreateUser stores a RAM user (ID filled); ErrConflict if the name is taken.
	CreateUser(ctx context.Context, p *pca.Principal) error
	// GetUser returns a RAM user by name, or ErrNotFound.
	GetUser(ctx context.Context, accountID int64, name string) (pca.Principal, error)
	// GetPrincipal returns any principal (owner or user) by id, or ErrNotFound.
	GetPrincipal(ctx context.Context, accountID, id int64) (pca.Principal, error)
	// UpdateUser changes a RAM user and returns it; ErrConflict for a taken new name.
	UpdateUser(ctx context.Context, accountID int64, name string, u UserUpdate) (pca.Principal, error)
	// DeleteUser removes a RAM user; ErrState while it has AccessKeys or policies.
	DeleteUser(ctx context.Context, accountID int64, name string) error
	// ListUsers returns RAM users ordered by name after the given name.
	ListUsers(ctx context.Context, accountID int64, afterName string, limit int) ([]pca.Principal, error)

	// AddAccessKey stores another key for a principal; ErrQuota when the
	// principal already has max keys, ErrConflict for a taken id.
	AddAccessKey(ctx context.Context, k AccessKeyRecord, max int) error
	// ListAccessKeys returns a principal's keys (every principal's when
	// principalID is 0), oldest first.
	ListAccessKeys(ctx context.Context, accountID, principalID int64) ([]AccessKeyRecord, error)
	// SetAccessKeyActive activates or deactivates a principal's key.
	SetAccessKeyActive(ctx context.Context, accountID, principalID int64, id string, active bool) error
	// DeleteAccessKey removes a principal's key.
	DeleteAccessKey(ctx context.Context, accountID, principalID int64, id string) error

	// CreatePolicy stores a custom policy; ErrConflict if the name is taken.
	CreatePolicy(ctx context.Context, p Policy) error
	// GetPolicy returns a custom policy, or ErrNotFound.
	GetPolicy(ctx context.Context, accountID int64, name string) (Policy, error)
	// ListPolicies returns custom policies ordered by name after the given name.
	ListPolicies(ctx context.Context, accountID int64, afterName string, limit int) ([]Policy, error)
	// DeletePolicy removes a custom policy; ErrState while it is attached.
	DeletePolicy(ctx context.Context, accountID int64, name string) error
	// AttachPolicy attaches a policy to a principal; ErrConflict if it is already.
	// The caller checks that a custom policy exists.
	AttachPolicy(ctx context.Context, accountID, principalID int64, a Attachment) error
	// DetachPolicy removes an attachment, or ErrNotFound.
	DetachPolicy(ctx context.Context, accountID, principalID int64, policyType, policyName string) error
	// Attachments returns a principal's attachments, by type then name.
	Attachments(ctx context.Context, accountID, principalID int64) ([]Attachment, error)
}

// AuditRecord is one API call in the audit log. Hash chains it to the
// record before it: Hash = chain(PrevHash, record).
type AuditRecord struct {
	ID          int64
	At          time.Time
	AccountID   int64
	PrincipalID int64
	AccessKeyID string
	Action      string
	Resource    string
	Code        string // "OK" or the error code
	RequestID   string
	SourceIP    string
	PrevHash    []byte
	Hash        []byte
}

// AuditAppend is an audit record appended in the transaction of another
// change, as AppendAuditMovingHead appends it (Record, Chain, HeadName and
// Move mean what its arguments mean), so that a change and the record of
// the call that made it commit together: one durable write instead of two.
type AuditAppend struct {
	Record   AuditRecord
	Chain    func(AuditRecord) []byte
	HeadName string
	Move     func(stored []byte, prev, rec AuditRecord) ([]byte, error) // nil: the head is not moved
	// Set by the store: the record as stored and whether the head moved.
	// Valid only when the change's call returned nil.
	Stored AuditRecord
	Moved  bool
}

// AuditStore appends to and reads the hash-chained audit log.
type AuditStore interface {
	// AppendAudit appends rec atomically after the current last record:
	// it sets rec.PrevHash to the last record's Hash (empty for the first)
	// and rec.Hash = chain(rec), and returns the stored record.
	AppendAudit(ctx context.Context, rec AuditRecord, chain func(AuditRecord) []byte) (AuditRecord, error)
	// AppendAuditMovingHead appends as AppendAudit does and, in the same
	// transaction, calls move with the server secret headName's stored value
	// (nil when there is none), the record the new one follows (zero when
	// the log was empty) and the new record; when move returns a value, it
	// replaces the secret and moved is true; nil leaves the secret as it is.
	// An error from move fails the append.
	AppendAuditMovingHead(ctx context.Context, rec AuditRecord, chain func(AuditRecord) []byte, headName string,
		move func(stored []byte, prev, rec AuditRecord) ([]byte, error)) (stored AuditRecord, moved bool, err error)
	// AuditRecords returns records with id > afterID in id order.
	AuditRecords(ctx context.Context, afterID int64, limit int) ([]AuditRecord, error)
	// AuditRecordsForResource returns the account's records with id > afterID
	// whose resource is resource, or a comma-separated list holding it as
	// one of its items, in id order (oldest first), at most limit of them.
	// An empty resource matches nothing.
	AuditRecordsForResource(ctx context.Context, accountID int64, resource string, afterID int64, limit int) ([]AuditRecord, error)
}

// CAQuery selects CAs of one account, newest first. Zero fields do not filter.
type CAQuery struct {
	Status      pca.Status
	Type        pca.CAType
	IssuerType  string // "local" or "external"
	ValidAt     time.Time
	Valid       *bool // with ValidAt: true keeps CAs valid at ValidAt, false the others
	Identifiers []string
	// Keyword keeps CAs whose common name, organization, unit or subject
	// contains it (case-insensitive).
	Keyword         string
	ResourceGroupID string
	BeforeID        int64 // keyset paging: ids strictly below
	Offset          int64
	Limit           int // 1..2000
}

// CAStore holds the CA-side records beyond creation.
type CAStore interface {
	// ListCAs returns one page of CAs (with tags) and the exact total.
	ListCAs(ctx context.Context, accountID int64, q CAQuery) ([]pca.CA, int64, error)
	// RevokeCA moves an ISSUE CA to REVOKE at at. A sub-CA's serial is
	// recorded as revoked under its parent (for the parent's CRL). ErrState
	// if the CA is not ISSUE.
	RevokeCA(ctx context.Context, accountID int64, identifier string, at time.Time) (pca.CA, error)
	// UpdateCA changes the alias and/or resource group (nil: unchanged).
	UpdateCA(ctx context.Context, accountID int64, identifier string, alias, resourceGroup *string) error
	// AddCAEvent appends an entry to a CA's log.
	AddCAEvent(ctx context.Context, ev CAEvent) error
	// ListCAEvents returns a CA's log, oldest first.
	ListCAEvents(ctx context.Context, accountID, caID int64) ([]CAEvent, error)
	// GetInstanceByID returns an instance of the account by numeric id.
	GetInstanceByID(ctx context.Context, accountID, id int64) (pca.Instance, error)
	// ListInstances returns the account's instances (of one CA when caID > 0),
	// oldest first, and the exact total.
	ListInstances(ctx context.Context, accountID, caID int64, offset int64, limit int) ([]pca.Instance, int64, error)
}

// CAEvent is one entry of a CA's log (ListCACertificateLog).
type CAEvent struct {
	AccountID int64
	CAID      int64
	OpType    string // ADD or UPDATE
	Content   string
	Created   time.Time
	// RequestID is the API call that made the change (the audit log's
	// request_id); empty when the change was not made through the API.
	RequestID string
}

// Idempotency is the record of one ClientToken.
type Idempotency struct {
	Fingerprint string
	Response    []byte // nil while the first call is still running
}

// LifecycleStore holds certificate changes after issue, tags and idempotency.
type LifecycleStore interface {
	// DeleteCertificate removes a REVOKE certificate (and its key and tags)
	// from the inventory; it stays on CRLs and in OCSP until it expires.
	// ErrState when it is not REVOKE.
	DeleteCertificate(ctx context.Context, accountID int64, identifier string) error
	// UpdateCertificate changes alias and/or resource group (nil: unchanged)
	// and sets the last-change time.
	UpdateCertificate(ctx context.Context, accountID int64, identifier string, alias, resourceGroup *string, at time.Time) error
	// CertificatesBySerial returns the account's certificates with these
	// serials (lower-case hex), in no particular order; unknown ones are absent.
	CertificatesBySerial(ctx context.Context, accountID int64, serials []string) ([]pca.Certificate, error)
	// SetUploadFlag marks certificates (by numeric id) as uploaded; it returns
	// how many of the ids exist in the account.
	SetUploadFlag(ctx context.Context, accountID int64, ids []int64) (int, error)

	// GetTags returns the tags of each resource identifier, in key order
	// (as every record carrying Tags does).
	GetTags(ctx context.Context, accountID int64, resourceIDs []string) (map[string][]pca.Tag, error)
	// SetTags adds or replaces tags by key on a resource (the caller checks
	// that the resource exists); more than maxTags in the end is ErrQuota.
	SetTags(ctx context.Context, accountID int64, resourceID string, tags []pca.Tag, maxTags int) error
	// RemoveTags removes tags by key (all tags when keys is nil).
	RemoveTags(ctx context.Context, accountID int64, resourceID string, keys []string) error
	// FindTagged lists (resource, tag) pairs in the account: of resourceIDs
	// when given, having every tag in match (an empty Value matches any value)
	// when given; ordered by resource then key; after is an opaque cursor.
	FindTagged(ctx context.Context, accountID int64, resourceIDs []string, match []pca.Tag, after string, limit int) ([]TaggedResource, string, error)
	// SetResourceGroup moves a CA or certificate to a resource group;
	// ErrNotFound when the identifier names neither.
	SetResourceGroup(ctx context.Context, accountID int64, resourceID, group string) error

	// ClaimIdempotency records token with fingerprint if new (claimed true);
	// otherwise returns the existing record.
	ClaimIdempotency(ctx context.Context, accountID int64, action, token, fingerprint string, now time.Time) (Idempotency, bool, error)
	// CompleteIdempotency stores the response of a claimed token.
	CompleteIdempotency(ctx context.Context, accountID int64, action, token string, response []byte) error
	// ReleaseIdempotency forgets a claimed token whose call failed.
	ReleaseIdempotency(ctx context.Context, accountID int64, action, token string) error
}

// TaggedResource is one tag of one resource.
type TaggedResource struct {
	ResourceID string
	Tag        pca.Tag
}

// Revocation is one revoked serial of an issuing CA.
type Revocation struct {
	Serial    string // lower-case hex
	RevokedAt time.Time
	Reason    pca.RevocationReason
	NotAfter  time.Time
}

// CRLRecord is the latest CRL of a CA.
type CRLRecord struct {
	CAID       int64
	Number     int64
	BuiltSeq   int64 // the CA's revocation sequence the CRL was built from
	ThisUpdate time.Time
	NextUpdate time.Time
	Entries    int64
	DER        []byte
}

// PKIStore serves the public PKI endpoints (CRL, OCSP, CA certificates).
// These lookups are not scoped to an account: the endpoints are public and
// name objects by their public identifiers or by issuer and serial.
type PKIStore interface {
	// AllCAs returns every CA of every account (without tags).
	AllCAs(ctx context.Context) ([]pca.CA, error)
	// CertificateByIssuerSerial returns the certificate issued by caID with
	// that serial (lower-case hex), or ErrNotFound.
	CertificateByIssuerSerial(ctx context.Context, caID int64, serial string) (pca.Certificate, error)
	// RevocationByIssuerSerial returns the revocation of a serial under caID,
	// or ErrNotFound; it outlives the certificate's deletion.
	RevocationByIssuerSerial(ctx context.Context, caID int64, serial string) (Revocation, error)
	// Revocations calls fn for every revocation under caID whose certificate
	// has not expired before notAfterFrom, in serial order, without holding
	// them all in memory.
	Revocations(ctx context.Context, caID int64, notAfterFrom time.Time, fn func(Revocation) error) error
	// RevocationSeq returns the CA's revocation sequence number.
	RevocationSeq(ctx context.Context, caID int64) (int64, error)
	// GetCRL returns the latest CRL of a CA, or ErrNotFound.
	GetCRL(ctx context.Context, caID int64) (CRLRecord, error)
	// CRLNumber returns the number of a CA's latest CRL, 0 when it has none,
	// without reading the CRL itself.
	CRLNumber(ctx context.Context, caID int64) (int64, error)
	// PutCRL stores a CRL if its number is greater than the stored one's;
	// otherwise ErrConflict (another builder won).
	PutCRL(ctx context.Context, rec CRLRecord) error
	// CAStates returns the revocation state of every CA and of its latest
	// CRL, in one cheap query, for pollers that keep caches fresh.
	CAStates(ctx context.Context) ([]CAState, error)
}

// CAState is what a poller needs to know about one CA.
type CAState struct {
	CAID          int64
	Status        pca.Status
	RevocationSeq int64
	HasCRL        bool
	CRLNumber     int64
	CRLBuiltSeq   int64
	CRLNextUpdate time.Time
}

// LeaseStore elects one holder at a time for each named background job among
// the replicas sharing a store. Leases expire rather than being held by a
// connection, so a holder that dies loses its lease after its ttl at most.
// Replicas' clocks must agree to well within a ttl.
type LeaseStore interface {
	// AcquireLease makes holder the holder of the lease name until now+ttl
	// when the lease is free, expired at now, or already holder's (renewal),
	// and reports whether holder holds it afterwards. Of concurrent callers
	// for a free lease exactly one gets it.
	AcquireLease(ctx context.Context, name, holder string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease ends holder's lease name at once so that another replica
	// can take it; it does nothing when holder does not hold it.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// DataKey is a data key as stored: a random AES-256 key that seals private
// keys, AccessKey secrets and server secrets, itself wrapped (encrypted)
// under a master key that never reaches the store.
type DataKey struct {
	// ID names the key inside every value it sealed (1 .. 2^32-1).
	ID int64
	// Wrapped is the data key encrypted under the master key.
	Wrapped []byte
	// MasterFingerprint identifies the master key Wrapped is encrypted
	// under (a keyed hash of it, in hex), so that a wrong master key or a
	// half-finished master-key rotation can be named without opening anything.
	MasterFingerprint string
	Created           time.Time
}

// SealedKind names a kind of sealed value the store holds, for master-key
// rotation, which visits every one of them.
type SealedKind int

// The kinds of sealed values. Each value is named by one string: the key's
// ref, the AccessKey's id, the server secret's name.
const (
	SealedPrivateKey SealedKind = iota + 1 // KeyRecord.Sealed, by ref (every account)
	SealedAccessKey                        // AccessKeyRecord.SecretSealed, by AccessKey id (every account)
	SealedSecret                           // server secrets, by name
)

// SealedKinds lists every SealedKind.
var SealedKinds = []SealedKind{SealedSecret, SealedAccessKey, SealedPrivateKey}

// String names the kind in messages.
func (k SealedKind) String() string {
	switch k {
	case SealedPrivateKey:
		return "private key"
	case SealedAccessKey:
		return "AccessKey secret"
	case SealedSecret:
		return "server secret"
	}
	return fmt.Sprintf("SealedKind(%d)", int(k))
}

// SealedValue is one sealed value of some kind, as stored.
type SealedValue struct {
	Kind   SealedKind
	ID     string
	Sealed []byte
}

// DataKeyStore holds the wrapped data keys, and lets master-key rotation
// visit and replace every sealed value. These methods are not scoped by
// account: only start-up and the rotation command use them.
type DataKeyStore interface {
	// ListDataKeys returns every data key, by ascending ID.
	ListDataKeys(ctx context.Context) ([]DataKey, error)
	// GetDataKey returns one data key, or ErrNotFound.
	GetDataKey(ctx context.Context, id int64) (DataKey, error)
	// InsertDataKey stores k unless a data key with its ID exists, and then
	// returns ErrConflict and changes nothing: of replicas that create the
	// same first key at once, the first writer wins and the others reload.
	InsertDataKey(ctx context.Context, k DataKey) error
	// RewrapDataKey replaces the wrapped bytes and master fingerprint of data
	// key id if its fingerprint is still oldFingerprint (compare-and-swap);
	// otherwise it changes nothing and returns ErrConflict (ErrNotFound when
	// there is no such key).
	RewrapDataKey(ctx context.Context, id int64, oldFingerprint string, wrapped []byte, fingerprint string) error
	// ListSealedValues returns up to limit (1..1000) values of kind whose ID
	// sorts after after ("" for the first page), by ascending ID (byte order).
	ListSealedValues(ctx context.Context, kind SealedKind, after string, limit int) ([]SealedValue, error)
	// SwapSealedValue replaces the sealed bytes of one value if they are
	// exactly old (compare-and-swap); otherwise it changes nothing and
	// returns ErrConflict (ErrNotFound when the value is gone).
	SwapSealedValue(ctx context.Context, kind SealedKind, id string, old, sealed []byte) error
}
