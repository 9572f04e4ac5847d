package proxy

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// testAuthority is a CA that signs client certificates.
type testAuthority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTestAuthority(t *testing.T, name string) *testAuthority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(mrand.Int64()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testAuthority{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// client signs a client certificate.
func (a *testAuthority) client(t *testing.T) tls.Certificate {
	return a.sign(t, &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

// server signs a serving certificate for DNS names and URIs.
func (a *testAuthority) server(t *testing.T, dnsNames []string, uris ...string) tls.Certificate {
	tmpl := &x509.Certificate{ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSNames: dnsNames}
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, u)
	}
	return a.sign(t, tmpl)
}

// sign issues tmpl (usages and names set) with a fresh key, valid for an hour.
func (a *testAuthority) sign(t *testing.T, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, tmpl.Subject = big.NewInt(mrand.Int64()), pkix.Name{CommonName: "issued by " + a.cert.Subject.CommonName}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestClientCertificateValidation(t *testing.T) {
	addr, port := loopback(t)
	backend := startBackend(t, "apples")
	trusted, other := newTestAuthority(t, "trusted"), newTestAuthority(t, "other")
	serverCert := testCertificate(t, "strict.example.com", "fallback.example.com", "open.example.com")
	listener := func(hostname string, v *routetable.ClientValidation) routetable.Listener {
		return routetable.Listener{Name: "infra/gw/" + hostname, Address: addr, Port: port, Protocol: routetable.ProtocolHTTPS, Hostname: hostname,
			Certificates: []routetable.Certificate{serverCert}, ClientValidation: v,
			Routes: []*routetable.Route{simpleRoute("apples", "/", routetable.Rule{Backends: []routetable.Backend{backend.ref(t, 1)}})}}
	}
	s := NewServer(Options{})
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{
		listener("strict.example.com", &routetable.ClientValidation{CACertificates: []string{"ConfigMap infra/ca"}, CAPEM: trusted.pem}),
		listener("fallback.example.com", &routetable.ClientValidation{CACertificates: []string{"ConfigMap infra/ca"}, CAPEM: trusted.pem, InsecureFallback: true}),
		listener("open.example.com", nil),
	}})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(serverCert.CertPEM)
	request := func(host string, cert *tls.Certificate) (int, error) {
		tlsConfig := &tls.Config{RootCAs: roots, ServerName: host}
		if cert != nil {
			tlsConfig.Certificates = []tls.Certificate{*cert}
		}
		dialer := &net.Dialer{Timeout: 5 * time.Second}
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, net.JoinHostPort(addr, itoa(port)))
			},
		}}
		defer client.CloseIdleConnections()
		resp, err := client.Get("https://" + host + "/")
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		if resp.ProtoMajor != 2 {
			t.Errorf("%s: protocol %s, want HTTP/2 offered through ALPN", host, resp.Proto)
		}
		return resp.StatusCode, nil
	}
	trustedCert, otherCert := trusted.client(t), other.client(t)
	cases := []struct {
		name   string
		host   string
		cert   *tls.Certificate
		wantOK bool
	}{
		{"a certificate from the CA passes", "strict.example.com", &trustedCert, true},
		{"a certificate from another CA is refused", "strict.example.com", &otherCert, false},
		{"no certificate is refused", "strict.example.com", nil, false},
		{"insecure fallback passes a certificate from the CA", "fallback.example.com", &trustedCert, true},
		{"insecure fallback passes a certificate from another CA", "fallback.example.com", &otherCert, true},
		{"insecure fallback passes no certificate", "fallback.example.com", nil, true},
		{"a listener without validation on the same socket asks for nothing", "open.example.com", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, err := request(tc.host, tc.cert)
			switch {
			case tc.wantOK && (err != nil || status != http.StatusOK):
				t.Errorf("got %d, %v; want 200", status, err)
			case !tc.wantOK && err == nil:
				t.Errorf("got %d; want the handshake refused", status)
			}
		})
	}
}
