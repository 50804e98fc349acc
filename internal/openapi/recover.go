package openapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
)

// panicError is a recovered panic: its value and the stack of the goroutine
// that panicked. It is only ever logged, never answered.
type panicError struct {
	value any
	stack string
}

func (e *panicError) Error() string { return fmt.Sprintf("panic: %v", e.value) }

// recovered wraps the panic value p, with the current stack, as the cause of
// an InternalError. It must be called from the deferred function that
// recovered p, so that the stack still names the panicking frame.
func recovered(where string, p any) *wireError {
	return internalErr(fmt.Errorf("openapi: %s panicked: %w", where, &panicError{value: p, stack: string(debug.Stack())}))
}

// panicStack is the stack of the panic behind err, or "".
func panicStack(err error) string {
	var pe *panicError
	if errors.As(err, &pe) {
		return pe.stack
	}
	return ""
}

// Recover returns a handler that runs next and turns a panic into an
// InternalError answer in the error envelope (JSON, status 500) whose
// RequestId is the x-acs-request-id header already set, else a new one. The
// panic is logged at error level with its stack; the server keeps serving.
// If next had already begun its answer, nothing more can be said: the
// connection is aborted (http.ErrAbortHandler) so that the client does not
// take a truncated answer for a whole one. A panic with http.ErrAbortHandler
// itself is passed on unlogged.
//
// The RPC handler recovers its own panics (answering in XML when asked);
// Recover is for everything around it: the PKI endpoints, health, metrics,
// the console and the middleware.
func Recover(next http.Handler, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &trackingWriter{ResponseWriter: w}
		defer func() {
			p := recover()
			if p == nil {
				return
			}
			if p == http.ErrAbortHandler {
				panic(p)
			}
			id := w.Header().Get("x-acs-request-id")
			if id == "" {
				id = NewRequestID()
			}
			logger.LogAttrs(r.Context(), slog.LevelError, "http handler panicked",
				slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.String("error", fmt.Sprint(p)), slog.String("stack", string(debug.Stack())),
				slog.Bool("answer_started", rw.started))
			if rw.started {
				panic(http.ErrAbortHandler)
			}
			body, _ := json.Marshal(errorBody{RequestID: id, HostID: defaultHostID, Code: CodeInternalError, Message: msgInternal,
				Recommend: "See the pcad API documentation for error code " + CodeInternalError + "."})
			h := w.Header()
			for _, k := range []string{"Content-Length", "Content-Encoding", "ETag", "Last-Modified"} {
				h.Del(k)
			}
			h.Set("x-acs-request-id", id)
			h.Set("Content-Type", contentTypeJSON)
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write(body)
		}()
		next.ServeHTTP(rw, r)
	})
}

// trackingWriter notes whether the answer has begun.
type trackingWriter struct {
	http.ResponseWriter
	started bool
}

func (t *trackingWriter) WriteHeader(code int) {
	if code >= 200 { // 1xx answers are informational; the real one is still to come
		t.started = true
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	t.started = true
	return t.ResponseWriter.Write(b)
}

// Flush sends buffered data to the client, if the underlying writer can.
func (t *trackingWriter) Flush() {
	t.started = true
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
