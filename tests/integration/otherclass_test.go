package integration

import "testing"

// otherClassWorld is a Gateway that another implementation runs: its class
// names a controller that is not tenantgate's, and its listener admits
// routes from every namespace.
const otherClassWorld = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: other}
spec: {controllerName: example.net/other-gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {namespace: infra, name: elsewhere}
spec:
  gatewayClassName: other
  listeners:
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
`

// otherClassCases: the tenant policy holds for routes whatever GatewayClass
// their parent belongs to, which is what the webhook-only install
// (manifests/webhook-only) relies on.
var otherClassCases = []admissionCase{{
	name: "bananas claiming apples' hostname on another implementation's Gateway denied",
	obj:  route("bananas", parent("infra", "elsewhere", ""), hosts("apples.example.com")),
	want: denied(
		`spec.parentRefs[0]: Gateway infra/elsewhere is not one of the gateways tenant "bananas" may use (infra/shared); attach to one of them or add it to Tenant bananas spec.gateways`,
		`spec.hostnames[0]: "apples.example.com" belongs to tenant "apples", not tenant "bananas"; use a hostname listed in Tenant bananas spec.hostnames`,
	),
}, {
	name: "a tenant free to use any Gateway still cannot take apples' hostname there",
	obj:  route("limes", parent("infra", "elsewhere", ""), hosts("apples.example.com")),
	want: denied(`spec.hostnames[0]: "apples.example.com" belongs to tenant "apples", not tenant "limes"; use a hostname listed in Tenant limes spec.hostnames`),
}, {
	name: "a tenant's own hostname on another implementation's Gateway admitted",
	obj:  route("limes", parent("infra", "elsewhere", ""), hosts("limes.example.com")),
}}

// testOtherGatewayClass applies routes whose parent Gateway another
// implementation controls, then removes that Gateway and its class.
func (h *harness) testOtherGatewayClass(t *testing.T) {
	h.mustKubectl(t, otherClassWorld, "apply", "-f", "-")
	t.Cleanup(func() { h.mustKubectl(t, otherClassWorld, "delete", "-f", "-") })
	h.runCases(t, otherClassCases)
}
