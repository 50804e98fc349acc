// Package casapi is the action table of the cas 2020-06-30 API: one small
// handler per action that binds and validates parameters, calls the service
// and shapes the response with the field names and JSON types of the spec.
package casapi

import (
	"github.com/pcad-dev/pcad/internal/openapi"
	"github.com/pcad-dev/pcad/internal/service"
)

// Version is the API version this table serves.
const Version = "2020-06-30"

// API binds the action handlers to a service.
type API struct {
	svc *service.Service
}

// Actions returns the action table for openapi.Config.Actions. Each group
// of actions lives in its own file and contributes its part of the table.
func Actions(svc *service.Service) map[string]openapi.HandlerFunc {
	a := &API{svc: svc}
	table := map[string]openapi.HandlerFunc{
		"CreateRootCACertificate":       a.createRootCA,
		"CreateSubCACertificate":        a.createSubCA,
		"DescribeCACertificate":         a.describeCA,
		"CreateServerCertificate":       a.createServer,
		"CreateClientCertificate":       a.createClient,
		"CreateRevokeClientCertificate": a.revoke,
		"DescribeClientCertificate":     a.describeCert,
		"ListCert":                      a.listCert,
	}
	for _, group := range []map[string]openapi.HandlerFunc{a.caActions(), a.lifecycleActions(), a.csrActions(), a.revocationActions()} {
		for name, fn := range group {
			if _, dup := table[name]; dup {
				panic("casapi: action " + name + " registered twice")
			}
			table[name] = fn
		}
	}
	return a.withAuthz(a.withIdempotency(table)) // authorization first: a refused call claims no ClientToken
}

// actor turns the authenticated caller into the service's Actor.
func actor(r *openapi.Request) service.Actor {
	return service.Actor{AccountID: r.Caller.AccountID, PrincipalID: r.Caller.PrincipalID}
}

// empty is the response of actions that return only RequestId.
type empty struct{}
