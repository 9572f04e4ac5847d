package main

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	cmv1 "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	cmclient "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/roles"
)

// installer installs tenantgate the way README "Install on a cluster" says.
type installer struct {
	root, dir, kubeconfig string
	admin                 *rest.Config
}

func (in *installer) kubectl(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(in.root, "bin", "kubectl"), append([]string{"--kubeconfig", in.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// overlay is make run's kustomization over manifests/default: the install as
// published, plus the flag the seed walkthrough relies on (README "Tenants":
// infra, holding the shared Gateway, is a platform namespace).
const overlay = `# Written by make run (cmd/tenantgate-local): manifests/default as published,
# plus -platform-namespaces=infra for the seed walkthrough.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- %s
patches:
- target: {kind: Deployment, name: tenantgate-(webhook|controller|dataplane)}
  patch: |-
    - op: add
      path: /spec/template/spec/containers/0/args/-
      value: -platform-namespaces=infra
`

// install applies the Gateway API CRDs and manifests/default (through the
// overlay) and waits until the three Deployments are Available, the
// webhook's Certificate is Ready and its CA is injected.
func (in *installer) install(ctx context.Context) error {
	gw, err := cluster.ModuleDir(in.root, "sigs.k8s.io/gateway-api")
	if err != nil {
		return err
	}
	began := time.Now()
	step := func(what string) { // time since the install began
		fmt.Printf("  %-70s +%s\n", what, time.Since(began).Round(100*time.Millisecond))
	}
	// The CRDs are too large for client-side apply's annotation.
	if _, err := in.kubectl(ctx, "apply", "--server-side", "-f", filepath.Join(gw, "config", "crd", "standard")); err != nil {
		return err
	}
	step("Gateway API CRDs (standard channel) applied")

	kdir := filepath.Join(in.dir, "install")
	if err := os.MkdirAll(kdir, 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(kdir, filepath.Join(in.root, "manifests", "default"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(kdir, "kustomization.yaml"), fmt.Appendf(nil, overlay, rel), 0o644); err != nil {
		return err
	}
	if _, err := in.kubectl(ctx, "create", "namespace", roles.Namespace); err != nil {
		return err
	}
	if _, err := in.kubectl(ctx, "apply", "-k", kdir, "--dry-run=server"); err != nil {
		return err
	}
	if _, err := in.kubectl(ctx, "apply", "-k", kdir); err != nil {
		return err
	}
	step("kubectl apply -k manifests/default (with -platform-namespaces=infra)")

	k, err := kubernetes.NewForConfig(in.admin)
	if err != nil {
		return err
	}
	cm, err := cmclient.NewForConfig(in.admin)
	if err != nil {
		return err
	}
	if err := poll(ctx, 2*time.Minute, "Certificate tenantgate-system/tenantgate-webhook to be Ready (kubectl describe certificate -n tenantgate-system)", func(ctx context.Context) (bool, error) {
		cert, err := cm.CertmanagerV1().Certificates(roles.Namespace).Get(ctx, "tenantgate-webhook", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range cert.Status.Conditions {
			if c.Type == cmv1.CertificateConditionReady && c.Status == cmmeta.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	}); err != nil {
		return err
	}
	step("cert-manager: Certificate tenantgate-webhook Ready")
	if err := poll(ctx, time.Minute, "cert-manager's CA injector to set the caBundle of ValidatingWebhookConfiguration tenantgate", func(ctx context.Context) (bool, error) {
		vwc, err := k.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "tenantgate", metav1.GetOptions{})
		if err != nil || len(vwc.Webhooks) == 0 {
			return false, nil
		}
		for _, w := range vwc.Webhooks {
			if len(w.ClientConfig.CABundle) == 0 {
				return false, nil
			}
		}
		return true, nil
	}); err != nil {
		return err
	}
	step("cert-manager: CA injected into the webhook configuration")
	for _, d := range []string{"tenantgate-webhook", "tenantgate-controller", "tenantgate-dataplane"} {
		if err := poll(ctx, 3*time.Minute, "Deployment "+roles.Namespace+"/"+d+" to be Available (kubectl describe pods -n tenantgate-system)", func(ctx context.Context) (bool, error) {
			dep, err := k.AppsV1().Deployments(roles.Namespace).Get(ctx, d, metav1.GetOptions{})
			return err == nil && available(dep), nil
		}); err != nil {
			return err
		}
	}
	step("Deployments tenantgate-webhook, -controller, -dataplane Available")
	return nil
}

// available is the Deployment's Available condition with every replica updated and available.
func available(d *appsv1.Deployment) bool {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == want && d.Status.AvailableReplicas == want
		}
	}
	return false
}

// gatewayInfo says where the seed Gateway takes traffic.
type gatewayInfo struct {
	address string // what to curl; empty when the Gateway has no usable address
	summary string // one line on the Gateway and the Services that carry its traffic
}

// applyExample applies the example and waits for Gateway infra/shared to be
// Programmed with an address from the load-balancer pool (its own
// LoadBalancer Service's). When it is not, make run still comes up and says
// what the Gateway reports instead.
func (in *installer) applyExample(ctx context.Context, example string) (gatewayInfo, error) {
	var info gatewayInfo
	out, err := in.kubectl(ctx, "apply", "-f", example)
	fmt.Print(out)
	if err != nil {
		return info, err
	}
	scheme, err := app.Scheme()
	if err != nil {
		return info, err
	}
	k, err := client.New(in.admin, client.Options{Scheme: scheme})
	if err != nil {
		return info, err
	}
	var gw gatewayv1.Gateway
	key := types.NamespacedName{Namespace: "infra", Name: "shared"}
	err = poll(ctx, 30*time.Second, "", func(ctx context.Context) (bool, error) {
		if err := k.Get(ctx, key, &gw); err != nil {
			return false, nil
		}
		programmed := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
		return programmed != nil && programmed.ObservedGeneration == gw.Generation && len(gw.Status.Addresses) > 0, nil
	})
	if ctx.Err() != nil {
		return info, ctx.Err()
	}
	var services corev1.ServiceList
	if err := k.List(ctx, &services); err != nil {
		return info, err
	}
	var lbs []string
	for _, s := range services.Items {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer && len(s.Status.LoadBalancer.Ingress) > 0 {
			lbs = append(lbs, fmt.Sprintf("%s/%s at %s", s.Namespace, s.Name, s.Status.LoadBalancer.Ingress[0].IP))
		}
	}
	programmed := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
	switch {
	case err == nil && programmed.Status == metav1.ConditionTrue:
		addr := gw.Status.Addresses[0].Value
		if a, perr := netip.ParseAddr(addr); perr == nil && a.IsLoopback() {
			info.address = addr
		}
		info.summary = fmt.Sprintf("The shared Gateway infra/shared is Programmed with address %s", addr)
	case programmed != nil:
		info.summary = fmt.Sprintf("The shared Gateway infra/shared is not Programmed (%s: %s)", programmed.Reason, programmed.Message)
	default:
		info.summary = "The shared Gateway infra/shared has no Programmed condition after 30s (kubectl describe gateway -n infra shared)"
	}
	if len(lbs) > 0 {
		info.summary += ".\nLoadBalancer Services: " + strings.Join(lbs, ", ")
	}
	return info, nil
}

func poll(ctx context.Context, timeout time.Duration, what string, cond wait.ConditionWithContextFunc) error {
	if err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, cond); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("waited %s for %s", timeout, what)
	}
	return nil
}
