// Package service holds pcad's use cases: accounts and AccessKeys, CAs,
// issuance, revocation and listing. It enforces tenancy (every call names the
// acting account) and knows nothing of HTTP or of the Alibaba wire names.
//
// Errors a caller caused are *pca.Error values; anything else is internal.
package service

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// Actor is the authenticated caller of a use case.
type Actor struct {
	AccountID   int64
	PrincipalID int64
}

// Config holds the dependencies of a Service. Store and Keyring are required.
type Config struct {
	Store store.Store
	// Keyring seals private keys, AccessKey secrets and server secrets
	// (keys.OpenKeyring on the same store).
	Keyring *keys.Keyring
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for keys, serials and identifiers; nil means crypto/rand.
	Rand io.Reader
	// Logger receives operational messages; nil means slog.Default().
	Logger *slog.Logger
	// PublicURL is the base URL of the public PKI endpoints (no trailing
	// slash), e.g. "http://127.0.0.1:8080". Issued certificates carry CRL and
	// AIA URLs under it; empty means they carry none.
	PublicURL string
	// ReplicaID names this replica in the background-work lease (leader.go):
	// a replica restarted with the same name takes its lease back at once
	// instead of waiting for it to expire. Replicas sharing a store need
	// different names. Empty: a random name per process.
	ReplicaID string
	// HSM, when set, is the PKCS#11 token that CA keys may be generated in
	// (keys.HSM); CAs whose key ref names it sign through it. nil: none.
	HSM keys.HSM
	// CAKeyStore is where new CA keys go when a create call does not say:
	// KeyStoreSoftware (also when empty) or KeyStoreHSM, which needs HSM.
	CAKeyStore KeyStore
}

// Service implements the use cases. It is safe for concurrent use.
type Service struct {
	store     store.Store
	sealer    *keys.Keyring
	now       func() time.Time
	rand      io.Reader
	log       *slog.Logger
	tokenKey  []byte
	publicURL string
	pki       *pkiState
	lead      *leader // background-work lease (leader.go)

	hsm    keys.HSM // nil: no HSM (cakeys.go)
	caKeys KeyStore // where new CA keys go by default

	mu      sync.Mutex
	signers map[string]crypto.Signer    // CA signers by key ref
	caCerts map[int64]*x509.Certificate // parsed CA certificates by CA id (caSigner)

	auditKeyCache atomic.Pointer[[]byte] // the audit chain's key once read (audit.go)

	policies   *ttlCache[int64, *principalAuth] // parsed policies by principal (authz.go)
	accessKeys *ttlCache[string, pca.AccessKey] // opened AccessKeys by id (ttlcache.go)
	crlCache   *crlCache                        // the newest CRL of each CA (crl_cache.go)
}

// tokenKeyName names the sealed NextToken HMAC key in the store.
const tokenKeyName = "list-token-hmac"

// New returns a Service, loading (or creating, first writer wins) the
// server's sealed NextToken key from the store.
func New(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keyring == nil {
		return nil, errors.New("service: Store and Keyring are required")
	}
	caKeys, err := checkCAKeyStoreConfig(cfg.CAKeyStore, cfg.HSM)
	if err != nil {
		return nil, err
	}
	s := &Service{store: cfg.Store, sealer: cfg.Keyring, now: cfg.Now, rand: cfg.Rand, log: cfg.Logger,
		publicURL: strings.TrimRight(cfg.PublicURL, "/"), pki: newPKIState(), lead: newLeader(cfg.ReplicaID), signers: map[string]crypto.Signer{},
		caCerts: map[int64]*x509.Certificate{}, crlCache: newCRLCache(),
		policies:   newTTLCache[int64, *principalAuth](policyCacheTTL, maxCachedPrincipals),
		accessKeys: newTTLCache[string, pca.AccessKey](accessKeyCacheTTL, maxCachedAccessKeys),
		hsm:        cfg.HSM, caKeys: caKeys}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	key, err := s.serverSecret(ctx, tokenKeyName, 32)
	if err != nil {
		return nil, err
	}
	s.tokenKey = key
	return s, nil
}

// serverSecret returns the named server secret, creating it if absent.
func (s *Service) serverSecret(ctx context.Context, name string, size int) ([]byte, error) {
	aad := keys.SecretAAD(name)
	sealed, err := s.store.GetSecret(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		fresh := make([]byte, size)
		if _, err := io.ReadFull(s.rand, fresh); err != nil {
			return nil, fmt.Errorf("service: generate %s: %w", name, err)
		}
		if sealed, err = s.sealer.Seal(fresh, aad); err != nil {
			return nil, fmt.Errorf("service: seal %s: %w", name, err)
		}
		sealed, err = s.store.PutSecretIfAbsent(ctx, name, sealed)
	}
	if err != nil {
		return nil, fmt.Errorf("service: load %s: %w", name, err)
	}
	key, err := s.sealer.Open(ctx, sealed, aad)
	if err != nil {
		return nil, fmt.Errorf("service: open %s (is the master key the one this store was made with?): %w", name, err)
	}
	return key, nil
}

// Ready reports whether the store answers.
func (s *Service) Ready(ctx context.Context) error { return s.store.Ping(ctx) }

// clock returns now in UTC, truncated to the second (X.509 precision).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

// newID returns a fresh time-ordered identifier.
func (s *Service) newID() (string, error) {
	id, err := pca.NewIdentifier(s.now(), s.rand)
	if err != nil {
		return "", pca.Internal(err)
	}
	return id, nil
}

// signer returns the CA signer for a key ref, opening and caching it: a
// key in the HSM (keys.IsHSMRef) is found there, any other is unsealed
// from the store.
func (s *Service) signer(ctx context.Context, accountID int64, ref string) (crypto.Signer, error) {
	s.mu.Lock()
	sg, ok := s.signers[ref]
	s.mu.Unlock()
	if ok {
		return sg, nil
	}
	var err error
	if keys.IsHSMRef(ref) {
		sg, err = s.hsmSigner(ctx, ref) // cakeys.go
	} else {
		sg, err = s.sealedSigner(ctx, accountID, ref)
	}
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.signers[ref] = sg
	s.mu.Unlock()
	return sg, nil
}

// sealedSigner opens a software CA key sealed in the store.
func (s *Service) sealedSigner(ctx context.Context, accountID int64, ref string) (crypto.Signer, error) {
	rec, err := s.store.GetKey(ctx, accountID, ref)
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: load CA key: %w", err))
	}
	sg, err := s.sealer.OpenSigner(ctx, rec.Sealed, ref)
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: open CA key: %w", err))
	}
	return sg, nil
}

// sealKey seals a freshly generated key under a new ref.
func (s *Service) sealKey(accountID int64, alg pca.Algorithm, key crypto.Signer) (store.KeyRecord, error) {
	ref, err := s.newID()
	if err != nil {
		return store.KeyRecord{}, err
	}
	ref = "sw:" + ref
	sealed, err := s.sealer.SealSigner(key, ref)
	if err != nil {
		return store.KeyRecord{}, pca.Internal(err)
	}
	return store.KeyRecord{Ref: ref, AccountID: accountID, Algorithm: alg, Sealed: sealed, Created: s.now()}, nil
}

// internal wraps an unexpected error unless it already is a *pca.Error.
func internal(err error) error {
	if _, ok := pca.AsError(err); ok {
		return err
	}
	return pca.Internal(err)
}
