package pki

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"math/big"
	"strings"
	"time"
)

// CRLEntry is one revoked certificate of a CRL. Reason is an RFC 5280
// CRLReason code: 0 (unspecified) writes no reasonCode extension, as RFC
// 5280 5.3.1 recommends; 1 to 6, 9 and 10 are written; 7 is unassigned and
// 8 (removeFromCRL) belongs to delta CRLs only, so both are refused.
type CRLEntry struct {
	Serial    *big.Int
	RevokedAt time.Time
	Reason    int
}

// CRLTemplate holds the per-issue fields of a CRL: its CRL number (a
// non-negative integer of at most 20 octets that grows with every CRL of the
// issuer, RFC 5280 5.2.3) and its thisUpdate and nextUpdate times (truncated
// to whole seconds; nextUpdate after thisUpdate).
type CRLTemplate struct {
	Number                 *big.Int
	ThisUpdate, NextUpdate time.Time
}

// MaxCRLSize bounds the DER size of a CRL WriteCRL writes (4 GiB).
const MaxCRLSize = 1<<32 - 1

var (
	oidCRLNumber = asn1.ObjectIdentifier{2, 5, 29, 20}
	oidAKI       = asn1.ObjectIdentifier{2, 5, 29, 35}
)

// ErrCRLEntriesChanged is returned by WriteCRL when entries did not yield
// the same entries on its two calls.
var ErrCRLEntriesChanged = errors.New("pki: crl: entries changed between the two passes")

// WriteCRL writes to w a DER X.509 v2 CRL of issuer, signed by issuerKey,
// listing the entries that entries yields, and returns the number of bytes
// written. The CRL has the issuer's subject (issuer.RawSubject), the times
// of tmpl (UTCTime through 2049, GeneralizedTime from 2050), no
// revokedCertificates field when there are no entries, and two non-critical
// extensions: authorityKeyIdentifier (the issuer's SubjectKeyId) and
// cRLNumber. An entry with a non-zero Reason has a reasonCode extension. The
// signature is RSA PKCS #1 v1.5 with SHA-256 for an RSA issuer, ECDSA with
// SHA-256, SHA-384 or SHA-512 for P-256, P-384 and P-521, as for
// certificates; signing randomness is read from r.
//
// entries is called twice and must yield the same entries, in the same
// order, both times: it calls fn once per entry and returns the first error
// fn returns (which stops it) or its own. WriteCRL does not keep the entries
// nor the Serial they point to, so entries may reuse one big.Int. Memory use
// does not depend on the number of entries.
//
// Design: DER puts the length of every element before its content, and the
// signature covers the whole TBSCertList. Pass 1 only encodes each entry to
// measure it; it gives the length of revokedCertificates, of the TBS and,
// since the length of the signature is known in advance, of the whole CRL.
// Pass 2 writes the CRL header and the TBS to w while hashing the TBS, then
// signs the digest and writes the signature. RSA signatures have the length
// of the modulus. ECDSA signatures vary by a few octets, so WriteCRL commits
// to the most likely length (see sigScheme.sigLen) and, when a signature has
// another, uses the equally valid (r, n-s) if that has the right length, or
// asks issuerKey for another signature (rarely more than one more; at most
// 32 tries). The signature is verified before it is written.
//
// If pass 2 sees entries that differ in number or size from pass 1 it stops
// with ErrCRLEntriesChanged. Any error after the first byte leaves w with a
// partial CRL: write to a temporary file and rename it into place only on
// success. Entries are checked in pass 1, before anything is written: a
// serial that is not positive or longer than 20 octets, a revocation time
// after ThisUpdate or before 1950, or a refused Reason is an error. Errors
// are internal ("pki: ..."); none is a *pca.Error.
//
// Duplicate serials are not detected: entries must come from a source that
// keeps serials unique (the certificate store does).
func WriteCRL(w io.Writer, r io.Reader, tmpl CRLTemplate, issuer *x509.Certificate, issuerKey crypto.Signer, entries func(fn func(CRLEntry) error) error) (n int64, err error) {
	if w == nil || r == nil || entries == nil {
		return 0, errors.New("pki: crl: nil writer, random source or entries")
	}
	c, err := newCRLWriter(tmpl, issuer, issuerKey)
	if err != nil {
		return 0, err
	}
	scheme := c.scheme

	// Pass 1: check and measure.
	if err := entries(func(e CRLEntry) error {
		b, err := c.entry(e)
		c.count++
		c.size += int64(len(b))
		if err != nil {
			return fmt.Errorf("entry %d: %w", c.count, err)
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("pki: crl: %w", err)
	}
	tbsContent, outer, total, err := c.lengths()
	if err != nil {
		return 0, err
	}
	sigLen := scheme.sigLen()

	// Pass 2: write and hash. A writer that can grow (a bytes.Buffer) is
	// sized once, now that the size is known, instead of doubling as it fills.
	if g, ok := w.(interface{ Grow(int) }); ok && total <= 1<<30 {
		g.Grow(int(total))
	}
	c.out = newCountingWriter(w)
	c.h = scheme.hash.New()
	c.out.write(appendHeader(c.buf[:0], tagSequence, outer))
	c.both(appendHeader(c.buf[:0], tagSequence, tbsContent))
	c.both(c.prefix)
	if c.count > 0 {
		c.both(appendHeader(c.buf[:0], tagSequence, c.size))
	}
	var count, size int64
	err = entries(func(e CRLEntry) error {
		b, err := c.entry(e)
		count++
		size += int64(len(b))
		if err != nil || count > c.count || size > c.size {
			return ErrCRLEntriesChanged
		}
		c.both(b)
		return c.out.err
	})
	switch {
	case err == nil && (count != c.count || size != c.size):
		err = ErrCRLEntriesChanged
	case errors.Is(err, ErrCRLEntriesChanged):
	case err != nil:
		err = fmt.Errorf("pki: crl: %w", err)
	}
	if err != nil {
		c.out.flush()
		return c.out.n, err
	}
	c.both(c.suffix)

	sig, err := c.sign(r, issuerKey, c.h.Sum(nil))
	if err != nil {
		c.out.flush()
		return c.out.n, err
	}
	c.out.write(scheme.alg)
	c.out.write(append(appendHeader(c.buf[:0], tagBitString, 1+sigLen), 0))
	c.out.write(sig)
	c.out.flush()
	if c.out.err != nil {
		return c.out.n, fmt.Errorf("pki: crl: write: %w", c.out.err)
	}
	if c.out.n != total {
		return c.out.n, fmt.Errorf("pki: crl: wrote %d octets, expected %d", c.out.n, total)
	}
	return c.out.n, nil
}

// CRLEntries is a list of CRL entries held compactly in memory for
// CreateCRL: each takes 10 octets beside its serial number (26 for a
// 16-octet serial, where a CRLEntry needs a big.Int and a time.Time), in
// blocks of 1 MiB, with no allocation per entry. Entries are checked as they
// are added. The zero value is an empty list; a list is not safe for
// concurrent use, but CreateCRL only reads it.
type CRLEntries struct {
	// blocks hold records of: the serial's length k (1 to 20), its k octets
	// (big-endian magnitude, no leading zero), the reason code, and the
	// revocation time in Unix seconds (8 octets, big-endian).
	blocks      [][]byte
	n           int64 // entries
	size        int64 // their DER size
	latest      int64 // latest revocation time (Unix seconds) of any entry
	latestIndex int64 // the first entry with it (1-based), for errors
}

const crlBlockSize = 1 << 20

// Add appends an entry: serial is the big-endian magnitude of its serial
// number (leading zero octets are allowed and dropped), revokedAt is
// truncated to whole seconds and reason is as CRLEntry.Reason. It refuses,
// and does not add, what WriteCRL refuses of an entry (a serial that is not
// positive or longer than 20 octets in DER, a time before 1950 or after
// 9999, a refused reason), except a time after thisUpdate, which CreateCRL
// checks. Errors are internal ("pki: crl: entry N: ...").
func (l *CRLEntries) Add(serial []byte, revokedAt time.Time, reason int) error {
	for len(serial) > 0 && serial[0] == 0 {
		serial = serial[1:]
	}
	if len(serial) == 0 || len(serial) > 20 || len(serial) == 20 && serial[0]&0x80 != 0 {
		return l.errorf(errSerial)
	}
	t := revokedAt.UTC().Truncate(time.Second)
	if err := checkRevocation(t, reason); err != nil {
		return l.errorf(err)
	}
	secs := t.Unix()
	const recMax = 1 + 20 + 1 + 8
	if len(l.blocks) == 0 || cap(l.blocks[len(l.blocks)-1])-len(l.blocks[len(l.blocks)-1]) < recMax {
		l.blocks = append(l.blocks, make([]byte, 0, crlBlockSize))
	}
	b := l.blocks[len(l.blocks)-1]
	b = append(b, byte(len(serial)))
	b = append(b, serial...)
	b = append(b, byte(reason))
	b = binary.BigEndian.AppendUint64(b, uint64(secs))
	l.blocks[len(l.blocks)-1] = b
	l.n++
	l.size += crlEntryLen(serial, secs, reason)
	if l.n == 1 || secs > l.latest {
		l.latest, l.latestIndex = secs, l.n
	}
	return nil
}

// AddHex is Add with the serial number in hexadecimal (either case, any
// number of digits, leading zeros allowed), as the store keeps it.
func (l *CRLEntries) AddHex(serial string, revokedAt time.Time, reason int) error {
	var buf [20]byte
	digits := strings.TrimLeft(serial, "0")
	if len(digits) > 2*len(buf) {
		return l.errorf(errSerial)
	}
	// Two digits an octet, from the right; an odd count leaves the first
	// digit alone in the first octet.
	k := (len(digits) + 1) / 2
	for i, j := len(digits), k-1; j >= 0; i, j = i-2, j-1 {
		lo, hi := hexValue[digits[i-1]], byte(0)
		if i >= 2 {
			hi = hexValue[digits[i-2]]
		}
		if lo|hi > 0x0f {
			return l.errorf(fmt.Errorf("serial number %q is not hexadecimal", serial))
		}
		buf[j] = hi<<4 | lo
	}
	return l.Add(buf[:k], revokedAt, reason)
}

// hexValue maps a hexadecimal digit (either case) to its value and any
// other octet to 0xff.
var hexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "0123456789abcdef" {
		t[c] = byte(i)
		t[strings.ToUpper(string(c))[0]] = byte(i)
	}
	return t
}()

func (l *CRLEntries) errorf(err error) error {
	return fmt.Errorf("pki: crl: entry %d: %w", l.n+1, err)
}

// Len returns the number of entries.
func (l *CRLEntries) Len() int64 { return l.n }

// appendDER appends the DER of every entry, in the order they were added.
func (l *CRLEntries) appendDER(b []byte) []byte {
	for _, blk := range l.blocks {
		for len(blk) > 0 {
			k := int(blk[0])
			serial := blk[1 : 1+k]
			reason := int(blk[1+k])
			secs := int64(binary.BigEndian.Uint64(blk[2+k:]))
			blk = blk[10+k:]
			b = appendCRLEntry(b, serial, time.Unix(secs, 0).UTC(), reason)
		}
	}
	return b
}

// CreateCRL returns the DER of the CRL WriteCRL would write for the same
// template, issuer and entries (in the order they were added), with the
// same checks, plus that no entry's revocation time is after
// tmpl.ThisUpdate. It holds the whole CRL in memory, allocated once at its
// exact size, and reads the entries once, where WriteCRL streams them
// twice: use it when the entries are in memory anyway or reading them is
// costly. Errors are internal ("pki: ...").
func CreateCRL(r io.Reader, tmpl CRLTemplate, issuer *x509.Certificate, issuerKey crypto.Signer, entries *CRLEntries) ([]byte, error) {
	if r == nil || entries == nil {
		return nil, errors.New("pki: crl: nil random source or entries")
	}
	c, err := newCRLWriter(tmpl, issuer, issuerKey)
	if err != nil {
		return nil, err
	}
	if entries.n > 0 && entries.latest > c.thisUpdate.Unix() {
		return nil, fmt.Errorf("pki: crl: entry %d: %w", entries.latestIndex, errAfterThisUpdate(time.Unix(entries.latest, 0), c.thisUpdate))
	}
	c.count, c.size = entries.n, entries.size
	tbsContent, outer, total, err := c.lengths()
	if err != nil {
		return nil, err
	}
	if total > math.MaxInt {
		return nil, fmt.Errorf("pki: crl: %d octets do not fit in memory", total)
	}
	out := make([]byte, 0, int(total))
	out = appendHeader(out, tagSequence, outer)
	tbsStart := len(out)
	out = appendHeader(out, tagSequence, tbsContent)
	out = append(out, c.prefix...)
	if c.count > 0 {
		out = appendHeader(out, tagSequence, c.size)
	}
	out = entries.appendDER(out)
	out = append(out, c.suffix...)
	h := c.scheme.hash.New()
	h.Write(out[tbsStart:])
	sig, err := c.sign(r, issuerKey, h.Sum(nil))
	if err != nil {
		return nil, err
	}
	out = append(out, c.scheme.alg...)
	out = append(appendHeader(out, tagBitString, int64(1+len(sig))), 0)
	out = append(out, sig...)
	if int64(len(out)) != total {
		return nil, fmt.Errorf("pki: crl: made %d octets, expected %d", len(out), total)
	}
	return out, nil
}

// crlWriter holds the state of one WriteCRL or CreateCRL call.
type crlWriter struct {
	scheme     sigScheme
	thisUpdate time.Time
	prefix     []byte // TBS content before revokedCertificates
	suffix     []byte // crlExtensions
	count      int64  // entries (in pass 1 for WriteCRL)
	size       int64  // their encoded size
	buf        [64]byte
	num        [21]byte
	out        *countingWriter
	h          hash.Hash
}

// newCRLWriter checks the issuer and its key and encodes the fixed parts
// of the CRL.
func newCRLWriter(tmpl CRLTemplate, issuer *x509.Certificate, issuerKey crypto.Signer) (*crlWriter, error) {
	if issuer == nil || issuerKey == nil {
		return nil, errors.New("pki: crl: nil issuer or issuer key")
	}
	if !samePublicKey(issuerKey.Public(), issuer.PublicKey) {
		return nil, errors.New("pki: crl: issuer key does not match the issuer certificate")
	}
	if !issuer.IsCA || issuer.KeyUsage != 0 && issuer.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, errors.New("pki: crl: issuer is not a CA allowed to sign CRLs")
	}
	if len(issuer.SubjectKeyId) == 0 {
		return nil, errors.New("pki: crl: issuer has no subject key identifier")
	}
	scheme, err := schemeFor(issuer.PublicKey)
	if err != nil {
		return nil, err
	}
	c := &crlWriter{scheme: scheme, thisUpdate: tmpl.ThisUpdate.UTC().Truncate(time.Second)}
	if err := c.header(tmpl, issuer); err != nil {
		return nil, err
	}
	return c, nil
}

// lengths returns the content lengths of the TBSCertList and of the outer
// CertificateList, and the total size of the CRL, for c.count entries of
// c.size octets in all.
func (c *crlWriter) lengths() (tbsContent, outer, total int64, err error) {
	revoked := int64(0)
	if c.count > 0 {
		revoked = tlvLen(c.size)
	}
	tbsContent = int64(len(c.prefix)) + revoked + int64(len(c.suffix))
	outer = tlvLen(tbsContent) + int64(len(c.scheme.alg)) + tlvLen(1+c.scheme.sigLen())
	total = tlvLen(outer)
	if total > MaxCRLSize {
		return 0, 0, 0, fmt.Errorf("pki: crl: %d octets is too large", total)
	}
	return tbsContent, outer, total, nil
}

// header encodes the fixed parts of the TBSCertList.
func (c *crlWriter) header(tmpl CRLTemplate, issuer *x509.Certificate) error {
	if tmpl.Number == nil || tmpl.Number.Sign() < 0 || tmpl.Number.BitLen() > 159 {
		return errors.New("pki: crl: the CRL number must be a non-negative integer of at most 20 octets")
	}
	next := tmpl.NextUpdate.UTC().Truncate(time.Second)
	if tmpl.ThisUpdate.IsZero() || !next.After(c.thisUpdate) {
		return fmt.Errorf("pki: crl: nextUpdate %s must be after thisUpdate %s", utc(next), utc(c.thisUpdate))
	}
	for _, t := range []time.Time{c.thisUpdate, next} {
		if err := checkTime(t); err != nil {
			return fmt.Errorf("pki: crl: %w", err)
		}
	}
	p := []byte{tagInteger, 1, 1} // version v2
	p = append(p, c.scheme.alg...)
	p = append(p, issuer.RawSubject...)
	p = appendTime(p, c.thisUpdate)
	c.prefix = appendTime(p, next)

	aki, err := asn1.Marshal(struct {
		ID []byte `asn1:"optional,tag:0"`
	}{issuer.SubjectKeyId})
	if err != nil {
		return fmt.Errorf("pki: crl: marshal authority key identifier: %w", err)
	}
	number, err := asn1.Marshal(tmpl.Number)
	if err != nil {
		return fmt.Errorf("pki: crl: marshal CRL number: %w", err)
	}
	exts, err := asn1.Marshal([]pkix.Extension{{Id: oidAKI, Value: aki}, {Id: oidCRLNumber, Value: number}})
	if err != nil {
		return fmt.Errorf("pki: crl: marshal extensions: %w", err)
	}
	c.suffix = append(appendHeader(nil, tagContext0, int64(len(exts))), exts...)
	return nil
}

// entry checks e and encodes it into c.buf. The returned slice is valid
// until the next call.
func (c *crlWriter) entry(e CRLEntry) ([]byte, error) {
	if e.Serial == nil || e.Serial.Sign() <= 0 || e.Serial.BitLen() > 159 {
		return nil, errSerial
	}
	revokedAt := e.RevokedAt.UTC().Truncate(time.Second)
	if revokedAt.After(c.thisUpdate) {
		return nil, errAfterThisUpdate(revokedAt, c.thisUpdate)
	}
	if err := checkRevocation(revokedAt, e.Reason); err != nil {
		return nil, err
	}
	b := append(c.buf[:0], tagSequence, 0)
	b = appendUint(b, c.num[:], e.Serial)
	return appendCRLEntryTail(b, 0, revokedAt, e.Reason), nil
}

var errSerial = errors.New("the serial number must be positive and at most 20 octets")

func errAfterThisUpdate(revokedAt, thisUpdate time.Time) error {
	return fmt.Errorf("revocation time %s is after thisUpdate %s", utc(revokedAt), utc(thisUpdate))
}

// checkRevocation checks an entry's revocation time (whole seconds, UTC)
// and reason code, except against thisUpdate.
func checkRevocation(revokedAt time.Time, reason int) error {
	if err := checkTime(revokedAt); err != nil {
		return err
	}
	switch reason {
	case 0, 1, 2, 3, 4, 5, 6, 9, 10:
		return nil
	}
	return fmt.Errorf("reason code %d is not allowed in a full CRL", reason)
}

// appendCRLEntry appends the DER of one revokedCertificates entry: serial
// is the big-endian magnitude of a positive serial number of at most 159
// bits with no leading zero octet, revokedAt is whole seconds in UTC and
// reason is allowed (see checkRevocation). It encodes what WriteCRL's
// entry does from a big.Int.
func appendCRLEntry(b, serial []byte, revokedAt time.Time, reason int) []byte {
	start := len(b)
	b = append(b, tagSequence, 0)
	if serial[0]&0x80 != 0 {
		b = append(b, tagInteger, byte(len(serial)+1), 0)
	} else {
		b = append(b, tagInteger, byte(len(serial)))
	}
	b = append(b, serial...)
	return appendCRLEntryTail(b, start, revokedAt, reason)
}

// appendCRLEntryTail appends the revocation date and reason of the entry
// whose SEQUENCE header is at b[start:start+2] and serial follows it, then
// sets the SEQUENCE length.
func appendCRLEntryTail(b []byte, start int, revokedAt time.Time, reason int) []byte {
	// SEQUENCE { INTEGER serial, Time revocationDate, [Extensions] }; the
	// content is at most 23 + 17 + 14 octets, so the header has 2.
	b = appendTime(b, revokedAt)
	if reason != 0 {
		// Extensions { Extension { reasonCode, OCTET STRING { ENUMERATED } } }
		b = append(b, tagSequence, 12, tagSequence, 10, 0x06, 0x03, 0x55, 0x1d, 0x15,
			tagOctetString, 3, tagEnumerated, 1, byte(reason))
	}
	b[start+1] = byte(len(b) - start - 2)
	return b
}

// crlEntryLen is the length of what appendCRLEntry appends for serial
// (magnitude, no leading zero), a revocation time of secs Unix seconds and
// reason.
func crlEntryLen(serial []byte, secs int64, reason int) int64 {
	n := 2 + 2 + len(serial) // SEQUENCE header, INTEGER header and magnitude
	if serial[0]&0x80 != 0 {
		n++ // a zero octet keeps the INTEGER positive
	}
	if secs < utcTimeEnd {
		n += 15 // UTCTime
	} else {
		n += 17 // GeneralizedTime
	}
	if reason != 0 {
		n += 14
	}
	return int64(n)
}

// utcTimeEnd is 2050-01-01T00:00:00Z in Unix seconds: appendTime writes
// earlier times as UTCTime, later ones as GeneralizedTime.
const utcTimeEnd = 2524608000

// both writes p to the output and the hash.
func (c *crlWriter) both(p []byte) {
	c.h.Write(p)
	c.out.write(p)
}

// sign signs the TBS digest and returns a signature of exactly
// c.scheme.sigLen() octets that verifies.
func (c *crlWriter) sign(r io.Reader, key crypto.Signer, digest []byte) ([]byte, error) {
	sigLen := c.scheme.sigLen()
	for range 32 {
		sig, err := key.Sign(r, digest, c.scheme.hash)
		if err != nil {
			return nil, fmt.Errorf("pki: crl: sign: %w", err)
		}
		if k, ok := c.scheme.pub.(*ecdsa.PublicKey); ok {
			if sig = fitECDSA(sig, k.Curve.Params().N, sigLen); sig == nil {
				continue
			}
		}
		if int64(len(sig)) != sigLen {
			return nil, fmt.Errorf("pki: crl: signature has %d octets, expected %d", len(sig), sigLen)
		}
		if err := c.scheme.verify(digest, sig); err != nil {
			return nil, fmt.Errorf("pki: crl: %w", err)
		}
		return sig, nil
	}
	return nil, errors.New("pki: crl: the signer gave no ECDSA signature of the expected length in 32 tries")
}

// countingWriter buffers writes to w, counts the bytes that reached w and
// keeps the first error.
type countingWriter struct {
	bw  *bufio.Writer
	cw  *byteCounter
	n   int64
	err error
}

type byteCounter struct {
	w io.Writer
	n int64
}

func (b *byteCounter) Write(p []byte) (int, error) {
	n, err := b.w.Write(p)
	b.n += int64(n)
	return n, err
}

func newCountingWriter(w io.Writer) *countingWriter {
	cw := &byteCounter{w: w}
	return &countingWriter{bw: bufio.NewWriterSize(cw, 64<<10), cw: cw}
}

func (c *countingWriter) write(p []byte) {
	if c.err == nil {
		_, c.err = c.bw.Write(p)
	}
	c.n = c.cw.n
}

func (c *countingWriter) flush() {
	if c.err == nil {
		c.err = c.bw.Flush()
	}
	c.n = c.cw.n
}
