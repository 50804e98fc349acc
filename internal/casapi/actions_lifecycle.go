package casapi

import "github.com/pcad-dev/pcad/internal/openapi"

// lifecycleActions returns the actions of this group: certificate lifecycle, status lookups, tags and resource groups.
func (a *API) lifecycleActions() map[string]openapi.HandlerFunc {
	return map[string]openapi.HandlerFunc{}
}
