package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"unicode"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Content types of responses. The XML one must be exactly this string: the
// official client only parses XML errors when it sees it.
const (
	contentTypeJSON = "application/json;charset=utf-8"
	contentTypeXML  = "text/xml;charset=utf-8"
	xmlDeclaration  = `<?xml version="1.0" encoding="UTF-8"?>`
)

// errorBody is the error envelope, members in wire order.
type errorBody struct {
	RequestID string `json:"RequestId" xml:"RequestId"`
	HostID    string `json:"HostId" xml:"HostId"`
	Code      string `json:"Code" xml:"Code"`
	Message   string `json:"Message" xml:"Message"`
	Recommend string `json:"Recommend" xml:"Recommend"`
	// AccessDeniedDetail is present only when a policy refused the call (A.8).
	AccessDeniedDetail *accessDeniedDetail `json:"AccessDeniedDetail,omitempty" xml:"AccessDeniedDetail,omitempty"`
}

// accessDeniedDetail is the AccessDeniedDetail member of an error body,
// with the field names of the cas SDK's model (spec A.8).
type accessDeniedDetail struct {
	AuthAction               string `json:"AuthAction" xml:"AuthAction"`
	AuthPrincipalType        string `json:"AuthPrincipalType" xml:"AuthPrincipalType"`
	AuthPrincipalOwnerId     string `json:"AuthPrincipalOwnerId" xml:"AuthPrincipalOwnerId"`
	AuthPrincipalDisplayName string `json:"AuthPrincipalDisplayName" xml:"AuthPrincipalDisplayName"`
	NoPermissionType         string `json:"NoPermissionType" xml:"NoPermissionType"`
	PolicyType               string `json:"PolicyType" xml:"PolicyType"`
	EncodedDiagnosticMessage string `json:"EncodedDiagnosticMessage" xml:"EncodedDiagnosticMessage"`
}

// newAccessDeniedDetail is the wire form of d; nil when d is nil.
func newAccessDeniedDetail(d *pca.AccessDenied) *accessDeniedDetail {
	if d == nil {
		return nil
	}
	return &accessDeniedDetail{AuthAction: d.Action, AuthPrincipalType: d.PrincipalType, AuthPrincipalOwnerId: d.PrincipalOwnerID,
		AuthPrincipalDisplayName: d.PrincipalDisplayName, NoPermissionType: d.NoPermissionType, PolicyType: d.PolicyType,
		EncodedDiagnosticMessage: d.EncodedDiagnosticMessage}
}

// writeResult answers 200 with the handler's result, RequestId first. It
// writes nothing and returns an error if the result cannot be encoded.
func (h *handler) renderResult(ex *exchange, result any) (body []byte, ctype string, err error) {
	body, err = successJSON(ex.requestID, result)
	if err != nil {
		return nil, "", internalErr(fmt.Errorf("openapi: encoding result of %s: %w", ex.action, err))
	}
	ctype = contentTypeJSON
	if ex.xml {
		if body, err = jsonToXML(ex.action+"Response", body); err != nil {
			return nil, "", internalErr(fmt.Errorf("openapi: converting result of %s to XML: %w", ex.action, err))
		}
		ctype = contentTypeXML
	}
	return body, ctype, nil
}

// successJSON marshals result, which must encode as a JSON object without a
// RequestId member, and inserts "RequestId":requestID as its first member,
// keeping the result's member order.
func successJSON(requestID string, result any) ([]byte, error) {
	b, err := json.Marshal(result)
	if err != nil {
		return nil, err
	}
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		b = []byte("{}")
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, errors.New("result is not a JSON object")
	}
	if err := checkNoRequestID(b); err != nil {
		return nil, err
	}
	id, err := json.Marshal(requestID)
	if err != nil {
		return nil, err
	}
	inner := bytes.TrimSpace(b[1 : len(b)-1])
	out := make([]byte, 0, len(b)+len(id)+16)
	out = append(out, `{"RequestId":`...)
	out = append(out, id...)
	if len(inner) > 0 {
		out = append(out, ',')
		out = append(out, inner...)
	}
	return append(out, '}'), nil
}

// checkNoRequestID fails if the JSON object obj has a top-level RequestId.
// obj is json.Marshal's compact output: a RequestId member anywhere in it
// is the bytes "RequestId": (a string value holding them has its quotes
// escaped), so an object without them is answered at once, and only one
// with them is decoded to see whether the member is top-level.
func checkNoRequestID(obj []byte) error {
	if !bytes.Contains(obj, []byte(`"RequestId":`)) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		if tok == "RequestId" {
			return errors.New("result has its own RequestId member")
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return err
		}
	}
	return nil
}

// jsonToXML converts the JSON object js to
// <?xml ...?><root>members</root>, keeping member order: an object becomes
// nested elements, an array becomes one element per item named by its key,
// scalars become text (null: an empty element). Names that are not valid
// XML names are sanitised (see xmlName).
func jsonToXML(root string, js []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, errors.New("not a JSON object")
	}
	var b bytes.Buffer
	b.WriteString(xmlDeclaration)
	root = xmlName(root)
	b.WriteString("<" + root + ">")
	if err := writeXMLMembers(&b, dec); err != nil {
		return nil, err
	}
	b.WriteString("</" + root + ">")
	return b.Bytes(), nil
}

// writeXMLMembers writes the members of an object whose '{' was consumed,
// and consumes its '}'.
func writeXMLMembers(b *bytes.Buffer, dec *json.Decoder) error {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("unexpected JSON token %v", tok)
		}
		if err := writeXMLValue(b, xmlName(key), dec); err != nil {
			return err
		}
	}
	_, err := dec.Token()
	return err
}

// writeXMLValue reads one JSON value from dec and writes it as element name.
func writeXMLValue(b *bytes.Buffer, name string, dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	var text string
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			b.WriteString("<" + name + ">")
			if err := writeXMLMembers(b, dec); err != nil {
				return err
			}
			b.WriteString("</" + name + ">")
			return nil
		case '[':
			for dec.More() {
				if err := writeXMLValue(b, name, dec); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			return err
		default:
			return fmt.Errorf("unexpected JSON delimiter %v", t)
		}
	case string:
		text = t
	case json.Number:
		text = t.String()
	case bool:
		text = fmt.Sprint(t)
	case nil:
	default:
		return fmt.Errorf("unexpected JSON token %v", tok)
	}
	b.WriteString("<" + name + ">")
	if err := xml.EscapeText(b, []byte(text)); err != nil {
		return err
	}
	b.WriteString("</" + name + ">")
	return nil
}

// xmlName returns s if it is a valid XML element name; otherwise s with each
// invalid character replaced by "_" (and "_" prefixed if it cannot start a
// name). "" becomes "_".
func xmlName(s string) string {
	if s == "" {
		return "_"
	}
	valid := true
	for i, r := range s {
		if !xmlNameRune(r, i == 0) {
			valid = false
			break
		}
	}
	if valid {
		return s
	}
	out := make([]rune, 0, len(s)+1)
	for i, r := range s {
		switch {
		case xmlNameRune(r, i == 0):
			out = append(out, r)
		case i == 0 && xmlNameRune(r, false):
			out = append(out, '_', r)
		default:
			out = append(out, '_')
		}
	}
	return string(out)
}

func xmlNameRune(r rune, start bool) bool {
	if r == utf8.RuneError {
		return false
	}
	if r == '_' || unicode.IsLetter(r) {
		return true
	}
	return !start && (r == '-' || r == '.' || unicode.IsDigit(r))
}

// writeError answers with the error envelope of we, in XML when the request
// asked for it, else JSON.
func (h *handler) writeError(w http.ResponseWriter, ex *exchange, we *wireError) {
	eb := errorBody{
		RequestID: ex.requestID,
		HostID:    h.cfg.HostID,
		Code:      we.code,
		Message:   we.msg,
		Recommend: h.recommend(we.code, ex.requestID),

		AccessDeniedDetail: newAccessDeniedDetail(we.denied),
	}
	var body []byte
	var err error
	ctype := contentTypeJSON
	if ex.xml {
		ctype = contentTypeXML
		body, err = xml.Marshal(struct {
			XMLName xml.Name `xml:"Error"`
			errorBody
		}{errorBody: eb})
		body = append([]byte(xmlDeclaration), body...)
	} else {
		body, err = json.Marshal(eb)
	}
	if err != nil { // cannot happen for plain strings; answer something valid
		ctype, body = contentTypeJSON, []byte(`{"Code":"InternalError"}`)
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(we.status)
	_, _ = w.Write(body)
}

// recommend is the Recommend member of an error body.
func (h *handler) recommend(code, requestID string) string {
	if h.cfg.RecommendURL != "" {
		return h.cfg.RecommendURL + "?q=" + url.QueryEscape(code) + "&requestId=" + url.QueryEscape(requestID)
	}
	return "See the pcad API documentation for error code " + code + "."
}

// logRequest writes the one log record of a request. It never logs secrets,
// signatures or parameter values; the internal error is logged for 5xx only.
func (h *handler) logRequest(ctx context.Context, r *http.Request, ex *exchange, status int, we *wireError) {
	attrs := []slog.Attr{
		slog.String("request_id", ex.requestID),
		slog.String("method", r.Method),
		slog.String("action", ex.action),
		slog.String("access_key_id", ex.accessKeyID),
		slog.String("signature", ex.mode.String()),
		slog.String("source_ip", sourceIP(r.RemoteAddr)),
		slog.Int("status", status),
		slog.Duration("duration", h.cfg.Now().Sub(ex.start)),
	}
	level := slog.LevelInfo
	if we != nil {
		attrs = append(attrs, slog.String("code", we.code))
		if status >= 500 {
			level = slog.LevelError
			if we.cause != nil {
				attrs = append(attrs, slog.String("error", we.cause.Error()))
				if st := panicStack(we.cause); st != "" {
					attrs = append(attrs, slog.String("stack", st))
				}
			}
		}
	}
	h.log.LogAttrs(ctx, level, "openapi request", attrs...)
}
