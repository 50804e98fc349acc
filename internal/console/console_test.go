package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

func serve(t *testing.T, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	Handler().ServeHTTP(w, r)
	return w
}

func TestConsoleHandler(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		target      string
		status      int
		ctype       string
		cache       string
		location    string
		bodyHas     string
		wantETag    bool
		wantAllowed string
	}{
		{name: "page", method: "GET", target: "/console/", status: 200, ctype: "text/html; charset=utf-8", cache: "no-store", bodyHas: `<script type="module" src="js/app.js">`},
		{name: "page-head", method: "HEAD", target: "/console/", status: 200, ctype: "text/html; charset=utf-8", cache: "no-store"},
		{name: "index-by-name", method: "GET", target: "/console/index.html", status: 200, ctype: "text/html; charset=utf-8", cache: "no-store"},
		{name: "script", method: "GET", target: "/console/js/app.js", status: 200, ctype: "text/javascript; charset=utf-8", cache: "no-cache", bodyHas: "import", wantETag: true},
		{name: "signing-module", method: "GET", target: "/console/js/sign.js", status: 200, ctype: "text/javascript; charset=utf-8", cache: "no-cache", bodyHas: "ACS3-HMAC-SHA256", wantETag: true},
		{name: "style", method: "GET", target: "/console/console.css", status: 200, ctype: "text/css; charset=utf-8", cache: "no-cache", wantETag: true},
		{name: "icon", method: "GET", target: "/console/icon.svg", status: 200, ctype: "image/svg+xml", cache: "no-cache", wantETag: true},
		{name: "redirect-bare", method: "GET", target: "/console", status: http.StatusMovedPermanently, location: "/console/"},
		{name: "unknown-file", method: "GET", target: "/console/nope.js", status: 404, cache: "no-store"},
		{name: "directory-listing", method: "GET", target: "/console/js/", status: 404},
		{name: "traversal", method: "GET", target: "/console/../go.mod", status: 404},
		{name: "outside-prefix", method: "GET", target: "/other", status: 404},
		{name: "post", method: "POST", target: "/console/", status: http.StatusMethodNotAllowed, wantAllowed: "GET, HEAD"},
		{name: "delete-asset", method: "DELETE", target: "/console/js/app.js", status: http.StatusMethodNotAllowed, wantAllowed: "GET, HEAD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(t, tc.method, tc.target, nil)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d (body %q)", w.Code, tc.status, w.Body.String())
			}
			h := w.Header()
			// Security headers are on every answer, errors and redirects included.
			for name, want := range map[string]string{
				"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
				"X-Frame-Options": "DENY",
			} {
				if got := h.Get(name); got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if tc.ctype != "" && h.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type = %q, want %q", h.Get("Content-Type"), tc.ctype)
			}
			if tc.cache != "" && h.Get("Cache-Control") != tc.cache {
				t.Errorf("Cache-Control = %q, want %q", h.Get("Cache-Control"), tc.cache)
			}
			if tc.location != "" && h.Get("Location") != tc.location {
				t.Errorf("Location = %q, want %q", h.Get("Location"), tc.location)
			}
			if tc.bodyHas != "" && !strings.Contains(w.Body.String(), tc.bodyHas) {
				t.Errorf("body lacks %q", tc.bodyHas)
			}
			if (h.Get("ETag") != "") != tc.wantETag {
				t.Errorf("ETag = %q, want one: %v", h.Get("ETag"), tc.wantETag)
			}
			if tc.wantAllowed != "" && h.Get("Allow") != tc.wantAllowed {
				t.Errorf("Allow = %q, want %q", h.Get("Allow"), tc.wantAllowed)
			}
			if tc.method == "HEAD" && w.Body.Len() != 0 {
				t.Errorf("HEAD answered with a body of %d bytes", w.Body.Len())
			}
		})
	}
}

func TestConsoleETagRevalidation(t *testing.T) {
	first := serve(t, "GET", "/console/js/api.js", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	again := serve(t, "GET", "/console/js/api.js", http.Header{"If-None-Match": {etag}})
	if again.Code != http.StatusNotModified {
		t.Fatalf("revalidation: status %d, want 304", again.Code)
	}
	other := serve(t, "GET", "/console/js/sign.js", nil).Header().Get("ETag")
	if other == etag {
		t.Errorf("two different files share the ETag %s", etag)
	}
}

// TestConsoleCSP pins the policy: the directives that keep injected markup inert.
func TestConsoleCSP(t *testing.T) {
	directives := map[string]string{}
	for d := range strings.SplitSeq(CSP, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	want := map[string]string{
		"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
		"connect-src": "'self'", "form-action": "'none'", "frame-ancestors": "'none'", "base-uri": "'none'",
	}
	for name, value := range want {
		if directives[name] != value {
			t.Errorf("%s = %q, want %q", name, directives[name], value)
		}
	}
	for name, value := range directives {
		if strings.Contains(value, "unsafe") || strings.Contains(value, "*") {
			t.Errorf("%s allows %q", name, value)
		}
	}
}

// embedded returns every embedded file by its path under static/.
func embedded(t *testing.T) map[string]string {
	t.Helper()
	files := map[string]string{}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		files[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestConsoleEmbeddedFiles checks the page and its modules: every file is served,
// every module imported or linked exists, and nothing needs a CSP
// exception (inline scripts, inline styles, event-handler attributes).
func TestConsoleEmbeddedFiles(t *testing.T) {
	files := embedded(t)
	for _, want := range []string{"index.html", "console.css", "icon.svg", "js/app.js", "js/api.js", "js/sign.js", "js/dom.js",
		"js/overview.js", "js/inventory.js", "js/cert.js", "js/cas.js", "js/issue.js", "js/chart.js"} {
		if _, ok := files[want]; !ok {
			t.Errorf("%s is not embedded", want)
		}
	}
	for name := range files {
		if w := serve(t, "GET", Prefix+name, nil); w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", Prefix+name, w.Code)
		}
	}

	html := files["index.html"]
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`), // a script with inline code
		regexp.MustCompile(`<style`),
		regexp.MustCompile(`\sstyle=`),
		regexp.MustCompile(`\son[a-z]+=`),
		regexp.MustCompile(`javascript:`),
	} {
		if loc := bad.FindStringIndex(html); loc != nil {
			t.Errorf("index.html needs a CSP exception: %q", html[loc[0]:min(loc[1]+20, len(html))])
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(html, -1) {
		if _, ok := files[m[1]]; !ok {
			t.Errorf("index.html links %q, which is not embedded", m[1])
		}
	}

	imports := regexp.MustCompile(`(?m)^import[^'"]*['"]([^'"]+)['"]`)
	for name, text := range files {
		if path.Ext(name) != ".js" {
			continue
		}
		for _, m := range imports.FindAllStringSubmatch(text, -1) {
			target := path.Join(path.Dir(name), m[1])
			if _, ok := files[target]; !ok {
				t.Errorf("%s imports %q (%s), which is not embedded", name, m[1], target)
			}
		}
	}
}

// TestConsoleNoMarkupFromStrings keeps the scripts on the safe DOM APIs: nothing
// that parses a string as HTML or code, and no storage that could hold the
// secret.
func TestConsoleNoMarkupFromStrings(t *testing.T) {
	forbidden := []string{
		"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "DOMParser", "createContextualFragment",
		"eval(", "new Function", "setTimeout('", `setTimeout("`, "localStorage", "sessionStorage", "document.cookie",
		"indexedDB", "srcdoc",
	}
	for name, text := range embedded(t) {
		if path.Ext(name) != ".js" {
			continue
		}
		for _, f := range forbidden {
			if strings.Contains(text, f) {
				t.Errorf("%s uses %s", name, f)
			}
		}
	}
}

func TestConsoleLoadAssets(t *testing.T) {
	tests := []struct {
		name    string
		fsys    fstest.MapFS
		wantErr string
	}{
		{name: "ok", fsys: fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}, "js/a.js": {Data: []byte("x")}}},
		{name: "no-index", fsys: fstest.MapFS{"js/a.js": {Data: []byte("x")}}, wantErr: "no index.html"},
		{name: "unknown-type", fsys: fstest.MapFS{"index.html": {Data: []byte("x")}, "notes.txt": {Data: []byte("x")}}, wantErr: "no content type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := loadAssets(tc.fsys)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.fsys) {
				t.Errorf("%d assets, want %d", len(got), len(tc.fsys))
			}
		})
	}
}
