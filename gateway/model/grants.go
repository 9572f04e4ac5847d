package model

import (
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Reference is one reference that may cross namespaces: from an object
// (group, kind, namespace) to a named object (group, kind, namespace, name).
type Reference struct {
	FromGroup, FromKind, FromNamespace string
	ToGroup, ToKind, ToNamespace       string
	ToName                             string
}

// GrantFilter says why a ReferenceGrant must open nothing ("" when it may),
// for example because it breaks its tenant's rules.
type GrantFilter func(g *gatewayv1.ReferenceGrant) string

// RefuseBy turns a policy's violations of a grant into a GrantFilter, so
// every user of the model words an ignored grant the same way.
func RefuseBy(violations func(g *gatewayv1.ReferenceGrant) []string) GrantFilter {
	return func(g *gatewayv1.ReferenceGrant) string {
		if v := violations(g); len(v) > 0 {
			return "it breaks tenant policy: " + strings.Join(v, "; ")
		}
		return ""
	}
}

// Grants indexes ReferenceGrants by the namespace they open up.
type Grants struct {
	byNamespace map[string][]*gatewayv1.ReferenceGrant
	ignored     map[*gatewayv1.ReferenceGrant]string
}

// NewGrants indexes grants, keeping pointers into the slice. A grant the
// filter refuses opens nothing; Allows names it and the reason.
func NewGrants(grants []gatewayv1.ReferenceGrant, filter GrantFilter) *Grants {
	idx := &Grants{byNamespace: map[string][]*gatewayv1.ReferenceGrant{}, ignored: map[*gatewayv1.ReferenceGrant]string{}}
	for i := range grants {
		g := &grants[i]
		idx.byNamespace[g.Namespace] = append(idx.byNamespace[g.Namespace], g)
		if filter != nil {
			if why := filter(g); why != "" {
				idx.ignored[g] = why
			}
		}
	}
	return idx
}

// Allows reports whether a reference is allowed: same namespace, or a
// ReferenceGrant in the target namespace trusts it (a grant without
// to.name covers every object of its group and kind). When only ignored
// grants would allow it, ignored says why the first one opens nothing.
func (idx *Grants) Allows(r Reference) (ok bool, ignored string) {
	if r.FromNamespace == r.ToNamespace {
		return true, ""
	}
	for _, g := range idx.byNamespace[r.ToNamespace] {
		if !grantAllowsFrom(g, r) || !grantAllowsTo(g, r) {
			continue
		}
		why, refused := idx.ignored[g]
		if !refused {
			return true, ""
		}
		if ignored == "" {
			ignored = "ReferenceGrant " + g.Namespace + "/" + g.Name + " is ignored: " + why
		}
	}
	return false, ignored
}

func grantAllowsFrom(g *gatewayv1.ReferenceGrant, r Reference) bool {
	for _, f := range g.Spec.From {
		if string(f.Group) == r.FromGroup && string(f.Kind) == r.FromKind && string(f.Namespace) == r.FromNamespace {
			return true
		}
	}
	return false
}

func grantAllowsTo(g *gatewayv1.ReferenceGrant, r Reference) bool {
	for _, t := range g.Spec.To {
		if string(t.Group) == r.ToGroup && string(t.Kind) == r.ToKind && (t.Name == nil || string(*t.Name) == r.ToName) {
			return true
		}
	}
	return false
}
