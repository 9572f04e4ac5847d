package translate

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// GRPCRoute mutations join the HTTPRoute ones: each breaks one rule of one
// GRPCRoute the way a tenant could.
func init() { mutations = append(mutations, grpcMutations...) }

func grpcRouteSubject(r *gatewayv1.GRPCRoute) subject {
	return subject{kind: "GRPCRoute", key: keyOf(&r.ObjectMeta)}
}

// grpcRuleMutation wraps a change to one rule of one GRPCRoute, adding a
// rule to a route without rules.
func grpcRuleMutation(name string, change func(c *chooser, rule *gatewayv1.GRPCRouteRule)) mutation {
	return mutation{name, func(c *chooser, s *Snapshot) (subject, bool) {
		if len(s.GRPCRoutes) == 0 {
			return subject{}, false
		}
		r := s.GRPCRoutes[c.intn(len(s.GRPCRoutes))]
		if len(r.Spec.Rules) == 0 {
			r.Spec.Rules = append(r.Spec.Rules, gatewayv1.GRPCRouteRule{})
		}
		change(c, &r.Spec.Rules[c.intn(len(r.Spec.Rules))])
		return grpcRouteSubject(r), true
	}}
}

var grpcMutations = []mutation{
	grpcRuleMutation("gRPC method", func(c *chooser, rule *gatewayv1.GRPCRouteRule) {
		types := []gatewayv1.GRPCMethodMatchType{gatewayv1.GRPCMethodMatchExact, gatewayv1.GRPCMethodMatchRegularExpression, "Glob", ""}
		values := append([]string{"a/b", "/", "svc.Name"}, hostileRegexes...)
		rule.Matches = append(rule.Matches, gatewayv1.GRPCRouteMatch{Method: &gatewayv1.GRPCMethodMatch{
			Type: new(pick(c, types)), Service: new(pick(c, values)), Method: new(pick(c, values)),
		}})
	}),
	grpcRuleMutation("gRPC header", func(c *chooser, rule *gatewayv1.GRPCRouteRule) {
		types := []gatewayv1.GRPCHeaderMatchType{gatewayv1.GRPCHeaderMatchExact, gatewayv1.GRPCHeaderMatchRegularExpression, "Garbage"}
		rule.Matches = append(rule.Matches, gatewayv1.GRPCRouteMatch{Headers: []gatewayv1.GRPCHeaderMatch{{
			Type: new(pick(c, types)), Name: gatewayv1.GRPCHeaderName(pick(c, hostileNames)), Value: pick(c, hostileRegexes),
		}}})
	}),
	grpcRuleMutation("gRPC filters", func(c *chooser, rule *gatewayv1.GRPCRouteRule) {
		kinds := []gatewayv1.GRPCRouteFilterType{gatewayv1.GRPCRouteFilterRequestHeaderModifier, gatewayv1.GRPCRouteFilterResponseHeaderModifier,
			gatewayv1.GRPCRouteFilterRequestMirror, gatewayv1.GRPCRouteFilterExtensionRef, "RequestRedirect", "Garbage"}
		f := gatewayv1.GRPCRouteFilter{Type: pick(c, kinds)}
		if c.intn(2) == 0 {
			f.RequestMirror = &gatewayv1.HTTPRequestMirrorFilter{BackendRef: gatewayv1.BackendObjectReference{
				Name: gatewayv1.ObjectName(pick(c, hostileNames)), Port: new(gatewayv1.PortNumber(pick(c, hostilePorts)))}, Percent: new(pick(c, []int32{-1, 50, 101}))}
			f.RequestHeaderModifier = &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: gatewayv1.HTTPHeaderName(pick(c, hostileNames)), Value: "\x00"}}}
		}
		rule.Filters = append(rule.Filters, f, f)
	}),
	grpcRuleMutation("gRPC backend refs", func(c *chooser, rule *gatewayv1.GRPCRouteRule) {
		rule.BackendRefs = append(rule.BackendRefs, gatewayv1.GRPCBackendRef{BackendRef: gatewayv1.BackendRef{
			BackendObjectReference: gatewayv1.BackendObjectReference{
				Group: new(gatewayv1.Group(pick(c, []string{"", "x.io"}))), Kind: new(gatewayv1.Kind(pick(c, []string{"Service", "Secret"}))),
				Name: gatewayv1.ObjectName(pick(c, hostileNames)), Namespace: new(gatewayv1.Namespace(pick(c, hostileNames))), Port: new(gatewayv1.PortNumber(pick(c, hostilePorts))),
			},
			Weight: new(pick(c, []int32{-1, 0, 1 << 30})),
		}})
		if c.intn(2) == 0 {
			rule.SessionPersistence = &gatewayv1.SessionPersistence{}
		}
	}),
	{"gRPC hostnames and parents", func(c *chooser, s *Snapshot) (subject, bool) {
		if len(s.GRPCRoutes) == 0 {
			return subject{}, false
		}
		r := s.GRPCRoutes[c.intn(len(s.GRPCRoutes))]
		r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(pick(c, hostileHostnames)))
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, gatewayv1.ParentReference{
			Name: gatewayv1.ObjectName(pick(c, hostileNames)), SectionName: new(gatewayv1.SectionName(pick(c, hostileNames))), Port: new(gatewayv1.PortNumber(pick(c, hostilePorts))),
		})
		return grpcRouteSubject(r), true
	}},
}
