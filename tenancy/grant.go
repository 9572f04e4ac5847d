package tenancy

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// grantKey files the "to" entries of ReferenceGrants in namespace to that
// trust HTTPRoutes in namespace from.
type grantKey struct{ to, from string }

func (p *Policy) indexGrant(g *gatewayv1.ReferenceGrant) {
	for _, from := range g.Spec.From {
		if from.Group != gatewayv1.GroupName || from.Kind != "HTTPRoute" {
			continue
		}
		key := grantKey{to: g.Namespace, from: string(from.Namespace)}
		p.grants[key] = append(p.grants[key], g.Spec.To...)
	}
}

// granted reports whether a ReferenceGrant lets HTTPRoutes in namespace
// from reference the backend (group, kind, name) in namespace to.
func (p *Policy) granted(from, to string, group gatewayv1.Group, kind gatewayv1.Kind, name gatewayv1.ObjectName) bool {
	for _, t := range p.grants[grantKey{to: to, from: from}] {
		if t.Group == group && t.Kind == kind && (t.Name == nil || *t.Name == name) {
			return true
		}
	}
	return false
}

// CheckReferenceGrant checks a ReferenceGrant in a tenant namespace: it may
// trust only the tenant's own namespaces and spec.referenceGrants
// .allowFromNamespaces, open up only the allowedKinds, and name its target
// unless wildcard names are allowed. Grants elsewhere are not policed.
func (p *Policy) CheckReferenceGrant(g *gatewayv1.ReferenceGrant) Verdict {
	v := Verdict{Enforcement: v1alpha1.EnforcementDeny}
	if p.members.platform[g.Namespace] {
		return v
	}
	t := p.members.owner[g.Namespace]
	if t == nil {
		return v
	}
	v.Tenant, v.Enforcement = t.name, t.enforcement
	spec := field.NewPath("spec")
	for i, from := range g.Spec.From {
		ns := string(from.Namespace)
		if p.members.owner[ns] == t || t.grantFrom[ns] {
			continue
		}
		v.Violations = append(v.Violations, violation(spec.Child("from").Index(i).Child("namespace"), ns,
			"%q may not be trusted by ReferenceGrants of tenant %q (allowed: %s); grant from an allowed namespace or add it to Tenant %s spec.referenceGrants.allowFromNamespaces",
			ns, t.name, orNone(sortedKeys(t.grantFrom)), t.name))
	}
	for i, to := range g.Spec.To {
		at := spec.Child("to").Index(i)
		if !slices.Contains(t.grantKinds, string(to.Kind)) {
			v.Violations = append(v.Violations, violation(at.Child("kind"), string(to.Kind),
				"%q is not a kind tenant %q may open up (allowed: %s); grant one of them or add it to Tenant %s spec.referenceGrants.allowedKinds",
				to.Kind, t.name, strings.Join(t.grantKinds, ", "), t.name))
		}
		if to.Name == nil && !t.spec.ReferenceGrants.AllowWildcardNames {
			v.Violations = append(v.Violations, violation(at.Child("name"), "",
				"unset, so the grant opens up every %s in namespace %q, which tenant %q does not allow; set to.name, or set Tenant %s spec.referenceGrants.allowWildcardNames",
				to.Kind, g.Namespace, t.name, t.name))
		}
	}
	return v
}
