package tenancy

import (
	"fmt"
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// Inputs is a snapshot of everything the policy depends on, as read from
// the cache (the JSON names let fixtures be written in YAML). NewPolicy
// keeps pointers into these slices: do not modify them afterwards.
type Inputs struct {
	Tenants    []v1alpha1.Tenant  `json:"tenants,omitempty"`
	Namespaces []corev1.Namespace `json:"namespaces,omitempty"`
	// PlatformNamespaces are trusted and never belong to a tenant
	// (admin-configured, e.g. --platform-namespaces=infra).
	PlatformNamespaces []string            `json:"platformNamespaces,omitempty"`
	Gateways           []gatewayv1.Gateway `json:"gateways,omitempty"`
	// ListenerSets add listeners to Gateways (routes attach to them by a
	// ListenerSet parentRef).
	ListenerSets []gatewayv1.ListenerSet `json:"listenerSets,omitempty"`
	// The routes and ReferenceGrants are the existing objects, audited by
	// TenantStatus; ReferenceGrants also decide the cross-namespace warnings.
	// A kind the cluster does not serve is simply empty.
	HTTPRoutes      []*gatewayv1.HTTPRoute     `json:"httpRoutes,omitempty"`
	GRPCRoutes      []*gatewayv1.GRPCRoute     `json:"grpcRoutes,omitempty"`
	TLSRoutes       []*gatewayv1.TLSRoute      `json:"tlsRoutes,omitempty"`
	TCPRoutes       []*gatewayv1.TCPRoute      `json:"tcpRoutes,omitempty"`
	UDPRoutes       []*gatewayv1.UDPRoute      `json:"udpRoutes,omitempty"`
	ReferenceGrants []gatewayv1.ReferenceGrant `json:"referenceGrants,omitempty"`
}

// Policy answers policy questions about one snapshot. It is immutable and
// safe for concurrent use.
type Policy struct {
	tenants  []*tenantInfo // sorted by name
	byName   map[string]*tenantInfo
	hosts    *hostIndex
	members  *membership
	model    *model.Model                                       // Gateways, ListenerSets and their listeners
	defaults map[gatewayv1.GatewayDefaultScope][]*model.Gateway // default Gateways by scope, sorted
	grants   *model.Grants                                      // ignoring the grants that break their tenant's rules

	in        Inputs // the snapshot, for what-if checks of a namespace move
	refGrants []*gatewayv1.ReferenceGrant
	// routes, when set (WithRoutes), replace in's routes; base is then
	// the policy whose indexes this one shares.
	routes func() Routes
	base   *Policy

	auditOnce sync.Once
	audit     map[string][]v1alpha1.TenantViolation
}

// NewPolicy indexes a snapshot. Cost is linear in the inputs (plus, per
// namespace, the tenants whose selector shares one of its labels).
func NewPolicy(in Inputs) *Policy {
	p := &Policy{
		byName:   make(map[string]*tenantInfo, len(in.Tenants)),
		in:       in,
		defaults: map[gatewayv1.GatewayDefaultScope][]*model.Gateway{},
	}
	tenants := make([]*v1alpha1.Tenant, 0, len(in.Tenants))
	for i := range in.Tenants {
		tenants = append(tenants, &in.Tenants[i])
	}
	sort.SliceStable(tenants, func(i, j int) bool { return tenants[i].Name < tenants[j].Name })
	for _, t := range tenants {
		if p.byName[t.Name] != nil {
			continue // a snapshot holds one object per name; keep the first
		}
		info := newTenantInfo(t)
		p.byName[t.Name] = info
		p.tenants = append(p.tenants, info)
	}
	p.hosts = newHostIndex(p.tenants)
	p.members = newMembership(p.tenants, in.Namespaces, in.PlatformNamespaces)
	// Every implementation's Gateways, judged by what the spec lets each
	// protocol carry: tenant policy does not depend on who serves a Gateway.
	p.model = model.New(model.Inputs{Gateways: in.Gateways, ListenerSets: in.ListenerSets, Namespaces: in.Namespaces})
	for _, gw := range p.model.Gateways() { // by namespace/name
		if scope := gw.Object.Spec.DefaultScope; scope != "" && scope != gatewayv1.GatewayDefaultScopeNone {
			p.defaults[scope] = append(p.defaults[scope], gw)
		}
	}
	for i := range in.ReferenceGrants {
		g := &in.ReferenceGrants[i]
		p.refGrants = append(p.refGrants, g)
	}
	p.grants = model.NewGrants(in.ReferenceGrants, model.RefuseBy(p.GrantViolations))
	return p
}

// Verdict is the policy's answer about one object.
type Verdict struct {
	// Tenant is the tenant whose policy applies; empty for objects in
	// platform namespaces and namespaces of no tenant.
	Tenant string
	// Enforcement says what Violations mean: Deny rejects, Warn admits.
	Enforcement v1alpha1.Enforcement
	// Violations are the rules the object breaks; see Message for the text.
	Violations field.ErrorList
	// Warnings are for objects that are allowed but will not work yet.
	Warnings []string
}

// Denied reports whether the object must be rejected.
func (v Verdict) Denied() bool {
	return len(v.Violations) > 0 && v.Enforcement != v1alpha1.EnforcementWarn
}

// Messages returns one line per violation.
func (v Verdict) Messages() []string {
	if len(v.Violations) == 0 {
		return nil
	}
	out := make([]string, len(v.Violations))
	for i, e := range v.Violations {
		out[i] = Message(e)
	}
	return out
}

// Message renders a violation as the line a person sees, e.g.
// `spec.hostnames[1]: "bananas.example.com" is not owned by tenant "apples"; ...`.
// (field.Error.Error would add the error type and repeat the value.)
func Message(e *field.Error) string {
	return e.Field + ": " + e.Detail
}

// RouteViolations returns the enforced violations of a route, one line
// each; empty means the gateway may program it. Violations of a tenant in
// Warn mode are not enforced.
func (p *Policy) RouteViolations(route *gatewayv1.HTTPRoute) []string {
	return p.enforced(httpRouteView(route))
}

// GRPCRouteViolations is RouteViolations for a GRPCRoute.
func (p *Policy) GRPCRouteViolations(route *gatewayv1.GRPCRoute) []string {
	return p.enforced(grpcRouteView(route))
}

// TLSRouteViolations is RouteViolations for a TLSRoute.
func (p *Policy) TLSRouteViolations(route *gatewayv1.TLSRoute) []string {
	return p.enforced(tlsRouteView(route))
}

// TCPRouteViolations is RouteViolations for a TCPRoute.
func (p *Policy) TCPRouteViolations(route *gatewayv1.TCPRoute) []string {
	return p.enforced(tcpRouteView(route))
}

// UDPRouteViolations is RouteViolations for a UDPRoute.
func (p *Policy) UDPRouteViolations(route *gatewayv1.UDPRoute) []string {
	return p.enforced(udpRouteView(route))
}

func (p *Policy) enforced(r *routeView) []string {
	v, _ := p.checkRoute(r, false)
	if !v.Denied() {
		return nil
	}
	return v.Messages()
}

// violation builds a Forbidden field error whose Detail starts with the
// offending value, so Message reads as one sentence.
func violation(path *field.Path, value any, format string, args ...any) *field.Error {
	return &field.Error{
		Type:     field.ErrorTypeForbidden,
		Field:    path.String(),
		BadValue: value,
		Detail:   oneLine(fmt.Sprintf(format, args...)),
	}
}
