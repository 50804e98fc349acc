package casapi

import "github.com/pcad-dev/pcad/internal/openapi"

// caActions returns the actions of this group: CA lists, the CA count and
// log, instance status, quotas and the instance list (handlers in ca_query.go).
func (a *API) caActions() map[string]openapi.HandlerFunc {
	return map[string]openapi.HandlerFunc{
		"DescribeCACertificateList":               a.describeCAList,
		"DescribeCACertificateCount":              a.describeCACount,
		"DescribePcaAndExternalCACertificateList": a.describePcaAndExternalCAList,
		"ListPcaCaCertificate":                    a.listPcaCA,
		"ListCACertificateLog":                    a.listCALog,
		"GetCAInstanceStatus":                     a.caInstanceStatus,
		"AssignCertificateCount":                  a.assignCertificateCount,
		"ListAllEndEntityInstance":                a.listEndEntityInstances,
	}
}
