package openapi

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
)

// testDenied is an AccessDeniedDetail as the service fills it.
var testDenied = &pca.AccessDenied{Action: "yundun-cert:ListCert", PrincipalType: "SubUser", PrincipalOwnerID: "1000000000000001",
	PrincipalDisplayName: "42", NoPermissionType: "ImplicitDeny", PolicyType: "AccountLevelIdentityBasedPolicy",
	EncodedDiagnosticMessage: "eyJBIjoxfQ=="}

// deniedActions answer permission errors with and without a detail.
func deniedActions() map[string]HandlerFunc {
	fail := func(err error) HandlerFunc {
		return func(context.Context, *Request) (any, error) { return nil, err }
	}
	return map[string]HandlerFunc{
		"Denied":       fail(&pca.Error{Kind: pca.KindPermission, Msg: "not authorized", Denied: testDenied}),
		"DeniedCode":   fail((&pca.Error{Kind: pca.KindPermission, Msg: "not authorized", Denied: testDenied}).WithCode("NoPermission")),
		"Forbidden":    fail(&pca.Error{Kind: pca.KindPermission, Msg: "not authorized"}),
		"NotFoundOnly": fail(&pca.Error{Kind: pca.KindNotFound, Msg: "no such thing", Denied: testDenied}),
	}
}

const deniedJSON = `"AccessDeniedDetail":{"AuthAction":"yundun-cert:ListCert","AuthPrincipalType":"SubUser",` +
	`"AuthPrincipalOwnerId":"1000000000000001","AuthPrincipalDisplayName":"42","NoPermissionType":"ImplicitDeny",` +
	`"PolicyType":"AccountLevelIdentityBasedPolicy","EncodedDiagnosticMessage":"eyJBIjoxfQ=="}`

// TestAccessDeniedDetail: a permission error that carries a detail answers
// it as AccessDeniedDetail (spec A.8), in JSON and in XML; other errors,
// and permission errors without one, have no such member.
func TestAccessDeniedDetail(t *testing.T) {
	tests := []struct {
		name   string
		action string
		status int
		want   string // exact JSON body
	}{
		{"detail", "Denied", 403, `{"RequestId":"REQ-1","HostId":"pcad","Code":"Forbidden.RAM","Message":"not authorized",` +
			`"Recommend":"See the pcad API documentation for error code Forbidden.RAM.",` + deniedJSON + `}`},
		{"detail-exact-code", "DeniedCode", 403, `{"RequestId":"REQ-1","HostId":"pcad","Code":"NoPermission","Message":"not authorized",` +
			`"Recommend":"See the pcad API documentation for error code NoPermission.",` + deniedJSON + `}`},
		{"no-detail", "Forbidden", 403, `{"RequestId":"REQ-1","HostId":"pcad","Code":"Forbidden.RAM","Message":"not authorized",` +
			`"Recommend":"See the pcad API documentation for error code Forbidden.RAM."}`},
		{"not-a-permission-error", "NotFoundOnly", 404, `{"RequestId":"REQ-1","HostId":"pcad","Code":"NotFound","Message":"no such thing",` +
			`"Recommend":"See the pcad API documentation for error code NotFound."}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTestServer(t, func(c *Config) { c.Actions = deniedActions() })
			w := ts.do(v3Request(t, reqSpec{action: tc.action}))
			if w.Code != tc.status || w.Body.String() != tc.want {
				t.Errorf("got %d %s\nwant %d %s", w.Code, w.Body, tc.status, tc.want)
			}
		})
	}
	t.Run("xml", func(t *testing.T) {
		ts := newTestServer(t, func(c *Config) { c.Actions = deniedActions() })
		w := ts.do(v1Request(t, reqSpec{action: "Denied", query: url.Values{"Format": {"XML"}}}))
		want := `<?xml version="1.0" encoding="UTF-8"?><Error><RequestId>REQ-1</RequestId><HostId>pcad</HostId>` +
			`<Code>Forbidden.RAM</Code><Message>not authorized</Message>` +
			`<Recommend>See the pcad API documentation for error code Forbidden.RAM.</Recommend>` +
			`<AccessDeniedDetail><AuthAction>yundun-cert:ListCert</AuthAction><AuthPrincipalType>SubUser</AuthPrincipalType>` +
			`<AuthPrincipalOwnerId>1000000000000001</AuthPrincipalOwnerId><AuthPrincipalDisplayName>42</AuthPrincipalDisplayName>` +
			`<NoPermissionType>ImplicitDeny</NoPermissionType><PolicyType>AccountLevelIdentityBasedPolicy</PolicyType>` +
			`<EncodedDiagnosticMessage>eyJBIjoxfQ==</EncodedDiagnosticMessage></AccessDeniedDetail></Error>`
		if w.Code != 403 || w.Body.String() != want || w.Header().Get("Content-Type") != contentTypeXML {
			t.Errorf("got %d %q %s\nwant 403 %s", w.Code, w.Header().Get("Content-Type"), w.Body, want)
		}
	})
	t.Run("xml-no-detail", func(t *testing.T) {
		ts := newTestServer(t, func(c *Config) { c.Actions = deniedActions() })
		w := ts.do(v1Request(t, reqSpec{action: "Forbidden", query: url.Values{"Format": {"XML"}}}))
		if got := w.Body.String(); w.Code != 403 || strings.Contains(got, "AccessDeniedDetail") {
			t.Errorf("got %d %s", w.Code, got)
		}
	})
}
