package service

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/iam"
	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/store"
)

// This file holds the identity use cases behind the RAM-compatible API:
// RAM users, their AccessKeys, custom policies and policy attachments.
// Every use case acts inside the caller's account (Actor.AccountID) and
// reports another account's objects exactly as missing ones. Whether a RAM
// user may call them at all is decided by policy enforcement, not here.
//
// Errors are *pca.Error with a Kind, the Param at fault and one of the
// Detail values below, so that the protocol layer can answer RAM's exact
// codes (EntityNotExist.User, DeleteConflict.User.AccessKey, ...) without
// this package knowing them.

// MaxAccessKeys is how many AccessKeys one principal (owner or RAM user) may
// hold, RAM's limit.
const MaxAccessKeys = 2

// Policy types.
const (
	PolicyCustom = "Custom"
	PolicySystem = "System"
)

// Details of the *pca.Error values returned by the RAM use cases. The Kind
// tells which: KindNotFound with DetailUser is an unknown user, KindExists
// with DetailUser a taken user name, and so on.
const (
	DetailUser       = "User"       // NotFound, Exists (Param UserName or NewUserName)
	DetailAccessKey  = "AccessKey"  // NotFound (the key is not the user's), Quota (MaxAccessKeys reached)
	DetailPolicy     = "Policy"     // NotFound, Exists (Param PolicyName)
	DetailAttachment = "Attachment" // NotFound (not attached), Exists (already attached)
	// DetailUserAccessKeys and DetailUserPolicies: KindState, a user that
	// still has AccessKeys or attached policies cannot be deleted.
	DetailUserAccessKeys = "UserAccessKeys"
	DetailUserPolicies   = "UserPolicies"
	// DetailPolicyAttached: KindState, an attached policy cannot be deleted.
	DetailPolicyAttached = "PolicyAttached"
	// DetailLastOwnerKey: KindState, the owner's last Active AccessKey can be
	// neither deleted nor deactivated (pcad has no other way in).
	DetailLastOwnerKey = "LastOwnerAccessKey"
	// KindInvalid refinements: a value with characters outside the allowed
	// set, of the wrong length, of the wrong format, or a policy document
	// that does not parse.
	DetailInvalidChars    = "InvalidChars"
	DetailLength          = "Length"
	DetailFormat          = "Format"
	DetailMalformedPolicy = "MalformedPolicyDocument"
)

// Limits on RAM input (RAM's documented limits).
const (
	maxUserName        = 64
	maxDisplayName     = 128
	maxComments        = 128
	maxEmail           = 128
	maxPolicyName      = 128
	maxPolicyDesc      = 1024
	maxRAMPage         = 1000
	defaultRAMPageSize = 100
)

var (
	userNameRe    = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	policyNameRe  = regexp.MustCompile(`^[A-Za-z0-9-]+$`)
	mobilePhoneRe = regexp.MustCompile(`^[0-9]{1,4}-[0-9]{4,20}$`)
)

// SystemPolicy is a built-in policy: every account can attach it, nobody can
// change or delete it.
type SystemPolicy struct {
	Name        string
	Description string
	Document    string
}

// systemPolicyDate is the creation and update date reported for every
// system policy (they are part of pcad, not of an account).
var systemPolicyDate = time.Date(2015, 5, 1, 0, 0, 0, 0, time.UTC)

// systemDescriptions describe the system policies for RAM's Description
// fields; the names and documents themselves are internal/iam's, the one
// list enforcement also uses.
var systemDescriptions = map[string]string{
	"AdministratorAccess":            "Provides full access to all resources of the account.",
	"AliyunRAMFullAccess":            "Provides full access to RAM: users, AccessKeys, policies.",
	"AliyunRAMReadOnlyAccess":        "Provides read-only access to RAM.",
	"AliyunYundunCertFullAccess":     "Provides full access to the private CA (yundun-cert).",
	"AliyunYundunCertReadOnlyAccess": "Provides read-only access to the private CA (yundun-cert).",
}

// systemPolicies are iam's system policies, ordered by name.
var systemPolicies = func() []SystemPolicy {
	var out []SystemPolicy
	for _, name := range iam.SystemPolicyNames() {
		_, doc, _ := iam.SystemPolicy(name)
		out = append(out, SystemPolicy{Name: name, Description: systemDescriptions[name], Document: doc})
	}
	return out
}()

// SystemPolicies returns the built-in policies, ordered by name. The caller
// owns the returned slice.
func SystemPolicies() []SystemPolicy { return slices.Clone(systemPolicies) }

func systemPolicy(name string) (SystemPolicy, bool) {
	for _, p := range systemPolicies {
		if p.Name == name {
			return p, true
		}
	}
	return SystemPolicy{}, false
}

// ---- users ------------------------------------------------------------------

// UserInput is a new RAM user. Name is required; the other fields may be empty.
type UserInput struct {
	Name        string
	DisplayName string
	MobilePhone string // "<country code>-<number>", e.g. "86-18600000000"
	Email       string
	Comments    string
}

// UserChange changes a RAM user; nil fields are left as they are. An empty
// NewName is the same as nil; the other fields may be set to "" to clear them.
type UserChange struct {
	NewName     *string
	DisplayName *string
	MobilePhone *string
	Email       *string
	Comments    *string
}

// UserPage is one page of ListUsers. Marker, set when Truncated, fetches the
// next page.
type UserPage struct {
	Users     []pca.Principal
	Truncated bool
	Marker    string
}

// CreateUser creates a RAM user in the caller's account.
func (s *Service) CreateUser(ctx context.Context, a Actor, in UserInput) (pca.Principal, error) {
	if err := checkUserName("UserName", in.Name); err != nil {
		return pca.Principal{}, err
	}
	if err := checkProfile("", in.DisplayName, in.MobilePhone, in.Email, in.Comments); err != nil {
		return pca.Principal{}, err
	}
	now := s.now().UTC().Truncate(time.Second)
	p := pca.Principal{AccountID: a.AccountID, Name: in.Name, DisplayName: in.DisplayName, MobilePhone: in.MobilePhone,
		Email: in.Email, Comments: in.Comments, Created: now, Updated: now}
	err := s.store.CreateUser(ctx, &p)
	if errors.Is(err, store.ErrConflict) {
		return pca.Principal{}, userExists("UserName", in.Name)
	}
	if err != nil {
		return pca.Principal{}, pca.Internal(fmt.Errorf("service: create user: %w", err))
	}
	return p, nil
}

// GetUser returns a RAM user of the caller's account.
func (s *Service) GetUser(ctx context.Context, a Actor, name string) (pca.Principal, error) {
	if err := checkUserName("UserName", name); err != nil {
		return pca.Principal{}, err
	}
	return s.user(ctx, a, "UserName", name)
}

// UpdateUser changes a RAM user and returns it as it is afterwards.
func (s *Service) UpdateUser(ctx context.Context, a Actor, name string, ch UserChange) (pca.Principal, error) {
	if err := checkUserName("UserName", name); err != nil {
		return pca.Principal{}, err
	}
	if ch.NewName != nil && *ch.NewName == "" {
		ch.NewName = nil
	}
	if ch.NewName != nil {
		if err := checkUserName("NewUserName", *ch.NewName); err != nil {
			return pca.Principal{}, err
		}
	}
	if err := checkProfile("New", deref(ch.DisplayName), deref(ch.MobilePhone), deref(ch.Email), deref(ch.Comments)); err != nil {
		return pca.Principal{}, err
	}
	u := store.UserUpdate{NewName: ch.NewName, DisplayName: ch.DisplayName, MobilePhone: ch.MobilePhone, Email: ch.Email,
		Comments: ch.Comments, At: s.now().UTC().Truncate(time.Second)}
	p, err := s.store.UpdateUser(ctx, a.AccountID, name, u)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return pca.Principal{}, userNotFound("UserName", name)
	case errors.Is(err, store.ErrConflict):
		return pca.Principal{}, userExists("NewUserName", *ch.NewName)
	case err != nil:
		return pca.Principal{}, pca.Internal(fmt.Errorf("service: update user: %w", err))
	}
	return p, nil
}

// DeleteUser removes a RAM user that has no AccessKeys and no attached
// policies.
func (s *Service) DeleteUser(ctx context.Context, a Actor, name string) error {
	if err := checkUserName("UserName", name); err != nil {
		return err
	}
	p, err := s.user(ctx, a, "UserName", name)
	if err != nil {
		return err
	}
	if err := s.deletable(ctx, p); err != nil {
		return err
	}
	err = s.store.DeleteUser(ctx, a.AccountID, name)
	s.invalidateAccessKeys() // after the write: a read before it may have cached the old state
	switch {
	case errors.Is(err, store.ErrNotFound):
		return userNotFound("UserName", name)
	case errors.Is(err, store.ErrState):
		// A key or an attachment arrived since the check: say which.
		if derr := s.deletable(ctx, p); derr != nil {
			return derr
		}
		return userConflict(DetailUserAccessKeys, name)
	case err != nil:
		return pca.Internal(fmt.Errorf("service: delete user: %w", err))
	}
	return nil
}

// deletable reports why p cannot be deleted, if it cannot.
func (s *Service) deletable(ctx context.Context, p pca.Principal) error {
	keys, err := s.store.ListAccessKeys(ctx, p.AccountID, p.ID)
	if err != nil {
		return pca.Internal(fmt.Errorf("service: delete user: %w", err))
	}
	if len(keys) > 0 {
		return userConflict(DetailUserAccessKeys, p.Name)
	}
	atts, err := s.store.Attachments(ctx, p.AccountID, p.ID)
	if err != nil {
		return pca.Internal(fmt.Errorf("service: delete user: %w", err))
	}
	if len(atts) > 0 {
		return userConflict(DetailUserPolicies, p.Name)
	}
	return nil
}

// ListUsers returns the caller's RAM users ordered by name, max per page
// (1..1000; 0 means 100), from the page marker (empty: the first page).
func (s *Service) ListUsers(ctx context.Context, a Actor, marker string, max int) (UserPage, error) {
	max, err := ramPageSize(max)
	if err != nil {
		return UserPage{}, err
	}
	binding := tokenBinding("ram-users", a)
	after := ""
	if marker != "" {
		var ok bool
		if after, ok = s.openCursor(binding, marker); !ok {
			return UserPage{}, badMarker()
		}
	}
	users, err := s.store.ListUsers(ctx, a.AccountID, after, max+1)
	if err != nil {
		return UserPage{}, pca.Internal(fmt.Errorf("service: list users: %w", err))
	}
	page := UserPage{Users: users}
	if len(users) > max {
		page.Users, page.Truncated = users[:max], true
		page.Marker = s.sealCursor(binding, users[max-1].Name)
	}
	return page, nil
}

// user returns the RAM user name of the caller's account.
func (s *Service) user(ctx context.Context, a Actor, param, name string) (pca.Principal, error) {
	p, err := s.store.GetUser(ctx, a.AccountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return pca.Principal{}, userNotFound(param, name)
	}
	if err != nil {
		return pca.Principal{}, pca.Internal(fmt.Errorf("service: get user: %w", err))
	}
	return p, nil
}

// principal returns the RAM user name, or the caller itself when name is
// empty (RAM: "a RAM user calling without UserName acts on itself").
func (s *Service) principal(ctx context.Context, a Actor, name string) (pca.Principal, error) {
	if name != "" {
		if err := checkUserName("UserName", name); err != nil {
			return pca.Principal{}, err
		}
		return s.user(ctx, a, "UserName", name)
	}
	p, err := s.store.GetPrincipal(ctx, a.AccountID, a.PrincipalID)
	if err != nil {
		return pca.Principal{}, pca.Internal(fmt.Errorf("service: get caller: %w", err))
	}
	return p, nil
}

// ---- AccessKeys ---------------------------------------------------------------

// CreateAccessKey creates an Active AccessKey for the RAM user userName, or
// for the caller itself when userName is empty, and returns it with its clear
// secret: the only time the secret is shown. A principal holds at most
// MaxAccessKeys keys.
func (s *Service) CreateAccessKey(ctx context.Context, a Actor, userName string) (pca.AccessKey, error) {
	p, err := s.principal(ctx, a, userName)
	if err != nil {
		return pca.AccessKey{}, err
	}
	for range 3 { // a taken id (62^20 space) is retried, never expected
		k, rec, err := s.newAccessKey(p)
		if err != nil {
			return pca.AccessKey{}, err
		}
		err = s.store.AddAccessKey(ctx, rec, MaxAccessKeys)
		switch {
		case err == nil:
			return k, nil
		case errors.Is(err, store.ErrQuota):
			return pca.AccessKey{}, &pca.Error{Kind: pca.KindQuota, Param: "UserName", Detail: DetailAccessKey,
				Msg: fmt.Sprintf("The user %q already has %d AccessKeys, the most a user may have; delete one first.", p.Name, MaxAccessKeys)}
		case errors.Is(err, store.ErrNotFound): // deleted meanwhile
			return pca.AccessKey{}, userNotFound("UserName", p.Name)
		case !errors.Is(err, store.ErrConflict):
			return pca.AccessKey{}, pca.Internal(fmt.Errorf("service: add access key: %w", err))
		}
	}
	return pca.AccessKey{}, pca.Internal(errors.New("service: add access key: id collisions"))
}

// newAccessKey makes a key for p: id "LTAI" + 20 characters, a 30-character
// secret sealed with keys.AccessKeyAAD as associated data (as CreateAccount
// does).
func (s *Service) newAccessKey(p pca.Principal) (pca.AccessKey, store.AccessKeyRecord, error) {
	id, err := randomString(s.rand, 20)
	if err != nil {
		return pca.AccessKey{}, store.AccessKeyRecord{}, pca.Internal(fmt.Errorf("service: access key id: %w", err))
	}
	secret, err := randomString(s.rand, 30)
	if err != nil {
		return pca.AccessKey{}, store.AccessKeyRecord{}, pca.Internal(fmt.Errorf("service: access key secret: %w", err))
	}
	k := pca.AccessKey{ID: "LTAI" + id, AccountID: p.AccountID, PrincipalID: p.ID, Secret: secret, Active: true,
		Created: s.now().UTC().Truncate(time.Millisecond)}
	sealed, err := s.sealer.Seal([]byte(secret), keys.AccessKeyAAD(k.ID))
	if err != nil {
		return pca.AccessKey{}, store.AccessKeyRecord{}, pca.Internal(fmt.Errorf("service: seal secret: %w", err))
	}
	return k, store.AccessKeyRecord{ID: k.ID, AccountID: k.AccountID, PrincipalID: k.PrincipalID, SecretSealed: sealed,
		Active: true, Created: k.Created}, nil
}

// ListAccessKeys returns the AccessKeys of the RAM user userName (the
// caller's own when empty), oldest first, without secrets.
func (s *Service) ListAccessKeys(ctx context.Context, a Actor, userName string) ([]pca.AccessKey, error) {
	p, err := s.principal(ctx, a, userName)
	if err != nil {
		return nil, err
	}
	recs, err := s.store.ListAccessKeys(ctx, a.AccountID, p.ID)
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: list access keys: %w", err))
	}
	out := make([]pca.AccessKey, 0, len(recs))
	for _, r := range recs {
		out = append(out, pca.AccessKey{ID: r.ID, AccountID: r.AccountID, PrincipalID: r.PrincipalID, Active: r.Active, Created: r.Created})
	}
	return out, nil
}

// SetAccessKeyActive activates or deactivates an AccessKey of the RAM user
// userName (the caller's own when empty). An Inactive key is refused by
// every API call signed with it.
func (s *Service) SetAccessKeyActive(ctx context.Context, a Actor, userName, keyID string, active bool) error {
	p, err := s.principal(ctx, a, userName)
	if err != nil {
		return err
	}
	if !active {
		if err := s.keepOwnerKey(ctx, p, keyID); err != nil {
			return err
		}
	}
	err = s.store.SetAccessKeyActive(ctx, a.AccountID, p.ID, keyID, active)
	s.invalidateAccessKeys() // after the write: a read before it may have cached the old state
	if errors.Is(err, store.ErrNotFound) {
		return keyNotFound(keyID, p.Name)
	}
	if err != nil {
		return pca.Internal(fmt.Errorf("service: set access key status: %w", err))
	}
	return nil
}

// DeleteAccessKey deletes an AccessKey of the RAM user userName (the
// caller's own when empty).
func (s *Service) DeleteAccessKey(ctx context.Context, a Actor, userName, keyID string) error {
	p, err := s.principal(ctx, a, userName)
	if err != nil {
		return err
	}
	if err := s.keepOwnerKey(ctx, p, keyID); err != nil {
		return err
	}
	err = s.store.DeleteAccessKey(ctx, a.AccountID, p.ID, keyID)
	s.invalidateAccessKeys() // after the write: a read before it may have cached the old state
	if errors.Is(err, store.ErrNotFound) {
		return keyNotFound(keyID, p.Name)
	}
	if err != nil {
		return pca.Internal(fmt.Errorf("service: delete access key: %w", err))
	}
	return nil
}

// keepOwnerKey refuses to delete or deactivate the owner's last Active key:
// pcad has no console login, so the account would be locked out for good.
// It is a check-then-act guard; two concurrent calls removing the owner's
// two keys could both pass it.
func (s *Service) keepOwnerKey(ctx context.Context, p pca.Principal, keyID string) error {
	if !p.Owner {
		return nil
	}
	keys, err := s.store.ListAccessKeys(ctx, p.AccountID, p.ID)
	if err != nil {
		return pca.Internal(fmt.Errorf("service: list access keys: %w", err))
	}
	target, others := false, 0
	for _, k := range keys {
		switch {
		case k.ID == keyID:
			target = k.Active
		case k.Active:
			others++
		}
	}
	if target && others == 0 {
		return &pca.Error{Kind: pca.KindState, Param: "UserAccessKeyId", Detail: DetailLastOwnerKey,
			Msg: "The AccessKey is the account owner's last Active one; create and use another key before deleting or disabling it."}
	}
	return nil
}

// ---- policies -----------------------------------------------------------------

// PolicyInfo is a custom or system policy.
type PolicyInfo struct {
	Type        string // PolicyCustom or PolicySystem
	Name        string
	Description string
	Document    string
	Created     time.Time
	Updated     time.Time
	Attachments int // principals of the caller's account it is attached to
}

// PolicyPage is one page of ListPolicies. Marker, set when Truncated, fetches
// the next page.
type PolicyPage struct {
	Policies  []PolicyInfo
	Truncated bool
	Marker    string
}

// AttachedPolicy is a policy attached to a principal.
type AttachedPolicy struct {
	Type        string
	Name        string
	Description string
	Attached    time.Time
}

// CreatePolicy creates a custom policy in the caller's account. The document
// must be a valid policy; a name of a system policy is taken.
func (s *Service) CreatePolicy(ctx context.Context, a Actor, name, description, document string) (PolicyInfo, error) {
	if err := checkPolicyName(name); err != nil {
		return PolicyInfo{}, err
	}
	if utf8.RuneCountInString(description) > maxPolicyDesc {
		return PolicyInfo{}, invalidDetail("Description", DetailLength, "The parameter Description is too long: at most %d characters.", maxPolicyDesc)
	}
	if !utf8.ValidString(description) {
		return PolicyInfo{}, invalidDetail("Description", DetailInvalidChars, "The parameter Description is not valid UTF-8.")
	}
	if err := checkPolicyDocument(document); err != nil {
		return PolicyInfo{}, err
	}
	if _, ok := systemPolicy(name); ok {
		return PolicyInfo{}, policyExists(name)
	}
	now := s.now().UTC().Truncate(time.Second)
	p := store.Policy{AccountID: a.AccountID, Name: name, Description: description, Document: document, Created: now, Updated: now}
	err := s.store.CreatePolicy(ctx, p)
	if errors.Is(err, store.ErrConflict) {
		return PolicyInfo{}, policyExists(name)
	}
	if err != nil {
		return PolicyInfo{}, pca.Internal(fmt.Errorf("service: create policy: %w", err))
	}
	return customPolicy(p), nil
}

// GetPolicy returns a custom policy of the caller's account or a system
// policy, with its document and attachment count.
func (s *Service) GetPolicy(ctx context.Context, a Actor, policyType, name string) (PolicyInfo, error) {
	if err := checkPolicyType(policyType); err != nil {
		return PolicyInfo{}, err
	}
	if err := checkPolicyName(name); err != nil {
		return PolicyInfo{}, err
	}
	if policyType == PolicySystem {
		sp, ok := systemPolicy(name)
		if !ok {
			return PolicyInfo{}, policyNotFound(policyType, name)
		}
		counts, err := s.systemAttachmentCounts(ctx, a)
		if err != nil {
			return PolicyInfo{}, err
		}
		info := systemInfo(sp)
		info.Attachments = counts[sp.Name]
		return info, nil
	}
	p, err := s.store.GetPolicy(ctx, a.AccountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return PolicyInfo{}, policyNotFound(policyType, name)
	}
	if err != nil {
		return PolicyInfo{}, pca.Internal(fmt.Errorf("service: get policy: %w", err))
	}
	return customPolicy(p), nil
}

// DeletePolicy deletes a custom policy that is attached to nobody.
func (s *Service) DeletePolicy(ctx context.Context, a Actor, name string) error {
	if err := checkPolicyName(name); err != nil {
		return err
	}
	err := s.store.DeletePolicy(ctx, a.AccountID, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return policyNotFound(PolicyCustom, name)
	case errors.Is(err, store.ErrState):
		return &pca.Error{Kind: pca.KindState, Param: "PolicyName", Detail: DetailPolicyAttached,
			Msg: fmt.Sprintf("The policy %q is attached to a user; detach it from every user before deleting it.", name)}
	case err != nil:
		return pca.Internal(fmt.Errorf("service: delete policy: %w", err))
	}
	return nil
}

// ListPolicies lists custom policies of the caller's account then system
// policies (policyType "" both, else one type), each ordered by name, max per
// page (1..1000; 0 means 100), from the page marker (empty: the first page).
func (s *Service) ListPolicies(ctx context.Context, a Actor, policyType, marker string, max int) (PolicyPage, error) {
	if policyType != "" {
		if err := checkPolicyType(policyType); err != nil {
			return PolicyPage{}, err
		}
	}
	max, err := ramPageSize(max)
	if err != nil {
		return PolicyPage{}, err
	}
	binding := tokenBinding("ram-policies", a, policyType)
	afterType, afterName := "", ""
	if marker != "" {
		cur, ok := s.openCursor(binding, marker)
		if !ok {
			return PolicyPage{}, badMarker()
		}
		afterType, afterName, _ = strings.Cut(cur, "/")
	}
	var out []PolicyInfo
	if (policyType == "" || policyType == PolicyCustom) && afterType != PolicySystem {
		ps, err := s.store.ListPolicies(ctx, a.AccountID, afterName, max+1)
		if err != nil {
			return PolicyPage{}, pca.Internal(fmt.Errorf("service: list policies: %w", err))
		}
		for _, p := range ps {
			out = append(out, customPolicy(p))
		}
		afterName = ""
	}
	if (policyType == "" || policyType == PolicySystem) && len(out) <= max {
		counts, err := s.systemAttachmentCounts(ctx, a)
		if err != nil {
			return PolicyPage{}, err
		}
		for _, sp := range systemPolicies {
			if sp.Name > afterName {
				info := systemInfo(sp)
				info.Attachments = counts[sp.Name]
				out = append(out, info)
			}
		}
	}
	page := PolicyPage{Policies: out}
	if len(out) > max {
		last := out[max-1]
		page.Policies, page.Truncated = out[:max], true
		page.Marker = s.sealCursor(binding, last.Type+"/"+last.Name)
	}
	return page, nil
}

// systemAttachmentCounts counts, per system policy, the users of the
// account it is attached to. It reads every user's attachments: fine for
// the user counts of one account (RAM caps them at about a thousand).
func (s *Service) systemAttachmentCounts(ctx context.Context, a Actor) (map[string]int, error) {
	counts := map[string]int{}
	after := ""
	for {
		users, err := s.store.ListUsers(ctx, a.AccountID, after, maxRAMPage)
		if err != nil {
			return nil, pca.Internal(fmt.Errorf("service: count attachments: %w", err))
		}
		for _, u := range users {
			atts, err := s.store.Attachments(ctx, a.AccountID, u.ID)
			if err != nil {
				return nil, pca.Internal(fmt.Errorf("service: count attachments: %w", err))
			}
			for _, at := range atts {
				if at.PolicyType == PolicySystem {
					counts[at.PolicyName]++
				}
			}
		}
		if len(users) < maxRAMPage {
			return counts, nil
		}
		after = users[len(users)-1].Name
	}
}

// AttachPolicyToUser attaches a custom or system policy to a RAM user.
func (s *Service) AttachPolicyToUser(ctx context.Context, a Actor, policyType, policyName, userName string) error {
	if err := checkPolicyType(policyType); err != nil {
		return err
	}
	if err := checkPolicyName(policyName); err != nil {
		return err
	}
	if err := checkUserName("UserName", userName); err != nil {
		return err
	}
	u, err := s.user(ctx, a, "UserName", userName)
	if err != nil {
		return err
	}
	if _, err := s.GetPolicy(ctx, a, policyType, policyName); err != nil {
		return err
	}
	err = s.store.AttachPolicy(ctx, a.AccountID, u.ID, store.Attachment{PolicyType: policyType, PolicyName: policyName,
		Attached: s.now().UTC().Truncate(time.Second)})
	if errors.Is(err, store.ErrConflict) {
		return &pca.Error{Kind: pca.KindExists, Param: "PolicyName", Detail: DetailAttachment,
			Msg: fmt.Sprintf("The %s policy %q is already attached to the user %q.", policyType, policyName, userName)}
	}
	if err != nil {
		return pca.Internal(fmt.Errorf("service: attach policy: %w", err))
	}
	s.invalidatePolicies(u.ID)
	return nil
}

// DetachPolicyFromUser detaches a policy from a RAM user.
func (s *Service) DetachPolicyFromUser(ctx context.Context, a Actor, policyType, policyName, userName string) error {
	if err := checkPolicyType(policyType); err != nil {
		return err
	}
	if err := checkPolicyName(policyName); err != nil {
		return err
	}
	if err := checkUserName("UserName", userName); err != nil {
		return err
	}
	u, err := s.user(ctx, a, "UserName", userName)
	if err != nil {
		return err
	}
	err = s.store.DetachPolicy(ctx, a.AccountID, u.ID, policyType, policyName)
	if errors.Is(err, store.ErrNotFound) {
		return &pca.Error{Kind: pca.KindNotFound, Param: "PolicyName", Detail: DetailAttachment,
			Msg: fmt.Sprintf("The %s policy %q is not attached to the user %q.", policyType, policyName, userName)}
	}
	if err != nil {
		return pca.Internal(fmt.Errorf("service: detach policy: %w", err))
	}
	s.invalidatePolicies(u.ID)
	return nil
}

// ListPoliciesForUser returns the policies attached to the RAM user userName
// (the caller's own when empty), custom ones first, each by name.
func (s *Service) ListPoliciesForUser(ctx context.Context, a Actor, userName string) ([]AttachedPolicy, error) {
	p, err := s.principal(ctx, a, userName)
	if err != nil {
		return nil, err
	}
	atts, err := s.store.Attachments(ctx, a.AccountID, p.ID)
	if err != nil {
		return nil, pca.Internal(fmt.Errorf("service: list attachments: %w", err))
	}
	out := make([]AttachedPolicy, 0, len(atts))
	for _, at := range atts {
		ap := AttachedPolicy{Type: at.PolicyType, Name: at.PolicyName, Attached: at.Attached}
		if at.PolicyType == PolicySystem {
			if sp, ok := systemPolicy(at.PolicyName); ok {
				ap.Description = sp.Description
			}
		} else {
			cp, err := s.store.GetPolicy(ctx, a.AccountID, at.PolicyName)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, pca.Internal(fmt.Errorf("service: list attachments: %w", err))
			}
			ap.Description = cp.Description
		}
		out = append(out, ap)
	}
	return out, nil
}

func customPolicy(p store.Policy) PolicyInfo {
	return PolicyInfo{Type: PolicyCustom, Name: p.Name, Description: p.Description, Document: p.Document,
		Created: p.Created, Updated: p.Updated, Attachments: p.Attachments}
}

func systemInfo(sp SystemPolicy) PolicyInfo {
	return PolicyInfo{Type: PolicySystem, Name: sp.Name, Description: sp.Description, Document: sp.Document,
		Created: systemPolicyDate, Updated: systemPolicyDate}
}

// ---- validation and errors ------------------------------------------------------

// checkUserName applies RAM's rule: 1 to 64 letters, digits, ".", "_", "-".
func checkUserName(param, name string) error {
	switch {
	case name == "":
		return pca.Missing(param)
	case len(name) > maxUserName:
		return invalidDetail(param, DetailLength, "The parameter %s is too long: a user name has 1 to %d characters.", param, maxUserName)
	case !userNameRe.MatchString(name):
		return invalidDetail(param, DetailInvalidChars, "The parameter %s contains invalid characters: use letters, digits, \".\", \"_\" and \"-\".", param)
	}
	return nil
}

// checkProfile checks the optional fields of a user; prefix is "" or "New"
// (the UpdateUser parameter names).
func checkProfile(prefix, displayName, mobile, email, comments string) error {
	if err := checkText(prefix+"DisplayName", displayName, maxDisplayName); err != nil {
		return err
	}
	if err := checkText(prefix+"Comments", comments, maxComments); err != nil {
		return err
	}
	if mobile != "" && !mobilePhoneRe.MatchString(mobile) {
		return invalidDetail(prefix+"MobilePhone", DetailFormat,
			"The format of the parameter %sMobilePhone is incorrect: use <country code>-<number>, e.g. 86-18600000000.", prefix)
	}
	if email != "" {
		addr, err := mail.ParseAddress(email)
		if err != nil || addr.Address != email || addr.Name != "" || len(email) > maxEmail {
			return invalidDetail(prefix+"Email", DetailFormat, "The format of the parameter %sEmail is incorrect: use a plain address like alice@example.com.", prefix)
		}
	}
	return nil
}

// checkText accepts up to max characters of valid UTF-8 without control
// characters.
func checkText(param, v string, max int) error {
	if !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl) {
		return invalidDetail(param, DetailInvalidChars, "The parameter %s contains invalid characters.", param)
	}
	if utf8.RuneCountInString(v) > max {
		return invalidDetail(param, DetailLength, "The parameter %s is too long: at most %d characters.", param, max)
	}
	return nil
}

// checkPolicyName applies RAM's rule: 1 to 128 letters, digits and "-".
func checkPolicyName(name string) error {
	switch {
	case name == "":
		return pca.Missing("PolicyName")
	case len(name) > maxPolicyName:
		return invalidDetail("PolicyName", DetailLength, "The parameter PolicyName is too long: a policy name has 1 to %d characters.", maxPolicyName)
	case !policyNameRe.MatchString(name):
		return invalidDetail("PolicyName", DetailInvalidChars, "The parameter PolicyName contains invalid characters: use letters, digits and \"-\".")
	}
	return nil
}

func checkPolicyType(t string) error {
	switch t {
	case PolicyCustom, PolicySystem:
		return nil
	case "":
		return pca.Missing("PolicyType")
	}
	return pca.Invalid("PolicyType", "The parameter PolicyType is not valid: %q is not one of System, Custom.", t)
}

// checkPolicyDocument checks the size of a policy document (RAM's own code
// for it) and that iam can parse and so enforce it.
func checkPolicyDocument(doc string) error {
	switch {
	case doc == "":
		return pca.Missing("PolicyDocument")
	case utf8.RuneCountInString(doc) > iam.MaxDocumentChars:
		return invalidDetail("PolicyDocument", DetailLength, "The parameter PolicyDocument is too long: at most %d characters.", iam.MaxDocumentChars)
	}
	if _, err := iam.Parse(doc); err != nil {
		var pe *iam.ParseError
		if errors.As(err, &pe) {
			return malformedPolicy(pe.Error())
		}
		return pca.Internal(fmt.Errorf("service: parse policy: %w", err))
	}
	return nil
}

func malformedPolicy(msg string) error {
	return invalidDetail("PolicyDocument", DetailMalformedPolicy, "The policy document is malformed: %s.", msg)
}

func invalidDetail(param, detail, format string, args ...any) error {
	e := pca.Invalid(param, format, args...)
	e.Detail = detail
	return e
}

func ramPageSize(max int) (int, error) {
	switch {
	case max == 0:
		return defaultRAMPageSize, nil
	case max < 1 || max > maxRAMPage:
		return 0, pca.Invalid("MaxItems", "The parameter MaxItems is not valid: %d is not from 1 to %d.", max, maxRAMPage)
	}
	return max, nil
}

func badMarker() error {
	return pca.Invalid("Marker", "The parameter Marker is not valid: it was not returned by this listing for this account.")
}

func userNotFound(param, name string) error {
	return &pca.Error{Kind: pca.KindNotFound, Param: param, Detail: DetailUser, Msg: fmt.Sprintf("The user %q does not exist.", name)}
}

func userExists(param, name string) error {
	return &pca.Error{Kind: pca.KindExists, Param: param, Detail: DetailUser, Msg: fmt.Sprintf("The user name %q is already taken.", name)}
}

func userConflict(detail, name string) error {
	what := "AccessKeys"
	if detail == DetailUserPolicies {
		what = "attached policies"
	}
	return &pca.Error{Kind: pca.KindState, Param: "UserName", Detail: detail,
		Msg: fmt.Sprintf("The user %q still has %s; remove them before deleting the user.", name, what)}
}

func keyNotFound(id, user string) error {
	return &pca.Error{Kind: pca.KindNotFound, Param: "UserAccessKeyId", Detail: DetailAccessKey,
		Msg: fmt.Sprintf("The AccessKey %q of the user %q does not exist.", id, user)}
}

func policyExists(name string) error {
	return &pca.Error{Kind: pca.KindExists, Param: "PolicyName", Detail: DetailPolicy, Msg: fmt.Sprintf("The policy name %q is already taken.", name)}
}

func policyNotFound(policyType, name string) error {
	return &pca.Error{Kind: pca.KindNotFound, Param: "PolicyName", Detail: DetailPolicy,
		Msg: fmt.Sprintf("The %s policy %q does not exist.", policyType, name)}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
