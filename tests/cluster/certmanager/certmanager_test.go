package certmanager_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"

	cmclient "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned"

	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/cluster/certmanager"
)

// TestIssuesAndInjects runs cert-manager on the local cluster, applies
// tenantgate's own manifests/certmanager (self-signed Issuer -> CA
// Certificate -> CA Issuer -> serving Certificate) and a webhook
// configuration asking for CA injection, and checks that the serving
// certificate is issued by the CA for the webhook Service's names and that
// the injector put that CA into the webhook configuration.
func TestIssuesAndInjects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		t.Fatalf("starting the local cluster: %v", err)
	}
	defer c.Stop()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := cluster.ModuleDir(root, certmanager.Module)
	if err != nil {
		t.Fatal(err)
	}
	log := funcr.New(func(prefix, args string) { t.Log(prefix, args) }, funcr.Options{})
	ctrl.SetLogger(log)
	cm, err := certmanager.Start(ctx, certmanager.Options{Config: c.Admin, Kubeconfig: c.AdminKubeconfig, ModuleDir: dir, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cm.Stop(); err != nil {
			t.Errorf("cert-manager stopped with: %v", err)
		}
	}()
	client := kubernetes.NewForConfigOrDie(c.Admin)
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "tenantgate-system"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	kubectl := exec.CommandContext(ctx, filepath.Join(root, "bin", "kubectl"), "--kubeconfig", c.AdminKubeconfig, "apply", "-k", filepath.Join(root, "manifests", "certmanager"))
	if out, err := kubectl.CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply -k manifests/certmanager: %v\n%s", err, out)
	}
	_, err = client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, &admissionv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "injected", Annotations: map[string]string{"cert-manager.io/inject-ca-from": "tenantgate-system/tenantgate-webhook"}},
		Webhooks: []admissionv1.ValidatingWebhook{{
			Name:                    "injected.tenantgate.dev",
			ClientConfig:            admissionv1.WebhookClientConfig{Service: &admissionv1.ServiceReference{Namespace: "tenantgate-system", Name: "tenantgate-webhook", Path: ptr.To("/v")}},
			SideEffects:             ptr.To(admissionv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			FailurePolicy:           ptr.To(admissionv1.Ignore),
			Rules: []admissionv1.RuleWithOperations{{Operations: []admissionv1.OperationType{admissionv1.Create},
				Rule: admissionv1.Rule{APIGroups: []string{"example.invalid"}, APIVersions: []string{"v1"}, Resources: []string{"nothing"}}}},
		}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	cms := cmclient.NewForConfigOrDie(c.Admin)
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		cert, err := cms.CertmanagerV1().Certificates("tenantgate-system").Get(ctx, "tenantgate-webhook", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, cond := range cert.Status.Conditions {
			if cond.Type == "Ready" && cond.Status == "True" {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("Certificate tenantgate-system/tenantgate-webhook was not Ready within a minute: %v", err)
	}
	secret, err := client.CoreV1().Secrets("tenantgate-system").Get(ctx, "tenantgate-webhook-tls", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	caPool := x509.NewCertPool()
	if !caPool.AppendCertsFromPEM(secret.Data["ca.crt"]) {
		t.Fatalf("the serving Secret's ca.crt holds no certificate: %q", secret.Data["ca.crt"])
	}
	block, _ := pem.Decode(secret.Data["tls.crt"])
	if block == nil {
		t.Fatal("the serving Secret's tls.crt holds no certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: caPool, DNSName: "tenantgate-webhook.tenantgate-system.svc", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("the serving certificate does not verify against its CA for the webhook Service's name: %v", err)
	}

	var bundle []byte
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		vwc, err := client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "injected", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		bundle = vwc.Webhooks[0].ClientConfig.CABundle
		return len(bundle) > 0, nil
	})
	if err != nil || !bytes.Equal(bundle, secret.Data["ca.crt"]) {
		t.Errorf("the injected caBundle is %q (%v); want the Certificate's ca.crt", bundle, err)
	}
}
