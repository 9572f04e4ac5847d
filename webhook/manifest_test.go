package webhook

import (
	"os"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

// TestManifest keeps manifests/webhook/validating.yaml in step with the
// registered paths and the serving rules: fail closed (the Namespace
// webhook fails open, quickly, and only on label changes), no side
// effects, CREATE and UPDATE only, system namespaces left alone.
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
		GRPCRoutePath:             "grpcroutes/v1",
		TLSRoutePath:              "tlsroutes/v1",
		TCPRoutePath:              "tcproutes/v1",
		UDPRoutePath:              "udproutes/v1",
		ListenerSetPath:           "listenersets/v1",
		GatewayPath:               "gateways/v1",
		NamespacePath:             "namespaces/v1",
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
		failure, timeout := admissionregistrationv1.Fail, int32(5)
		if *svc.Path == NamespacePath {
			failure, timeout = admissionregistrationv1.Ignore, 2
			if len(wh.MatchConditions) != 1 || !strings.Contains(wh.MatchConditions[0].Expression, "object.metadata.labels != oldObject.metadata.labels") {
				t.Errorf("%s: matchConditions %v do not limit it to label changes", wh.Name, wh.MatchConditions)
			}
		}
		if *rule.Scope == admissionregistrationv1.NamespacedScope || *svc.Path == NamespacePath {
			sel := wh.NamespaceSelector
			if sel == nil || len(sel.MatchExpressions) != 1 ||
				!slices.Equal(sel.MatchExpressions[0].Values, []string{"kube-system", "tenantgate-system"}) {
				t.Errorf("%s: namespaceSelector %v does not leave kube-system and tenantgate-system alone", wh.Name, sel)
			}
		}
		if *wh.FailurePolicy != failure || *wh.SideEffects != admissionregistrationv1.SideEffectClassNone ||
			*wh.TimeoutSeconds != timeout || !slices.Equal(rule.Operations, []admissionregistrationv1.OperationType{"CREATE", "UPDATE"}) {
			t.Errorf("%s: failurePolicy %s, sideEffects %s, timeout %d, operations %v", wh.Name,
				*wh.FailurePolicy, *wh.SideEffects, *wh.TimeoutSeconds, rule.Operations)
		}
	}
	if len(want) > 0 {
		t.Errorf("paths with no webhook: %v", want)
	}
}
