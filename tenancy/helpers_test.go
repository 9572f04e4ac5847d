package tenancy

import (
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// snapshot is Inputs as YAML, for test fixtures.
type snapshot struct {
	PlatformNamespaces []string                   `json:"platformNamespaces,omitempty"`
	Namespaces         []corev1.Namespace         `json:"namespaces,omitempty"`
	Tenants            []v1alpha1.Tenant          `json:"tenants,omitempty"`
	Gateways           []gatewayv1.Gateway        `json:"gateways,omitempty"`
	HTTPRoutes         []gatewayv1.HTTPRoute      `json:"httpRoutes,omitempty"`
	ReferenceGrants    []gatewayv1.ReferenceGrant `json:"referenceGrants,omitempty"`
}

func (s snapshot) inputs() Inputs {
	return Inputs{
		Tenants:            s.Tenants,
		Namespaces:         s.Namespaces,
		PlatformNamespaces: s.PlatformNamespaces,
		Gateways:           s.Gateways,
		HTTPRoutes:         s.HTTPRoutes,
		ReferenceGrants:    s.ReferenceGrants,
	}
}

// readYAML decodes a file strictly: an unknown field fails the test.
func readYAML(t testing.TB, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	decodeYAML(t, string(data), into)
}

func decodeYAML(t testing.TB, text string, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(text), into); err != nil {
		t.Fatalf("decoding %T: %v\n%s", into, err, text)
	}
}

// worldPolicy is the policy of testdata/world.yaml.
func worldPolicy(t testing.TB) *Policy {
	t.Helper()
	var s snapshot
	readYAML(t, "testdata/world.yaml", &s)
	return NewPolicy(s.inputs())
}

// equalLines compares two lists of messages, reporting each difference.
func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == len(want) {
		same := true
		for i := range got {
			same = same && got[i] == want[i]
		}
		if same {
			return
		}
	}
	t.Errorf("%s:\n got %d:\n%s\nwant %d:\n%s", what, len(got), numbered(got), len(want), numbered(want))
}

func numbered(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}
