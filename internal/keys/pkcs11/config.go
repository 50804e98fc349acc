// Package pkcs11 keeps CA keys in a PKCS#11 token (an HSM, or SoftHSM for
// tests): keys are generated in the token as non-extractable, sensitive
// objects, found again by the CKA_ID their ref carries, and used through
// crypto.Signer values that sign inside the token (keys.HSM).
//
// The token code needs cgo (github.com/ThalesGroup/crypto11 on
// github.com/miekg/pkcs11) and is built only with the build tag pkcs11:
// `go build -tags pkcs11 ./cmd/pcad`. Without the tag (or without cgo) Open
// returns ErrNotBuilt, and the rest of pcad builds as pure Go. Parsing the
// configuration (ParseURI) works in every build.
package pkcs11

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Errors of Open; test with errors.Is. The messages that wrap them say what
// was looked for, never the PIN.
var (
	// ErrNotBuilt: this binary was built without PKCS#11 support.
	ErrNotBuilt = errors.New("this pcad was built without PKCS#11 support: build with -tags pkcs11 (cgo)")
	// ErrModule: the PKCS#11 module (shared library) does not load or
	// does not initialise.
	ErrModule = errors.New("PKCS#11 module unusable")
	// ErrTokenNotFound: no slot of the module holds the token named.
	ErrTokenNotFound = errors.New("PKCS#11 token not found")
	// ErrPIN: the token refused the PIN (wrong, locked, expired or never set).
	ErrPIN = errors.New("PKCS#11 token refused the PIN")
)

// Config says which token to use and how to log in to it.
type Config struct {
	// Module is the path of the PKCS#11 module, for SoftHSM on Debian
	// /usr/lib/softhsm/libsofthsm2.so.
	Module string
	// Token is the token's label; Serial its serial number. Exactly one
	// is set.
	Token  string
	Serial string
	// PINFile is a file whose first line is the user PIN (read by Open);
	// PIN is the PIN itself (tests). Exactly one is set. The PIN is never
	// logged or put in a message.
	PINFile string
	PIN     string
}

// ParseURI reads a --kms value, a PKCS#11 URI in the manner of RFC 7512:
//
//	pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=ca-test;pin-file=/run/secrets/hsm-pin
//
// Attributes are separated by ';' (and, as in RFC 7512's query part, by '?'
// and '&'), values are percent-decoded. They are module (or module-path),
// token (the label) or serial, and pin-file (or pin-source, a path or a
// file: URI) or pin-value. Nothing is read here: the PIN file is read by
// Open. Errors name attributes, never values, since the text may hold a PIN.
func ParseURI(s string) (Config, error) {
	rest, ok := strings.CutPrefix(s, "pkcs11:")
	if !ok {
		return Config{}, errors.New(`pkcs11: the value must start with "pkcs11:", as in pkcs11:module=/usr/lib/softhsm/libsofthsm2.so;token=LABEL;pin-file=FILE`)
	}
	var c Config
	seen := map[string]bool{}
	n := 0
	for attr := range strings.FieldsFuncSeq(rest, func(r rune) bool { return r == ';' || r == '?' || r == '&' }) {
		n++
		name, raw, ok := strings.Cut(attr, "=")
		if !ok { // not named: it could be a pasted PIN
			return Config{}, fmt.Errorf("pkcs11: attribute %d is not of the form name=value", n)
		}
		v, err := url.PathUnescape(raw)
		if err != nil {
			return Config{}, fmt.Errorf("pkcs11: attribute %s: bad percent-encoding", truncate(name))
		}
		key := strings.ToLower(name)
		switch key {
		case "module-path":
			key = "module"
		case "pin-source":
			key = "pin-file"
			v = strings.TrimPrefix(v, "file:")
		}
		if seen[key] {
			return Config{}, fmt.Errorf("pkcs11: attribute %s given twice", key)
		}
		seen[key] = true
		switch key {
		case "module":
			c.Module = v
		case "token":
			c.Token = v
		case "serial":
			c.Serial = v
		case "pin-file":
			c.PINFile = v
		case "pin-value":
			c.PIN = v
		default:
			return Config{}, fmt.Errorf("pkcs11: unknown attribute %q (known: module, token, serial, pin-file, pin-value)", truncate(name))
		}
	}
	if err := c.Check(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// truncate shortens an attribute name for a message.
func truncate(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}

// Check reports a Config that does not name exactly one module, one token
// and one source of PIN.
func (c Config) Check() error {
	switch {
	case c.Module == "":
		return errors.New("pkcs11: module= (the path of the PKCS#11 module) is required")
	case c.Token == "" && c.Serial == "":
		return errors.New("pkcs11: token= (the token label) or serial= is required")
	case c.Token != "" && c.Serial != "":
		return errors.New("pkcs11: give token= or serial=, not both")
	case c.PINFile == "" && c.PIN == "":
		return errors.New("pkcs11: pin-file= (a file holding the user PIN) or pin-value= is required")
	case c.PINFile != "" && c.PIN != "":
		return errors.New("pkcs11: give pin-file= or pin-value=, not both")
	}
	return nil
}

// String renders c for messages, without the PIN.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("pkcs11:module=" + c.Module)
	if c.Token != "" {
		b.WriteString(";token=" + c.Token)
	}
	if c.Serial != "" {
		b.WriteString(";serial=" + c.Serial)
	}
	if c.PINFile != "" {
		b.WriteString(";pin-file=" + c.PINFile)
	}
	if c.PIN != "" {
		b.WriteString(";pin-value=(hidden)")
	}
	return b.String()
}
