package casapi

import "github.com/pcad-dev/pcad/internal/openapi"

// csrActions returns the actions of this group: issuance from a caller's CSR or pass-through parameters (handlers in csr.go).
func (a *API) csrActions() map[string]openapi.HandlerFunc {
	return map[string]openapi.HandlerFunc{
		"CreateServerCertificateWithCsr": a.createServerWithCsr,
		"CreateClientCertificateWithCsr": a.createClientWithCsr,
		"CreateCustomCertificate":        a.createCustom,
		"CreateExternalCACertificate":    a.createExternalCA,
	}
}
