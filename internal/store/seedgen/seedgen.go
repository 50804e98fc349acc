// Package seedgen makes realistic end-entity certificate records, the same
// for the same seed, to fill a store at scale: `pcad bench list` and `pcad
// bench crl` seed their stores with it, and the store's ListCert benchmark
// its database. It holds no I/O: callers store what it makes.
package seedgen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/pcad-dev/pcad/internal/pca"
)

// Gen makes realistic end-entity certificate records: a mix of types,
// subjects, SANs, key algorithms, labels and tags, and one in ten revoked.
// The DER is filler: listing never reads it. A Gen is not safe for
// concurrent use.
type Gen struct {
	rng    *rand.Rand
	idRand *rand.ChaCha8
	der    []byte
}

// New returns a generator whose records depend only on seed.
func New(seed byte) *Gen {
	g := &Gen{rng: rand.New(rand.NewChaCha8([32]byte{'p', 'c', 'a', 'd', seed})), idRand: rand.NewChaCha8([32]byte{'i', 'd', seed})}
	g.der = make([]byte, 1024)
	rand.NewChaCha8([32]byte{'d', 'e', 'r', seed}).Read(g.der)
	g.der[0], g.der[1] = 0x30, 0x82
	return g
}

var (
	genServices = []string{"api", "web", "auth", "billing", "search", "cdn", "mail", "vpn", "grpc", "queue", "db", "cache"}
	genEnvs     = []string{"prod", "prod", "prod", "staging", "dev"}
	genRegions  = []string{"cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1", "eu-central-1"}
	genTeams    = []string{"Platform", "Payments", "Identity", "Data", "Mobile", "Retail"}
	genCities   = []struct{ l, st, c string }{
		{"Hangzhou", "Zhejiang", "CN"}, {"Shanghai", "Shanghai", "CN"}, {"Beijing", "Beijing", "CN"},
		{"Singapore", "Singapore", "SG"}, {"Frankfurt", "Hessen", "DE"},
	}
)

// Cert makes the i-th certificate, issued by ca (instance instID) at
// created. Revoked ones changed last when they were revoked.
func (g *Gen) Cert(ca pca.CA, instID int64, i int, created time.Time) (pca.Certificate, error) {
	rng := g.rng
	id, err := pca.NewIdentifier(created, g.idRand)
	if err != nil {
		return pca.Certificate{}, err
	}
	typ := pca.TypeServer
	switch r := rng.IntN(100); {
	case r >= 95:
		typ = pca.TypeEndEntity
	case r >= 60:
		typ = pca.TypeClient
	}
	city := genCities[rng.IntN(len(genCities))]
	team := genTeams[rng.IntN(len(genTeams))]
	subj := pca.Subject{Organization: "Example Corp", OrganizationUnit: team, Locality: city.l, State: city.st, Country: city.c}
	var sans []pca.SAN
	validity := 365 * 24 * time.Hour
	switch typ {
	case pca.TypeServer:
		subj.CommonName = fmt.Sprintf("%s-%04d.%s.%s.example.com", genServices[rng.IntN(len(genServices))], rng.IntN(10000),
			genEnvs[rng.IntN(len(genEnvs))], genRegions[rng.IntN(len(genRegions))])
		sans = []pca.SAN{{Type: pca.SANDNS, Value: subj.CommonName}}
		if rng.IntN(4) == 0 {
			sans = append(sans, pca.SAN{Type: pca.SANIP, Value: fmt.Sprintf("10.%d.%d.%d", rng.IntN(256), rng.IntN(256), 1+rng.IntN(254))})
		}
		validity = 398 * 24 * time.Hour
	case pca.TypeClient:
		if rng.IntN(2) == 0 {
			subj.CommonName = fmt.Sprintf("user%06d@corp.example.com", rng.IntN(1_000_000))
			sans = []pca.SAN{{Type: pca.SANEmail, Value: subj.CommonName}}
		} else {
			subj.CommonName = fmt.Sprintf("device-%08x", rng.Uint32())
		}
		validity = 730 * 24 * time.Hour
	default:
		subj.CommonName = fmt.Sprintf("workload-%d.svc.cluster.local", i)
		sans = []pca.SAN{{Type: pca.SANURI, Value: "spiffe://example.com/ns/default/sa/workload-" + strconv.Itoa(i)}}
	}
	alg := pca.RSA2048
	switch r := rng.IntN(100); {
	case r < 35:
		alg = pca.ECC256
	case r < 40:
		alg = pca.ECC384
	case r < 45:
		alg = pca.RSA4096
	}
	nb := created.Truncate(time.Second)
	c := pca.Certificate{AccountID: ca.AccountID, Identifier: id, CAID: ca.ID, ParentIdentifier: ca.Identifier,
		InstanceID: instID, InstanceUUID: ca.InstanceUUID, Type: typ, Status: pca.StatusIssue, Subject: subj,
		SubjectDN: fmt.Sprintf("CN=%s,OU=%s,O=%s,L=%s,ST=%s,C=%s", subj.CommonName, subj.OrganizationUnit, subj.Organization,
			subj.Locality, subj.State, subj.Country),
		SANs: sans, Algorithm: alg, SerialNumber: fmt.Sprintf("%x%016x", rng.Uint64()>>1|1<<62, rng.Uint64()),
		DER: g.der[:300+rng.IntN(400)], NotBefore: nb, NotAfter: nb.Add(validity),
		ResourceGroupID: "rg-bench", Created: created, Changed: created}
	if rng.IntN(10) < 7 { // a key pcad generated and holds (the bulk path stores no key rows)
		ref, err := pca.NewIdentifier(created, g.idRand)
		if err != nil {
			return pca.Certificate{}, err
		}
		c.KeyRef = "sw:" + ref
	}
	if rng.IntN(5) == 0 {
		c.AliasName = "cert-" + strconv.Itoa(i)
	}
	if rng.IntN(20) == 0 {
		c.CustomIdentifier = "ci-" + strconv.Itoa(i)
	}
	if rng.IntN(3) == 0 {
		c.Tags = []pca.Tag{{Key: "env", Value: genEnvs[rng.IntN(len(genEnvs))]}}
		if rng.IntN(2) == 0 {
			c.Tags = append(c.Tags, pca.Tag{Key: "team", Value: team})
		}
	}
	if rng.IntN(10) == 0 {
		g.Revoke(&c, created.Add(time.Duration(1+rng.IntN(180*24))*time.Hour))
	}
	return c, nil
}

// Revoke marks c revoked at at, with a reason drawn from the usual ones.
func (g *Gen) Revoke(c *pca.Certificate, at time.Time) {
	reasons := []pca.RevocationReason{pca.ReasonUnspecified, pca.ReasonKeyCompromise, pca.ReasonSuperseded,
		pca.ReasonCessationOfOperation, pca.ReasonAffiliationChanged}
	c.Status = pca.StatusRevoke
	c.RevokedAt = at.Truncate(time.Millisecond)
	c.RevokeReason = reasons[g.rng.IntN(len(reasons))]
	c.Changed = c.RevokedAt
}

// IntN draws from the generator's own stream (0 <= n < max), for callers
// that spread records (times, CAs) deterministically with it.
func (g *Gen) IntN(max int) int { return g.rng.IntN(max) }

// Int64N is IntN for int64.
func (g *Gen) Int64N(max int64) int64 { return g.rng.Int64N(max) }
