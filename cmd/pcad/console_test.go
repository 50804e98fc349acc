package main

// The web console (internal/console) in a real browser: Debian's chromium,
// driven by chromedp, against a whole pcad server. The test signs in, reads
// the overview chart, filters and pages the inventory, searches, opens a
// certificate, downloads its PEM and chain, revokes it with confirmation,
// checks a CommonName full of markup stays text, walks the CA tree and
// issues a certificate with the form. It saves a screenshot of each main
// page: into $PCAD_SCREENSHOTS when set (docs/console for the docs), else
// into a temporary directory.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/pcad-dev/pcad/internal/console"
)

// xssCN and xssOrg are subject fields that would run script if a page
// turned them into markup.
const (
	xssCN  = `<img src=x onerror="window.__xss=1">`
	xssOrg = `<script>window.__xss=2</script>`
)

// chromiumPath finds Debian's chromium, or skips the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium binary on PATH: the browser test of the web console is skipped (apt-get install chromium)")
	return ""
}

// consoleSeed is what the test puts in the server before the browser opens it.
type consoleSeed struct {
	root, sub, devices ca
	servers            []string // Identifiers, issue order: svc-00 ... svc-19
	clients            []string // device-00 ... device-04
	xss                string
	revoked            []string
}

const (
	seedServers = 20
	seedClients = 5
	seedQuota   = 50
)

func seedConsole(t *testing.T, ts *testServer) consoleSeed {
	t.Helper()
	c := ts.client(t, "v3")
	var s consoleSeed
	s.root = createRoot(t, c, "ECC_256", map[string]string{"CommonName": "Acme Root CA", "Organization": "Acme"})
	s.sub = createSub(t, c, s.root.ID, "ECC_256", map[string]string{"CommonName": "Acme Issuing CA", "Organization": "Acme"})
	s.devices = createSub(t, c, s.root.ID, "ECC_256", map[string]string{"CommonName": "Acme Devices CA", "Organization": "Acme"})
	st := mustCall(t, c, "GetCAInstanceStatus", map[string]string{"Identifier": s.devices.ID})
	inst := jObjects(t, st, "InstanceStatusList")
	if len(inst) != 1 {
		t.Fatalf("devices CA has %d instances, want 1", len(inst))
	}
	mustCall(t, c, "AssignCertificateCount", map[string]string{
		"Id": strconv.FormatInt(jInt(t, inst[0], "Id"), 10), "CertTotalCount": strconv.Itoa(seedQuota)})

	// The oldest certificate: markup in its subject.
	s.xss = issueClient(t, c, s.sub.ID, map[string]string{"CommonName": xssCN, "Organization": xssOrg})
	for i := range seedServers {
		s.servers = append(s.servers, issueServer(t, c, s.sub.ID, map[string]string{
			"CommonName": fmt.Sprintf("svc-%02d.example.com", i), "Domain": fmt.Sprintf("svc-%02d.internal", i),
			"Days": strconv.Itoa(3 + 7*i), "Organization": "Acme", "Country": "NL"}))
	}
	for i := range seedClients {
		s.clients = append(s.clients, issueClient(t, c, s.devices.ID, map[string]string{
			"CommonName": fmt.Sprintf("device-%02d", i), "Days": strconv.Itoa(40 + 20*i), "Organization": "Acme"}))
	}
	for _, i := range []int{3, 7} {
		revoke(t, c, s.servers[i])
		s.revoked = append(s.revoked, s.servers[i])
	}
	return s
}

// page drives one browser tab.
type page struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

func newPage(t *testing.T, chromium string) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // the tests may run as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	p := &page{t: t, ctx: bctx}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(bctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.messages = append(p.messages, m)
			p.mu.Unlock()
		}
	}()
	return p
}

// do runs steps, failing the test on error. A step that cannot find its
// element gives up after 15 s.
func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v%s", what, err, p.state())
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) and decodes
// its value into T.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v%s", expr, err, p.state())
	}
	return v
}

// waitFor polls a JavaScript condition until it is true. (chromedp.Poll
// builds its predicate with new Function, which the console's CSP forbids,
// so the test polls with plain evaluations.)
func (p *page) waitFor(what, cond string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`Boolean(`+cond+`)`))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(40 * time.Millisecond)
	}
	p.t.Fatalf("waiting for %s (%s): timed out (last error %v)%s", what, cond, last, p.state())
}

// waitView waits until the console has drawn the page named view.
func (p *page) waitView(view string) {
	p.t.Helper()
	p.waitFor("the "+view+" page", `document.querySelector('#view[data-view="`+view+`"]')`)
}

// state describes the page for failure messages.
func (p *page) state() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`location.hash + ' | view=' + (document.getElementById('view')||{}).dataset?.view + ' | flash=' + `+
			`(document.getElementById('flash')||{}).textContent + ' | ' + (document.getElementById('view')||{}).innerText?.slice(0, 400)`))
	if err != nil {
		return ""
	}
	return "\npage: " + s
}

func (p *page) text(sel string) string {
	p.t.Helper()
	return eval[string](p, `(document.querySelector(`+jsString(sel)+`)||{}).textContent||''`)
}

func (p *page) count(sel string) int {
	p.t.Helper()
	return eval[int](p, `document.querySelectorAll(`+jsString(sel)+`).length`)
}

func (p *page) screenshot(dir, name string) {
	p.t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// signIn fills in the sign-in form with the server's first AccessKey.
func (p *page) signIn(ts *testServer) {
	p.t.Helper()
	p.waitView("signin")
	p.do("sign in",
		chromedp.SendKeys(chromedp.ID("signin-id"), ts.keyID),
		chromedp.SendKeys(chromedp.ID("signin-secret"), ts.secret),
		chromedp.Click(chromedp.ID("signin-submit")))
}

// noScriptRan checks that no payload of the markup certificate ran and
// that no element came from its text.
func (p *page) noScriptRan(where string) {
	p.t.Helper()
	if v := eval[string](p, `String(window.__xss)`); v != "undefined" {
		p.t.Errorf("%s: injected script ran (window.__xss = %s)", where, v)
	}
	if n := p.count(`#view img, #view script, #flash img, #flash script`); n != 0 {
		p.t.Errorf("%s: %d img/script elements were made from certificate fields", where, n)
	}
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// waitFile waits for a finished download named name in dir.
func waitFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil && len(b) > 0 {
			return b
		}
		time.Sleep(50 * time.Millisecond)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	t.Fatalf("download %s did not arrive; the directory holds %v", name, names)
	return nil
}

// screenshotDir is $PCAD_SCREENSHOTS, a relative path being taken from the
// module root (PCAD_SCREENSHOTS=docs/console refreshes the docs' pictures),
// else a temporary directory.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("PCAD_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		root, err := filepath.Abs(".")
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				t.Fatalf("PCAD_SCREENSHOTS=%s: no go.mod above the test's directory", dir)
			}
			root = parent
		}
		dir = filepath.Join(root, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestConsole(t *testing.T) {
	chromium := chromiumPath(t)
	ts := startServer(t, 0)
	seed := seedConsole(t, ts)
	api := ts.client(t, "v3")
	shots := screenshotDir(t)
	p := newPage(t, chromium)
	base := "http://" + ts.endpoint

	// The page arrives with its security headers, /console redirecting to /console/.
	resp, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(base+"/console"))
	if err != nil {
		t.Fatalf("open the console: %v", err)
	}
	if resp.Status != 200 || !strings.HasSuffix(resp.URL, "/console/") {
		t.Fatalf("GET /console: status %d at %s, want 200 at /console/", resp.Status, resp.URL)
	}
	if got := fmt.Sprint(resp.Headers["Content-Security-Policy"]); got != console.CSP {
		t.Errorf("Content-Security-Policy = %q, want %q", got, console.CSP)
	}
	p.waitView("signin")

	// The steps build on each other: after a failure the rest is skipped.
	step := func(name string, f func(t *testing.T)) {
		if t.Failed() {
			t.Logf("%s: skipped after the failure above", name)
			return
		}
		t.Run(name, func(t *testing.T) {
			p.t = t
			f(t)
		})
		p.t = t
	}

	step("signature-vectors", func(t *testing.T) {
		// The browser's signing module against the spec's vectors (A.4),
		// which the official client produced.
		got := eval[[]string](p, `(async () => {
			const m = await import('/console/js/sign.js');
			const key = await m.importSecret('testsecret');
			const base = { key, accessKeyId: 'testid', host: 'cas.aliyuncs.com', action: 'ListCert', version: '2020-06-30',
				date: '2025-01-02T03:04:05Z', nonce: '3b1c8f0e6d2a4e5f9a7b0c1d2e3f4a5b',
				extraHeaders: { 'x-acs-credentials-provider': 'static_ak' } };
			const q = { AfterDate: '2024-05-13 12:59:45', CurrentPage: '1', InstanceUuid: '1ef79512-569b-6a4e-9105-9b91473562f7',
				ShowSize: '50', Status: 'ISSUE' };
			const post = await m.signRequest({ ...base, method: 'POST', query: q });
			const get = await m.signRequest({ ...base, method: 'GET', query: q });
			const form = await m.signRequest({ ...base, method: 'POST', action: 'CreateClientCertificate',
				query: { ParentIdentifier: '273ae6bb538d538c70c01f81jh2****', CommonName: 'a b*c~d/\u00e9', Days: '365',
					'Tags.1.Key': 'env', 'Tags.1.Value': 'prod', 'Tags.2.Key': 'team', 'Tags.2.Value': 'pki' },
				form: { ClientToken: 'tok-123' } });
			return [post.headers.authorization, get.signature, form.signature, form.headers['x-acs-content-sha256'],
				m.percentEncode('-----BEGIN CERTIFICATE REQUEST-----\nMIIB+/x=\n')];
		})()`)
		want := []string{
			"ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=edf2b2f60aec141ddeb7b5c54894e6c51c14e01476d7c99ddfca62a2ba9b085c",
			"d7bd7d177e17f00cc428fccf02c7a06b6ee4956ecd74d0aa7742cb5d7fb0064d",
			"6e388e76524b92b05bd66de7874bd0a2623fefa81401424562650a5137e42b94",
			"a316fcc51f1a45c71951cd9e8040fc0a35da56eda1c4d25a8343b416f3355a06",
			"-----BEGIN%20CERTIFICATE%20REQUEST-----%0AMIIB%2B%2Fx%3D%0A",
		}
		if len(got) != len(want) {
			t.Fatalf("got %q", got)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("vector %d: got %q, want %q", i, got[i], want[i])
			}
		}
	})

	step("sign-in", func(t *testing.T) {
		// A wrong secret is refused by the server and the form says so.
		p.do("wrong secret",
			chromedp.SendKeys(chromedp.ID("signin-id"), ts.keyID),
			chromedp.SendKeys(chromedp.ID("signin-secret"), "not-the-secret"),
			chromedp.Click(chromedp.ID("signin-submit")))
		p.waitFor("the refusal", `document.querySelector('#signin-status .error-box')`)
		if msg := p.text("#signin-status"); !strings.Contains(msg, "IncompleteSignature") {
			t.Errorf("refusal says %q, want IncompleteSignature", msg)
		}
		if v := eval[string](p, `document.getElementById('signin-secret').value`); v != "" {
			t.Errorf("the secret field still holds %d characters after the attempt", len(v))
		}
		p.do("sign in",
			chromedp.SendKeys(chromedp.ID("signin-secret"), ts.secret),
			chromedp.Click(chromedp.ID("signin-submit")))
		p.waitView("overview")

		// The secret is nowhere the page can persist or leak it.
		places := eval[string](p, `[localStorage.length, sessionStorage.length, document.cookie, location.href,
			document.documentElement.outerHTML, performance.getEntries().map(e => e.name).join(' '),
			String(document.getElementById('signin-secret'))].join('\n')`)
		if strings.Contains(places, ts.secret) {
			t.Errorf("the AccessKey secret is in storage, the URL, the DOM or a request URL")
		}
		if !strings.HasPrefix(places, "0\n0\n\n") {
			t.Errorf("storage or cookies used: %q", strings.SplitN(places, "\n", 4)[:3])
		}
		if got := p.text("#who-key"); got != ts.keyID {
			t.Errorf("signed in as %q, want %q", got, ts.keyID)
		}
	})

	step("overview", func(t *testing.T) {
		total := 1 + seedServers + seedClients
		if got := p.text("#count-total"); got != strconv.Itoa(total) {
			t.Errorf("total %q, want %d", got, total)
		}
		if got := p.text("#count-revoked"); got != "2" {
			t.Errorf("revoked %q, want 2", got)
		}
		if got := p.text("#count-cas"); got != "3" {
			t.Errorf("CAs %q, want 3", got)
		}
		// Every certificate that is not revoked expires within 26 weeks.
		bars := eval[[]int](p, `Array.from(document.querySelectorAll('#chart svg rect.bar'), r => Number(r.dataset.count))`)
		sum, nonEmpty := 0, 0
		for _, n := range bars {
			sum += n
			if n > 0 {
				nonEmpty++
			}
		}
		if len(bars) != 26 || sum != total-2 || nonEmpty < 10 {
			t.Errorf("chart: %d weeks, %d certificates in %d weeks (%v), want 26 weeks, %d certificates, >= 10 weeks",
				len(bars), sum, nonEmpty, bars, total-2)
		}
		if got := p.text("#count-soon"); got != "4" { // svc-00..02 (3, 10, 17 days) and the markup one (30 days)
			t.Errorf("expiring within 30 days: %q, want 4", got)
		}
		p.screenshot(shots, "overview.png")
	})

	rowIDs := func() []string {
		return eval[[]string](p, `Array.from(document.querySelectorAll('#inventory-table tbody tr:not([hidden])'), r => r.dataset.id)`)
	}
	step("inventory", func(t *testing.T) {
		total := 1 + seedServers + seedClients
		p.do("open the inventory", chromedp.Click(chromedp.ID("nav-certs")))
		p.waitView("certs")
		if got := p.text("#inventory-total"); got != strconv.Itoa(total) {
			t.Fatalf("inventory total %q, want %d", got, total)
		}
		want := reversed(append(append([]string{seed.xss}, seed.servers...), seed.clients...))
		if got := rowIDs(); !equalStrings(got, want[:20]) {
			t.Errorf("page 1 rows %v,\nwant newest first %v", got, want[:20])
		}
		if got := p.text("#status-REVOKE .chip-count"); got != "2" {
			t.Errorf("revoked count chip %q, want 2", got)
		}
		p.screenshot(shots, "inventory.png")

		// Page forward: the rest, down to the oldest (the markup one).
		p.do("next page", chromedp.Click(chromedp.ID("page-next")))
		p.waitFor("page 2", `document.querySelector('#page-info')?.textContent === 'Page 2 of 2'`)
		if got := rowIDs(); !equalStrings(got, want[20:]) {
			t.Errorf("page 2 rows %v, want %v", got, want[20:])
		}
		// The markup CommonName is shown as text.
		shown := eval[string](p, `document.querySelector('#inventory-table tr[data-id="`+seed.xss+`"] a.cert-link').textContent`)
		if shown != xssCN {
			t.Errorf("markup CommonName shown as %q, want the text %q", shown, xssCN)
		}
		p.noScriptRan("inventory")

		// Filter by status with the counts.
		p.do("revoked only", chromedp.Click(chromedp.ID("status-REVOKE")))
		p.waitFor("the revoked filter", `document.querySelector('#inventory-total')?.textContent === '2'`)
		if got := rowIDs(); !equalStrings(got, reversed(seed.revoked)) {
			t.Errorf("revoked rows %v, want %v", got, reversed(seed.revoked))
		}
		if n := p.count(`#inventory-table .badge[data-status="REVOKE"]`); n != 2 {
			t.Errorf("%d rows show Revoked, want 2", n)
		}
		// Add a type filter (a select applies itself): no revoked client certificate.
		p.do("client type", chromedp.SetValue(chromedp.ID("filter-type"), "CLIENT"))
		p.waitFor("client and revoked", `location.hash.includes('Type=CLIENT') && document.querySelector('#inventory-total')?.textContent === '0'`)
		p.do("all statuses", chromedp.Click(chromedp.ID("status-all")))
		p.waitFor("all clients", `!location.hash.includes('Status=') && document.querySelector('#inventory-total')?.textContent === '6'`)
		// The issuing-CA filter.
		p.do("reset and filter by CA",
			chromedp.Click(chromedp.ID("filter-reset")))
		p.waitFor("reset", `location.hash === '#/certs' && document.querySelector('#inventory-total')?.textContent === '26'`)
		p.do("filter by CA", chromedp.SetValue(chromedp.ID("filter-parent"), seed.devices.ID))
		p.waitFor("the devices CA", `document.querySelector('#inventory-total')?.textContent === '5'`)
		if got := rowIDs(); !equalStrings(got, reversed(seed.clients)) {
			t.Errorf("devices CA rows %v, want %v", got, reversed(seed.clients))
		}
		// A date filter goes with the Apply button: nothing changed after 2099.
		p.do("changed from 2099",
			chromedp.SetValue(chromedp.ID("filter-after"), "2099-01-01"),
			chromedp.Click(chromedp.ID("filter-apply")))
		p.waitFor("the date filter", `location.hash.includes('AfterDate=2099-01-01') && location.hash.includes('ParentIdentifier=') && `+
			`document.querySelector('#inventory-total')?.textContent === '0' && document.querySelector('#inventory-empty:not([hidden])')`)

		// Search within the page.
		p.do("search", chromedp.Click(chromedp.ID("filter-reset")))
		p.waitFor("reset", `document.querySelector('#inventory-total')?.textContent === '26'`)
		p.do("type a search", chromedp.SendKeys(chromedp.ID("search"), "svc-1"))
		p.waitFor("search results", `document.querySelector('#search-info')?.textContent === '10 of 20 on this page match'`)
		if got := rowIDs(); !equalStrings(got, reversed(seed.servers[10:])) {
			t.Errorf("search rows %v, want %v", got, reversed(seed.servers[10:]))
		}
	})

	target := seed.servers[seedServers-1] // svc-19, the newest server certificate
	step("details-and-revoke", func(t *testing.T) {
		p.do("open a certificate", chromedp.Click(chromedp.CSS(`#inventory-table tr[data-id="`+target+`"] a.cert-link`)))
		p.waitView("cert")
		if got := p.text("#cert-title"); got != "svc-19.example.com" {
			t.Errorf("title %q", got)
		}
		if got := eval[string](p, `document.querySelector('#cert-status').dataset.status`); got != "ISSUE" {
			t.Errorf("status %q, want ISSUE", got)
		}
		if sans := p.text("#sans"); !strings.Contains(sans, "svc-19.example.com") || !strings.Contains(sans, "svc-19.internal") {
			t.Errorf("SANs %q lack the DNS names", sans)
		}
		if p.count("#timeline .timeline-fill") != 1 || !strings.Contains(p.text("#timeline-summary"), "expires in") {
			t.Errorf("timeline: %q", p.text("#timeline"))
		}
		p.screenshot(shots, "certificate.png")

		// PEM and chain downloads through blob: links.
		dl := t.TempDir()
		if _, err := chromedp.CallBrowser(p.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl}); err != nil {
			t.Fatalf("download folder: %v", err)
		}
		p.do("download PEM", chromedp.Click(chromedp.ID("download-pem")))
		leaf := parsePEMs(t, string(waitFile(t, dl, "svc-19.example.com.pem")))
		desc := jObj(t, mustCall(t, api, "DescribeClientCertificate", map[string]string{"Identifier": target}), "Certificate")
		if len(leaf) != 1 || fmt.Sprintf("%x", leaf[0].SerialNumber) != strings.TrimLeft(jStr(t, desc, "SerialNumber"), "0") {
			t.Errorf("downloaded PEM: %d certificates, want the one with serial %s", len(leaf), jStr(t, desc, "SerialNumber"))
		}
		p.do("download chain", chromedp.Click(chromedp.ID("download-chain")))
		chain := parsePEMs(t, string(waitFile(t, dl, "svc-19.example.com-chain.pem")))
		if len(chain) != 3 || chain[0].Subject.CommonName != "svc-19.example.com" ||
			chain[1].Subject.CommonName != "Acme Issuing CA" || chain[2].Subject.CommonName != "Acme Root CA" {
			t.Errorf("chain: %d certificates", len(chain))
		}

		// Revoke: cancelling the confirmation changes nothing.
		p.do("ask to revoke", chromedp.Click(chromedp.ID("revoke-button")))
		p.waitFor("the confirmation", `document.getElementById('confirm-dialog').open`)
		if msg := p.text("#confirm-message"); !strings.Contains(msg, "svc-19.example.com") {
			t.Errorf("confirmation %q does not name the certificate", msg)
		}
		p.do("cancel", chromedp.Click(chromedp.ID("confirm-cancel")))
		p.waitFor("the dialog to close", `!document.getElementById('confirm-dialog').open`)
		time.Sleep(200 * time.Millisecond)
		desc = jObj(t, mustCall(t, api, "DescribeClientCertificate", map[string]string{"Identifier": target}), "Certificate")
		if jStr(t, desc, "Status") != "ISSUE" {
			t.Fatalf("cancelled revocation revoked the certificate")
		}
		p.do("revoke", chromedp.Click(chromedp.ID("revoke-button")))
		p.waitFor("the confirmation", `document.getElementById('confirm-dialog').open`)
		p.do("confirm", chromedp.Click(chromedp.ID("confirm-ok")))
		p.waitFor("the revoked status", `document.querySelector('#cert-status[data-status="REVOKE"]')`)
		if got := p.text("#cert-status"); got != "Revoked" {
			t.Errorf("status badge %q, want Revoked", got)
		}
		if p.count("#timeline .timeline-marker.revoked") != 1 {
			t.Errorf("the timeline does not mark the revocation: %q", p.text("#timeline"))
		}
		desc = jObj(t, mustCall(t, api, "DescribeClientCertificate", map[string]string{"Identifier": target}), "Certificate")
		if jStr(t, desc, "Status") != "REVOKE" {
			t.Errorf("API status %q after revocation in the console, want REVOKE", jStr(t, desc, "Status"))
		}
		if p.count("#revoke-button") != 0 {
			t.Errorf("a revoked certificate still offers revocation")
		}
	})

	step("markup-stays-text", func(t *testing.T) {
		// A reload signs out: the key lived in the old page only. The route
		// survives it.
		p.do("open the markup certificate",
			chromedp.Evaluate[chromedp.Void](`location.hash = '#/cert/`+seed.xss+`'`),
			chromedp.Reload())
		p.signIn(ts)
		p.waitView("cert")
		if got := p.text("#cert-title"); got != xssCN {
			t.Errorf("title %q, want the text %q", got, xssCN)
		}
		if got := p.text("#subject"); !strings.Contains(got, xssOrg) {
			t.Errorf("subject %q lacks the organization as text", got)
		}
		p.noScriptRan("details")
	})

	step("ca-tree", func(t *testing.T) {
		p.do("open the CA tree", chromedp.Click(chromedp.ID("nav-cas")))
		p.waitView("cas")
		for _, sub := range []ca{seed.sub, seed.devices} {
			sel := `#ca-tree > .ca-node[data-id="` + seed.root.ID + `"] > ul > .ca-node[data-id="` + sub.ID + `"]`
			if p.count(sel) != 1 {
				t.Errorf("no sub-CA %s under the root", sub.ID)
			}
		}
		quota := p.text(`.ca-node[data-id="` + seed.devices.ID + `"] > .ca-card .quota-text`)
		if want := fmt.Sprintf("%d / %d issued", seedClients, seedQuota); !strings.HasPrefix(quota, want) {
			t.Errorf("devices CA quota %q, want %q...", quota, want)
		}
		noQuota := p.text(`.ca-node[data-id="` + seed.sub.ID + `"] > .ca-card .quota-text`)
		if want := fmt.Sprintf("%d issued · no quota", 1+seedServers); noQuota != want {
			t.Errorf("issuing CA quota %q, want %q", noQuota, want)
		}
		p.screenshot(shots, "ca-tree.png")
	})

	step("issue", func(t *testing.T) {
		p.do("open the issue form", chromedp.Click(chromedp.ID("nav-issue")))
		p.waitView("issue")
		p.do("fill the form",
			chromedp.Click(chromedp.ID("issue-kind-client")),
			chromedp.SetValue(chromedp.ID("issue-parent"), seed.devices.ID),
			chromedp.SendKeys(chromedp.ID("issue-cn"), "build-agent-7"),
			chromedp.SetValue(chromedp.ID("issue-validity"), "45"),
			chromedp.SetValue(chromedp.ID("issue-santype"), "1"),
			chromedp.SendKeys(chromedp.ID("issue-sanvalue"), "ci@example.com"),
			chromedp.SendKeys(chromedp.ID("issue-alias"), "CI runner"))
		p.screenshot(shots, "issue.png")
		p.do("issue", chromedp.Click(chromedp.ID("issue-submit")))
		p.waitFor("the new certificate", `document.querySelector('#view[data-view="cert"] #cert-title')?.textContent === 'build-agent-7'`)
		if sans := p.text("#sans"); !strings.Contains(sans, "ci@example.com") {
			t.Errorf("SANs %q lack the email", sans)
		}
		res := list(t, api, map[string]string{"Type": "CLIENT", "ParentIdentifier": seed.devices.ID})
		if n := jInt(t, res, "TotalCount"); n != seedClients+1 {
			t.Errorf("devices CA holds %d client certificates, want %d", n, seedClients+1)
		}
		newest := jObjects(t, res, "List")[0]
		if jStr(t, newest, "CommonName") != "build-agent-7" || jStr(t, newest, "AliasName") != "CI runner" ||
			jStr(t, newest, "Identifier") != eval[string](p, `location.hash.slice('#/cert/'.length)`) {
			t.Errorf("newest client certificate %v is not the one the form issued", newest)
		}
	})

	step("sign-out", func(t *testing.T) {
		p.do("sign out", chromedp.Click(chromedp.ID("signout")))
		p.waitView("signin")
		if !eval[bool](p, `document.getElementById('nav').hidden`) {
			t.Errorf("navigation still shown after sign-out")
		}
	})

	// Nothing broke the CSP or threw. (The wrong secret's 400 is logged
	// by the browser as a failed load; that is expected.)
	time.Sleep(100 * time.Millisecond)
	p.mu.Lock()
	defer p.mu.Unlock()
	var bad []string
	for _, m := range p.messages {
		text := m.String()
		if m.IsException() || strings.Contains(text, "Content Security Policy") || strings.Contains(text, "Refused to") ||
			(m.Type == chromedp.ConsoleError && !strings.Contains(text, "status of 400")) {
			bad = append(bad, text)
		}
	}
	if len(bad) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(bad, "\n"))
	}
	if errors.Is(p.ctx.Err(), context.DeadlineExceeded) {
		t.Errorf("the browser test ran out of time")
	}
}

// TestConsoleThrottled: at one request per second and action, the pages'
// parallel calls are refused with Throttling.User, and the console retries
// them after the delay the server names instead of showing an error.
func TestConsoleThrottled(t *testing.T) {
	chromium := chromiumPath(t)
	ts := startServer(t, 1)
	c := ts.client(t, "v3")
	_, sub := hierarchy(t, c)
	id := issueServer(t, c, sub.ID, nil)
	p := newPage(t, chromium)
	p.do("open the console", chromedp.Navigate("http://"+ts.endpoint+"/console/#/certs"))
	p.signIn(ts)
	p.waitView("certs") // four ListCert calls at once
	if got := p.text("#inventory-total"); got != "1" {
		t.Errorf("inventory total %q, want 1", got)
	}
	if got := eval[[]string](p, `Array.from(document.querySelectorAll('#inventory-table tbody tr'), r => r.dataset.id)`); !equalStrings(got, []string{id}) {
		t.Errorf("rows %v, want %v", got, []string{id})
	}
	if p.count("#flash:not([hidden]), #view .error-box") != 0 {
		t.Errorf("the page shows an error: %s", p.state())
	}
	p.do("overview", chromedp.Click(chromedp.ID("nav-overview")))
	p.waitView("overview")
	if got := p.text("#count-total"); got != "1" {
		t.Errorf("overview total %q, want 1", got)
	}
}
