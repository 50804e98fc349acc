package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReplicaID: the name is made once per data directory and kept;
// PCAD_REPLICA_ID overrides it; two data directories get two names.
func TestReplicaID(t *testing.T) {
	t.Setenv("PCAD_REPLICA_ID", "")
	a, b := t.TempDir(), t.TempDir()
	first, err := replicaID(a)
	if err != nil || first == "" {
		t.Fatalf("replicaID: %q, %v", first, err)
	}
	if again, err := replicaID(a); err != nil || again != first {
		t.Fatalf("second call on the same directory: %q, %v; want %q", again, err, first)
	}
	if stored, err := os.ReadFile(filepath.Join(a, "replica-id")); err != nil || string(stored) != first+"\n" {
		t.Fatalf("replica-id file holds %q, %v", stored, err)
	}
	if other, _ := replicaID(b); other == first {
		t.Fatalf("two data directories share the name %q", first)
	}
	t.Setenv("PCAD_REPLICA_ID", "pod-7")
	if got, _ := replicaID(a); got != "pod-7" {
		t.Fatalf("with PCAD_REPLICA_ID: %q, want pod-7", got)
	}
}
