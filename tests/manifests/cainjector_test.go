package manifests

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	cmutil "github.com/cert-manager/cert-manager/pkg/util"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tenantgate/tenantgate/tests/cluster"
)

// testCAInjection runs cert-manager's own CA injector in-process against the
// install's ValidatingWebhookConfiguration and serving Certificate, with the
// Certificate's Secret shaped as cert-manager's issuer writes it, and waits
// for every webhook's caBundle to equal the Secret's ca.crt.
func testCAInjection(t *testing.T, ctx context.Context, c *cluster.Cluster, objs []client.Object) {
	k, err := client.New(c.Admin, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	vwc := one[*admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, webhookCfg).DeepCopy()
	cert := one[*cmapi.Certificate](t, objs, "tenantgate-webhook").DeepCopy()
	caPEM, certPEM, keyPEM := issue(t, cert.Spec.DNSNames)
	secret := &corev1.Secret{Type: corev1.SecretTypeTLS, Data: map[string][]byte{
		corev1.TLSCertKey: certPEM, corev1.TLSPrivateKeyKey: keyPEM, "ca.crt": caPEM,
	}}
	secret.Name, secret.Namespace = cert.Spec.SecretName, cert.Namespace
	// The injector trusts only a Secret that names its Certificate.
	secret.Annotations = map[string]string{cmapi.CertificateNameKey: cert.Name}
	for _, o := range []client.Object{cert, secret, vwc} {
		if err := k.Create(ctx, o); err != nil {
			t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
		}
	}

	// The injector's field manager comes from the user agent, as in production.
	cfg := cmutil.RestConfigWithUserAgent(c.Admin, "cainjector")
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		// As cert-manager's cainjector runs: Secrets are watched by metadata
		// only and read directly when a CA is needed.
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor:        map[string]bool{cainjector.ValidatingWebhookConfigurationName: true},
	}); err != nil {
		t.Fatalf("registering cert-manager's CA injector: %v", err)
	}
	mgrCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mgrCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("CA injector: %v", err)
		}
	}()

	var got admissionregistrationv1.ValidatingWebhookConfiguration
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := k.Get(ctx, client.ObjectKeyFromObject(vwc), &got); err != nil {
			return false, err
		}
		for _, wh := range got.Webhooks {
			if !bytes.Equal(wh.ClientConfig.CABundle, caPEM) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		for _, wh := range got.Webhooks {
			t.Logf("webhook %s caBundle: %d bytes", wh.Name, len(wh.ClientConfig.CABundle))
		}
		t.Fatalf("the caBundle of every webhook did not become the Certificate's ca.crt: %v", err)
	}
}

// issue makes a CA and a serving certificate for dnsNames, PEM-encoded, as
// the CA Issuer would.
func issue(t *testing.T, dnsNames []string) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tenantgate-webhook-ca"},
		NotBefore: now, NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), DNSNames: dnsNames, NotBefore: now, NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caTmpl, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
