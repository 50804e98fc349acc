package service

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
)

// wantRAMErr checks that err is a *pca.Error of kind with detail and param
// (an empty want skips the check).
func wantRAMErr(t *testing.T, err error, kind pca.Kind, detail, param string) {
	t.Helper()
	e, ok := pca.AsError(err)
	if !ok {
		t.Fatalf("got %v, want a *pca.Error of kind %d detail %q", err, kind, detail)
	}
	if e.Kind != kind || (detail != "" && e.Detail != detail) || (param != "" && e.Param != param) {
		t.Fatalf("got kind %d detail %q param %q (%v), want kind %d detail %q param %q", e.Kind, e.Detail, e.Param, err, kind, detail, param)
	}
}

// otherActor creates another account and returns its owner.
func otherActor(t *testing.T, svc *Service) Actor {
	t.Helper()
	_, k, err := svc.CreateAccount(context.Background(), "other")
	if err != nil {
		t.Fatal(err)
	}
	return Actor{AccountID: k.AccountID, PrincipalID: k.PrincipalID}
}

const allowCerts = `{"Version":"1","Statement":[{"Effect":"Allow","Action":"yundun-cert:*","Resource":"*"}]}`

func TestRAMUserNames(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	tests := []struct {
		name   string
		in     UserInput
		kind   pca.Kind
		detail string
		param  string
	}{
		{"ok/all-characters", UserInput{Name: "Alice.B_c-9"}, 0, "", ""},
		{"ok/64-characters", UserInput{Name: strings.Repeat("a", 64)}, 0, "", ""},
		{"ok/profile", UserInput{Name: "bob", DisplayName: "Bob 鲍勃", MobilePhone: "86-18600000000", Email: "bob@example.com", Comments: "ops"}, 0, "", ""},
		{"fail/empty", UserInput{}, pca.KindMissing, "", "UserName"},
		{"fail/65-characters", UserInput{Name: strings.Repeat("a", 65)}, pca.KindInvalid, DetailLength, "UserName"},
		{"fail/space", UserInput{Name: "al ice"}, pca.KindInvalid, DetailInvalidChars, "UserName"},
		{"fail/at-sign", UserInput{Name: "alice@example"}, pca.KindInvalid, DetailInvalidChars, "UserName"},
		{"fail/non-ascii", UserInput{Name: "élise"}, pca.KindInvalid, DetailInvalidChars, "UserName"},
		{"fail/display-name-long", UserInput{Name: "carol", DisplayName: strings.Repeat("x", 129)}, pca.KindInvalid, DetailLength, "DisplayName"},
		{"fail/display-name-control", UserInput{Name: "carol", DisplayName: "a\nb"}, pca.KindInvalid, DetailInvalidChars, "DisplayName"},
		{"fail/comments-long", UserInput{Name: "carol", Comments: strings.Repeat("x", 129)}, pca.KindInvalid, DetailLength, "Comments"},
		{"fail/mobile-format", UserInput{Name: "carol", MobilePhone: "18600000000"}, pca.KindInvalid, DetailFormat, "MobilePhone"},
		{"fail/email-format", UserInput{Name: "carol", Email: "Carol <carol@example.com>"}, pca.KindInvalid, DetailFormat, "Email"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := svc.CreateUser(ctx, a, tc.in)
			if tc.detail == "" && tc.kind == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if u.Name != tc.in.Name || u.ID == 0 || u.AccountID != a.AccountID || u.Owner || u.Created.IsZero() ||
					u.DisplayName != tc.in.DisplayName || u.Email != tc.in.Email || u.MobilePhone != tc.in.MobilePhone {
					t.Fatalf("created %+v from %+v", u, tc.in)
				}
				return
			}
			wantRAMErr(t, err, tc.kind, tc.detail, tc.param)
		})
	}
}

func TestRAMUserLifecycle(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, a, UserInput{Name: "alice", DisplayName: "Alice"}); err != nil {
		t.Fatal(err)
	}
	_, err := svc.CreateUser(ctx, a, UserInput{Name: "alice"})
	wantRAMErr(t, err, pca.KindExists, DetailUser, "UserName")
	// The owner principal's name is taken too, though it is not a RAM user.
	_, err = svc.CreateUser(ctx, a, UserInput{Name: "owner"})
	wantRAMErr(t, err, pca.KindExists, DetailUser, "UserName")
	_, err = svc.GetUser(ctx, a, "owner")
	wantRAMErr(t, err, pca.KindNotFound, DetailUser, "UserName")

	u, err := svc.GetUser(ctx, a, "alice")
	if err != nil || u.DisplayName != "Alice" {
		t.Fatalf("get: %+v %v", u, err)
	}
	_, err = svc.GetUser(ctx, a, "nobody")
	wantRAMErr(t, err, pca.KindNotFound, DetailUser, "UserName")

	newName, comments, empty := "alice2", "moved", ""
	u, err = svc.UpdateUser(ctx, a, "alice", UserChange{NewName: &newName, Comments: &comments, DisplayName: &empty})
	if err != nil || u.Name != "alice2" || u.Comments != "moved" || u.DisplayName != "" {
		t.Fatalf("update: %+v %v", u, err)
	}
	if _, err := svc.GetUser(ctx, a, "alice"); pca.KindOf(err) != pca.KindNotFound {
		t.Fatalf("old name still answers: %v", err)
	}
	if _, err := svc.CreateUser(ctx, a, UserInput{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	taken := "bob"
	_, err = svc.UpdateUser(ctx, a, "alice2", UserChange{NewName: &taken})
	wantRAMErr(t, err, pca.KindExists, DetailUser, "NewUserName")
	bad := "b b"
	_, err = svc.UpdateUser(ctx, a, "alice2", UserChange{NewName: &bad})
	wantRAMErr(t, err, pca.KindInvalid, DetailInvalidChars, "NewUserName")
	badMail := "x"
	_, err = svc.UpdateUser(ctx, a, "alice2", UserChange{Email: &badMail})
	wantRAMErr(t, err, pca.KindInvalid, DetailFormat, "NewEmail")
	_, err = svc.UpdateUser(ctx, a, "ghost", UserChange{Comments: &comments})
	wantRAMErr(t, err, pca.KindNotFound, DetailUser, "UserName")

	if err := svc.DeleteUser(ctx, a, "bob"); err != nil {
		t.Fatal(err)
	}
	wantRAMErr(t, svc.DeleteUser(ctx, a, "bob"), pca.KindNotFound, DetailUser, "UserName")
}

func TestRAMListUsersPages(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	var want []string
	for _, n := range []string{"e", "a", "d", "c", "b"} {
		if _, err := svc.CreateUser(ctx, a, UserInput{Name: n}); err != nil {
			t.Fatal(err)
		}
	}
	want = []string{"a", "b", "c", "d", "e"}
	var got []string
	marker, pages := "", 0
	for {
		page, err := svc.ListUsers(ctx, a, marker, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range page.Users {
			got = append(got, u.Name)
		}
		if !page.Truncated {
			if page.Marker != "" {
				t.Fatalf("last page has a marker %q", page.Marker)
			}
			break
		}
		marker = page.Marker
		// A marker is bound to the account: another owner cannot use it.
		_, err = svc.ListUsers(ctx, otherActor(t, svc), marker, 2)
		wantRAMErr(t, err, pca.KindInvalid, "", "Marker")
	}
	if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
		t.Fatalf("listed %v in %d pages, want %v in 3", got, pages, want)
	}
	_, err := svc.ListUsers(ctx, a, "garbage", 2)
	wantRAMErr(t, err, pca.KindInvalid, "", "Marker")
	_, err = svc.ListUsers(ctx, a, "", 1001)
	wantRAMErr(t, err, pca.KindInvalid, "", "MaxItems")
	page, err := svc.ListUsers(ctx, a, "", 0)
	if err != nil || len(page.Users) != 5 || page.Truncated {
		t.Fatalf("default page: %d users, truncated %v, %v", len(page.Users), page.Truncated, err)
	}
}

func TestRAMAccessKeys(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, a, UserInput{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < MaxAccessKeys; i++ {
		k, err := svc.CreateAccessKey(ctx, a, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(k.ID, "LTAI") || len(k.ID) != 24 || len(k.Secret) != 30 || !k.Active || k.AccountID != a.AccountID {
			t.Fatalf("key shape: %+v", k)
		}
		// The stored secret is sealed and opens to the one returned.
		got, err := svc.LookupAccessKey(ctx, k.ID)
		if err != nil || got.Secret != k.Secret || got.PrincipalID != k.PrincipalID || got.PrincipalID == a.PrincipalID {
			t.Fatalf("lookup: %+v %v", got, err)
		}
		ids = append(ids, k.ID)
	}
	_, err := svc.CreateAccessKey(ctx, a, "alice")
	wantRAMErr(t, err, pca.KindQuota, DetailAccessKey, "")
	_, err = svc.CreateAccessKey(ctx, a, "nobody")
	wantRAMErr(t, err, pca.KindNotFound, DetailUser, "UserName")
	_, err = svc.CreateAccessKey(ctx, a, "bad name")
	wantRAMErr(t, err, pca.KindInvalid, DetailInvalidChars, "UserName")

	keys, err := svc.ListAccessKeys(ctx, a, "alice")
	if err != nil || len(keys) != 2 || keys[0].Secret != "" || keys[1].Secret != "" ||
		!slices.Contains(ids, keys[0].ID) || !slices.Contains(ids, keys[1].ID) || keys[0].ID == keys[1].ID {
		t.Fatalf("list: %+v %v, want keys %v without secrets", keys, err, ids)
	}
	if err := svc.SetAccessKeyActive(ctx, a, "alice", ids[0], false); err != nil {
		t.Fatal(err)
	}
	if got, _ := svc.LookupAccessKey(ctx, ids[0]); got.Active {
		t.Fatal("deactivated key still Active")
	}
	if err := svc.SetAccessKeyActive(ctx, a, "alice", ids[0], true); err != nil {
		t.Fatal(err)
	}
	wantRAMErr(t, svc.SetAccessKeyActive(ctx, a, "alice", "LTAInope", false), pca.KindNotFound, DetailAccessKey, "UserAccessKeyId")
	// Another user's key, or the owner's, is not alice's.
	if _, err := svc.CreateUser(ctx, a, UserInput{Name: "bob"}); err != nil {
		t.Fatal(err)
	}
	wantRAMErr(t, svc.DeleteAccessKey(ctx, a, "bob", ids[0]), pca.KindNotFound, DetailAccessKey, "UserAccessKeyId")
	if err := svc.DeleteAccessKey(ctx, a, "alice", ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.LookupAccessKey(ctx, ids[0]); pca.KindOf(err) != pca.KindNotFound {
		t.Fatalf("deleted key still found: %v", err)
	}
	wantRAMErr(t, svc.DeleteAccessKey(ctx, a, "alice", ids[0]), pca.KindNotFound, DetailAccessKey, "UserAccessKeyId")
}

func TestRAMOwnKeys(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	keys, err := svc.ListAccessKeys(ctx, a, "")
	if err != nil || len(keys) != 1 {
		t.Fatalf("owner keys: %+v %v", keys, err)
	}
	first := keys[0].ID
	// The owner's only Active key can be neither disabled nor deleted.
	wantRAMErr(t, svc.SetAccessKeyActive(ctx, a, "", first, false), pca.KindState, DetailLastOwnerKey, "")
	wantRAMErr(t, svc.DeleteAccessKey(ctx, a, "", first), pca.KindState, DetailLastOwnerKey, "")
	second, err := svc.CreateAccessKey(ctx, a, "")
	if err != nil || second.PrincipalID != a.PrincipalID {
		t.Fatalf("owner's second key: %+v %v", second, err)
	}
	if _, err := svc.CreateAccessKey(ctx, a, ""); pca.KindOf(err) != pca.KindQuota {
		t.Fatalf("owner's third key: %v", err)
	}
	if err := svc.DeleteAccessKey(ctx, a, "", first); err != nil {
		t.Fatalf("deleting one of two Active keys: %v", err)
	}
	// A RAM user acts on its own keys when it names no user.
	u, err := svc.CreateUser(ctx, a, UserInput{Name: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	ua := Actor{AccountID: a.AccountID, PrincipalID: u.ID}
	k, err := svc.CreateAccessKey(ctx, ua, "")
	if err != nil || k.PrincipalID != u.ID {
		t.Fatalf("user's own key: %+v %v", k, err)
	}
	if err := svc.SetAccessKeyActive(ctx, ua, "", k.ID, false); err != nil {
		t.Fatalf("a RAM user may disable its last key: %v", err)
	}
}

func TestRAMPolicyDocuments(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	tests := []struct {
		name, policy, doc string
		kind              pca.Kind
		detail, param     string
	}{
		{"ok/allow", "Certs-1", allowCerts, 0, "", ""},
		{"fail/name-empty", "", allowCerts, pca.KindMissing, "", "PolicyName"},
		{"fail/name-underscore", "a_b", allowCerts, pca.KindInvalid, DetailInvalidChars, "PolicyName"},
		{"fail/name-129", strings.Repeat("p", 129), allowCerts, pca.KindInvalid, DetailLength, "PolicyName"},
		{"fail/system-name", "AdministratorAccess", allowCerts, pca.KindExists, DetailPolicy, "PolicyName"},
		{"fail/doc-empty", "p1", "", pca.KindMissing, "", "PolicyDocument"},
		{"fail/doc-not-json", "p1", "{", pca.KindInvalid, DetailMalformedPolicy, "PolicyDocument"},
		{"fail/doc-array", "p1", "[]", pca.KindInvalid, DetailMalformedPolicy, "PolicyDocument"},
		{"fail/doc-no-version", "p1", `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, pca.KindInvalid, DetailMalformedPolicy, "PolicyDocument"},
		{"fail/doc-version-2", "p1", `{"Version":"2","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, pca.KindInvalid, DetailMalformedPolicy, "PolicyDocument"},
		{"fail/doc-no-statement", "p1", `{"Version":"1"}`, pca.KindInvalid, DetailMalformedPolicy, "PolicyDocument"},
		{"fail/doc-bad-effect", "p1", `{"Version":"1","Statement":[{"Effect":"allow","Action":"*","Resource":"*"}]}`, pca.KindInvalid, DetailMalformedPolicy, "PolicyDocument"},
		{"fail/doc-too-long", "p1", `{"Version":"1","Statement":[],"x":"` + strings.Repeat("x", 6144) + `"}`, pca.KindInvalid, DetailLength, "PolicyDocument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := svc.CreatePolicy(ctx, a, tc.policy, "d", tc.doc)
			if tc.kind == 0 {
				if err != nil || p.Name != tc.policy || p.Type != PolicyCustom || p.Document != tc.doc || p.Created.IsZero() {
					t.Fatalf("create: %+v %v", p, err)
				}
				return
			}
			wantRAMErr(t, err, tc.kind, tc.detail, tc.param)
		})
	}
	// iam's reason, with the element's path, reaches the caller.
	_, err := svc.CreatePolicy(ctx, a, "p3", "", `{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Bogus":1}]}`)
	wantRAMErr(t, err, pca.KindInvalid, DetailMalformedPolicy, "PolicyDocument")
	if !strings.Contains(err.Error(), "Statement[0].Bogus") {
		t.Fatalf("message %q does not name the element", err)
	}
	_, err = svc.CreatePolicy(ctx, a, "Certs-1", "", allowCerts)
	wantRAMErr(t, err, pca.KindExists, DetailPolicy, "PolicyName")
	_, err = svc.CreatePolicy(ctx, a, "p2", strings.Repeat("d", 1025), allowCerts)
	wantRAMErr(t, err, pca.KindInvalid, DetailLength, "Description")
}

func TestRAMPoliciesAndAttachments(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	for _, n := range []string{"p-b", "p-a"} {
		if _, err := svc.CreatePolicy(ctx, a, n, "about "+n, allowCerts); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.CreateUser(ctx, a, UserInput{Name: "alice"}); err != nil {
		t.Fatal(err)
	}

	p, err := svc.GetPolicy(ctx, a, PolicyCustom, "p-a")
	if err != nil || p.Description != "about p-a" || p.Document != allowCerts || p.Attachments != 0 {
		t.Fatalf("get custom: %+v %v", p, err)
	}
	_, err = svc.GetPolicy(ctx, a, PolicySystem, "p-a")
	wantRAMErr(t, err, pca.KindNotFound, DetailPolicy, "PolicyName")
	_, err = svc.GetPolicy(ctx, a, "Managed", "p-a")
	wantRAMErr(t, err, pca.KindInvalid, "", "PolicyType")
	sys, err := svc.GetPolicy(ctx, a, PolicySystem, "AliyunYundunCertReadOnlyAccess")
	if err != nil || sys.Type != PolicySystem || !strings.Contains(sys.Document, "yundun-cert:List*") {
		t.Fatalf("get system: %+v %v", sys, err)
	}

	// Attach, attach again, detach what is not attached.
	for _, at := range [][2]string{{PolicyCustom, "p-a"}, {PolicySystem, "AliyunYundunCertFullAccess"}} {
		if err := svc.AttachPolicyToUser(ctx, a, at[0], at[1], "alice"); err != nil {
			t.Fatalf("attach %v: %v", at, err)
		}
	}
	wantRAMErr(t, svc.AttachPolicyToUser(ctx, a, PolicyCustom, "p-a", "alice"), pca.KindExists, DetailAttachment, "")
	wantRAMErr(t, svc.AttachPolicyToUser(ctx, a, PolicyCustom, "p-zz", "alice"), pca.KindNotFound, DetailPolicy, "")
	wantRAMErr(t, svc.AttachPolicyToUser(ctx, a, PolicySystem, "NoSuchAccess", "alice"), pca.KindNotFound, DetailPolicy, "")
	wantRAMErr(t, svc.AttachPolicyToUser(ctx, a, PolicyCustom, "p-a", "ghost"), pca.KindNotFound, DetailUser, "")
	wantRAMErr(t, svc.DetachPolicyFromUser(ctx, a, PolicyCustom, "p-b", "alice"), pca.KindNotFound, DetailAttachment, "")

	atts, err := svc.ListPoliciesForUser(ctx, a, "alice")
	if err != nil || len(atts) != 2 || atts[0].Name != "p-a" || atts[0].Description != "about p-a" ||
		atts[1].Type != PolicySystem || atts[1].Description == "" || atts[0].Attached.IsZero() {
		t.Fatalf("attachments: %+v %v", atts, err)
	}
	if p, _ := svc.GetPolicy(ctx, a, PolicyCustom, "p-a"); p.Attachments != 1 {
		t.Fatalf("custom AttachmentCount %d, want 1", p.Attachments)
	}
	if p, _ := svc.GetPolicy(ctx, a, PolicySystem, "AliyunYundunCertFullAccess"); p.Attachments != 1 {
		t.Fatalf("system AttachmentCount %d, want 1", p.Attachments)
	}

	// Attached things block deletion.
	wantRAMErr(t, svc.DeletePolicy(ctx, a, "p-a"), pca.KindState, DetailPolicyAttached, "PolicyName")
	wantRAMErr(t, svc.DeleteUser(ctx, a, "alice"), pca.KindState, DetailUserPolicies, "UserName")
	for _, at := range [][2]string{{PolicyCustom, "p-a"}, {PolicySystem, "AliyunYundunCertFullAccess"}} {
		if err := svc.DetachPolicyFromUser(ctx, a, at[0], at[1], "alice"); err != nil {
			t.Fatalf("detach %v: %v", at, err)
		}
	}
	if err := svc.DeletePolicy(ctx, a, "p-a"); err != nil {
		t.Fatal(err)
	}
	wantRAMErr(t, svc.DeletePolicy(ctx, a, "p-a"), pca.KindNotFound, DetailPolicy, "PolicyName")
	wantRAMErr(t, svc.DeletePolicy(ctx, a, "AdministratorAccess"), pca.KindNotFound, DetailPolicy, "PolicyName")

	// A key blocks deleting the user too, before policies are looked at.
	if _, err := svc.CreateAccessKey(ctx, a, "alice"); err != nil {
		t.Fatal(err)
	}
	wantRAMErr(t, svc.DeleteUser(ctx, a, "alice"), pca.KindState, DetailUserAccessKeys, "UserName")
}

func TestRAMListPoliciesPages(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	for _, n := range []string{"c3", "c1", "c2"} {
		if _, err := svc.CreatePolicy(ctx, a, n, "", allowCerts); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for _, n := range []string{"c1", "c2", "c3"} {
		want = append(want, PolicyCustom+"/"+n)
	}
	for _, sp := range SystemPolicies() {
		want = append(want, PolicySystem+"/"+sp.Name)
	}
	for _, size := range []int{1, 2, 3, 4, 100} {
		var got []string
		marker := ""
		for i := 0; ; i++ {
			page, err := svc.ListPolicies(ctx, a, "", marker, size)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Policies) > size || i > len(want) {
				t.Fatalf("size %d: page of %d", size, len(page.Policies))
			}
			for _, p := range page.Policies {
				got = append(got, p.Type+"/"+p.Name)
			}
			if !page.Truncated {
				break
			}
			marker = page.Marker
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("size %d: listed %v, want %v", size, got, want)
		}
	}
	page, err := svc.ListPolicies(ctx, a, PolicySystem, "", 100)
	if err != nil || len(page.Policies) != len(SystemPolicies()) {
		t.Fatalf("system only: %d %v", len(page.Policies), err)
	}
	page, err = svc.ListPolicies(ctx, a, PolicyCustom, "", 2)
	if err != nil || len(page.Policies) != 2 || !page.Truncated {
		t.Fatalf("custom page: %+v %v", page, err)
	}
	// A marker of one listing does not open another (other type filter).
	_, err = svc.ListPolicies(ctx, a, "", page.Marker, 2)
	wantRAMErr(t, err, pca.KindInvalid, "", "Marker")
	_, err = svc.ListPolicies(ctx, a, "Other", "", 2)
	wantRAMErr(t, err, pca.KindInvalid, "", "PolicyType")
}

func TestRAMTenantIsolation(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	if _, err := svc.CreateUser(ctx, a, UserInput{Name: "alice"}); err != nil {
		t.Fatal(err)
	}
	k, err := svc.CreateAccessKey(ctx, a, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreatePolicy(ctx, a, "mine", "", allowCerts); err != nil {
		t.Fatal(err)
	}
	b := otherActor(t, svc)
	_, err = svc.GetUser(ctx, b, "alice")
	wantRAMErr(t, err, pca.KindNotFound, DetailUser, "")
	wantRAMErr(t, svc.DeleteUser(ctx, b, "alice"), pca.KindNotFound, DetailUser, "")
	comments := "x"
	_, err = svc.UpdateUser(ctx, b, "alice", UserChange{Comments: &comments})
	wantRAMErr(t, err, pca.KindNotFound, DetailUser, "")
	_, err = svc.CreateAccessKey(ctx, b, "alice")
	wantRAMErr(t, err, pca.KindNotFound, DetailUser, "")
	_, err = svc.ListAccessKeys(ctx, b, "alice")
	wantRAMErr(t, err, pca.KindNotFound, DetailUser, "")
	// b's own keys do not include alice's.
	wantRAMErr(t, svc.DeleteAccessKey(ctx, b, "", k.ID), pca.KindNotFound, DetailAccessKey, "")
	_, err = svc.GetPolicy(ctx, b, PolicyCustom, "mine")
	wantRAMErr(t, err, pca.KindNotFound, DetailPolicy, "")
	wantRAMErr(t, svc.AttachPolicyToUser(ctx, b, PolicySystem, "AdministratorAccess", "alice"), pca.KindNotFound, DetailUser, "")
	page, err := svc.ListUsers(ctx, b, "", 0)
	if err != nil || len(page.Users) != 0 {
		t.Fatalf("other account lists %d users: %v", len(page.Users), err)
	}
	// Same names are free in another account.
	if _, err := svc.CreateUser(ctx, b, UserInput{Name: "alice"}); err != nil {
		t.Fatalf("same user name in another account: %v", err)
	}
	if _, err := svc.CreatePolicy(ctx, b, "mine", "", allowCerts); err != nil {
		t.Fatalf("same policy name in another account: %v", err)
	}
	if got, err := svc.LookupAccessKey(ctx, k.ID); err != nil || !got.Active {
		t.Fatalf("a's key after b's attempts: %+v %v", got, err)
	}
}
