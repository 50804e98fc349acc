// Package client is a small client of the pcad API (the cas 2020-06-30 RPC
// API and anything else served on the same endpoint): it signs each call
// with an AccessKey (ACS3-HMAC-SHA256 by default, HMAC-SHA1 on request),
// sends it with one http.Client, decodes the JSON answer and turns error
// answers into *Error values carrying the HTTP status, Code, Message and
// RequestId. It also resolves credentials and the endpoint the way the
// Alibaba Cloud tools do (see ResolveCredentials and ResolveEndpoint).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// APIVersion is the cas API version calls use unless Config.Version says
// otherwise.
const APIVersion = "2020-06-30"

// DefaultEndpoint is the endpoint of a local `pcad serve` with its defaults.
const DefaultEndpoint = "http://127.0.0.1:8080"

// maxAnswer caps the size of an answer read into memory.
const maxAnswer = 64 << 20

// Config configures New. Endpoint and Credentials are required.
type Config struct {
	Endpoint    string      // base URL, e.g. http://127.0.0.1:8080 (a bare host:port means http)
	Credentials Credentials // the AccessKey that signs every call
	Signature   Signature   // V3 (default) or V1
	Version     string      // API version; "" means APIVersion
	// HTTPClient sends the calls; nil means a client with a 60 s timeout.
	HTTPClient *http.Client
	// ThrottleRetries is how many times a call answered Throttling* is sent
	// again, after the wait the server's x-ratelimit-user-api header names
	// (TimeLeft, in ms) or a short back-off, plus a random share of it. A
	// throttled call was not carried out, so sending it again is safe.
	// Negative means none; 0 means 20.
	ThrottleRetries int
	// UserAgent is sent as User-Agent; "" means "pcad-cli".
	UserAgent string

	now   func() time.Time // nil: time.Now
	nonce func() string    // nil: NewNonce
	sleep func(ctx context.Context, d time.Duration) error
}

// Client calls one endpoint with one AccessKey. It is safe for concurrent
// use.
type Client struct {
	cfg  Config
	base *url.URL
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	base, err := ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.Credentials.AccessKeyID == "" || cfg.Credentials.AccessKeySecret == "" {
		return nil, errors.New("client: an AccessKey id and secret are required")
	}
	if cfg.Version == "" {
		cfg.Version = APIVersion
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 60 * time.Second}
	}
	switch {
	case cfg.ThrottleRetries == 0:
		cfg.ThrottleRetries = 20
	case cfg.ThrottleRetries < 0:
		cfg.ThrottleRetries = 0
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "pcad-cli"
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.nonce == nil {
		cfg.nonce = NewNonce
	}
	if cfg.sleep == nil {
		cfg.sleep = sleepCtx
	}
	return &Client{cfg: cfg, base: base}, nil
}

// Endpoint returns the base URL calls go to.
func (c *Client) Endpoint() *url.URL {
	u := *c.base
	return &u
}

// HTTPClient returns the http.Client the calls use, for fetching the public
// PKI URLs (CRLs, CA certificates) the answers name.
func (c *Client) HTTPClient() *http.Client { return c.cfg.HTTPClient }

// ParseEndpoint parses an endpoint: a URL with scheme http or https, or a
// bare host[:port], which means http. The path is ignored: the RPC endpoint
// is always "/".
func ParseEndpoint(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("client: the endpoint is empty")
	}
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("client: endpoint %q is not a URL like %s", s, DefaultEndpoint)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}, nil
}

// NewRequest returns the signed POST of one call: the parameters in the
// query string, no body, as the official clients send them. Each call gets
// a fresh nonce and timestamp, so a request must not be sent twice.
func (c *Client) NewRequest(ctx context.Context, action string, params url.Values) (*http.Request, error) {
	return NewSignedRequest(ctx, c.base, action, c.cfg.Version, params, c.cfg.Credentials, c.cfg.Signature, c.cfg.nonce(), c.cfg.now())
}

// NewSignedRequest returns a POST to base (its path replaced by "/") calling
// action of version with params in the query string, signed with cred by
// sig, with the given signature nonce and time.
func NewSignedRequest(ctx context.Context, base *url.URL, action, version string, params url.Values, cred Credentials, sig Signature, nonce string, now time.Time) (*http.Request, error) {
	if action == "" {
		return nil, errors.New("client: no action")
	}
	u := *base
	u.Path = "/"
	u.RawPath = ""
	u.Fragment = ""
	switch sig {
	case V1:
		u.RawQuery = paramsV1(http.MethodPost, params, action, version, cred.AccessKeyID, cred.AccessKeySecret, nonce, now).Encode()
	default:
		u.RawQuery = params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if sig != V1 {
		signV3(req, action, version, nil, cred.AccessKeyID, cred.AccessKeySecret, nonce, now)
	}
	return req, nil
}

// Response is a successful answer.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte // the JSON object, as received
}

// Call sends action with params and returns the answer. An answer with a
// status of 400 or more is returned as an *Error (and no Response); so is
// one that is not JSON. Throttled calls are retried (Config.ThrottleRetries).
func (c *Client) Call(ctx context.Context, action string, params url.Values) (*Response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.once(ctx, action, params)
		var e *Error
		if err == nil || !errors.As(err, &e) || !e.Throttled() || attempt >= c.cfg.ThrottleRetries {
			return resp, err
		}
		// The wait the server named, plus a random share of it (and of a
		// growing floor), so that callers woken together do not collide
		// again at once.
		wait := e.RetryAfter
		floor := time.Duration(50*(attempt+1)) * time.Millisecond
		if wait <= 0 {
			wait = 4 * floor
		}
		wait += time.Duration(mrand.Int64N(int64(wait + floor)))
		if err := c.cfg.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("client: %s: %w", action, err)
		}
	}
}

func (c *Client) once(ctx context.Context, action string, params url.Values) (*Response, error) {
	req, err := c.NewRequest(ctx, action, params)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		// The URL's query holds the parameters (an export password, a
		// signature): name only the endpoint.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("client: %s: %s %s: %w", action, ue.Op, c.base.Redacted(), ue.Err)
		}
		return nil, fmt.Errorf("client: %s: %w", action, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("client: %s: read answer: %w", action, err)
	}
	if resp.StatusCode >= 400 {
		return nil, newError(action, resp, body)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		return nil, &Error{Action: action, StatusCode: resp.StatusCode, Code: "InvalidResponse",
			Message: fmt.Sprintf("the answer is not JSON (Content-Type %q)", resp.Header.Get("Content-Type")), Body: body}
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// Do calls action and decodes the JSON answer into out (if out is not nil).
// Numbers decode as json.Number when out holds interface values.
func (c *Client) Do(ctx context.Context, action string, params url.Values, out any) error {
	resp, err := c.Call(ctx, action, params)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(resp.Body))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("client: %s: decode answer: %w", action, err)
	}
	return nil
}

// Error is an error answer of the API (HTTP status 400 or more), or an
// answer that could not be read as one.
type Error struct {
	Action     string
	StatusCode int
	Code       string
	Message    string
	RequestID  string
	HostID     string
	Recommend  string
	// AccessDeniedDetail is the raw object of a permission error, if any.
	AccessDeniedDetail json.RawMessage
	// RetryAfter is the wait the server asked for (x-ratelimit-user-api
	// TimeLeft), if any.
	RetryAfter time.Duration
	Body       []byte // the answer as received
}

// Error returns "Code: Message (HTTP status, RequestId id)".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	fmt.Fprintf(&b, " (HTTP %d", e.StatusCode)
	if e.RequestID != "" {
		b.WriteString(", RequestId ")
		b.WriteString(e.RequestID)
	}
	b.WriteString(")")
	return b.String()
}

// Throttled reports whether the call was refused for its rate and may be
// sent again later.
func (e *Error) Throttled() bool {
	return e.Code == "Throttling" || strings.HasPrefix(e.Code, "Throttling.")
}

// newError reads an error answer: the JSON envelope of spec A.8 (members
// matched as the official client matches them), else the status alone.
func newError(action string, resp *http.Response, body []byte) *Error {
	e := &Error{Action: action, StatusCode: resp.StatusCode, Body: body}
	var env map[string]json.RawMessage
	if json.Unmarshal(body, &env) == nil {
		str := func(names ...string) string {
			for _, n := range names {
				var s string
				if raw, ok := env[n]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
					return s
				}
			}
			return ""
		}
		e.Code = str("Code", "code")
		e.Message = str("Message", "message")
		e.RequestID = str("RequestId", "requestId")
		e.HostID = str("HostId", "hostId")
		e.Recommend = str("Recommend", "recommend")
		if raw, ok := env["AccessDeniedDetail"]; ok {
			e.AccessDeniedDetail = raw
		}
	}
	if e.Code == "" {
		e.Code = "HTTP" + strconv.Itoa(resp.StatusCode)
		if e.Message == "" {
			e.Message = strings.TrimSpace(http.StatusText(resp.StatusCode))
		}
	}
	e.RetryAfter = max(timeLeft(resp.Header.Get("x-ratelimit-user-api")), timeLeft(resp.Header.Get("x-ratelimit-user")))
	return e
}

// timeLeft reads the TimeLeft pair (milliseconds) of a rate-limit header
// such as "Limit:10,Remain:0,TimeLeft:731".
func timeLeft(v string) time.Duration {
	for pair := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok || !strings.EqualFold(k, "TimeLeft") {
			continue
		}
		if n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64); err == nil && n > 0 {
			return time.Duration(n) * time.Millisecond
		}
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
