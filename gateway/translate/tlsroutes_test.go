package translate

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

const tenantTLSSnapshot = `
apiVersion: test.tenantgate.dev/v1
kind: Environment
addresses: {infra/shared: 127.10.0.1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: tenantgate, generation: 1}
spec: {controllerName: tenantgate.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra, generation: 1}
spec:
  gatewayClassName: tenantgate
  listeners:
  - name: tls
    port: 443
    protocol: TLS
    tls: {mode: Passthrough}
    allowedRoutes: {namespaces: {from: All}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: db, namespace: bananas, generation: 1}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: tls}]
  hostnames: [db.bananas.example.com]
  rules: [{backendRefs: [{name: db, port: 5432}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: takeover, namespace: apples, generation: 1}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: tls}]
  hostnames: [DB.bananas.example.com.]
  rules: [{backendRefs: [{name: db, port: 5432}]}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: bananas}
spec: {ports: [{name: pg, port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: apples}
spec: {ports: [{name: pg, port: 5432}]}
`

// TestTLSRouteRefusedByTenantPolicy runs Build with the real tenancy
// policy: a TLSRoute claiming another tenant's SNI name (in another case,
// with a trailing dot) is not accepted, with the policy's own line, and is
// not programmed, while the owner's route keeps the name.
func TestTLSRouteRefusedByTenantPolicy(t *testing.T) {
	objects, err := decodeObjects(testScheme(t), []byte(tenantTLSSnapshot))
	if err != nil {
		t.Fatal(err)
	}
	s := &Snapshot{ControllerName: ControllerName, Now: goldenNow}
	for _, obj := range objects {
		addObject(t, s, obj)
	}
	for _, ns := range []string{"infra", "apples", "bananas"} {
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	tenant := func(name, host string) v1alpha1.Tenant {
		return v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: v1alpha1.TenantSpec{
			Namespaces: v1alpha1.TenantNamespaces{Names: []v1alpha1.NamespaceName{v1alpha1.NamespaceName(name)}},
			Hostnames:  []v1alpha1.OwnedHostname{{Hostname: v1alpha1.Hostname(host)}},
		}}
	}
	policy := tenancy.NewPolicy(tenancy.Inputs{
		Tenants:            []v1alpha1.Tenant{tenant("apples", "*.apples.example.com"), tenant("bananas", "*.bananas.example.com")},
		Namespaces:         s.Namespaces,
		PlatformNamespaces: []string{"infra"},
		Gateways:           s.Gateways,
		TLSRoutes:          pointersTo(s.TLSRoutes),
	})
	takeover := &s.TLSRoutes[1]
	violations := policy.TLSRouteViolations(takeover)
	if len(violations) == 0 {
		t.Fatal("the policy must refuse a TLSRoute claiming another tenant's name")
	}
	s.Policy = policy
	res := Build(s)

	parent := res.TLSRoutes[types.NamespacedName{Namespace: "apples", Name: "takeover"}].Parents
	if len(parent) != 1 {
		t.Fatalf("takeover parents %v, want one", parent)
	}
	accepted := parent[0].Conditions[0]
	want := tenantProblem(violations)
	if accepted.Type != string(gatewayv1.RouteConditionAccepted) || accepted.Status != metav1.ConditionFalse ||
		accepted.Reason != string(ReasonNotAllowedByTenant) || accepted.Message != want.message {
		t.Fatalf("takeover Accepted = %s %s %s: %q; want False %s: %q", accepted.Type, accepted.Status, accepted.Reason, accepted.Message, ReasonNotAllowedByTenant, want.message)
	}
	owner := res.TLSRoutes[types.NamespacedName{Namespace: "bananas", Name: "db"}].Parents[0].Conditions[0]
	if owner.Status != metav1.ConditionTrue {
		t.Fatalf("the owner's route: %s %s", owner.Reason, owner.Message)
	}
	if len(res.Config.Listeners) != 1 {
		t.Fatalf("listeners %d, want 1", len(res.Config.Listeners))
	}
	routes := res.Config.Listeners[0].Routes
	if len(routes) != 1 || routes[0].Namespace != "bananas" {
		t.Fatalf("programmed routes %v, want only bananas/db", routes)
	}
	if got := res.Gateways[types.NamespacedName{Namespace: "infra", Name: "shared"}].Listeners[0].AttachedRoutes; got != 1 {
		t.Fatalf("attachedRoutes %d, want 1 (a refused route does not count)", got)
	}
	t.Logf("refusal: %s", accepted.Message)
}

// pointersTo views a snapshot's objects as tenancy.Inputs hold them.
func pointersTo[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
