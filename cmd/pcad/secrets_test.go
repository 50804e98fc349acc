package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestNoSecretsInClear: after a hierarchy and certificates were made, the
// AccessKey secret does not appear in clear in the database files, which are
// owner-only. (Private keys: see the service's TestKeysSealedAtRest.)
func TestNoSecretsInClear(t *testing.T) {
	ts := startServer(t, 0)
	c := ts.client(t, "v3")
	root := createRoot(t, c, "ECC_256", nil)
	sub := createSub(t, c, root.ID, "ECC_256", nil)
	issueServer(t, c, sub.ID, nil)
	issueClient(t, c, sub.ID, nil)

	files, _ := filepath.Glob(filepath.Join(ts.app.cfg.Data, "pcad.db*"))
	if len(files) == 0 {
		t.Fatal("no database files found")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(ts.secret)) {
			t.Errorf("%s contains the AccessKey secret in clear", f)
		}
		fi, _ := os.Stat(f)
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %v: the store must be owner-only", f, fi.Mode().Perm())
		}
	}
}
