package main

// Helpers shared by the end-to-end suites (e2e_test.go, listcert_test.go,
// badinput_test.go): calling actions through the official client's generic
// CallApi, reading the JSON answers with strict types, building a CA
// hierarchy, and snapshotting the state that bad input must not change.

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	openapiclient "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	"github.com/alibabacloud-go/tea/dara"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/pcad-dev/pcad/internal/service"
)

// modes are the two signature styles every action is exercised with.
var modes = []string{"v3", "v1"}

const apiVersion = "2020-06-30"

// drop, as a value in an override map, removes the parameter.
const drop = "\x00drop"

// bodyTokenActions send ClientToken in a form body, as the real SDK does.
var bodyTokenActions = map[string]bool{
	"CreateClientCertificate": true,
	"CreateSubCACertificate":  true,
}

// rpcParams are the Params the generated cas SDK passes to CallApi.
func rpcParams(action string) *openapiclient.Params {
	return &openapiclient.Params{
		Action:      tea.String(action),
		Version:     tea.String(apiVersion),
		Protocol:    tea.String("HTTP"),
		Pathname:    tea.String("/"),
		Method:      tea.String("POST"),
		AuthType:    tea.String("AK"),
		Style:       tea.String("RPC"),
		ReqBodyType: tea.String("formData"),
		BodyType:    tea.String("json"),
	}
}

// result is one successful answer as the client hands it over.
type result struct {
	Body    map[string]any
	Headers map[string]string
	Status  int
}

// callFull calls action with query parameters in the URL query string and
// form parameters in the body (both may be nil).
func callFull(t *testing.T, c *openapiclient.Client, action string, query, form map[string]string) (result, error) {
	t.Helper()
	req := &openapiclient.OpenApiRequest{Query: map[string]*string{}}
	for k, v := range query {
		req.Query[k] = tea.String(v)
	}
	if len(form) > 0 {
		body := map[string]any{}
		for k, v := range form {
			body[k] = v
		}
		req.Body = body
	}
	raw, err := c.CallApi(rpcParams(action), req, &dara.RuntimeOptions{})
	if err != nil {
		return result{}, err
	}
	res := result{Headers: map[string]string{}}
	b, ok := raw["body"].(map[string]any)
	if !ok {
		t.Fatalf("%s: answer body is %T, not a JSON object: %#v", action, raw["body"], raw["body"])
	}
	res.Body = b
	if h, ok := raw["headers"].(map[string]any); ok {
		for k, v := range h {
			res.Headers[strings.ToLower(k)] = fmt.Sprint(v)
		}
	}
	switch s := raw["statusCode"].(type) {
	case json.Number:
		n, _ := s.Int64()
		res.Status = int(n)
	case int:
		res.Status = s
	case float64:
		res.Status = int(s)
	}
	return res, nil
}

// call calls action with all parameters in the query string, except
// ClientToken of the actions whose SDK model sends it in the body.
func call(t *testing.T, c *openapiclient.Client, action string, query map[string]string) (map[string]any, error) {
	t.Helper()
	q := maps.Clone(query)
	var form map[string]string
	if tok, ok := q["ClientToken"]; ok && bodyTokenActions[action] {
		delete(q, "ClientToken")
		form = map[string]string{"ClientToken": tok}
	}
	res, err := callFull(t, c, action, q, form)
	if err != nil {
		return nil, err
	}
	if res.Status != 200 {
		t.Fatalf("%s: success with HTTP status %d", action, res.Status)
	}
	if _, ok := res.Body["Code"]; ok {
		t.Fatalf("%s: a 200 answer carries an error Code: %v", action, res.Body)
	}
	requestID(t, res.Body)
	return res.Body, nil
}

// mustCall is call that fails the test on error.
func mustCall(t *testing.T, c *openapiclient.Client, action string, query map[string]string) map[string]any {
	t.Helper()
	b, err := call(t, c, action, query)
	if err != nil {
		t.Fatalf("%s %v: %v", action, query, describeErr(err))
	}
	return b
}

var requestIDRe = regexp.MustCompile(`^[0-9A-Za-z-]{8,}$`)

func requestID(t *testing.T, body map[string]any) {
	t.Helper()
	id, ok := body["RequestId"].(string)
	if !ok || !requestIDRe.MatchString(id) {
		t.Errorf("RequestId = %#v, want a non-empty string", body["RequestId"])
	}
}

// with returns base overridden by the pairs of over; a value of drop removes
// the key.
func with(base map[string]string, over map[string]string) map[string]string {
	out := maps.Clone(base)
	if out == nil {
		out = map[string]string{}
	}
	for k, v := range over {
		if v == drop {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// ---- errors ---------------------------------------------------------------

// apiError is an error answer as the official client reports it.
type apiError struct {
	Code    string
	Status  int
	Message string
	Data    map[string]any // the error envelope, when the client kept it
}

// asAPIError unwraps the client's *tea.SDKError (the default) or one of its
// own error types (with DisableSDKError).
func asAPIError(err error) (apiError, bool) {
	var se *tea.SDKError
	if errors.As(err, &se) {
		e := apiError{Code: tea.StringValue(se.Code), Status: tea.IntValue(se.StatusCode), Message: tea.StringValue(se.Message)}
		if se.Data != nil {
			_ = json.Unmarshal([]byte(*se.Data), &e.Data)
		}
		return e, true
	}
	var ce *openapiclient.ClientError
	if errors.As(err, &ce) {
		return apiError{Code: tea.StringValue(ce.Code), Status: tea.IntValue(ce.StatusCode), Message: tea.StringValue(ce.Message)}, true
	}
	var te *openapiclient.ThrottlingError
	if errors.As(err, &te) {
		return apiError{Code: tea.StringValue(te.Code), Status: tea.IntValue(te.StatusCode), Message: tea.StringValue(te.Message)}, true
	}
	var sv *openapiclient.ServerError
	if errors.As(err, &sv) {
		return apiError{Code: tea.StringValue(sv.Code), Status: tea.IntValue(sv.StatusCode), Message: tea.StringValue(sv.Message)}, true
	}
	return apiError{}, false
}

func describeErr(err error) string {
	if e, ok := asAPIError(err); ok {
		return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
	}
	return fmt.Sprintf("%T: %v", err, err)
}

// wantErr checks that err is an API error with the given code and status
// (status 0: any 4xx) whose message mentions every string in mention.
func wantErr(t *testing.T, err error, status int, code string, mention ...string) apiError {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s (HTTP %d)", code, status)
	}
	e, ok := asAPIError(err)
	if !ok {
		t.Fatalf("got %T %v, want an SDK error %s", err, err, code)
	}
	if status == 0 {
		if e.Status < 400 || e.Status > 499 {
			t.Errorf("HTTP status %d, want 4xx (code %s, message %q)", e.Status, e.Code, e.Message)
		}
	} else if e.Status != status {
		t.Errorf("HTTP status %d, want %d (code %s, message %q)", e.Status, status, e.Code, e.Message)
	}
	if e.Code != code {
		t.Errorf("Code %q, want %q (message %q)", e.Code, code, e.Message)
	}
	for _, m := range mention {
		if !strings.Contains(e.Message, m) {
			t.Errorf("message %q does not mention %q", e.Message, m)
		}
	}
	// The JSON envelope of spec/listcert.md "Errors" and A.8.
	if e.Data != nil {
		for _, k := range []string{"RequestId", "HostId", "Code", "Message", "Recommend"} {
			if _, ok := e.Data[k].(string); !ok {
				t.Errorf("error envelope field %s = %#v, want a string (envelope %v)", k, e.Data[k], e.Data)
			}
		}
		if e.Data["Code"] != e.Code {
			t.Errorf("envelope Code %v, client Code %q", e.Data["Code"], e.Code)
		}
	}
	return e
}

// ---- strict JSON types ------------------------------------------------------

func field(t *testing.T, m map[string]any, key string) any {
	t.Helper()
	v, ok := m[key]
	if !ok {
		t.Fatalf("field %s is missing from %v", key, keysOf(m))
	}
	return v
}

func keysOf(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// jStr returns a field that must be a JSON string.
func jStr(t *testing.T, m map[string]any, key string) string {
	t.Helper()
	v := field(t, m, key)
	s, ok := v.(string)
	if !ok {
		t.Fatalf("field %s = %#v (%T), want a JSON string", key, v, v)
	}
	return s
}

// jInt returns a field that must be a JSON integer number.
func jInt(t *testing.T, m map[string]any, key string) int64 {
	t.Helper()
	v := field(t, m, key)
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("field %s = %#v (%T), want a JSON number", key, v, v)
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		t.Fatalf("field %s = %s, want an integer", key, n)
	}
	return i
}

// jBool returns a field that must be a JSON boolean.
func jBool(t *testing.T, m map[string]any, key string) bool {
	t.Helper()
	v := field(t, m, key)
	b, ok := v.(bool)
	if !ok {
		t.Fatalf("field %s = %#v (%T), want a JSON boolean", key, v, v)
	}
	return b
}

// jObj returns a field that must be a JSON object.
func jObj(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	v := field(t, m, key)
	o, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("field %s = %#v (%T), want a JSON object", key, v, v)
	}
	return o
}

// jArr returns a field that must be a JSON array.
func jArr(t *testing.T, m map[string]any, key string) []any {
	t.Helper()
	v := field(t, m, key)
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("field %s = %#v (%T), want a JSON array", key, v, v)
	}
	return a
}

// jObjects returns a field that must be an array of JSON objects.
func jObjects(t *testing.T, m map[string]any, key string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for i, v := range jArr(t, m, key) {
		o, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s[%d] = %#v (%T), want a JSON object", key, i, v, v)
		}
		out = append(out, o)
	}
	return out
}

// ---- certificates -----------------------------------------------------------

// parsePEMs parses every CERTIFICATE block of s, in order.
func parsePEMs(t *testing.T, s string) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			t.Fatalf("PEM block of type %q, want CERTIFICATE", b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatalf("parse certificate: %v", err)
		}
		out = append(out, c)
	}
	if strings.TrimSpace(string(rest)) != "" {
		t.Fatalf("trailing garbage after the PEM blocks: %q", rest)
	}
	if len(out) == 0 {
		t.Fatalf("no certificate in %q", s)
	}
	return out
}

func parsePEM(t *testing.T, s string) *x509.Certificate {
	t.Helper()
	cs := parsePEMs(t, s)
	if len(cs) != 1 {
		t.Fatalf("%d certificates, want 1", len(cs))
	}
	return cs[0]
}

// ---- fixtures -------------------------------------------------------------

// ca is a CA created through the API.
type ca struct {
	ID    string
	PEM   string
	Cert  *x509.Certificate
	Chain string
}

func rootParams(alg string) map[string]string {
	return map[string]string{
		"CommonName": "pcad Test Root " + alg, "Organization": "pcad", "OrganizationUnit": "QA",
		"Locality": "Hangzhou", "State": "Zhejiang", "CountryCode": "CN", "Years": "10", "Algorithm": alg,
	}
}

func subParams(rootID, alg string) map[string]string {
	return map[string]string{
		"ParentIdentifier": rootID, "CommonName": "pcad Test Sub " + alg, "Organization": "pcad",
		"OrganizationUnit": "QA", "Locality": "Hangzhou", "State": "Zhejiang", "CountryCode": "CN",
		"Years": "5", "Algorithm": alg,
	}
}

func serverParams(subID string) map[string]string {
	return map[string]string{
		"ParentIdentifier": subID, "Algorithm": "ECC_256", "CommonName": "www.example.com", "Days": "30", "Immediately": "1",
	}
}

func clientParams(subID string) map[string]string {
	return map[string]string{
		"ParentIdentifier": subID, "Algorithm": "ECC_256", "CommonName": "alice", "Days": "30", "Immediately": "1",
	}
}

func toCA(t *testing.T, b map[string]any) ca {
	t.Helper()
	out := ca{ID: jStr(t, b, "Identifier"), PEM: jStr(t, b, "Certificate"), Chain: jStr(t, b, "CertificateChain")}
	out.Cert = parsePEM(t, out.PEM)
	return out
}

func createRoot(t *testing.T, c *openapiclient.Client, alg string, over map[string]string) ca {
	t.Helper()
	return toCA(t, mustCall(t, c, "CreateRootCACertificate", with(rootParams(alg), over)))
}

func createSub(t *testing.T, c *openapiclient.Client, rootID, alg string, over map[string]string) ca {
	t.Helper()
	return toCA(t, mustCall(t, c, "CreateSubCACertificate", with(subParams(rootID, alg), over)))
}

// hierarchy creates an ECC_256 root and sub-CA.
func hierarchy(t *testing.T, c *openapiclient.Client) (root, sub ca) {
	t.Helper()
	root = createRoot(t, c, "ECC_256", nil)
	sub = createSub(t, c, root.ID, "ECC_256", nil)
	return root, sub
}

// issueServer issues a server certificate and returns its Identifier.
func issueServer(t *testing.T, c *openapiclient.Client, subID string, over map[string]string) string {
	t.Helper()
	return jStr(t, mustCall(t, c, "CreateServerCertificate", with(serverParams(subID), over)), "Identifier")
}

// issueClient issues a client certificate and returns its Identifier.
func issueClient(t *testing.T, c *openapiclient.Client, subID string, over map[string]string) string {
	t.Helper()
	return jStr(t, mustCall(t, c, "CreateClientCertificate", with(clientParams(subID), over)), "Identifier")
}

func revoke(t *testing.T, c *openapiclient.Client, id string) {
	t.Helper()
	mustCall(t, c, "CreateRevokeClientCertificate", map[string]string{"Identifier": id})
}

// list calls ListCert with q, asserting success.
func list(t *testing.T, c *openapiclient.Client, q map[string]string) map[string]any {
	t.Helper()
	return mustCall(t, c, "ListCert", q)
}

// listIDs returns the Identifiers of a ListCert answer, in order.
func listIDs(t *testing.T, b map[string]any) []string {
	t.Helper()
	var out []string
	for _, it := range jObjects(t, b, "List") {
		out = append(out, jStr(t, it, "Identifier"))
	}
	return out
}

func total(t *testing.T, c *openapiclient.Client, q map[string]string) int64 {
	t.Helper()
	return jInt(t, list(t, c, q), "TotalCount")
}

// reversed returns a reversed copy (issue order -> newest first).
func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ---- state snapshots ------------------------------------------------------

// state is what must not move when a request is refused: what the API
// shows (ListCert totals per status, each sub-CA's CertIssuedCount and
// every watched certificate's status) and what the store holds (rows of CAs,
// certificates and keys).
type state struct {
	Total, Issue, Revoke int64
	Issued               map[string]int64
	CertStatus           map[string]string
	Rows                 map[string]int64
}

func (s state) String() string {
	b, _ := json.Marshal(s)
	return string(b)
}

func snapshot(t *testing.T, ts *testServer, c *openapiclient.Client, subIDs, certIDs []string) state {
	t.Helper()
	s := state{
		Total:      total(t, c, nil),
		Issue:      total(t, c, map[string]string{"Status": "ISSUE"}),
		Revoke:     total(t, c, map[string]string{"Status": "REVOKE"}),
		Issued:     map[string]int64{},
		CertStatus: map[string]string{},
		Rows:       map[string]int64{},
	}
	for _, id := range subIDs {
		b := mustCall(t, c, "DescribeCACertificate", map[string]string{"Identifier": id})
		s.Issued[id] = jInt(t, jObj(t, b, "Certificate"), "CertIssuedCount")
	}
	for _, id := range certIDs {
		b := mustCall(t, c, "DescribeClientCertificate", map[string]string{"Identifier": id})
		s.CertStatus[id] = jStr(t, jObj(t, b, "Certificate"), "Status")
	}
	for _, table := range []string{"cas", "certificates", "private_keys", "instances"} {
		var n int64
		if err := ts.app.store.DB().QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		s.Rows[table] = n
	}
	return s
}

func sameState(a, b state) bool { return a.String() == b.String() }

// ---- servers --------------------------------------------------------------

// clientFor returns an official client with explicit credentials.
func clientFor(t *testing.T, ts *testServer, mode, id, secret string) *openapiclient.Client {
	t.Helper()
	cfg := &openapiclient.Config{
		AccessKeyId:     tea.String(id),
		AccessKeySecret: tea.String(secret),
		Endpoint:        tea.String(ts.endpoint),
		Protocol:        tea.String("HTTP"),
	}
	if mode == "v1" {
		cfg.SignatureAlgorithm = tea.String("v2")
	}
	c, err := openapiclient.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var accountSeq atomic.Int64

// otherAccount creates another account on ts and returns a client for it.
func otherAccount(t *testing.T, ts *testServer, mode string) *openapiclient.Client {
	t.Helper()
	_, key, err := ts.app.svc.CreateAccount(context.Background(), fmt.Sprintf("other-%d", accountSeq.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return clientFor(t, ts, mode, key.ID, key.Secret)
}

// actorOf returns the service Actor behind ts's default AccessKey.
func actorOf(t *testing.T, ts *testServer) service.Actor {
	t.Helper()
	k, err := ts.app.svc.LookupAccessKey(context.Background(), ts.keyID)
	if err != nil {
		t.Fatal(err)
	}
	return service.Actor{AccountID: k.AccountID, PrincipalID: k.PrincipalID}
}

// instanceOf returns the default end-entity instance UUID of a sub-CA. The
// API actions served so far do not expose it, so it is read from the service.
func instanceOf(t *testing.T, ts *testServer, subID string) string {
	t.Helper()
	c, err := ts.app.svc.GetCA(context.Background(), actorOf(t, ts), "Identifier", subID)
	if err != nil {
		t.Fatal(err)
	}
	if c.InstanceUUID == "" {
		t.Fatalf("sub-CA %s has no instance", subID)
	}
	return c.InstanceUUID
}

// fakeClock is a settable service clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Set(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = t
}

// startServerClock is startServer with the service's clock under the test's
// control (the protocol layer keeps the real clock, so signatures stay
// fresh). Throttling is off.
func startServerClock(t *testing.T, clock *fakeClock) *testServer {
	t.Helper()
	return startServerConfig(t, config{now: clock.Now})
}
