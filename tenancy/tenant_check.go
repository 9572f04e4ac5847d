package tenancy

import (
	"fmt"
	"k8s.io/apimachinery/pkg/types"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// CheckTenant checks a Tenant (new or updated) against every other tenant:
// no overlapping hostnames except a shared host split by disjoint
// pathPrefixes, no namespace claimed by another tenant, no platform
// namespace. Tenant conflicts are always enforced, whatever the enforcement
// mode, because they would make other tenants' policies ambiguous.
func (p *Policy) CheckTenant(t *v1alpha1.Tenant) Verdict {
	v := Verdict{Tenant: t.Name, Enforcement: v1alpha1.EnforcementDeny}
	cand := newTenantInfo(t)
	for _, o := range cand.hosts {
		v.Violations = append(v.Violations, p.hostnameConflicts(o)...)
	}
	v.Violations = append(v.Violations, p.namespaceConflicts(cand, &v)...)
	for i, g := range t.Spec.Gateways {
		if p.model.Gateway(types.NamespacedName{Namespace: string(g.Namespace), Name: g.Name}) == nil {
			v.Warnings = append(v.Warnings, oneLine(fmt.Sprintf("%s: Gateway %s/%s does not exist yet; routes attached to it will not work until it does",
				specPath.Child("gateways").Index(i), g.Namespace, g.Name)))
		}
	}
	return v
}

// hostnameConflicts compares one hostname entry of a candidate tenant with
// the entries of every other tenant that share a name with it.
func (p *Policy) hostnameConflicts(o *ownedHost) field.ErrorList {
	type clash struct {
		other  *ownedHost
		theirs string // the overlapping prefix, for a path clash
		count  int
	}
	var whole clash                         // a clash on the whole host
	paths := make([]clash, len(o.prefixes)) // per candidate prefix
	p.hosts.overlapping(o.pattern, func(other *ownedHost) bool {
		if other.tenant.name == o.tenant.name {
			return true
		}
		if !o.shared() || !other.shared() {
			if whole.count++; whole.other == nil {
				whole.other = other
			}
			return true
		}
		for k, mine := range o.prefixes {
			for _, theirs := range other.prefixes {
				if prefixesOverlap(mine, theirs) {
					if paths[k].count++; paths[k].other == nil {
						paths[k].other, paths[k].theirs = other, theirs
					}
					break
				}
			}
		}
		return true
	})
	at := specPath.Child("hostnames").Index(o.index)
	spec := o.tenant.spec.Hostnames[o.index]
	var errs field.ErrorList
	if whole.other != nil {
		errs = append(errs, violation(at, string(spec.Hostname),
			"%q overlaps %q of tenant %q%s; tenants may share a hostname only when each owns disjoint pathPrefixes on it",
			o.pattern, whole.other.pattern, whole.other.tenant.name, more(whole.count-1)))
	}
	for k, c := range paths {
		if c.other == nil {
			continue
		}
		mine := string(spec.PathPrefixes[k])
		errs = append(errs, violation(at.Child("pathPrefixes").Index(k), mine,
			"%q overlaps %q that tenant %q owns on %q%s; use path prefixes disjoint from theirs",
			mine, c.theirs, c.other.tenant.name, c.other.pattern, more(c.count-1)))
	}
	return errs
}

// more says how many further conflicts there are, if any.
func more(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" (and %d more)", n)
}

// namespaceConflicts finds the candidate's namespaces that are platform
// namespaces or belong to another tenant.
func (p *Policy) namespaceConflicts(cand *tenantInfo, v *Verdict) field.ErrorList {
	var errs field.ErrorList
	nsPath := specPath.Child("namespaces")
	for i, n := range cand.spec.Namespaces.Names {
		ns := string(n)
		if p.members.platform[ns] {
			errs = append(errs, violation(nsPath.Child("names").Index(i), ns,
				"%q is a platform namespace, which belongs to no tenant; remove it", ns))
			continue
		}
		if others := p.members.claimants(ns, cand.name); len(others) > 0 {
			errs = append(errs, violation(nsPath.Child("names").Index(i), ns,
				"namespace %q is also claimed by tenant %q; a namespace belongs to at most one tenant, so remove it here or there",
				ns, others[0]))
		}
	}
	selPath := nsPath.Child("selector")
	if cand.selectorErr != nil {
		return append(errs, violation(selPath, "", "invalid: %v; fix the label selector", cand.selectorErr))
	}
	if cand.selector == nil {
		return errs
	}
	var taken, platform, owners []string
	for _, ns := range p.members.names {
		if !cand.selector.Matches(p.members.labels[ns]) {
			continue
		}
		if p.members.platform[ns] {
			platform = append(platform, ns)
			continue
		}
		if others := p.members.claimants(ns, cand.name); len(others) > 0 {
			taken = append(taken, ns)
			owners = append(owners, others[0])
		}
	}
	if len(taken) > 0 {
		errs = append(errs, violation(selPath, "",
			"matches namespace %q of tenant %q%s; a namespace belongs to at most one tenant, so narrow the selector",
			taken[0], owners[0], more(len(taken)-1)))
	}
	if len(platform) > 0 {
		v.Warnings = append(v.Warnings, oneLine(fmt.Sprintf("%s: matches platform namespaces (%s), which stay trusted and outside the tenant",
			selPath, listUpTo(platform))))
	}
	return errs
}
