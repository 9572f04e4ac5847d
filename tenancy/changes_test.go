package tenancy

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// A change of the policy reaches the routes whose namespaces, parents,
// backends or hostnames it touches, and no others; a change of what every
// route reads (grants, platform namespaces) reaches all.
func TestVerdictChangesReachOnlyTouchedRoutes(t *testing.T) {
	route := func(ns string, hostnames []gatewayv1.Hostname, backendNS string) *gatewayv1.HTTPRoute {
		r := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r"}}
		r.Spec.Hostnames = hostnames
		r.Spec.ParentRefs = []gatewayv1.ParentReference{{Namespace: new(gatewayv1.Namespace("infra")), Name: "shared"}}
		if backendNS != "" {
			r.Spec.Rules = []gatewayv1.HTTPRouteRule{{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
				BackendObjectReference: gatewayv1.BackendObjectReference{Name: "svc", Namespace: new(gatewayv1.Namespace(backendNS))}}}}}}
		}
		return r
	}
	hosts := func(h ...gatewayv1.Hostname) []gatewayv1.Hostname { return h }
	var base Inputs
	readYAML(t, "testdata/world.yaml", &base)
	edit := func(change func(in *Inputs)) *Policy {
		var in Inputs
		readYAML(t, "testdata/world.yaml", &in)
		change(&in)
		return NewPolicy(in)
	}
	tenant := func(in *Inputs, name string) *v1alpha1.Tenant {
		for i := range in.Tenants {
			if in.Tenants[i].Name == name {
				return &in.Tenants[i]
			}
		}
		t.Fatalf("no tenant %s in the world", name)
		return nil
	}
	before := NewPolicy(base)
	edgeRoute := route("apples", hosts("shop.example.com"), "")
	edgeRoute.Spec.ParentRefs[0].Name = "edge"
	cherriesGainsShop := edit(func(in *Inputs) {
		c := tenant(in, "cherries")
		c.Spec.Hostnames = append(c.Spec.Hostnames, v1alpha1.OwnedHostname{Hostname: "shop.example.com", PathPrefixes: []v1alpha1.PathPrefix{"/cherries"}})
	})
	relabelled := edit(func(in *Inputs) { in.Namespaces[1].Labels = map[string]string{"team": "none"} }) // apples-dev leaves apples
	gatewayEdited := edit(func(in *Inputs) { in.Gateways[0].Spec.Listeners = in.Gateways[0].Spec.Listeners[1:] })
	for _, c := range []struct {
		name  string
		after *Policy
		route *gatewayv1.HTTPRoute
		may   bool
	}{
		{"same policy", before, route("apples", hosts("shop.example.com"), ""), false},
		{"a tenant's own route", cherriesGainsShop, route("cherries", hosts("cherries.example.com"), ""), true},
		{"another tenant's route on the hostname it gained", cherriesGainsShop, route("apples", hosts("shop.example.com"), ""), true},
		{"another tenant's route under a wildcard over it", cherriesGainsShop, route("rogue", hosts("*.example.com"), ""), true},
		{"another tenant's route on other hostnames", cherriesGainsShop, route("apples", hosts("apples.example.com"), ""), false},
		{"a route sending to its namespace", cherriesGainsShop, route("apples", hosts("apples.example.com"), "cherries"), true},
		{"a route without hostnames, taking its listeners'", cherriesGainsShop, route("apples", nil, ""), true},
		{"a route in a relabelled namespace", relabelled, route("apples-dev", hosts("x.apples.example.com"), ""), true},
		{"a route of the tenant that lost the namespace", relabelled, route("apples", hosts("apples.example.com"), ""), true},
		{"a route of an unrelated tenant", relabelled, route("bananas", hosts("bananas.example.com"), ""), false},
		{"a route on the edited Gateway", gatewayEdited, route("bananas", hosts("bananas.example.com"), ""), true},
		{"a route on another Gateway", gatewayEdited, edgeRoute, false},
	} {
		changes := c.after.VerdictChangesSince(before.Indexes())
		if got := changes.Route(c.route); got != c.may {
			t.Errorf("%s: Route = %v, want %v", c.name, got, c.may)
		}
	}
	if !before.VerdictChangesSince(nil).All() || !before.VerdictChangesSince("not a policy").All() {
		t.Error("a change since no known policy must reach every route")
	}
}
