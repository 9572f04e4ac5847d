package translate

import (
	"crypto/tls"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// The mutator turns a golden snapshot into a hostile one: each mutation
// breaks one object the way a tenant (or an object older than the CRD's
// validation) could, choosing from a byte stream so the fuzzer can steer it.

// chooser reads decisions from bytes; once they run out every choice is 0.
type chooser struct{ data []byte }

func (c *chooser) byte() byte {
	if len(c.data) == 0 {
		return 0
	}
	b := c.data[0]
	c.data = c.data[1:]
	return b
}

// intn returns a choice in [0, n); n must be positive.
func (c *chooser) intn(n int) int { return (int(c.byte())<<8 | int(c.byte())) % n }

func pick[T any](c *chooser, values []T) T { return values[c.intn(len(values))] }

// subject is the one object a mutation broke.
type subject struct {
	kind string
	key  types.NamespacedName
}

// mutation breaks one object of s, and returns it; ok is false when s has
// no object of the kind to break.
type mutation struct {
	name  string
	apply func(c *chooser, s *Snapshot) (subject, bool)
}

// Hostile values, each a shape that once passed one check and failed another.
var (
	hostileRegexes = []string{
		strings.Repeat("(", 999) + "a" + strings.Repeat(")", 999), // passes regexp.Compile alone, not anchored
		strings.Repeat("(", 40) + "a" + strings.Repeat(")", 40),
		strings.Repeat("a", 1100),
		".{0,1000}",
		"(", "a)|(b", "[z-a]", `\p{Nope}`, `\C`, "(?P<n>a)(?P<n>b)", "x{1001}",
		".*", "", "é+", "\xff",
	}
	hostileHostnames = []string{
		"A.Example.COM", "example.com.", "*", "*.", "", "a..b", "*.*.example.com", "-x.example.com",
		strings.Repeat("a", 300) + ".com", "127.0.0.1", "[::1]", "ex ample.com", "foo.example.com:80",
	}
	hostilePaths = []string{"", "no-slash", "/a b", "/%zz", "/\x00", "//", "/" + strings.Repeat("x", 5000), "/a?b#c"}
	hostileNames = []string{"", "UPPER", "has space", strings.Repeat("n", 300), "dot.ted", "a/b", "é"}
	hostilePorts = []int32{0, -1, 65536, 1 << 30, 80, 443}
	hostileWords = []string{"", "garbage", "http", "HTTPS", "TCP", "UDP", "Selector", "All", "None", "kubernetes.io/h2c", "https", "\x00"}
)

// withPEMHeader adds a PEM header to the first block of a bundle.
func withPEMHeader(bundle []byte) []byte {
	return []byte(strings.Replace(string(bundle), "-----\n", "-----\nProc-Type: 4,ENCRYPTED\n\n", 1))
}

var hostileBundles = []func([]byte) []byte{
	withPEMHeader,
	func([]byte) []byte { return []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n") },
	func([]byte) []byte { return nil },
	func(b []byte) []byte { return append([]byte("-----BEGIN CERTIFICATE-----\n"), b...) }, // an unterminated block first
	func(b []byte) []byte { return append(b, "-----BEGIN CERTIFICATE-----\nAAAA"...) },     // and last
	func(b []byte) []byte { return b[:len(b)/2] },
}

func routeSubject(r *gatewayv1.HTTPRoute) subject {
	return subject{kind: "HTTPRoute", key: keyOf(&r.ObjectMeta)}
}

// someRule picks a rule of some route, adding one to a route without rules.
func someRule(c *chooser, s *Snapshot) (*gatewayv1.HTTPRoute, *gatewayv1.HTTPRouteRule) {
	if len(s.HTTPRoutes) == 0 {
		return nil, nil
	}
	r := s.HTTPRoutes[c.intn(len(s.HTTPRoutes))]
	if len(r.Spec.Rules) == 0 {
		r.Spec.Rules = append(r.Spec.Rules, gatewayv1.HTTPRouteRule{})
	}
	return r, &r.Spec.Rules[c.intn(len(r.Spec.Rules))]
}

// someMatch picks a match of some rule, adding one to a rule without.
func someMatch(c *chooser, s *Snapshot) (*gatewayv1.HTTPRoute, *gatewayv1.HTTPRouteMatch) {
	r, rule := someRule(c, s)
	if r == nil {
		return nil, nil
	}
	if len(rule.Matches) == 0 {
		rule.Matches = append(rule.Matches, gatewayv1.HTTPRouteMatch{})
	}
	return r, &rule.Matches[c.intn(len(rule.Matches))]
}

// ruleMutation wraps a change to one rule of one route.
func ruleMutation(name string, change func(c *chooser, rule *gatewayv1.HTTPRouteRule)) mutation {
	return mutation{name, func(c *chooser, s *Snapshot) (subject, bool) {
		r, rule := someRule(c, s)
		if r == nil {
			return subject{}, false
		}
		change(c, rule)
		return routeSubject(r), true
	}}
}

// matchMutation wraps a change to one match of one rule.
func matchMutation(name string, change func(c *chooser, m *gatewayv1.HTTPRouteMatch)) mutation {
	return mutation{name, func(c *chooser, s *Snapshot) (subject, bool) {
		r, m := someMatch(c, s)
		if r == nil {
			return subject{}, false
		}
		change(c, m)
		return routeSubject(r), true
	}}
}

// someListener picks a listener of some Gateway.
func someListener(c *chooser, s *Snapshot) (*gatewayv1.Gateway, *gatewayv1.Listener) {
	if len(s.Gateways) == 0 {
		return nil, nil
	}
	g := &s.Gateways[c.intn(len(s.Gateways))]
	if len(g.Spec.Listeners) == 0 {
		return nil, nil
	}
	return g, &g.Spec.Listeners[c.intn(len(g.Spec.Listeners))]
}

func listenerMutation(name string, change func(c *chooser, g *gatewayv1.Gateway, l *gatewayv1.Listener)) mutation {
	return mutation{name, func(c *chooser, s *Snapshot) (subject, bool) {
		g, l := someListener(c, s)
		if g == nil {
			return subject{}, false
		}
		change(c, g, l)
		return subject{kind: "Gateway", key: keyOf(&g.ObjectMeta)}, true
	}}
}

// caObjects are the ConfigMaps and Secrets holding a ca.crt.
func caObjects(s *Snapshot) (maps []*corev1.ConfigMap, secrets []*corev1.Secret) {
	for i := range s.ConfigMaps {
		if _, ok := s.ConfigMaps[i].Data[caCertificateKey]; ok {
			maps = append(maps, &s.ConfigMaps[i])
		}
	}
	for i := range s.Secrets {
		if _, ok := s.Secrets[i].Data[caCertificateKey]; ok {
			secrets = append(secrets, &s.Secrets[i])
		}
	}
	return maps, secrets
}

var mutations = []mutation{
	matchMutation("path regex", func(c *chooser, m *gatewayv1.HTTPRouteMatch) {
		m.Path = &gatewayv1.HTTPPathMatch{Type: new(gatewayv1.PathMatchRegularExpression), Value: new(pick(c, hostileRegexes))}
	}),
	matchMutation("header regex", func(c *chooser, m *gatewayv1.HTTPRouteMatch) {
		m.Headers = append(m.Headers, gatewayv1.HTTPHeaderMatch{Type: new(gatewayv1.HeaderMatchRegularExpression), Name: gatewayv1.HTTPHeaderName(pick(c, hostileNames)), Value: pick(c, hostileRegexes)})
	}),
	matchMutation("query regex", func(c *chooser, m *gatewayv1.HTTPRouteMatch) {
		m.QueryParams = append(m.QueryParams, gatewayv1.HTTPQueryParamMatch{Type: new(gatewayv1.QueryParamMatchRegularExpression), Name: gatewayv1.HTTPHeaderName(pick(c, hostileNames)), Value: pick(c, hostileRegexes)})
	}),
	matchMutation("path value", func(c *chooser, m *gatewayv1.HTTPRouteMatch) {
		types := []gatewayv1.PathMatchType{gatewayv1.PathMatchExact, gatewayv1.PathMatchPathPrefix, "Glob", ""}
		m.Path = &gatewayv1.HTTPPathMatch{Type: new(pick(c, types)), Value: new(pick(c, hostilePaths))}
	}),
	matchMutation("method and types", func(c *chooser, m *gatewayv1.HTTPRouteMatch) {
		m.Method = new(gatewayv1.HTTPMethod(pick(c, hostileWords)))
		m.Headers = append(m.Headers, gatewayv1.HTTPHeaderMatch{Type: new(gatewayv1.HeaderMatchType(pick(c, hostileWords))), Name: "x", Value: "y"})
	}),
	ruleMutation("filter without settings", func(c *chooser, rule *gatewayv1.HTTPRouteRule) {
		kinds := []gatewayv1.HTTPRouteFilterType{gatewayv1.HTTPRouteFilterRequestHeaderModifier, gatewayv1.HTTPRouteFilterResponseHeaderModifier,
			gatewayv1.HTTPRouteFilterRequestRedirect, gatewayv1.HTTPRouteFilterURLRewrite, gatewayv1.HTTPRouteFilterRequestMirror, gatewayv1.HTTPRouteFilterCORS,
			gatewayv1.HTTPRouteFilterExtensionRef, "Garbage"}
		rule.Filters = append(rule.Filters, gatewayv1.HTTPRouteFilter{Type: pick(c, kinds)})
	}),
	ruleMutation("redirect and rewrite", func(c *chooser, rule *gatewayv1.HTTPRouteRule) {
		path := &gatewayv1.HTTPPathModifier{Type: gatewayv1.HTTPPathModifierType(pick(c, []string{"ReplacePrefixMatch", "ReplaceFullPath", "Garbage"})), ReplacePrefixMatch: new(pick(c, hostilePaths)), ReplaceFullPath: new(pick(c, hostilePaths))}
		switch c.intn(3) {
		case 0:
			rule.Filters = append(rule.Filters, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{
				Scheme: new(pick(c, hostileWords)), Hostname: new(gatewayv1.PreciseHostname(pick(c, hostileHostnames))), Port: new(gatewayv1.PortNumber(pick(c, hostilePorts))),
				StatusCode: new(pick(c, []int{0, 200, 301, 399, 1000})), Path: path,
			}})
		case 1:
			rule.Filters = append(rule.Filters, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterURLRewrite, URLRewrite: &gatewayv1.HTTPURLRewriteFilter{
				Hostname: new(gatewayv1.PreciseHostname(pick(c, hostileHostnames))), Path: path,
			}})
		default:
			rule.Filters = append(rule.Filters,
				gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestRedirect, RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{}},
				gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterURLRewrite, URLRewrite: &gatewayv1.HTTPURLRewriteFilter{}})
		}
	}),
	ruleMutation("headers modified twice", func(c *chooser, rule *gatewayv1.HTTPRouteRule) {
		name := gatewayv1.HTTPHeaderName(pick(c, hostileNames))
		rule.Filters = append(rule.Filters, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestHeaderModifier, RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{
			Set: []gatewayv1.HTTPHeader{{Name: name, Value: "a"}}, Add: []gatewayv1.HTTPHeader{{Name: name, Value: "\x00"}}, Remove: []string{string(name)},
		}})
	}),
	ruleMutation("mirror", func(c *chooser, rule *gatewayv1.HTTPRouteRule) {
		m := &gatewayv1.HTTPRequestMirrorFilter{BackendRef: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(pick(c, hostileNames)), Port: new(gatewayv1.PortNumber(pick(c, hostilePorts)))}}
		switch c.intn(4) {
		case 0:
			m.Percent = new(int32(pick(c, []int32{-1, 0, 101, 1 << 30})))
		case 1:
			m.Fraction = &gatewayv1.Fraction{Numerator: pick(c, []int32{-1, 0, 5, 200}), Denominator: new(pick(c, []int32{-1, 0, 100}))}
		case 2:
			m.Percent, m.Fraction = new(int32(50)), &gatewayv1.Fraction{Numerator: 1}
		}
		rule.Filters = append(rule.Filters, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterRequestMirror, RequestMirror: m})
	}),
	ruleMutation("cors", func(c *chooser, rule *gatewayv1.HTTPRouteRule) {
		origins := []gatewayv1.CORSOrigin{"*", "foo.com", "http://*", "https://*.a.com", "http://a.com:0", "http://a.com:99999", "ftp://a.com", "http://a*b.com", "http://[::1]:80", "http://a.com/", "http://", "*.a.com"}
		rule.Filters = append(rule.Filters, gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterCORS, CORS: &gatewayv1.HTTPCORSFilter{
			AllowOrigins:  []gatewayv1.CORSOrigin{pick(c, origins), pick(c, origins)},
			AllowMethods:  []gatewayv1.HTTPMethodWithWildcard{gatewayv1.HTTPMethodWithWildcard(pick(c, []string{"*", "GET", "get", ""}))},
			AllowHeaders:  []gatewayv1.HTTPHeaderName{gatewayv1.HTTPHeaderName(pick(c, []string{"*", "X", ""})), "*"},
			ExposeHeaders: []gatewayv1.HTTPHeaderName{gatewayv1.HTTPHeaderName(pick(c, hostileNames))},
			MaxAge:        pick(c, []int32{-5, 0, 1 << 30}),
		}})
	}),
	ruleMutation("retry and timeouts", func(c *chooser, rule *gatewayv1.HTTPRouteRule) {
		durations := []gatewayv1.Duration{"", "-1s", "1x", "0s", "1h", "9999999h", "10ms"}
		rule.Retry = &gatewayv1.HTTPRouteRetry{Attempts: new(pick(c, []int{-1, 0, 1, 1 << 30})), Backoff: new(pick(c, durations)),
			Codes: []gatewayv1.HTTPRouteRetryStatusCode{gatewayv1.HTTPRouteRetryStatusCode(pick(c, []int{0, 200, 500, 600, -1}))}}
		rule.Timeouts = &gatewayv1.HTTPRouteTimeouts{Request: new(pick(c, durations)), BackendRequest: new(pick(c, durations))}
	}),
	ruleMutation("backend refs", func(c *chooser, rule *gatewayv1.HTTPRouteRule) {
		ref := gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
			BackendObjectReference: gatewayv1.BackendObjectReference{
				Group: new(gatewayv1.Group(pick(c, []string{"", "core", "x.io"}))), Kind: new(gatewayv1.Kind(pick(c, []string{"Service", "Secret", ""}))),
				Name: gatewayv1.ObjectName(pick(c, hostileNames)), Namespace: new(gatewayv1.Namespace(pick(c, hostileNames))), Port: new(gatewayv1.PortNumber(pick(c, hostilePorts))),
			},
			Weight: new(pick(c, []int32{-1, 0, 1 << 30})),
		}}
		rule.BackendRefs = append(rule.BackendRefs, ref)
		if c.intn(2) == 0 {
			rule.SessionPersistence = &gatewayv1.SessionPersistence{}
		}
	}),
	mutation{"route hostnames and parents", func(c *chooser, s *Snapshot) (subject, bool) {
		if len(s.HTTPRoutes) == 0 {
			return subject{}, false
		}
		r := s.HTTPRoutes[c.intn(len(s.HTTPRoutes))]
		r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(pick(c, hostileHostnames)))
		if len(r.Spec.ParentRefs) > 0 {
			ref := &r.Spec.ParentRefs[c.intn(len(r.Spec.ParentRefs))]
			ref.SectionName = new(gatewayv1.SectionName(pick(c, hostileNames)))
			ref.Port = new(gatewayv1.PortNumber(pick(c, hostilePorts)))
		}
		return routeSubject(r), true
	}},
	listenerMutation("selector without selector", func(c *chooser, g *gatewayv1.Gateway, l *gatewayv1.Listener) {
		var sel *metav1.LabelSelector
		switch c.intn(3) {
		case 1:
			sel = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "team", Operator: "Garbage"}}}
		case 2:
			sel = &metav1.LabelSelector{MatchLabels: map[string]string{"bad key!": "x"}}
		}
		l.AllowedRoutes = &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: new(gatewayv1.FromNamespaces(pick(c, []string{"Selector", "Selector", "Garbage", ""}))), Selector: sel}}
	}),
	listenerMutation("listener port, protocol and hostname", func(c *chooser, g *gatewayv1.Gateway, l *gatewayv1.Listener) {
		switch c.intn(4) {
		case 0:
			l.Port = gatewayv1.PortNumber(pick(c, hostilePorts))
		case 1:
			l.Protocol = gatewayv1.ProtocolType(pick(c, hostileWords))
		case 2:
			l.Hostname = new(gatewayv1.Hostname(pick(c, hostileHostnames)))
		default:
			l.Name = gatewayv1.SectionName(pick(c, hostileNames))
		}
	}),
	listenerMutation("duplicate listener", func(c *chooser, g *gatewayv1.Gateway, l *gatewayv1.Listener) {
		dup := *l.DeepCopy()
		switch c.intn(3) {
		case 0:
			dup.Hostname = new(gatewayv1.Hostname(pick(c, hostileHostnames)))
		case 1: // another name, the same hostname but for case and a trailing dot
			dup.Name += "-copy"
			dup.Hostname = new(gatewayv1.Hostname(strings.ToUpper(string(deref(l.Hostname, "example.com"))) + "."))
		}
		g.Spec.Listeners = append(g.Spec.Listeners, dup)
	}),
	listenerMutation("listener TLS", func(c *chooser, g *gatewayv1.Gateway, l *gatewayv1.Listener) {
		l.Protocol = gatewayv1.HTTPSProtocolType
		l.TLS = &gatewayv1.ListenerTLSConfig{
			Mode:            new(gatewayv1.TLSModeType(pick(c, []string{"Terminate", "Passthrough", "Garbage"}))),
			CertificateRefs: []gatewayv1.SecretObjectReference{{Name: gatewayv1.ObjectName(pick(c, hostileNames)), Kind: new(gatewayv1.Kind(pick(c, []string{"Secret", "ConfigMap"})))}},
		}
		for _, sec := range s0Secrets(g) {
			l.TLS.CertificateRefs = append(l.TLS.CertificateRefs, sec)
		}
	}),
	listenerMutation("frontend validation", func(c *chooser, g *gatewayv1.Gateway, l *gatewayv1.Listener) {
		g.Spec.TLS = &gatewayv1.GatewayTLSConfig{Frontend: &gatewayv1.FrontendTLSConfig{Default: gatewayv1.TLSConfig{Validation: &gatewayv1.FrontendTLSValidation{
			Mode:              gatewayv1.FrontendValidationModeType(pick(c, []string{"", "AllowValidOnly", "AllowInsecureFallback", "Garbage"})),
			CACertificateRefs: []gatewayv1.ObjectReference{{Kind: gatewayv1.Kind(pick(c, []string{"ConfigMap", "Secret", "Service"})), Name: gatewayv1.ObjectName(pick(c, hostileNames))}},
		}}}}
	}),
	mutation{"gateway addresses", func(c *chooser, s *Snapshot) (subject, bool) {
		if len(s.Gateways) == 0 {
			return subject{}, false
		}
		g := &s.Gateways[c.intn(len(s.Gateways))]
		g.Spec.Addresses = append(g.Spec.Addresses, gatewayv1.GatewaySpecAddress{Type: new(gatewayv1.AddressType(pick(c, []string{"IPAddress", "Hostname", "Garbage"}))), Value: pick(c, []string{"", "not-an-ip", "127.10.0.9", "::1"})})
		return subject{kind: "Gateway", key: keyOf(&g.ObjectMeta)}, true
	}},
	mutation{"listener set listener", func(c *chooser, s *Snapshot) (subject, bool) {
		if len(s.ListenerSets) == 0 {
			return subject{}, false
		}
		ls := &s.ListenerSets[c.intn(len(s.ListenerSets))]
		ls.Spec.Listeners = append(ls.Spec.Listeners, gatewayv1.ListenerEntry{
			Name: gatewayv1.SectionName(pick(c, hostileNames)), Port: gatewayv1.PortNumber(pick(c, hostilePorts)),
			Protocol: gatewayv1.ProtocolType(pick(c, hostileWords)), Hostname: new(gatewayv1.Hostname(pick(c, hostileHostnames))),
			AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: new(gatewayv1.NamespacesFromSelector)}},
		})
		return subject{kind: "ListenerSet", key: keyOf(&ls.ObjectMeta)}, true
	}},
	mutation{"CA bundle", func(c *chooser, s *Snapshot) (subject, bool) {
		maps, secrets := caObjects(s)
		if len(maps)+len(secrets) == 0 {
			return subject{}, false
		}
		breakBundle := pick(c, hostileBundles)
		sub := subject{kind: "ConfigMap"}
		var bundle []byte
		if i := c.intn(len(maps) + len(secrets)); i < len(maps) {
			bundle = breakBundle([]byte(maps[i].Data[caCertificateKey]))
			maps[i].Data[caCertificateKey] = string(bundle)
			sub.key = keyOf(&maps[i].ObjectMeta)
		} else {
			sec := secrets[i-len(maps)]
			bundle = breakBundle(sec.Data[caCertificateKey])
			sec.Data[caCertificateKey] = bundle
			sub = subject{kind: "Secret", key: keyOf(&sec.ObjectMeta)}
			if _, ok := sec.Data[corev1.TLSCertKey]; ok {
				return subject{kind: "CA and TLS Secret", key: sub.key}, true // confining one use does not confine the other
			}
		}
		if _, err := routetable.ParseCACertificates(bundle); err == nil {
			sub.kind = "usable " + sub.kind // still a good bundle: nothing to confine
		}
		return sub, true
	}},
	mutation{"TLS Secret", func(c *chooser, s *Snapshot) (subject, bool) {
		if len(s.Secrets) == 0 {
			return subject{}, false
		}
		sec := &s.Secrets[c.intn(len(s.Secrets))]
		if sec.Data == nil {
			sec.Data = map[string][]byte{}
		}
		sec.Data[corev1.TLSCertKey] = pick(c, hostileBundles)(sec.Data[corev1.TLSCertKey])
		if c.intn(2) == 0 {
			sec.Type = corev1.SecretType(pick(c, hostileWords))
		}
		sub := subject{kind: "Secret", key: keyOf(&sec.ObjectMeta)}
		if _, err := tls.X509KeyPair(sec.Data[corev1.TLSCertKey], sec.Data[corev1.TLSPrivateKeyKey]); err == nil && sec.Type == corev1.SecretTypeTLS {
			sub.kind = "usable Secret" // still a good certificate: nothing to confine
		}
		if _, ok := sec.Data[caCertificateKey]; ok {
			sub.kind = "CA and TLS Secret" // confining one use does not confine the other
		}
		return sub, true
	}},
	mutation{"backend TLS policy", func(c *chooser, s *Snapshot) (subject, bool) {
		if len(s.BackendTLSPolicies) == 0 {
			return subject{}, false
		}
		p := &s.BackendTLSPolicies[c.intn(len(s.BackendTLSPolicies))]
		v := &p.Spec.Validation
		switch c.intn(5) {
		case 0:
			v.Hostname = gatewayv1.PreciseHostname(pick(c, hostileHostnames))
		case 1:
			v.SubjectAltNames = append(v.SubjectAltNames, gatewayv1.SubjectAltName{Type: gatewayv1.SubjectAltNameType(pick(c, hostileWords)), Hostname: gatewayv1.Hostname(pick(c, hostileHostnames))})
		case 2:
			v.WellKnownCACertificates = new(gatewayv1.WellKnownCACertificatesType(pick(c, []string{"System", "Garbage"})))
		case 3:
			v.CACertificateRefs = append(v.CACertificateRefs, gatewayv1.LocalObjectReference{Kind: gatewayv1.Kind(pick(c, []string{"ConfigMap", "Secret", "Service"})), Name: gatewayv1.ObjectName(pick(c, hostileNames))})
		default:
			p.Spec.TargetRefs = append(p.Spec.TargetRefs, gatewayv1.LocalPolicyTargetReferenceWithSectionName{
				LocalPolicyTargetReference: gatewayv1.LocalPolicyTargetReference{Kind: "Service", Name: gatewayv1.ObjectName(pick(c, hostileNames))},
				SectionName:                new(gatewayv1.SectionName(pick(c, hostileNames))),
			})
		}
		return subject{kind: "BackendTLSPolicy", key: keyOf(&p.ObjectMeta)}, true
	}},
	mutation{"reference grant", func(c *chooser, s *Snapshot) (subject, bool) {
		if len(s.ReferenceGrants) == 0 {
			return subject{}, false
		}
		g := &s.ReferenceGrants[c.intn(len(s.ReferenceGrants))]
		g.Spec.From = append(g.Spec.From, gatewayv1.ReferenceGrantFrom{Group: gatewayv1.Group(pick(c, []string{"", "gateway.networking.k8s.io"})), Kind: gatewayv1.Kind(pick(c, hostileNames)), Namespace: gatewayv1.Namespace(pick(c, hostileNames))})
		g.Spec.To = append(g.Spec.To, gatewayv1.ReferenceGrantTo{Kind: gatewayv1.Kind(pick(c, []string{"Service", "Secret", ""})), Name: new(gatewayv1.ObjectName(pick(c, hostileNames)))})
		return subject{kind: "ReferenceGrant", key: keyOf(&g.ObjectMeta)}, true
	}},
	mutation{"service and endpoints", func(c *chooser, s *Snapshot) (subject, bool) {
		if len(s.Services) == 0 {
			return subject{}, false
		}
		svc := &s.Services[c.intn(len(s.Services))]
		svc.Spec.Ports = append(svc.Spec.Ports, corev1.ServicePort{Name: pick(c, hostileNames), Port: pick(c, hostilePorts), Protocol: corev1.Protocol(pick(c, hostileWords)), AppProtocol: new(pick(c, hostileWords))})
		if c.intn(2) == 0 {
			svc.Spec.Type = corev1.ServiceTypeExternalName
		}
		return subject{kind: "Service", key: keyOf(&svc.ObjectMeta)}, true
	}},
}

// s0Secrets are the certificateRefs a Gateway's HTTPS listeners already
// use, so a TLS mutation can keep a working certificate beside a bad one.
func s0Secrets(g *gatewayv1.Gateway) []gatewayv1.SecretObjectReference {
	for _, l := range g.Spec.Listeners {
		if l.TLS != nil && len(l.TLS.CertificateRefs) > 0 {
			return l.TLS.CertificateRefs[:1]
		}
	}
	return nil
}

// mutate applies the mutation the chooser picks; ok is false when it found
// nothing to break.
func mutate(c *chooser, s *Snapshot) (subject, string, bool) {
	m := mutations[c.intn(len(mutations))]
	sub, ok := m.apply(c, s)
	return sub, m.name, ok
}
