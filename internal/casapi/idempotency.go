package casapi

import "github.com/pcad-dev/pcad/internal/openapi"

// withIdempotency wraps the actions that take a ClientToken so that a
// repeated token returns the first result. (Not yet implemented: the table is
// returned unchanged.)
func (a *API) withIdempotency(table map[string]openapi.HandlerFunc) map[string]openapi.HandlerFunc {
	return table
}
