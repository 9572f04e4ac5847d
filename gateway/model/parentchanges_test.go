package model

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// A changed Gateway reaches the routes naming it and the ListenerSets
// joining it; a route naming only other parents is untouched.
func TestParentChangesTouchOnlyNamedParents(t *testing.T) {
	gw := func(name string, port gatewayv1.PortNumber) gatewayv1.Gateway {
		return gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: name},
			Spec: gatewayv1.GatewaySpec{Listeners: []gatewayv1.Listener{{Name: "http", Port: port}}}}
	}
	set := func(ns, name, parent string) gatewayv1.ListenerSet {
		return gatewayv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
			Spec: gatewayv1.ListenerSetSpec{ParentRef: gatewayv1.ParentGatewayReference{Namespace: new(gatewayv1.Namespace("infra")), Name: gatewayv1.ObjectName(parent)}}}
	}
	samePort := func(a, b *gatewayv1.Gateway) bool { return a.Spec.Listeners[0].Port == b.Spec.Listeners[0].Port }
	sameSet := func(a, b *gatewayv1.ListenerSet) bool { return a.Spec.ParentRef.Name == b.Spec.ParentRef.Name }
	old := []gatewayv1.Gateway{gw("shared", 80), gw("edge", 80)}
	cur := []gatewayv1.Gateway{gw("shared", 8080), gw("edge", 80)}
	sets := []gatewayv1.ListenerSet{set("team-a", "extra", "shared"), set("team-b", "other", "edge")}
	c := CompareParents(old, cur, sets, sets, samePort, sameSet)
	if want := (map[types.NamespacedName]bool{{Namespace: "infra", Name: "shared"}: true}); len(c.Gateways) != 1 || !c.Gateways[types.NamespacedName{Namespace: "infra", Name: "shared"}] {
		t.Fatalf("changed Gateways %v, want %v", c.Gateways, want)
	}
	if len(c.ListenerSets) != 1 || !c.ListenerSets[types.NamespacedName{Namespace: "team-a", Name: "extra"}] {
		t.Fatalf("changed ListenerSets %v, want team-a/extra alone (it joins the changed Gateway)", c.ListenerSets)
	}
	lsKind := gatewayv1.Kind(KindListenerSet)
	for _, tc := range []struct {
		name string
		spec gatewayv1.CommonRouteSpec
		want bool
	}{
		{"names the changed Gateway", gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Namespace: new(gatewayv1.Namespace("infra")), Name: "shared"}}}, true},
		{"names another Gateway", gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Namespace: new(gatewayv1.Namespace("infra")), Name: "edge"}}}, false},
		{"names a ListenerSet of the changed Gateway", gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Kind: &lsKind, Name: "extra"}}}, true},
		{"names a ListenerSet of another Gateway", gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Kind: &lsKind, Name: "other"}}}, false},
		{"takes the default Gateways", gatewayv1.CommonRouteSpec{UseDefaultGateways: gatewayv1.GatewayDefaultScopeAll}, true},
	} {
		ns := "team-a"
		if tc.name == "names a ListenerSet of another Gateway" {
			ns = "team-b"
		}
		if got := c.Touches(ns, &tc.spec); got != tc.want {
			t.Errorf("a route that %s: Touches = %v, want %v", tc.name, got, tc.want)
		}
	}
	if (&ParentChanges{}).Touches("team-a", &gatewayv1.CommonRouteSpec{UseDefaultGateways: gatewayv1.GatewayDefaultScopeAll}) {
		t.Error("no change touched a route")
	}
}
