package main

// pcad bench list: ListCert latency over HTTP on a store seeded with many
// certificates through the bulk path.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pcad-dev/pcad/internal/loadgen"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/service"
	"github.com/pcad-dev/pcad/internal/store/seedgen"
)

// listPageSize is the page size of every measured ListCert call
// (MaxResults in token mode, ShowSize in page mode).
const listPageSize = 50

// benchList runs `pcad bench list`.
func benchList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o benchOpts
	fs := newBenchFlags("list", stderr, &o, 1, 3*time.Second)
	certs := fs.Int("certs", 1_000_000, "certificates to seed")
	dataDir := fs.String("data", "", "data directory to seed and keep, or to reuse when an earlier run seeded it (SQLite only); empty: a temporary one")
	page := fs.Int("page", 10_000, "page-mode page measured (ShowSize 50), at most the page at half the store")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := o.check(fs); err != nil {
		return err
	}
	if *certs < 100 {
		return errors.New("bench list: --certs must be at least 100")
	}
	if *page < 1 {
		return errors.New("bench list: --page must be at least 1")
	}
	if *dataDir != "" && o.db != "" {
		return errors.New("bench list: --data reuses a seeded SQLite store; with --db every run seeds a fresh schema")
	}
	certsGiven := isSet(fs, "certs")
	r := newBenchRun("list", args, o, stdout, stderr)
	defer r.close()
	r.report.Settings["clients"] = fmt.Sprint(o.clients)
	r.report.Settings["duration_per_scenario"] = o.duration.String()
	r.report.Settings["page_size"] = fmt.Sprint(listPageSize)

	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	// The seed: reused from --data, else made now, before the server starts.
	var seed *listSeed
	var st benchStore
	if *dataDir != "" {
		if seed, err = loadListSeed(*dataDir); err != nil {
			return err
		}
		if seed != nil && certsGiven && seed.Certs != *certs {
			return fmt.Errorf("bench list: %s was seeded with %d certificates, not %d: use another --data", *dataDir, seed.Certs, *certs)
		}
		st.dir = *dataDir
	}
	if seed == nil {
		if *dataDir != "" {
			if ents, err := os.ReadDir(*dataDir); err == nil && len(ents) > 0 {
				return fmt.Errorf("bench list: %s is not empty and was not seeded by pcad bench list", *dataDir)
			}
		}
		if st, err = r.freshStore(ctx, *dataDir); err != nil {
			return err
		}
		if seed, err = seedListStore(ctx, st, "http://"+addr, *certs, r.stderr); err != nil {
			return err
		}
		if *dataDir != "" {
			if err := writeListSeed(*dataDir, seed); err != nil {
				return err
			}
		}
	} else {
		r.logf("reusing the store seeded in %s (%d certificates)", *dataDir, seed.Certs)
	}
	r.report.Settings["certs"] = fmt.Sprint(seed.Certs)

	r.logf("starting the server on %s (%s)", addr, r.report.Settings["store"])
	srv, err := r.startServer(ctx, st, addr)
	if err != nil {
		return err
	}
	r.report.SetFigure("server_start_ms", loadgen.Millis(srv.ready.Sub(srv.start)))
	id, secret, err := benchCredentials(filepath.Join(st.dir, "credentials.ini"))
	if err != nil {
		return err
	}
	api := newBenchAPI(srv.base, id, secret, 2*o.clients+2)
	defer api.close()
	// Idle memory with the whole store: after start-up has settled.
	time.Sleep(time.Second)
	if m, err := srv.memory(); err == nil {
		r.report.SetFigure("server_idle_rss_bytes", float64(m.RSS))
	}

	total := int64(seed.Certs)
	depth := seed.Certs / 2
	pageNo := min(*page, max(depth/listPageSize, 1))
	pageOffset := (pageNo - 1) * listPageSize
	r.logf("walking %d certificates deep in token mode (pages of 1000)", depth)
	walk, err := walkToken(ctx, api, total, depth, pageOffset, r.stderr)
	if err != nil {
		return err
	}
	r.report.SetFigure("walk_ms", loadgen.Millis(walk.took))

	sc := seed.scenarios()
	sc = append(sc,
		listScenario{name: fmt.Sprintf("token/depth-%d", depth),
			params: url.Values{"MaxResults": {strconv.Itoa(listPageSize)}, "NextToken": {walk.token}},
			total:  total, size: int(min(listPageSize, total-int64(depth))), firstID: walk.nextID},
		listScenario{name: fmt.Sprintf("page/page-%d", pageNo),
			params: url.Values{"ShowSize": {strconv.Itoa(listPageSize)}, "CurrentPage": {strconv.Itoa(pageNo)}},
			total:  total, size: int(min(listPageSize, total-int64(pageOffset))), firstID: walk.idAtOffset})
	for _, s := range sc {
		if err := ctx.Err(); err != nil {
			return err
		}
		op := &listOp{api: api, s: s}
		// One call first: a wrong answer fails fast, and the first call's
		// statement preparation is not in the figures.
		if err := op.do(ctx, 0); err != nil {
			return fmt.Errorf("bench list: %s: %w", s.name, err)
		}
		res, err := runLoad(ctx, srv, loadgen.Options{Name: s.name, Workers: o.clients, Duration: o.duration, MaxErrors: 100}, op.do)
		if err != nil {
			return err
		}
		res.Extra = fmt.Sprintf("TotalCount %d; %s", s.total, cpuExtra(res))
		res.SetFigure("total_count", float64(s.total))
		r.report.Add(res)
	}
	if err := srv.alive(); err != nil {
		return err
	}
	r.recordServerMemory(srv)
	r.report.Note("Every answer was checked: exact TotalCount, page length, ids newest first, filters obeyed, the right first id at depth.")
	return r.finish()
}

// ---------------------------------------------------------------- seed

const (
	listSeedVersion = "pcad-bench-list-v1"
	listSeedFile    = "bench-seed.json" // in the data directory
	listSeedBatch   = 10_000            // certificates per BulkInsertCertificates call
)

// listSeed describes a seeded store and the exact answers expected of it.
type listSeed struct {
	Kind    string `json:"kind"`
	Version string `json:"version"`
	Certs   int    `json:"certs"`
	// Subs are the sub-CAs, with the certificates issued under each.
	Subs []listSeedCA `json:"subs"`
	// IssueServer counts Status ISSUE and Type SERVER.
	IssueServer int64 `json:"issue_server"`
	// WindowFrom and WindowBefore (UTC, "YYYY-MM-DD") bound a date window
	// on the last change; InWindow counts the certificates in it.
	WindowFrom   string `json:"window_from"`
	WindowBefore string `json:"window_before"`
	InWindow     int64  `json:"in_window"`
}

type listSeedCA struct {
	Identifier   string `json:"identifier"`
	InstanceUUID string `json:"instance_uuid"`
	Certs        int64  `json:"certs"`
}

// scenarios are the filtered first pages, in token mode.
func (s *listSeed) scenarios() []listScenario {
	size := func(total int64) int { return int(min(listPageSize, total)) }
	token := func(kv ...string) url.Values {
		v := url.Values{"MaxResults": {strconv.Itoa(listPageSize)}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	total := int64(s.Certs)
	return []listScenario{
		{name: "token/no-filter", params: token(), total: total, size: size(total)},
		{name: "token/status+type", params: token("Status", "ISSUE", "Type", "SERVER"), total: s.IssueServer, size: size(s.IssueServer),
			status: "ISSUE", typ: "SERVER"},
		{name: "token/parent", params: token("ParentIdentifier", s.Subs[1].Identifier), total: s.Subs[1].Certs, size: size(s.Subs[1].Certs)},
		{name: "token/instance", params: token("InstanceUuid", s.Subs[0].InstanceUUID), total: s.Subs[0].Certs, size: size(s.Subs[0].Certs)},
		{name: "token/date-window", params: token("AfterDate", s.WindowFrom, "BeforeDate", s.WindowBefore), total: s.InWindow, size: size(s.InWindow)},
	}
}

func loadListSeed(dir string) (*listSeed, error) {
	data, err := os.ReadFile(filepath.Join(dir, listSeedFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("bench list: %w", err)
	}
	var s listSeed
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("bench list: %s: %w", listSeedFile, err)
	}
	if s.Kind != "list" || s.Version != listSeedVersion || len(s.Subs) != 2 {
		return nil, fmt.Errorf("bench list: %s was seeded by another version of pcad bench (%s %s): use another --data", dir, s.Kind, s.Version)
	}
	return &s, nil
}

func writeListSeed(dir string, s *listSeed) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, listSeedFile), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("bench list: %w", err)
	}
	return nil
}

// seedListStore makes the first account, a root and two sub-CAs through
// the service (as the API would), then bulk-inserts n end-entity
// certificates under the sub-CAs (70% and 30%) and their instances, with a
// progress bar on progressOut. The data is deterministic but for the
// CAs' keys and identifiers.
func seedListStore(ctx context.Context, st benchStore, publicURL string, n int, progressOut io.Writer) (seed *listSeed, err error) {
	a, act, err := openSeedApp(ctx, st, publicURL)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := a.store.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	subject := func(cn, ou string) pca.Subject {
		return pca.Subject{CommonName: cn, Organization: "Example Corp", OrganizationUnit: ou, Locality: "Hangzhou", State: "Zhejiang", Country: "CN"}
	}
	root, err := a.svc.CreateRootCA(ctx, act, service.RootCARequest{Subject: subject("Example Corp Root CA", "Security"), Years: 10, Algorithm: pca.ECC256})
	if err != nil {
		return nil, fmt.Errorf("bench list: root CA: %w", err)
	}
	seed = &listSeed{Kind: "list", Version: listSeedVersion, Certs: n}
	var subs [2]pca.CA
	var instIDs [2]int64
	for i, name := range []struct{ cn, ou string }{{"Example Corp Web Services CA", "Platform"}, {"Example Corp Device CA", "IoT"}} {
		if subs[i], err = a.svc.CreateSubCA(ctx, act, service.SubCARequest{ParentIdentifier: root.Identifier, Subject: subject(name.cn, name.ou),
			Years: 5, Algorithm: pca.ECC256}); err != nil {
			return nil, fmt.Errorf("bench list: sub-CA: %w", err)
		}
		inst, err := a.store.GetInstance(ctx, act.AccountID, subs[i].InstanceUUID)
		if err != nil {
			return nil, fmt.Errorf("bench list: instance of the sub-CA: %w", err)
		}
		instIDs[i] = inst.ID
		seed.Subs = append(seed.Subs, listSeedCA{Identifier: subs[i].Identifier, InstanceUUID: subs[i].InstanceUUID})
	}

	g := seedgen.New(1)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	from, before := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	seed.WindowFrom, seed.WindowBefore = from.Format(time.DateOnly), before.Format(time.DateOnly)
	step := 2 * 365 * 24 * time.Hour / time.Duration(n) // issued over two years
	bar := newBenchProgress(progressOut, "seeding certificates", n)
	batch := make([]pca.Certificate, 0, listSeedBatch)
	for i := range n {
		k := 0
		if g.IntN(10) >= 7 {
			k = 1
		}
		created := t0.Add(time.Duration(i)*step + time.Duration(g.Int64N(int64(step)))).Truncate(time.Millisecond)
		c, err := g.Cert(subs[k], instIDs[k], i, created)
		if err != nil {
			return nil, err
		}
		seed.Subs[k].Certs++
		if c.Status == pca.StatusIssue && c.Type == pca.TypeServer {
			seed.IssueServer++
		}
		if !c.Changed.Before(from) && c.Changed.Before(before) {
			seed.InWindow++
		}
		batch = append(batch, c)
		if len(batch) == cap(batch) || i == n-1 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := a.store.BulkInsertCertificates(ctx, batch); err != nil {
				return nil, fmt.Errorf("bench list: bulk insert: %w", err)
			}
			batch = batch[:0]
			bar.update(i + 1)
		}
	}
	bar.finish(n)
	return seed, nil
}

// ---------------------------------------------------------------- calls

// listScenario is one measured ListCert call and what its answer must be.
type listScenario struct {
	name        string
	params      url.Values
	total       int64  // TotalCount
	size        int    // length of List
	firstID     int64  // Id of the first item; 0: not checked
	status, typ string // every item's Status and CertificateType, when set
}

// listAnswer is the part of a ListCert answer the checks read.
type listAnswer struct {
	TotalCount int64
	NextToken  string
	List       []struct {
		Id              string
		Status          string
		CertificateType string
	}
}

// ids checks the answer's Ids (digits, strictly descending, each below
// below when below > 0) and returns them.
func (a *listAnswer) ids(below int64) ([]int64, error) {
	out := make([]int64, len(a.List))
	for i, it := range a.List {
		id, err := strconv.ParseInt(it.Id, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("item %d has Id %q", i, it.Id)
		}
		if below > 0 && id >= below {
			return nil, fmt.Errorf("item %d has Id %d, not below %d: not newest first", i, id, below)
		}
		out[i], below = id, id
	}
	return out, nil
}

// listOp calls one scenario and checks the answer.
type listOp struct {
	api *benchAPI
	s   listScenario
}

func (o *listOp) do(ctx context.Context, _ int) error {
	body, err := o.api.callRaw(ctx, "ListCert", o.s.params)
	if err != nil {
		return err
	}
	var a listAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return fmt.Errorf("ListCert: decode answer: %w", err)
	}
	if a.TotalCount != o.s.total {
		return fmt.Errorf("ListCert: TotalCount %d, want %d", a.TotalCount, o.s.total)
	}
	if len(a.List) != o.s.size {
		return fmt.Errorf("ListCert: %d items, want %d", len(a.List), o.s.size)
	}
	ids, err := a.ids(0)
	if err != nil {
		return fmt.Errorf("ListCert: %w", err)
	}
	if o.s.firstID > 0 && len(ids) > 0 && ids[0] != o.s.firstID {
		return fmt.Errorf("ListCert: first Id %d, want %d", ids[0], o.s.firstID)
	}
	for _, it := range a.List {
		if (o.s.status != "" && it.Status != o.s.status) || (o.s.typ != "" && it.CertificateType != o.s.typ) {
			return fmt.Errorf("ListCert: an item is %s %s, the filter asks %s %s", it.Status, it.CertificateType, o.s.status, o.s.typ)
		}
	}
	return nil
}

// tokenWalk is where a token-mode walk ended.
type tokenWalk struct {
	token      string        // NextToken after depth items
	nextID     int64         // Id of the item right after them
	idAtOffset int64         // Id of the item at the page-mode offset
	took       time.Duration // the whole walk
}

// walkToken pages through the unfiltered listing in token mode, 1000 items
// a page, until depth items have been seen, checking every page (exact
// TotalCount, full pages, Ids strictly descending across pages), and
// returns the token for the rest with the Id that follows, and the Id of
// the item at offset (0-based, below depth).
func walkToken(ctx context.Context, api *benchAPI, total int64, depth, offset int, progressOut io.Writer) (tokenWalk, error) {
	var w tokenWalk
	start := time.Now()
	bar := newBenchProgress(progressOut, "walking pages", depth)
	seen := 0
	var below int64
	for seen < depth {
		n := min(1000, depth-seen)
		params := url.Values{"MaxResults": {strconv.Itoa(n)}}
		if w.token != "" {
			params.Set("NextToken", w.token)
		}
		var a listAnswer
		if err := api.call(ctx, "ListCert", params, &a); err != nil {
			return w, err
		}
		if a.TotalCount != total || len(a.List) != n || a.NextToken == "" {
			return w, fmt.Errorf("bench list: walk at %d: TotalCount %d, %d items, NextToken %q; want %d, %d and a token",
				seen, a.TotalCount, len(a.List), a.NextToken, total, n)
		}
		ids, err := a.ids(below)
		if err != nil {
			return w, fmt.Errorf("bench list: walk at %d: %w", seen, err)
		}
		if offset >= seen && offset < seen+n {
			w.idAtOffset = ids[offset-seen]
		}
		below = ids[len(ids)-1]
		seen += n
		w.token = a.NextToken
		bar.update(seen)
	}
	bar.finish(seen)
	var a listAnswer
	if err := api.call(ctx, "ListCert", url.Values{"MaxResults": {"1"}, "NextToken": {w.token}}, &a); err != nil {
		return w, err
	}
	ids, err := a.ids(below)
	if err != nil || len(ids) != 1 || a.TotalCount != total {
		return w, fmt.Errorf("bench list: the page after the walk: %d items, TotalCount %d, %v", len(ids), a.TotalCount, err)
	}
	w.nextID = ids[0]
	w.took = time.Since(start)
	return w, nil
}
