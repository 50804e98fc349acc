package sqlstore_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pcad-dev/pcad/internal/store"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

func TestSwapSecret(t *testing.T) {
	ctx := context.Background()
	s, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "pcad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	get := func() string {
		t.Helper()
		b, err := s.GetSecret(ctx, "head")
		if err != nil {
			t.Fatalf("GetSecret: %v", err)
		}
		return string(b)
	}
	steps := []struct {
		name     string
		old, new []byte
		wantErr  error
		want     string
	}{
		{"ok/create-when-absent", nil, []byte("v1"), nil, "v1"},
		{"fail/create-when-present", nil, []byte("other"), store.ErrConflict, "v1"},
		{"ok/replace-current", []byte("v1"), []byte("v2"), nil, "v2"},
		{"fail/replace-stale", []byte("v1"), []byte("v3"), store.ErrConflict, "v2"},
		{"fail/replace-empty-old", []byte{}, []byte("v3"), store.ErrConflict, "v2"},
		{"ok/binary", []byte("v2"), []byte{0, 0xff, 0}, nil, "\x00\xff\x00"},
		{"ok/binary-old", []byte{0, 0xff, 0}, []byte("v4"), nil, "v4"},
	}
	for _, st := range steps {
		err := s.SwapSecret(ctx, "head", st.old, st.new)
		if !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: SwapSecret = %v, want %v", st.name, err, st.wantErr)
		}
		if got := get(); got != st.want {
			t.Fatalf("%s: value %q, want %q", st.name, got, st.want)
		}
	}
	// Other names are untouched, and a value written by PutSecretIfAbsent swaps.
	if _, err := s.PutSecretIfAbsent(ctx, "other", []byte("o1")); err != nil {
		t.Fatal(err)
	}
	if err := s.SwapSecret(ctx, "other", []byte("o1"), []byte("o2")); err != nil {
		t.Fatalf("swap of a PutSecretIfAbsent value: %v", err)
	}
	if got := get(); got != "v4" {
		t.Fatalf("head changed to %q by a swap of another name", got)
	}

	// Concurrent swappers from the same old value: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.SwapSecret(ctx, "head", []byte("v4"), []byte{byte('a' + i)})
			if err != nil && !errors.Is(err, store.ErrConflict) {
				t.Errorf("concurrent swap: %v", err)
			}
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d concurrent swaps from the same value won, want 1", wins)
	}
}
