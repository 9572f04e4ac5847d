package integration

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// testNamespaceMoves: a label change that would put a namespace in two
// tenants is refused; one that moves it under a tenant whose rules its
// objects break is admitted with warnings naming them; and namespace
// operations go on while tenantgate's webhook server is down.
func (h *harness) testNamespaceMoves(t *testing.T) {
	t.Run("a label putting a namespace in a second tenant is refused", func(t *testing.T) {
		want := `metadata.labels: team=kiwis would put namespace "melons" in tenant "melons" (spec.namespaces.names) and tenant "kiwis" (spec.namespaces.selector) (a namespace belongs to at most one tenant); change the labels, or the Tenants' spec.namespaces`
		wantOut := "Error from server (Forbidden): admission webhook \"namespaces.tenantgate.dev\" denied the request: " + want + "\n"
		out, err := h.s.Kubectl("", "label", "namespace", "melons", "team=kiwis")
		t.Logf("$ kubectl label namespace melons team=kiwis\n%s", out)
		if err == nil || out != wantOut {
			t.Errorf("kubectl label: error %v, printed:\n%s\nwant:\n%s", err, out, wantOut)
		}
	})

	t.Run("a move under a tenant whose rules its objects break is admitted with warnings", func(t *testing.T) {
		h.mustKubectl(t, "", "create", "namespace", "drifter")
		t.Cleanup(func() { h.s.Kubectl("", "delete", "namespace", "drifter", "--wait=false") })
		// Not policed while drifter belongs to no tenant.
		h.expectApply(t, grant("drifter", named2("open-to-rogue"), from("HTTPRoute", "rogue"), to("Service", "")), want{})
		rules := []string{
			`spec.from[0].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "kiwis" (allowed: infra); grant from an allowed namespace or add it to Tenant kiwis spec.referenceGrants.allowFromNamespaces`,
			`spec.to[0].name: unset, so the grant opens up every Service in namespace "drifter", which tenant "kiwis" does not allow; set to.name, or set Tenant kiwis spec.referenceGrants.allowWildcardNames`,
		}
		var wantOut strings.Builder
		for _, r := range rules {
			fmt.Fprintf(&wantOut, "Warning: metadata.labels: namespace \"drifter\" joins tenant \"kiwis\", and its ReferenceGrant open-to-rogue breaks that tenant's rules: %s; fix or remove the ReferenceGrant\n", r)
		}
		wantOut.WriteString("namespace/drifter labeled\n")
		out := h.mustKubectl(t, "", "label", "namespace", "drifter", "team=kiwis")
		t.Logf("$ kubectl label namespace drifter team=kiwis\n%s", out)
		if out != wantOut.String() {
			t.Errorf("kubectl label printed:\n%s\nwant:\n%s", out, wantOut.String())
		}
		out = h.mustKubectl(t, "", "label", "namespace", "drifter", "team-")
		if want := "namespace/drifter unlabeled\n"; out != want {
			t.Errorf("kubectl label team- printed %q, want %q", out, want)
		}
	})

	t.Run("namespaces can be created, relabelled and deleted while the webhook server is down", func(t *testing.T) {
		restore := h.redirectWebhooks(t)
		defer restore()
		out, err := h.s.Kubectl(manifest(t, route("rogue", named("while-down"), parent("infra", "open", "internal"))), "apply", "-f", "-")
		if err == nil || !strings.Contains(out, `failed calling webhook "httproutes.tenantgate.dev"`) {
			t.Fatalf("with the webhook server down an HTTPRoute (failurePolicy Fail) got through: error %v, printed:\n%s", err, out)
		}
		for _, args := range [][]string{
			{"create", "namespace", "outage"},
			{"label", "namespace", "outage", "audited=yes"},
			{"delete", "namespace", "outage", "--wait=false"},
		} {
			out := h.mustKubectl(t, "", args...)
			t.Logf("$ kubectl %s\n%s", strings.Join(args, " "), out)
		}
	})
}

// named2 names a grant.
func named2(name string) grantOption { return func(g *gatewayv1.ReferenceGrant) { g.Name = name } }

// redirectWebhooks points every webhook of the tenantgate configuration at
// a loopback port nothing listens on, as if tenantgate's webhook server
// were down, and returns a function that restores the configuration and
// waits until the webhook answers again.
func (h *harness) redirectWebhooks(t *testing.T) (restore func()) {
	t.Helper()
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	var hooks admissionregistrationv1.ValidatingWebhookConfigurationList
	if err := h.s.Client.List(ctx, &hooks); err != nil {
		t.Fatal(err)
	}
	var saved []admissionregistrationv1.ValidatingWebhookConfiguration
	for i := range hooks.Items {
		cfg := &hooks.Items[i]
		saved = append(saved, *cfg.DeepCopy())
		for j := range cfg.Webhooks {
			if u := cfg.Webhooks[j].ClientConfig.URL; u != nil {
				parsed, err := url.Parse(*u)
				if err != nil {
					t.Fatal(err)
				}
				parsed.Host = dead
				s := parsed.String()
				cfg.Webhooks[j].ClientConfig.URL = &s
			}
		}
		if err := h.s.Client.Update(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	restored := false
	return func() {
		t.Helper()
		if restored {
			return
		}
		restored = true
		for _, cfg := range saved {
			var current admissionregistrationv1.ValidatingWebhookConfiguration
			if err := h.s.Client.Get(ctx, client.ObjectKeyFromObject(&cfg), &current); err != nil {
				t.Fatal(err)
			}
			current.Webhooks = cfg.Webhooks
			if err := h.s.Client.Update(ctx, &current); err != nil {
				t.Fatalf("restoring ValidatingWebhookConfiguration %s: %v", cfg.Name, err)
			}
		}
		probe := route("rogue", named("webhook-probe"), parent("infra", "open", "http"), hosts("kiwis.example.com"))
		denial := applyOutput(probe, denied(`spec.hostnames[0]: "kiwis.example.com" is owned by tenant "kiwis" ("kiwis.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant kiwis`), true)
		h.awaitAnswer(t, manifest(t, probe), func(out string) bool { return out == denial }, denial)
	}
}

// testAuditNewKinds forces a ListenerSet and a TLSRoute past the webhook and
// checks that they show on the status of the tenant they break.
func (h *harness) testAuditNewKinds(t *testing.T) {
	restore := h.stopWebhook(t)
	defer restore()
	ls := listenerSet(`
metadata: {namespace: limes, name: outage-takeover}
spec:
  parentRef: {namespace: infra, name: l4}
  listeners: [{name: web, port: 80, protocol: HTTP, hostname: kiwis.example.com}]`)
	h.forceCreate(t, ls)
	defer h.delete(t, ls)
	want := v1alpha1.TenantViolation{Kind: "ListenerSet", Namespace: "limes", Name: "outage-takeover", Message: takeoverLimes}
	h.awaitTenant(t, "limes", fmt.Sprintf("violations [%v]", want), func(s v1alpha1.TenantStatus) bool {
		return slices.Equal(s.Violations, []v1alpha1.TenantViolation{want})
	})
}
