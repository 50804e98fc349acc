// Package ramapi is the action table of the RAM API, version 2015-05-01,
// served on the same endpoint as the cas API so that the official Alibaba
// Cloud clients manage pcad's users, AccessKeys and policies the way they
// manage RAM's. One small handler per action binds RAM's parameter names,
// calls the service and shapes the response as RAM does
// ({"Users":{"User":[...]}}, dates like "2015-01-23T12:33:18Z").
//
// The service reports errors by Kind and Detail; this package turns them
// into RAM's own codes (EntityNotExist.User, DeleteConflict.User.AccessKey,
// ...) through pca.Error.Code, and the protocol layer's table gives their
// HTTP status. docs/spec/ram-api.md is the reference for both.
package ramapi

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// Version is the API version this table serves.
const Version = "2015-05-01"

// API binds the action handlers to a service.
type API struct {
	svc *service.Service
}

// Actions returns the action table for openapi.Config.MoreVersions[Version].
func Actions(svc *service.Service) map[string]openapi.HandlerFunc {
	a := &API{svc: svc}
	table := map[string]openapi.HandlerFunc{
		"CreateUser": a.createUser,
		"GetUser":    a.getUser,
		"UpdateUser": a.updateUser,
		"DeleteUser": a.deleteUser,
		"ListUsers":  a.listUsers,

		"CreateAccessKey": a.createAccessKey,
		"ListAccessKeys":  a.listAccessKeys,
		"UpdateAccessKey": a.updateAccessKey,
		"DeleteAccessKey": a.deleteAccessKey,

		"CreatePolicy":         a.createPolicy,
		"GetPolicy":            a.getPolicy,
		"ListPolicies":         a.listPolicies,
		"DeletePolicy":         a.deletePolicy,
		"AttachPolicyToUser":   a.attachPolicyToUser,
		"DetachPolicyFromUser": a.detachPolicyFromUser,
		"ListPoliciesForUser":  a.listPoliciesForUser,
	}
	for name, fn := range table {
		table[name] = withRAMCodes(fn)
	}
	return a.withAuthz(table) // authz.go
}

// actor turns the authenticated caller into the service's Actor.
func actor(r *openapi.Request) service.Actor {
	return service.Actor{AccountID: r.Caller.AccountID, PrincipalID: r.Caller.PrincipalID}
}

// empty is the response of actions that return only RequestId.
type empty struct{}

// withRAMCodes answers the handler's errors with RAM's codes.
func withRAMCodes(fn openapi.HandlerFunc) openapi.HandlerFunc {
	return func(ctx context.Context, r *openapi.Request) (any, error) {
		res, err := fn(ctx, r)
		if err != nil {
			return nil, ramError(err)
		}
		return res, nil
	}
}

// codeKey selects a RAM code by the service error's Kind and Detail.
type codeKey struct {
	kind   pca.Kind
	detail string
}

// ramCodes are RAM's codes for the service's errors (RAM "Error messages"
// page). Errors not listed keep the protocol layer's generic codes
// (InvalidParameter.<Param>, MissingParameter, ...).
var ramCodes = map[codeKey]string{
	{pca.KindNotFound, service.DetailUser}:           "EntityNotExist.User",
	{pca.KindNotFound, service.DetailAccessKey}:      "EntityNotExist.User.AccessKey",
	{pca.KindNotFound, service.DetailPolicy}:         "EntityNotExist.Policy",
	{pca.KindNotFound, service.DetailAttachment}:     "EntityNotExist.User.Policy",
	{pca.KindExists, service.DetailUser}:             "EntityAlreadyExists.User",
	{pca.KindExists, service.DetailPolicy}:           "EntityAlreadyExists.Policy",
	{pca.KindExists, service.DetailAttachment}:       "EntityAlreadyExists.User.Policy",
	{pca.KindState, service.DetailUserAccessKeys}:    "DeleteConflict.User.AccessKey",
	{pca.KindState, service.DetailUserPolicies}:      "DeleteConflict.User.Policy",
	{pca.KindState, service.DetailPolicyAttached}:    "DeleteConflict.Policy.User",
	{pca.KindQuota, service.DetailAccessKey}:         "LimitExceeded.User.AccessKey",
	{pca.KindInvalid, service.DetailMalformedPolicy}: "MalformedPolicyDocument",
}

// ramError gives err RAM's exact code when it has one. Invalid values with
// a refinement answer "InvalidParameter.<Param>.<InvalidChars|Length|Format>",
// as RAM spells them.
func ramError(err error) error {
	pe, ok := pca.AsError(err)
	if !ok || pe.Code != "" {
		return err
	}
	if code, ok := ramCodes[codeKey{pe.Kind, pe.Detail}]; ok {
		return pe.WithCode(code)
	}
	if pe.Kind == pca.KindInvalid && pe.Param != "" {
		switch pe.Detail {
		case service.DetailInvalidChars, service.DetailLength, service.DetailFormat:
			return pe.WithCode("InvalidParameter." + pe.Param + "." + pe.Detail)
		}
	}
	return err
}

// date renders t as RAM does: UTC, "2015-01-23T12:33:18Z".
func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// resource names what a call acted on, for the audit log: parts joined by
// "/", each cut to 128 characters (values are not validated yet).
func resource(parts ...string) string {
	for i, p := range parts {
		if utf8.RuneCountInString(p) > 128 {
			parts[i] = string([]rune(p)[:128])
		}
	}
	return strings.Join(parts, "/")
}

// ---- parameter binding ------------------------------------------------------

// binder reads parameters and keeps the first error. Values are taken as
// sent (not trimmed): RAM names have no spaces, and the service says so.
type binder struct {
	p   openapi.Params
	err error
}

func newBinder(r *openapi.Request) *binder { return &binder{p: r.Params} }

func (b *binder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// str returns a parameter; required rejects an absent or empty one.
func (b *binder) str(name string, required bool) string {
	v, _ := b.p.Get(name)
	switch {
	case v == "" && required:
		b.fail(pca.Missing(name))
	case !utf8.ValidString(v):
		b.fail(pca.Invalid(name, "The specified parameter %s is not valid UTF-8.", name))
	}
	return v
}

// opt returns a parameter that is present (even empty), or nil.
func (b *binder) opt(name string) *string {
	if _, ok := b.p.Get(name); !ok {
		return nil
	}
	v := b.str(name, false)
	return &v
}

// oneOf reads an enumerated value; "" when absent and not required.
func (b *binder) oneOf(name string, required bool, allowed ...string) string {
	v := b.str(name, required)
	if v == "" {
		return ""
	}
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	b.fail(pca.Invalid(name, "The specified parameter %s is not valid: %q is not one of %s.", name, v, strings.Join(allowed, ", ")))
	return ""
}

// integer reads a decimal integer in [min, max]; 0 when absent.
func (b *binder) integer(name string, min, max int) int {
	v, ok := b.p.Get(name)
	if !ok || v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max || strings.TrimLeft(v, "0123456789") != "" {
		b.fail(pca.Invalid(name, "The specified parameter %s is not valid: %q is not an integer from %d to %d.", name, v, min, max))
		return 0
	}
	return n
}
