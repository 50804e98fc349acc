// Package softhsmtest makes SoftHSM tokens for tests of PKCS#11 code: a
// token directory under the test's temporary directory, a SoftHSM
// configuration pointing at it (SOFTHSM2_CONF, set for the test), and
// tokens initialised with softhsm2-util.
//
// SoftHSM reads SOFTHSM2_CONF when the module is initialised, so a test
// must close every token it opened (which finalises the module) before the
// next test sets up its own directory; tests that use it cannot run in
// parallel (t.Setenv refuses that).
//
// When SoftHSM is not installed (Debian: apt-get install softhsm2) the
// test is skipped, or fails if PCAD_TEST_PKCS11 is set, so that a CI run
// that means to test PKCS#11 cannot pass by skipping.
package softhsmtest

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// PIN and SOPIN are the user and security-officer PINs of every token made.
const (
	PIN   = "1234"
	SOPIN = "5678"
)

// modulePaths are where distributions install the SoftHSM module.
var modulePaths = []string{
	"/usr/lib/softhsm/libsofthsm2.so", // Debian, Ubuntu
	"/usr/lib64/pkcs11/libsofthsm2.so",
	"/usr/local/lib/softhsm/libsofthsm2.so",
	"/opt/homebrew/lib/softhsm/libsofthsm2.so",
}

// Module returns the path of the SoftHSM module, or "" if none is installed.
func Module() string {
	for _, p := range modulePaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// unavailable skips t, or fails it when PCAD_TEST_PKCS11 is set.
func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("PCAD_TEST_PKCS11") != "" {
		t.Fatalf("PCAD_TEST_PKCS11 is set but %s (install softhsm2)", why)
	}
	t.Skipf("%s: install softhsm2 to run this test", why)
}

// Setup makes a fresh SoftHSM token directory for t with one token per
// label (user PIN PIN, SO PIN SOPIN), sets SOFTHSM2_CONF for the rest of
// the test, and returns the module path.
func Setup(t testing.TB, labels ...string) string {
	t.Helper()
	module := Module()
	if module == "" {
		unavailable(t, "the SoftHSM module is not installed")
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		unavailable(t, "softhsm2-util is not on PATH")
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	text := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	for _, label := range labels {
		out, err := exec.Command(util, "--init-token", "--free", "--label", label, "--so-pin", SOPIN, "--pin", PIN).CombinedOutput()
		if err != nil {
			t.Fatalf("softhsm2-util --init-token --label %s: %v\n%s", label, err, out)
		}
	}
	return module
}

// URI returns a --kms value for the token labelled label of module, logging
// in with pin (given as pin-value).
func URI(module, label, pin string) string {
	return "pkcs11:module=" + url.PathEscape(module) + ";token=" + url.PathEscape(label) + ";pin-value=" + url.PathEscape(pin)
}
