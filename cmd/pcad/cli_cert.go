package main

// pcad cert: issue (one name or a file of names), list, get, revoke.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/pcad-dev/pcad/internal/client"
	"github.com/pcad-dev/pcad/internal/keys"
)

func newCertCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Issue, list, fetch and revoke end-entity certificates",
		Example: `  pcad cert issue --ca <sub-CA Identifier> --cn www.example.com --san api.example.com
  pcad cert list --status ISSUE
  pcad cert get <Identifier>
  pcad cert revoke <Identifier>`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	o := withClientFlags(cmd)
	cmd.AddCommand(newCertIssueCommand(o), newCertListCommand(o), newCertGetCommand(o), newCertRevokeCommand(o))
	return cmd
}

// ---- issue ------------------------------------------------------------------

type issueFlags struct {
	ca, typ, cn                       string
	sans, emails, uris                []string
	org, ou, locality, state, country string
	days, months, years               int
	alg                               string
	csrFile                           string
	serverKey                         bool
	keyOut, certOut, chainOut, outDir string
	namesFile                         string
	parallel                          int
	customID                          string
	tags                              []string
	force, quiet                      bool
}

// issueJob is one certificate to issue and the files it goes to.
type issueJob struct {
	cn                        string
	sans                      []string
	csrPEM                    []byte // a caller's request (--csr); nil: make a key here
	keyOut, certOut, chainOut string
}

// issueResult is what one issuance produced (the -o json/yaml output).
type issueResult struct {
	Identifier   string
	SerialNumber string
	CommonName   string
	NotAfter     string            `json:",omitempty"`
	Files        map[string]string `json:",omitempty"` // what -> path
	Error        string            `json:",omitempty"`
	written      []outFile
}

func newCertIssueCommand(o *clientOpts) *cobra.Command {
	var f issueFlags
	cmd := &cobra.Command{
		Use:   "issue",
		Short: "Issue a server or client certificate",
		Long: `Issue a server or client certificate from a sub-CA.

By default the private key is generated here (the key algorithm of the CA unless --alg says
otherwise) and only a certificate request is sent: the key never leaves this machine. It is
written as an unencrypted PKCS#8 PEM file with mode 0600. --csr FILE sends your own request
instead (no key is written); --server-key lets the service generate the key (it can then be
exported again with "pcad cert get --key"), and writes it here too.

Files are named after the common name in --out-dir (NAME.key, NAME.crt, NAME.chain.pem)
unless --key-out, --cert-out or --chain-out name them. An existing file is never overwritten
unless --force is given; the check happens before anything is issued.

--names-file issues one certificate per line of a file ("-" for standard input): the common
name, then optional extra names, separated by spaces; blank lines and lines starting with #
are skipped. A progress bar shows on a terminal.`,
		Example: `  pcad cert issue --ca <sub-CA Identifier> --cn www.example.com --san api.example.com,10.0.0.7 --days 90
  pcad cert issue --ca <sub-CA Identifier> --type client --cn alice --email alice@example.com
  pcad cert issue --ca <sub-CA Identifier> --csr server.csr --cert-out server.crt --chain-out chain.pem
  pcad cert issue --ca <sub-CA Identifier> --names-file hosts.txt --out-dir certs/ --parallel 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.newClient()
			if err != nil {
				return err
			}
			return runIssue(cmd, c, o, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.ca, "ca", "", "Identifier of the issuing sub-CA (ParentIdentifier)")
	fl.StringVar(&f.typ, "type", "server", "server or client")
	fl.StringVar(&f.cn, "cn", "", "common name: a host name or IP for a server, a person or application for a client")
	fl.StringSliceVar(&f.sans, "san", nil, "server: more DNS names and IP addresses (Domain)")
	fl.StringSliceVar(&f.emails, "email", nil, "client: e-mail addresses (SanType 1)")
	fl.StringSliceVar(&f.uris, "uri", nil, "client: URIs (SanType 6)")
	fl.StringVar(&f.org, "org", "", "organization (Organization)")
	fl.StringVar(&f.ou, "ou", "", "organizational unit (OrganizationUnit)")
	fl.StringVar(&f.locality, "locality", "", "locality (Locality)")
	fl.StringVar(&f.state, "state", "", "state or province (State)")
	fl.StringVar(&f.country, "country", "", "two-letter country code (Country)")
	fl.IntVar(&f.days, "days", 0, "validity in days (default 365 when no --days, --months or --years)")
	fl.IntVar(&f.months, "months", 0, "validity in months")
	fl.IntVar(&f.years, "years", 0, "validity in years")
	fl.StringVar(&f.alg, "alg", "", "key algorithm: ECC_256, ECC_384, ECC_512, RSA_2048, RSA_4096 (default: the CA's)")
	fl.StringVar(&f.csrFile, "csr", "", "PEM certificate request to sign instead of generating a key")
	fl.BoolVar(&f.serverKey, "server-key", false, "let the service generate the key (exportable later) and write it here")
	fl.StringVar(&f.keyOut, "key-out", "", "private key file (default OUT-DIR/NAME.key)")
	fl.StringVar(&f.certOut, "cert-out", "", "certificate file (default OUT-DIR/NAME.crt)")
	fl.StringVar(&f.chainOut, "chain-out", "", "chain file, the issuing CA up to the root (default OUT-DIR/NAME.chain.pem)")
	fl.StringVar(&f.outDir, "out-dir", ".", "directory of the files named after the common name")
	fl.StringVar(&f.namesFile, "names-file", "", `issue one certificate per line of this file ("-": standard input)`)
	fl.IntVar(&f.parallel, "parallel", 4, "certificates issued at once with --names-file")
	fl.StringVar(&f.customID, "custom-id", "", "your own unique key for the certificate (CustomIdentifier)")
	fl.StringArrayVar(&f.tags, "tag", nil, "tag key=value (Tags.N); repeat for more")
	fl.BoolVar(&f.force, "force", false, "replace files that exist")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the Identifier of each certificate")
	_ = cmd.MarkFlagRequired("ca")
	_ = cmd.RegisterFlagCompletionFunc("ca", completeCAs(o, "subRoot"))
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"server", "client"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("alg", cobra.FixedCompletions(algorithms, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.MarkFlagFilename("csr", "csr", "pem", "req")
	_ = cmd.MarkFlagDirname("out-dir")
	return cmd
}

func runIssue(cmd *cobra.Command, c *client.Client, o *clientOpts, f *issueFlags) error {
	ctx := cmd.Context()
	if f.typ != "server" && f.typ != "client" {
		return fmt.Errorf("--type %q: want server or client", f.typ)
	}
	if f.typ == "server" && (len(f.emails) > 0 || len(f.uris) > 0) {
		return errors.New("--email and --uri are for --type client; a server takes --san")
	}
	if f.typ == "client" && len(f.sans) > 0 {
		return errors.New("--san is for --type server; a client takes --email or --uri")
	}
	if len(f.emails) > 0 && len(f.uris) > 0 {
		return errors.New("give --email or --uri, not both (the API takes one kind of name per certificate)")
	}
	if f.csrFile != "" && f.serverKey {
		return errors.New("--csr and --server-key exclude each other")
	}
	jobs, err := issueJobs(f)
	if err != nil {
		return err
	}
	var paths []string
	for _, j := range jobs {
		paths = append(paths, j.keyOut, j.certOut, j.chainOut)
	}
	if err := checkNew(f.force, paths...); err != nil {
		return err
	}
	alg := f.alg
	if alg == "" && f.csrFile == "" {
		ca, err := describeCA(ctx, c, f.ca)
		if err != nil {
			return err
		}
		alg = ca.FullAlgorithm
	}
	if alg != "" && !f.serverKey && f.csrFile == "" {
		if _, err := newKey(alg); err != nil { // fail early on a bad --alg
			return err
		}
	}
	base, err := issueParams(f)
	if err != nil {
		return err
	}

	results := make([]issueResult, len(jobs))
	errOut := cmd.ErrOrStderr()
	var bar *progress
	if f.namesFile != "" {
		bar = newProgress(errOut, "issuing", int64(len(jobs)))
	}
	var (
		mu       sync.Mutex
		failed   int
		firstErr error
	)
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(f.parallel, len(jobs))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				res, err := issueOne(ctx, c, f, alg, base, jobs[i])
				if err != nil {
					res.CommonName, res.Error = jobs[i].cn, err.Error()
					mu.Lock()
					failed++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					if f.namesFile != "" {
						bar.withClear(func() { fmt.Fprintf(errOut, "pcad: %s: %v\n", jobs[i].cn, err) })
					}
				}
				results[i] = res
				bar.Add(1)
			}
		}()
	}
	for i := range jobs {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if bar != nil {
		bar.Finish()
	}

	out := cmd.OutOrStdout()
	switch {
	case f.quiet:
		for _, r := range results {
			if r.Error == "" {
				fmt.Fprintln(out, r.Identifier)
			}
		}
	case o.output != outTable:
		var v any = results
		if f.namesFile == "" {
			v = results[0]
		}
		if err := printValue(out, o.output, v); err != nil {
			return err
		}
	case f.namesFile == "":
		if results[0].Error == "" {
			printCertSummary(out, results[0].Identifier, string(certOf(results[0])))
		}
		printWritten(out, results[0].written)
	default:
		tw := newTable(out)
		fmt.Fprintln(tw, "IDENTIFIER\tCOMMON NAME\tNOT AFTER\tFILES")
		for _, r := range results {
			if r.Error != "" {
				continue
			}
			var names []string
			for _, w := range r.written {
				names = append(names, w.Path)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Identifier, cell(r.CommonName), cell(r.NotAfter), strings.Join(names, " "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if failed > 0 {
		if len(jobs) == 1 {
			return firstErr
		}
		return fmt.Errorf("%d of %d certificates failed; the first: %w", failed, len(jobs), firstErr)
	}
	return ctx.Err()
}

// certOf returns the certificate PEM a result wrote.
func certOf(r issueResult) []byte {
	for _, w := range r.written {
		if w.What == "certificate" {
			return w.Data
		}
	}
	return nil
}

// issueJobs turns the flags into the certificates to issue.
func issueJobs(f *issueFlags) ([]issueJob, error) {
	if f.namesFile == "" {
		j := issueJob{cn: f.cn, sans: f.sans}
		if f.csrFile != "" {
			pemBytes, err := os.ReadFile(f.csrFile)
			if err != nil {
				return nil, fmt.Errorf("--csr: %w", err)
			}
			csr, err := parseCSR(pemBytes)
			if err != nil {
				return nil, fmt.Errorf("--csr %s: %w", f.csrFile, err)
			}
			j.csrPEM = pemBytes
			if j.cn == "" {
				j.cn = csr.Subject.CommonName
			}
			if len(j.sans) == 0 && f.typ == "server" {
				j.sans = append(j.sans, csr.DNSNames...)
				for _, ip := range csr.IPAddresses {
					j.sans = append(j.sans, ip.String())
				}
			}
			if f.typ == "client" && len(f.emails) == 0 && len(f.uris) == 0 {
				f.emails = csr.EmailAddresses
				for _, u := range csr.URIs {
					f.uris = append(f.uris, u.String())
				}
				if len(f.emails) > 0 && len(f.uris) > 0 {
					f.uris = nil // one kind of name per certificate: keep the e-mail addresses
				}
			}
		}
		if j.cn == "" {
			return nil, errors.New("give --cn (or a --csr with a common name, or --names-file)")
		}
		stem := filepath.Join(f.outDir, fileBase(j.cn))
		j.certOut = orDefault(f.certOut, stem+".crt")
		j.chainOut = orDefault(f.chainOut, stem+".chain.pem")
		if j.csrPEM == nil {
			j.keyOut = orDefault(f.keyOut, stem+".key")
		} else if f.keyOut != "" {
			return nil, errors.New("--key-out: with --csr the key is yours; no key is written")
		}
		return []issueJob{j}, nil
	}
	switch {
	case f.csrFile != "":
		return nil, errors.New("--names-file generates a key per name; it does not take --csr")
	case f.cn != "" || f.keyOut != "" || f.certOut != "" || f.chainOut != "":
		return nil, errors.New("--names-file names the files after each line's common name in --out-dir; drop --cn, --key-out, --cert-out and --chain-out")
	}
	var r io.Reader
	if f.namesFile == "-" {
		r = os.Stdin
	} else {
		fh, err := os.Open(f.namesFile)
		if err != nil {
			return nil, fmt.Errorf("--names-file: %w", err)
		}
		defer fh.Close()
		r = fh
	}
	var jobs []issueJob
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		stem := filepath.Join(f.outDir, fileBase(fields[0]))
		if seen[stem] {
			return nil, fmt.Errorf("--names-file line %d: %s is there twice (or maps to the same file names)", n, fields[0])
		}
		seen[stem] = true
		j := issueJob{cn: fields[0], certOut: stem + ".crt", chainOut: stem + ".chain.pem", keyOut: stem + ".key"}
		if f.typ == "server" {
			j.sans = append(append([]string(nil), f.sans...), fields[1:]...)
		} else if len(fields) > 1 {
			return nil, fmt.Errorf("--names-file line %d: extra names are for server certificates", n)
		}
		jobs = append(jobs, j)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--names-file: %w", err)
	}
	if len(jobs) == 0 {
		return nil, fmt.Errorf("--names-file %s holds no names", f.namesFile)
	}
	return jobs, nil
}

func parseCSR(pemBytes []byte) (*x509.CertificateRequest, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil || b.Type != "CERTIFICATE REQUEST" && b.Type != "NEW CERTIFICATE REQUEST" {
		return nil, errors.New("not a PEM CERTIFICATE REQUEST")
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate request: %w", err)
	}
	return csr, nil
}

// issueParams are the parameters every certificate of one command shares.
func issueParams(f *issueFlags) (params, error) {
	p := params{}
	p.set("ParentIdentifier", f.ca).set("Immediately", "2").
		set("Organization", f.org).set("OrganizationUnit", f.ou).set("Locality", f.locality).
		set("State", f.state).set("Country", f.country).set("CustomIdentifier", f.customID)
	if f.days == 0 && f.months == 0 && f.years == 0 {
		f.days = 365
	}
	for name, n := range map[string]int{"Days": f.days, "Months": f.months, "Years": f.years} {
		if n != 0 {
			p.set(name, strconv.Itoa(n))
		}
	}
	if len(f.emails) > 0 {
		p.set("SanType", "1").set("SanValue", strings.Join(f.emails, ","))
	}
	if len(f.uris) > 0 {
		p.set("SanType", "6").set("SanValue", strings.Join(f.uris, ","))
	}
	return p, tagParams(p, "Tags", f.tags)
}

// issued is the answer of the issue calls with Immediately=2.
type issued struct {
	Identifier       string
	SerialNumber     string
	X509Certificate  string
	CertificateChain string
}

// issueOne issues one certificate and writes its files.
func issueOne(ctx context.Context, c *client.Client, f *issueFlags, alg string, base params, j issueJob) (issueResult, error) {
	p := params{}
	for k, v := range base {
		p[k] = append([]string(nil), v...)
	}
	if f.typ == "server" {
		p.set("Domain", strings.Join(j.sans, ","))
	}
	kind := "Server"
	if f.typ == "client" {
		kind = "Client"
	}
	var (
		action      string
		keyPEMBytes []byte
	)
	switch {
	case f.serverKey:
		action = "Create" + kind + "Certificate"
		p.set("CommonName", j.cn).set("Algorithm", alg)
	case j.csrPEM != nil:
		action = "Create" + kind + "CertificateWithCsr"
		p.set("Csr", string(j.csrPEM))
		if f.cn != "" {
			p.set("CommonName", f.cn)
		}
	default:
		action = "Create" + kind + "CertificateWithCsr"
		key, err := newKey(alg)
		if err != nil {
			return issueResult{}, err
		}
		der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: j.cn}}, key)
		if err != nil {
			return issueResult{}, fmt.Errorf("make certificate request: %w", err)
		}
		p.set("Csr", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})))
		if keyPEMBytes, err = keyPEM(key); err != nil {
			return issueResult{}, err
		}
	}
	var ans issued
	if err := c.Do(ctx, action, url.Values(p), &ans); err != nil {
		return issueResult{}, err
	}
	res := issueResult{Identifier: ans.Identifier, SerialNumber: ans.SerialNumber, CommonName: j.cn}
	if b, _ := pem.Decode([]byte(ans.X509Certificate)); b != nil {
		if crt, err := x509.ParseCertificate(b.Bytes); err == nil {
			res.NotAfter = crt.NotAfter.UTC().Format(time.RFC3339)
		}
	}
	if f.serverKey {
		var err error
		if keyPEMBytes, err = exportKey(ctx, c, ans.Identifier); err != nil {
			return res, fmt.Errorf("issued %s, but exporting its key failed: %w", ans.Identifier, err)
		}
	}
	var files []outFile
	if keyPEMBytes != nil {
		files = append(files, outFile{Path: j.keyOut, What: "private key", Data: keyPEMBytes, Mode: modeKey})
	}
	files = append(files,
		outFile{Path: j.certOut, What: "certificate", Data: []byte(ans.X509Certificate), Mode: modePublic},
		outFile{Path: j.chainOut, What: "chain", Data: []byte(ans.CertificateChain), Mode: modePublic})
	written, err := writeAll(files, f.force)
	res.written = written
	res.Files = filesMap(written)
	if err != nil {
		return res, fmt.Errorf("issued %s, but: %w", ans.Identifier, err)
	}
	return res, nil
}

func filesMap(files []outFile) map[string]string {
	if len(files) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, f := range files {
		m[f.What] = f.Path
	}
	return m
}

// exportKey fetches the service-held private key of a certificate
// (DescribeCertificatePrivateKey) under a one-time random password, opens
// it here and returns it as an unencrypted PKCS#8 PEM.
func exportKey(ctx context.Context, c *client.Client, id string) ([]byte, error) {
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	pw := make([]byte, 24)
	for i := range pw {
		var b [1]byte
		for {
			_, _ = rand.Read(b[:])
			if int(b[0]) < 256-256%len(letters) {
				break
			}
		}
		pw[i] = letters[int(b[0])%len(letters)]
	}
	var ans struct{ EncryptedData string }
	if err := c.Do(ctx, "DescribeCertificatePrivateKey", url.Values{"Identifier": {id}, "EncryptedCode": {string(pw)}}, &ans); err != nil {
		return nil, err
	}
	key, err := keys.DecryptPKCS8PEM([]byte(ans.EncryptedData), pw)
	if err != nil {
		return nil, fmt.Errorf("open the exported key: %w", err)
	}
	return keyPEM(key)
}

// ---- list -------------------------------------------------------------------

// listEntry is the part of a ListCert entry the table shows.
type listEntry struct {
	Identifier      string
	SerialNumber    string
	CertificateType string
	Status          string
	CommonName      string
	AfterTime       int64
}

// listPage is one ListCert answer.
type listPage struct {
	TotalCount json.Number
	NextToken  string
	List       []json.RawMessage
}

func newCertListCommand(o *clientOpts) *cobra.Command {
	var (
		status, typ, ca, instance, after, before, token string
		page, size, maxResults                          int
		all                                             bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List certificates (ListCert)",
		Long: `List end-entity certificates with ListCert, newest change first. Every ListCert filter
is a flag. Without --all one page is shown (page mode with --page/--page-size, token mode with
--max-results/--next-token); --all walks every page with NextToken and shows a progress bar
on a terminal. Dates are UTC, "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS", on the last change.`,
		Example: `  pcad cert list
  pcad cert list --status REVOKE --type SERVER --ca <sub-CA Identifier>
  pcad cert list --after "2026-01-01" --before "2026-02-01 12:00:00" -o json
  pcad cert list --all -o yaml > inventory.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.newClient()
			if err != nil {
				return err
			}
			p := params{}
			p.set("Status", strings.ToUpper(status)).set("Type", strings.ToUpper(typ)).set("ParentIdentifier", ca).
				set("InstanceUuid", instance).set("AfterDate", after).set("BeforeDate", before).set("NextToken", token)
			if all {
				if page > 0 {
					return errors.New("--all walks pages with NextToken; it does not take --page")
				}
				n := firstPositive(maxResults, size, 1000)
				p.set("MaxResults", strconv.Itoa(n))
				return listAll(cmd, c, o, p)
			}
			if page > 0 {
				p.set("CurrentPage", strconv.Itoa(page))
			}
			if size > 0 {
				p.set("ShowSize", strconv.Itoa(size))
			}
			if maxResults > 0 {
				p.set("MaxResults", strconv.Itoa(maxResults))
			}
			resp, err := c.Call(cmd.Context(), "ListCert", url.Values(p))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if o.output != outTable {
				return printData(out, o.output, resp.Body)
			}
			var ans listPage
			if err := json.Unmarshal(resp.Body, &ans); err != nil {
				return fmt.Errorf("ListCert: read answer: %w", err)
			}
			tw := newTable(out)
			writeListHeader(tw)
			if err := writeListRows(tw, ans.List); err != nil {
				return err
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if ans.NextToken != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d of %s shown; next page: --next-token %s (or --all)\n", len(ans.List), ans.TotalCount, ans.NextToken)
			} else if total, _ := ans.TotalCount.Int64(); total > int64(len(ans.List)) && maxResults == 0 && token == "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d of %d shown (--page, --page-size, or --all for every certificate)\n", len(ans.List), total)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&status, "status", "", "ISSUE or REVOKE (Status)")
	fl.StringVar(&typ, "type", "", "SERVER, CLIENT or END_ENTITY (Type)")
	fl.StringVar(&ca, "ca", "", "issuing sub-CA Identifier (ParentIdentifier)")
	fl.StringVar(&instance, "instance", "", "end-entity instance UUID (InstanceUuid)")
	fl.StringVar(&after, "after", "", "changed at or after this UTC date (AfterDate)")
	fl.StringVar(&before, "before", "", "changed at or before this UTC date (BeforeDate)")
	fl.IntVar(&page, "page", 0, "page number, page mode (CurrentPage)")
	fl.IntVar(&size, "page-size", 0, "certificates per page, 1-1000 (ShowSize; default 50)")
	fl.IntVar(&maxResults, "max-results", 0, "certificates per page, token mode, 1-1000 (MaxResults)")
	fl.StringVar(&token, "next-token", "", "continue after a previous page (NextToken)")
	fl.BoolVar(&all, "all", false, "walk every page (NextToken)")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"ISSUE", "REVOKE"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"SERVER", "CLIENT", "END_ENTITY"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("ca", completeCAs(o, "subRoot"))
	return cmd
}

// firstPositive returns the first positive value.
func firstPositive(vals ...int) int {
	for _, v := range vals {
		if v > 0 {
			return v
		}
	}
	return 0
}

func writeListHeader(w io.Writer) {
	fmt.Fprintln(w, "IDENTIFIER\tSERIAL\tTYPE\tSTATUS\tCOMMON NAME\tNOT AFTER")
}

func writeListRows(w io.Writer, items []json.RawMessage) error {
	for _, it := range items {
		var e listEntry
		if err := json.Unmarshal(it, &e); err != nil {
			return fmt.Errorf("ListCert: read entry: %w", err)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", cell(e.Identifier), cell(e.SerialNumber), cell(e.CertificateType),
			cell(e.Status), cell(e.CommonName), fmtMillis(e.AfterTime))
	}
	return nil
}

// listAll walks ListCert with NextToken and streams the entries: table rows
// page by page, or one JSON/YAML document {TotalCount, List} whose list is
// written as it arrives, so a large inventory never sits in memory.
func listAll(cmd *cobra.Command, c *client.Client, o *clientOpts, p params) error {
	ctx := cmd.Context()
	out := bufio.NewWriter(cmd.OutOrStdout())
	defer out.Flush()
	bar := newProgress(cmd.ErrOrStderr(), "listing", 0)
	var (
		tw    = newTable(out)
		n     int
		total json.Number
	)
	for first := true; ; first = false {
		resp, err := c.Call(ctx, "ListCert", url.Values(p))
		if err != nil {
			bar.Clear()
			out.Flush()
			return err
		}
		var ans listPage
		if err := json.Unmarshal(resp.Body, &ans); err != nil {
			return fmt.Errorf("ListCert: read answer: %w", err)
		}
		if first {
			total = ans.TotalCount
			t, _ := total.Int64()
			bar.SetTotal(t)
			switch o.output {
			case outJSON:
				fmt.Fprintf(out, "{\n  \"TotalCount\": %s,\n  \"List\": [", orDefault(total.String(), "0"))
			case outYAML:
				fmt.Fprintf(out, "TotalCount: %s\nList:", orDefault(total.String(), "0"))
			default:
				writeListHeader(tw)
			}
		}
		for _, it := range ans.List {
			switch o.output {
			case outJSON:
				if n > 0 {
					out.WriteString(",")
				}
				var ib bytes.Buffer
				if err := json.Indent(&ib, it, "    ", "  "); err != nil {
					return fmt.Errorf("ListCert: read entry: %w", err)
				}
				out.WriteString("\n    ")
				out.Write(ib.Bytes())
			case outYAML:
				if n == 0 {
					out.WriteString("\n")
				}
				out.WriteString("  ")
				if err := writeYAMLItem(out, it, 2); err != nil {
					return err
				}
			}
			n++
		}
		if o.output == outTable {
			if err := writeListRows(tw, ans.List); err != nil {
				return err
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		bar.Add(int64(len(ans.List)))
		if ans.NextToken == "" || len(ans.List) == 0 {
			break
		}
		url.Values(p).Set("NextToken", ans.NextToken)
	}
	if bar != nil {
		bar.Finish()
	}
	switch o.output {
	case outJSON:
		if n > 0 {
			out.WriteString("\n  ")
		}
		out.WriteString("]\n}\n")
	case outYAML:
		if n == 0 {
			out.WriteString(" []\n")
		}
	}
	return out.Flush()
}

// ---- get --------------------------------------------------------------------

// certDetail is the part of DescribeClientCertificate's Certificate the
// command uses.
type certDetail struct {
	Identifier      string
	SerialNumber    string
	CommonName      string
	Status          string
	X509Certificate string
	CertChain       string
}

func newCertGetCommand(o *clientOpts) *cobra.Command {
	var (
		certOut, chainOut, keyOut, outDir string
		withKey, force                    bool
	)
	cmd := &cobra.Command{
		Use:   "get IDENTIFIER",
		Short: "Write a certificate, its chain and optionally its key as PEM files",
		Long: `Fetch a certificate (DescribeClientCertificate) and write it and its chain as PEM files,
by default IDENTIFIER.crt and IDENTIFIER.chain.pem in --out-dir. With --key (or --key-out) the
private key is exported too (DescribeCertificatePrivateKey; only for keys the service
generated): it travels encrypted under a one-time password and is written here as an
unencrypted PKCS#8 PEM file with mode 0600. Existing files are not overwritten unless --force.`,
		Example: `  pcad cert get <Identifier>
  pcad cert get <Identifier> --key --out-dir /etc/ssl/www
  pcad cert get <Identifier> --cert-out www.crt --chain-out chain.pem --key-out www.key -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.newClient()
			if err != nil {
				return err
			}
			id := args[0]
			stem := filepath.Join(outDir, fileBase(id))
			certOut = orDefault(certOut, stem+".crt")
			chainOut = orDefault(chainOut, stem+".chain.pem")
			if withKey {
				keyOut = orDefault(keyOut, stem+".key")
			}
			if err := checkNew(force, keyOut, certOut, chainOut); err != nil {
				return err
			}
			ctx := cmd.Context()
			var ans struct{ Certificate certDetail }
			if err := c.Do(ctx, "DescribeClientCertificate", url.Values{"Identifier": {id}}, &ans); err != nil {
				return err
			}
			d := ans.Certificate
			var files []outFile
			if keyOut != "" {
				k, err := exportKey(ctx, c, id)
				if err != nil {
					return err
				}
				files = append(files, outFile{Path: keyOut, What: "private key", Data: k, Mode: modeKey})
			}
			files = append(files,
				outFile{Path: certOut, What: "certificate", Data: []byte(d.X509Certificate), Mode: modePublic},
				outFile{Path: chainOut, What: "chain", Data: []byte(d.CertChain), Mode: modePublic})
			written, werr := writeAll(files, force)
			out := cmd.OutOrStdout()
			if o.output != outTable {
				res := issueResult{Identifier: d.Identifier, SerialNumber: d.SerialNumber, CommonName: d.CommonName, Files: filesMap(written)}
				if b, _ := pem.Decode([]byte(d.X509Certificate)); b != nil {
					if crt, err := x509.ParseCertificate(b.Bytes); err == nil {
						res.NotAfter = crt.NotAfter.UTC().Format(time.RFC3339)
					}
				}
				if err := printValue(out, o.output, struct {
					issueResult
					Status string
				}{res, d.Status}); err != nil {
					return err
				}
				return werr
			}
			printCertSummary(out, d.Identifier, d.X509Certificate)
			fmt.Fprintf(out, "Status      %s\n", d.Status)
			printWritten(out, written)
			return werr
		},
		ValidArgsFunction: completeCerts(o, ""),
	}
	fl := cmd.Flags()
	fl.StringVar(&certOut, "cert-out", "", "certificate file (default OUT-DIR/IDENTIFIER.crt)")
	fl.StringVar(&chainOut, "chain-out", "", "chain file (default OUT-DIR/IDENTIFIER.chain.pem)")
	fl.BoolVar(&withKey, "key", false, "also export the private key (default file OUT-DIR/IDENTIFIER.key)")
	fl.StringVar(&keyOut, "key-out", "", "export the private key to this file")
	fl.StringVar(&outDir, "out-dir", ".", "directory of the default file names")
	fl.BoolVar(&force, "force", false, "replace files that exist")
	_ = cmd.MarkFlagDirname("out-dir")
	return cmd
}

// completeCerts completes certificate Identifiers (of status, "" for any)
// from the server, newest first, with their common names.
func completeCerts(o *clientOpts, status string) cobra.CompletionFunc {
	p := url.Values{"ShowSize": {"100"}}
	if status != "" {
		p.Set("Status", status)
	}
	return completeFrom(o, "ListCert", "List", p)
}

// contextOf is cmd's context, or a background one (completion may run
// without one).
func contextOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// ---- revoke -----------------------------------------------------------------

func newCertRevokeCommand(o *clientOpts) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "revoke IDENTIFIER...",
		Short: "Revoke certificates (CreateRevokeClientCertificate)",
		Long: `Revoke one or more certificates. The revocation reaches the CA's CRL and the OCSP responder
within moments ("pcad crl fetch" shows it).`,
		Example: `  pcad cert revoke <Identifier>
  pcad cert list --status ISSUE --ca <sub-CA Identifier> -o json | jq -r '.List[].Identifier' | xargs pcad cert revoke`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.newClient()
			if err != nil {
				return err
			}
			type revoked struct {
				Identifier string
				RequestId  string `json:",omitempty"`
				Error      string `json:",omitempty"`
			}
			var (
				results  []revoked
				firstErr error
				failed   int
			)
			out := cmd.OutOrStdout()
			for _, id := range args {
				var ans struct{ RequestId string }
				err := c.Do(cmd.Context(), "CreateRevokeClientCertificate", url.Values{"Identifier": {id}}, &ans)
				r := revoked{Identifier: id, RequestId: ans.RequestId}
				if err != nil {
					r.Error = err.Error()
					failed++
					if firstErr == nil {
						firstErr = err
					}
					if len(args) > 1 {
						fmt.Fprintf(cmd.ErrOrStderr(), "pcad: %s: %v\n", id, err)
					}
				} else if o.output == outTable {
					fmt.Fprintf(out, "revoked %s\n", id)
				}
				results = append(results, r)
			}
			if o.output != outTable {
				if err := printValue(out, o.output, results); err != nil {
					return err
				}
			}
			switch {
			case failed == 0:
				return nil
			case len(args) == 1:
				return firstErr
			}
			return fmt.Errorf("%d of %d revocations failed; the first: %w", failed, len(args), firstErr)
		},
		ValidArgsFunction: completeCerts(o, "ISSUE"),
	}
	return cmd
}
