package tenancy

import (
	"sync"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Routes are the existing routes of a cluster. A policy's decisions about
// an object never read them; only the audit (TenantStatus) and the what-if
// check of a namespace moving between tenants do.
type Routes struct {
	HTTPRoutes []*gatewayv1.HTTPRoute
	GRPCRoutes []*gatewayv1.GRPCRoute
	TLSRoutes  []*gatewayv1.TLSRoute
	TCPRoutes  []*gatewayv1.TCPRoute
	UDPRoutes  []*gatewayv1.UDPRoute
}

// WithRoutes is p auditing the routes load returns instead of those of its
// Inputs. load runs at most once, when the audit or a namespace check
// first needs the routes, so a route change costs a new Policy sharing
// every index of p, not a rebuild. The result is immutable and safe for
// concurrent use, like p.
func (p *Policy) WithRoutes(load func() Routes) *Policy {
	return &Policy{
		tenants: p.tenants, byName: p.byName, hosts: p.hosts, members: p.members, model: p.model,
		defaults: p.defaults, grants: p.grants, in: p.in, refGrants: p.refGrants,
		routes: sync.OnceValue(load), base: p.indexes(),
	}
}

// Indexes identifies the indexes p decides with: policies with equal
// Indexes give the same verdict on every object (WithRoutes changes only
// what the audit reads), so a caller may keep verdicts across them.
func (p *Policy) Indexes() any { return p.indexes() }

func (p *Policy) indexes() *Policy {
	if p.base != nil {
		return p.base
	}
	return p
}

// inputs is the snapshot with the routes WithRoutes supplies, if any.
func (p *Policy) inputs() Inputs {
	in := p.in
	if p.routes != nil {
		r := p.routes()
		in.HTTPRoutes, in.GRPCRoutes, in.TLSRoutes, in.TCPRoutes, in.UDPRoutes = r.HTTPRoutes, r.GRPCRoutes, r.TLSRoutes, r.TCPRoutes, r.UDPRoutes
	}
	return in
}
