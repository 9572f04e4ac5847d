package manifests

import (
	"slices"
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
)

// TestWebhookOnlyContents: manifests/webhook-only is the install without the
// data plane or the controller: manifests/default's webhook Deployment,
// running the Tenant audit too (-role=all -enable-gateway=false
// -leader-elect), with two replicas and a PDB, no LoadBalancer Service and
// no permission the webhook and the Tenant audit do not use.
func TestWebhookOnlyContents(t *testing.T) {
	objs := load(t, "webhook-only")
	full := loadDefault(t)

	one[*apiextensionsv1.CustomResourceDefinition](t, objs, "tenants.tenancy.tenantgate.dev")
	one[*admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, webhookCfg)
	one[*cmapi.Certificate](t, objs, "tenantgate-webhook")
	one[*corev1.Service](t, objs, "tenantgate-webhook")
	for _, s := range all[*corev1.Service](objs) {
		if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
			t.Errorf("Service %s is a LoadBalancer; the webhook-only install has no data plane", s.Name)
		}
	}

	if n := len(all[*appsv1.Deployment](objs)); n != 1 {
		t.Errorf("%d Deployments; want the webhook's alone", n)
	}
	d := one[*appsv1.Deployment](t, objs, "tenantgate-webhook")
	c := tenantgateContainer(t, d)
	opts := flags(t, c)
	if opts.Role != app.RoleAll || !opts.EnableWebhook || opts.EnableGateway || !opts.LeaderElect || opts.GatewayAddressPool != "" {
		t.Errorf("-role=%s -enable-webhook=%v -enable-gateway=%v -leader-elect=%v -gateway-address-pool=%q; want the webhook and audit only",
			opts.Role, opts.EnableWebhook, opts.EnableGateway, opts.LeaderElect, opts.GatewayAddressPool)
	}
	// The audit writes Tenant status and the Lease: it runs as manifests/rbac's identity.
	if sa := one[*corev1.ServiceAccount](t, objs, "tenantgate"); d.Spec.Template.Spec.ServiceAccountName != sa.Name {
		t.Errorf("serviceAccountName %q; want %s", d.Spec.Template.Spec.ServiceAccountName, sa.Name)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v; want 2", d.Spec.Replicas)
	}
	pdb := one[*policyv1.PodDisruptionBudget](t, objs, "tenantgate-webhook")
	if !selects(t, pdb.Spec.Selector, d.Spec.Template.Labels) {
		t.Errorf("PDB selector %v does not select the webhook Pods", pdb.Spec.Selector)
	}
	for _, p := range c.Ports {
		if p.ContainerPort < 1024 {
			t.Errorf("container port %s %d: the webhook-only Pod binds no privileged port", p.Name, p.ContainerPort)
		}
	}
	if sc := c.SecurityContext; sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Add) != 0 || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container capabilities %+v; want ALL dropped and none added", c.SecurityContext)
	}

	// The ClusterRole is a strict subset of the full install's controller's.
	got, _ := expandRules(one[*rbacv1.ClusterRole](t, objs, "tenantgate").Rules)
	want, _ := expandRules(one[*rbacv1.ClusterRole](t, full, "tenantgate-controller").Rules)
	if extra := diff(got, want); len(extra) > 0 {
		t.Errorf("the webhook-only ClusterRole grants what the full install's controller does not: %v", extra)
	}
	for _, p := range []permission{{"", "secrets", "list"}, {"", "services", "watch"}, {"gateway.networking.k8s.io", "httproutes/status", "update"}} {
		if got[p] {
			t.Errorf("the webhook-only ClusterRole grants %s, which only the gateway uses", p)
		}
	}
	for _, p := range []permission{{"gateway.networking.k8s.io", "httproutes", "watch"}, {"", "namespaces", "list"}, {"tenancy.tenantgate.dev", "tenants/status", "update"}, {"events.k8s.io", "events", "create"}} {
		if !got[p] {
			t.Errorf("the webhook-only ClusterRole lacks %s", p)
		}
	}
}
