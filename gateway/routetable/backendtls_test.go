package routetable

import (
	"crypto/tls"
	"strings"
	"testing"
)

// testCAPEM is a self-signed certificate (the translator's golden files use
// it too); verification itself is tested through the proxy.
const testCAPEM = `-----BEGIN CERTIFICATE-----
MIIBrjCCAVSgAwIBAgIUEL3lLu5rXFCaZe8TEtSqNunYoqcwCgYIKoZIzj0EAwIw
GDEWMBQGA1UEAwwNKi5leGFtcGxlLmNvbTAgFw0yNjExMjUyMDQwMzlaGA8yMTI2
MTEwMTIwNDAzOVowGDEWMBQGA1UEAwwNKi5leGFtcGxlLmNvbTBZMBMGByqGSM49
AgEGCCqGSM49AwEHA0IABLUXkUtj34S3yVVvAgQkygGGHTjigdJFSC9YcLh1ue0S
JVCO7f3R7Nrkae/x4VsHnqia76OSt+FH/rCpVwsj4xqjejB4MB0GA1UdDgQWBBTO
aw398X5wopJXMlRRy6C7FRplDDAfBgNVHSMEGDAWgBTOaw398X5wopJXMlRRy6C7
FRplDDAPBgNVHRMBAf8EBTADAQH/MCUGA1UdEQQeMByCDSouZXhhbXBsZS5jb22C
C2V4YW1wbGUuY29tMAoGCCqGSM49BAMCA0gAMEUCIQCy+D9R3HIAeVDY62UbdUrh
RRQGeRrr/6J091CPVTKITAIgPAtGDRibFPBJehafLMF8jUwYuu7r+wSzxB2R+EQ0
Mpw=
-----END CERTIFICATE-----
`

func tlsBackend(settings BackendTLS) Backend {
	settings.Policy = "ns/policy"
	return Backend{Name: "ns/svc:443", Weight: 1, TLS: &settings, Endpoints: []Endpoint{{Address: "10.0.0.1", Port: 8443}}}
}

func compileTLSBackend(t *testing.T, b Backend) (*CompiledBackend, error) {
	t.Helper()
	return compileBackend(b, scope{where: "HTTPRoute ns/r rule 0"}, true)
}

func TestCompileBackendTLS(t *testing.T) {
	b, err := compileTLSBackend(t, tlsBackend(BackendTLS{ServerName: "svc.example.com", CAPEM: []byte(testCAPEM)}))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Endpoints()[0].URL.String(); got != "https://10.0.0.1:8443" {
		t.Errorf("endpoint URL %s, want https://10.0.0.1:8443", got)
	}
	if cfg := b.TLS.Config; cfg.ServerName != "svc.example.com" || cfg.RootCAs == nil || cfg.InsecureSkipVerify {
		t.Errorf("config has ServerName %q, RootCAs %v, InsecureSkipVerify %v; want the name verified against the CA", cfg.ServerName, cfg.RootCAs != nil, cfg.InsecureSkipVerify)
	}
	withSANs, err := compileTLSBackend(t, tlsBackend(BackendTLS{ServerName: "svc.example.com", CAPEM: []byte(testCAPEM), SubjectAltNames: []SubjectAltName{{Type: SANURI, Value: "spiffe://x"}}}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg := withSANs.TLS.Config; !cfg.InsecureSkipVerify || cfg.VerifyConnection == nil {
		t.Error("with subject alt names the config must verify the chain and names itself")
	}
	system, err := compileTLSBackend(t, tlsBackend(BackendTLS{ServerName: "svc.example.com", SystemCAs: true}))
	if err != nil {
		t.Fatal(err)
	}
	if system.TLS.Config.RootCAs != nil {
		t.Error("system CAs must leave RootCAs nil so Go uses the system pool")
	}
}

func TestBackendTLSKey(t *testing.T) {
	base := BackendTLS{ServerName: "svc.example.com", CAPEM: []byte(testCAPEM)}
	key := func(b BackendTLS) string { return backendTLSKey(&b, nil) }
	otherName, withSAN, system := base, base, base
	otherName.ServerName = "other.example.com"
	withSAN.SubjectAltNames = []SubjectAltName{{Type: SANHostname, Value: "svc.example.com"}}
	system.SystemCAs = true
	if key(base) != key(base) {
		t.Error("the same settings have different keys")
	}
	for name, b := range map[string]BackendTLS{"server name": otherName, "subject alt names": withSAN, "system CAs": system} {
		if key(b) == key(base) {
			t.Errorf("settings differing in %s share a key, so they would share connections", name)
		}
	}
}

func TestCompileBackendTLSErrors(t *testing.T) {
	h2c := tlsBackend(BackendTLS{ServerName: "svc.example.com", CAPEM: []byte(testCAPEM)})
	h2c.AppProtocol = AppProtocolH2C
	cases := []struct {
		name    string
		backend Backend
		want    string
	}{
		{"no server name", tlsBackend(BackendTLS{CAPEM: []byte(testCAPEM)}), "without a server name"},
		{"CA that does not parse", tlsBackend(BackendTLS{ServerName: "svc.example.com", CAPEM: []byte("nope"), CACertificates: []string{"ConfigMap ns/ca"}}), "cannot use the CA certificates of BackendTLSPolicy ns/policy (ConfigMap ns/ca): it holds no PEM certificate"},
		{"unknown subject alt name type", tlsBackend(BackendTLS{ServerName: "svc.example.com", CAPEM: []byte(testCAPEM), SubjectAltNames: []SubjectAltName{{Type: "IP", Value: "10.0.0.1"}}}), `subject alt name type "IP"`},
		{"h2c with TLS", h2c, "speaks h2c, which is cleartext, yet has TLS settings"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileTLSBackend(t, tc.backend)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "HTTPRoute ns/r rule 0") {
				t.Errorf("error %v, want one naming the rule and containing %q", err, tc.want)
			}
		})
	}
}

func TestTableUsesBackendTLS(t *testing.T) {
	main := tlsBackend(BackendTLS{ServerName: "svc.example.com", CAPEM: []byte(testCAPEM)})
	mirror := tlsBackend(BackendTLS{ServerName: "mirror.example.com", CAPEM: []byte(testCAPEM)})
	rule := Rule{Backends: []Backend{main}, Filters: []Filter{{Type: FilterRequestMirror, Mirror: &Mirror{Backend: mirror, Percent: 100}}}}
	table := mustCompile(t, Config{Listeners: []Listener{listener("ns/gw/http", "", route("ns/r", 0, nil, rule))}})
	for name, b := range map[string]Backend{"backend": main, "mirror": mirror} {
		if !table.UsesBackendTLS(backendTLSKey(b.TLS, nil)) {
			t.Errorf("the table does not report its %s's TLS settings", name)
		}
	}
	if table.UsesBackendTLS(backendTLSKey(&BackendTLS{ServerName: "gone.example.com"}, nil)) {
		t.Error("the table reports TLS settings no backend has")
	}
	if (*Table)(nil).UsesBackendTLS("x") {
		t.Error("a nil table uses TLS settings")
	}
}

func TestBackendTLSPresentsTheListenersClientCertificate(t *testing.T) {
	settings := BackendTLS{Policy: "ns/policy", ServerName: "svc.example.com", CAPEM: []byte(testCAPEM)}
	gatewayA := &tls.Certificate{Certificate: [][]byte{[]byte("certificate of gateway a")}}
	gatewayB := &tls.Certificate{Certificate: [][]byte{[]byte("certificate of gateway b")}}
	withA, err := compileBackendTLS(&settings, scope{where: "test", clientCert: gatewayA})
	if err != nil {
		t.Fatal(err)
	}
	if len(withA.Config.Certificates) != 1 || string(withA.Config.Certificates[0].Certificate[0]) != "certificate of gateway a" {
		t.Error("the backend TLS config does not present the listener's client certificate")
	}
	keys := map[string]string{
		"none": backendTLSKey(&settings, nil), "a": withA.Key, "b": backendTLSKey(&settings, gatewayB),
	}
	if keys["none"] == keys["a"] || keys["a"] == keys["b"] {
		t.Errorf("keys %v: connections presenting different client certificates would be shared", keys)
	}
}
