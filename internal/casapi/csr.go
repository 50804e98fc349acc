package casapi

// Issuance from a caller's certificate request: CreateServerCertificateWithCsr,
// CreateClientCertificateWithCsr, CreateCustomCertificate (ApiPassthrough
// flattened with dots) and CreateExternalCACertificate (ApiPassthrough as
// one JSON text).

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/service"
)

// bindCSRIssue reads the parameters shared by the two *WithCsr calls: as
// bindIssue, but Algorithm and CommonName are optional (the request
// supplies the key and, by default, the subject) and Csr is required.
func bindCSRIssue(b *binder, t pca.CertType) service.CSRIssueRequest {
	req := service.CSRIssueRequest{
		Type:             t,
		ParentIdentifier: b.str("ParentIdentifier", true, 64),
		CSR:              b.str("Csr", true, 0),
		Algorithm:        b.algorithm("Algorithm", false),
		Subject:          leafSubject(b, false),
		Validity:         leafValidity(b),
	}
	req.CustomIdentifier, req.ResourceGroupID, req.Tags = leafLabels(b)
	return req
}

// issueCSR issues req for the key of the caller's request (see issueWith).
func (a *API) issueCSR(ctx context.Context, r *openapi.Request, b *binder, req service.CSRIssueRequest) (issued, error) {
	return a.issueWith(ctx, r, b, func() (pca.Certificate, error) { return a.svc.IssueFromCSR(ctx, actor(r), req) })
}

func (a *API) createServerWithCsr(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := bindCSRIssue(b, pca.TypeServer)
	req.Domain = b.str("Domain", false, 0)
	return a.issueCSR(ctx, r, b, req)
}

// clientCSRIssued is CreateClientCertificateWithCsr's response: the common
// issue response plus the SM2 dual-certificate KMC fields, always empty
// (pcad does not do SM2).
type clientCSRIssued struct {
	issued
	CertSignBufKmc string `json:"CertSignBufKmc"`
	CertKmcRep1    string `json:"CertKmcRep1"`
}

func (a *API) createClientWithCsr(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := bindCSRIssue(b, pca.TypeClient)
	req.SanType = int(b.integer("SanType", false, 0, 8, 0))
	req.SanValue = b.str("SanValue", false, 0)
	out, err := a.issueCSR(ctx, r, b, req)
	if err != nil {
		return nil, err
	}
	return clientCSRIssued{issued: out}, nil
}

// customIssued is CreateCustomCertificate's response: the certificate is
// named Certificate here, not X509Certificate.
type customIssued struct {
	Identifier       string `json:"Identifier"`
	SerialNumber     string `json:"SerialNumber,omitempty"`
	Certificate      string `json:"Certificate,omitempty"`
	CertificateChain string `json:"CertificateChain,omitempty"`
}

// passthroughPrefix starts every flattened ApiPassthrough parameter.
const passthroughPrefix = "ApiPassthrough."

// subjectParams are the fields of ApiPassthrough.Subject besides
// CustomAttributes.
var subjectParams = []string{"CommonName", "Organization", "OrganizationUnit", "Locality", "State", "Country"}

func (a *API) createCustom(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := service.CustomCertRequest{
		ParentIdentifier: b.str("ParentIdentifier", true, 64),
		CSR:              b.str("Csr", true, 0),
		Validity:         b.str("Validity", true, 0),
		Passthrough:      bindPassthrough(b),
		CustomIdentifier: b.strFold("customIdentifier", 64),
		ResourceGroupID:  b.str("ResourceGroupId", false, 64),
		Tags:             b.tags("Tags"),
	}
	b.flag("EnableCrl")
	immediately := b.integer("Immediately", false, 0, 2, 0)
	if b.err != nil {
		return nil, b.err
	}
	c, err := a.svc.IssueCustom(ctx, actor(r), req)
	if err != nil {
		return nil, err
	}
	out := customIssued{Identifier: c.Identifier}
	if immediately >= 1 {
		out.SerialNumber, out.Certificate = c.SerialNumber, certPEM(c.DER)
	}
	if immediately == 2 {
		if out.CertificateChain, err = a.issuerChain(ctx, r, c.ParentIdentifier); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// issuerChain returns the PEM chain of the issuing CA up to its root.
func (a *API) issuerChain(ctx context.Context, r *openapi.Request, parent string) (string, error) {
	ca, err := a.svc.GetCA(ctx, actor(r), "ParentIdentifier", parent)
	if err != nil {
		return "", err
	}
	chain, err := a.svc.Chain(ctx, actor(r), ca)
	if err != nil {
		return "", err
	}
	return chainPEM(chain), nil
}

// strFold reads an optional string parameter whose name may arrive in any
// letter case (CreateCustomCertificate sends customIdentifier; other
// clients send CustomIdentifier).
func (b *binder) strFold(name string, maxLen int) string {
	v, ok := b.p.GetFold(name)
	if !ok {
		return ""
	}
	v = strings.TrimSpace(v)
	switch {
	case !utf8.ValidString(v):
		b.fail(pca.Invalid(name, "The specified parameter %s is not valid UTF-8.", name))
	case utf8.RuneCountInString(v) > maxLen:
		b.fail(pca.Invalid(name, "The specified parameter %s is too long: at most %d characters.", name, maxLen))
	}
	return v
}

// bindPassthrough reads the flattened ApiPassthrough of
// CreateCustomCertificate (spec A.2):
//
//	ApiPassthrough.SerialNumber
//	ApiPassthrough.Subject.{CommonName,Organization,OrganizationUnit,Locality,State,Country}
//	ApiPassthrough.Subject.CustomAttributes.N.{ObjectIdentifier,Value}
//	ApiPassthrough.Extensions.KeyUsage.<Name> = true|false
//	ApiPassthrough.Extensions.ExtendedKeyUsages.N
//	ApiPassthrough.Extensions.SubjectAlternativeNames.N.{Type,Value}
//	ApiPassthrough.Extensions.Criticals.N
//
// Any Subject parameter (CustomAttributes included) means a Subject was
// given, which replaces the request's. Every other ApiPassthrough.* name,
// and a list index after a gap, is refused rather than ignored: a
// misspelt field of a certificate profile must not pass unnoticed. A bare
// ApiPassthrough (the JSON form of CreateExternalCACertificate) is refused
// too.
func bindPassthrough(b *binder) service.Passthrough {
	var pt service.Passthrough
	used := map[string]bool{}
	get := func(name string) (string, bool) {
		used[name] = true
		return b.p.Get(name)
	}
	if _, ok := b.p.Get("ApiPassthrough"); ok {
		b.fail(pca.Invalid("ApiPassthrough", "The specified parameter ApiPassthrough is not valid: CreateCustomCertificate takes it flattened, as ApiPassthrough.Subject.CommonName, ApiPassthrough.Extensions.KeyUsage.DigitalSignature and so on."))
	}
	if v, ok := get(pki.ParamSerialNumber); ok {
		pt.SerialNumber = strings.TrimSpace(v)
		if pt.SerialNumber == "" {
			b.fail(pca.Invalid(pki.ParamSerialNumber, "The specified parameter %s is empty: omit it for a random serial number.", pki.ParamSerialNumber))
		}
	}

	var subj pca.Subject
	given := false
	fields := []*string{&subj.CommonName, &subj.Organization, &subj.OrganizationUnit, &subj.Locality, &subj.State, &subj.Country}
	for i, f := range subjectParams {
		if v, ok := get(pki.ParamSubject + "." + f); ok {
			*fields[i], given = v, true
		}
	}
	for i, o := range b.objects(pki.ParamCustomAttributes, used, "ObjectIdentifier", "Value") {
		if o == nil {
			continue
		}
		given = true
		if strings.TrimSpace(o["ObjectIdentifier"]) == "" {
			b.fail(pca.Invalid(pki.ParamCustomAttributes, "The specified parameter %s.%d.ObjectIdentifier is missing or empty.", pki.ParamCustomAttributes, i+1))
		}
		pt.CustomAttributes = append(pt.CustomAttributes, pki.Attribute{OID: o["ObjectIdentifier"], Value: o["Value"]})
	}
	if given {
		pt.Subject = &subj
	}

	kuPrefix := pki.ParamKeyUsage + "."
	for _, name := range b.p.Names() {
		flag, ok := strings.CutPrefix(name, kuPrefix)
		if !ok || strings.Contains(flag, ".") {
			continue
		}
		v, _ := get(name)
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "1":
			pt.KeyUsage = setFlag(pt.KeyUsage, flag, true)
		case "false", "0":
			pt.KeyUsage = setFlag(pt.KeyUsage, flag, false)
		default:
			b.fail(pca.Invalid(pki.ParamKeyUsage, "The specified parameter %s is not valid: %q is not one of true, false.", name, v))
		}
	}
	pt.ExtendedKeyUsages = b.usedList(pki.ParamExtKeyUsages, used)
	pt.Criticals = b.usedList(pki.ParamCriticals, used)
	for i, o := range b.objects(pki.ParamSANs, used, "Type", "Value") {
		if o == nil {
			continue
		}
		if _, ok := o["Type"]; !ok {
			b.fail(pca.Invalid(pki.ParamSANs, "The specified parameter %s.%d.Type is missing.", pki.ParamSANs, i+1))
		}
		pt.SubjectAlternativeNames = append(pt.SubjectAlternativeNames, pki.SANItem{Type: o["Type"], Value: o["Value"]})
	}

	for _, name := range b.p.Names() {
		if strings.HasPrefix(name, passthroughPrefix) && !used[name] {
			b.fail(pca.Invalid(name, "The specified parameter %s is not valid: it is not a field of ApiPassthrough (or a list index follows a gap). Known fields: SerialNumber, Subject.{%s}, Subject.CustomAttributes.N.{ObjectIdentifier,Value}, Extensions.KeyUsage.<Name>, Extensions.ExtendedKeyUsages.N, Extensions.SubjectAlternativeNames.N.{Type,Value}, Extensions.Criticals.N.",
				name, strings.Join(subjectParams, ",")))
			break
		}
	}
	return pt
}

func setFlag(m map[string]bool, k string, v bool) map[string]bool {
	if m == nil {
		m = map[string]bool{}
	}
	m[k] = v
	return m
}

// usedList is list, also marking Name.1, Name.2, ... as used.
func (b *binder) usedList(name string, used map[string]bool) []string {
	vals := b.p.List(name)
	for i := range vals {
		used[name+"."+itoa(int64(i+1))] = true
	}
	var out []string
	for _, v := range vals {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// objects reads the list of objects Name.N.Field for the given fields,
// marking what it reads as used. Unknown fields are left unmarked.
func (b *binder) objects(name string, used map[string]bool, fields ...string) []map[string]string {
	objs := b.p.Objects(name)
	out := make([]map[string]string, len(objs))
	for i, o := range objs {
		m := map[string]string{}
		for _, f := range fields {
			if v, ok := o[f]; ok {
				m[f] = v
				used[name+"."+itoa(int64(i+1))+"."+f] = true
			}
		}
		if len(m) > 0 {
			out[i] = m
		}
	}
	return out
}

// externalPassthrough is CreateExternalCACertificate's ApiPassthrough JSON.
type externalPassthrough struct {
	Subject *struct {
		CommonName       string `json:"CommonName"`
		Organization     string `json:"Organization"`
		OrganizationUnit string `json:"OrganizationUnit"`
		Locality         string `json:"Locality"`
		State            string `json:"State"`
		Country          string `json:"Country"`
	} `json:"Subject"`
	Extensions *struct {
		ExtendedKeyUsages []string `json:"ExtendedKeyUsages"`
		PathLenConstraint *int     `json:"PathLenConstraint"`
	} `json:"Extensions"`
}

// parseExternalPassthrough decodes the ApiPassthrough JSON text into req:
// one JSON object, no unknown fields, nothing after it.
func parseExternalPassthrough(text string, req *service.ExternalCARequest) error {
	bad := func(why string) error {
		return pca.Invalid("ApiPassthrough", "The specified parameter ApiPassthrough is not valid: %s; send a JSON object such as {\"Subject\":{\"CommonName\":\"...\"},\"Extensions\":{\"ExtendedKeyUsages\":[\"serverAuth\"],\"PathLenConstraint\":0}}.", why)
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	var pt externalPassthrough
	if err := dec.Decode(&pt); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return bad("it is not well-formed JSON (" + syn.Error() + ")")
		case errors.As(err, &typ):
			return bad("the field " + typ.Field + " has the wrong JSON type")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return bad("the JSON text ends early")
		}
		return bad(strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return bad("text follows the JSON object")
	}
	if s := pt.Subject; s != nil {
		req.Subject = &pca.Subject{CommonName: s.CommonName, Organization: s.Organization, OrganizationUnit: s.OrganizationUnit,
			Locality: s.Locality, State: s.State, Country: s.Country}
	}
	if e := pt.Extensions; e != nil {
		req.ExtendedKeyUsages = e.ExtendedKeyUsages
		if e.PathLenConstraint != nil {
			req.PathLen = *e.PathLenConstraint
		}
	}
	return nil
}

func (a *API) createExternalCA(ctx context.Context, r *openapi.Request) (any, error) {
	b := newBinder(r)
	req := service.ExternalCARequest{
		InstanceID:      b.str("InstanceId", true, 64),
		CSR:             b.str("Csr", true, 0),
		Validity:        b.str("Validity", true, 0),
		CertMaxTime:     int(b.integer("CertMaxTime", false, 1, 36500, 0)),
		ResourceGroupID: b.str("ResourceGroupId", false, 64),
		Tags:            b.tags("Tags"),
	}
	if text := b.str("ApiPassthrough", false, 0); text != "" {
		if err := parseExternalPassthrough(text, &req); err != nil {
			b.fail(err)
		}
	}
	for _, name := range b.p.Names() {
		if strings.HasPrefix(name, passthroughPrefix) {
			b.fail(pca.Invalid(name, "The specified parameter %s is not valid: CreateExternalCACertificate takes ApiPassthrough as one JSON text, not flattened.", name))
			break
		}
	}
	if b.err != nil {
		return nil, b.err
	}
	ca, err := a.svc.CreateExternalCA(ctx, actor(r), req)
	if err != nil {
		return nil, err
	}
	return a.subCACreated(ctx, r, ca)
}
