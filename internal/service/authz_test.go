package service

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store"
)

// authzClock is a settable service clock.
type authzClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *authzClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *authzClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newAuthzService is newTestService with the service clock under the test's
// control.
func newAuthzService(t *testing.T) (*Service, Actor, *authzClock) {
	t.Helper()
	svc, a := newTestService(t)
	clock := &authzClock{t: time.Now().UTC()}
	svc.now = clock.Now
	return svc, a, clock
}

// ramUser creates a RAM user of a's account with the given policies
// attached ("System/<name>" or a custom policy's document under a generated
// name) and returns its Actor.
func ramUser(t *testing.T, svc *Service, a Actor, name string, policies ...string) Actor {
	t.Helper()
	ctx := context.Background()
	u, err := svc.CreateUser(ctx, a, UserInput{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range policies {
		typ, pname := PolicyCustom, name+"-p"+strconv.Itoa(i)
		if sys, ok := strings.CutPrefix(p, "System/"); ok {
			typ, pname = PolicySystem, sys
		} else if _, err := svc.CreatePolicy(ctx, a, pname, "", p); err != nil {
			t.Fatalf("policy %s: %v", p, err)
		}
		if err := svc.AttachPolicyToUser(ctx, a, typ, pname, name); err != nil {
			t.Fatal(err)
		}
	}
	return Actor{AccountID: a.AccountID, PrincipalID: u.ID}
}

// wantDenied checks that err is a KindPermission *pca.Error whose
// AccessDeniedDetail says typ ("ImplicitDeny" or "ExplicitDeny") for the
// principal u and action, and returns the decoded diagnostic message.
func wantDenied(t *testing.T, err error, u Actor, action, typ string) map[string]string {
	t.Helper()
	e, ok := pca.AsError(err)
	if !ok || e.Kind != pca.KindPermission || e.Denied == nil {
		t.Fatalf("got %v, want a permission error with AccessDeniedDetail", err)
	}
	d := e.Denied
	want := pca.AccessDenied{Action: action, PrincipalType: "SubUser", PrincipalOwnerID: strconv.FormatInt(u.AccountID, 10),
		PrincipalDisplayName: strconv.FormatInt(u.PrincipalID, 10), NoPermissionType: typ, PolicyType: "AccountLevelIdentityBasedPolicy",
		EncodedDiagnosticMessage: d.EncodedDiagnosticMessage}
	if *d != want {
		t.Fatalf("AccessDenied %+v, want %+v", *d, want)
	}
	raw, err := base64.StdEncoding.DecodeString(d.EncodedDiagnosticMessage)
	if err != nil {
		t.Fatalf("EncodedDiagnosticMessage %q: %v", d.EncodedDiagnosticMessage, err)
	}
	var diag map[string]string
	if err := json.Unmarshal(raw, &diag); err != nil {
		t.Fatalf("diagnostic %s: %v", raw, err)
	}
	if diag["AuthAction"] != action || diag["NoPermissionType"] != typ {
		t.Fatalf("diagnostic %v", diag)
	}
	return diag
}

func TestAuthorize(t *testing.T) {
	svc, owner, _ := newAuthzService(t)
	ctx := context.Background()
	acct := owner.AccountID
	caA, caB := CAARN(acct, "ca-a"), CAARN(acct, "ca-b")

	none := ramUser(t, svc, owner, "none")
	reader := ramUser(t, svc, owner, "reader", "System/AliyunYundunCertReadOnlyAccess")
	full := ramUser(t, svc, owner, "full", "System/AliyunYundunCertFullAccess")
	oneCA := ramUser(t, svc, owner, "one-ca",
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":["yundun-cert:DescribeCACertificate","yundun-cert:Create*Certificate"],"Resource":"acs:yundun-cert:*:`+strconv.FormatInt(acct, 10)+`:ca/ca-a"}]}`)
	denyRevoke := ramUser(t, svc, owner, "deny-revoke", "System/AliyunYundunCertFullAccess",
		`{"Version":"1","Statement":[{"Effect":"Deny","Action":"yundun-cert:UpdateCACertificateStatus","Resource":"acs:yundun-cert:*:*:ca/ca-a"}]}`)
	fromLAN := ramUser(t, svc, owner, "from-lan",
		`{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*","Condition":{"IpAddress":{"acs:SourceIp":["10.0.0.0/8"]}}}]}`)
	tlsOnly := ramUser(t, svc, owner, "tls-only", "System/AliyunYundunCertFullAccess",
		`{"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Bool":{"acs:SecureTransport":"false"}}}]}`)
	ramAdmin := ramUser(t, svc, owner, "ram-admin", "System/AliyunRAMFullAccess")
	other := otherActor(t, svc)

	lan, wan := net.ParseIP("10.1.2.3"), net.ParseIP("192.0.2.7")
	tests := []struct {
		name      string
		actor     Actor
		action    string
		resources []string
		src       net.IP
		secure    bool
		want      string // "" allowed, else the NoPermissionType
	}{
		{"owner/anything", owner, "yundun-cert:UpdateCACertificateStatus", []string{caA}, nil, false, ""},
		{"owner/ram", owner, "ram:CreateUser", []string{UserARN(acct, "x")}, nil, false, ""},
		{"owner/other-account-owner", other, "yundun-cert:ListCert", []string{AllResources}, nil, false, ""},
		{"no-policy/list", none, "yundun-cert:ListCert", []string{AllResources}, lan, true, "ImplicitDeny"},
		{"no-policy/ram", none, "ram:ListUsers", []string{AllResources}, lan, true, "ImplicitDeny"},
		{"system/read-allows-list", reader, "yundun-cert:ListCert", []string{AllResources}, nil, false, ""},
		{"system/read-allows-describe", reader, "yundun-cert:DescribeCACertificate", []string{caA}, nil, false, ""},
		{"system/read-denies-create", reader, "yundun-cert:CreateRootCACertificate", []string{AllResources}, nil, false, "ImplicitDeny"},
		{"system/read-denies-revoke", reader, "yundun-cert:UpdateCACertificateStatus", []string{caA}, nil, false, "ImplicitDeny"},
		{"system/cert-full-not-ram", full, "ram:CreateUser", []string{UserARN(acct, "x")}, nil, false, "ImplicitDeny"},
		{"system/ram-full", ramAdmin, "ram:AttachPolicyToUser", []string{PolicyARN(acct, "p"), UserARN(acct, "x")}, nil, false, ""},
		{"custom/one-ca-allowed", oneCA, "yundun-cert:DescribeCACertificate", []string{caA}, nil, false, ""},
		{"custom/one-ca-issue", oneCA, "yundun-cert:CreateServerCertificate", []string{caA}, nil, false, ""},
		{"custom/one-ca-other-ca", oneCA, "yundun-cert:DescribeCACertificate", []string{caB}, nil, false, "ImplicitDeny"},
		{"custom/one-ca-both", oneCA, "yundun-cert:DescribeCACertificate", []string{caA, caB}, nil, false, "ImplicitDeny"},
		{"custom/one-ca-not-star", oneCA, "yundun-cert:DescribeCACertificate", []string{AllResources}, nil, false, "ImplicitDeny"},
		{"custom/one-ca-other-action", oneCA, "yundun-cert:UpdateCACertificateStatus", []string{caA}, nil, false, "ImplicitDeny"},
		{"custom/one-ca-other-account", oneCA, "yundun-cert:DescribeCACertificate", []string{CAARN(other.AccountID, "ca-a")}, nil, false, "ImplicitDeny"},
		{"deny/wins", denyRevoke, "yundun-cert:UpdateCACertificateStatus", []string{caA}, nil, false, "ExplicitDeny"},
		{"deny/wins-among-resources", denyRevoke, "yundun-cert:UpdateCACertificateStatus", []string{caB, caA}, nil, false, "ExplicitDeny"},
		{"deny/other-ca-allowed", denyRevoke, "yundun-cert:UpdateCACertificateStatus", []string{caB}, nil, false, ""},
		{"deny/other-action-allowed", denyRevoke, "yundun-cert:DescribeCACertificate", []string{caA}, nil, false, ""},
		{"condition/source-ip-in", fromLAN, "yundun-cert:ListCert", []string{AllResources}, lan, false, ""},
		{"condition/source-ip-out", fromLAN, "yundun-cert:ListCert", []string{AllResources}, wan, false, "ImplicitDeny"},
		{"condition/source-ip-unknown", fromLAN, "yundun-cert:ListCert", []string{AllResources}, nil, false, "ImplicitDeny"},
		{"condition/secure-transport-tls", tlsOnly, "yundun-cert:ListCert", []string{AllResources}, nil, true, ""},
		{"condition/secure-transport-plain", tlsOnly, "yundun-cert:ListCert", []string{AllResources}, nil, false, "ExplicitDeny"},
		{"fail-closed/no-resources", full, "yundun-cert:ListCert", nil, nil, false, "ImplicitDeny"},
		{"unknown-principal", Actor{AccountID: acct, PrincipalID: 1 << 40}, "yundun-cert:ListCert", []string{AllResources}, nil, false, "ImplicitDeny"},
		{"principal-of-other-account", Actor{AccountID: other.AccountID, PrincipalID: full.PrincipalID}, "yundun-cert:ListCert", []string{AllResources}, nil, false, "ImplicitDeny"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := svc.Authorize(ctx, tc.actor, tc.action, tc.resources, tc.src, tc.secure)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			diag := wantDenied(t, err, tc.actor, tc.action, tc.want)
			if tc.want == "ExplicitDeny" && diag["DenyingPolicy"] == "" {
				t.Errorf("explicit deny without the denying policy: %v", diag)
			}
		})
	}
}

// TestAuthorizeDiagnostic: the diagnostic names the policy that denied, and
// never the resources (which may have been resolved from other parameters).
func TestAuthorizeDiagnostic(t *testing.T) {
	svc, owner, _ := newAuthzService(t)
	u := ramUser(t, svc, owner, "alice", "System/AliyunYundunCertFullAccess",
		`{"Version":"1","Statement":[{"Effect":"Deny","Action":"yundun-cert:DescribeCACertificate","Resource":"*"}]}`)
	err := svc.Authorize(context.Background(), u, "yundun-cert:DescribeCACertificate", []string{CAARN(owner.AccountID, "secret-ca")}, nil, false)
	diag := wantDenied(t, err, u, "yundun-cert:DescribeCACertificate", "ExplicitDeny")
	if diag["DenyingPolicy"] != "Custom/alice-p1" {
		t.Errorf("DenyingPolicy %q, want Custom/alice-p1", diag["DenyingPolicy"])
	}
	raw, _ := base64.StdEncoding.DecodeString(err.(*pca.Error).Denied.EncodedDiagnosticMessage)
	if s := string(raw); strings.Contains(s, "secret-ca") || strings.Contains(s, "acs:") {
		t.Errorf("diagnostic names a resource: %s", s)
	}
	if e, _ := pca.AsError(err); e.Msg == "" || !strings.Contains(e.Msg, "explicitly denies") {
		t.Errorf("message %q", e.Msg)
	}
}

// TestAuthorizeCache: a principal's policies are reused for policyCacheTTL
// by the service clock, and invalidatePolicies drops them at once.
func TestAuthorizeCache(t *testing.T) {
	svc, owner, clock := newAuthzService(t)
	ctx := context.Background()
	u := ramUser(t, svc, owner, "alice")
	list := func() error {
		return svc.Authorize(ctx, u, "yundun-cert:ListCert", []string{AllResources}, nil, false)
	}
	if err := list(); err == nil {
		t.Fatal("allowed without a policy")
	}
	// Attached behind the use cases' back: the cached answer stands until
	// the TTL passes.
	attach := store.Attachment{PolicyType: PolicySystem, PolicyName: "AliyunYundunCertReadOnlyAccess", Attached: clock.Now()}
	if err := svc.store.AttachPolicy(ctx, u.AccountID, u.PrincipalID, attach); err != nil {
		t.Fatal(err)
	}
	clock.Add(policyCacheTTL / 2)
	if err := list(); err == nil {
		t.Fatal("allowed before the cache expired")
	}
	clock.Add(policyCacheTTL)
	if err := list(); err != nil {
		t.Fatalf("denied after the cache expired: %v", err)
	}
	// Detached, then invalidated: denied at once.
	if err := svc.store.DetachPolicy(ctx, u.AccountID, u.PrincipalID, PolicySystem, "AliyunYundunCertReadOnlyAccess"); err != nil {
		t.Fatal(err)
	}
	if err := list(); err != nil {
		t.Fatalf("cached answer not used: %v", err)
	}
	svc.invalidatePolicies(u.PrincipalID)
	if err := list(); err == nil {
		t.Fatal("allowed after invalidatePolicies")
	}
	// A clock that goes back does not keep an entry alive.
	if err := svc.store.AttachPolicy(ctx, u.AccountID, u.PrincipalID, attach); err != nil {
		t.Fatal(err)
	}
	clock.Add(-time.Hour)
	if err := list(); err != nil {
		t.Fatalf("entry from the future reused: %v", err)
	}
}

// TestAuthorizeBrokenPolicy: a stored policy that does not parse fails the
// call (it might hold a Deny) instead of being skipped.
func TestAuthorizeBrokenPolicy(t *testing.T) {
	svc, owner, _ := newAuthzService(t)
	ctx := context.Background()
	u := ramUser(t, svc, owner, "alice", "System/AliyunYundunCertFullAccess")
	if err := svc.store.CreatePolicy(ctx, store.Policy{AccountID: owner.AccountID, Name: "broken", Document: "{", Created: time.Now(), Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := svc.store.AttachPolicy(ctx, u.AccountID, u.PrincipalID, store.Attachment{PolicyType: PolicyCustom, PolicyName: "broken", Attached: time.Now()}); err != nil {
		t.Fatal(err)
	}
	err := svc.Authorize(ctx, u, "yundun-cert:ListCert", []string{AllResources}, nil, false)
	if pca.KindOf(err) != pca.KindInternal {
		t.Fatalf("got %v, want an internal error", err)
	}
}

// TestResolveARNs: identifiers, instance UUIDs and numeric instance ids
// name the caller's own CA or certificate; anything else (another
// account's objects included) is named as given.
func TestResolveARNs(t *testing.T) {
	svc, a, _ := newAuthzService(t)
	ctx := context.Background()
	root, sub := hierarchy(t, svc, a)
	c, err := svc.IssueCertificate(ctx, a, IssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeClient,
		Algorithm: pca.ECC256, Subject: pca.Subject{CommonName: "user"}, Validity: pki.Validity{Days: 1}})
	if err != nil {
		t.Fatal(err)
	}
	in, err := svc.Instance(ctx, a, sub.InstanceUUID)
	if err != nil {
		t.Fatal(err)
	}
	other := otherActor(t, svc)
	_, otherSub := hierarchy(t, svc, other)
	acct := a.AccountID
	tests := []struct {
		name string
		kind ResourceKind
		ids  []string
		want []string
	}{
		{"ca", CAResource, []string{root.Identifier}, []string{CAARN(acct, root.Identifier)}},
		{"instance-uuid", CAResource, []string{sub.InstanceUUID}, []string{CAARN(acct, sub.Identifier)}},
		{"any/certificate", AnyResource, []string{c.Identifier}, []string{CertificateARN(acct, c.Identifier)}},
		{"any/ca", AnyResource, []string{sub.Identifier}, []string{CAARN(acct, sub.Identifier)}},
		{"any/unknown", AnyResource, []string{"nope"}, []string{CAARN(acct, "nope"), CertificateARN(acct, "nope")}},
		{"any/other-account-ca", AnyResource, []string{otherSub.Identifier}, []string{CAARN(acct, otherSub.Identifier), CertificateARN(acct, otherSub.Identifier)}},
		{"ca/other-account-instance", CAResource, []string{otherSub.InstanceUUID}, []string{CAARN(acct, otherSub.InstanceUUID)}},
		{"certificate/unknown", CertificateResource, []string{"nope"}, []string{CertificateARN(acct, "nope")}},
		{"several", AnyResource, []string{root.Identifier, c.Identifier}, []string{CAARN(acct, root.Identifier), CertificateARN(acct, c.Identifier)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := svc.ResolveARNs(ctx, a, tc.kind, tc.ids)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("got %v %v, want %v", got, err, tc.want)
			}
		})
	}
	for _, tc := range []struct{ id, want string }{
		{strconv.FormatInt(in.ID, 10), CAARN(acct, sub.Identifier)},
		{"x", CAARN(acct, "x")},
		{"999999", CAARN(acct, "999999")},
	} {
		if got, err := svc.InstanceARN(ctx, a, tc.id); err != nil || got != tc.want {
			t.Errorf("InstanceARN(%s) = %q %v, want %q", tc.id, got, err, tc.want)
		}
		if got, err := svc.InstanceARN(ctx, other, strconv.FormatInt(in.ID, 10)); err != nil || got != CAARN(other.AccountID, strconv.FormatInt(in.ID, 10)) {
			t.Errorf("another account's instance resolved: %q %v", got, err)
		}
	}
	u := ramUser(t, svc, a, "alice")
	if got, err := svc.SelfARN(ctx, u); err != nil || got != UserARN(acct, "alice") {
		t.Errorf("SelfARN = %q %v", got, err)
	}
}

// TestTokensBoundToPrincipal: a NextToken or Marker minted for one identity
// fails for another identity of the same account.
func TestTokensBoundToPrincipal(t *testing.T) {
	svc, a, _ := newAuthzService(t)
	ctx := context.Background()
	for range 2 {
		_, sub := hierarchy(t, svc, a)
		for range 2 {
			if _, err := svc.IssueCertificate(ctx, a, IssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeClient,
				Algorithm: pca.ECC256, Subject: pca.Subject{CommonName: "user"}, Validity: pki.Validity{Days: 1},
				Tags: []pca.Tag{{Key: "k1", Value: "v"}, {Key: "k2", Value: "v"}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	u := ramUser(t, svc, a, "alice")
	ramUser(t, svc, a, "bob")
	ramUser(t, svc, a, "carol")
	certs, err := svc.ListCertificates(ctx, a, ListRequest{Token: true, MaxResults: 1})
	if err != nil || certs.NextToken == "" {
		t.Fatalf("ListCertificates: %v %v", certs.NextToken, err)
	}
	cas, err := svc.ListCAsByToken(ctx, a, "", 1)
	if err != nil || cas.NextToken == "" {
		t.Fatalf("ListCAsByToken: %v %v", cas.NextToken, err)
	}
	insts, err := svc.ListInstances(ctx, a, InstanceListRequest{Token: true, Limit: 1})
	if err != nil || insts.NextToken == "" {
		t.Fatalf("ListInstances: %v %v", insts.NextToken, err)
	}
	tags, err := svc.ListTags(ctx, a, TagQuery{MaxResults: 1})
	if err != nil || tags.NextToken == "" {
		t.Fatalf("ListTags: %v %v", tags.NextToken, err)
	}
	users, err := svc.ListUsers(ctx, a, "", 1)
	if err != nil || users.Marker == "" {
		t.Fatalf("ListUsers: %+v %v", users, err)
	}
	calls := map[string]func(Actor) error{
		"ListCertificates": func(x Actor) error {
			_, err := svc.ListCertificates(ctx, x, ListRequest{Token: true, MaxResults: 1, NextToken: certs.NextToken})
			return err
		},
		"ListCAsByToken": func(x Actor) error { _, err := svc.ListCAsByToken(ctx, x, cas.NextToken, 1); return err },
		"ListInstances": func(x Actor) error {
			_, err := svc.ListInstances(ctx, x, InstanceListRequest{Token: true, Limit: 1, NextToken: insts.NextToken})
			return err
		},
		"ListTags": func(x Actor) error {
			_, err := svc.ListTags(ctx, x, TagQuery{MaxResults: 1, NextToken: tags.NextToken})
			return err
		},
		"ListUsers": func(x Actor) error { _, err := svc.ListUsers(ctx, x, users.Marker, 1); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(a); err != nil {
				t.Fatalf("the minting identity: %v", err)
			}
			err := call(u)
			if e, ok := pca.AsError(err); !ok || e.Kind != pca.KindInvalid {
				t.Fatalf("another identity of the account: %v, want an invalid token", err)
			}
		})
	}
}
