package openapi

import (
	"crypto/hmac"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// sigMode is how a request is signed.
type sigMode int

const (
	modeUnknown sigMode = iota
	modeV3              // Authorization: ACS3-HMAC-SHA256 ...
	modeV1              // Signature parameter, HMAC-SHA1, SignatureVersion 1.0
)

func (m sigMode) String() string {
	switch m {
	case modeV3:
		return "v3"
	case modeV1:
		return "v1"
	}
	return ""
}

// requiredSignedV3 are the headers a V3 request must sign.
var requiredSignedV3 = []string{"host", "x-acs-action", "x-acs-version", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256"}

// incoming is a decoded, not yet authenticated request.
type incoming struct {
	mode          sigMode
	xml           bool
	query         url.Values // decoded URL query only (V3 canonical query)
	signingSet    url.Values // query and body merged, body wins (V1 signing set)
	formBody      bool       // the body was parsed as form parameters
	body          []byte
	params        Params
	action        string
	version       string
	timestamp     string
	nonce         string
	accessKeyID   string
	securityToken string
	signature     string
	signedHeaders []string // V3, lower-case, in the order sent
}

func (in *incoming) actionParam() string {
	if in.mode == modeV3 {
		return "x-acs-action"
	}
	return "Action"
}

func (in *incoming) timestampParam() string {
	if in.mode == modeV3 {
		return "x-acs-date"
	}
	return "Timestamp"
}

// decode reads the body (capped), parses the query and form body, detects the
// signature mode and extracts the protocol fields. It checks syntax only. On
// error, the returned *incoming is non-nil once the signature mode (and so
// the response format) is known.
func (h *handler) decode(r *http.Request) (*incoming, error) {
	in := &incoming{}
	var body []byte
	var err error
	if r.Body != nil { // always non-nil for server requests
		if body, err = io.ReadAll(io.LimitReader(r.Body, h.cfg.MaxBodyBytes+1)); err != nil {
			return nil, protoErr(CodeInvalidParameter, "The request body could not be read.")
		}
	}
	if int64(len(body)) > h.cfg.MaxBodyBytes {
		return nil, protoErr(CodeRequestTooLarge, "The request body is larger than %d bytes.", h.cfg.MaxBodyBytes)
	}
	in.body = body
	if in.query, err = url.ParseQuery(r.URL.RawQuery); err != nil {
		return nil, protoErr(CodeInvalidParameter, "The query string is not valid URL encoding.")
	}
	var form url.Values
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "application/x-www-form-urlencoded" {
		if form, err = url.ParseQuery(string(body)); err != nil {
			return nil, protoErr(CodeInvalidParameter, "The form body is not valid URL encoding.")
		}
		in.formBody = true
	}
	in.signingSet = mergeParams(in.query, form)
	get := func(name string) string { return first(in.signingSet, name) }

	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "ACS3-") {
		in.mode = modeV3
		if in.accessKeyID, in.signedHeaders, in.signature, err = parseAuthorizationV3(auth); err != nil {
			return in, err
		}
		in.action = r.Header.Get("x-acs-action")
		in.version = r.Header.Get("x-acs-version")
		in.timestamp = r.Header.Get("x-acs-date")
		in.nonce = r.Header.Get("x-acs-signature-nonce")
		in.securityToken = r.Header.Get("x-acs-security-token")
		in.params = NewParams(in.signingSet)
		return in, nil
	}
	if _, ok := in.signingSet["Signature"]; !ok {
		return nil, protoErr(CodeMissingParameter, "The request is not signed: the input parameter \"Signature\" (or an ACS3-HMAC-SHA256 Authorization header) is not supplied.")
	}
	in.mode = modeV1
	in.xml = strings.EqualFold(get("Format"), "XML")
	for _, p := range []string{"AccessKeyId", "SignatureMethod", "SignatureVersion", "SignatureNonce"} {
		if get(p) == "" {
			return in, protoErr(CodeMissingParameter, "The input parameter %q that is mandatory for processing this request is not supplied.", p)
		}
	}
	if get("SignatureMethod") != "HMAC-SHA1" {
		return in, protoErr(CodeIncompleteSignature, "The signature method is not supported: use SignatureMethod HMAC-SHA1.")
	}
	if get("SignatureVersion") != "1.0" {
		return in, protoErr(CodeIncompleteSignature, "The signature version is not supported: use SignatureVersion 1.0.")
	}
	in.action = get("Action")
	in.version = get("Version")
	in.timestamp = get("Timestamp")
	in.nonce = get("SignatureNonce")
	in.accessKeyID = get("AccessKeyId")
	in.securityToken = get("SecurityToken")
	in.signature = get("Signature")
	handlerParams := make(url.Values, len(in.signingSet))
	for k, v := range in.signingSet {
		if k != "Signature" {
			handlerParams[k] = v
		}
	}
	in.params = NewParams(handlerParams)
	return in, nil
}

// parseAuthorizationV3 parses
// "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>".
func parseAuthorizationV3(v string) (accessKeyID string, signedHeaders []string, signature string, err error) {
	alg, rest, _ := strings.Cut(v, " ")
	if alg != AlgorithmV3 {
		if len(alg) > 40 {
			alg = alg[:40] + "..."
		}
		return "", nil, "", protoErr(CodeIncompleteSignature, "The signature algorithm %q is not supported: use %s.", alg, AlgorithmV3)
	}
	var list string
	var haveList bool
	for field := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			continue
		}
		switch k {
		case "Credential":
			accessKeyID = val
		case "SignedHeaders":
			list, haveList = val, true
		case "Signature":
			signature = val
		}
	}
	if accessKeyID == "" || !haveList || list == "" || signature == "" {
		return "", nil, "", protoErr(CodeIncompleteSignature,
			"The Authorization header is malformed: it must carry Credential, SignedHeaders and Signature.")
	}
	for h := range strings.SplitSeq(list, ";") {
		signedHeaders = append(signedHeaders, strings.ToLower(strings.TrimSpace(h)))
	}
	return accessKeyID, signedHeaders, signature, nil
}

// verify checks the request's signature with secret.
func verify(r *http.Request, in *incoming, secret string) error {
	switch in.mode {
	case modeV3:
		return verifyV3(r, in, secret)
	case modeV1:
		expected := SignV1(secret, StringToSignV1(r.Method, in.signingSet))
		if !hmac.Equal([]byte(expected), []byte(in.signature)) {
			return protoErr(CodeSignatureDoesNotMatch, "Specified signature is not matched with our calculation.")
		}
		return nil
	}
	return protoErr(CodeIncompleteSignature, "The request is not signed.")
}

func verifyV3(r *http.Request, in *incoming, secret string) error {
	for _, name := range requiredSignedV3 {
		if !slices.Contains(in.signedHeaders, name) {
			return protoErr(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: header %s must be signed.", name)
		}
	}
	if in.formBody && !slices.Contains(in.signedHeaders, "content-type") {
		return protoErr(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: header content-type must be signed when a form body is sent.")
	}
	for _, name := range in.signedHeaders {
		if name == "" {
			return protoErr(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: SignedHeaders has an empty name.")
		}
		if name != "host" && len(r.Header.Values(name)) == 0 {
			return protoErr(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: signed header %s is missing.", name)
		}
	}
	payloadHash := strings.TrimSpace(r.Header.Get("x-acs-content-sha256"))
	if !strings.EqualFold(payloadHash, HashPayloadV3(in.body)) {
		return protoErr(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards: x-acs-content-sha256 does not match the SHA-256 of the request body.")
	}
	cr := CanonicalRequestV3(r.Method, r.URL.Path, in.query, r.Header, r.Host, in.signedHeaders, payloadHash)
	expected := SignV3(secret, StringToSignV3(cr))
	if !hmac.Equal([]byte(expected), []byte(in.signature)) {
		return protoErr(CodeIncompleteSignature, "The request signature does not conform to Aliyun standards.")
	}
	return nil
}

func first(v url.Values, name string) string {
	if vals := v[name]; len(vals) > 0 {
		return vals[0]
	}
	return ""
}
