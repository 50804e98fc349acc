// Package console serves pcad's web console at /console/: static HTML, CSS
// and JavaScript modules embedded in the binary, with no build step.
//
// The console is a client of the public API and nothing more. The page
// signs each call itself in the browser (ACS3-HMAC-SHA256 with WebCrypto,
// exactly as the official clients sign) and sends it to the RPC endpoint
// (POST /) of the same origin. The server keeps no session and sets no
// cookie: there is nothing new to authenticate on the server, no CSRF
// surface, and any replica can answer any call. The AccessKey secret lives
// only in the memory of the open tab, as a non-extractable CryptoKey;
// reloading the page signs the user out.
//
// Every answer carries a strict Content-Security-Policy (CSP): scripts and
// styles only from these files, no inline code, no frames, connections only
// to the same origin. The scripts build the page with textContent and
// createElement only, so certificate fields (a CommonName may hold
// anything) are always text, never markup.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

// CSP is the Content-Security-Policy of every console answer. Downloads
// (PEM, chain, encrypted key) are blob: links with a download attribute:
// the browser saves them under this policy as it is, so blob: appears in no
// directive (the browser test in cmd/pcad downloads through it).
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

//go:embed static
var static embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	body  []byte
	ctype string
	etag  string
	html  bool
}

// contentTypes are the types of the embedded files, by extension. A file
// with another extension is not served (loadAssets refuses it).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// loadAssets reads the embedded files into a map keyed by their path under
// static/ ("index.html", "js/app.js").
func loadAssets(fsys fs.FS) (map[string]asset, error) {
	out := map[string]asset{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := path.Ext(p)
		ctype, ok := contentTypes[ext]
		if !ok {
			return fmt.Errorf("console: %s: no content type for %q files", p, ext)
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("console: %w", err)
		}
		sum := sha256.Sum256(body)
		out[p] = asset{body: body, ctype: ctype, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, html: ext == ".html"}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, ok := out["index.html"]; !ok {
		return nil, fmt.Errorf("console: no index.html among the embedded files")
	}
	return out, nil
}

var assets = sync.OnceValues(func() (map[string]asset, error) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return loadAssets(sub)
})

// Handler serves the console: GET and HEAD of /console/ (the page) and of
// the files under it; /console itself redirects to /console/. Mount it
// with mux.Handle("/console/", console.Handler()).
func Handler() http.Handler {
	files, err := assets()
	if err != nil {
		panic(err) // the embedded files are part of the binary: a test catches this
	}
	return handler{files: files}
}

type handler struct {
	files map[string]asset
}

// securityHeaders are set on every answer, errors included.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", CSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
}

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w.Header())
	if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
		http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		http.NotFound(w, r)
		return
	}
	if name == "" {
		name = "index.html"
	}
	a, ok := h.files[name]
	if !ok {
		w.Header().Set("Cache-Control", "no-store")
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", a.ctype)
	if a.html {
		w.Header().Set("Cache-Control", "no-store")
	} else {
		// Revalidated on each use (the ETag makes that a 304), so an upgraded
		// binary never runs with a stale script.
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", a.etag)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
