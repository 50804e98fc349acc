package client

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/openapi"
)

// Signature selects how requests are signed.
type Signature int

const (
	// V3 is ACS3-HMAC-SHA256 (Authorization header), what the official
	// clients use by default.
	V3 Signature = iota
	// V1 is the classic RPC HMAC-SHA1 signature (SignatureVersion 1.0, a
	// Signature query parameter), what the official clients call "v2".
	V1
)

// String names the signature as the flags and messages do.
func (s Signature) String() string {
	if s == V1 {
		return "HMAC-SHA1"
	}
	return openapi.AlgorithmV3
}

// timeFormat is the timestamp format of x-acs-date and Timestamp.
const timeFormat = "2006-01-02T15:04:05Z"

// NewNonce returns a fresh signature nonce: 32 random hex digits, the shape
// the official client sends.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails (it aborts the program instead)
	return hex.EncodeToString(b[:])
}

// signV3 sets the x-acs headers, the body hash and the ACS3-HMAC-SHA256
// Authorization header of req, whose URL query holds the parameters and
// whose body is body (nil for none). Every header named host, content-type
// or x-acs-* is signed (spec A.4 step 3), so a caller may add more x-acs-*
// headers before signing.
func signV3(req *http.Request, action, version string, body []byte, accessKeyID, secret, nonce string, now time.Time) {
	h := req.Header
	h.Set("x-acs-action", action)
	h.Set("x-acs-version", version)
	h.Set("x-acs-date", now.UTC().Format(timeFormat))
	h.Set("x-acs-signature-nonce", nonce)
	payload := openapi.HashPayloadV3(body)
	h.Set("x-acs-content-sha256", payload)
	signed := []string{"host"}
	for name := range h {
		lower := strings.ToLower(name)
		if lower == "content-type" || strings.HasPrefix(lower, "x-acs-") {
			signed = append(signed, lower)
		}
	}
	slices.Sort(signed)
	signed = slices.Compact(signed)
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	canon := openapi.CanonicalRequestV3(req.Method, req.URL.Path, req.URL.Query(), h, host, signed, payload)
	sig := openapi.SignV3(secret, openapi.StringToSignV3(canon))
	h.Set("Authorization", openapi.AuthorizationV3(accessKeyID, signed, sig))
}

// paramsV1 returns params plus the common parameters of a V1 call and its
// Signature (spec A.5), ready to be the query string of a request with
// method and no body.
func paramsV1(method string, params url.Values, action, version, accessKeyID, secret, nonce string, now time.Time) url.Values {
	q := url.Values{}
	for k, vs := range params {
		q[k] = append([]string(nil), vs...)
	}
	q.Set("Action", action)
	q.Set("Version", version)
	q.Set("Format", "JSON")
	q.Set("AccessKeyId", accessKeyID)
	q.Set("SignatureMethod", "HMAC-SHA1")
	q.Set("SignatureVersion", "1.0")
	q.Set("SignatureNonce", nonce)
	q.Set("Timestamp", now.UTC().Format(timeFormat))
	q.Del("Signature")
	q.Set("Signature", openapi.SignV1(secret, openapi.StringToSignV1(method, q)))
	return q
}
