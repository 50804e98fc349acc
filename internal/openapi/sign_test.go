package openapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Vectors from spec part A.4 and A.5: produced by the official Go client
// (darabonba-openapi v2.1.14) with AccessKeyId testid, secret testsecret,
// date 2025-01-02T03:04:05Z and nonce 3b1c8f0e6d2a4e5f9a7b0c1d2e3f4a5b.
const (
	vecSecret    = "testsecret"
	vecDate      = "2025-01-02T03:04:05Z"
	vecNonce     = "3b1c8f0e6d2a4e5f9a7b0c1d2e3f4a5b"
	vecEmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	ex1Query  = "AfterDate=2024-05-13+12%3A59%3A45&CurrentPage=1&InstanceUuid=1ef79512-569b-6a4e-9105-9b91473562f7&ShowSize=50&Status=ISSUE"
	ex2Query  = "CommonName=a+b%2Ac~d%2F%C3%A9&Days=365&ParentIdentifier=273ae6bb538d538c70c01f81jh2%2A%2A%2A%2A&Tags.1.Key=env&Tags.1.Value=prod&Tags.2.Key=team&Tags.2.Value=pki"
	ex2Body   = "ClientToken=tok-123"
	ex2Hash   = "a316fcc51f1a45c71951cd9e8040fc0a35da56eda1c4d25a8343b416f3355a06"
	ex1CanonQ = "AfterDate=2024-05-13%2012%3A59%3A45&CurrentPage=1&InstanceUuid=1ef79512-569b-6a4e-9105-9b91473562f7&ShowSize=50&Status=ISSUE"
)

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatalf("ParseQuery(%q): %v", raw, err)
	}
	return q
}

// vecHeaders returns the x-acs-* headers the client sent for the vectors.
func vecHeaders(action, provider, bodyHash string, extra map[string]string) http.Header {
	h := http.Header{}
	h.Set("x-acs-action", action)
	h.Set("x-acs-version", "2020-06-30")
	h.Set("x-acs-date", vecDate)
	h.Set("x-acs-signature-nonce", vecNonce)
	h.Set("x-acs-content-sha256", bodyHash)
	h.Set("x-acs-credentials-provider", provider)
	for k, v := range extra {
		h.Set(k, v)
	}
	return h
}

func TestSignV3Vectors(t *testing.T) {
	ex1Signed := []string{"host", "x-acs-action", "x-acs-content-sha256", "x-acs-credentials-provider", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"}
	ex1Canonical := "POST\n/\n" + ex1CanonQ + "\n" +
		"host:cas.aliyuncs.com\n" +
		"x-acs-action:ListCert\n" +
		"x-acs-content-sha256:" + vecEmptyHash + "\n" +
		"x-acs-credentials-provider:static_ak\n" +
		"x-acs-date:2025-01-02T03:04:05Z\n" +
		"x-acs-signature-nonce:3b1c8f0e6d2a4e5f9a7b0c1d2e3f4a5b\n" +
		"x-acs-version:2020-06-30\n" +
		"\n" +
		"host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version\n" +
		vecEmptyHash

	tests := []struct {
		name          string
		method        string
		rawQuery      string
		body          string
		header        http.Header
		signed        []string
		wantCanonical string // "" = not given by the spec
		wantCanonQ    string // "" = not given by the spec
		wantCRHash    string // "" = not given by the spec
		wantSig       string
	}{
		{
			name:          "example1/ListCert-POST",
			method:        "POST",
			rawQuery:      ex1Query,
			header:        vecHeaders("ListCert", "static_ak", vecEmptyHash, nil),
			signed:        ex1Signed,
			wantCanonical: ex1Canonical,
			wantCanonQ:    ex1CanonQ,
			wantCRHash:    "8688ce27b0964a3c3169b2c3bcf9dfa963ea9204185c24a818e413d14110c21b",
			wantSig:       "edf2b2f60aec141ddeb7b5c54894e6c51c14e01476d7c99ddfca62a2ba9b085c",
		},
		{
			name:     "example1/ListCert-GET",
			method:   "GET",
			rawQuery: ex1Query,
			header:   vecHeaders("ListCert", "static_ak", vecEmptyHash, nil),
			signed:   ex1Signed,
			wantSig:  "d7bd7d177e17f00cc428fccf02c7a06b6ee4956ecd74d0aa7742cb5d7fb0064d",
		},
		{
			name:     "example1/ListCert-STS",
			method:   "POST",
			rawQuery: ex1Query,
			header: vecHeaders("ListCert", "static_sts", vecEmptyHash, map[string]string{
				"x-acs-accesskey-id": "testid", "x-acs-security-token": "testtoken"}),
			signed:  []string{"host", "x-acs-accesskey-id", "x-acs-action", "x-acs-content-sha256", "x-acs-credentials-provider", "x-acs-date", "x-acs-security-token", "x-acs-signature-nonce", "x-acs-version"},
			wantSig: "32138493300360d408b03eb612d8af4b669d04668205ec672ac985f8c888b557",
		},
		{
			name:     "example2/CreateClientCertificate-form-body",
			method:   "POST",
			rawQuery: ex2Query,
			body:     ex2Body,
			header: vecHeaders("CreateClientCertificate", "static_ak", ex2Hash, map[string]string{
				"content-type": "application/x-www-form-urlencoded"}),
			signed:     []string{"content-type", "host", "x-acs-action", "x-acs-content-sha256", "x-acs-credentials-provider", "x-acs-date", "x-acs-signature-nonce", "x-acs-version"},
			wantCanonQ: "CommonName=a%20b%2Ac~d%2F%C3%A9&Days=365&ParentIdentifier=273ae6bb538d538c70c01f81jh2%2A%2A%2A%2A&Tags.1.Key=env&Tags.1.Value=prod&Tags.2.Key=team&Tags.2.Value=pki",
			wantCRHash: "7fc9db852de1120ce2602086a6d3e40dddcbb65519ea895c56c54210f079013f",
			wantSig:    "6e388e76524b92b05bd66de7874bd0a2623fefa81401424562650a5137e42b94",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := mustQuery(t, tc.rawQuery)
			if got, want := HashPayloadV3([]byte(tc.body)), tc.header.Get("x-acs-content-sha256"); got != want {
				t.Errorf("HashPayloadV3 = %s, want %s", got, want)
			}
			if tc.wantCanonQ != "" {
				if got := CanonicalQueryV3(q); got != tc.wantCanonQ {
					t.Errorf("CanonicalQueryV3:\n got %s\nwant %s", got, tc.wantCanonQ)
				}
			}
			cr := CanonicalRequestV3(tc.method, "/", q, tc.header, "cas.aliyuncs.com", tc.signed, tc.header.Get("x-acs-content-sha256"))
			if tc.wantCanonical != "" && cr != tc.wantCanonical {
				t.Errorf("CanonicalRequestV3:\n got %q\nwant %q", cr, tc.wantCanonical)
			}
			sts := StringToSignV3(cr)
			if tc.wantCRHash != "" {
				if want := "ACS3-HMAC-SHA256\n" + tc.wantCRHash; sts != want {
					t.Errorf("StringToSignV3 = %q, want %q", sts, want)
				}
			}
			if got := SignV3(vecSecret, sts); got != tc.wantSig {
				t.Errorf("SignV3 = %s, want %s", got, tc.wantSig)
			}
		})
	}
}

func TestAuthorizationV3Example1(t *testing.T) {
	want := "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=edf2b2f60aec141ddeb7b5c54894e6c51c14e01476d7c99ddfca62a2ba9b085c"
	signed := strings.Split("host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version", ";")
	got := AuthorizationV3("testid", signed, "edf2b2f60aec141ddeb7b5c54894e6c51c14e01476d7c99ddfca62a2ba9b085c")
	if got != want {
		t.Errorf("AuthorizationV3 =\n %s\nwant\n %s", got, want)
	}
	id, hs, sig, err := parseAuthorizationV3(got)
	if err != nil || id != "testid" || strings.Join(hs, ";") != strings.Join(signed, ";") || sig[:8] != "edf2b2f6" {
		t.Errorf("parseAuthorizationV3 round trip = %q %v %q %v", id, hs, sig, err)
	}
}

func TestPercentEncode(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"unreserved-kept", "AZaz09-_.~", "AZaz09-_.~"},
		{"space-star-slash", "a b*c/", "a%20b%2Ac%2F"},
		{"utf8-upper-hex", "é", "%C3%A9"},
		{"csr", "-----BEGIN CERTIFICATE REQUEST-----\nMIIB+/x=\n", "-----BEGIN%20CERTIFICATE%20REQUEST-----%0AMIIB%2B%2Fx%3D%0A"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := PercentEncode(tc.in); got != tc.want {
				t.Errorf("PercentEncode(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// v1Common returns the common V1 parameters of the vectors.
func v1Common(action string) url.Values {
	return url.Values{
		"AccessKeyId":      {"testid"},
		"Action":           {action},
		"Format":           {"json"},
		"SignatureMethod":  {"HMAC-SHA1"},
		"SignatureNonce":   {vecNonce},
		"SignatureVersion": {"1.0"},
		"Timestamp":        {vecDate},
		"Version":          {"2020-06-30"},
	}
}

func withParams(t *testing.T, base url.Values, raws ...string) url.Values {
	t.Helper()
	for _, raw := range raws {
		for k, v := range mustQuery(t, raw) {
			base[k] = v
		}
	}
	return base
}

func TestSignV1Vectors(t *testing.T) {
	ex3Canon := "AccessKeyId=testid&Action=ListCert&AfterDate=2024-05-13%2012%3A59%3A45&CurrentPage=1&Format=json&InstanceUuid=1ef79512-569b-6a4e-9105-9b91473562f7&ShowSize=50&SignatureMethod=HMAC-SHA1&SignatureNonce=3b1c8f0e6d2a4e5f9a7b0c1d2e3f4a5b&SignatureVersion=1.0&Status=ISSUE&Timestamp=2025-01-02T03%3A04%3A05Z&Version=2020-06-30"
	ex3STS := "POST&%2F&AccessKeyId%3Dtestid%26Action%3DListCert%26AfterDate%3D2024-05-13%252012%253A59%253A45%26CurrentPage%3D1%26Format%3Djson%26InstanceUuid%3D1ef79512-569b-6a4e-9105-9b91473562f7%26ShowSize%3D50%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3b1c8f0e6d2a4e5f9a7b0c1d2e3f4a5b%26SignatureVersion%3D1.0%26Status%3DISSUE%26Timestamp%3D2025-01-02T03%253A04%253A05Z%26Version%3D2020-06-30"
	tests := []struct {
		name      string
		method    string
		params    url.Values
		wantCanon string
		wantSTS   string
		wantSig   string
	}{
		{
			name:      "example3/ListCert-POST",
			method:    "POST",
			params:    withParams(t, v1Common("ListCert"), ex1Query),
			wantCanon: ex3Canon,
			wantSTS:   ex3STS,
			wantSig:   "BGp7HcGPKwv3SzsQipG2VwrmXE0=",
		},
		{
			name:   "example3/Signature-param-ignored",
			method: "POST",
			params: withParams(t, v1Common("ListCert"), ex1Query,
				"Signature=BGp7HcGPKwv3SzsQipG2VwrmXE0%3D"),
			wantCanon: ex3Canon,
			wantSig:   "BGp7HcGPKwv3SzsQipG2VwrmXE0=",
		},
		{
			name:    "example3/ListCert-GET",
			method:  "GET",
			params:  withParams(t, v1Common("ListCert"), ex1Query),
			wantSTS: "GET" + strings.TrimPrefix(ex3STS, "POST"),
			wantSig: "ZL1O+2JkuUPBpwDjaStKh6dWGfU=",
		},
		{
			name:    "example2/CreateClientCertificate-body-signed",
			method:  "POST",
			params:  withParams(t, v1Common("CreateClientCertificate"), ex2Query, ex2Body),
			wantSig: "F4Cc9IcySt6y/l4tfyrumAFwf/E=",
		},
		{
			name:    "example3/STS-token",
			method:  "POST",
			params:  withParams(t, v1Common("ListCert"), ex1Query, "SecurityToken=testtoken"),
			wantSig: "ngsDOXOUNNCoyH4bn6Gz+c8QX2s=",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantCanon != "" {
				if got := CanonicalQueryV1(tc.params); got != tc.wantCanon {
					t.Errorf("CanonicalQueryV1:\n got %s\nwant %s", got, tc.wantCanon)
				}
			}
			sts := StringToSignV1(tc.method, tc.params)
			if tc.wantSTS != "" && sts != tc.wantSTS {
				t.Errorf("StringToSignV1:\n got %s\nwant %s", sts, tc.wantSTS)
			}
			if got := SignV1(vecSecret, sts); got != tc.wantSig {
				t.Errorf("SignV1 = %s, want %s", got, tc.wantSig)
			}
		})
	}
}

func TestHashPayloadV3(t *testing.T) {
	sum := sha256.Sum256([]byte("x"))
	if got, want := HashPayloadV3([]byte("x")), hex.EncodeToString(sum[:]); got != want {
		t.Errorf("HashPayloadV3(x) = %s, want %s", got, want)
	}
	if got := HashPayloadV3(nil); got != vecEmptyHash {
		t.Errorf("HashPayloadV3(nil) = %s, want %s", got, vecEmptyHash)
	}
}
