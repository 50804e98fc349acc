package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const mod = "github.com/pcad-dev/pcad/"

// deps returns, for every package of the module, its transitive imports
// (non-test), from `go list -deps`.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[f[0]] = f[1:]
	}
	return m
}

func TestLayers(t *testing.T) {
	graph := deps(t)
	if len(graph) < 8 {
		t.Fatalf("go list saw only %d packages", len(graph))
	}
	tests := []struct {
		name      string
		pkg       string // package prefix the rule applies to
		forbidden []string
	}{
		{"service knows no HTTP or wire protocol", "internal/service", []string{"net/http", mod + "internal/openapi", mod + "internal/casapi"}},
		{"service never names the concrete store", "internal/service", []string{mod + "internal/store/sqlstore"}},
		{"pki is below service", "internal/pki", []string{mod + "internal/service", mod + "internal/store", "net/http"}},
		{"store is below service", "internal/store", []string{mod + "internal/service", "net/http"}},
		{"pca is the bottom", "internal/pca", []string{mod}},
		{"openapi knows no certificates", "internal/openapi", []string{mod + "internal/service", mod + "internal/pki", mod + "internal/store"}},
		{"casapi never names the concrete store", "internal/casapi", []string{mod + "internal/store/sqlstore"}},
		{"keys is below service", "internal/keys", []string{mod + "internal/service", "net/http"}},
		{"ratelimit is a leaf", "internal/ratelimit", []string{mod}},
		{"public endpoints know only their source", "internal/pkixhttp", []string{mod + "internal/service", mod + "internal/store", mod + "internal/openapi", mod + "internal/keys"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := false
			for pkg, ds := range graph {
				if (pkg != mod+tc.pkg && !strings.HasPrefix(pkg, mod+tc.pkg+"/")) || strings.HasSuffix(pkg, "/storetest") {
					continue
				}
				seen = true
				for _, d := range ds {
					for _, f := range tc.forbidden {
						if d == f || strings.HasPrefix(d, strings.TrimSuffix(f, "/")+"/") {
							t.Errorf("%s imports %s", pkg, d)
						}
					}
				}
			}
			if !seen {
				t.Fatalf("no package under %s", tc.pkg)
			}
		})
	}
}

// TestOnlyCmdNamesSQLStore: the concrete store is wired in cmd/pcad only.
func TestOnlyCmdNamesSQLStore(t *testing.T) {
	for pkg, ds := range deps(t) {
		if strings.HasPrefix(pkg, mod+"cmd/") || strings.HasPrefix(pkg, mod+"internal/store/sqlstore") {
			continue
		}
		for _, d := range ds {
			if d == mod+"internal/store/sqlstore" {
				t.Errorf("%s imports the concrete store", pkg)
			}
		}
	}
}
