package main

// pcad ca: create root and subordinate CAs, list CAs.

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pcad-dev/pcad/internal/client"
)

func newCACommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Create and list certificate authorities",
		Example: `  pcad ca create-root --cn "Acme Root" --org Acme --ou PKI --locality Hangzhou --state Zhejiang
  pcad ca create-sub --parent <root Identifier> --cn "Acme Issuing"
  pcad ca list`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	o := withClientFlags(cmd)
	cmd.AddCommand(newCACreateRootCommand(o), newCACreateSubCommand(o), newCAListCommand(o))
	return cmd
}

// subjectFlags are the subject of a CA.
type subjectFlags struct {
	subject                               string
	cn, org, ou, locality, state, country string
}

func (s *subjectFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&s.cn, "cn", "", "common name (CommonName)")
	f.StringVar(&s.org, "org", "", "organization (Organization)")
	f.StringVar(&s.ou, "ou", "", "organizational unit (OrganizationUnit)")
	f.StringVar(&s.locality, "locality", "", "locality or city (Locality)")
	f.StringVar(&s.state, "state", "", "state or province (State)")
	f.StringVar(&s.country, "country", "", "two-letter country code (CountryCode)")
	f.StringVar(&s.subject, "subject", "", `the whole subject at once, "/C=CN/ST=Zhejiang/L=Hangzhou/O=Acme/OU=PKI/CN=Acme Root" or "CN=..,O=.."; the single flags win`)
}

// resolve merges --subject and the single flags (which win).
func (s *subjectFlags) resolve() (map[string]string, error) {
	out := map[string]string{}
	if s.subject != "" {
		sep := ","
		text := s.subject
		if strings.HasPrefix(text, "/") {
			sep, text = "/", text[1:]
		}
		names := map[string]string{"CN": "CommonName", "O": "Organization", "OU": "OrganizationUnit", "L": "Locality", "ST": "State", "C": "CountryCode"}
		for part := range strings.SplitSeq(text, sep) {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			name, known := names[strings.ToUpper(strings.TrimSpace(k))]
			if !ok || !known {
				return nil, fmt.Errorf("--subject: %q is not one of CN=, O=, OU=, L=, ST=, C=", part)
			}
			out[name] = strings.TrimSpace(v)
		}
	}
	for name, v := range map[string]string{"CommonName": s.cn, "Organization": s.org, "OrganizationUnit": s.ou,
		"Locality": s.locality, "State": s.state, "CountryCode": s.country} {
		if v != "" {
			out[name] = v
		}
	}
	return out, nil
}

// caCreateFlags are the flags both create commands share.
type caCreateFlags struct {
	subjectFlags
	years    int
	alg      string
	tags     []string
	token    string
	group    string
	certOut  string
	chainOut string
	quiet    bool
	force    bool
}

func (f *caCreateFlags) add(cmd *cobra.Command, years int, algHelp string) {
	f.subjectFlags.add(cmd)
	fl := cmd.Flags()
	fl.IntVar(&f.years, "years", years, "validity in years (Years)")
	fl.StringVar(&f.alg, "alg", "", algHelp)
	fl.StringArrayVar(&f.tags, "tag", nil, "tag key=value (Tags.N); repeat for more")
	fl.StringVar(&f.token, "client-token", "", "idempotency token (ClientToken): a retry with the same token returns the first answer")
	fl.StringVar(&f.group, "resource-group", "", "resource group (ResourceGroupId)")
	fl.StringVar(&f.certOut, "cert-out", "", "also write the CA certificate (PEM) to this file")
	fl.StringVar(&f.chainOut, "chain-out", "", "also write the CA's chain up to the root (PEM) to this file")
	fl.BoolVarP(&f.quiet, "quiet", "q", false, "print only the new CA's Identifier")
	fl.BoolVar(&f.force, "force", false, "replace files that exist")
	_ = cmd.RegisterFlagCompletionFunc("alg", cobra.FixedCompletions(algorithms, cobra.ShellCompDirectiveNoFileComp))
}

// algorithms are the key algorithms pcad issues with.
var algorithms = []string{"ECC_256", "ECC_384", "ECC_512", "RSA_2048", "RSA_4096"}

// caCreated is the answer of the CA create calls.
type caCreated struct {
	Identifier       string
	Certificate      string
	CertificateChain string
}

func newCACreateRootCommand(o *clientOpts) *cobra.Command {
	var f caCreateFlags
	cmd := &cobra.Command{
		Use:   "create-root",
		Short: "Create a self-signed root CA (CreateRootCACertificate)",
		Long: `Create a self-signed root CA. CommonName, Organization, OrganizationUnit, Locality and
State are required by the API: give them with the single flags or --subject.`,
		Example: `  pcad ca create-root --cn "Acme Root" --org Acme --ou PKI --locality Hangzhou --state Zhejiang --country CN
  pcad ca create-root --subject "/C=CN/ST=Zhejiang/L=Hangzhou/O=Acme/OU=PKI/CN=Acme Root" --alg RSA_4096 -q`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.newClient()
			if err != nil {
				return err
			}
			subj, err := f.resolve()
			if err != nil {
				return err
			}
			p := params{}
			for k, v := range subj {
				p.set(k, v)
			}
			p.set("Years", strconv.Itoa(f.years)).set("Algorithm", orDefault(f.alg, "ECC_256"))
			return createCA(cmd, c, o, &f, "CreateRootCACertificate", p)
		},
	}
	f.add(cmd, 10, "key algorithm: ECC_256 (default), ECC_384, ECC_512, RSA_2048, RSA_4096")
	return cmd
}

func newCACreateSubCommand(o *clientOpts) *cobra.Command {
	var (
		f       caCreateFlags
		parent  string
		ekus    []string
		pathLen int
		crl     bool
		crlDays int
		maxDays int
	)
	cmd := &cobra.Command{
		Use:   "create-sub",
		Short: "Create a subordinate (issuing) CA under a root (CreateSubCACertificate)",
		Long: `Create a subordinate CA signed by a root. Subject fields and the key algorithm that are
not given are taken from the parent, so --parent and --cn are enough.`,
		Example: `  pcad ca create-sub --parent <root Identifier> --cn "Acme Issuing"
  pcad ca create-sub --parent <root Identifier> --cn "Acme mTLS" --eku clientAuth --crl --crl-days 7 --years 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.newClient()
			if err != nil {
				return err
			}
			subj, err := f.resolve()
			if err != nil {
				return err
			}
			alg := f.alg
			if alg == "" || len(subj) < 6 {
				// Fill what was not given from the parent.
				pc, err := describeCA(cmd.Context(), c, parent)
				if err != nil {
					return err
				}
				if alg == "" {
					alg = pc.FullAlgorithm
				}
				for k, v := range map[string]string{"Organization": pc.Organization, "OrganizationUnit": pc.OrganizationUnit,
					"Locality": pc.Locality, "State": pc.State, "CountryCode": pc.CountryCode} {
					if _, ok := subj[k]; !ok && v != "" {
						subj[k] = v
					}
				}
			}
			p := params{}
			for k, v := range subj {
				p.set(k, v)
			}
			p.set("ParentIdentifier", parent).set("Years", strconv.Itoa(f.years)).set("Algorithm", alg)
			for i, e := range ekus {
				p.set(fmt.Sprintf("ExtendedKeyUsages.%d", i+1), e)
			}
			if cmd.Flags().Changed("path-len") {
				p.set("PathLenConstraint", strconv.Itoa(pathLen))
			}
			if crl {
				p.set("EnableCrl", "true")
			}
			if crlDays > 0 {
				p.set("CrlDay", strconv.Itoa(crlDays))
			}
			if maxDays > 0 {
				p.set("CertMaxTime", strconv.Itoa(maxDays))
			}
			return createCA(cmd, c, o, &f, "CreateSubCACertificate", p)
		},
	}
	f.add(cmd, 5, "key algorithm (default: the parent's)")
	fl := cmd.Flags()
	fl.StringVar(&parent, "parent", "", "Identifier of the root CA that signs it (ParentIdentifier)")
	fl.StringSliceVar(&ekus, "eku", nil, "extended key usages the CA may issue for, e.g. serverAuth,clientAuth (ExtendedKeyUsages.N)")
	fl.IntVar(&pathLen, "path-len", 0, "path length constraint (PathLenConstraint)")
	fl.BoolVar(&crl, "crl", false, "put a CRL distribution point in the certificates it issues (EnableCrl)")
	fl.IntVar(&crlDays, "crl-days", 0, "validity of its CRLs in days, 1-365 (CrlDay)")
	fl.IntVar(&maxDays, "cert-max-days", 0, "longest validity it may issue, in days (CertMaxTime)")
	_ = cmd.MarkFlagRequired("parent")
	_ = cmd.RegisterFlagCompletionFunc("parent", completeCAs(o, "root"))
	_ = cmd.RegisterFlagCompletionFunc("eku", cobra.FixedCompletions([]string{"serverAuth", "clientAuth", "codeSigning", "emailProtection"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// createCA sends a CA create call and prints and writes the result.
func createCA(cmd *cobra.Command, c *client.Client, o *clientOpts, f *caCreateFlags, action string, p params) error {
	if err := tagParams(p, "Tags", f.tags); err != nil {
		return err
	}
	p.set("ClientToken", f.token).set("ResourceGroupId", f.group)
	if err := checkNew(f.force, f.certOut, f.chainOut); err != nil {
		return err
	}
	resp, err := c.Call(cmd.Context(), action, url.Values(p))
	if err != nil {
		return err
	}
	var ans caCreated
	if err := json.Unmarshal(resp.Body, &ans); err != nil {
		return fmt.Errorf("%s: read answer: %w", action, err)
	}
	var files []outFile
	if f.certOut != "" {
		files = append(files, outFile{Path: f.certOut, What: "CA certificate", Data: []byte(ans.Certificate), Mode: modePublic})
	}
	if f.chainOut != "" {
		files = append(files, outFile{Path: f.chainOut, What: "CA chain", Data: []byte(ans.CertificateChain), Mode: modePublic})
	}
	written, err := writeAll(files, f.force)
	out := cmd.OutOrStdout()
	switch {
	case f.quiet:
		fmt.Fprintln(out, ans.Identifier)
	case o.output != outTable:
		if perr := printData(out, o.output, resp.Body); perr != nil {
			return perr
		}
	default:
		printCertSummary(out, ans.Identifier, ans.Certificate)
	}
	if !f.quiet && o.output == outTable {
		printWritten(out, written)
	}
	return err
}

// printCertSummary prints the main facts of a PEM certificate as
// "name value" lines.
func printCertSummary(w io.Writer, id, certPEM string) {
	tw := newTable(w)
	fmt.Fprintf(tw, "Identifier\t%s\n", id)
	if b, _ := pem.Decode([]byte(certPEM)); b != nil {
		if crt, err := x509.ParseCertificate(b.Bytes); err == nil {
			fmt.Fprintf(tw, "Subject\t%s\n", crt.Subject)
			fmt.Fprintf(tw, "Issuer\t%s\n", crt.Issuer)
			fmt.Fprintf(tw, "Serial\t%x\n", crt.SerialNumber)
			fmt.Fprintf(tw, "Valid\t%s to %s\n", fmtTime(crt.NotBefore), fmtTime(crt.NotAfter))
			if names := sanList(crt); names != "" {
				fmt.Fprintf(tw, "Names\t%s\n", names)
			}
		}
	}
	tw.Flush()
}

func sanList(crt *x509.Certificate) string {
	var names []string
	names = append(names, crt.DNSNames...)
	for _, ip := range crt.IPAddresses {
		names = append(names, ip.String())
	}
	names = append(names, crt.EmailAddresses...)
	for _, u := range crt.URIs {
		names = append(names, u.String())
	}
	return strings.Join(names, ", ")
}

// printWritten says which files were written.
func printWritten(w io.Writer, files []outFile) {
	for _, f := range files {
		fmt.Fprintf(w, "wrote %s (%s, mode %04o)\n", f.Path, f.What, f.Mode)
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// caRecord is the part of a CA record (DescribeCACertificate, the CA list)
// the commands use.
type caRecord struct {
	Identifier       string
	ParentIdentifier string
	CertificateType  string
	Status           string
	CommonName       string
	Organization     string
	OrganizationUnit string
	Locality         string
	State            string
	CountryCode      string
	FullAlgorithm    string
	X509Certificate  string
	AfterDate        int64
}

// describeCA returns one CA.
func describeCA(ctx context.Context, c *client.Client, id string) (caRecord, error) {
	var ans struct{ Certificate caRecord }
	if id == "" {
		return caRecord{}, errors.New("no CA Identifier given")
	}
	if err := c.Do(ctx, "DescribeCACertificate", url.Values{"Identifier": {id}}, &ans); err != nil {
		return caRecord{}, err
	}
	return ans.Certificate, nil
}

func newCAListCommand(o *clientOpts) *cobra.Command {
	var (
		status, certType, valid, id string
		page, size                  int
		all                         bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List CAs (DescribeCACertificateList)",
		Example: `  pcad ca list
  pcad ca list --type subRoot --status issue -o json
  pcad ca list --all -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := o.newClient()
			if err != nil {
				return err
			}
			p := params{}
			p.set("CaStatus", status).set("CertType", certType).set("ValidStatus", valid).set("Identifier", id)
			if all {
				size = 1000
				page = 1
			}
			if size > 0 {
				p.set("ShowSize", strconv.Itoa(size))
			}
			var (
				list  []json.RawMessage
				total int64
				raw   []byte
			)
			for {
				if page > 0 {
					p.set("CurrentPage", strconv.Itoa(page))
				}
				resp, err := c.Call(cmd.Context(), "DescribeCACertificateList", url.Values(p))
				if err != nil {
					return err
				}
				var ans struct {
					TotalCount      int64
					CertificateList []json.RawMessage
				}
				if err := json.Unmarshal(resp.Body, &ans); err != nil {
					return fmt.Errorf("DescribeCACertificateList: read answer: %w", err)
				}
				raw, total = resp.Body, ans.TotalCount
				list = append(list, ans.CertificateList...)
				if !all || len(ans.CertificateList) == 0 || int64(len(list)) >= ans.TotalCount {
					break
				}
				page++
			}
			out := cmd.OutOrStdout()
			if o.output != outTable {
				if all {
					return printValue(out, o.output, struct {
						TotalCount      int64
						CertificateList []json.RawMessage
					}{total, list})
				}
				return printData(out, o.output, raw)
			}
			tw := newTable(out)
			fmt.Fprintln(tw, "IDENTIFIER\tTYPE\tSTATUS\tALGORITHM\tCOMMON NAME\tNOT AFTER\tPARENT")
			for _, it := range list {
				var r caRecord
				if err := json.Unmarshal(it, &r); err != nil {
					return fmt.Errorf("DescribeCACertificateList: read entry: %w", err)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell(r.Identifier), cell(r.CertificateType), cell(r.Status),
					cell(r.FullAlgorithm), cell(r.CommonName), fmtMillis(r.AfterDate), cell(r.ParentIdentifier))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if int64(len(list)) < total {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d of %d shown (--all shows every CA)\n", len(list), total)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&status, "status", "", "issue, forbidden (expired or not yet valid) or revoke (CaStatus)")
	fl.StringVar(&certType, "type", "", "root, subRoot or externalCa (CertType)")
	fl.StringVar(&valid, "valid", "", "valid or notValid (ValidStatus)")
	fl.StringVar(&id, "id", "", "only this CA (Identifier)")
	fl.IntVar(&page, "page", 0, "page number (CurrentPage)")
	fl.IntVar(&size, "page-size", 0, "CAs per page, 1-1000 (ShowSize; default 20)")
	fl.BoolVar(&all, "all", false, "every page")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"issue", "forbidden", "revoke"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("type", cobra.FixedCompletions([]string{"root", "subRoot", "externalCa"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("valid", cobra.FixedCompletions([]string{"valid", "notValid"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("id", completeCAs(o, ""))
	return cmd
}

// completeCAs completes CA Identifiers (of CertType certType, "" for all)
// from the server, with their common names as descriptions.
func completeCAs(o *clientOpts, certType string) cobra.CompletionFunc {
	p := url.Values{"ShowSize": {"100"}, "CaStatus": {"issue"}}
	if certType != "" {
		p.Set("CertType", certType)
	}
	return completeFrom(o, "DescribeCACertificateList", "CertificateList", p)
}

// completeFrom completes Identifiers from one call of action with params:
// the items of the answer's member list, with their CommonName as
// descriptions. Completion never fails loudly: any error completes nothing.
func completeFrom(o *clientOpts, action, list string, params url.Values) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		c, err := o.newClient()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		ctx, cancel := context.WithTimeout(contextOf(cmd), 3*time.Second)
		defer cancel()
		var ans map[string]json.RawMessage
		if err := c.Do(ctx, action, params, &ans); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var items []struct{ Identifier, CommonName string }
		if err := json.Unmarshal(ans[list], &items); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, it := range items {
			out = append(out, cobra.CompletionWithDesc(it.Identifier, it.CommonName))
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}
