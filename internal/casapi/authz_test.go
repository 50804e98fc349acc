package casapi

import (
	"context"
	"testing"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/service"
)

// TestAuthzTable: authzTargets names exactly the actions of the table (a
// missing entry panics in Actions; a stale one is caught here).
func TestAuthzTable(t *testing.T) {
	table := Actions(nil)
	for name := range authzTargets {
		if table[name] == nil {
			t.Errorf("authzTargets has %s, which the table does not serve", name)
		}
	}
	for name := range createdARN {
		if table[name] == nil {
			t.Errorf("createdARN has %s, which the table does not serve", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("an action without an authorization entry was accepted")
		}
	}()
	(&API{}).withAuthz(map[string]openapi.HandlerFunc{"NewAction": func(context.Context, *openapi.Request) (any, error) { return nil, nil }})
}

func TestAuditResource(t *testing.T) {
	const acct = 1000000000000001
	tests := []struct {
		arns []string
		want string
	}{
		{[]string{service.AllResources}, "*"},
		{[]string{service.CAARN(acct, "a"), service.CertificateARN(acct, "b")}, "ca/a,certificate/b"},
	}
	for _, tc := range tests {
		if got := auditResource(acct, tc.arns); got != tc.want {
			t.Errorf("auditResource(%v) = %q, want %q", tc.arns, got, tc.want)
		}
	}
	long := make([]string, 100)
	for i := range long {
		long[i] = service.CertificateARN(acct, "0123456789012345678901234567890123456789")
	}
	if got := auditResource(acct, long); len(got) > maxAuditResource+3 {
		t.Errorf("auditResource of 100 ARNs has %d bytes", len(got))
	}
}
