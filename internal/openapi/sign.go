package openapi

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// AlgorithmV3 is the only ACS3 signature algorithm this package verifies.
const AlgorithmV3 = "ACS3-HMAC-SHA256"

// PercentEncode encodes s as RFC 3986 requires for both signature versions:
// A-Z a-z 0-9 - _ . ~ are kept, every other byte becomes %XX with upper-case
// hex (so a space is %20, "*" is %2A and "/" is %2F).
func PercentEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// v3KeyReplacer reproduces what the official Go client does to query keys in
// the V3 canonical query string: keys are not percent-encoded, but "+", "*"
// and "%7E" are rewritten like in the encoded values.
var v3KeyReplacer = strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~")

// CanonicalQueryV3 returns the V3 canonical query string of the decoded query
// q (A.4 step 2): keys sorted in byte order, each pair "key=PercentEncode(value)"
// ("key=" for an empty value), joined with "&". Keys are written as the
// official client writes them (see v3KeyReplacer). A key with several values
// yields one pair per value, in the order received. The form body is never
// part of it.
func CanonicalQueryV3(q url.Values) string {
	keys := sortedKeys(q)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(v3KeyReplacer.Replace(k))
			b.WriteByte('=')
			b.WriteString(PercentEncode(v))
		}
	}
	return b.String()
}

// CanonicalHeadersV3 returns the canonical header block for the header names
// in signedHeaders, in that order: one "name:value\n" line per name, name
// lower-cased, value trimmed; several values of one header are sorted and
// joined with ",". The value of "host" is host (the Host header as received,
// with its port), since net/http keeps it out of header.
func CanonicalHeadersV3(header http.Header, host string, signedHeaders []string) string {
	var b strings.Builder
	for _, name := range signedHeaders {
		name = strings.ToLower(name)
		var vals []string
		if name == "host" {
			vals = []string{strings.TrimSpace(host)}
		} else {
			for _, v := range header.Values(name) {
				vals = append(vals, strings.TrimSpace(v))
			}
			slices.Sort(vals)
		}
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(strings.Join(vals, ","))
		b.WriteByte('\n')
	}
	return b.String()
}

// canonicalURIReplacer is what the client applies to the path (A.4 step 1).
var canonicalURIReplacer = strings.NewReplacer("+", "%20", "*", "%2A", "%7E", "~")

// CanonicalRequestV3 returns the V3 canonical request (A.4 step 6):
//
//	method \n canonical URI \n canonical query \n canonical headers \n signed headers \n hashedPayload
//
// path is the request path ("" means "/"); query is the decoded URL query
// only; header and host supply the values of signedHeaders (see
// CanonicalHeadersV3); hashedPayload is the x-acs-content-sha256 value.
func CanonicalRequestV3(method, path string, query url.Values, header http.Header, host string, signedHeaders []string, hashedPayload string) string {
	if path == "" {
		path = "/"
	}
	lower := make([]string, len(signedHeaders))
	for i, h := range signedHeaders {
		lower[i] = strings.ToLower(h)
	}
	return method + "\n" +
		canonicalURIReplacer.Replace(path) + "\n" +
		CanonicalQueryV3(query) + "\n" +
		CanonicalHeadersV3(header, host, lower) + "\n" +
		strings.Join(lower, ";") + "\n" +
		hashedPayload
}

// StringToSignV3 returns "ACS3-HMAC-SHA256\n" followed by the lower-case hex
// SHA-256 of canonicalRequest (A.4 step 7).
func StringToSignV3(canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return AlgorithmV3 + "\n" + hex.EncodeToString(sum[:])
}

// SignV3 returns the lower-case hex HMAC-SHA256 of stringToSign keyed with
// the AccessKey secret (A.4 step 8).
func SignV3(secret, stringToSign string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(stringToSign))
	return hex.EncodeToString(m.Sum(nil))
}

// HashPayloadV3 returns the lower-case hex SHA-256 of body, the value the
// client sends in x-acs-content-sha256.
func HashPayloadV3(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// AuthorizationV3 formats the Authorization header value a V3 client sends:
// "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>".
func AuthorizationV3(accessKeyID string, signedHeaders []string, signature string) string {
	return AlgorithmV3 + " Credential=" + accessKeyID + ",SignedHeaders=" +
		strings.Join(signedHeaders, ";") + ",Signature=" + signature
}

// CanonicalQueryV1 returns the V1 canonicalized query string (A.5 step 2) of
// params: every parameter except "Signature", sorted by key in byte order,
// key and value PercentEncoded, joined as "k=v" with "&". A key with several
// values yields one pair per value, in the order given.
func CanonicalQueryV1(params url.Values) string {
	keys := sortedKeys(params)
	var b strings.Builder
	for _, k := range keys {
		if k == "Signature" {
			continue
		}
		ek := PercentEncode(k)
		for _, v := range params[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(ek)
			b.WriteByte('=')
			b.WriteString(PercentEncode(v))
		}
	}
	return b.String()
}

// StringToSignV1 returns method + "&%2F&" + PercentEncode(CanonicalQueryV1(params))
// (A.5 step 3). params must be the union of query and form-body parameters;
// a "Signature" entry is ignored.
func StringToSignV1(method string, params url.Values) string {
	return method + "&" + PercentEncode("/") + "&" + PercentEncode(CanonicalQueryV1(params))
}

// SignV1 returns the base64 HMAC-SHA1 of stringToSign keyed with secret + "&"
// (A.5 step 4).
func SignV1(secret, stringToSign string) string {
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(stringToSign))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func sortedKeys(v url.Values) []string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
