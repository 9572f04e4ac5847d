package routetable

import (
	"cmp"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
)

// CompiledMatch is one HTTPRouteMatch of one rule, ready to test a request.
type CompiledMatch struct {
	Rule *CompiledRule
	// Index of the match in the rule, the last tie-breaker of precedence.
	Index int
	Path  PathMatch
	// prefix is a PathPrefix value without its trailing slash; "" for "/".
	prefix  string
	pathRE  *regexp.Regexp
	method  string
	headers []valueMatch
	query   []valueMatch
	grpc    *compiledGRPC // set on every match of a GRPCRoute
}

// PathPrefix returns the part of a PathPrefix match a ReplacePrefixMatch
// replaces: the value without its trailing slash ("" for "/").
func (m *CompiledMatch) PathPrefix() string { return m.prefix }

// valueMatch compares one header or query parameter value.
type valueMatch struct {
	name  string // canonical header key, or the query parameter name
	value string
	re    *regexp.Regexp
}

func (v *valueMatch) matches(s string) bool {
	if v.re != nil {
		return matchRegex(v.re, s)
	}
	return s == v.value
}

// compileMatch checks and compiles one match; where names the route for errors.
func compileMatch(rule *CompiledRule, index int, in Match, where string) (*CompiledMatch, error) {
	m := &CompiledMatch{Rule: rule, Index: index, Path: in.Path, method: in.Method}
	switch {
	case rule.GRPC:
		g, err := compileGRPCMethod(*cmp.Or(in.GRPC, &GRPCMethodMatch{}), where)
		if err != nil {
			return nil, err
		}
		m.grpc, m.Path = g, PathMatch{}
	case in.GRPC != nil:
		return nil, fmt.Errorf("%s has a gRPC method match; only GRPCRoutes can", where)
	}
	switch in.Path.Type {
	case PathExact:
	case "":
		if m.grpc == nil {
			return nil, fmt.Errorf("%s has no path match type; use Exact, PathPrefix or RegularExpression", where)
		}
	case PathPrefix:
		m.prefix = strings.TrimSuffix(in.Path.Value, "/")
	case PathRegex:
		re, err := CompileRegex(in.Path.Value)
		if err != nil {
			return nil, fmt.Errorf("%s has path regular expression %.64q that is not usable (%v)", where, in.Path.Value, err)
		}
		m.pathRE = re
	default:
		return nil, fmt.Errorf("%s has path match type %q; use Exact, PathPrefix or RegularExpression", where, in.Path.Type)
	}
	var err error
	if m.headers, err = compileValueMatches(in.Headers, textproto.CanonicalMIMEHeaderKey, "header", where); err != nil {
		return nil, err
	}
	if m.query, err = compileValueMatches(in.QueryParams, func(s string) string { return s }, "query parameter", where); err != nil {
		return nil, err
	}
	return m, nil
}

// compileValueMatches keeps only the first entry of each name, as the spec
// requires, and compiles regular expressions.
func compileValueMatches(in []ValueMatch, key func(string) string, kind, where string) ([]valueMatch, error) {
	var out []valueMatch
	seen := map[string]bool{}
	for _, v := range in {
		name := key(v.Name)
		if seen[name] {
			continue
		}
		seen[name] = true
		vm := valueMatch{name: name, value: v.Value}
		switch v.Type {
		case MatchExact, "":
		case MatchRegex:
			re, err := CompileRegex(v.Value)
			if err != nil {
				return nil, fmt.Errorf("%s has %s %.64q regular expression %.64q that is not usable (%v)", where, kind, v.Name, v.Value, err)
			}
			vm.re = re
		default:
			return nil, fmt.Errorf("%s has %s %q match type %q; use Exact or RegularExpression", where, kind, v.Name, v.Type)
		}
		out = append(out, vm)
	}
	return out, nil
}

// matchesRequest tests everything but the path, which the caller has checked.
func (m *CompiledMatch) matchesRequest(r *http.Request) bool {
	if m.method != "" && r.Method != m.method {
		return false
	}
	for i := range m.headers {
		h := &m.headers[i]
		values := r.Header[h.name]
		if len(values) == 0 {
			return false
		}
		value := values[0]
		if len(values) > 1 {
			value = strings.Join(values, ",") // RFC 9110 5.3: repeated fields are one list
		}
		if !h.matches(value) {
			return false
		}
	}
	for i := range m.query {
		q := &m.query[i]
		value, ok := queryValue(r.URL.RawQuery, q.name)
		if !ok || !q.matches(value) {
			return false
		}
	}
	return true
}

// queryValue returns the first value of name in a raw query without
// allocating unless something in it is escaped.
func queryValue(raw, name string) (string, bool) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		key, value, _ := strings.Cut(pair, "=")
		if key != name {
			if !strings.ContainsAny(key, "%+") {
				continue
			}
			if unescaped, err := url.QueryUnescape(key); err != nil || unescaped != name {
				continue
			}
		}
		if strings.ContainsAny(value, "%+") {
			unescaped, err := url.QueryUnescape(value)
			if err != nil {
				return "", false
			}
			value = unescaped
		}
		return value, true
	}
	return "", false
}

// routeGroup holds the matches of every route under one hostname, indexed
// by path so a lookup tests only matches whose path can apply. Each list
// keeps precedence order.
type routeGroup struct {
	grpc   *grpcGroup // GRPCRoutes' matches, tried first
	exact  pathIndex
	regex  []*CompiledMatch
	prefix pathIndex // keyed by prefix without trailing slash
}

// pathIndex finds the matches of one path. Most hostnames carry a few
// paths, so it is a short list compared in turn, and a map past
// smallPaths: a map per hostname would cost more memory than its routes.
type pathIndex struct {
	small []pathMatches
	big   map[string][]*CompiledMatch
}

type pathMatches struct {
	path    string
	matches []*CompiledMatch
}

const smallPaths = 8

func (x *pathIndex) get(path string) []*CompiledMatch {
	if x.big != nil {
		return x.big[path]
	}
	for i := range x.small {
		if x.small[i].path == path {
			return x.small[i].matches
		}
	}
	return nil
}

func (x *pathIndex) empty() bool { return x.big == nil && len(x.small) == 0 }

// add appends m to the matches of path.
func (x *pathIndex) add(path string, m *CompiledMatch) {
	if x.big != nil {
		x.big[path] = append(x.big[path], m)
		return
	}
	for i := range x.small {
		if x.small[i].path == path {
			x.small[i].matches = append(x.small[i].matches, m)
			return
		}
	}
	if len(x.small) < smallPaths {
		x.small = append(x.small, pathMatches{path: path, matches: []*CompiledMatch{m}})
		return
	}
	x.big = make(map[string][]*CompiledMatch, 2*smallPaths)
	for _, pm := range x.small {
		x.big[pm.path] = pm.matches
	}
	x.small = nil
	x.big[path] = []*CompiledMatch{m}
}

// newRouteGroup indexes matches already sorted by precedence.
func newRouteGroup(sorted []*CompiledMatch) *routeGroup {
	g := &routeGroup{}
	var grpc []*CompiledMatch
	for _, m := range sorted {
		if m.grpc != nil {
			grpc = append(grpc, m)
			continue
		}
		switch m.Path.Type {
		case PathExact:
			g.exact.add(m.Path.Value, m)
		case PathRegex:
			g.regex = append(g.regex, m)
		case PathPrefix:
			g.prefix.add(m.prefix, m)
		}
	}
	if len(grpc) > 0 {
		g.grpc = newGRPCGroup(grpc)
	}
	return g
}

// match returns the highest-precedence match for path and r, or nil: exact
// paths, then regular expressions, then prefixes from longest to shortest.
func (g *routeGroup) match(path string, r *http.Request) *CompiledMatch {
	if g.grpc != nil {
		if m := g.grpc.match(path, r); m != nil {
			return m
		}
	}
	for _, m := range g.exact.get(path) {
		if m.matchesRequest(r) {
			return m
		}
	}
	for _, m := range g.regex {
		if matchRegex(m.pathRE, path) && m.matchesRequest(r) {
			return m
		}
	}
	if g.prefix.empty() || !strings.HasPrefix(path, "/") {
		return nil
	}
	// Each candidate is a whole-segment prefix of path, so "/foo" never matches "/foobar".
	candidate := strings.TrimSuffix(path, "/")
	for {
		for _, m := range g.prefix.get(candidate) {
			if m.matchesRequest(r) {
				return m
			}
		}
		if candidate == "" {
			return nil
		}
		candidate = candidate[:strings.LastIndexByte(candidate, '/')]
	}
}
