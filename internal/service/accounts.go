package service

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomString returns n characters drawn uniformly from alnum.
func randomString(r io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < 248 && len(out) < n { // 248 = 4*62: no modulo bias
				out = append(out, alnum[int(b)%len(alnum)])
			}
		}
	}
	return string(out), nil
}

// Bootstrap creates the first account with an owner AccessKey when the store
// has no account yet. created is false, and key empty, when one exists.
func (s *Service) Bootstrap(ctx context.Context, name string) (key pca.AccessKey, created bool, err error) {
	n, err := s.store.CountAccounts(ctx)
	if err != nil {
		return pca.AccessKey{}, false, fmt.Errorf("service: bootstrap: %w", err)
	}
	if n > 0 {
		return pca.AccessKey{}, false, nil
	}
	_, key, err = s.CreateAccount(ctx, name)
	return key, err == nil, err
}

// CreateAccount creates an account, its owner and one Active AccessKey, and
// returns the key with its clear secret (the only time it is shown).
func (s *Service) CreateAccount(ctx context.Context, name string) (pca.Account, pca.AccessKey, error) {
	id, err := randomString(s.rand, 20)
	if err != nil {
		return pca.Account{}, pca.AccessKey{}, fmt.Errorf("service: access key id: %w", err)
	}
	secret, err := randomString(s.rand, 30)
	if err != nil {
		return pca.Account{}, pca.AccessKey{}, fmt.Errorf("service: access key secret: %w", err)
	}
	k := pca.AccessKey{ID: "LTAI" + id, Secret: secret, Active: true, Created: s.now().UTC()}
	sealed, err := s.sealer.Seal([]byte(secret), keys.AccessKeyAAD(k.ID))
	if err != nil {
		return pca.Account{}, pca.AccessKey{}, fmt.Errorf("service: seal secret: %w", err)
	}
	acct, owner, err := s.store.CreateAccount(ctx, name, store.AccessKeyRecord{ID: k.ID, SecretSealed: sealed, Active: true}, s.now())
	if err != nil {
		return pca.Account{}, pca.AccessKey{}, fmt.Errorf("service: create account: %w", err)
	}
	k.AccountID, k.PrincipalID = acct.ID, owner.ID
	return acct, k, nil
}

// LookupAccessKey returns an AccessKey with its secret opened, for request
// verification. An unknown id is a pca.KindNotFound error. A key read
// within accessKeyCacheTTL is reused (ttlcache.go).
func (s *Service) LookupAccessKey(ctx context.Context, id string) (pca.AccessKey, error) {
	now := s.now()
	k, ok, epoch := s.accessKeys.get(id, now)
	if ok {
		return k, nil
	}
	k, err := s.readAccessKey(ctx, id)
	if err != nil {
		return pca.AccessKey{}, err
	}
	s.accessKeys.put(k.ID, k, now, epoch)
	return k, nil
}

// readAccessKey reads an AccessKey from the store and opens its secret.
func (s *Service) readAccessKey(ctx context.Context, id string) (pca.AccessKey, error) {
	rec, err := s.store.GetAccessKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return pca.AccessKey{}, pca.NotFound("AccessKeyId", "AccessKey", id)
	}
	if err != nil {
		return pca.AccessKey{}, pca.Internal(err)
	}
	secret, err := s.sealer.Open(ctx, rec.SecretSealed, keys.AccessKeyAAD(rec.ID))
	if err != nil {
		return pca.AccessKey{}, pca.Internal(fmt.Errorf("service: open access key secret: %w", err))
	}
	return pca.AccessKey{ID: rec.ID, AccountID: rec.AccountID, PrincipalID: rec.PrincipalID, Secret: string(secret),
		Active: rec.Active, Created: rec.Created}, nil
}
