package tenancy

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// grantKey files the "to" entries of ReferenceGrants in namespace to that
// trust objects of kind fromKind (any route kind, Gateway, ListenerSet) in
// namespace from.
type grantKey struct{ to, from, fromKind string }

// indexGrant files the entries of a grant the policy honours: a grant in a
// tenant namespace keeps only the from and to entries its tenant's
// referenceGrants rules allow (in Deny mode), so a grant that predates its
// namespace joining the tenant opens nothing the tenant forbids.
func (p *Policy) indexGrant(g *gatewayv1.ReferenceGrant) {
	h := p.HonouredGrant(g)
	for _, from := range h.Spec.From {
		if from.Group != gatewayv1.GroupName {
			continue
		}
		key := grantKey{to: h.Namespace, from: string(from.Namespace), fromKind: string(from.Kind)}
		p.grants[key] = append(p.grants[key], h.Spec.To...)
	}
}

// granted reports whether a ReferenceGrant lets objects of fromKind in
// namespace from reference the object (group, kind, name) in namespace to.
func (p *Policy) granted(fromKind, from, to string, group gatewayv1.Group, kind gatewayv1.Kind, name gatewayv1.ObjectName) bool {
	for _, t := range p.grants[grantKey{to: to, from: from, fromKind: fromKind}] {
		if t.Group == group && t.Kind == kind && (t.Name == nil || *t.Name == name) {
			return true
		}
	}
	return false
}

// grantCheck is the verdict on a grant with, per entry, whether it broke a rule.
type grantCheck struct {
	v         Verdict
	badFrom   []bool
	badTo     []bool
	enforcing bool
}

func (p *Policy) checkGrant(g *gatewayv1.ReferenceGrant) grantCheck {
	c := grantCheck{v: Verdict{Enforcement: v1alpha1.EnforcementDeny},
		badFrom: make([]bool, len(g.Spec.From)), badTo: make([]bool, len(g.Spec.To))}
	if p.members.platform[g.Namespace] {
		return c
	}
	t := p.members.owner[g.Namespace]
	if t == nil {
		return c
	}
	c.v.Tenant, c.v.Enforcement = t.name, t.enforcement
	c.enforcing = t.enforcement != v1alpha1.EnforcementWarn
	spec := field.NewPath("spec")
	for i, from := range g.Spec.From {
		ns := string(from.Namespace)
		if p.members.owner[ns] == t || t.grantFrom[ns] {
			continue
		}
		c.badFrom[i] = true
		c.v.Violations = append(c.v.Violations, violation(spec.Child("from").Index(i).Child("namespace"), ns,
			"%q may not be trusted by ReferenceGrants of tenant %q (allowed: %s); grant from an allowed namespace or add it to Tenant %s spec.referenceGrants.allowFromNamespaces",
			ns, t.name, orNone(sortedKeys(t.grantFrom)), t.name))
	}
	for i, to := range g.Spec.To {
		at := spec.Child("to").Index(i)
		if !slices.Contains(t.grantKinds, string(to.Kind)) {
			c.badTo[i] = true
			c.v.Violations = append(c.v.Violations, violation(at.Child("kind"), string(to.Kind),
				"%q is not a kind tenant %q may open up (allowed: %s); grant one of them or add it to Tenant %s spec.referenceGrants.allowedKinds",
				to.Kind, t.name, strings.Join(t.grantKinds, ", "), t.name))
		}
		if to.Name == nil && !t.spec.ReferenceGrants.AllowWildcardNames {
			c.badTo[i] = true
			c.v.Violations = append(c.v.Violations, violation(at.Child("name"), "",
				"unset, so the grant opens up every %s in namespace %q, which tenant %q does not allow; set to.name, or set Tenant %s spec.referenceGrants.allowWildcardNames",
				to.Kind, g.Namespace, t.name, t.name))
		}
	}
	return c
}

// CheckReferenceGrant checks a ReferenceGrant in a tenant namespace: it may
// trust only the tenant's own namespaces and spec.referenceGrants
// .allowFromNamespaces, open up only the allowedKinds, and name its target
// unless wildcard names are allowed. Grants elsewhere are not policed.
func (p *Policy) CheckReferenceGrant(g *gatewayv1.ReferenceGrant) Verdict {
	return p.checkGrant(g).v
}

// GrantViolations returns the enforced violations of a ReferenceGrant, one
// line each; empty means the gateway may honour all of it.
func (p *Policy) GrantViolations(g *gatewayv1.ReferenceGrant) []string {
	if v := p.checkGrant(g).v; v.Denied() {
		return v.Messages()
	}
	return nil
}

// HonouredGrant returns the part of a ReferenceGrant the gateway may
// honour: the grant itself when it breaks no enforced rule, else a copy
// without the from and to entries that break its tenant's referenceGrants
// rules (possibly with none left, so it opens nothing).
func (p *Policy) HonouredGrant(g *gatewayv1.ReferenceGrant) *gatewayv1.ReferenceGrant {
	c := p.checkGrant(g)
	if !c.enforcing || len(c.v.Violations) == 0 {
		return g
	}
	out := &gatewayv1.ReferenceGrant{TypeMeta: g.TypeMeta, ObjectMeta: g.ObjectMeta}
	for i, f := range g.Spec.From {
		if !c.badFrom[i] {
			out.Spec.From = append(out.Spec.From, f)
		}
	}
	for i, t := range g.Spec.To {
		if !c.badTo[i] {
			out.Spec.To = append(out.Spec.To, t)
		}
	}
	return out
}
