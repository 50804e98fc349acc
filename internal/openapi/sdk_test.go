// This file drives the handler with the official Alibaba Cloud Go client,
// github.com/alibabacloud-go/darabonba-openapi/v2 v2.1.14 (generic CallApi),
// in V3 (default, ACS3-HMAC-SHA256) and V1 (SignatureAlgorithm "v2",
// HMAC-SHA1) modes, against an httptest server running NewHandler.

package openapi_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
)

const (
	sdkKeyID  = "LTAI-pcad-test"
	sdkSecret = "sdk-secret-123"
)

type sdkKeys struct{}

func (sdkKeys) LookupAccessKey(_ context.Context, id string) (openapi.Credential, error) {
	if id != sdkKeyID {
		return openapi.Credential{}, pca.NotFound("AccessKeyId", "AccessKey", id)
	}
	return openapi.Credential{AccessKeyID: id, Secret: sdkSecret, AccountID: 1, PrincipalID: 42, Active: true}, nil
}

// sdkLimiter denies the action "Limited" and allows everything else.
type sdkLimiter struct{}

func (sdkLimiter) Allow(_ context.Context, key string) (openapi.Decision, error) {
	if strings.HasSuffix(key, "/Limited") {
		return openapi.Decision{Allowed: false, Limit: 10, RetryAfter: 731 * time.Millisecond}, nil
	}
	return openapi.Decision{Allowed: true, Limit: 10, Remaining: 9}, nil
}

// echo returns the Name query parameter, the ClientToken body parameter and
// the caller's principal, in this member order.
func echo(_ context.Context, r *openapi.Request) (any, error) {
	name, _ := r.Params.Get("Name")
	token, _ := r.Params.Get("ClientToken")
	return struct {
		Name        string
		ClientToken string
		Principal   int64
	}{name, token, r.Caller.PrincipalID}, nil
}

type sdkServer struct {
	host string
}

func startSDKServer(t *testing.T) *sdkServer {
	t.Helper()
	h, err := openapi.NewHandler(openapi.Config{
		Version: "2020-06-30",
		Actions: map[string]openapi.HandlerFunc{
			"Echo":    echo,
			"Limited": echo,
			"Missing": func(context.Context, *openapi.Request) (any, error) {
				return nil, pca.NotFound("Identifier", "Certificate", "abc")
			},
			"Crash": func(context.Context, *openapi.Request) (any, error) {
				return nil, errors.New("disk on fire")
			},
		},
		Keys:    sdkKeys{},
		Limiter: sdkLimiter{},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &sdkServer{}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.host = strings.TrimPrefix(srv.URL, "http://")
	return s
}

func newSDKClient(t *testing.T, host, algorithm, secret string) *openapiclient.Client {
	t.Helper()
	cfg := &openapiclient.Config{
		AccessKeyId:     tea.String(sdkKeyID),
		AccessKeySecret: tea.String(secret),
		Endpoint:        tea.String(host),
		Protocol:        tea.String("HTTP"),
	}
	if algorithm != "" {
		cfg.SignatureAlgorithm = tea.String(algorithm)
	}
	c, err := openapiclient.NewClient(cfg)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func callParams(action string) *openapiclient.Params {
	return &openapiclient.Params{
		Action:      tea.String(action),
		Version:     tea.String("2020-06-30"),
		Protocol:    tea.String("HTTP"),
		Pathname:    tea.String("/"),
		Method:      tea.String("POST"),
		AuthType:    tea.String("AK"),
		Style:       tea.String("RPC"),
		ReqBodyType: tea.String("formData"),
		BodyType:    tea.String("json"),
	}
}

var signatureModes = []struct {
	name      string
	algorithm string // Config.SignatureAlgorithm
}{
	{"v3-default", ""},
	{"v1-hmac-sha1", "v2"},
}

func TestSDKSuccess(t *testing.T) {
	s := startSDKServer(t)
	for _, m := range signatureModes {
		t.Run(m.name, func(t *testing.T) {
			c := newSDKClient(t, s.host, m.algorithm, sdkSecret)
			req := &openapiclient.OpenApiRequest{
				Query: map[string]*string{"Name": tea.String("a b*c~d/é +x")},
				Body:  map[string]interface{}{"ClientToken": "tok-123"},
			}
			res, err := c.CallApi(callParams("Echo"), req, &dara.RuntimeOptions{})
			if err != nil {
				t.Fatalf("CallApi: %v", err)
			}
			body, _ := res["body"].(map[string]interface{})
			if sc := fmt.Sprint(res["statusCode"]); sc != "200" {
				t.Errorf("statusCode = %s, want 200", sc)
			}
			if body["Name"] != "a b*c~d/é +x" || body["ClientToken"] != "tok-123" {
				t.Errorf("body = %v; want Name echoed and ClientToken from the form body", body)
			}
			if id, _ := body["RequestId"].(string); len(id) != 36 {
				t.Errorf("RequestId = %q, want a UUID", id)
			}
			if p := fmt.Sprint(body["Principal"]); p != "42" {
				t.Errorf("Principal = %s, want 42", p)
			}
		})
	}
}

func TestSDKErrors(t *testing.T) {
	s := startSDKServer(t)
	tests := []struct {
		name       string
		action     string
		secret     string
		wantCode   string
		wantStatus int
	}{
		{"not-found", "Missing", sdkSecret, "NotFound.Certificate", 404},
		{"internal", "Crash", sdkSecret, "InternalError", 500},
		{"unknown-action", "Nope", sdkSecret, "InvalidAction.NotFound", 404},
		{"wrong-secret", "Echo", "not-the-secret", "", 400}, // code depends on the mode
	}
	for _, m := range signatureModes {
		for _, tc := range tests {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				c := newSDKClient(t, s.host, m.algorithm, tc.secret)
				_, err := c.CallApi(callParams(tc.action), &openapiclient.OpenApiRequest{}, &dara.RuntimeOptions{})
				var sdkErr *tea.SDKError
				if !errors.As(err, &sdkErr) {
					t.Fatalf("error = %T %v, want *tea.SDKError", err, err)
				}
				want := tc.wantCode
				if want == "" {
					want = map[string]string{"": "IncompleteSignature", "v2": "SignatureDoesNotMatch"}[m.algorithm]
				}
				if got := tea.StringValue(sdkErr.Code); got != want {
					t.Errorf("Code = %q, want %q (message %q)", got, want, tea.StringValue(sdkErr.Message))
				}
				if got := tea.IntValue(sdkErr.StatusCode); got != tc.wantStatus {
					t.Errorf("StatusCode = %d, want %d", got, tc.wantStatus)
				}
				if strings.Contains(tea.StringValue(sdkErr.Message), "disk on fire") {
					t.Errorf("internal detail leaked: %s", tea.StringValue(sdkErr.Message))
				}
			})
		}
	}
}

func TestSDKThrottling(t *testing.T) {
	s := startSDKServer(t)
	for _, m := range signatureModes {
		t.Run(m.name+"/sdk-error", func(t *testing.T) {
			c := newSDKClient(t, s.host, m.algorithm, sdkSecret)
			_, err := c.CallApi(callParams("Limited"), &openapiclient.OpenApiRequest{}, &dara.RuntimeOptions{})
			var sdkErr *tea.SDKError
			if !errors.As(err, &sdkErr) || tea.StringValue(sdkErr.Code) != "Throttling.User" || tea.IntValue(sdkErr.StatusCode) != 400 {
				t.Fatalf("error = %v, want SDKError Throttling.User 400", err)
			}
		})
		t.Run(m.name+"/throttling-error-retry-after", func(t *testing.T) {
			c := newSDKClient(t, s.host, m.algorithm, sdkSecret)
			c.DisableSDKError = tea.Bool(true) // keep the client's typed error
			_, err := c.CallApi(callParams("Limited"), &openapiclient.OpenApiRequest{}, &dara.RuntimeOptions{})
			var te *openapiclient.ThrottlingError
			if !errors.As(err, &te) {
				t.Fatalf("error = %T %v, want *client.ThrottlingError", err, err)
			}
			if got := tea.Int64Value(te.RetryAfter); got != 731 {
				t.Errorf("RetryAfter = %d, want 731 (TimeLeft in ms)", got)
			}
			if tea.StringValue(te.Code) != "Throttling.User" {
				t.Errorf("Code = %q", tea.StringValue(te.Code))
			}
		})
	}
}
