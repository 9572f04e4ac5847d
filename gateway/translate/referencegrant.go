package translate

import "github.com/tenantgate/tenantgate/gateway/model"

// reference is one cross-namespace reference a ReferenceGrant must allow.
type reference struct {
	fromGroup, fromKind, fromNamespace string
	toGroup, toKind, toNamespace       string
	toName                             string
}

// referenceAllowed reports whether the model's grant index allows the
// reference. Build indexes the grants afresh each time, so deleting or
// narrowing one revokes at once.
func (b *builder) referenceAllowed(r reference) bool {
	b.readsGrants(r)
	ok, _ := b.grants.Allows(r.model())
	return ok
}

// referenceIgnored says why a grant that would allow a refused reference
// opens nothing (tenant policy); "" when no grant would.
func (b *builder) referenceIgnored(r reference) string {
	b.readsGrants(r)
	_, ignored := b.grants.Allows(r.model())
	return ignored
}

func (r reference) model() model.Reference {
	return model.Reference{
		FromGroup: r.fromGroup, FromKind: r.fromKind, FromNamespace: r.fromNamespace,
		ToGroup: r.toGroup, ToKind: r.toKind, ToNamespace: r.toNamespace, ToName: r.toName,
	}
}
