package openapi

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Credential is what the server knows about an AccessKey. Secret is the
// clear secret used as the HMAC key; it never leaves this package.
type Credential struct {
	AccessKeyID string
	Secret      string
	AccountID   int64
	PrincipalID int64
	Active      bool
}

// Caller is the authenticated identity of a request.
type Caller struct {
	AccessKeyID string
	AccountID   int64
	PrincipalID int64
}

// KeyLookup finds an AccessKey. An unknown id returns an error whose
// pca.Kind is pca.KindNotFound; any other error fails the request (a
// KindUnavailable error as ServiceUnavailable, anything else as
// InternalError). Implementations must be safe for concurrent use.
type KeyLookup interface {
	LookupAccessKey(ctx context.Context, id string) (Credential, error)
}

// Limiter decides whether a request under key may proceed now.
// Implementations must be safe for concurrent use. An error fails the
// request with InternalError.
type Limiter interface {
	Allow(ctx context.Context, key string) (Decision, error)
}

// Decision is a Limiter's answer.
type Decision struct {
	Allowed    bool
	Limit      int           // requests per second allowed
	Remaining  int           // requests left in the current window
	RetryAfter time.Duration // when !Allowed: time until the next request would be allowed
}

// Request is what an action handler receives.
type Request struct {
	Action    string
	Version   string
	Params    Params
	Caller    Caller
	RequestID string
	SourceIP  string // host part of the TCP peer address; proxies are not trusted
	Secure    bool   // request arrived over TLS
	// Resource may be set by the handler to name what the call acted on
	// (e.g. "ca/<identifier>"); it goes to the audit log.
	Resource string
	// Received is when the call arrived: the time of its audit record.
	Received time.Time
	// Audited may be set by the handler when it wrote the call's audit
	// record (Code "OK", this Resource) itself, in the transaction of the
	// call's change: the Audit hook is then not called for a successful
	// answer (an error answer is still reported to it).
	Audited bool
}

// AuditEvent is one call as the audit log records it.
type AuditEvent struct {
	Time        time.Time
	RequestID   string
	Action      string
	Version     string
	AccessKeyID string
	AccountID   int64
	PrincipalID int64
	SourceIP    string
	Resource    string
	Code        string // "OK" or the error code answered
	Status      int
}

// HandlerFunc implements one action. It returns a value that json.Marshal
// turns into a JSON object (a struct, a pointer to one, or a map; nil means
// no fields) or an error. A *pca.Error is answered through the Kind table in
// errors.go; any other error (and a panic) as InternalError, its detail only
// logged. The result must not have a RequestId member: the envelope adds it.
type HandlerFunc func(ctx context.Context, r *Request) (any, error)

// Config configures NewHandler. Version, Actions and Keys are required.
type Config struct {
	Version string                 // served API version, e.g. "2020-06-30"
	Actions map[string]HandlerFunc // action name (matched exactly) -> handler
	// MoreVersions serves further API versions on the same endpoint (e.g.
	// the RAM API, "2015-05-01"): version -> action table.
	MoreVersions map[string]map[string]HandlerFunc
	// Audit, if set, is called once for every request whose AccessKeyId
	// names an existing key, after the outcome is known and before the
	// answer is written. It must not fail the request; errors are its own.
	Audit func(ctx context.Context, e AuditEvent)
	// Observe, if set, is called once for every request after the answer is
	// written: the action ("" when the request named no served action), the
	// answer's Code ("OK" on success) and HTTP status, and the time taken.
	// It must be cheap and must not block (metrics).
	Observe      func(action, code string, status int, took time.Duration)
	Keys         KeyLookup        // AccessKey lookup
	Nonces       NonceCache       // nil: a MemoryNonceCache is made
	Limiter      Limiter          // nil: no throttling
	Now          func() time.Time // nil: time.Now
	NewRequestID func() string    // nil: random upper-case UUIDv4 from crypto/rand
	Logger       *slog.Logger     // nil: slog.Default()
	HostID       string           // HostId in error bodies; "" -> "pcad"
	RecommendURL string           // if set, Recommend = RecommendURL + "?q=<Code>&requestId=<id>"; else a sentence naming the code
	MaxBodyBytes int64            // request body cap; 0 -> 1 MiB
	// MaxInFlight bounds the actions running at once (0: no bound). A call
	// that finds every slot taken waits up to InFlightWait for one, then is
	// refused with ServiceUnavailable: an overloaded server answers quickly
	// instead of queueing without end. Checks before the action (signature,
	// throttling) do not take a slot.
	MaxInFlight  int
	InFlightWait time.Duration // 0 -> 100 ms
}

// Protocol limits.
const (
	// TimestampWindow is how far x-acs-date / Timestamp may be from the
	// server's clock, either way.
	TimestampWindow = 15 * time.Minute
	// NonceTTL is how long a nonce is remembered per AccessKeyId. It covers
	// the whole window (both sides), so a replay is always caught.
	NonceTTL = 2 * TimestampWindow

	defaultMaxBody = 1 << 20
	defaultHostID  = "pcad"
)

// handler serves the RPC endpoint. It holds no mutable state of its own.
type handler struct {
	cfg   Config
	log   *slog.Logger
	slots chan struct{} // MaxInFlight; nil: no bound
}

// NewHandler returns the http.Handler of the RPC endpoint (path "/", GET and
// POST). Each request is checked in this order, the first failure answering:
// decoding (method, path, body size, query and form syntax, signature mode);
// Action (unknown: InvalidAction.NotFound) and Version (InvalidVersion);
// STS token (refused: InvalidSecurityToken.Malformed); timestamp
// (IllegalTimestamp, InvalidTimeStamp.Expired); AccessKey
// (InvalidAccessKeyId.NotFound, .Inactive); signature (IncompleteSignature
// for V3, SignatureDoesNotMatch for V1); nonce (SignatureNonceUsed; recorded
// only once the signature is verified); throttling (Throttling.User, key
// "<AccountID>/<PrincipalID>/<Action>"); then the action's handler.
//
// It returns an error if Version, Actions or Keys is missing.
func NewHandler(cfg Config) (http.Handler, error) {
	switch {
	case cfg.Version == "":
		return nil, errors.New("openapi: Config.Version is required")
	case len(cfg.Actions) == 0:
		return nil, errors.New("openapi: Config.Actions is required")
	case cfg.Keys == nil:
		return nil, errors.New("openapi: Config.Keys is required")
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("openapi: Config.MaxBodyBytes is negative (%d)", cfg.MaxBodyBytes)
	case cfg.MaxInFlight < 0:
		return nil, fmt.Errorf("openapi: Config.MaxInFlight is negative (%d)", cfg.MaxInFlight)
	}
	for name, fn := range cfg.Actions {
		if name == "" || fn == nil {
			return nil, fmt.Errorf("openapi: Config.Actions has an empty name or a nil handler (%q)", name)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Nonces == nil {
		cfg.Nonces = NewMemoryNonceCache(cfg.Now)
	}
	if cfg.NewRequestID == nil {
		cfg.NewRequestID = NewRequestID
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HostID == "" {
		cfg.HostID = defaultHostID
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = defaultMaxBody
	}
	h := &handler{cfg: cfg, log: cfg.Logger}
	if cfg.MaxInFlight > 0 {
		h.slots = make(chan struct{}, cfg.MaxInFlight)
		if h.cfg.InFlightWait <= 0 {
			h.cfg.InFlightWait = 100 * time.Millisecond
		}
	}
	return h, nil
}

// NewRequestID returns a random UUIDv4 in upper case, read from crypto/rand,
// e.g. "15C66C7B-671A-4297-9187-2C4477247A74".
func NewRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand aborts the program instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return strings.ToUpper(fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// exchange is the state of one request as it moves through the checks.
type exchange struct {
	requestID   string
	start       time.Time
	mode        sigMode
	xml         bool   // answer in XML (V1 with Format=XML)
	action      string // set once the action is known to exist
	version     string
	accessKeyID string // set once the key is known to exist
	accountID   int64
	principalID int64
	sourceIP    string
	req         *Request // set once the handler is called
	decision    *Decision
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ex := &exchange{requestID: h.cfg.NewRequestID(), start: h.cfg.Now()}
	result, err := h.serveRecovered(ctx, w, r, ex)
	if ex.decision != nil {
		w.Header().Set("x-ratelimit-user-api", rateLimitHeader(*ex.decision))
	}
	w.Header().Set("x-acs-request-id", ex.requestID)
	var we *wireError
	status := http.StatusOK
	var body []byte
	var ctype string
	if err == nil {
		body, ctype, err = h.renderResult(ex, result)
	}
	if err != nil {
		we = toWire(err)
		status = we.status
	}
	h.audit(ctx, ex, status, we)
	if we != nil {
		h.writeError(w, ex, we)
	} else {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	}
	h.logRequest(ctx, r, ex, status, we)
	if h.cfg.Observe != nil {
		code := "OK"
		if we != nil {
			code = we.code
		}
		h.cfg.Observe(ex.action, code, status, h.cfg.Now().Sub(ex.start))
	}
}

// serveRecovered is serve, a panic in the checks or in the hooks they call
// (key lookup, nonce cache, limiter) becoming an InternalError.
func (h *handler) serveRecovered(ctx context.Context, w http.ResponseWriter, r *http.Request, ex *exchange) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, recovered("request checks", p)
		}
	}()
	return h.serve(ctx, w, r, ex)
}

// serve runs the checks in the order documented on NewHandler and calls the
// action's handler.
func (h *handler) serve(ctx context.Context, w http.ResponseWriter, r *http.Request, ex *exchange) (any, error) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		return nil, protoErr(CodeUnsupportedMethod, "The HTTP method %s is not supported; use GET or POST.", r.Method)
	}
	if r.URL.Path != "/" {
		return nil, protoErr(CodeInvalidAction, "Specified api is not found, please check your url and method.")
	}
	in, err := h.decode(r)
	if in != nil {
		ex.mode, ex.xml = in.mode, in.xml
	}
	if err != nil {
		return nil, err
	}

	if in.action == "" {
		return nil, protoErr(CodeMissingParameter, "The input parameter %q that is mandatory for processing this request is not supplied.", in.actionParam())
	}
	actions := h.cfg.Actions
	if in.version != h.cfg.Version {
		if more, ok := h.cfg.MoreVersions[in.version]; ok {
			actions = more
		} else if _, known := h.cfg.Actions[in.action]; known || in.version != "" {
			return nil, protoErr(CodeInvalidVersion, "Specified parameter Version is not valid: this service serves version %s.", h.versions())
		}
	}
	fn, ok := actions[in.action]
	if !ok {
		return nil, protoErr(CodeInvalidAction, "Specified api is not found, please check your url and method.")
	}
	ex.action, ex.version = in.action, in.version
	if in.securityToken != "" {
		return nil, protoErr(CodeSecurityTokenMalformed, "STS security tokens are not supported by this service; sign with an AccessKey.")
	}
	if err := h.checkTimestamp(in); err != nil {
		return nil, err
	}
	cred, err := h.lookupKey(ctx, in.accessKeyID)
	ex.accessKeyID = cred.AccessKeyID // "" unless the key exists
	ex.accountID, ex.principalID, ex.sourceIP = cred.AccountID, cred.PrincipalID, sourceIP(r.RemoteAddr)
	if err != nil {
		return nil, err
	}
	if err := verify(r, in, cred.Secret); err != nil {
		return nil, err
	}
	fresh, err := h.cfg.Nonces.Remember(ctx, cred.AccessKeyID, in.nonce, NonceTTL)
	if err != nil {
		return nil, internalErr(fmt.Errorf("openapi: nonce cache: %w", err))
	}
	if !fresh {
		return nil, protoErr(CodeSignatureNonceUsed, "Specified signature nonce was used already.")
	}
	if h.cfg.Limiter != nil {
		key := strconv.FormatInt(cred.AccountID, 10) + "/" + strconv.FormatInt(cred.PrincipalID, 10) + "/" + in.action
		d, err := h.cfg.Limiter.Allow(ctx, key)
		if err != nil {
			return nil, internalErr(fmt.Errorf("openapi: limiter: %w", err))
		}
		ex.decision = &d
		if !d.Allowed {
			return nil, protoErr(CodeThrottlingUser, msgThrottled)
		}
	}
	req := &Request{
		Action:    in.action,
		Version:   in.version,
		Params:    in.params,
		Caller:    Caller{AccessKeyID: cred.AccessKeyID, AccountID: cred.AccountID, PrincipalID: cred.PrincipalID},
		RequestID: ex.requestID,
		SourceIP:  sourceIP(r.RemoteAddr),
		Secure:    r.TLS != nil,
		Received:  ex.start,
	}
	ex.req = req
	if h.slots != nil {
		t := time.NewTimer(h.cfg.InFlightWait)
		select {
		case h.slots <- struct{}{}:
			t.Stop()
			defer func() { <-h.slots }()
		case <-t.C:
			return nil, protoErr(CodeServiceUnavailable, "The server is running its limit of %d calls at once; retry shortly.", cap(h.slots))
		case <-ctx.Done():
			t.Stop()
			return nil, protoErr(CodeServiceUnavailable, "The request was cancelled while waiting for the server.")
		}
	}
	return callAction(ctx, fn, req)
}

// versions names the served API versions.
func (h *handler) versions() string {
	v := []string{h.cfg.Version}
	for k := range h.cfg.MoreVersions {
		v = append(v, k)
	}
	sort.Strings(v[1:])
	return strings.Join(v, ", ")
}

// audit reports the finished call to the audit hook.
func (h *handler) audit(ctx context.Context, ex *exchange, status int, we *wireError) {
	if h.cfg.Audit == nil || ex.accessKeyID == "" || (we == nil && ex.req != nil && ex.req.Audited) {
		return
	}
	e := AuditEvent{Time: ex.start, RequestID: ex.requestID, Action: ex.action, Version: ex.version, AccessKeyID: ex.accessKeyID,
		AccountID: ex.accountID, PrincipalID: ex.principalID, SourceIP: ex.sourceIP, Code: "OK", Status: status}
	if ex.req != nil {
		e.Resource = ex.req.Resource
	}
	if we != nil {
		e.Code = we.code
	}
	h.cfg.Audit(context.WithoutCancel(ctx), e)
}

// callAction runs fn, turning a panic into an internal error whose cause
// keeps the stack (logged by logRequest).
func callAction(ctx context.Context, fn HandlerFunc, req *Request) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			result, err = nil, recovered("action "+req.Action, p)
		}
	}()
	return fn(ctx, req)
}

func (h *handler) checkTimestamp(in *incoming) error {
	if in.timestamp == "" {
		return protoErr(CodeIllegalTimestamp, "The input parameter %q that is mandatory for processing this request is not supplied.", in.timestampParam())
	}
	t, err := time.Parse(time.RFC3339, in.timestamp)
	if err != nil {
		return protoErr(CodeIllegalTimestamp, "The specified parameter %q is not valid: use UTC yyyy-MM-ddTHH:mm:ssZ.", in.timestampParam())
	}
	if d := h.cfg.Now().Sub(t); d > TimestampWindow || d < -TimestampWindow {
		return protoErr(CodeTimestampExpired, "Specified time stamp or date value is expired: it must be within 15 minutes of the server's time.")
	}
	return nil
}

// lookupKey finds the active AccessKey id. For an existing but inactive key
// it returns the error together with a Credential holding only the id.
func (h *handler) lookupKey(ctx context.Context, id string) (Credential, error) {
	cred, err := h.cfg.Keys.LookupAccessKey(ctx, id)
	if err != nil {
		if pca.KindOf(err) == pca.KindNotFound {
			return Credential{}, protoErr(CodeAccessKeyNotFound, "Specified access key is not found.")
		}
		return Credential{}, fmt.Errorf("openapi: looking up access key: %w", err)
	}
	if cred.AccessKeyID == "" {
		cred.AccessKeyID = id
	}
	if !cred.Active {
		return Credential{AccessKeyID: cred.AccessKeyID}, protoErr(CodeAccessKeyInactive, "Specified access key is disabled.")
	}
	return cred, nil
}

// rateLimitHeader formats the x-ratelimit-user-api value the official client
// parses: "Limit:<n>,Remain:<n>,TimeLeft:<ms>", TimeLeft rounded up and 0
// when the request was allowed.
func rateLimitHeader(d Decision) string {
	var left int64
	if !d.Allowed && d.RetryAfter > 0 {
		left = int64((d.RetryAfter + time.Millisecond - 1) / time.Millisecond)
	}
	return "Limit:" + strconv.Itoa(d.Limit) + ",Remain:" + strconv.Itoa(max(d.Remaining, 0)) +
		",TimeLeft:" + strconv.FormatInt(left, 10)
}

func sourceIP(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}
