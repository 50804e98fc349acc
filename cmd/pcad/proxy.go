package main

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// trustedProxies is the --trust-proxy setting: the networks of load
// balancers whose X-Forwarded-For header names the real client.
type trustedProxies []netip.Prefix

// parseTrustedProxies reads a comma-separated list of CIDRs or addresses.
func parseTrustedProxies(s string) (trustedProxies, error) {
	var out trustedProxies
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("--trust-proxy: %q is not an address or CIDR", f)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("--trust-proxy: %q is not an address or CIDR", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (t trustedProxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// clientAddr returns the address the request came from: the peer itself,
// unless the peer is a trusted proxy; then the right-most address in
// X-Forwarded-For that is not a trusted proxy (addresses further left were
// written by the client and may be forged). The port of a forwarded client is
// unknown and reported as 0.
func (t trustedProxies) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || len(t) == 0 {
		return r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !t.trusts(peer) {
		return r.RemoteAddr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return r.RemoteAddr // a malformed hop: trust nothing beyond the peer
		}
		if !t.trusts(a) {
			return netip.AddrPortFrom(a.Unmap(), 0).String()
		}
	}
	return r.RemoteAddr
}

// handler sets r.RemoteAddr to the client address (clientAddr) before next
// sees the request, so the audit log and acs:SourceIp policy conditions name
// the client rather than the load balancer. With no trusted proxies it
// passes requests through untouched.
func (t trustedProxies) handler(next http.Handler) http.Handler {
	if len(t) == 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if addr := t.clientAddr(r); addr != r.RemoteAddr {
			r2 := r.Clone(r.Context())
			r2.RemoteAddr = addr
			r = r2
		}
		next.ServeHTTP(w, r)
	})
}
