package casapi

import "github.com/pcad-dev/pcad/internal/openapi"

// caActions returns the actions of this group: CA management and instances (DescribeCACertificateList, ListPcaCaCertificate, instances...).
func (a *API) caActions() map[string]openapi.HandlerFunc {
	return map[string]openapi.HandlerFunc{}
}
