package tenancy

// RouteTenants names the tenants whose status a route concerns: the tenant
// of its namespace (the route counts there, and its violations are filed
// under it), or, for a route in a namespace of no tenant, the tenants whose
// hostnames it takes (TenantStatus files its violations under them). None
// for a route in a platform namespace, a harmless route of no tenant, or an
// object that is not a route. It lets the audit re-check only those
// tenants after a route changes.
func (p *Policy) RouteTenants(route any) []string {
	view := routeViewOf(route)
	if view == nil {
		return nil
	}
	if t := p.TenantOf(view.namespace); t != "" {
		return []string{t}
	}
	if p.members.platform[view.namespace] {
		return nil
	}
	v, victims := p.checkRoute(view, false)
	if len(v.Violations) == 0 {
		return nil
	}
	names := make([]string, len(victims))
	for i, t := range victims {
		names[i] = t.name
	}
	return names
}
