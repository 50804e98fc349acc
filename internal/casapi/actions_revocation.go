package casapi

import "github.com/pcad-dev/pcad/internal/openapi"

// revocationActions returns the actions of this group: CA revocation and CRL addresses.
func (a *API) revocationActions() map[string]openapi.HandlerFunc {
	return map[string]openapi.HandlerFunc{}
}
