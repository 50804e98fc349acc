package ramapi

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
)

// TestRAMCodes: the service's errors answer RAM's codes and statuses (RAM
// "Error messages" page); others keep the generic ones.
func TestRAMCodes(t *testing.T) {
	e := func(kind pca.Kind, param, detail string) error {
		return &pca.Error{Kind: kind, Param: param, Detail: detail, Msg: "m"}
	}
	tests := []struct {
		name   string
		err    error
		code   string
		status int
	}{
		{"user/not-found", e(pca.KindNotFound, "UserName", service.DetailUser), "EntityNotExist.User", 404},
		{"user/exists", e(pca.KindExists, "UserName", service.DetailUser), "EntityAlreadyExists.User", 409},
		{"user/has-keys", e(pca.KindState, "UserName", service.DetailUserAccessKeys), "DeleteConflict.User.AccessKey", 409},
		{"user/has-policies", e(pca.KindState, "UserName", service.DetailUserPolicies), "DeleteConflict.User.Policy", 409},
		{"key/not-found", e(pca.KindNotFound, "UserAccessKeyId", service.DetailAccessKey), "EntityNotExist.User.AccessKey", 404},
		{"key/limit", e(pca.KindQuota, "UserName", service.DetailAccessKey), "LimitExceeded.User.AccessKey", 409},
		{"key/last-owner-key", e(pca.KindState, "UserAccessKeyId", service.DetailLastOwnerKey), "OperationDenied.LastOwnerAccessKey", 400},
		{"policy/not-found", e(pca.KindNotFound, "PolicyName", service.DetailPolicy), "EntityNotExist.Policy", 404},
		{"policy/exists", e(pca.KindExists, "PolicyName", service.DetailPolicy), "EntityAlreadyExists.Policy", 409},
		{"policy/attached", e(pca.KindState, "PolicyName", service.DetailPolicyAttached), "DeleteConflict.Policy.User", 409},
		{"attachment/not-found", e(pca.KindNotFound, "PolicyName", service.DetailAttachment), "EntityNotExist.User.Policy", 404},
		{"attachment/exists", e(pca.KindExists, "PolicyName", service.DetailAttachment), "EntityAlreadyExists.User.Policy", 409},
		{"invalid/chars", e(pca.KindInvalid, "UserName", service.DetailInvalidChars), "InvalidParameter.UserName.InvalidChars", 400},
		{"invalid/length", e(pca.KindInvalid, "NewUserName", service.DetailLength), "InvalidParameter.NewUserName.Length", 400},
		{"invalid/format", e(pca.KindInvalid, "Email", service.DetailFormat), "InvalidParameter.Email.Format", 400},
		{"invalid/policy-document", e(pca.KindInvalid, "PolicyDocument", service.DetailMalformedPolicy), "MalformedPolicyDocument", 400},
		{"invalid/plain", e(pca.KindInvalid, "PolicyType", ""), "InvalidParameter.PolicyType", 400},
		{"missing", pca.Missing("UserName"), "MissingParameter", 400},
		{"internal", pca.Internal(errors.New("disk on fire")), "InternalError", 500},
		{"not-a-pca-error", errors.New("boom"), "InternalError", 500},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, status, msg := openapi.MapError(ramError(tc.err))
			if code != tc.code || status != tc.status {
				t.Fatalf("got %s (HTTP %d), want %s (HTTP %d)", code, status, tc.code, tc.status)
			}
			if tc.status < 500 && msg != "m" && tc.name != "missing" {
				t.Fatalf("message %q, want the service's", msg)
			}
		})
	}
	// The original error is left unchanged.
	orig := &pca.Error{Kind: pca.KindNotFound, Detail: service.DetailUser}
	_ = ramError(orig)
	if orig.Code != "" {
		t.Fatalf("ramError changed its argument: %+v", orig)
	}
}

func TestActionsTable(t *testing.T) {
	want := []string{"CreateUser", "GetUser", "UpdateUser", "DeleteUser", "ListUsers",
		"CreateAccessKey", "ListAccessKeys", "UpdateAccessKey", "DeleteAccessKey",
		"CreatePolicy", "GetPolicy", "ListPolicies", "DeletePolicy", "AttachPolicyToUser", "DetachPolicyFromUser", "ListPoliciesForUser"}
	table := Actions(nil)
	if len(table) != len(want) {
		t.Fatalf("%d actions, want %d", len(table), len(want))
	}
	for _, name := range want {
		if table[name] == nil {
			t.Errorf("action %s missing", name)
		}
	}
}

func TestBinder(t *testing.T) {
	r := &openapi.Request{Params: openapi.NewParams(url.Values{
		"Empty": {""}, "Name": {" a "}, "Max": {"20"}, "Neg": {"-1"}, "Plus": {"+5"}, "Status": {"Active"}, "Bad": {"\xff"},
	})}
	tests := []struct {
		name string
		run  func(b *binder) any
		want any
		code string
	}{
		{"str/as-sent", func(b *binder) any { return b.str("Name", true) }, " a ", ""},
		{"str/required-empty", func(b *binder) any { return b.str("Empty", true) }, "", "MissingParameter"},
		{"str/required-absent", func(b *binder) any { return b.str("Nope", true) }, "", "MissingParameter"},
		{"str/bad-utf8", func(b *binder) any { return b.str("Bad", false) }, "\xff", "InvalidParameter.Bad"},
		{"opt/absent", func(b *binder) any { return b.opt("Nope") == nil }, true, ""},
		{"opt/empty", func(b *binder) any { p := b.opt("Empty"); return p != nil && *p == "" }, true, ""},
		{"integer/ok", func(b *binder) any { return b.integer("Max", 1, 1000) }, 20, ""},
		{"integer/absent", func(b *binder) any { return b.integer("Nope", 1, 1000) }, 0, ""},
		{"integer/negative", func(b *binder) any { return b.integer("Neg", 1, 1000) }, 0, "InvalidParameter.Neg"},
		{"integer/plus", func(b *binder) any { return b.integer("Plus", 1, 1000) }, 0, "InvalidParameter.Plus"},
		{"oneOf/ok", func(b *binder) any { return b.oneOf("Status", true, "Active", "Inactive") }, "Active", ""},
		{"oneOf/case", func(b *binder) any { return b.oneOf("Name", true, "a") }, "", "InvalidParameter.Name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBinder(r)
			if got := tc.run(b); got != tc.want {
				t.Errorf("got %#v, want %#v", got, tc.want)
			}
			code := ""
			if b.err != nil {
				code, _, _ = openapi.MapError(b.err)
			}
			if code != tc.code {
				t.Errorf("error code %q (%v), want %q", code, b.err, tc.code)
			}
		})
	}
}

func TestDateAndResource(t *testing.T) {
	at := time.Date(2015, 1, 23, 20, 33, 18, 999e6, time.FixedZone("UTC+8", 8*3600))
	if got := date(at); got != "2015-01-23T12:33:18Z" {
		t.Fatalf("date %q", got)
	}
	if got := date(time.Time{}); got != "" {
		t.Fatalf("zero date %q", got)
	}
	long := string(make([]rune, 300))
	if got := resource("user", long); len([]rune(got)) != len("user/")+128 {
		t.Fatalf("resource not cut: %d runes", len([]rune(got)))
	}
}
