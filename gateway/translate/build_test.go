package translate

import (
	goldenfile "github.com/tenantgate/tenantgate/tests/golden"

	"bytes"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/gateway/routetable"
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

// caSources maps "Kind namespace/name" to the ca.crt of every ConfigMap and
// Secret in a snapshot.
func caSources(s *Snapshot) map[string][]byte {
	sources := map[string][]byte{}
	for _, cm := range s.ConfigMaps {
		sources["ConfigMap "+cm.Namespace+"/"+cm.Name] = []byte(cm.Data["ca.crt"])
	}
	for _, secret := range s.Secrets {
		sources["Secret "+secret.Namespace+"/"+secret.Name] = secret.Data["ca.crt"]
	}
	return sources
}

// bundleOf is what a CA bundle naming sources must hold: their
// certificates, re-encoded without headers or other blocks.
func bundleOf(sources map[string][]byte, names []string) []byte {
	var want []byte
	for _, name := range names {
		certs, _ := routetable.ParseCACertificates(sources[name])
		want = append(want, routetable.EncodeCACertificates(certs)...)
	}
	return want
}

// The golden files hide CA PEM too: each listener's bundle holds the
// ca.crt of exactly the references it names.
func TestClientCAPEMReachesConfig(t *testing.T) {
	s := loadSnapshot(t, "testdata/listener-client-validation.in.yaml")
	sources := caSources(s)
	validating := 0
	for _, l := range Build(s).Config.Listeners {
		if v := l.ClientValidation; v != nil {
			validating++
			if !bytes.Equal(v.CAPEM, bundleOf(sources, v.CACertificates)) {
				t.Errorf("listener %s: CA bundle differs from the ca.crt of %v", l.Name, v.CACertificates)
			}
		}
	}
	if validating != 3 {
		t.Errorf("%d listeners validate clients, want 3", validating)
	}
}

// Likewise for the CAs a backend's certificate must chain to.
func TestBackendCAPEMReachesConfig(t *testing.T) {
	s := loadSnapshot(t, "testdata/backend-tls-policy.in.yaml")
	sources := caSources(s)
	checked := 0
	for _, rule := range Build(s).Config.Listeners[0].Routes[0].Rules {
		for _, b := range rule.Backends {
			if b.TLS != nil && !b.TLS.SystemCAs {
				checked++
				if !bytes.Equal(b.TLS.CAPEM, bundleOf(sources, b.TLS.CACertificates)) {
					t.Errorf("backend %s: CA bundle differs from the ca.crt of %v", b.Name, b.TLS.CACertificates)
				}
			}
		}
	}
	if checked != 4 {
		t.Errorf("checked %d backends with CA certificates, want 4", checked)
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
			if owned != tt.want || (len(r.Config.Listeners) > 0) != tt.want || (r.HTTPRoutes.Len() > 0) != tt.want {
				t.Errorf("controller %q: owns class %v, %d listeners, %d routes; want ownership %v",
					tt.controller, owned, len(r.Config.Listeners), r.HTTPRoutes.Len(), tt.want)
			}
		})
	}
}

// countingPolicy records which routes the translator asked about.
type countingPolicy struct {
	fakePolicy
	asked []string
}

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

func TestDecodingIsStrict(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{name: "unknown field", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {portz: []}\n"},
		{name: "duplicated field", doc: "apiVersion: v1\nkind: Service\nmetadata: {name: web, name: other}\n"},
		{name: "unknown kind", doc: "apiVersion: v1\nkind: Servic\nmetadata: {name: web}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeObjects(testScheme(t), []byte(tt.doc)); err == nil {
				t.Errorf("decoding %q succeeded, want an error", tt.doc)
			}
		})
	}
}

// The data plane keeps the Config after the cache moves on, so nothing in the
// Result may point into the snapshot's objects.
func TestResultDoesNotAliasSnapshot(t *testing.T) {
	s := loadSnapshot(t, "testdata/filter-request-redirect.in.yaml")
	before, err := yaml.Marshal(goldenOf(Build(s)))
	if err != nil {
		t.Fatal(err)
	}
	result := Build(s)
	for i := range s.HTTPRoutes {
		r := s.HTTPRoutes[i]
		for _, rule := range r.Spec.Rules {
			for _, f := range rule.Filters {
				if rd := f.RequestRedirect; rd != nil {
					scribble(rd.Hostname, "scribbled.example.com")
					scribble(rd.Scheme, "gopher")
					scribble(rd.Port, 1)
				}
			}
		}
	}
	after, _ := yaml.Marshal(goldenOf(result))
	if !bytes.Equal(before, after) {
		t.Errorf("changing the snapshot changed an earlier Result:\n%s", goldenfile.Diff(string(before), string(after)))
	}
}

func scribble[T any](p *T, v T) {
	if p != nil {
		*p = v
	}
}
