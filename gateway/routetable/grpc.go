package routetable

import (
	"cmp"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// GRPCMethodMatch is one GRPCRouteMatch's method: a request path
// "/service/method" matches when each part set here matches (an empty one
// matches any). Type is MatchExact (case-sensitive equality) or MatchRegex.
type GRPCMethodMatch struct {
	Type    StringMatchType `json:"type"`
	Service string          `json:"service,omitempty"`
	Method  string          `json:"method,omitempty"`
}

// compiledGRPC is a gRPC method match ready to test a path; nil regular
// expressions with empty values match any service or method.
type compiledGRPC struct {
	in        GRPCMethodMatch
	serviceRE *regexp.Regexp
	methodRE  *regexp.Regexp
}

// compileGRPCMethod checks and compiles a gRPC method match.
func compileGRPCMethod(in GRPCMethodMatch, where string) (*compiledGRPC, error) {
	g := &compiledGRPC{in: in}
	switch in.Type {
	case MatchExact, "":
		for _, part := range []string{in.Service, in.Method} {
			if strings.Contains(part, "/") {
				return nil, fmt.Errorf("%s has gRPC method match part %.64q with a \"/\"; exact service and method names cannot hold one", where, part)
			}
		}
	case MatchRegex:
		var err error
		if g.serviceRE, err = compileGRPCPart(in.Service); err != nil {
			return nil, fmt.Errorf("%s has gRPC service regular expression %.64q that is not usable (%v)", where, in.Service, err)
		}
		if g.methodRE, err = compileGRPCPart(in.Method); err != nil {
			return nil, fmt.Errorf("%s has gRPC method regular expression %.64q that is not usable (%v)", where, in.Method, err)
		}
	default:
		return nil, fmt.Errorf("%s has gRPC method match type %q; use Exact or RegularExpression", where, in.Type)
	}
	return g, nil
}

func compileGRPCPart(expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	return CompileRegex(expr)
}

// exactPath is the one path an Exact match with both service and method
// accepts, "" when it accepts more.
func (g *compiledGRPC) exactPath() string {
	if g.in.Type == MatchRegex || g.in.Service == "" || g.in.Method == "" {
		return ""
	}
	return "/" + g.in.Service + "/" + g.in.Method
}

// matchesPath tests an escaped request path "/service/method".
func (g *compiledGRPC) matchesPath(path string) bool {
	if g.in.Service == "" && g.in.Method == "" {
		return true // a match without a method accepts every request
	}
	service, method, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok || len(path) == 0 || path[0] != '/' || strings.Contains(method, "/") {
		return false
	}
	return grpcPartMatches(g.in.Service, g.serviceRE, service) && grpcPartMatches(g.in.Method, g.methodRE, method)
}

func grpcPartMatches(want string, re *regexp.Regexp, got string) bool {
	switch {
	case want == "":
		return true
	case re != nil:
		return matchRegex(re, got)
	}
	return got == want
}

// compareGRPCPrecedence orders two gRPC matches under the same hostname as
// GRPCRouteRule.Matches requires: most characters in the service, then in
// the method, most header matches, then the oldest route, "namespace/name",
// the first rule and the first match. Regular expressions are
// implementation-specific: for service and for method alike, an exact name
// ranks before any expression (as an Exact path does before a
// RegularExpression one), and longer expressions before shorter ones.
func compareGRPCPrecedence(a, b *CompiledMatch) int {
	return cmp.Or(
		comparePart(a.grpc.in.Type, a.grpc.in.Service, b.grpc.in.Type, b.grpc.in.Service),
		comparePart(a.grpc.in.Type, a.grpc.in.Method, b.grpc.in.Type, b.grpc.in.Method),
		cmp.Compare(len(b.headers), len(a.headers)),
		a.Rule.Created.Compare(b.Rule.Created),
		cmp.Compare(a.Rule.Route, b.Rule.Route),
		cmp.Compare(a.Rule.Index, b.Rule.Index),
		cmp.Compare(a.Index, b.Index),
	)
}

// comparePart orders a service or method part: an exact name, then a
// regular expression, then none; longer first within each.
func comparePart(ta StringMatchType, a string, tb StringMatchType, b string) int {
	rank := func(t StringMatchType, v string) int {
		switch {
		case v == "":
			return 2
		case t == MatchRegex:
			return 1
		}
		return 0
	}
	return cmp.Or(cmp.Compare(rank(ta, a), rank(tb, b)), cmp.Compare(len(b), len(a)))
}

// grpcGroup holds the gRPC matches under one hostname in precedence order:
// exact "/service/method" paths in a map (with their rank) so a lookup only
// tests the other matches that rank above the best exact one.
type grpcGroup struct {
	exact  map[string][]rankedMatch
	others []rankedMatch
}

type rankedMatch struct {
	rank int
	m    *CompiledMatch
}

func newGRPCGroup(sorted []*CompiledMatch) *grpcGroup {
	g := &grpcGroup{}
	for rank, m := range sorted {
		rm := rankedMatch{rank: rank, m: m}
		if path := m.grpc.exactPath(); path != "" {
			if g.exact == nil {
				g.exact = map[string][]rankedMatch{}
			}
			g.exact[path] = append(g.exact[path], rm)
			continue
		}
		g.others = append(g.others, rm)
	}
	return g
}

// match returns the highest-precedence gRPC match for path and r, or nil.
func (g *grpcGroup) match(path string, r *http.Request) *CompiledMatch {
	best := rankedMatch{rank: -1}
	for _, rm := range g.exact[path] {
		if rm.m.matchesRequest(r) {
			best = rm
			break
		}
	}
	for _, rm := range g.others {
		if best.m != nil && rm.rank > best.rank {
			break
		}
		if rm.m.grpc.matchesPath(path) && rm.m.matchesRequest(r) {
			return rm.m
		}
	}
	return best.m
}
