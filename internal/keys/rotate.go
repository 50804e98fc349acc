package keys

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pcad-dev/pcad/internal/store"
)

// RotationStore is what RotateMasterKey needs of a store: its data keys and
// sealed values, and a lease so that two rotations never run at once.
type RotationStore interface {
	store.DataKeyStore
	store.LeaseStore
}

// RotateOptions tunes RotateMasterKey. The zero value is ready to use.
type RotateOptions struct {
	// Now is the clock of the lease and of a data key created on the way;
	// nil means time.Now.
	Now func() time.Time
	// Rand gives data keys and nonces; nil means crypto/rand.
	Rand io.Reader
	// BeforeChange, when set, is called once the keys are checked against
	// the store and before the first row moves to the new key: the place to
	// store the new key durably. An error stops the rotation with nothing
	// changed.
	BeforeChange func() error
	// AfterChange, when set, is called after each row the rotation changed
	// (a re-sealed value or a re-wrapped data key), with the number changed
	// so far. An error stops the rotation there, as a crash would: tests
	// interrupt it so.
	AfterChange func(changed int) error
}

// RotateReport says what a rotation did.
type RotateReport struct {
	OldFingerprint, NewFingerprint string
	// Resealed counts values of the first format (sealed directly under the
	// old master key) re-sealed under a data key.
	Resealed int
	// Rewrapped counts data keys re-wrapped from the old master key to the new one.
	Rewrapped int
	// AlreadyNew counts data keys that were wrapped under the new master key
	// already: an interrupted rotation is being finished.
	AlreadyNew int
}

// rotationLease is the lease a rotation holds (store.LeaseStore), and
// rotationLeaseTTL how long it lasts without renewal: a rotation that
// crashed blocks another one for at most that long.
const (
	rotationLease    = "master-key-rotation"
	rotationLeaseTTL = time.Minute
	rotationPage     = 500
)

// RotateMasterKey moves a store from the master key oldKey to newKey, one
// row at a time, each change a compare-and-swap:
//
//  1. If the store has no data key yet, data key 1 is created under oldKey
//     (after oldKey is checked against the store, as OpenKeyring does).
//  2. Every value of the first format (sealed directly under oldKey) is
//     re-sealed under the current data key. Until step 3 starts the whole
//     store still opens with oldKey alone.
//  3. Every data key wrapped under oldKey is re-wrapped under newKey.
//
// Afterwards nothing in the store opens with oldKey. Servers running with
// oldKey keep their unwrapped data keys in memory and go on working; a
// server started later needs newKey.
//
// An interrupted rotation (crash, cancelled ctx, AfterChange error) is
// finished by running it again with the same two keys: rows already moved
// are skipped. A store whose data keys are under neither key is refused
// with ErrWrongMasterKey before anything is written. Concurrent rotations
// are refused through a store lease.
func RotateMasterKey(ctx context.Context, st RotationStore, oldKey, newKey []byte, opt RotateOptions) (RotateReport, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Rand == nil {
		opt.Rand = rand.Reader
	}
	om, err := newMasterKey(oldKey, opt.Rand)
	if err != nil {
		return RotateReport{}, fmt.Errorf("old master key: %w", err)
	}
	nm, err := newMasterKey(newKey, opt.Rand)
	if err != nil {
		return RotateReport{}, fmt.Errorf("new master key: %w", err)
	}
	rep := RotateReport{OldFingerprint: om.fp, NewFingerprint: nm.fp}
	if om.fp == nm.fp {
		return rep, errors.New("keys: the new master key is the old one: nothing to rotate")
	}

	holder := make([]byte, 16)
	if _, err := io.ReadFull(opt.Rand, holder); err != nil {
		return rep, fmt.Errorf("keys: rotation lease: %w", err)
	}
	r := &rotation{st: st, opt: opt, om: om, nm: nm, rep: &rep, holder: hex.EncodeToString(holder)}
	if err := r.renew(ctx, true); err != nil {
		return rep, err
	}
	defer st.ReleaseLease(context.WithoutCancel(ctx), rotationLease, r.holder)
	if err := r.run(ctx); err != nil {
		return rep, err
	}
	return rep, nil
}

// rotation is one run of RotateMasterKey.
type rotation struct {
	st      RotationStore
	opt     RotateOptions
	om, nm  *masterKey
	rep     *RotateReport
	holder  string
	renewed time.Time
	changed int
	ring    *Keyring
}

// renew takes or renews the rotation lease (when force, or when a quarter
// of its ttl has passed).
func (r *rotation) renew(ctx context.Context, force bool) error {
	now := r.opt.Now()
	if !force && now.Sub(r.renewed) < rotationLeaseTTL/4 {
		return nil
	}
	ok, err := r.st.AcquireLease(ctx, rotationLease, r.holder, now, rotationLeaseTTL)
	if err != nil {
		return fmt.Errorf("keys: rotation lease: %w", err)
	}
	if !ok {
		if force && r.renewed.IsZero() {
			return fmt.Errorf("keys: another master-key rotation is running on this store, or one stopped less than %v ago: try again later", rotationLeaseTTL)
		}
		return errors.New("keys: the rotation lease was taken over by another rotation: stopping; run it again")
	}
	r.renewed = now
	return nil
}

// step records one changed row and calls the AfterChange hook.
func (r *rotation) step(ctx context.Context) error {
	r.changed++
	if r.opt.AfterChange != nil {
		if err := r.opt.AfterChange(r.changed); err != nil {
			return fmt.Errorf("keys: rotation stopped after %d changes: %w", r.changed, err)
		}
	}
	return r.renew(ctx, false)
}

func (r *rotation) run(ctx context.Context) error {
	dks, err := r.st.ListDataKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: load data keys: %w", err)
	}
	if len(dks) == 0 {
		if err := createFirstDataKey(ctx, r.st, r.om, r.opt.Rand); err != nil {
			return err
		}
		if dks, err = r.st.ListDataKeys(ctx); err != nil {
			return fmt.Errorf("keys: load data keys: %w", err)
		}
	}
	for _, dk := range dks {
		if dk.MasterFingerprint != r.om.fp && dk.MasterFingerprint != r.nm.fp {
			return fmt.Errorf("keys: %w: data key %d is wrapped by the master key with fingerprint %s, neither the old key (%s) nor the new one (%s); nothing was changed",
				ErrWrongMasterKey, dk.ID, dk.MasterFingerprint, r.om.fp, r.nm.fp)
		}
	}
	// Every data key opens (each with its own master key) before anything moves.
	if r.ring, err = newKeyring(r.st, r.opt.Rand, r.om, dks, r.om, r.nm); err != nil {
		return err
	}
	if r.opt.BeforeChange != nil {
		if err := r.opt.BeforeChange(); err != nil {
			return fmt.Errorf("keys: rotation not started: %w", err)
		}
	}
	for _, kind := range store.SealedKinds {
		if err := r.resealKind(ctx, kind); err != nil {
			return err
		}
	}
	for _, dk := range dks {
		if err := r.rewrap(ctx, dk); err != nil {
			return err
		}
	}
	return r.verify(ctx)
}

// resealKind re-seals every value of kind that is of the first format.
func (r *rotation) resealKind(ctx context.Context, kind store.SealedKind) error {
	after := ""
	for {
		page, err := r.st.ListSealedValues(ctx, kind, after, rotationPage)
		if err != nil {
			return fmt.Errorf("keys: rotation: %w", err)
		}
		if len(page) == 0 {
			return nil
		}
		for _, v := range page {
			if err := r.resealOne(ctx, v, after); err != nil {
				return err
			}
			after = v.ID
		}
		if err := r.renew(ctx, false); err != nil {
			return err
		}
	}
}

// resealOne re-seals v if it is of the first format. A value that changed
// meanwhile (the audit head moves on) is read again (it is the value after
// before) and retried; a value that is gone is skipped.
func (r *rotation) resealOne(ctx context.Context, v store.SealedValue, before string) error {
	aad, err := AAD(v.Kind, v.ID)
	if err != nil {
		return err
	}
	for range 20 {
		if len(v.Sealed) == 0 || v.Sealed[0] != formatMaster {
			return nil
		}
		pt, err := r.om.legacy.Open(v.Sealed, aad)
		if err != nil {
			return fmt.Errorf("keys: the %s %q does not open under the old master key (fingerprint %s): %w; nothing else was changed by this step",
				v.Kind, v.ID, r.om.fp, err)
		}
		sealed, err := r.ring.Seal(pt, aad)
		clear(pt)
		if err != nil {
			return err
		}
		err = r.st.SwapSealedValue(ctx, v.Kind, v.ID, v.Sealed, sealed)
		switch {
		case err == nil:
			r.rep.Resealed++
			return r.step(ctx)
		case errors.Is(err, store.ErrNotFound):
			return nil
		case !errors.Is(err, store.ErrConflict):
			return fmt.Errorf("keys: re-seal the %s %q: %w", v.Kind, v.ID, err)
		}
		again, found, err := r.find(ctx, v.Kind, v.ID, before)
		if err != nil || !found {
			return err // gone, or the read failed
		}
		v = again
	}
	return fmt.Errorf("keys: re-seal the %s %q: it keeps changing; run the rotation again", v.Kind, v.ID)
}

// find reads the value of kind named id again, scanning from before (an ID
// that sorts before it): values may have been added in between.
func (r *rotation) find(ctx context.Context, kind store.SealedKind, id, before string) (store.SealedValue, bool, error) {
	const page = 50
	for {
		vs, err := r.st.ListSealedValues(ctx, kind, before, page)
		if err != nil {
			return store.SealedValue{}, false, fmt.Errorf("keys: rotation: %w", err)
		}
		for _, v := range vs {
			if v.ID == id {
				return v, true, nil
			}
			if v.ID > id {
				return store.SealedValue{}, false, nil
			}
		}
		if len(vs) < page {
			return store.SealedValue{}, false, nil
		}
		before = vs[len(vs)-1].ID
	}
}

// rewrap moves data key dk from the old master key to the new one.
func (r *rotation) rewrap(ctx context.Context, dk store.DataKey) error {
	if dk.MasterFingerprint == r.nm.fp {
		r.rep.AlreadyNew++
		return nil
	}
	raw, err := r.om.unwrapKey(dk)
	if err != nil {
		return err
	}
	wrapped, err := r.nm.wrapKey(dk.ID, raw, r.opt.Rand)
	clear(raw)
	if err != nil {
		return err
	}
	err = r.st.RewrapDataKey(ctx, dk.ID, r.om.fp, wrapped, r.nm.fp)
	if errors.Is(err, store.ErrConflict) {
		// Moved meanwhile: only another run of this same rotation may have.
		now, gerr := r.st.GetDataKey(ctx, dk.ID)
		if gerr != nil {
			return fmt.Errorf("keys: re-wrap data key %d: %w", dk.ID, gerr)
		}
		if now.MasterFingerprint == r.nm.fp {
			r.rep.AlreadyNew++
			return nil
		}
		return fmt.Errorf("keys: re-wrap data key %d: it is now wrapped by the master key with fingerprint %s: %w", dk.ID, now.MasterFingerprint, err)
	}
	if err != nil {
		return fmt.Errorf("keys: re-wrap data key %d: %w", dk.ID, err)
	}
	r.rep.Rewrapped++
	return r.step(ctx)
}

// verify checks the end state: every data key is wrapped under, and opens
// with, the new master key.
func (r *rotation) verify(ctx context.Context) error {
	dks, err := r.st.ListDataKeys(ctx)
	if err != nil {
		return fmt.Errorf("keys: verify rotation: %w", err)
	}
	if err := checkFingerprints(dks, r.nm.fp); err != nil {
		return fmt.Errorf("keys: verify rotation: %w", err)
	}
	for _, dk := range dks {
		raw, err := r.nm.unwrapKey(dk)
		if err != nil {
			return fmt.Errorf("keys: verify rotation: %w", err)
		}
		clear(raw)
	}
	return nil
}
