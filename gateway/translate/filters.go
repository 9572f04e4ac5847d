package translate

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// translateFilters translates a rule's or a backendRef's filters in order.
// A filter tenantgate does not implement makes the rule invalid rather than
// being skipped. A mirror whose backend does not resolve is left out and
// reported in t's refs, as the spec asks.
func (b *builder) translateFilters(r *routeObject, parent fieldPath, specs []gatewayv1.HTTPRouteFilter, matches []routetable.Match, t *routeTranslation) ([]routetable.Filter, problem) {
	if p := checkCombination(parent.field("filters"), specs); !p.ok() {
		return nil, p
	}
	var out []routetable.Filter
	for i := range specs {
		f, keep, p := b.translateFilter(r, parent.index("filters", i), &specs[i], matches, t)
		if !p.ok() {
			return nil, p
		}
		if keep {
			out = append(out, f)
		}
	}
	return out, problem{}
}

// checkCombination rejects a redirect together with a rewrite, and a repeat
// of a filter type the spec allows only once.
func checkCombination(where fieldPath, specs []gatewayv1.HTTPRouteFilter) problem {
	has := func(t gatewayv1.HTTPRouteFilterType, in []gatewayv1.HTTPRouteFilter) bool {
		return slices.ContainsFunc(in, func(f gatewayv1.HTTPRouteFilter) bool { return f.Type == t })
	}
	for i, f := range specs {
		repeatable := f.Type == gatewayv1.HTTPRouteFilterRequestMirror || f.Type == gatewayv1.HTTPRouteFilterExtensionRef
		if !repeatable && has(f.Type, specs[:i]) {
			return newProblem(gatewayv1.RouteReasonIncompatibleFilters, "%s lists filter %s more than once; merge them into one.", where, f.Type)
		}
	}
	if has(gatewayv1.HTTPRouteFilterRequestRedirect, specs) && has(gatewayv1.HTTPRouteFilterURLRewrite, specs) {
		return newProblem(gatewayv1.RouteReasonIncompatibleFilters, "%s combines RequestRedirect and URLRewrite, which cannot go together; keep one.", where)
	}
	return problem{}
}

func (b *builder) translateFilter(r *routeObject, where fieldPath, spec *gatewayv1.HTTPRouteFilter, matches []routetable.Match, t *routeTranslation) (f routetable.Filter, keep bool, p problem) {
	f.Type = routetable.FilterType(spec.Type)
	missing := func() problem {
		return newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s has type %s but no matching configuration; add it.", where, spec.Type)
	}
	switch spec.Type {
	case gatewayv1.HTTPRouteFilterRequestHeaderModifier:
		if spec.RequestHeaderModifier == nil {
			return f, false, missing()
		}
		f.RequestHeader, p = headerModifier(where.field("requestHeaderModifier"), spec.RequestHeaderModifier)
	case gatewayv1.HTTPRouteFilterResponseHeaderModifier:
		if spec.ResponseHeaderModifier == nil {
			return f, false, missing()
		}
		f.ResponseHeader, p = headerModifier(where.field("responseHeaderModifier"), spec.ResponseHeaderModifier)
	case gatewayv1.HTTPRouteFilterRequestRedirect:
		if spec.RequestRedirect == nil {
			return f, false, missing()
		}
		f.Redirect, p = redirect(where.field("requestRedirect"), spec.RequestRedirect, matches)
	case gatewayv1.HTTPRouteFilterURLRewrite:
		if spec.URLRewrite == nil {
			return f, false, missing()
		}
		f.Rewrite = &routetable.Rewrite{Hostname: clonePtr((*string)(spec.URLRewrite.Hostname))}
		f.Rewrite.Path, p = pathModifier(where.field("urlRewrite").field("path"), spec.URLRewrite.Path, matches)
	case gatewayv1.HTTPRouteFilterRequestMirror:
		if spec.RequestMirror == nil {
			return f, false, missing()
		}
		return b.mirror(r, where.field("requestMirror"), spec.RequestMirror, t)
	case gatewayv1.HTTPRouteFilterCORS:
		if spec.CORS == nil {
			return f, false, missing()
		}
		f.CORS, p = cors(where.field("cors"), spec.CORS)
	default:
		return f, false, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s has type %s, which tenantgate does not implement; remove the filter.", where, spec.Type)
	}
	return f, p.ok(), p
}

// headerModifier enforces one action per header name (case-insensitive).
func headerModifier(where fieldPath, spec *gatewayv1.HTTPHeaderFilter) (*routetable.HeaderModifier, problem) {
	m := &routetable.HeaderModifier{}
	var seen []string // at most 48 names: a scan beats a map
	use := func(name string) problem {
		if slices.ContainsFunc(seen, func(s string) bool { return strings.EqualFold(s, name) }) {
			return newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s acts on header %q more than once; give each header one action.", where, name)
		}
		seen = append(seen, name)
		return problem{}
	}
	for _, h := range spec.Set {
		if p := use(string(h.Name)); !p.ok() {
			return nil, p
		}
		m.Set = append(m.Set, routetable.Header{Name: string(h.Name), Value: h.Value})
	}
	for _, h := range spec.Add {
		if p := use(string(h.Name)); !p.ok() {
			return nil, p
		}
		m.Add = append(m.Add, routetable.Header{Name: string(h.Name), Value: h.Value})
	}
	for _, name := range spec.Remove {
		if p := use(name); !p.ok() {
			return nil, p
		}
		m.Remove = append(m.Remove, name)
	}
	return m, problem{}
}

func redirect(where fieldPath, spec *gatewayv1.HTTPRequestRedirectFilter, matches []routetable.Match) (*routetable.Redirect, problem) {
	rd := &routetable.Redirect{Hostname: clonePtr((*string)(spec.Hostname)), Port: clonePtr(spec.Port), StatusCode: deref(spec.StatusCode, 302)}
	if spec.Scheme != nil {
		if *spec.Scheme != "http" && *spec.Scheme != "https" {
			return nil, unsupportedValue(where.field("scheme"), *spec.Scheme, "http or https")
		}
		rd.Scheme = clonePtr(spec.Scheme)
	}
	switch rd.StatusCode {
	case 301, 302, 303, 307, 308:
	default:
		return nil, unsupportedValue(where.field("statusCode"), fmt.Sprint(rd.StatusCode), "301, 302, 303, 307 or 308")
	}
	var p problem
	rd.Path, p = pathModifier(where.field("path"), spec.Path, matches)
	return rd, p
}

// pathModifier translates a redirect's or rewrite's path; ReplacePrefixMatch
// needs every match of the rule to be a PathPrefix.
func pathModifier(where fieldPath, spec *gatewayv1.HTTPPathModifier, matches []routetable.Match) (*routetable.PathModifier, problem) {
	if spec == nil {
		return nil, problem{}
	}
	switch spec.Type {
	case gatewayv1.FullPathHTTPPathModifier:
		return &routetable.PathModifier{Type: routetable.ReplaceFullPath, Value: deref(spec.ReplaceFullPath, "")}, problem{}
	case gatewayv1.PrefixMatchHTTPPathModifier:
		for _, m := range matches {
			if m.Path.Type != routetable.PathPrefix {
				return nil, newProblem(gatewayv1.RouteReasonUnsupportedValue,
					"%s uses ReplacePrefixMatch, which needs every match of the rule to be a PathPrefix, not %s.", where, m.Path.Type)
			}
		}
		return &routetable.PathModifier{Type: routetable.ReplacePrefixMatch, Value: deref(spec.ReplacePrefixMatch, "")}, problem{}
	}
	return nil, unsupportedValue(where.field("type"), string(spec.Type), "ReplaceFullPath or ReplacePrefixMatch")
}

// mirror resolves a RequestMirror filter. An unresolved mirror is dropped
// (keep is false) and reported in t's refs; it does not invalidate the rule.
func (b *builder) mirror(r *routeObject, where fieldPath, spec *gatewayv1.HTTPRequestMirrorFilter, t *routeTranslation) (routetable.Filter, bool, problem) {
	f := routetable.Filter{Type: routetable.FilterRequestMirror}
	percent := 100.0
	switch {
	case spec.Percent != nil && spec.Fraction != nil:
		return f, false, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s sets both percent and fraction; keep one.", where)
	case spec.Percent != nil:
		percent = float64(*spec.Percent)
	case spec.Fraction != nil:
		den := deref(spec.Fraction.Denominator, 100)
		if den <= 0 || spec.Fraction.Numerator < 0 || spec.Fraction.Numerator > den {
			return f, false, newProblem(gatewayv1.RouteReasonUnsupportedValue,
				"%s %d/%d is not between 0 and 1; fix it.", where.field("fraction"), spec.Fraction.Numerator, den)
		}
		percent = 100 * float64(spec.Fraction.Numerator) / float64(den)
	}
	if percent < 0 || percent > 100 {
		return f, false, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %v is not between 0 and 100; fix it.", where.field("percent"), percent)
	}
	backend, unresolved := b.backend(r, spec.BackendRef, where.field("backendRef"), t)
	if !unresolved.ok() {
		t.refs = append(t.refs, unresolved)
		return f, false, problem{}
	}
	f.Mirror = &routetable.Mirror{Backend: backend, Percent: percent}
	return f, true, problem{}
}

// cors translates a CORS filter. The API server checks the origin syntax;
// this repeats the checks the proxy relies on, so a value that slipped past
// makes the rule invalid instead of the route table.
func cors(where fieldPath, spec *gatewayv1.HTTPCORSFilter) (*routetable.CORS, problem) {
	c := &routetable.CORS{AllowCredentials: deref(spec.AllowCredentials, false), MaxAge: spec.MaxAge}
	if c.MaxAge < 0 {
		return nil, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s %d is negative; give a number of seconds.", where.field("maxAge"), spec.MaxAge)
	}
	if c.MaxAge == 0 {
		c.MaxAge = 5 // the API's default, for objects that were not defaulted
	}
	for i, o := range spec.AllowOrigins {
		if !validOrigin(string(o)) {
			return nil, newProblem(gatewayv1.RouteReasonUnsupportedValue,
				"%s %q is not an origin; use \"*\" or scheme://host[:port] with scheme http or https and an optional leading \"*.\" in the host.", where.index("allowOrigins", i), o)
		}
		c.AllowOrigins = append(c.AllowOrigins, string(o))
	}
	for i, m := range spec.AllowMethods {
		if m != "*" && !knownMethod(gatewayv1.HTTPMethod(m)) {
			return nil, unsupportedValue(where.index("allowMethods", i), string(m), "an HTTP method in upper case or \"*\"")
		}
		c.AllowMethods = append(c.AllowMethods, string(m))
	}
	for _, h := range spec.AllowHeaders {
		c.AllowHeaders = append(c.AllowHeaders, string(h))
	}
	for _, h := range spec.ExposeHeaders {
		c.ExposeHeaders = append(c.ExposeHeaders, string(h))
	}
	for _, list := range []struct {
		name   string
		values []string
	}{{"allowOrigins", c.AllowOrigins}, {"allowMethods", c.AllowMethods}, {"allowHeaders", c.AllowHeaders}, {"exposeHeaders", c.ExposeHeaders}} {
		if len(list.values) > 1 && slices.Contains(list.values, "*") {
			return nil, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s lists \"*\" with other values; keep \"*\" alone or drop it.", where.field(list.name))
		}
	}
	if err := routetable.CheckCORS(c); err != nil { // the data plane's own parser has the last word
		return nil, newProblem(gatewayv1.RouteReasonUnsupportedValue, "%s cannot be served: %v.", where, err)
	}
	return c, problem{}
}

// originPattern is CORSOrigin's syntax: "*", or http(s)://host[:port] where
// the host may be "*" or start with "*.".
var originPattern = regexp.MustCompile(`^(\*|https?://((\*\.)?([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+|\*)(:[0-9]{1,5})?)$`)

func validOrigin(o string) bool {
	if !originPattern.MatchString(o) {
		return false
	}
	if _, port, ok := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(o, "https://"), "http://"), ":"); ok {
		n, err := strconv.Atoi(port)
		return err == nil && n >= 1 && n <= 65535
	}
	return true
}
