package translate

import (
	"bytes"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The golden files cannot show PEM (the Config hides it from YAML), so this
// checks the certificate reaches the data plane byte for byte.
func TestCertificatePEMReachesConfig(t *testing.T) {
	s := loadSnapshot(t, "testdata/listener-https-certificate.in.yaml")
	listeners := Build(s).Config.Listeners
	if len(listeners) != 1 || len(listeners[0].Certificates) != 1 {
		t.Fatalf("got listeners %+v, want one with one certificate", listeners)
	}
	got, secret := listeners[0].Certificates[0], s.Secrets[0]
	if !bytes.Equal(got.CertPEM, secret.Data["tls.crt"]) || !bytes.Equal(got.KeyPEM, secret.Data["tls.key"]) {
		t.Error("certificate PEM in the Config differs from the Secret's tls.crt and tls.key")
	}
}

func TestControllerNameSelectsClasses(t *testing.T) {
	tests := []struct {
		name       string
		controller gatewayv1.GatewayController
		want       bool
	}{
		{name: "empty means tenantgate's own name", controller: "", want: true},
		{name: "our name", controller: ControllerName, want: true},
		{name: "another name owns nothing here", controller: "example.net/other", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := loadSnapshot(t, "testdata/route-accepted.in.yaml")
			s.ControllerName = tt.controller
			r := Build(s)
			_, owned := r.GatewayClasses[types.NamespacedName{Name: "tenantgate"}]
			if owned != tt.want || (len(r.Config.Listeners) > 0) != tt.want || (len(r.HTTPRoutes) > 0) != tt.want {
				t.Errorf("controller %q: owns class %v, %d listeners, %d routes; want ownership %v",
					tt.controller, owned, len(r.Config.Listeners), len(r.HTTPRoutes), tt.want)
			}
		})
	}
}

// countingPolicy records which routes the translator asked about.
type countingPolicy struct{ asked []string }

func (p *countingPolicy) RouteViolations(r *gatewayv1.HTTPRoute) []string {
	p.asked = append(p.asked, r.Namespace+"/"+r.Name)
	return nil
}

func TestPolicyAskedOnlyAboutOurRoutes(t *testing.T) {
	s := loadSnapshot(t, "testdata/route-parent-status-ours-only.in.yaml")
	p := &countingPolicy{}
	s.Policy = p
	Build(s)
	if len(p.asked) != 1 || p.asked[0] != "infra/both" {
		t.Errorf("policy asked about %v, want only infra/both (the one route with a parent of ours)", p.asked)
	}
}
