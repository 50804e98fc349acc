package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestCALogFromAudit: ListCACertificateLog is served from the audit log. A
// sub-CA's log is its creation (ADD) then one UPDATE per successful change,
// in order, each visible as soon as the call answered; reads and refused
// calls add nothing; another account's CA is not found.
func TestCALogFromAudit(t *testing.T) {
	ts := startServer(t, 0)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			c, _ := lcAccount(t, ts, mode)
			start := time.Now().Add(-time.Second).UnixMilli()
			type entry struct{ op, content string }
			logOf := func(id string) []entry {
				t.Helper()
				var out []entry
				last := start
				for _, it := range jObjects(t, mustCall(t, c, "ListCACertificateLog", map[string]string{"Identifier": id}), "LogList") {
					if got := jStr(t, it, "Identifier"); got != id {
						t.Errorf("Identifier %q, want %q", got, id)
					}
					ct := jInt(t, it, "CreateTime")
					if ct < last || !near(time.UnixMilli(ct)) {
						t.Errorf("CreateTime %d is not a recent Unix ms time in order (previous %d)", ct, last)
					}
					last = ct
					out = append(out, entry{jStr(t, it, "OpType"), jStr(t, it, "Content")})
				}
				return out
			}
			check := func(id string, want ...[]string) []entry {
				t.Helper()
				got := logOf(id)
				if len(got) != len(want) {
					t.Fatalf("log of %s: %v, want %d entries", id, got, len(want))
				}
				for i, w := range want {
					if got[i].op != w[0] {
						t.Errorf("entry %d OpType %q, want %q", i, got[i].op, w[0])
					}
					for _, m := range w[1:] {
						if !strings.Contains(got[i].content, m) {
							t.Errorf("entry %d Content %q does not mention %q", i, got[i].content, m)
						}
					}
				}
				return got
			}
			root, sub := hierarchy(t, c)
			add := []string{"ADD", "CreateSubCACertificate by AccessKey", "RequestId", "created SUB_ROOT CA", "signed by CA " + root.ID}
			check(sub.ID, add)
			check(root.ID, []string{"ADD", "CreateRootCACertificate", "created ROOT CA"},
				[]string{"UPDATE", "CreateSubCACertificate", "signed SUB_ROOT CA", sub.ID})

			inst, _ := caqInstance(t, c, sub.ID)
			mustCall(t, c, "AssignCertificateCount", map[string]string{"Id": strconv.FormatInt(inst, 10), "CertTotalCount": "7"})
			quota := []string{"UPDATE", "AssignCertificateCount", "set to 7"}
			check(sub.ID, add, quota)

			mustCall(t, c, "UpdateCACertificateStatus", map[string]string{"Identifier": sub.ID, "Status": "REVOKE"})
			revoked := []string{"UPDATE", "UpdateCACertificateStatus", "revoked SUB_ROOT CA"}
			check(sub.ID, add, quota, revoked)

			// A refused call (revoking twice) and reads add nothing.
			_, err := call(t, c, "UpdateCACertificateStatus", map[string]string{"Identifier": sub.ID, "Status": "REVOKE"})
			wantErr(t, err, http.StatusBadRequest, "OperationDenied.CARevoked")
			mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": sub.ID})
			check(sub.ID, add, quota, revoked)

			lcMust(t, c, "UpdatePcaCertificate", map[string]string{"Identifier": sub.ID, "AliasName": "sub alias"})
			got := check(sub.ID, add, quota, revoked, []string{"UPDATE", "UpdatePcaCertificate", `alias set to "sub alias"`})
			for _, e := range got {
				if strings.Contains(e.content, "Secret") {
					t.Errorf("log entry %q mentions a secret", e.content)
				}
			}

			other := otherAccount(t, ts, mode)
			_, err = call(t, other, "ListCACertificateLog", map[string]string{"Identifier": sub.ID})
			wantErr(t, err, http.StatusNotFound, "NotFound.CA", "Identifier")
		})
	}
}
