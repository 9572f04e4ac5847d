package e2e

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/echo-basic/tcpserver"

	"github.com/tenantgate/tenantgate/tests/stack"
)

// TLSRoute under tenant policy, end to end: apples claims bananas' SNI name
// on a shared TLS Passthrough listener, exactly, where bananas' route has
// the wildcard, so the attack would win every connection for the name if
// programmed. The webhook denies it; forced in while the webhook is down,
// the gateway refuses it with the same line, and every connection for the
// name still reaches bananas' pods.

// tlsSetup is applied as platform admin; %s are the base64 certificate and
// key (for *.bananas.example.com) each team's TLS echo server presents.
const tlsSetup = `
apiVersion: v1
kind: Namespace
metadata: {name: infra}
---
apiVersion: v1
kind: Namespace
metadata: {name: apples}
---
apiVersion: v1
kind: Namespace
metadata: {name: bananas}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: tenantgate}
spec: {controllerName: tenantgate.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared-tls, namespace: infra}
spec:
  gatewayClassName: tenantgate
  listeners:
  - {name: tls, protocol: TLS, port: 443, tls: {mode: Passthrough}, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: tenancy.tenantgate.dev/v1alpha1
kind: Tenant
metadata: {name: apples}
spec:
  namespaces: {names: [apples]}
  hostnames: [{hostname: "*.apples.example.com"}]
  gateways: [{namespace: infra, name: shared-tls}]
---
apiVersion: tenancy.tenantgate.dev/v1alpha1
kind: Tenant
metadata: {name: bananas}
spec:
  namespaces: {names: [bananas]}
  hostnames: [{hostname: "*.bananas.example.com"}]
  gateways: [{namespace: infra, name: shared-tls}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: db, namespace: bananas}
spec:
  parentRefs: [{name: shared-tls, namespace: infra, sectionName: tls}]
  hostnames: ["*.bananas.example.com"]
  rules: [{backendRefs: [{name: db, port: 8443}]}]
`

// tlsBackend is a TLS echo server (echo-basic's TCP mode) in one namespace.
const tlsBackend = `
apiVersion: v1
kind: Secret
metadata: {name: db-cert, namespace: {{NS}}}
type: kubernetes.io/tls
data: {tls.crt: {{CRT}}, tls.key: {{KEY}}}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: {{NS}}}
spec:
  selector: {app: db}
  ports: [{name: tls, port: 8443, targetPort: 8443}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: {{NS}}}
spec:
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers:
      - name: db
        image: registry.k8s.io/gateway-api/echo-basic:v1.5.1
        env:
        - {name: TCP_ECHO_SERVER, value: "1"}
        - {name: TLS_SERVER_CERT, value: /etc/secret-volume/crt}
        - {name: TLS_SERVER_PRIV_KEY, value: /etc/secret-volume/key}
        - name: POD_NAME
          valueFrom: {fieldRef: {fieldPath: metadata.name}}
        - name: NAMESPACE
          valueFrom: {fieldRef: {fieldPath: metadata.namespace}}
        volumeMounts: [{name: secret-volume, mountPath: /etc/secret-volume}]
      volumes:
      - name: secret-volume
        secret: {secretName: db-cert, items: [{key: tls.crt, path: crt}, {key: tls.key, path: key}]}
`

const attackTLSRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: db-steal, namespace: apples}
spec:
  parentRefs: [{name: shared-tls, namespace: infra, sectionName: tls}]
  hostnames: [db.bananas.example.com]
  rules: [{backendRefs: [{name: db, port: 8443}]}]
`

const (
	wantTLSRouteDenial = `Error from server (Forbidden): error when creating "STDIN": admission webhook "tlsroutes.tenantgate.dev" denied the request: ` +
		`spec.hostnames[0]: "db.bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames`
	wantTLSRouteRefusal = `Refused by tenant policy: spec.hostnames[0]: "db.bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames.`
)

func TestTLSRouteTakeoverRefused(t *testing.T) {
	if os.Getenv(ownProcessEnv) == "" {
		runInOwnProcess(t)
		return
	}
	s := stack.Start(t, stack.Options{AddressPool: "127.32.0.0/16", PlatformNamespaces: []string{"infra"}})
	crt, key, roots := selfSigned(t, "*.bananas.example.com")
	manifest := tlsSetup
	for _, ns := range []string{"apples", "bananas"} {
		manifest += "---" + strings.NewReplacer("{{NS}}", ns, "{{CRT}}", crt, "{{KEY}}", key).Replace(tlsBackend)
	}
	// The webhook judges each object by its cache, which may not hold the
	// Tenants of the same apply yet: retry until it does.
	stack.Eventually(t, 30*time.Second, "setup applied", func(context.Context) (bool, string) {
		out, err := s.Kubectl(manifest, "apply", "-f", "-")
		return err == nil, out
	})
	for _, ns := range []string{"apples", "bananas"} {
		d := types.NamespacedName{Namespace: ns, Name: "db"}
		stack.Eventually(t, 2*time.Minute, "Deployment "+d.String()+" ready", func(ctx context.Context) (bool, string) {
			var dep appsv1.Deployment
			if err := s.Client.Get(ctx, d, &dep); err != nil {
				return false, err.Error()
			}
			return dep.Status.ReadyReplicas == 2, dep.Status.String()
		})
	}
	addr := strings.TrimSuffix(gatewayAddress(t, s, "infra", "shared-tls"), ":80") + ":443"
	stack.Eventually(t, 20*time.Second, "db.bananas.example.com served by bananas", func(context.Context) (bool, string) {
		got := sendTLS(t, addr, "db.bananas.example.com", roots, 10)
		return got.byNS["bananas"] == 10, got.String()
	})
	victimOnly(t, "TLSRoute db.bananas.example.com before", sendTLS(t, addr, "db.bananas.example.com", roots, 200), "bananas")

	t.Run("webhook denies a TLSRoute claiming another tenant's SNI name", func(t *testing.T) {
		assertExact(t, "kubectl apply", denied(t, s, attackTLSRoute), wantTLSRouteDenial)
	})
	unregisterWebhooks(t, s)
	t.Run("gateway refuses the TLSRoute forced in while the webhook is down", func(t *testing.T) {
		forceCreate(t, s, decode[gatewayv1.TLSRoute](t, attackTLSRoute))
		c := tlsRouteCondition(t, s, "apples", "db-steal", "Accepted", "False", "NotAllowedByTenant")
		assertExact(t, "TLSRoute apples/db-steal Accepted message", c.Message, wantTLSRouteRefusal)
		victimOnly(t, "TLSRoute db.bananas.example.com after", sendTLS(t, addr, "db.bananas.example.com", roots, 200), "bananas")
	})
}

// sendTLS opens n connections through the gateway with SNI serverName,
// trusting only roots (so a handshake proves the backend's certificate
// came through untouched), and asks echo-basic's TCP server who it is.
func sendTLS(t *testing.T, addr, serverName string, roots *x509.CertPool, n int) tally {
	t.Helper()
	out := tally{byNS: map[string]int{}, byStatus: map[int]int{}, pods: map[string]string{}}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: &tls.Config{ServerName: serverName, RootCAs: roots}}
	for range n {
		out.total++
		who, err := askTLS(d, addr)
		if err != nil {
			out.byStatus[0]++ // refused or failed: no answer
			continue
		}
		out.byStatus[200]++
		out.byNS[who.Namespace]++
		out.pods[who.Pod] = who.Namespace
	}
	return out
}

func askTLS(d *tls.Dialer, addr string) (*tcpserver.TCPAssertions, error) {
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if line, err := r.ReadString('\n'); err != nil || line != tcpserver.WelcomeMessage {
		return nil, fmt.Errorf("greeting %q: %v", line, err)
	}
	if _, err := fmt.Fprint(c, "TEST\n"); err != nil {
		return nil, err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	var who tcpserver.TCPAssertions
	if err := json.Unmarshal([]byte(line), &who); err != nil {
		return nil, fmt.Errorf("answer %q: %w", line, err)
	}
	return &who, nil
}

// tlsRouteCondition waits until the TLSRoute's parent status for our
// controller has condition typ with the given status and reason.
func tlsRouteCondition(t *testing.T, s *stack.Stack, ns, name, typ, status, reason string) metav1.Condition {
	t.Helper()
	var found metav1.Condition
	stack.Eventually(t, 30*time.Second, fmt.Sprintf("TLSRoute %s/%s %s=%s/%s", ns, name, typ, status, reason), func(ctx context.Context) (bool, string) {
		var r gatewayv1.TLSRoute
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &r); err != nil {
			return false, err.Error()
		}
		for _, p := range r.Status.Parents {
			if c := meta.FindStatusCondition(p.Conditions, typ); p.ControllerName == "tenantgate.dev/gateway-controller" &&
				c != nil && string(c.Status) == status && c.Reason == reason {
				found = *c
				return true, ""
			}
		}
		return false, fmt.Sprintf("parents %+v", r.Status.Parents)
	})
	return found
}

// selfSigned returns a base64 PEM certificate and key for name and a pool
// trusting exactly that certificate.
func selfSigned(t *testing.T, name string) (crt, key string, roots *x509.CertPool) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	roots = x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	return base64.StdEncoding.EncodeToString(certPEM),
		base64.StdEncoding.EncodeToString(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})), roots
}
