package pca

import (
	"errors"
	"fmt"
)

// Kind classifies an error for the edge that reports it. The values are
// stable: the protocol layer maps each Kind to one wire code and status in a
// single table. Do not reorder.
type Kind int

const (
	// KindInternal is a fault of the service; details are logged, never sent.
	KindInternal Kind = iota
	// KindInvalid is a parameter with a wrong type, range, format or value.
	KindInvalid
	// KindMissing is a required parameter that was not supplied.
	KindMissing
	// KindNotFound is an identifier that names nothing the caller may see.
	KindNotFound
	// KindState is an operation the object's current state does not allow
	// (revoking twice, issuing from a revoked CA).
	KindState
	// KindExists is a unique value that is already taken.
	KindExists
	// KindQuota is a quota that the operation would exceed.
	KindQuota
	// KindPermission is an authenticated caller that may not do this.
	KindPermission
	// KindThrottled is a caller over its request rate.
	KindThrottled
	// KindUnavailable is a dependency that is down for now; retrying may help.
	KindUnavailable
	// KindIdempotencyMismatch is an idempotency token (ClientToken) reused
	// with parameters other than those of its first call.
	KindIdempotencyMismatch
)

// Error is the error type the service and below return for anything a caller
// should be told about. Param names the offending request parameter when there
// is one; Detail refines the wire code (for example "Certificate" in
// "NotFound.Certificate"); Msg is safe to send to the caller. Err, if set, is
// the underlying cause and is only logged.
//
// Code, when set, is the exact wire code to answer instead of the one the
// protocol layer derives from Kind, Param and Detail (for example RAM's
// "EntityNotExist.User"). Only protocol packages that speak an API with its
// own codes set it; the HTTP status still comes from the protocol layer's
// table. It is ignored for KindInternal.
//
// Denied, when set on a KindPermission error, says why a policy evaluation
// refused the call; the protocol layer sends it as AccessDeniedDetail.
type Error struct {
	Kind   Kind
	Param  string
	Detail string
	Msg    string
	Err    error
	Code   string
	Denied *AccessDenied
}

// AccessDenied describes a call that the caller's policies refused: the
// fields of Alibaba's AccessDeniedDetail error member (spec A.8).
type AccessDenied struct {
	Action               string // the RAM action, e.g. "yundun-cert:ListCert"
	PrincipalType        string // e.g. "SubUser" for a RAM user
	PrincipalOwnerID     string // the account id
	PrincipalDisplayName string // the RAM user's id
	NoPermissionType     string // "ImplicitDeny" or "ExplicitDeny"
	PolicyType           string // e.g. "AccountLevelIdentityBasedPolicy"
	// EncodedDiagnosticMessage is opaque (base64) text for diagnosis.
	EncodedDiagnosticMessage string
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = "internal error"
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// WithCode returns a copy of e that answers with the exact wire code code
// (see Error.Code); e itself is unchanged.
func (e *Error) WithCode(code string) *Error {
	c := *e
	c.Code = code
	return &c
}

// KindOf returns the Kind of the first *Error in err's chain, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// AsError returns the first *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Invalid reports a bad value of parameter param.
func Invalid(param, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Param: param, Msg: fmt.Sprintf(format, args...)}
}

// Missing reports that the required parameter param was not supplied.
func Missing(param string) *Error {
	return &Error{Kind: KindMissing, Param: param,
		Msg: fmt.Sprintf("The input parameter %q that is mandatory for processing this request is not supplied.", param)}
}

// NotFound reports that parameter param names no object of the given kind
// (what, e.g. "Certificate") visible to the caller.
func NotFound(param, what, value string) *Error {
	return &Error{Kind: KindNotFound, Param: param, Detail: what,
		Msg: fmt.Sprintf("The %s %q given in %s does not exist.", what, value, param)}
}

// StateError reports an operation not allowed in the object's current state.
func StateError(detail, format string, args ...any) *Error {
	return &Error{Kind: KindState, Detail: detail, Msg: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected failure. Only Msg reaches the caller.
func Internal(err error) *Error {
	return &Error{Kind: KindInternal, Msg: "The request processing has failed due to some unknown error.", Err: err}
}
