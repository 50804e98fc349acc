package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/casapi"
	"github.com/pcad-dev/pcad/internal/openapi"
)

// callCommand signs one API call with ACS3-HMAC-SHA256, as the official
// clients do, and prints the JSON answer.
func callCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.SetOutput(stderr)
	endpoint := fs.String("endpoint", "http://127.0.0.1:8080", "service endpoint (PCAD_ENDPOINT)")
	credFile := fs.String("credentials", "", "credentials file (default: $ALIBABA_CLOUD_CREDENTIALS_FILE, else ./pcad-data/credentials.ini)")
	profile := fs.String("profile", "default", "section of the credentials file")
	version := fs.String("version", casapi.Version, "API version")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !isSet(fs, "endpoint") {
		if v := os.Getenv("PCAD_ENDPOINT"); v != "" {
			*endpoint = v
		}
	}
	if fs.NArg() < 1 {
		return errors.New("call: name an Action, e.g. pcad call ListCert ShowSize=10")
	}
	action := fs.Arg(0)
	params := url.Values{}
	for _, kv := range fs.Args()[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return fmt.Errorf("call: argument %q is not Name=Value", kv)
		}
		params.Add(k, v)
	}
	id, secret, err := loadCredentials(*credFile, *profile)
	if err != nil {
		return err
	}
	base, err := url.Parse(*endpoint)
	if err != nil || base.Host == "" {
		return fmt.Errorf("call: endpoint %q is not a URL like http://127.0.0.1:8080", *endpoint)
	}
	req, err := signedRequest(ctx, base, action, *version, params, id, secret, time.Now())
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("call: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("call: read answer: %w", err)
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "", "  ") == nil {
		body = append(pretty.Bytes(), '\n')
	}
	stdout.Write(body)
	if resp.StatusCode >= 400 {
		return fmt.Errorf("call: %s answered %s", action, resp.Status)
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// signedRequest builds a POST with the parameters in the query string and an
// ACS3-HMAC-SHA256 Authorization header.
func signedRequest(ctx context.Context, base *url.URL, action, version string, params url.Values, id, secret string, now time.Time) (*http.Request, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	u := *base
	u.Path = "/"
	u.RawQuery = params.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("x-acs-action", action)
	h.Set("x-acs-version", version)
	h.Set("x-acs-date", now.UTC().Format("2006-01-02T15:04:05Z"))
	h.Set("x-acs-signature-nonce", hex.EncodeToString(nonce))
	h.Set("x-acs-content-sha256", openapi.HashPayloadV3(nil))
	h.Set("Accept", "application/json")
	signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	canon := openapi.CanonicalRequestV3(http.MethodPost, "/", params, h, u.Host, signed, openapi.HashPayloadV3(nil))
	sig := openapi.SignV3(secret, openapi.StringToSignV3(canon))
	h.Set("Authorization", openapi.AuthorizationV3(id, signed, sig))
	return req, nil
}

// loadCredentials finds an AccessKey the way Alibaba clients do: the
// ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET variables, else a credentials file.
func loadCredentials(file, profile string) (id, secret string, err error) {
	if id, secret = os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"), os.Getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET"); id != "" && secret != "" {
		return id, secret, nil
	}
	if file == "" {
		file = os.Getenv("ALIBABA_CLOUD_CREDENTIALS_FILE")
	}
	if file == "" {
		file = "./pcad-data/credentials.ini"
	}
	f, err := os.Open(file)
	if err != nil {
		return "", "", fmt.Errorf("call: no credentials: %w", err)
	}
	defer f.Close()
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.TrimSpace(line[1 : len(line)-1])
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || section != profile {
			continue
		}
		switch strings.TrimSpace(k) {
		case "access_key_id":
			id = strings.TrimSpace(v)
		case "access_key_secret":
			secret = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", fmt.Errorf("call: read %s: %w", file, err)
	}
	if id == "" || secret == "" {
		return "", "", fmt.Errorf("call: %s has no access_key_id and access_key_secret in section [%s]", file, profile)
	}
	return id, secret, nil
}
