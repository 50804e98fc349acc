package main

// The master key: where pcad serve and the admin commands find it, and
// `pcad admin rotate-master-key`, which moves a store to a new one.

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pcad-dev/pcad/internal/keys"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// masterKeyFileName is the file under --data holding the master key when
// none is given (generated on the first start on a fresh store).
const masterKeyFileName = "master.key"

// masterKey is a master key and where it came from.
type masterKey struct {
	key []byte
	// from says where the key came from, for messages: a file's path or
	// "PCAD_MASTER_KEY".
	from string
	// path is the file the key came from ("" for PCAD_MASTER_KEY); when
	// generate is set, the default file to create, which does not exist yet.
	path     string
	generate bool
}

// defaultFile reports whether the key lives in <data>/master.key, the file
// pcad manages itself (generates, and replaces on rotation).
func (m masterKey) defaultFile(data string) bool {
	return m.path != "" && m.path == filepath.Join(data, masterKeyFileName)
}

// loadMasterKey finds cfg's master key: --master-key-file (PCAD_MASTER_KEY_FILE),
// or PCAD_MASTER_KEY (64 hex digits), or <data>/master.key. Setting both of
// the first two is an error. When <data>/master.key does not exist, the key
// is marked to be generated (openKeyring does it, on a fresh store only).
// Nothing is written here.
func loadMasterKey(cfg config) (masterKey, error) {
	switch {
	case cfg.MasterKey != "" && cfg.MasterKeyFile != "":
		return masterKey{}, errors.New("master key: both --master-key-file (PCAD_MASTER_KEY_FILE) and PCAD_MASTER_KEY are set: set one")
	case cfg.MasterKey != "":
		key, err := keys.ParseMasterKey(cfg.MasterKey)
		if err != nil {
			return masterKey{}, fmt.Errorf("PCAD_MASTER_KEY: %w", err)
		}
		return masterKey{key: key, from: "PCAD_MASTER_KEY"}, nil
	case cfg.MasterKeyFile != "":
		key, err := keys.LoadMasterKeyFile(cfg.MasterKeyFile)
		if errors.Is(err, fs.ErrNotExist) {
			return masterKey{}, fmt.Errorf("--master-key-file %s does not exist (pcad generates a master key only as %s under --data, on a fresh store)",
				cfg.MasterKeyFile, masterKeyFileName)
		}
		if err != nil {
			return masterKey{}, fmt.Errorf("--master-key-file: %w", err)
		}
		return masterKey{key: key, from: cfg.MasterKeyFile, path: cfg.MasterKeyFile}, nil
	}
	path := filepath.Join(cfg.Data, masterKeyFileName)
	key, err := keys.LoadMasterKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return masterKey{from: path, path: path, generate: true}, nil
	}
	if err != nil {
		return masterKey{}, err
	}
	return masterKey{key: key, from: path, path: path}, nil
}

// openKeyring opens the keyring of st with m (keys.OpenKeyring: a wrong key
// or an interrupted rotation is refused, naming the fingerprints, before
// anything is written). A key marked to be generated is generated into its
// file only if the store holds nothing sealed yet; the file is removed again
// if the keyring then fails. m.key is cleared.
func openKeyring(ctx context.Context, st *sqlstore.Store, m masterKey) (*keys.Keyring, error) {
	created := false
	if m.generate {
		held, err := keys.HoldsSealedData(ctx, st)
		if err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
		if held {
			return nil, fmt.Errorf("master key: %s does not exist, but the store holds keys and secrets sealed under a master key: "+
				"start with that key (--master-key-file FILE or PCAD_MASTER_KEY); pcad generates one only for a fresh store", m.path)
		}
		key, err := keys.CreateMasterKeyFile(m.path, rand.Reader)
		if errors.Is(err, fs.ErrExist) { // another process made it meanwhile
			key, err = keys.LoadMasterKeyFile(m.path)
		} else {
			created = err == nil
		}
		if err != nil {
			return nil, err
		}
		m.key = key
	}
	defer clear(m.key)
	ring, err := keys.OpenKeyring(ctx, m.key, st, rand.Reader)
	if err != nil {
		if created {
			os.Remove(m.path)
		}
		if pending := filepath.Join(filepath.Dir(m.path), newMasterKeyFileName); m.path != "" && !errors.Is(err, keys.ErrRotationIncomplete) {
			if _, serr := os.Stat(pending); serr == nil {
				return nil, fmt.Errorf("master key from %s: %w (%s exists: a `pcad admin rotate-master-key` run did not finish; run it again to finish it)", m.from, err, pending)
			}
		}
		return nil, fmt.Errorf("master key from %s: %w", m.from, err)
	}
	return ring, nil
}

// rotateAfterChange, when set (by tests), is called after each row the
// rotation changes; an error stops the rotation there, as a crash would.
var rotateAfterChange func(changed int) error

// newMasterKeyFileName is the file under --data where rotate-master-key
// generates the new key when none is given; a rerun finds it there.
const newMasterKeyFileName = "master.key.new"

// adminRotateMasterKey runs `pcad admin rotate-master-key`: it re-wraps every
// data key of the store from the current master key to a new one (and
// re-seals values an earlier version sealed under the master key itself),
// row by row, each a compare-and-swap, so that an interrupted run is
// finished by running it again with the same keys. Then, when the current
// key is <data>/master.key, it replaces that file with the new key.
//
// The current key is found as pcad serve finds it. The new key is
// --new-key-file, else PCAD_NEW_MASTER_KEY (hex), else <data>/master.key.new,
// generated (mode 0600) unless a previous run left it there.
func adminRotateMasterKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f := newAdminFlags("rotate-master-key", stderr)
	oldFile := f.String("master-key-file", "", "file holding the current master key; default: $PCAD_MASTER_KEY_FILE, $PCAD_MASTER_KEY, else <data>/master.key")
	newFile := f.String("new-key-file", "", "file holding the new master key (64 hex digits); default: $PCAD_NEW_MASTER_KEY, else <data>/master.key.new, generated if absent")
	if err := f.parse(args); err != nil {
		return err
	}
	if *oldFile == "" {
		*oldFile = os.Getenv("PCAD_MASTER_KEY_FILE")
	}
	cfg := config{Data: f.data, DB: f.db, MasterKey: os.Getenv("PCAD_MASTER_KEY"), MasterKeyFile: *oldFile}

	// Everything is checked before the store is opened or a key generated.
	if f.db == "" {
		db := filepath.Join(f.data, "pcad.db")
		if _, err := os.Stat(db); err != nil {
			return fmt.Errorf("admin rotate-master-key: no pcad store at %s (is --data right?): %w", db, err)
		}
	}
	old, err := loadMasterKey(cfg)
	if err != nil {
		return fmt.Errorf("admin rotate-master-key: current %w", err)
	}
	if old.generate {
		return fmt.Errorf("admin rotate-master-key: no current master key: %s does not exist (set --master-key-file or PCAD_MASTER_KEY if it is kept elsewhere)", old.path)
	}
	defer clear(old.key)
	newEnv := os.Getenv("PCAD_NEW_MASTER_KEY")
	if *newFile != "" && newEnv != "" {
		return errors.New("admin rotate-master-key: both --new-key-file and PCAD_NEW_MASTER_KEY are set: set one")
	}
	var next masterKey
	writeNew := "" // the file to store a generated new key in
	switch {
	case *newFile != "":
		key, err := keys.LoadMasterKeyFile(*newFile)
		if err != nil {
			return fmt.Errorf("admin rotate-master-key: --new-key-file: %w", err)
		}
		next = masterKey{key: key, from: *newFile, path: *newFile}
	case newEnv != "":
		key, err := keys.ParseMasterKey(newEnv)
		if err != nil {
			return fmt.Errorf("admin rotate-master-key: PCAD_NEW_MASTER_KEY: %w", err)
		}
		next = masterKey{key: key, from: "PCAD_NEW_MASTER_KEY"}
	default:
		path := filepath.Join(f.data, newMasterKeyFileName)
		key, err := keys.LoadMasterKeyFile(path)
		if err == nil && keys.Fingerprint(key) == keys.Fingerprint(old.key) && old.defaultFile(f.data) {
			// A run that replaced master.key and stopped before removing this.
			if err := os.Remove(path); err != nil {
				return fmt.Errorf("admin rotate-master-key: %w", err)
			}
			fmt.Fprintf(stdout, "The master key rotation to fingerprint %s was finished already; removed the leftover %s.\n", keys.Fingerprint(key), path)
			return nil
		}
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Generated now, written to path only once the current key has
			// been checked against the store, before the first row moves.
			key = make([]byte, keys.MasterKeySize)
			if _, err := io.ReadFull(rand.Reader, key); err != nil {
				return fmt.Errorf("admin rotate-master-key: generate the new master key: %w", err)
			}
			writeNew = path
		case err == nil:
			fmt.Fprintf(stdout, "Using the new master key a previous run left in %s.\n", path)
		default:
			return fmt.Errorf("admin rotate-master-key: new master key: %w", err)
		}
		next = masterKey{key: key, from: path, path: path}
	}
	defer clear(next.key)

	st, err := openStore(ctx, f.db, f.data)
	if err != nil {
		return fmt.Errorf("admin rotate-master-key: %w", redactDSN(err, f.db))
	}
	defer st.Close()
	opt := keys.RotateOptions{AfterChange: rotateAfterChange, BeforeChange: func() error {
		if writeNew == "" {
			return nil
		}
		if _, err := keys.CreateMasterKeyFile(writeNew, bytes.NewReader(next.key)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Generated the new master key in %s (mode 0600).\n", writeNew)
		return nil
	}}
	rep, err := keys.RotateMasterKey(ctx, st, old.key, next.key, opt)
	if err != nil && rep.Resealed+rep.Rewrapped > 0 {
		return fmt.Errorf("admin rotate-master-key: %w\nThe rotation stopped half done (%d values re-sealed, %d data keys re-wrapped): "+
			"nothing is lost; run the same command again, with the same keys, to finish it. Until then servers already running go on working; "+
			"a server starting meanwhile may be refused, with a message saying why", redactDSN(err, f.db), rep.Resealed, rep.Rewrapped)
	}
	if err != nil {
		return fmt.Errorf("admin rotate-master-key: %w", redactDSN(err, f.db))
	}
	fmt.Fprintf(stdout, "Rotated the master key from fingerprint %s to %s: %d data keys re-wrapped", rep.OldFingerprint, rep.NewFingerprint, rep.Rewrapped)
	if rep.AlreadyNew > 0 {
		fmt.Fprintf(stdout, " (%d were already, by an earlier run)", rep.AlreadyNew)
	}
	fmt.Fprintf(stdout, ", %d values sealed by an earlier version re-sealed under a data key.\n", rep.Resealed)

	if old.defaultFile(f.data) {
		if err := keys.ReplaceMasterKeyFile(old.path, next.key); err != nil {
			return fmt.Errorf("admin rotate-master-key: the store is under the new key, but %s could not be replaced: %w; "+
				"put the new key (from %s) there before restarting", old.path, err, next.from)
		}
		fmt.Fprintf(stdout, "%s now holds the new key.\n", old.path)
		if next.path == filepath.Join(f.data, newMasterKeyFileName) {
			if err := os.Remove(next.path); err != nil {
				return fmt.Errorf("admin rotate-master-key: %w", err)
			}
		}
	} else {
		fmt.Fprintf(stdout, "The current key came from %s, which this command does not change: give every server the new key (from %s) before it restarts.\n",
			old.from, next.from)
	}
	fmt.Fprintln(stdout, "Servers already running keep working. A server started from now on needs the new key; the old one opens nothing in this store.")
	fmt.Fprintln(stdout, "The data keys themselves are unchanged: a backup made before the rotation still opens with the old key, and so do its data keys, which seal this store's values too. Destroy the old key together with such backups.")
	return nil
}
