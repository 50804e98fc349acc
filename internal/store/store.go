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
)

// AccessKeyRecord is an AccessKey as stored: the secret is sealed under the
// master key, never held in clear.
type AccessKeyRecord struct {
	ID           string
	AccountID    int64
	PrincipalID  int64
	SecretSealed []byte
	Active       bool
	Created      time.Time
}

// KeyRecord is a private key held by the service, sealed under the master key.
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
	Status           pca.Status
	Type             pca.CertType
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

	// PutKey stores a sealed private key; ErrConflict if the ref exists.
	PutKey(ctx context.Context, k KeyRecord) error
	// GetKey returns a sealed key of the account, or ErrNotFound.
	GetKey(ctx context.Context, accountID int64, ref string) (KeyRecord, error)

	// ReserveSerial records serial (lower-case hex) as used under the issuing
	// CA issuerID, before anything is signed with it. ErrConflict if taken.
	ReserveSerial(ctx context.Context, issuerID int64, serial string, now time.Time) error

	// CreateCA stores a CA (ID filled on return) and its sealed key, in one
	// transaction. For a sub-CA it also creates its default end-entity
	// instance with UUID ca.InstanceUUID.
	CreateCA(ctx context.Context, ca *pca.CA, key KeyRecord) error
	// GetCA returns a CA of the account by identifier, or ErrNotFound.
	GetCA(ctx context.Context, accountID int64, identifier string) (pca.CA, error)
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
	// ListCertificates returns one page of end-entity certificates.
	ListCertificates(ctx context.Context, accountID int64, q ListQuery) (ListResult, error)
}
