package routetable

import "cmp"

// pathRank orders path match types: Exact first, then RegularExpression
// (implementation-specific; ahead of prefixes so the default "/" prefix never
// shadows a regular expression), then PathPrefix.
func pathRank(t PathMatchType) int {
	switch t {
	case PathExact:
		return 0
	case PathRegex:
		return 1
	}
	return 2
}

// pathLength is the number of characters a match's path is compared by.
func (m *CompiledMatch) pathLength() int {
	if m.Path.Type == PathPrefix {
		return len(m.prefix) // "/foo/" and "/foo" are the same prefix
	}
	return len(m.Path.Value)
}

// comparePrecedence orders two matches under the same hostname as the
// HTTPRouteRule.Matches documentation requires: Exact path, longest prefix,
// method, most headers, most query parameters, then the oldest route, the
// route first by "namespace/name", the first rule, the first match.
// GRPCRoutes' matches come first, in their own order (compareGRPCPrecedence).
func comparePrecedence(a, b *CompiledMatch) int {
	if a.grpc != nil || b.grpc != nil {
		if a.grpc == nil || b.grpc == nil {
			return cmp.Compare(boolRank(b.grpc != nil), boolRank(a.grpc != nil))
		}
		return compareGRPCPrecedence(a, b)
	}
	if c := cmp.Compare(pathRank(a.Path.Type), pathRank(b.Path.Type)); c != 0 {
		return c
	}
	if c := cmp.Compare(b.pathLength(), a.pathLength()); c != 0 {
		return c
	}
	if c := cmp.Compare(boolRank(b.method != ""), boolRank(a.method != "")); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.headers), len(a.headers)); c != 0 {
		return c
	}
	if c := cmp.Compare(len(b.query), len(a.query)); c != 0 {
		return c
	}
	if c := a.Rule.Created.Compare(b.Rule.Created); c != 0 {
		return c
	}
	return cmp.Or(
		cmp.Compare(a.Rule.Route, b.Rule.Route),
		cmp.Compare(a.Rule.Index, b.Rule.Index),
		cmp.Compare(a.Index, b.Index),
	)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
