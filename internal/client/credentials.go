package client

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Environment variables read by ResolveCredentials and ResolveEndpoint
// (the Alibaba Cloud conventions, plus PCAD_ENDPOINT).
const (
	EnvAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	EnvAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
	EnvCredentialsFile = "ALIBABA_CLOUD_CREDENTIALS_FILE"
	EnvProfile         = "ALIBABA_CLOUD_PROFILE"
	EnvEndpoint        = "PCAD_ENDPOINT"
)

// DefaultCredentialsFile is the file `pcad serve` writes on first start
// with its default data directory.
const DefaultCredentialsFile = "pcad-data/credentials.ini"

// Credentials is an AccessKey and where it was found.
type Credentials struct {
	AccessKeyID     string
	AccessKeySecret string
	// Source says where the key came from ("flags", "environment" or
	// "<file> [profile]"), for messages. It never holds the secret.
	Source string
}

// String names the key and its source, never the secret.
func (c Credentials) String() string {
	return fmt.Sprintf("AccessKey %s from %s", c.AccessKeyID, c.Source)
}

// CredentialOptions are the inputs of ResolveCredentials. Empty fields are
// not given.
type CredentialOptions struct {
	AccessKeyID     string // --access-key-id
	AccessKeySecret string // --access-key-secret
	File            string // --credentials: a credentials file
	Profile         string // --profile: a section of the credentials file
	// Getenv reads the environment; nil means os.Getenv.
	Getenv func(string) string
}

// ResolveCredentials finds the AccessKey to sign with, first found wins:
//
//  1. AccessKeyID and AccessKeySecret (both or neither);
//  2. an explicitly named File or Profile: that section (Profile, else
//     ALIBABA_CLOUD_PROFILE, else "default") of File, else of
//     ALIBABA_CLOUD_CREDENTIALS_FILE, else of ./pcad-data/credentials.ini;
//  3. ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET;
//  4. the profile section of ALIBABA_CLOUD_CREDENTIALS_FILE, else of
//     ./pcad-data/credentials.ini (written by `pcad serve`).
//
// A named file or profile that does not hold a key is an error, never
// skipped.
func ResolveCredentials(o CredentialOptions) (Credentials, error) {
	getenv := o.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	if o.AccessKeyID != "" || o.AccessKeySecret != "" {
		if o.AccessKeyID == "" || o.AccessKeySecret == "" {
			return Credentials{}, errors.New("client: give both the AccessKey id and its secret, or neither")
		}
		return Credentials{AccessKeyID: o.AccessKeyID, AccessKeySecret: o.AccessKeySecret, Source: "flags"}, nil
	}
	profile := o.Profile
	if profile == "" {
		profile = getenv(EnvProfile)
	}
	if profile == "" {
		profile = "default"
	}
	file := o.File
	if file == "" {
		file = getenv(EnvCredentialsFile)
	}
	if file == "" {
		file = DefaultCredentialsFile
	}
	if o.File != "" || o.Profile != "" {
		return ReadCredentialsFile(file, profile)
	}
	if id, secret := getenv(EnvAccessKeyID), getenv(EnvAccessKeySecret); id != "" || secret != "" {
		if id == "" || secret == "" {
			return Credentials{}, fmt.Errorf("client: set both %s and %s, or neither", EnvAccessKeyID, EnvAccessKeySecret)
		}
		return Credentials{AccessKeyID: id, AccessKeySecret: secret, Source: "environment"}, nil
	}
	c, err := ReadCredentialsFile(file, profile)
	if err != nil && errors.Is(err, os.ErrNotExist) && getenv(EnvCredentialsFile) == "" {
		return Credentials{}, fmt.Errorf("client: no credentials: set %s and %s, or %s, or run `pcad serve` here to create %s: %w",
			EnvAccessKeyID, EnvAccessKeySecret, EnvCredentialsFile, DefaultCredentialsFile, err)
	}
	return c, err
}

// ReadCredentialsFile reads the AccessKey of section profile from an
// Alibaba Cloud credentials file (INI: "[profile]" sections with
// "type = access_key", "access_key_id" and "access_key_secret"; ";" and
// "#" start comments). A section of another type is refused.
func ReadCredentialsFile(path, profile string) (Credentials, error) {
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("client: credentials: %w", err)
	}
	defer f.Close()
	var (
		section, typ, id, secret string
		found                    bool
	)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			found = found || section == profile
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != profile {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch strings.TrimSpace(k) {
		case "type":
			typ = v
		case "access_key_id":
			id = v
		case "access_key_secret":
			secret = v
		}
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, fmt.Errorf("client: read %s: %w", path, err)
	}
	switch {
	case !found:
		return Credentials{}, fmt.Errorf("client: %s has no section [%s]", path, profile)
	case typ != "" && typ != "access_key":
		return Credentials{}, fmt.Errorf("client: section [%s] of %s is of type %q; only access_key is supported", profile, path, typ)
	case id == "" || secret == "":
		return Credentials{}, fmt.Errorf("client: section [%s] of %s has no access_key_id and access_key_secret", profile, path)
	}
	return Credentials{AccessKeyID: id, AccessKeySecret: secret, Source: fmt.Sprintf("%s [%s]", path, profile)}, nil
}

// ResolveEndpoint returns flag if set, else $PCAD_ENDPOINT, else
// DefaultEndpoint; getenv nil means os.Getenv.
func ResolveEndpoint(flag string, getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if flag != "" {
		return flag
	}
	if v := getenv(EnvEndpoint); v != "" {
		return v
	}
	return DefaultEndpoint
}
