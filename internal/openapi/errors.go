package openapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
)

// This file is the one place where wire error codes and HTTP statuses are
// decided: kindCodes for the errors action handlers return (pca.Kind),
// exactCodeStatus for the exact codes an action table sets on a *pca.Error
// (pca.Error.Code, e.g. the RAM API's own codes), and protocolStatus for the
// errors this package raises itself while decoding, authenticating and
// throttling a request. Every status is 4xx or 5xx: the official clients read
// any other status as success.

// Wire codes raised by the protocol layer. The HTTP status of each is in
// protocolStatus.
const (
	// CodeMissingParameter: a required parameter is absent. Also used when a
	// request carries no signature at all (neither an ACS3 Authorization
	// header nor a Signature parameter) and for a V1 request without
	// AccessKeyId, SignatureMethod, SignatureVersion or SignatureNonce.
	CodeMissingParameter = "MissingParameter"
	// CodeInvalidParameter: a malformed query string or form body.
	CodeInvalidParameter = "InvalidParameter"
	// CodeInvalidAction: the Action is not served here (also a path other
	// than "/").
	CodeInvalidAction = "InvalidAction.NotFound"
	// CodeInvalidVersion: the Version is missing or not the served one.
	CodeInvalidVersion = "InvalidVersion"
	// CodeIllegalTimestamp: x-acs-date / Timestamp is missing or unparseable.
	CodeIllegalTimestamp = "IllegalTimestamp"
	// CodeTimestampExpired: the timestamp is more than 15 minutes away from
	// the server's clock.
	CodeTimestampExpired = "InvalidTimeStamp.Expired"
	// CodeAccessKeyNotFound: the AccessKeyId is unknown.
	CodeAccessKeyNotFound = "InvalidAccessKeyId.NotFound"
	// CodeAccessKeyInactive: the AccessKey is disabled.
	CodeAccessKeyInactive = "InvalidAccessKeyId.Inactive"
	// CodeIncompleteSignature: a V3 signature that is malformed, uses an
	// unsupported algorithm, leaves a required header unsigned, disagrees
	// with the body hash or does not match; also an unsupported V1
	// SignatureMethod or SignatureVersion.
	CodeIncompleteSignature = "IncompleteSignature"
	// CodeSignatureDoesNotMatch: a V1 (HMAC-SHA1) signature mismatch.
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	// CodeSignatureNonceUsed: the nonce was already used by this AccessKey.
	CodeSignatureNonceUsed = "SignatureNonceUsed"
	// CodeSecurityTokenMalformed: an STS token was sent; STS is not supported.
	CodeSecurityTokenMalformed = "InvalidSecurityToken.Malformed"
	// CodeThrottlingUser: the caller is over its request rate for the action.
	CodeThrottlingUser = "Throttling.User"
	// CodeForbiddenRAM: the caller may not do this.
	CodeForbiddenRAM = "Forbidden.RAM"
	// CodeUnsupportedMethod: an HTTP method other than GET or POST.
	CodeUnsupportedMethod = "UnsupportedHTTPMethod"
	// CodeRequestTooLarge: the body exceeds Config.MaxBodyBytes.
	CodeRequestTooLarge = "RequestEntityTooLarge"
	// CodeInternalError: a fault of the service; details are logged only.
	CodeInternalError = "InternalError"
	// CodeServiceUnavailable: a dependency is down for now.
	CodeServiceUnavailable = "ServiceUnavailable"
)

// protocolStatus is the HTTP status of each protocol error code.
var protocolStatus = map[string]int{
	CodeMissingParameter:       http.StatusBadRequest,
	CodeInvalidParameter:       http.StatusBadRequest,
	CodeInvalidAction:          http.StatusNotFound,
	CodeInvalidVersion:         http.StatusBadRequest,
	CodeIllegalTimestamp:       http.StatusBadRequest,
	CodeTimestampExpired:       http.StatusBadRequest,
	CodeAccessKeyNotFound:      http.StatusNotFound,
	CodeAccessKeyInactive:      http.StatusBadRequest,
	CodeIncompleteSignature:    http.StatusBadRequest,
	CodeSignatureDoesNotMatch:  http.StatusBadRequest,
	CodeSignatureNonceUsed:     http.StatusBadRequest,
	CodeSecurityTokenMalformed: http.StatusBadRequest,
	CodeThrottlingUser:         http.StatusBadRequest,
	CodeForbiddenRAM:           http.StatusForbidden,
	CodeUnsupportedMethod:      http.StatusMethodNotAllowed,
	CodeRequestTooLarge:        http.StatusRequestEntityTooLarge,
	CodeInternalError:          http.StatusInternalServerError,
	CodeServiceUnavailable:     http.StatusServiceUnavailable,
}

// suffixRule says which pca.Error field, if any, refines a base code as
// "<base>.<field>".
type suffixRule int

const (
	noSuffix suffixRule = iota
	paramSuffix
	detailSuffix
)

// kindCode is the wire form of one pca.Kind.
type kindCode struct {
	base   string
	status int
	suffix suffixRule
	// msg is sent when the pca.Error has no Msg (and always for
	// KindInternal, whose Msg is never sent).
	msg string
}

// kindCodes maps every pca.Kind to its base code and HTTP status.
var kindCodes = map[pca.Kind]kindCode{
	pca.KindInternal:    {CodeInternalError, http.StatusInternalServerError, noSuffix, msgInternal},
	pca.KindInvalid:     {"InvalidParameter", http.StatusBadRequest, paramSuffix, "The specified parameter is not valid."},
	pca.KindMissing:     {"MissingParameter", http.StatusBadRequest, noSuffix, "A parameter that is mandatory for processing this request is not supplied."},
	pca.KindNotFound:    {"NotFound", http.StatusNotFound, detailSuffix, "The specified resource does not exist."},
	pca.KindState:       {"OperationDenied", http.StatusBadRequest, detailSuffix, "The operation is not allowed in the current state of the resource."},
	pca.KindExists:      {"AlreadyExists", http.StatusConflict, detailSuffix, "The specified resource already exists."},
	pca.KindQuota:       {"QuotaExceeded", http.StatusBadRequest, detailSuffix, "The operation would exceed a quota."},
	pca.KindPermission:  {CodeForbiddenRAM, http.StatusForbidden, noSuffix, "You are not authorized to perform this operation."},
	pca.KindThrottled:   {CodeThrottlingUser, http.StatusBadRequest, noSuffix, msgThrottled},
	pca.KindUnavailable: {CodeServiceUnavailable, http.StatusServiceUnavailable, noSuffix, "The request has failed due to a temporary failure of the server."},
	pca.KindIdempotencyMismatch: {"IdempotentParameterMismatch", http.StatusBadRequest, noSuffix,
		"The ClientToken was already used with different parameters."},
}

// exactCodeStatus gives the HTTP status of an exact code (pca.Error.Code) by
// its family, the part before the first dot, as the RAM API answers them
// (RAM "Error messages" page). An exact code whose family is not listed keeps
// the status of its Kind (so "InvalidParameter.UserName.Length" and
// "MalformedPolicyDocument", which are KindInvalid, are 400).
var exactCodeStatus = map[string]int{
	"EntityNotExist":      http.StatusNotFound, // EntityNotExist.User, .User.AccessKey, .Policy, .User.Policy
	"EntityAlreadyExists": http.StatusConflict, // EntityAlreadyExists.User, .Policy, .User.Policy
	"DeleteConflict":      http.StatusConflict, // DeleteConflict.User.AccessKey, .User.Policy, .Policy.User
	"LimitExceeded":       http.StatusConflict, // LimitExceeded.User.AccessKey
}

const (
	msgInternal  = "The request processing has failed due to some unknown error."
	msgThrottled = "Request was denied due to user flow control."
)

// wireError is an error in its wire form. cause, if set, is only logged.
type wireError struct {
	code   string
	status int
	msg    string
	cause  error
	denied *pca.AccessDenied // sent as AccessDeniedDetail (permission errors only)
}

func (e *wireError) Error() string {
	s := "openapi: " + e.code + ": " + e.msg
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *wireError) Unwrap() error { return e.cause }

// protoErr builds a protocol error whose status comes from protocolStatus.
func protoErr(code, format string, args ...any) *wireError {
	status, ok := protocolStatus[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	return &wireError{code: code, status: status, msg: fmt.Sprintf(format, args...)}
}

// internalErr hides cause behind the generic InternalError.
func internalErr(cause error) *wireError {
	return &wireError{code: CodeInternalError, status: http.StatusInternalServerError, msg: msgInternal, cause: cause}
}

// MapError returns the wire code, HTTP status and caller-safe message for
// err as this package would answer it. A *pca.Error is mapped through the
// Kind table (InvalidParameter[.Param], MissingParameter, NotFound[.Detail],
// OperationDenied[.Detail], AlreadyExists[.Detail], QuotaExceeded[.Detail],
// Forbidden.RAM, Throttling.User, ServiceUnavailable, InternalError), or
// answers its exact Code when set (status from exactCodeStatus, else the
// Kind's); its Msg is the message, except for KindInternal whose message is
// always generic. Any other error is InternalError with a generic message.
func MapError(err error) (code string, status int, message string) {
	we := toWire(err)
	return we.code, we.status, we.msg
}

// toWire converts any error to its wire form, keeping err as the cause so
// that the real error can be logged.
func toWire(err error) *wireError {
	var we *wireError
	if errors.As(err, &we) {
		return we
	}
	pe, ok := pca.AsError(err)
	if !ok {
		return internalErr(err)
	}
	kc, ok := kindCodes[pe.Kind]
	if !ok || pe.Kind == pca.KindInternal {
		return internalErr(err)
	}
	code := kc.base
	switch kc.suffix {
	case paramSuffix:
		if pe.Param != "" {
			code += "." + pe.Param
		}
	case detailSuffix:
		if pe.Detail != "" {
			code += "." + pe.Detail
		}
	}
	status := kc.status
	if pe.Code != "" {
		code = pe.Code
		family, _, _ := strings.Cut(code, ".")
		if s, ok := exactCodeStatus[family]; ok {
			status = s
		}
	}
	msg := pe.Msg
	if msg == "" {
		msg = kc.msg
	}
	out := &wireError{code: code, status: status, msg: msg, cause: err}
	if pe.Kind == pca.KindPermission {
		out.denied = pe.Denied
	}
	return out
}
