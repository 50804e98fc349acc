package pca

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Algorithm is a key algorithm as the API names it on create calls.
type Algorithm string

// The key algorithms pcad issues with. RSA_1024 and SM2_256 exist on the wire
// but are refused: 1024-bit RSA is too weak and SM2 is not supported.
const (
	RSA2048 Algorithm = "RSA_2048"
	RSA4096 Algorithm = "RSA_4096"
	ECC256  Algorithm = "ECC_256"
	ECC384  Algorithm = "ECC_384"
	ECC512  Algorithm = "ECC_512" // NIST P-521
)

// KeyFamily is the family of a key algorithm: "RSA", "ECC" or "SM2".
type KeyFamily string

// Key families.
const (
	FamilyRSA KeyFamily = "RSA"
	FamilyECC KeyFamily = "ECC"
	FamilySM2 KeyFamily = "SM2"
)

// algorithms lists the supported algorithms with their family and size in bits.
var algorithms = map[Algorithm]struct {
	family KeyFamily
	bits   int
}{
	RSA2048: {FamilyRSA, 2048},
	RSA4096: {FamilyRSA, 4096},
	ECC256:  {FamilyECC, 256},
	ECC384:  {FamilyECC, 384},
	ECC512:  {FamilyECC, 521},
}

// Supported reports whether pcad can generate keys of algorithm a.
func (a Algorithm) Supported() bool { _, ok := algorithms[a]; return ok }

// Family returns a's key family, or "". Algorithms pcad does not generate
// but accepts in CSRs (e.g. "RSA_3072") have a family too.
func (a Algorithm) Family() KeyFamily {
	if f := algorithms[a].family; f != "" {
		return f
	}
	if fam, _, ok := a.split(); ok {
		return fam
	}
	return ""
}

// Bits returns a's key size in bits, or 0 when a names no size.
func (a Algorithm) Bits() int {
	if b := algorithms[a].bits; b != 0 {
		return b
	}
	_, bits, _ := a.split()
	return bits
}

// split parses "<RSA|ECC|SM2>_<bits>".
func (a Algorithm) split() (KeyFamily, int, bool) {
	fam, size, ok := strings.Cut(string(a), "_")
	bits, err := strconv.Atoi(size)
	if !ok || err != nil || bits <= 0 {
		return "", 0, false
	}
	switch f := KeyFamily(fam); f {
	case FamilyRSA, FamilyECC, FamilySM2:
		return f, bits, true
	}
	return "", 0, false
}

// ParseAlgorithm validates a wire algorithm name for parameter param.
func ParseAlgorithm(param, s string) (Algorithm, error) {
	a := Algorithm(s)
	if a.Supported() {
		return a, nil
	}
	switch s {
	case "RSA_1024":
		return "", Invalid(param, "The specified parameter %s value RSA_1024 is refused: RSA keys shorter than 2048 bits are too weak.", param)
	case "SM2_256":
		return "", Invalid(param, "The specified parameter %s value SM2_256 is not supported by this service.", param)
	}
	return "", Invalid(param, "The specified parameter %s is not valid: %q is not one of RSA_2048, RSA_4096, ECC_256, ECC_384, ECC_512.", param, s)
}

// CertType is the kind of an end-entity certificate.
type CertType string

// End-entity certificate types as ListCert names them.
const (
	TypeServer    CertType = "SERVER"
	TypeClient    CertType = "CLIENT"
	TypeEndEntity CertType = "END_ENTITY"
)

// CAType is ROOT or SUB_ROOT.
type CAType string

// CA types.
const (
	CARoot CAType = "ROOT"
	CASub  CAType = "SUB_ROOT"
)

// Status is the status of a certificate or CA.
type Status string

// Statuses.
const (
	StatusIssue  Status = "ISSUE"
	StatusRevoke Status = "REVOKE"
)

// RevocationReason is an RFC 5280 CRLReason code.
type RevocationReason int

// Revocation reasons used by pcad.
const (
	ReasonUnspecified          RevocationReason = 0
	ReasonKeyCompromise        RevocationReason = 1
	ReasonCACompromise         RevocationReason = 2
	ReasonAffiliationChanged   RevocationReason = 3
	ReasonSuperseded           RevocationReason = 4
	ReasonCessationOfOperation RevocationReason = 5
)

// Tag is one key/value label on a resource.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// NewIdentifier returns a time-ordered UUID (version 7, RFC 9562) made from
// now and 10 bytes of r. Identifiers sort in creation order.
func NewIdentifier(now time.Time, r io.Reader) (string, error) {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	if _, err := io.ReadFull(r, b[6:]); err != nil {
		return "", fmt.Errorf("pca: identifier randomness: %w", err)
	}
	b[6] = 0x70 | b[6]&0x0f
	b[8] = 0x80 | b[8]&0x3f
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// ValidUUID reports whether s is a UUID in canonical lower- or upper-case
// 8-4-4-4-12 hex form.
func ValidUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
