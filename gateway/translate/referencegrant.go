package translate

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// reference is one cross-namespace reference a ReferenceGrant must allow.
type reference struct {
	fromGroup, fromKind, fromNamespace string
	toGroup, toKind, toNamespace       string
	toName                             string
}

// referenceAllowed reports whether a ReferenceGrant in the target namespace
// trusts the reference. Same-namespace references need no grant. A grant
// without to.name covers every object of its group and kind. Build reads the
// grants afresh each time, so deleting or narrowing one revokes at once.
func (b *builder) referenceAllowed(r reference) bool {
	if r.fromNamespace == r.toNamespace {
		return true
	}
	for _, g := range b.grants[r.toNamespace] {
		if grantAllowsFrom(g, r) && grantAllowsTo(g, r) {
			return true
		}
	}
	return false
}

func grantAllowsFrom(g *gatewayv1.ReferenceGrant, r reference) bool {
	for _, f := range g.Spec.From {
		if string(f.Group) == r.fromGroup && string(f.Kind) == r.fromKind && string(f.Namespace) == r.fromNamespace {
			return true
		}
	}
	return false
}

func grantAllowsTo(g *gatewayv1.ReferenceGrant, r reference) bool {
	for _, t := range g.Spec.To {
		if string(t.Group) == r.toGroup && string(t.Kind) == r.toKind && (t.Name == nil || string(*t.Name) == r.toName) {
			return true
		}
	}
	return false
}
