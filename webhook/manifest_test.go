package webhook

import (
	"os"
	"slices"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

// TestManifest keeps manifests/webhook/validating.yaml in step with the
// registered paths and the serving rules: fail closed, no side effects,
// CREATE and UPDATE only, system namespaces left alone.
func TestManifest(t *testing.T) {
	data, err := os.ReadFile("../manifests/webhook/validating.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg admissionregistrationv1.ValidatingWebhookConfiguration
	if err := yaml.UnmarshalStrict(data, &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // path -> resource/version
		HTTPRoutePath:             "httproutes/v1",
		ReferenceGrantPath:        "referencegrants/v1",
		ReferenceGrantV1beta1Path: "referencegrants/v1beta1",
		TenantPath:                "tenants/v1alpha1",
	}
	for _, wh := range cfg.Webhooks {
		svc := wh.ClientConfig.Service
		if svc == nil || svc.Path == nil {
			t.Fatalf("%s: no service path", wh.Name)
		}
		rule := wh.Rules[0]
		if got := rule.Resources[0] + "/" + rule.APIVersions[0]; want[*svc.Path] != got {
			t.Errorf("%s: path %s serves %s, want %q", wh.Name, *svc.Path, got, want[*svc.Path])
		}
		delete(want, *svc.Path)
		if *wh.FailurePolicy != admissionregistrationv1.Fail || *wh.SideEffects != admissionregistrationv1.SideEffectClassNone ||
			*wh.TimeoutSeconds != 5 || !slices.Equal(rule.Operations, []admissionregistrationv1.OperationType{"CREATE", "UPDATE"}) {
			t.Errorf("%s: failurePolicy %s, sideEffects %s, timeout %d, operations %v", wh.Name,
				*wh.FailurePolicy, *wh.SideEffects, *wh.TimeoutSeconds, rule.Operations)
		}
		if *rule.Scope == admissionregistrationv1.NamespacedScope {
			sel := wh.NamespaceSelector
			if sel == nil || len(sel.MatchExpressions) != 1 ||
				!slices.Equal(sel.MatchExpressions[0].Values, []string{"kube-system", "tenantgate-system"}) {
				t.Errorf("%s: namespaceSelector %v does not leave kube-system and tenantgate-system alone", wh.Name, sel)
			}
		}
	}
	if len(want) > 0 {
		t.Errorf("paths with no webhook: %v", want)
	}
}
