package service

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// TestCAQueryContradictions: filters that cannot hold together select
// nothing without reaching the store; compatible ones pass through.
func TestCAQueryContradictions(t *testing.T) {
	svc, _ := newTestService(t)
	yes, no := true, false
	cases := []struct {
		name string
		f    CAFilter
		none bool
	}{
		{"issue+notValid", CAFilter{State: CAStateIssue, Valid: &no}, true},
		{"forbidden+valid", CAFilter{State: CAStateForbidden, Valid: &yes}, true},
		{"issue+valid", CAFilter{State: CAStateIssue, Valid: &yes}, false},
		{"revoke+valid", CAFilter{State: CAStateRevoked, Valid: &yes}, false},
		{"external+local", CAFilter{External: true, IssuerType: "local"}, true},
		{"external+external", CAFilter{External: true, IssuerType: IssuerExternal}, false},
		{"empty", CAFilter{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, none := svc.caQuery(tc.f)
			if none != tc.none {
				t.Fatalf("none = %v, want %v (query %+v)", none, tc.none, q)
			}
			if tc.f.State != "" && !none && (q.Status == "") {
				t.Errorf("state %s lost its status: %+v", tc.f.State, q)
			}
			if (tc.f.Valid != nil || tc.f.State == CAStateIssue) && !none && (q.Valid == nil || q.ValidAt.IsZero()) {
				t.Errorf("validity filter lost: %+v", q)
			}
		})
	}
}

// TestCAQueryTokensDoNotCross: a token of one listing or account never
// opens in another.
func TestCAQueryTokensDoNotCross(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	for range 3 {
		hierarchy(t, svc, a)
	}
	page, err := svc.ListCAsByToken(ctx, a, "", 2)
	if err != nil || page.NextToken == "" || len(page.Items) != 2 || page.Total != 6 {
		t.Fatalf("first CA page: %+v %v", page, err)
	}
	inst, err := svc.ListInstances(ctx, a, InstanceListRequest{Token: true, Limit: 2})
	if err != nil || inst.NextToken == "" {
		t.Fatalf("first instance page: %+v %v", inst, err)
	}
	other := Actor{AccountID: a.AccountID + 1}
	cases := []struct {
		name string
		run  func() error
	}{
		{"instance-token-in-CA-list", func() error { _, err := svc.ListCAsByToken(ctx, a, inst.NextToken, 2); return err }},
		{"CA-token-in-instance-list", func() error {
			_, err := svc.ListInstances(ctx, a, InstanceListRequest{Token: true, NextToken: page.NextToken, Limit: 2})
			return err
		}},
		{"CA-token-other-account", func() error { _, err := svc.ListCAsByToken(ctx, other, page.NextToken, 2); return err }},
		{"instance-token-recursive-changed", func() error {
			_, err := svc.ListInstances(ctx, a, InstanceListRequest{Token: true, Recursive: true, NextToken: inst.NextToken, Limit: 2})
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, ok := pca.AsError(tc.run())
			if !ok || e.Kind != pca.KindInvalid || e.Param != "NextToken" {
				t.Fatalf("got %v, want InvalidParameter NextToken", e)
			}
		})
	}
	next, err := svc.ListCAsByToken(ctx, a, page.NextToken, 2)
	if err != nil || len(next.Items) != 2 || next.Items[0].ID >= page.Items[1].ID {
		t.Fatalf("second CA page: %+v %v", next, err)
	}
}

// TestCAQueryAssignRange: the service refuses totals outside 0..2^31-1
// whatever the caller checked, and changes nothing.
func TestCAQueryAssignRange(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	created := time.Now()
	_, sub := hierarchy(t, svc, a)
	in, err := svc.Instance(ctx, a, sub.InstanceUUID)
	if err != nil {
		t.Fatal(err)
	}
	for _, total := range []int64{-1, math.MaxInt32 + 1} {
		if _, err := svc.AssignCertificateCount(ctx, a, in.ID, total); pca.KindOf(err) != pca.KindInvalid {
			t.Errorf("total %d: %v, want invalid", total, err)
		}
	}
	if _, err := svc.AssignCertificateCount(ctx, Actor{AccountID: a.AccountID + 1}, in.ID, 3); pca.KindOf(err) != pca.KindNotFound {
		t.Errorf("foreign account: %v, want not found", err)
	}
	if got, _ := svc.Instance(ctx, a, sub.InstanceUUID); got.TotalCount != 0 {
		t.Errorf("quota changed to %d by refused calls", got.TotalCount)
	}
	assigned := time.Now()
	got, err := svc.AssignCertificateCount(WithRequestID(ctx, "REQ-ASSIGN"), a, in.ID, math.MaxInt32)
	if err != nil || got.TotalCount != math.MaxInt32 {
		t.Fatalf("max total: %+v %v", got, err)
	}
	// The log is served from the audit log: record the calls as the API does.
	sr := "ca/" + sub.Identifier
	for _, e := range []AuditEntry{
		{Time: created, RequestID: "REQ-CREATE", Action: "CreateSubCACertificate", Resource: "ca/" + sub.ParentIdentifier + "," + sr, Code: "OK"},
		{RequestID: "REQ-READ", Action: "DescribeCACertificate", Resource: sr, Code: "OK"},
		{RequestID: "REQ-BAD", Action: "AssignCertificateCount", Resource: sr, Code: "InvalidParameter.CertTotalCount"},
		{Time: assigned, RequestID: "REQ-ASSIGN", Action: "AssignCertificateCount", Resource: sr, Code: "OK", AccessKeyID: "LTAItest"},
	} {
		e.AccountID = a.AccountID
		svc.Audit(ctx, e)
	}
	_, log, err := svc.CALog(ctx, a, sub.Identifier)
	if err != nil || len(log) != 2 || log[0].OpType != CAEventAdd || log[1].OpType != CAEventUpdate {
		t.Fatalf("log %+v %v, want ADD then UPDATE", log, err)
	}
	if c := log[1].Content; !strings.Contains(c, "AssignCertificateCount by AccessKey LTAItest (RequestId REQ-ASSIGN)") ||
		!strings.Contains(c, "set to 2147483647") {
		t.Errorf("UPDATE content %q, want the call and its details", c)
	}
	_, rootLog, err := svc.CALog(ctx, a, sub.ParentIdentifier)
	if err != nil || len(rootLog) != 1 || rootLog[0].OpType != CAEventUpdate {
		t.Errorf("parent log %+v %v, want one UPDATE (signed the sub-CA)", rootLog, err)
	}
	// Entries of older releases (no request id) that the audit log does not
	// cover are shown as written.
	legacy, err := svc.CreateRootCA(ctx, a, RootCARequest{Subject: subject("Legacy"), Years: 10, Algorithm: pca.ECC256})
	if err != nil {
		t.Fatal(err)
	}
	if _, log, err := svc.CALog(ctx, a, legacy.Identifier); err != nil || len(log) != 1 || log[0].OpType != CAEventAdd ||
		!strings.Contains(log[0].Content, "created ROOT CA") {
		t.Errorf("legacy log %+v %v, want its ADD", log, err)
	}
}
