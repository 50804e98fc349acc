package service

// The audit log.
//
// Every authenticated API call becomes one store.AuditRecord, appended after
// the newest one and chained to it:
//
//	Hash = HMAC-SHA-256(K, "pcad-audit-v1" || bytes(PrevHash) || int(At) ||
//	       int(AccountID) || int(PrincipalID) || str(AccessKeyID) || str(Action) ||
//	       str(Resource) || str(Code) || str(RequestID) || str(SourceIP))
//
// bytes(b) and str(s) are the length as an 8-byte big-endian unsigned integer
// followed by the bytes; int(v) is v as an 8-byte big-endian two's-complement
// integer; At is in Unix milliseconds (the stored precision; 0 for the zero
// time). PrevHash is empty for the first record. Every field has a fixed
// place and a length, so two different records never encode alike. The
// record id is not covered: the store assigns it after the hash is made.
// K is a 32-byte server secret ("audit-hmac"), sealed like the other server
// secrets (package keys: under a data key wrapped by the master key).
//
// Why a keyed hash: with a plain SHA-256 anyone who can write to the database
// could edit a record and recompute every hash after it, or append invented
// records. Without K they can do neither; verification needs K too, so it runs
// where the master key is (`pcad admin audit verify`).
//
// The chain alone cannot show that records were cut off its end. So after
// each append the service also moves the audit head, a server secret
// ("audit-head") holding the newest record's id and hash, sealed (AES-256-GCM,
// under a data key wrapped by the master key): it cannot be forged without it. The head moves
// forward only (store.SwapSecret, compare-and-swap), and only over records
// that chain from the record it names: a log cut short stays visibly short
// even as new calls are appended. VerifyAudit checks every record and that
// the record the head names is there with that hash.
//
// Limits: records appended after the head last moved (a call in flight, or a
// head update that failed: it is logged) are chained but not sealed until the
// next call moves the head; until then they could be cut off unnoticed.
// Someone holding the database and an old copy of the sealed head can put the
// old head back and cut off the records after it. Anchor the log outside the
// database to close that: keep the head that verify prints, or exports.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/store"
)

// AuditEntry is one finished API call as the audit log records it. It
// carries no secret: no AccessKey secret, password, key or request body.
// (The API version and HTTP status are not recorded: Action and Code name
// the call and its outcome.)
type AuditEntry struct {
	Time        time.Time // when the call arrived; zero means now
	RequestID   string
	Action      string
	AccessKeyID string
	AccountID   int64
	PrincipalID int64
	SourceIP    string
	Resource    string // what the call acted on, e.g. "ca/<identifier>"; may be empty
	Code        string // "OK" or the error code answered
}

// Names of the audit server secrets, and the context of the head's seal.
const (
	auditKeyName  = "audit-hmac"
	auditHeadName = "audit-head"
	auditDomain   = "pcad-audit-v1"
	// auditPage is how many records are read at a time.
	auditPage = 1000
	// auditSealWindow: a missing head is created only while the log holds at
	// most this many records (the first calls of a new log, possibly
	// concurrent). A longer log without a head had its head deleted.
	auditSealWindow = 64
)

var auditHeadAAD = keys.SecretAAD(auditHeadName)

// errAuditHead marks a head that is there but does not open or parse.
var errAuditHead = errors.New("the sealed audit head does not open: it was altered or replaced")

// auditFailures counts calls that could not be appended to the audit log or
// sealed, in this process.
var auditFailures atomic.Int64

// AuditFailures returns how many calls, since the process started, could not
// be appended to the audit log or whose append could not be sealed by the
// audit head, across every Service of the process. Each one was also logged
// at Error level.
func AuditFailures() int64 { return auditFailures.Load() }

// Audit appends the call e to the audit log and moves the sealed head to it.
//
// It never fails the call it records: an API answer that was already decided
// is not turned into an error because the log could not be written. A
// failure is logged at Error level and counted (AuditFailures) instead, so
// monitoring can alert on it. The trade-off: while the store refuses writes,
// calls go unrecorded, but they go unrecorded loudly. A call that fails to
// append here most likely also failed to change anything, as it shares the
// store.
func (s *Service) Audit(ctx context.Context, e AuditEntry) {
	a, err := s.auditAppend(ctx, e)
	if err != nil {
		s.auditFailed("the call is not in the audit log", e, err)
		return
	}
	rec, moved, err := s.store.AppendAuditMovingHead(ctx, a.Record, a.Chain, a.HeadName, a.Move)
	if err != nil {
		s.auditFailed("the call is not in the audit log", e, err)
		return
	}
	s.afterAuditAppend(ctx, e, rec, moved)
}

// auditAppend is the append of e: the record, the chain function under the
// audit key, and the move of the sealed head. Usually the head names the
// record the new one follows: it moves in the append's own transaction
// (one write). Otherwise (no head yet on a log that has records, or a head
// left behind by a failed update) the head stays, and afterAuditAppend
// checks the records in between first.
func (s *Service) auditAppend(ctx context.Context, e AuditEntry) (*store.AuditAppend, error) {
	at := e.Time
	if at.IsZero() {
		at = s.now()
	}
	key, err := s.auditKey(ctx)
	if err != nil {
		return nil, err
	}
	return &store.AuditAppend{
		Record: store.AuditRecord{At: at, AccountID: e.AccountID, PrincipalID: e.PrincipalID,
			AccessKeyID: e.AccessKeyID, Action: e.Action, Resource: e.Resource, Code: e.Code, RequestID: e.RequestID,
			SourceIP: e.SourceIP},
		Chain:    func(r store.AuditRecord) []byte { return auditHash(key, r) },
		HeadName: auditHeadName,
		Move: func(stored []byte, prev, rec store.AuditRecord) ([]byte, error) {
			if stored == nil && prev.ID != 0 {
				return nil, nil
			}
			if stored != nil {
				plain, err := s.sealer.Open(ctx, stored, auditHeadAAD)
				if err != nil || len(plain) != 8+sha256.Size || int64(binary.BigEndian.Uint64(plain)) != prev.ID || !hmac.Equal(plain[8:], prev.Hash) {
					return nil, nil
				}
			}
			plain := binary.BigEndian.AppendUint64(nil, uint64(rec.ID))
			return s.sealer.Seal(append(plain, rec.Hash...), auditHeadAAD)
		},
	}, nil
}

// afterAuditAppend seals the head over rec (appended for e) when the append
// did not move it.
func (s *Service) afterAuditAppend(ctx context.Context, e AuditEntry, rec store.AuditRecord, moved bool) {
	if moved {
		return
	}
	key, err := s.auditKey(ctx)
	if err == nil {
		err = s.sealAuditHead(ctx, key, rec)
	}
	if err != nil {
		s.auditFailed(fmt.Sprintf("audit record %d is appended but not sealed by the audit head; run `pcad admin audit verify`", rec.ID), e, err)
	}
}

// InlineAudit is the audit record of a call that may be written by the
// service in the same transaction as the change the call makes, instead of
// by Audit after the answer is decided: the change and its record then
// commit together, one durable write instead of two. The API layer makes
// one per call (WithInlineAudit) before the action runs; when Written
// reports true after a successful answer, the call is in the log already
// and Audit must not be called for it again. Calls that fail, and changes
// that do not write inline, are audited by Audit as before.
type InlineAudit struct {
	entry    AuditEntry
	resource func(created string) string
	written  atomic.Bool
	stored   string // the Resource written; set before written
}

type inlineAuditKey struct{}

// WithInlineAudit returns ctx carrying e (Code "OK" is set) as the record
// of the call, to be written with the call's change, and the ticket that
// tells whether it was. resource, when not nil, gives the record's Resource
// from the identifier of what the change created ("" when it created
// nothing); nil keeps e.Resource.
func WithInlineAudit(ctx context.Context, e AuditEntry, resource func(created string) string) (context.Context, *InlineAudit) {
	e.Code = "OK"
	ia := &InlineAudit{entry: e, resource: resource}
	return context.WithValue(ctx, inlineAuditKey{}, ia), ia
}

// Written reports whether the call's record was written with its change.
func (ia *InlineAudit) Written() bool { return ia != nil && ia.written.Load() }

// Resource is the Resource of the record written (valid when Written).
func (ia *InlineAudit) Resource() string {
	if !ia.Written() {
		return ""
	}
	return ia.stored
}

// inlineAudit returns the append of the call's record for a change that
// creates the object created, and the function to call once the change
// committed; nil, nil when ctx carries no ticket, its record was written
// already, or the append cannot be prepared (Audit then records the call
// after the answer, as for any other).
func (s *Service) inlineAudit(ctx context.Context, created string) (*store.AuditAppend, func()) {
	ia, _ := ctx.Value(inlineAuditKey{}).(*InlineAudit)
	if ia == nil || ia.written.Load() {
		return nil, nil
	}
	e := ia.entry
	if ia.resource != nil {
		e.Resource = ia.resource(created)
	}
	a, err := s.auditAppend(ctx, e)
	if err != nil {
		return nil, nil
	}
	return a, func() {
		ia.stored = e.Resource
		ia.written.Store(true)
		s.afterAuditAppend(context.WithoutCancel(ctx), e, a.Stored, a.Moved)
	}
}

// auditKey returns the audit chain's HMAC key, read (or created) once and
// then kept: it never changes (rotation re-seals it, the key stays).
func (s *Service) auditKey(ctx context.Context) ([]byte, error) {
	if k := s.auditKeyCache.Load(); k != nil {
		return *k, nil
	}
	key, err := s.serverSecret(ctx, auditKeyName, sha256.Size)
	if err != nil {
		return nil, err
	}
	s.auditKeyCache.Store(&key)
	return key, nil
}

func (s *Service) auditFailed(what string, e AuditEntry, err error) {
	auditFailures.Add(1)
	s.log.Error("AUDIT FAILURE: "+what, "err", err, "action", e.Action, "request_id", e.RequestID,
		"access_key_id", e.AccessKeyID, "account_id", e.AccountID, "code", e.Code)
}

// auditHash is the chain function: see the top of this file.
func auditHash(key []byte, r store.AuditRecord) []byte {
	m := hmac.New(sha256.New, key)
	var b []byte
	b = append(b, auditDomain...)
	b = appendBytes(b, r.PrevHash)
	b = binary.BigEndian.AppendUint64(b, uint64(unixMS(r.At)))
	b = binary.BigEndian.AppendUint64(b, uint64(r.AccountID))
	b = binary.BigEndian.AppendUint64(b, uint64(r.PrincipalID))
	for _, f := range []string{r.AccessKeyID, r.Action, r.Resource, r.Code, r.RequestID, r.SourceIP} {
		b = appendBytes(b, []byte(f))
	}
	m.Write(b)
	return m.Sum(nil)
}

func appendBytes(b, v []byte) []byte {
	return append(binary.BigEndian.AppendUint64(b, uint64(len(v))), v...)
}

// unixMS is t in Unix milliseconds, 0 for the zero time (as the store keeps it).
func unixMS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// auditHead is the newest sealed record.
type auditHead struct {
	ID   int64
	Hash []byte
}

// loadAuditHead returns the head, its stored (sealed) bytes, and whether
// there is one. A head that does not open is an error wrapping errAuditHead.
func (s *Service) loadAuditHead(ctx context.Context) (head auditHead, raw []byte, found bool, err error) {
	raw, err = s.store.GetSecret(ctx, auditHeadName)
	if errors.Is(err, store.ErrNotFound) {
		return auditHead{}, nil, false, nil
	}
	if err != nil {
		return auditHead{}, nil, false, fmt.Errorf("service: read audit head: %w", err)
	}
	plain, err := s.sealer.Open(ctx, raw, auditHeadAAD)
	if err != nil || len(plain) != 8+sha256.Size {
		return auditHead{}, nil, false, fmt.Errorf("service: %w", errAuditHead)
	}
	return auditHead{ID: int64(binary.BigEndian.Uint64(plain)), Hash: plain[8:]}, raw, true, nil
}

// sealAuditHead moves the head to rec unless a later record holds it
// already. It refuses when the records between the head and rec do not
// chain from the head (the log was cut or rewritten): the head then keeps
// pointing at what is missing, for VerifyAudit to report.
func (s *Service) sealAuditHead(ctx context.Context, key []byte, rec store.AuditRecord) error {
	for range 20 {
		head, raw, found, err := s.loadAuditHead(ctx)
		if err != nil {
			return err
		}
		if found && head.ID >= rec.ID {
			return nil
		}
		if err := s.checkAuditLink(ctx, key, head, found, rec.ID); err != nil {
			return err
		}
		plain := binary.BigEndian.AppendUint64(nil, uint64(rec.ID))
		sealed, err := s.sealer.Seal(append(plain, rec.Hash...), auditHeadAAD)
		if err != nil {
			return fmt.Errorf("service: seal audit head: %w", err)
		}
		err = s.store.SwapSecret(ctx, auditHeadName, raw, sealed)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
		// Another call moved the head meanwhile: look again.
	}
	return errors.New("service: audit head: too many concurrent updates")
}

// checkAuditLink checks that the records after the head, up to id, chain
// from it (from the start of the log when there is no head yet).
func (s *Service) checkAuditLink(ctx context.Context, key []byte, head auditHead, found bool, id int64) error {
	prev, after, n := head.Hash, head.ID, 0
	if !found {
		prev, after = nil, 0
	}
	for {
		page, err := s.store.AuditRecords(ctx, after, auditPage)
		if err != nil {
			return fmt.Errorf("service: read audit log: %w", err)
		}
		for _, r := range page {
			if r.ID > id {
				return fmt.Errorf("service: audit record %d is gone", id)
			}
			if err := checkAuditRecord(key, r, prev); err != nil {
				return fmt.Errorf("service: not sealing: %w", err)
			}
			n++
			if !found && n > auditSealWindow {
				return fmt.Errorf("service: not sealing: the audit log has no sealed head but more than %d records (was the head deleted?)", auditSealWindow)
			}
			if r.ID == id {
				return nil
			}
			prev, after = r.Hash, r.ID
		}
		if len(page) == 0 {
			return fmt.Errorf("service: audit record %d is gone", id)
		}
	}
}

// checkAuditRecord checks that r follows the record whose hash is prev (nil:
// r is the first) and that its fields match its hash.
func checkAuditRecord(key []byte, r store.AuditRecord, prev []byte) error {
	if !bytes.Equal(r.PrevHash, prev) {
		if prev == nil {
			return fmt.Errorf("record %d is the first but names a previous record: records before it were deleted", r.ID)
		}
		return fmt.Errorf("record %d does not follow the record before it: records were deleted, inserted, reordered or altered here", r.ID)
	}
	if !hmac.Equal(r.Hash, auditHash(key, r)) {
		return fmt.Errorf("record %d was altered: its fields do not match its hash", r.ID)
	}
	return nil
}

// AuditReport is the outcome of VerifyAudit.
type AuditReport struct {
	Records  int64  // records read
	HeadID   int64  // the record the sealed head names; 0 when there is no head
	HeadHash []byte // its hash
	// Unsealed counts records after the head: chained, but appended after the
	// head last moved (calls in flight, or failed head updates, which are
	// logged). The next call seals them.
	Unsealed int64
	// FirstBad is the first record that fails, or the first missing one; 0
	// when the log verifies or the fault is not one record's.
	FirstBad int64
	// Err says what is wrong; nil when the log verifies.
	Err error
}

// VerifyAudit reads the whole audit log, in pages, and checks every record's
// hash, the chain, and the sealed head (see the top of this file). A log that
// fails is reported in AuditReport.Err with the first bad record; the error
// result is for a log that could not be read. It works while calls are being
// appended.
func (s *Service) VerifyAudit(ctx context.Context) (AuditReport, error) {
	var rep AuditReport
	// The head first: records appended while the log is read lie after it.
	head, _, found, err := s.loadAuditHead(ctx)
	if errors.Is(err, errAuditHead) {
		rep.Err = err
		return rep, nil
	}
	if err != nil {
		return rep, err
	}
	if found {
		rep.HeadID, rep.HeadHash = head.ID, head.Hash
	}
	key, err := s.store.GetSecret(ctx, auditKeyName)
	switch {
	case errors.Is(err, store.ErrNotFound):
		key = nil
	case err != nil:
		return rep, fmt.Errorf("service: read audit key: %w", err)
	default:
		if key, err = s.sealer.Open(ctx, key, keys.SecretAAD(auditKeyName)); err != nil {
			rep.Err = errors.New("the audit key does not open: it was altered or replaced")
			return rep, nil
		}
	}
	var prev []byte
	var last int64
	sawHead := false
	for {
		page, err := s.store.AuditRecords(ctx, last, auditPage)
		if err != nil {
			return rep, fmt.Errorf("service: read audit log: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			rep.Records++
			if key == nil {
				rep.FirstBad, rep.Err = r.ID, errors.New("the audit key is missing: no record can be checked (it was deleted)")
				return rep, nil
			}
			if found && !sawHead && r.ID > head.ID {
				rep.FirstBad, rep.Err = head.ID, fmt.Errorf("record %d, which the sealed head names, is missing", head.ID)
				return rep, nil
			}
			if err := checkAuditRecord(key, r, prev); err != nil {
				rep.FirstBad, rep.Err = r.ID, err
				return rep, nil
			}
			if found && r.ID == head.ID {
				if !hmac.Equal(r.Hash, head.Hash) {
					rep.FirstBad, rep.Err = r.ID, fmt.Errorf("record %d is not the record the sealed head names: the log was rewritten", r.ID)
					return rep, nil
				}
				sawHead = true
			} else if !found || r.ID > head.ID {
				rep.Unsealed++
			}
			prev, last = r.Hash, r.ID
		}
	}
	switch {
	case found && !sawHead && last == 0:
		rep.FirstBad, rep.Err = 1, fmt.Errorf("the log is empty but the sealed head names record %d: its records were deleted", head.ID)
	case found && !sawHead:
		rep.FirstBad, rep.Err = last+1, fmt.Errorf("the log ends at record %d but the sealed head names record %d: records were deleted from its end", last, head.ID)
	case !found && rep.Records > 0:
		rep.Err = errors.New("the audit log has records but no sealed head: it was deleted (or the very first call's head update failed, then the next call seals the log)")
	}
	return rep, nil
}

// auditLine is one record of an export.
type auditLine struct {
	ID          int64  `json:"id"`
	Time        string `json:"time"` // RFC 3339, UTC, milliseconds
	AccountID   int64  `json:"account_id"`
	PrincipalID int64  `json:"principal_id"`
	AccessKeyID string `json:"access_key_id"`
	Action      string `json:"action"`
	Resource    string `json:"resource"`
	Code        string `json:"code"`
	RequestID   string `json:"request_id"`
	SourceIP    string `json:"source_ip"`
	PrevHash    string `json:"prev_hash"` // hex
	Hash        string `json:"hash"`      // hex
}

// ExportAudit writes the records with id >= fromID to w as JSON lines, one
// object per record in id order, with the fields id, time (RFC 3339, UTC,
// milliseconds), account_id, principal_id, access_key_id, action, resource,
// code, request_id, source_ip, prev_hash and hash (hex). It returns how many
// records it wrote. It does not verify the log (VerifyAudit does).
func (s *Service) ExportAudit(ctx context.Context, w io.Writer, fromID int64) (int64, error) {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var n int64
	after := max(fromID-1, 0)
	for {
		page, err := s.store.AuditRecords(ctx, after, auditPage)
		if err != nil {
			return n, fmt.Errorf("service: read audit log: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, r := range page {
			if err := enc.Encode(auditLine{ID: r.ID, Time: r.At.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
				AccountID: r.AccountID, PrincipalID: r.PrincipalID, AccessKeyID: r.AccessKeyID, Action: r.Action,
				Resource: r.Resource, Code: r.Code, RequestID: r.RequestID, SourceIP: r.SourceIP,
				PrevHash: hex.EncodeToString(r.PrevHash), Hash: hex.EncodeToString(r.Hash)}); err != nil {
				return n, fmt.Errorf("service: export audit log: %w", err)
			}
			n++
			after = r.ID
		}
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("service: export audit log: %w", err)
	}
	return n, nil
}
