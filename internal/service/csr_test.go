package service

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"maps"
	"slices"
	"testing"

	"github.com/pcad-dev/pcad/internal/pca"
	"github.com/pcad-dev/pcad/internal/pki"
	"github.com/pcad-dev/pcad/internal/store/sqlstore"
)

// csrPEM makes a PEM certificate request for key with subject name.
func csrPEM(t *testing.T, key crypto.Signer, name pkix.Name) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: name}, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

func csrECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// csrWantErr checks err's kind and parameter.
func csrWantErr(t *testing.T, err error, kind pca.Kind, param string) {
	t.Helper()
	e, ok := pca.AsError(err)
	if !ok || e.Kind != kind || e.Param != param {
		t.Fatalf("err = %v (%+v), want kind %d naming %s", err, e, kind, param)
	}
}

// csrCounts counts the rows a refused request must not add.
func csrCounts(t *testing.T, svc *Service) map[string]int64 {
	t.Helper()
	db := svc.store.(*sqlstore.Store).DB()
	out := map[string]int64{}
	for _, table := range []string{"cas", "certificates", "serials", "private_keys", "instances"} {
		var n int64
		if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestIssueFromCSR(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	_, sub := hierarchy(t, svc, a)
	key := csrECKey(t)
	csr := csrPEM(t, key, pkix.Name{CommonName: "svc.example.com", Organization: []string{"CSR Org"}, Country: []string{"us"}})

	c, err := svc.IssueFromCSR(ctx, a, CSRIssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeServer, CSR: csr,
		Subject: pca.Subject{Organization: "Given Org"}, Domain: "api.example.com, 10.1.2.3", Validity: pki.Validity{Days: 10}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		t.Error("certificate is not for the request's key")
	}
	if c.KeyRef != "" || c.Type != pca.TypeServer || c.Algorithm != pca.ECC256 {
		t.Errorf("record: KeyRef %q Type %s Algorithm %s", c.KeyRef, c.Type, c.Algorithm)
	}
	if c.Subject.CommonName != "svc.example.com" || c.Subject.Organization != "Given Org" || c.Subject.Country != "US" ||
		c.Subject.Locality != "" {
		t.Errorf("subject %+v: want CN and C from the CSR, O given, nothing from the CA", c.Subject)
	}
	if !slices.Equal(cert.DNSNames, []string{"svc.example.com", "api.example.com"}) || len(cert.IPAddresses) != 1 {
		t.Errorf("SANs %v %v", cert.DNSNames, cert.IPAddresses)
	}

	// A client certificate: Algorithm of the same family but another size
	// is accepted; the record keeps the request's real algorithm.
	cli, err := svc.IssueFromCSR(ctx, a, CSRIssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeClient, CSR: csr,
		Algorithm: pca.ECC384, Subject: pca.Subject{CommonName: "bob"}, SanType: 2, SanValue: "bob.example.com",
		Validity: pki.Validity{Days: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if cli.Subject.CommonName != "bob" || cli.Type != pca.TypeClient || cli.Algorithm != pca.ECC256 ||
		len(cli.SANs) != 1 || cli.SANs[0].Type != pca.SANDNS {
		t.Errorf("client record %+v", cli)
	}
}

func TestIssueFromCSRRefusals(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	root, sub := hierarchy(t, svc, a)
	ec := csrPEM(t, csrECKey(t), pkix.Name{CommonName: "svc.example.com"})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaCSR := csrPEM(t, rsaKey, pkix.Name{CommonName: "rsa.example.com"})
	noCN := csrPEM(t, csrECKey(t), pkix.Name{Organization: []string{"No CN"}})
	person := csrPEM(t, csrECKey(t), pkix.Name{CommonName: "John Smith"})
	base := CSRIssueRequest{ParentIdentifier: sub.Identifier, Type: pca.TypeServer, CSR: ec, Validity: pki.Validity{Days: 10}}
	tests := []struct {
		name  string
		edit  func(r *CSRIssueRequest)
		kind  pca.Kind
		param string
	}{
		{"fail/algorithm-family", func(r *CSRIssueRequest) { r.Algorithm = pca.RSA2048 }, pca.KindInvalid, "Algorithm"},
		{"fail/csr-family", func(r *CSRIssueRequest) { r.CSR = rsaCSR }, pca.KindInvalid, "Csr"},
		{"fail/csr-family-with-algorithm", func(r *CSRIssueRequest) { r.CSR, r.Algorithm = rsaCSR, pca.RSA2048 }, pca.KindInvalid, "Algorithm"},
		{"fail/no-common-name", func(r *CSRIssueRequest) { r.CSR = noCN }, pca.KindMissing, "CommonName"},
		{"fail/csr-cn-not-a-host", func(r *CSRIssueRequest) { r.CSR = person }, pca.KindInvalid, "Csr"},
		{"fail/given-cn-not-a-host", func(r *CSRIssueRequest) { r.Subject.CommonName = "John Smith" }, pca.KindInvalid, "CommonName"},
		{"fail/garbage-csr", func(r *CSRIssueRequest) {
			r.CSR = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"
		}, pca.KindInvalid, "Csr"},
		{"fail/root-issuer", func(r *CSRIssueRequest) { r.ParentIdentifier = root.Identifier }, pca.KindInvalid, "ParentIdentifier"},
		{"fail/unknown-issuer", func(r *CSRIssueRequest) { r.ParentIdentifier = "nope" }, pca.KindNotFound, "ParentIdentifier"},
		{"fail/client-san-type", func(r *CSRIssueRequest) { r.Type, r.SanType, r.SanValue = pca.TypeClient, 4, "x" }, pca.KindInvalid, "SanType"},
		{"fail/too-long", func(r *CSRIssueRequest) { r.Validity.Days = 36500 }, pca.KindInvalid, "Days"},
	}
	before := csrCounts(t, svc)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := base
			tc.edit(&req)
			_, err := svc.IssueFromCSR(ctx, a, req)
			csrWantErr(t, err, tc.kind, tc.param)
		})
	}
	if after := csrCounts(t, svc); !maps.Equal(before, after) {
		t.Errorf("refused requests changed the store: %v -> %v", before, after)
	}
}

func TestIssueCustom(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	_, sub := hierarchy(t, svc, a)
	key := csrECKey(t)
	csr := csrPEM(t, key, pkix.Name{CommonName: "device-1", Organization: []string{"Maker"},
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 12}, Value: "sensor"}}})
	req := CustomCertRequest{ParentIdentifier: sub.Identifier, CSR: csr, Validity: "30d",
		Passthrough: Passthrough{SerialNumber: "4242", KeyUsage: map[string]bool{"DigitalSignature": true, "KeyAgreement": true},
			ExtendedKeyUsages: []string{"clientAuth"}, Criticals: []string{"extendedKeyUsage"},
			SubjectAlternativeNames: []pki.SANItem{{Type: "uniformResourceIdentifier", Value: "urn:dev:1"}}}}

	// A refusal with the serial reserves nothing: the same serial works after.
	bad := req
	bad.Passthrough.KeyUsage = map[string]bool{"KeyEncipherment": true}
	before := csrCounts(t, svc)
	_, err := svc.IssueCustom(ctx, a, bad)
	csrWantErr(t, err, pca.KindInvalid, pki.ParamKeyUsage)
	if after := csrCounts(t, svc); !maps.Equal(before, after) {
		t.Fatalf("a refused request changed the store: %v -> %v", before, after)
	}

	c, err := svc.IssueCustom(ctx, a, req)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(c.DER)
	if err != nil {
		t.Fatal(err)
	}
	if cert.SerialNumber.Int64() != 4242 || c.Type != pca.TypeEndEntity || c.KeyRef != "" {
		t.Errorf("serial %v type %s keyref %q", cert.SerialNumber, c.Type, c.KeyRef)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyAgreement {
		t.Errorf("key usage %b", cert.KeyUsage)
	}
	// No Subject given: the request's, custom attribute included.
	if cert.Subject.CommonName != "device-1" || len(cert.Subject.Names) != 3 {
		t.Errorf("subject %v (%d attributes), want the CSR's three", cert.Subject, len(cert.Subject.Names))
	}
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) && !ext.Critical {
			t.Error("extendedKeyUsage not critical")
		}
	}

	// The serial is taken now.
	before = csrCounts(t, svc)
	_, err = svc.IssueCustom(ctx, a, req)
	csrWantErr(t, err, pca.KindExists, pki.ParamSerialNumber)
	if after := csrCounts(t, svc); !maps.Equal(before, after) {
		t.Fatalf("a duplicate serial changed the store: %v -> %v", before, after)
	}

	// A given Subject replaces the request's entirely.
	req.Passthrough.SerialNumber = ""
	req.Passthrough.Subject = &pca.Subject{CommonName: "given"}
	c, err = svc.IssueCustom(ctx, a, req)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != (pca.Subject{CommonName: "given"}) {
		t.Errorf("subject %+v, want only the given CN", c.Subject)
	}
}

func TestIssueCustomRSA(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	root, err := svc.CreateRootCA(ctx, a, RootCARequest{Subject: subject("RSA Root"), Years: 10, Algorithm: pca.RSA2048})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := svc.CreateSubCA(ctx, a, SubCARequest{ParentIdentifier: root.Identifier, Subject: subject("RSA Sub"), Years: 10, Algorithm: pca.RSA2048})
	if err != nil {
		t.Fatal(err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	c, err := svc.IssueCustom(ctx, a, CustomCertRequest{ParentIdentifier: sub.Identifier, CSR: csrPEM(t, key, pkix.Name{CommonName: "rsa-dev"}),
		Validity: "1y", Passthrough: Passthrough{ExtendedKeyUsages: []string{"serverAuth"},
			SubjectAlternativeNames: []pki.SANItem{{Type: "dNSName", Value: "rsa.example.com"}}}})
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(c.DER)
	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment || c.Algorithm != pca.RSA2048 {
		t.Errorf("key usage %b algorithm %s", cert.KeyUsage, c.Algorithm)
	}
}

func TestCreateExternalCA(t *testing.T) {
	svc, a := newTestService(t)
	ctx := context.Background()
	root, sub := hierarchy(t, svc, a)
	key := csrECKey(t)
	csr := csrPEM(t, key, pkix.Name{CommonName: "HSM CA", Organization: []string{"Ext"}})

	before := csrCounts(t, svc)
	for _, tc := range []struct {
		name  string
		req   ExternalCARequest
		kind  pca.Kind
		param string
	}{
		{"fail/sub-ca", ExternalCARequest{InstanceID: sub.Identifier, CSR: csr, Validity: "1y"}, pca.KindInvalid, "InstanceId"},
		{"fail/sub-ca-instance", ExternalCARequest{InstanceID: sub.InstanceUUID, CSR: csr, Validity: "1y"}, pca.KindInvalid, "InstanceId"},
		{"fail/unknown", ExternalCARequest{InstanceID: "0190a0a0-0000-7000-8000-000000000000", CSR: csr, Validity: "1y"}, pca.KindNotFound, "InstanceId"},
		{"fail/outlives-root", ExternalCARequest{InstanceID: root.Identifier, CSR: csr, Validity: "20y"}, pca.KindInvalid, "Validity"},
		{"fail/path-len", ExternalCARequest{InstanceID: root.Identifier, CSR: csr, Validity: "1y", PathLen: 11}, pca.KindInvalid, ParamExternalPathLen},
		{"fail/eku", ExternalCARequest{InstanceID: root.Identifier, CSR: csr, Validity: "1y", ExtendedKeyUsages: []string{"nope"}}, pca.KindInvalid, ParamExternalEKUs},
		{"fail/subject-without-cn", ExternalCARequest{InstanceID: root.Identifier, CSR: csr, Validity: "1y", Subject: &pca.Subject{Organization: "X"}}, pca.KindMissing, "ApiPassthrough.Subject.CommonName"},
		{"fail/subject-country", ExternalCARequest{InstanceID: root.Identifier, CSR: csr, Validity: "1y", Subject: &pca.Subject{CommonName: "X", Country: "CHN"}}, pca.KindInvalid, "ApiPassthrough.Subject.Country"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.CreateExternalCA(ctx, a, tc.req)
			csrWantErr(t, err, tc.kind, tc.param)
		})
	}
	if after := csrCounts(t, svc); !maps.Equal(before, after) {
		t.Fatalf("refused requests changed the store: %v -> %v", before, after)
	}

	// By the root's identifier, and by its instance UUID.
	for _, id := range []string{root.Identifier, root.InstanceUUID} {
		ext, err := svc.CreateExternalCA(ctx, a, ExternalCARequest{InstanceID: id, CSR: csr, Validity: "2y",
			ExtendedKeyUsages: []string{"serverAuth"}, PathLen: 1, CertMaxTime: 365})
		if err != nil {
			t.Fatalf("InstanceId %s: %v", id, err)
		}
		if ext.KeyRef != "" || ext.IssuerType != IssuerExternal || ext.Type != pca.CASub || ext.ParentID != root.ID ||
			ext.InstanceUUID != "" || ext.Years != 2 || ext.CertMaxTime != 365 {
			t.Errorf("record %+v", ext)
		}
		cert, _ := x509.ParseCertificate(ext.DER)
		if !key.PublicKey.Equal(cert.PublicKey) || !cert.IsCA || cert.MaxPathLen != 1 || cert.Subject.CommonName != "HSM CA" {
			t.Errorf("certificate: CA %v pathlen %d subject %v", cert.IsCA, cert.MaxPathLen, cert.Subject)
		}
		// pcad cannot issue with it.
		_, err = svc.IssueCertificate(ctx, a, IssueRequest{ParentIdentifier: ext.Identifier, Type: pca.TypeServer,
			Algorithm: pca.ECC256, Subject: pca.Subject{CommonName: "x.example.com"}, Validity: pki.Validity{Days: 1}})
		csrWantErr(t, err, pca.KindInvalid, "ParentIdentifier")
		_, err = svc.IssueCustom(ctx, a, CustomCertRequest{ParentIdentifier: ext.Identifier, CSR: csr, Validity: "1d"})
		csrWantErr(t, err, pca.KindInvalid, "ParentIdentifier")
		_, err = svc.IssueFromCSR(ctx, a, CSRIssueRequest{ParentIdentifier: ext.Identifier, Type: pca.TypeClient, CSR: csr, Validity: pki.Validity{Days: 1}})
		csrWantErr(t, err, pca.KindInvalid, "ParentIdentifier")
	}
	in, err := svc.Instance(ctx, a, root.InstanceUUID)
	if err != nil || in.Issued != 3 {
		t.Errorf("root instance issued %d, want 3 (one sub-CA, two external CAs); err %v", in.Issued, err)
	}
	// A root whose instance is used up refuses, naming InstanceId.
	if err := svc.SetInstanceQuota(ctx, a, root.InstanceUUID, 3); err != nil {
		t.Fatal(err)
	}
	_, err = svc.CreateExternalCA(ctx, a, ExternalCARequest{InstanceID: root.Identifier, CSR: csr, Validity: "1y"})
	csrWantErr(t, err, pca.KindQuota, "InstanceId")
}
