package tenancy

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// maxMoveWarnings bounds the warnings of a namespace move (they travel in
// HTTP headers).
const maxMoveWarnings = 10

// automaticLabel is set by the API server on every namespace; it is left
// out of messages.
const automaticLabel = corev1.LabelMetadataName

var labelsPath = field.NewPath("metadata", "labels")

// CheckNamespace checks a namespace's labels (on create or update): labels
// that would put it in two tenants are refused (always enforced, as for
// Tenants); labels that move it under a tenant whose rules its existing
// objects break are admitted with one warning per broken rule, naming the
// object. Platform namespaces belong to no tenant and are not checked. The
// what-if check rebuilds the policy once, which namespace moves, being
// rare, can afford.
func (p *Policy) CheckNamespace(ns *corev1.Namespace) Verdict {
	v := Verdict{Enforcement: v1alpha1.EnforcementDeny}
	if p.members.platform[ns.Name] {
		return v
	}
	claims := p.claimsOf(ns)
	if len(claims) > 1 {
		parts := make([]string, len(claims))
		for i, c := range claims {
			rule := "spec.namespaces.selector"
			if c.byName {
				rule = "spec.namespaces.names"
			}
			parts[i] = fmt.Sprintf("tenant %q (%s)", c.tenant.name, rule)
		}
		shown := labelText(ns.Labels)
		v.Tenant = claims[0].tenant.name
		v.Violations = append(v.Violations, violation(labelsPath, shown,
			"%s would put namespace %q in %s (a namespace belongs to at most one tenant); change the labels, or the Tenants' spec.namespaces",
			shown, ns.Name, strings.Join(parts, " and ")))
		return v
	}
	if len(claims) == 0 {
		return v
	}
	to := claims[0].tenant
	v.Tenant, v.Enforcement = to.name, to.enforcement
	if p.members.owner[ns.Name] == to {
		return v
	}
	moved := p.withNamespace(ns)
	var warnings []string
	total := 0
	moved.forEachObject(ns.Name, func(kind, _, name string, ov Verdict, _ []*tenantInfo) {
		for _, msg := range ov.Messages() {
			total++
			if len(warnings) < maxMoveWarnings {
				warnings = append(warnings, oneLine(fmt.Sprintf(
					"%s: namespace %q joins tenant %q, and its %s %s breaks that tenant's rules: %s; fix or remove the %s",
					labelsPath, ns.Name, to.name, kind, name, msg, kind)))
			}
		}
	})
	if total > len(warnings) {
		warnings = append(warnings, fmt.Sprintf("%s: namespace %q joins tenant %q, and %d more findings in its objects break that tenant's rules; see Tenant %s status.violations once it has moved",
			labelsPath, ns.Name, to.name, total-len(warnings), to.name))
	}
	v.Warnings = warnings
	return v
}

// claimsOf returns the tenants that would claim the namespace with its new
// labels: by name (unchanged by labels) first, then by selector, in tenant
// name order.
func (p *Policy) claimsOf(ns *corev1.Namespace) []namespaceClaim {
	var out []namespaceClaim
	for _, c := range p.members.claims[ns.Name] {
		if c.byName {
			out = append(out, c)
		}
	}
	byLabel, scanned := selectorIndex(p.tenants)
	for _, t := range selectingTenants(ns.Labels, byLabel, scanned) {
		dup := false
		for _, c := range out {
			dup = dup || c.tenant == t
		}
		if !dup {
			out = append(out, namespaceClaim{tenant: t})
		}
	}
	return out
}

// withNamespace is the policy of the same snapshot with ns as given.
func (p *Policy) withNamespace(ns *corev1.Namespace) *Policy {
	in := p.inputs()
	in.Namespaces = make([]corev1.Namespace, 0, len(p.in.Namespaces)+1)
	for _, n := range p.in.Namespaces {
		if n.Name != ns.Name {
			in.Namespaces = append(in.Namespaces, n)
		}
	}
	in.Namespaces = append(in.Namespaces, *ns)
	return NewPolicy(in)
}

// labelText shows labels as k=v pairs, sorted, without the automatic
// kubernetes.io/metadata.name.
func labelText(labels map[string]string) string {
	var parts []string
	for k, v := range labels {
		if k != automaticLabel {
			parts = append(parts, k+"="+v)
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return "(none)"
	}
	return strings.Join(parts, ",")
}
