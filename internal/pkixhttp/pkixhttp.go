// Package pkixhttp serves the public, unauthenticated PKI endpoints: CA
// certificates, CRLs and the OCSP responder (RFC 6960, GET and POST).
//
// Routes (relative to the server root):
//
//	GET  /pki/ca/{identifier}.crt    the CA certificate, DER (application/pkix-cert)
//	GET  /pki/ca/{identifier}.pem    the same, PEM
//	GET  /pki/crl/{identifier}.crl   the CA's current CRL, DER (application/pkix-crl)
//	POST /pki/ocsp                   OCSP, request in the body (application/ocsp-request)
//	GET  /pki/ocsp/{base64 request}  OCSP, request in the path (RFC 6960 appendix A.1)
package pkixhttp

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Source is what the endpoints publish. Errors of kind pca.KindNotFound
// answer 404; others answer 500 (and are logged).
type Source interface {
	CACertificate(ctx context.Context, identifier string) ([]byte, error)
	CRL(ctx context.Context, identifier string) ([]byte, error)
	// OCSP turns a DER request into a DER response; protocol-level failures
	// (malformed request, unknown issuer) are OCSP error responses, not errors.
	OCSP(ctx context.Context, request []byte) ([]byte, error)
}

// maxOCSPRequest bounds an OCSP request; real ones are a few hundred bytes.
const maxOCSPRequest = 16 << 10

// Handler serves the endpoints and passes every other request to next.
//
// OCSP GET requests are taken before any ServeMux sees them: base64 often
// contains "//", which a ServeMux would "clean" with a redirect and so
// corrupt the request.
func Handler(src Source, log *slog.Logger, next http.Handler) http.Handler {
	h := &handler{src: src, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /pki/ca/{file}", h.caCert)
	mux.HandleFunc("GET /pki/crl/{file}", h.crl)
	mux.HandleFunc("POST /pki/ocsp", h.ocspPost)
	mux.Handle("/", next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.EscapedPath(), "/pki/ocsp/") {
			h.ocspGet(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type handler struct {
	src Source
	log *slog.Logger
}

func (h *handler) caCert(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	id, ext, ok := cutExt(file)
	if !ok || (ext != "crt" && ext != "pem" && ext != "cer" && ext != "der") {
		http.NotFound(w, r)
		return
	}
	der, err := h.src.CACertificate(r.Context(), id)
	if h.failed(w, r, err) {
		return
	}
	if ext == "pem" {
		w.Header().Set("Content-Type", "application/x-pem-file")
		w.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		return
	}
	w.Header().Set("Content-Type", "application/pkix-cert")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(der)
}

func (h *handler) crl(w http.ResponseWriter, r *http.Request) {
	id, ext, ok := cutExt(r.PathValue("file"))
	if !ok || ext != "crl" {
		http.NotFound(w, r)
		return
	}
	der, err := h.src.CRL(r.Context(), id)
	if h.failed(w, r, err) {
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	// Short: a revocation must reach clients quickly.
	w.Header().Set("Cache-Control", "public, max-age=60")
	w.Write(der)
}

func (h *handler) ocspPost(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxOCSPRequest+1))
	if err != nil || len(body) > maxOCSPRequest {
		http.Error(w, "OCSP request too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	h.ocsp(w, r, body)
}

func (h *handler) ocspGet(w http.ResponseWriter, r *http.Request) {
	// The request is base64 (standard alphabet), URL-encoded; some clients
	// leave '+' and '/' as they are, so read the raw path.
	raw := strings.TrimPrefix(r.URL.EscapedPath(), "/pki/ocsp/")
	s, err := url.PathUnescape(raw)
	if err != nil || len(s) > 2*maxOCSPRequest {
		http.Error(w, "malformed OCSP request", http.StatusBadRequest)
		return
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if der, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "=")); err != nil {
			http.Error(w, "malformed OCSP request", http.StatusBadRequest)
			return
		}
	}
	h.ocsp(w, r, der)
}

func (h *handler) ocsp(w http.ResponseWriter, r *http.Request, req []byte) {
	resp, err := h.src.OCSP(r.Context(), req)
	if h.failed(w, r, err) {
		return
	}
	w.Header().Set("Content-Type", "application/ocsp-response")
	w.Write(resp)
}

// failed answers err, if any, and reports whether it did.
func (h *handler) failed(w http.ResponseWriter, r *http.Request, err error) bool {
	if err == nil {
		return false
	}
	if pca.KindOf(err) == pca.KindNotFound {
		http.NotFound(w, r)
		return true
	}
	if !errors.Is(err, context.Canceled) {
		h.log.Error("public PKI endpoint", "path", r.URL.Path, "err", err)
	}
	http.Error(w, "internal error", http.StatusInternalServerError)
	return true
}

// cutExt splits "name.ext".
func cutExt(file string) (name, ext string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return "", "", false
	}
	return file[:i], file[i+1:], true
}
