package main

// pcad crl fetch: download a CA's current CRL, check it, write it.

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// maxCRL caps a downloaded CRL (a million entries is about 40 MB).
const maxCRL = 512 << 20

func newCRLCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "crl",
		Short:   "Fetch certificate revocation lists",
		Example: `  pcad crl fetch <CA Identifier>`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	o := withClientFlags(cmd)
	cmd.AddCommand(newCRLFetchCommand(o))
	return cmd
}

// crlRevoked is one entry of the CRL.
type crlRevoked struct {
	SerialNumber   string
	RevocationTime string
}

// crlSummary is what crl fetch prints.
type crlSummary struct {
	CaIdentifier string
	CrlUrl       string
	Issuer       string
	Number       string
	ThisUpdate   string
	NextUpdate   string
	RevokedCount int
	Revoked      []crlRevoked `json:",omitempty"`
	File         string       `json:",omitempty"`
}

func newCRLFetchCommand(o *clientOpts) *cobra.Command {
	var (
		ca, out               string
		asPEM, serials, force bool
	)
	cmd := &cobra.Command{
		Use:   "fetch [CA-IDENTIFIER]",
		Short: "Download a CA's current CRL, verify its signature and write it to a file",
		Long: `Find the CA's CRL address (GetCaInstanceCrlAddress), download the CRL, check that it parses
and is signed by the CA (DescribeCACertificate), and write it: DER by default (CA.crl), PEM with
--pem (CA.crl.pem). --serials also lists the revoked serial numbers.`,
		Example: `  pcad crl fetch <CA Identifier>
  pcad crl fetch --ca <CA Identifier> --pem --out acme.crl.pem --serials
  pcad crl fetch <CA Identifier> -o json --serials | jq -r '.Revoked[].SerialNumber'`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if ca != "" && ca != args[0] {
					return errors.New("name the CA once: as the argument or with --ca")
				}
				ca = args[0]
			}
			if ca == "" {
				return errors.New("name the CA: pcad crl fetch <CA Identifier>")
			}
			c, err := o.newClient()
			if err != nil {
				return err
			}
			if out == "" {
				out = fileBase(ca) + ".crl"
				if asPEM {
					out += ".pem"
				}
			}
			if err := checkNew(force, out); err != nil {
				return err
			}
			ctx := cmd.Context()
			var addr struct{ CrlUrl string }
			if err := c.Do(ctx, "GetCaInstanceCrlAddress", url.Values{"CaIdentifier": {ca}}, &addr); err != nil {
				return err
			}
			if addr.CrlUrl == "" {
				return fmt.Errorf("the CA %s has no CRL address", ca)
			}
			der, err := download(ctx, c.HTTPClient(), addr.CrlUrl)
			if err != nil {
				return err
			}
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				return fmt.Errorf("%s: not a CRL: %w", addr.CrlUrl, err)
			}
			rec, err := describeCA(ctx, c, ca)
			if err != nil {
				return err
			}
			caCert, err := certFromPEM(rec.X509Certificate)
			if err != nil {
				return fmt.Errorf("certificate of CA %s: %w", ca, err)
			}
			if err := crl.CheckSignatureFrom(caCert); err != nil {
				return fmt.Errorf("the CRL at %s is not signed by CA %s: %w", addr.CrlUrl, ca, err)
			}
			data := der
			if asPEM {
				data = pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
			}
			written, err := writeAll([]outFile{{Path: out, What: "CRL", Data: data, Mode: modePublic}}, force)
			if err != nil {
				return err
			}
			s := crlSummary{CaIdentifier: ca, CrlUrl: addr.CrlUrl, Issuer: crl.Issuer.String(),
				ThisUpdate: crl.ThisUpdate.UTC().Format(time.RFC3339), NextUpdate: crl.NextUpdate.UTC().Format(time.RFC3339),
				RevokedCount: len(crl.RevokedCertificateEntries), File: filepath.Clean(out)}
			if crl.Number != nil {
				s.Number = crl.Number.String()
			}
			if serials {
				s.Revoked = make([]crlRevoked, 0, len(crl.RevokedCertificateEntries))
				for _, e := range crl.RevokedCertificateEntries {
					s.Revoked = append(s.Revoked, crlRevoked{SerialNumber: fmt.Sprintf("%x", e.SerialNumber),
						RevocationTime: e.RevocationTime.UTC().Format(time.RFC3339)})
				}
			}
			w := cmd.OutOrStdout()
			if o.output != outTable {
				return printValue(w, o.output, s)
			}
			tw := newTable(w)
			fmt.Fprintf(tw, "CA\t%s\n", s.CaIdentifier)
			fmt.Fprintf(tw, "URL\t%s\n", s.CrlUrl)
			fmt.Fprintf(tw, "Issuer\t%s\n", s.Issuer)
			fmt.Fprintf(tw, "Number\t%s\n", cell(s.Number))
			fmt.Fprintf(tw, "This update\t%s\n", fmtTime(crl.ThisUpdate))
			fmt.Fprintf(tw, "Next update\t%s\n", fmtTime(crl.NextUpdate))
			fmt.Fprintf(tw, "Revoked\t%d\n", s.RevokedCount)
			if err := tw.Flush(); err != nil {
				return err
			}
			if serials && len(s.Revoked) > 0 {
				fmt.Fprintln(w)
				tw = newTable(w)
				fmt.Fprintln(tw, "SERIAL\tREVOKED AT")
				for _, r := range s.Revoked {
					fmt.Fprintf(tw, "%s\t%s\n", r.SerialNumber, r.RevocationTime)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			printWritten(w, written)
			return nil
		},
		ValidArgsFunction: completeCAs(o, ""),
	}
	fl := cmd.Flags()
	fl.StringVar(&ca, "ca", "", "the CA (CaIdentifier), instead of the argument")
	fl.StringVar(&out, "out", "", "file to write (default CA.crl, or CA.crl.pem with --pem)")
	fl.BoolVar(&asPEM, "pem", false, "write PEM (X509 CRL) instead of DER")
	fl.BoolVar(&serials, "serials", false, "list the revoked serial numbers (hex) and times")
	fl.BoolVar(&force, "force", false, "replace the file if it exists")
	_ = cmd.RegisterFlagCompletionFunc("ca", completeCAs(o, ""))
	return cmd
}

// download GETs a public PKI URL (no AccessKey needed) and returns the
// body, decoding PEM if the server sent PEM.
func download(ctx context.Context, hc *http.Client, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("CRL address %q: %w", u, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download the CRL: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("download the CRL: %s answered %s", u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCRL+1))
	if err != nil {
		return nil, fmt.Errorf("download the CRL: %w", err)
	}
	if len(body) > maxCRL {
		return nil, fmt.Errorf("download the CRL: %s is larger than %d bytes", u, maxCRL)
	}
	if strings.HasPrefix(strings.TrimSpace(string(body[:min(len(body), 64)])), "-----BEGIN") {
		if b, _ := pem.Decode(body); b != nil {
			return b.Bytes, nil
		}
	}
	return body, nil
}

// certFromPEM parses the first certificate of a PEM text.
func certFromPEM(s string) (*x509.Certificate, error) {
	b, _ := pem.Decode([]byte(s))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(b.Bytes)
}
