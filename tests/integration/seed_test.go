package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"
)

// testSeedScenario is the seed's scenario (b) at the webhook: a team route
// on another team's hostname is denied; one on its own hostname is admitted
// with a warning until the Gateway listener's allowedRoutes admits its
// namespace, and without one afterwards.
func (h *harness) testSeedScenario(t *testing.T) {
	const (
		notAdmitted = `spec.parentRefs[0]: the route will not attach (Accepted=False/NotAllowedByListeners): Gateway infra/shared does not admit this route: listener http admits only its own namespace infra, not %s; change the listener's allowedRoutes or the parentRef.`
		hijack      = `spec.hostnames[0]: "apples.example.com" belongs to tenant "apples", not tenant "bananas"; use a hostname listed in Tenant bananas spec.hostnames`
	)
	apples, bananas, hijacker := h.seedRoute(t, "httproute-apples.yaml"), h.seedRoute(t, "httproute-bananas.yaml"), h.seedRoute(t, "hijack-apples-hostname.yaml")

	t.Run("own hostname admitted with a warning while the listener admits only infra", func(t *testing.T) {
		h.expectApplyText(t, apples.text, apples.obj, warned(fmt.Sprintf(notAdmitted, "apples")))
	})
	t.Run("another team's hostname denied", func(t *testing.T) {
		h.expectApplyText(t, hijacker.text, hijacker.obj, want{denied: []string{hijack}, warnings: []string{fmt.Sprintf(notAdmitted, "bananas")}})
	})
	h.mustKubectl(t, "", "apply", "-f", filepath.Join(h.seed, "scenario-b", "gateway-allow-teams.yaml"))
	t.Run("own hostname admitted without a warning once allowedRoutes admits the namespace", func(t *testing.T) {
		h.expectApplyText(t, bananas.text, bananas.obj, want{})
		// The first subtest's cleanup deleted the apples route; apply it anew.
		h.expectApplyText(t, apples.text, apples.obj, want{})
	})
	t.Run("another team's hostname still denied", func(t *testing.T) {
		h.expectApplyText(t, hijacker.text, hijacker.obj, denied(hijack))
	})
}

type seedRoute struct {
	text string
	obj  *gatewayv1.HTTPRoute
}

// seedRoute reads an HTTPRoute of the seed's scenario (b).
func (h *harness) seedRoute(t *testing.T, file string) seedRoute {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(h.seed, "scenario-b", file))
	if err != nil {
		t.Fatal(err)
	}
	var r gatewayv1.HTTPRoute
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return seedRoute{text: string(data), obj: &r}
}
