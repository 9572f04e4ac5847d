package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/tests/stack"
)

// limeDev may only read and edit routes in limes: what a team member has.
const limeDevRBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: limes, name: route-editor}
rules:
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes, grpcroutes, tlsroutes, referencegrants]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {namespace: limes, name: lime-dev}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: route-editor}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: lime-dev}]
`

// testPlugin runs `kubectl tenantgate` through the real kubectl, as a user
// with rights only on routes in its own namespace.
func (h *harness) testPlugin(t *testing.T) {
	pluginDir := stack.BuildPlugin(t)
	h.mustKubectl(t, limeDevRBAC, "apply", "-f", "-")
	t.Cleanup(func() { h.s.Kubectl(limeDevRBAC, "delete", "-f", "-") })
	asLimeDev := func(stdin string, args ...string) (string, int) {
		t.Helper()
		return h.s.KubectlAs(t, "lime-dev", pluginDir, stdin, args...)
	}

	t.Run("check reports each object of a manifest and applies nothing", func(t *testing.T) {
		manifest := `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {namespace: limes, name: checked-ok}
spec:
  parentRefs: [{namespace: infra, name: open, sectionName: http}]
  hostnames: [limes.example.com]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {namespace: limes, name: checked-hijack}
spec:
  parentRefs: [{namespace: infra, name: open, sectionName: http}]
  hostnames: [kiwis.example.com]
`
		out, code := asLimeDev(manifest, "tenantgate", "check", "-f", "-")
		want := `✓ HTTPRoute limes/checked-ok would be admitted
✗ HTTPRoute limes/checked-hijack would be refused:
    spec.hostnames[0]: "kiwis.example.com" belongs to tenant "kiwis", not tenant "limes"; use a hostname listed in Tenant limes spec.hostnames
2 objects checked: 1 would be refused, 0 admitted with warnings, 1 admitted cleanly. Nothing was applied.
`
		if out != want || code != 1 {
			t.Errorf("kubectl tenantgate check exited %d and printed:\n%s\nwant exit 1 and:\n%s", code, out, want)
		}
		if out, err := h.s.Kubectl("", "get", "httproute", "-n", "limes", "checked-ok"); err == nil {
			t.Errorf("check applied the route:\n%s", out)
		}
	})

	t.Run("explain says, parent by parent, why a route is not serving", func(t *testing.T) {
		route := `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {namespace: limes, name: explained}
spec:
  parentRefs:
  - {namespace: infra, name: shared, sectionName: http}
  - {namespace: infra, name: nowhere}
  hostnames: [limes.example.com]
`
		if out, code := asLimeDev(route, "apply", "-f", "-"); code != 0 {
			t.Fatalf("applying the route as lime-dev: %s", out)
		}
		t.Cleanup(func() { h.s.Kubectl("", "delete", "httproute", "-n", "limes", "explained") })
		var out string
		var code int
		stack.Eventually(t, policyLag, "the gateway reports on the route", func(context.Context) (bool, string) {
			out, code = asLimeDev("", "tenantgate", "explain", "httproute", "explained", "-n", "limes")
			return strings.Contains(out, "reported by tenantgate.dev/gateway-controller"), out
		})
		for _, want := range []string{
			"HTTPRoute limes/explained (generation 1)\n",
			"Parent 1 of 2: Gateway infra/shared, listener http\n  reported by tenantgate.dev/gateway-controller\n  ✗ Accepted (NotAllowedByListeners): ",
			"Parent 2 of 2: Gateway infra/nowhere\n  ✗ no gateway has reported on this parent",
			"Serving through 0 of 2 parents.\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("kubectl tenantgate explain printed:\n%s\nwant it to contain:\n%s", out, want)
			}
		}
		t.Logf("kubectl tenantgate explain httproute explained -n limes --as lime-dev (exit %d):\n%s", code, out)
		if code != 1 {
			t.Errorf("explain of a route serving nowhere exited %d, want 1", code)
		}
	})
}
