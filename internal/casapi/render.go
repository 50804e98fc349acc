package casapi

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"strconv"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
)

// certPEM encodes DER as a PEM CERTIFICATE block.
func certPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// chainPEM concatenates the PEM of each CA, in order.
func chainPEM(chain []pca.CA) string {
	var b strings.Builder
	for _, c := range chain {
		b.WriteString(certPEM(c.DER))
	}
	return b.String()
}

// fingerprints returns the lower-case hex MD5 and SHA-256 of der.
func fingerprints(der []byte) (md5hex, sha2hex string) {
	m := md5.Sum(der)
	s := sha256.Sum256(der)
	return hex.EncodeToString(m[:]), hex.EncodeToString(s[:])
}

// signAlgorithm names the certificate's signature algorithm as the API does.
func signAlgorithm(der []byte) string {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return ""
	}
	return pki.SignatureAlgorithmName(c)
}

// dateTime renders t as "YYYY-MM-DD HH:MM:SS" in UTC.
func dateTime(t time.Time) string { return t.UTC().Format(time.DateTime) }

// sansJSON renders SANs as the API's Sans string: a JSON array of {Type, Value}.
func sansJSON(sans []pca.SAN) string {
	if len(sans) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(sans)
	return string(b)
}

// tagPair is a tag as the describe calls return it.
type tagPair struct {
	TagKey   string `json:"TagKey"`
	TagValue string `json:"TagValue"`
}

func tagPairs(tags []pca.Tag) []tagPair {
	out := make([]tagPair, 0, len(tags))
	for _, t := range tags {
		out = append(out, tagPair{t.Key, t.Value})
	}
	return out
}

// tagTexts renders tags as ListCert does: one JSON object text per tag.
func tagTexts(tags []pca.Tag) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		b, _ := json.Marshal(map[string]string{t.Key: t.Value})
		out = append(out, string(b))
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// boolFlag renders a boolean as the API's 0/1 integer flags.
func boolFlag(b bool) int {
	if b {
		return 1
	}
	return 0
}
