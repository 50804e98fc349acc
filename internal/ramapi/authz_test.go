package ramapi

import (
	"context"
	"testing"

	"github.com/pcad-dev/pcad/internal/openapi"
)

// TestAuthzTable: ramTargets names exactly the actions of the table (a
// missing entry panics in Actions; a stale one is caught here).
func TestAuthzTable(t *testing.T) {
	table := Actions(nil)
	for name := range ramTargets {
		if table[name] == nil {
			t.Errorf("ramTargets has %s, which the table does not serve", name)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("an action without an authorization entry was accepted")
		}
	}()
	(&API{}).withAuthz(map[string]openapi.HandlerFunc{"NewAction": func(context.Context, *openapi.Request) (any, error) { return nil, nil }})
}
