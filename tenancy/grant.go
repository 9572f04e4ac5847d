package tenancy

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// granted reports whether a ReferenceGrant lets objects of fromKind in
// namespace from reference the object (group, kind, name) in namespace to;
// when not, ignored says why a grant that would is ignored (it breaks its
// tenant's rules: the gateway ignores it the same way).
func (p *Policy) granted(fromKind, from, to string, group gatewayv1.Group, kind gatewayv1.Kind, name gatewayv1.ObjectName) (ok bool, ignored string) {
	return p.grants.Allows(model.Reference{
		FromGroup: gatewayv1.GroupName, FromKind: fromKind, FromNamespace: from,
		ToGroup: string(group), ToKind: string(kind), ToNamespace: to, ToName: string(name),
	})
}

// grantCheck is the verdict on a grant.
type grantCheck struct{ v Verdict }

func (p *Policy) checkGrant(g *gatewayv1.ReferenceGrant) grantCheck {
	c := grantCheck{v: Verdict{Enforcement: v1alpha1.EnforcementDeny}}
	if p.members.platform[g.Namespace] {
		return c
	}
	t := p.members.owner[g.Namespace]
	if t == nil {
		return c
	}
	c.v.Tenant, c.v.Enforcement = t.name, t.enforcement
	spec := field.NewPath("spec")
	for i, from := range g.Spec.From {
		ns := string(from.Namespace)
		if p.members.owner[ns] == t || t.grantFrom[ns] {
			continue
		}
		c.v.Violations = append(c.v.Violations, violation(spec.Child("from").Index(i).Child("namespace"), ns,
			"%q may not be trusted by ReferenceGrants of tenant %q (allowed: %s); grant from an allowed namespace or add it to Tenant %s spec.referenceGrants.allowFromNamespaces",
			ns, t.name, orNone(sortedKeys(t.grantFrom)), t.name))
	}
	for i, to := range g.Spec.To {
		at := spec.Child("to").Index(i)
		if !slices.Contains(t.grantKinds, string(to.Kind)) {
			c.v.Violations = append(c.v.Violations, violation(at.Child("kind"), string(to.Kind),
				"%q is not a kind tenant %q may open up (allowed: %s); grant one of them or add it to Tenant %s spec.referenceGrants.allowedKinds",
				to.Kind, t.name, strings.Join(t.grantKinds, ", "), t.name))
		}
		if to.Name == nil && !t.spec.ReferenceGrants.AllowWildcardNames {
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
