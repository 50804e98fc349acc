package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// replicaID names this replica in the background-work lease: $PCAD_REPLICA_ID,
// else the name kept in <data>/replica-id, made on first start. A server
// restarted on the same data directory keeps its name, so after a crash it
// takes its lease back at once rather than after the lease expires. Replicas
// must not share a data directory (or must each set PCAD_REPLICA_ID).
func replicaID(data string) (string, error) {
	if v := strings.TrimSpace(os.Getenv("PCAD_REPLICA_ID")); v != "" {
		return v, nil
	}
	path := filepath.Join(data, "replica-id")
	b, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("replica id: %w", err)
	}
	raw := make([]byte, 8)
	rand.Read(raw) // never fails (crypto/rand)
	id := hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("replica id: %w", err)
	}
	return id, nil
}
