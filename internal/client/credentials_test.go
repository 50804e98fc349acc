package client

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestClientResolveCredentials(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the default file is relative: ./pcad-data/credentials.ini
	writeFile(t, filepath.Join(dir, "pcad-data", "credentials.ini"),
		"[default]\ntype = access_key\naccess_key_id = serve-id\naccess_key_secret = serve-secret\n")
	other := filepath.Join(dir, "other.ini")
	writeFile(t, other, "# a comment\n[default]\ntype = access_key\naccess_key_id = file-id\naccess_key_secret = file-secret\n"+
		"; another\n[team-b]\naccess_key_id = \"b-id\"\naccess_key_secret = b-secret\n[sts]\ntype = sts\naccess_key_id = x\naccess_key_secret = y\n")

	tests := []struct {
		name    string
		opts    CredentialOptions
		env     map[string]string
		wantID  string
		wantSrc string
		wantErr string
	}{
		{name: "default file written by serve", wantID: "serve-id", wantSrc: "pcad-data/credentials.ini [default]"},
		{name: "flags beat everything", opts: CredentialOptions{AccessKeyID: "flag-id", AccessKeySecret: "flag-secret"},
			env: map[string]string{EnvAccessKeyID: "env-id", EnvAccessKeySecret: "env-secret"}, wantID: "flag-id", wantSrc: "flags"},
		{name: "flag id without secret", opts: CredentialOptions{AccessKeyID: "flag-id"}, wantErr: "both"},
		{name: "environment beats files", env: map[string]string{EnvAccessKeyID: "env-id", EnvAccessKeySecret: "env-secret", EnvCredentialsFile: other},
			wantID: "env-id", wantSrc: "environment"},
		{name: "half the environment", env: map[string]string{EnvAccessKeyID: "env-id"}, wantErr: EnvAccessKeySecret},
		{name: "credentials file from env", env: map[string]string{EnvCredentialsFile: other}, wantID: "file-id"},
		{name: "profile from env", env: map[string]string{EnvCredentialsFile: other, EnvProfile: "team-b"}, wantID: "b-id"},
		{name: "explicit profile beats env keys", opts: CredentialOptions{Profile: "team-b"},
			env: map[string]string{EnvAccessKeyID: "env-id", EnvAccessKeySecret: "env-secret", EnvCredentialsFile: other}, wantID: "b-id"},
		{name: "explicit file", opts: CredentialOptions{File: other}, wantID: "file-id", wantSrc: other + " [default]"},
		{name: "missing profile", opts: CredentialOptions{File: other, Profile: "nope"}, wantErr: "no section [nope]"},
		{name: "unsupported type", opts: CredentialOptions{File: other, Profile: "sts"}, wantErr: `type "sts"`},
		{name: "missing file", opts: CredentialOptions{File: filepath.Join(dir, "none.ini")}, wantErr: "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Getenv = func(k string) string { return tc.env[k] }
			c, err := ResolveCredentials(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.AccessKeyID != tc.wantID || c.AccessKeySecret == "" {
				t.Errorf("got %s, want id %s", c, tc.wantID)
			}
			if tc.wantSrc != "" && c.Source != tc.wantSrc {
				t.Errorf("source %q, want %q", c.Source, tc.wantSrc)
			}
			if strings.Contains(c.String(), c.AccessKeySecret) {
				t.Errorf("String() %q shows the secret", c)
			}
		})
	}
}

func TestClientNoCredentialsHint(t *testing.T) {
	t.Chdir(t.TempDir())
	_, err := ResolveCredentials(CredentialOptions{Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), EnvAccessKeyID) || !strings.Contains(err.Error(), "pcad serve") {
		t.Fatalf("err %v, want a hint naming the variables and pcad serve", err)
	}
}

func TestClientResolveEndpoint(t *testing.T) {
	tests := []struct {
		flag, env, want string
	}{
		{"http://a:1", "http://b:2", "http://a:1"},
		{"", "http://b:2", "http://b:2"},
		{"", "", DefaultEndpoint},
	}
	for _, tc := range tests {
		got := ResolveEndpoint(tc.flag, func(k string) string {
			if k == EnvEndpoint {
				return tc.env
			}
			return ""
		})
		if got != tc.want {
			t.Errorf("ResolveEndpoint(%q) with env %q = %q, want %q", tc.flag, tc.env, got, tc.want)
		}
	}
}
