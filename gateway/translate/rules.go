package translate

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// routeTranslation is an HTTPRoute's rules as the data plane needs them,
// computed once per route and shared by every listener it attaches to.
type routeTranslation struct {
	rules   []routetable.Rule
	dropped []droppedRule // invalid rules, left out of rules
	refs    []problem     // unresolved references, in spec order
	// policies are the BackendTLSPolicies its backends use; the Gateways
	// the route is accepted by become their ancestors.
	policies []*policyState
}

type droppedRule struct {
	index int
	why   problem
}

// accepted is the route's own verdict: a problem when every rule is invalid.
func (t *routeTranslation) accepted() problem {
	if len(t.rules) > 0 || len(t.dropped) == 0 {
		return problem{}
	}
	ps := make([]problem, len(t.dropped))
	for i, d := range t.dropped {
		ps[i] = d.why
	}
	return joinProblems(ps)
}

// partiallyInvalid is the PartiallyInvalid message when some rules were
// dropped and others kept; the spec requires the "Dropped Rule" prefix.
func (t *routeTranslation) partiallyInvalid() string {
	if len(t.rules) == 0 || len(t.dropped) == 0 {
		return ""
	}
	indexes := make([]string, len(t.dropped))
	ps := make([]problem, len(t.dropped))
	for i, d := range t.dropped {
		indexes[i], ps[i] = fmt.Sprint(d.index), d.why
	}
	return fmt.Sprintf("Dropped Rule(s) %s: %s", strings.Join(indexes, ", "), joinProblems(ps).message)
}

// translateRoute translates every rule; an invalid rule is dropped, the
// others stay.
func (b *builder) translateRoute(r *gatewayv1.HTTPRoute) *routeTranslation {
	ro := httpRouteObject(r)
	rules := r.Spec.Rules
	if len(rules) == 0 {
		// The API server defaults an empty rule list to one catch-all rule.
		rules = []gatewayv1.HTTPRouteRule{{}}
	}
	return translateRules(rules, func(i int, rule *gatewayv1.HTTPRouteRule, t *routeTranslation) (routetable.Rule, problem) {
		return b.translateRule(ro, i, rule, t)
	})
}

// translateRules translates every rule of a route with one; a rule it
// refuses is dropped, with why, and the others still served.
func translateRules[R any](rules []R, one func(i int, rule *R, t *routeTranslation) (routetable.Rule, problem)) *routeTranslation {
	t := &routeTranslation{}
	for i := range rules {
		rule, why := one(i, &rules[i], t)
		if !why.ok() {
			t.dropped = append(t.dropped, droppedRule{index: i, why: why})
			continue
		}
		t.rules = append(t.rules, rule)
	}
	return t
}

func (b *builder) translateRule(r *routeObject, i int, spec *gatewayv1.HTTPRouteRule, t *routeTranslation) (routetable.Rule, problem) {
	where := fieldPath{}.field("spec").index("rules", i)
	rule := routetable.Rule{Index: i}
	if len(spec.BackendRefs) > 0 {
		rule.Backends = make([]routetable.Backend, 0, len(spec.BackendRefs))
	}
	var why, p problem // why is the first reason the rule is invalid
	rule.Matches, why = translateMatches(where, spec.Matches)
	rule.Filters, p = b.translateFilters(r, where, spec.Filters, rule.Matches, t)
	why = firstProblem(why, p)
	for j := range spec.BackendRefs {
		ref := &spec.BackendRefs[j]
		refWhere := where.index("backendRefs", j)
		backend, unresolved := b.backend(r, ref.BackendObjectReference, refWhere, t)
		backend.Weight = deref(ref.Weight, 1)
		if !unresolved.ok() {
			backend.Unresolved = unresolved.reason
			t.refs = append(t.refs, unresolved)
		}
		backend.Filters, p = b.translateFilters(r, refWhere, ref.Filters, rule.Matches, t)
		why = firstProblem(why, p)
		rule.Backends = append(rule.Backends, backend)
	}
	rule.Timeouts, p = translateTimeouts(where, spec.Timeouts)
	why = firstProblem(why, p)
	rule.Retry, p = translateRetry(where.field("retry"), spec.Retry)
	why = firstProblem(why, p)
	if why.ok() && spec.SessionPersistence != nil {
		why = newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s is not supported by tenantgate; remove it.", where.field("sessionPersistence"))
	}
	return rule, why
}

// translateMatches applies the API's defaults (PathPrefix "/", Exact) and
// rejects values tenantgate does not know. Regular expressions use Go's RE2
// syntax. Of repeated header (case-insensitive) or query parameter names
// only the first counts, as the spec says.
func translateMatches(where fieldPath, specs []gatewayv1.HTTPRouteMatch) ([]routetable.Match, problem) {
	if len(specs) == 0 {
		return []routetable.Match{{Path: routetable.PathMatch{Type: routetable.PathPrefix, Value: "/"}}}, problem{}
	}
	out := make([]routetable.Match, 0, len(specs))
	for j := range specs {
		m, p := translateMatch(where.index("matches", j), &specs[j])
		if !p.ok() {
			return nil, p
		}
		out = append(out, m)
	}
	return out, problem{}
}

func translateMatch(where fieldPath, spec *gatewayv1.HTTPRouteMatch) (routetable.Match, problem) {
	var m routetable.Match
	pathType, value := gatewayv1.PathMatchPathPrefix, "/"
	if spec.Path != nil {
		pathType, value = deref(spec.Path.Type, pathType), deref(spec.Path.Value, value)
	}
	switch pathType {
	case gatewayv1.PathMatchExact, gatewayv1.PathMatchPathPrefix:
		if !strings.HasPrefix(value, "/") {
			return m, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %q must start with /.", where.field("path").field("value"), value)
		}
		// The data plane matches requests in normal form; a value in any
		// other form could never match, so it is compared in normal form too.
		normal, err := routetable.NormalizePath(value)
		if err != nil {
			return m, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %s cannot be normalised (%v); fix the path.", where.field("path").field("value"), quoteClipped(value), err)
		}
		value = normal
	case gatewayv1.PathMatchRegularExpression:
		if p := checkRegex(where.field("path").field("value"), value); !p.ok() {
			return m, p
		}
	default:
		return m, unsupportedValue(where.field("path").field("type"), string(pathType), "Exact, PathPrefix or RegularExpression")
	}
	m.Path = routetable.PathMatch{Type: routetable.PathMatchType(pathType), Value: value}

	for k, h := range spec.Headers {
		if slices.ContainsFunc(m.Headers, func(v routetable.ValueMatch) bool { return strings.EqualFold(v.Name, string(h.Name)) }) {
			continue
		}
		typ, p := valueMatchType(where.index("headers", k), string(deref(h.Type, gatewayv1.HeaderMatchExact)), h.Value)
		if !p.ok() {
			return m, p
		}
		m.Headers = append(m.Headers, routetable.ValueMatch{Type: typ, Name: string(h.Name), Value: h.Value})
	}
	for k, q := range spec.QueryParams {
		if slices.ContainsFunc(m.QueryParams, func(v routetable.ValueMatch) bool { return v.Name == string(q.Name) }) {
			continue
		}
		typ, p := valueMatchType(where.index("queryParams", k), string(deref(q.Type, gatewayv1.QueryParamMatchExact)), q.Value)
		if !p.ok() {
			return m, p
		}
		m.QueryParams = append(m.QueryParams, routetable.ValueMatch{Type: typ, Name: string(q.Name), Value: q.Value})
	}
	if spec.Method != nil {
		if !knownMethod(*spec.Method) {
			return m, unsupportedValue(where.field("method"), string(*spec.Method), "an HTTP method in upper case")
		}
		m.Method = string(*spec.Method)
	}
	return m, problem{}
}

func valueMatchType(where fieldPath, typ, value string) (routetable.StringMatchType, problem) {
	switch typ {
	case string(gatewayv1.HeaderMatchExact):
		return routetable.MatchExact, problem{}
	case string(gatewayv1.HeaderMatchRegularExpression):
		return routetable.MatchRegex, checkRegex(where.field("value"), value)
	}
	return "", unsupportedValue(where.field("type"), typ, "Exact or RegularExpression")
}

// checkRegex validates with the data plane's own compiler, limits included,
// so a rule it passes compiles there.
func checkRegex(where fieldPath, expr string) problem {
	_, err := routetable.CompileRegex(expr)
	var syntaxErr *syntax.Error
	switch {
	case err == nil:
		return problem{}
	case errors.As(err, &syntaxErr):
		return newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %s is not a valid RE2 regular expression (%v); fix it.", where, quoteClipped(expr), err)
	}
	return newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %s is not a regular expression tenantgate accepts: %v; simplify it.", where, quoteClipped(expr), err)
}

// maxQuoted is how much of a value a message repeats.
const maxQuoted = 64

// quoteClipped quotes a value for a message, cut to maxQuoted bytes (on a
// rune boundary) with its full length when longer.
func quoteClipped(value string) string {
	if len(value) <= maxQuoted {
		return strconv.Quote(value)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(value[cut]) {
		cut--
	}
	return fmt.Sprintf("%q... (%d bytes)", value[:cut], len(value))
}

func knownMethod(m gatewayv1.HTTPMethod) bool {
	switch m {
	case gatewayv1.HTTPMethodGet, gatewayv1.HTTPMethodHead, gatewayv1.HTTPMethodPost, gatewayv1.HTTPMethodPut,
		gatewayv1.HTTPMethodDelete, gatewayv1.HTTPMethodConnect, gatewayv1.HTTPMethodOptions,
		gatewayv1.HTTPMethodTrace, gatewayv1.HTTPMethodPatch:
		return true
	}
	return false
}

// translateTimeouts parses GEP-2257 durations; "0s" disables a timeout, which
// the Config spells as zero too.
func translateTimeouts(where fieldPath, spec *gatewayv1.HTTPRouteTimeouts) (routetable.Timeouts, problem) {
	var t routetable.Timeouts
	if spec == nil {
		return t, problem{}
	}
	var p problem
	if spec.Request != nil {
		if t.Request, p = parseDuration(where.field("timeouts").field("request"), *spec.Request); !p.ok() {
			return t, p
		}
	}
	if spec.BackendRequest != nil {
		if t.BackendRequest, p = parseDuration(where.field("timeouts").field("backendRequest"), *spec.BackendRequest); !p.ok() {
			return t, p
		}
	}
	if t.Request > 0 && t.BackendRequest > t.Request {
		return t, newProblem(gatewayv1.RouteReasonUnsupportedValue,
			"%s (%s) exceeds timeouts.request (%s); make it no longer than the request timeout.", where.field("timeouts").field("backendRequest"), t.BackendRequest, t.Request)
	}
	return t, problem{}
}

// Retry defaults where the spec leaves them to the implementation.
const (
	defaultRetryAttempts = 1
	defaultRetryBackoff  = 25 * time.Millisecond
)

// translateRetry translates a retry policy; the proxy also retries
// connection errors and backendRequest timeouts whenever a policy is set.
func translateRetry(where fieldPath, spec *gatewayv1.HTTPRouteRetry) (*routetable.Retry, problem) {
	if spec == nil {
		return nil, problem{}
	}
	r := &routetable.Retry{Attempts: deref(spec.Attempts, defaultRetryAttempts), Backoff: defaultRetryBackoff}
	if r.Attempts < 1 {
		return nil, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %d is less than 1; retry at least once or remove retry.", where.field("attempts"), r.Attempts)
	}
	for i, code := range spec.Codes {
		if code < 400 || code > 599 {
			return nil, unsupportedValue(where.index("codes", i), fmt.Sprint(code), "a status from 400 to 599")
		}
		r.Codes = append(r.Codes, int(code))
	}
	if spec.Backoff != nil {
		var p problem
		if r.Backoff, p = parseDuration(where.field("backoff"), *spec.Backoff); !p.ok() {
			return nil, p
		}
	}
	return r, problem{}
}

func parseDuration(where fieldPath, d gatewayv1.Duration) (time.Duration, problem) {
	v, err := time.ParseDuration(string(d))
	if err != nil || v < 0 {
		return 0, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %q is not a duration such as 10s or 1m30s; fix it.", where, d)
	}
	return v, problem{}
}

func unsupportedValue(where fieldPath, value, want string) problem {
	return newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %q is not supported; use %s.", where, value, want)
}
