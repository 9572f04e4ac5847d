package integration

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// testAudit forces objects in while the webhook is down and checks that the
// Tenants' status reports them; then, with the webhook back, that such an
// object can still be relabelled (with warnings) and deleted.
func (h *harness) testAudit(t *testing.T) {
	var kiwisBefore v1alpha1.Tenant
	t.Run("a tenant's status lists its namespaces and is Ready", func(t *testing.T) {
		kiwisBefore = h.awaitTenant(t, "kiwis", "namespaces [kiwis kiwis-dev], Ready", func(s v1alpha1.TenantStatus) bool {
			return slices.Equal(s.Namespaces, []string{"kiwis", "kiwis-dev"}) && conditionIs(s, v1alpha1.ConditionReady, metav1.ConditionTrue) &&
				conditionIs(s, v1alpha1.ConditionHostnameConflict, metav1.ConditionFalse) && len(s.Violations) == 0
		})
	})

	restore := h.stopWebhook(t)
	t.Cleanup(restore)
	hijack := route("kiwis", named("outage-hijack"), parent("infra", "market", "wild"), hosts("limes.example.com"))
	squat := route("rogue", named("outage-squat"), parent("infra", "open", "http"), hosts("limes.example.com"))
	grapes := tenant("grapes", namespaces("grapes"), owns("kiwis.example.com"))
	for _, obj := range []client.Object{hijack, squat, grapes} {
		h.forceCreate(t, obj)
	}

	t.Run("a route forced in shows on its tenant's status", func(t *testing.T) {
		want := v1alpha1.TenantViolation{Kind: "HTTPRoute", Namespace: "kiwis", Name: "outage-hijack",
			Message: `spec.hostnames[0]: "limes.example.com" belongs to tenant "limes", not tenant "kiwis"; use a hostname listed in Tenant kiwis spec.hostnames`}
		h.awaitTenant(t, "kiwis", fmt.Sprintf("violations [%v]", want), func(s v1alpha1.TenantStatus) bool {
			return slices.Equal(s.Violations, []v1alpha1.TenantViolation{want})
		})
	})
	t.Run("kubectl get tenants shows namespaces, hostnames, routes served of all, and violations", func(t *testing.T) {
		// No gateway of this harness serves the forced route: it is pending.
		got := h.awaitTenant(t, "kiwis", "summary: 1 violation, the forced route not served, not Ready", func(s v1alpha1.TenantStatus) bool {
			unserved := slices.ContainsFunc(s.Routes, func(c v1alpha1.TenantRouteCount) bool { return c.Kind == "HTTPRoute" && c.Refused+c.Pending >= 1 })
			// grapes, forced in too, conflicts: kiwis is not Ready.
			return s.Summary.Violations == 1 && unserved && s.Summary.Namespaces == "kiwis,kiwis-dev" && s.Summary.Hostnames != "" &&
				conditionIs(s, v1alpha1.ConditionReady, metav1.ConditionFalse)
		})
		var served, total int32
		for _, c := range got.Status.Routes {
			served, total = served+c.Served, total+c.Served+c.Refused+c.Pending
		}
		if want := fmt.Sprintf("%d/%d", served, total); got.Status.Summary.Routes != want || served >= total {
			t.Errorf("summary.routes %q from counts %+v; want %q with at least one not served", got.Status.Summary.Routes, got.Status.Routes, want)
		}
		metrics := scrape(t, h.s.MetricsURL)
		for series, want := range map[string]float64{
			`tenantgate_tenant_violations{tenant="kiwis"}`:                             1,
			`tenantgate_tenant_ready{tenant="kiwis"}`:                                  0, // grapes, forced in, conflicts
			`tenantgate_tenant_routes{kind="HTTPRoute",state="served",tenant="kiwis"}`: float64(served),
		} {
			if got, ok := metrics[series]; !ok || got != want {
				t.Errorf("%s = %v (exported: %v); want %v", series, got, ok, want)
			}
		}
		out := h.mustKubectl(t, "", "get", "tenant", "kiwis")
		ready := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
		want := [][2]string{{"NAME", "kiwis"}, {"NAMESPACES", "kiwis,kiwis-dev"}, {"HOSTNAMES", got.Status.Summary.Hostnames},
			{"ROUTES", got.Status.Summary.Routes}, {"VIOLATIONS", "1"}, {"READY", string(ready.Status)}, {"AGE", ""}}
		if cells, ok := columns(out); !ok || len(cells) != len(want) {
			t.Errorf("kubectl get tenant printed:\n%s\nwant the columns %v", out, want)
		} else {
			for i, w := range want {
				if cells[i][0] != w[0] || (w[1] != "" && cells[i][1] != w[1]) {
					t.Errorf("kubectl get tenant column %d is %s=%q; want %s=%q (output:\n%s)", i, cells[i][0], cells[i][1], w[0], w[1], out)
				}
			}
		}
	})
	t.Run("a route of no tenant forced in shows on the status of the tenant whose hostname it takes", func(t *testing.T) {
		want := v1alpha1.TenantViolation{Kind: "HTTPRoute", Namespace: "rogue", Name: "outage-squat",
			Message: `spec.hostnames[0]: "limes.example.com" is owned by tenant "limes" ("limes.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant limes`}
		h.awaitTenant(t, "limes", fmt.Sprintf("violations [%v]", want), func(s v1alpha1.TenantStatus) bool {
			return slices.Equal(s.Violations, []v1alpha1.TenantViolation{want})
		})
	})
	t.Run("a conflicting Tenant forced in shows HostnameConflict on both", func(t *testing.T) {
		conflict := `spec.hostnames[0]: "kiwis.example.com" overlaps "kiwis.example.com" of tenant "kiwis"; ` + overlapRule
		got := h.awaitTenant(t, "grapes", "HostnameConflict True, Ready False", func(s v1alpha1.TenantStatus) bool {
			return conditionIs(s, v1alpha1.ConditionHostnameConflict, metav1.ConditionTrue) &&
				conditionIs(s, v1alpha1.ConditionReady, metav1.ConditionFalse) &&
				conditionIs(s, v1alpha1.ConditionNamespaceConflict, metav1.ConditionFalse)
		})
		if c := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionHostnameConflict); c.Reason != v1alpha1.ReasonConflict || c.Message != conflict {
			t.Errorf("grapes HostnameConflict = %s %q, want %s %q", c.Reason, c.Message, v1alpha1.ReasonConflict, conflict)
		}
		kiwis := h.awaitTenant(t, "kiwis", "HostnameConflict True", func(s v1alpha1.TenantStatus) bool {
			return conditionIs(s, v1alpha1.ConditionHostnameConflict, metav1.ConditionTrue)
		})
		// What did not change keeps its transition time.
		typ := v1alpha1.ConditionNamespaceConflict
		if was, is := meta.FindStatusCondition(kiwisBefore.Status.Conditions, typ), meta.FindStatusCondition(kiwis.Status.Conditions, typ); was == nil || !was.LastTransitionTime.Equal(&is.LastTransitionTime) {
			t.Errorf("kiwis %s moved from %+v to %+v, though its status stayed False", typ, was, is)
		}
	})
	t.Run("kubectl describe tenant tells of the conflict", func(t *testing.T) {
		stack.Eventually(t, policyLag, "a Warning Event Conflict on Tenant kiwis", func(context.Context) (bool, string) {
			out, err := h.s.Kubectl("", "describe", "tenant", "kiwis")
			return err == nil && regexp.MustCompile(`Warning\s+Conflict\s+.*overlaps`).MatchString(out), out
		})
	})
	t.Run("removing the conflicting Tenant clears the conflict", func(t *testing.T) {
		h.delete(t, grapes)
		h.awaitTenant(t, "kiwis", "HostnameConflict False, Ready True", func(s v1alpha1.TenantStatus) bool {
			return conditionIs(s, v1alpha1.ConditionHostnameConflict, metav1.ConditionFalse) && conditionIs(s, v1alpha1.ConditionReady, metav1.ConditionTrue)
		})
	})

	t.Run("a grant forced in against its tenant's rules gets a Warning Event saying it opens nothing", func(t *testing.T) {
		g := grant("kiwis", from("HTTPRoute", "rogue"), to("Service", "kiwi-echo"))
		g.Name = "outage-grant"
		h.forceCreate(t, g)
		defer h.delete(t, g)
		want := regexp.MustCompile(`Warning\s+NotAllowedByTenant\s+.*spec.from\[0\].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "kiwis".*The gateway ignores this grant: it opens nothing.`)
		stack.Eventually(t, policyLag, "a Warning Event on ReferenceGrant kiwis/outage-grant", func(context.Context) (bool, string) {
			out, err := h.s.Kubectl("", "describe", "referencegrant", "-n", "kiwis", "outage-grant")
			return err == nil && want.MatchString(strings.Join(strings.Fields(out), " ")), out
		})
	})

	restore()
	t.Run("with the webhook back, a violating route can be relabelled, with warnings, and deleted", func(t *testing.T) {
		violation := `spec.hostnames[0]: "limes.example.com" belongs to tenant "limes", not tenant "kiwis"; use a hostname listed in Tenant kiwis spec.hostnames`
		out := h.mustKubectl(t, "", "label", "httproute", "outage-hijack", "-n", "kiwis", "audited=yes")
		if want := "Warning: " + violation + "\nhttproute.gateway.networking.k8s.io/outage-hijack labeled\n"; out != want {
			t.Errorf("kubectl label printed:\n%s\nwant:\n%s", out, want)
		}
		out = h.mustKubectl(t, "", "delete", "httproute", "outage-hijack", "-n", "kiwis")
		if want := `httproute.gateway.networking.k8s.io "outage-hijack" deleted from kiwis namespace` + "\n"; out != want {
			t.Errorf("kubectl delete printed %q, want %q", out, want)
		}
		h.awaitTenant(t, "kiwis", "no violations", func(s v1alpha1.TenantStatus) bool { return len(s.Violations) == 0 })
	})
	h.delete(t, squat)
}

// awaitTenant waits until the Tenant's status satisfies ok and returns it.
func (h *harness) awaitTenant(t *testing.T, name, what string, ok func(v1alpha1.TenantStatus) bool) v1alpha1.Tenant {
	t.Helper()
	var got v1alpha1.Tenant
	stack.Eventually(t, policyLag, "Tenant "+name+" status: "+what, func(ctx context.Context) (bool, string) {
		if err := h.s.Client.Get(ctx, client.ObjectKey{Name: name}, &got); err != nil {
			return false, err.Error()
		}
		return ok(got.Status), fmt.Sprintf("%+v", got.Status)
	})
	return got
}

func conditionIs(s v1alpha1.TenantStatus, typ string, status metav1.ConditionStatus) bool {
	c := meta.FindStatusCondition(s.Conditions, typ)
	return c != nil && c.Status == status
}

// stopWebhook deletes the ValidatingWebhookConfigurations, as an outage
// would leave objects unchecked, and returns a function (safe to call
// twice) that puts them back and waits until the webhook answers again.
func (h *harness) stopWebhook(t *testing.T) (restore func()) {
	t.Helper()
	ctx := context.Background()
	var hooks admissionregistrationv1.ValidatingWebhookConfigurationList
	if err := h.s.Client.List(ctx, &hooks); err != nil {
		t.Fatal(err)
	}
	for i := range hooks.Items {
		if err := h.s.Client.Delete(ctx, &hooks.Items[i]); err != nil {
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
		for _, hook := range hooks.Items {
			hook.ObjectMeta = metav1.ObjectMeta{Name: hook.Name, Labels: hook.Labels, Annotations: hook.Annotations}
			if err := h.s.Client.Create(ctx, &hook); err != nil {
				t.Fatalf("restoring ValidatingWebhookConfiguration %s: %v", hook.Name, err)
			}
		}
		probe := route("rogue", named("webhook-probe"), parent("infra", "open", "http"), hosts("kiwis.example.com"))
		denial := applyOutput(probe, denied(`spec.hostnames[0]: "kiwis.example.com" is owned by tenant "kiwis" ("kiwis.example.com"), and namespace "rogue" belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant kiwis`), true)
		h.awaitAnswer(t, manifest(t, probe), func(out string) bool { return out == denial }, denial)
	}
}

// forceCreate creates obj once the API server no longer calls the webhook.
func (h *harness) forceCreate(t *testing.T, obj client.Object) {
	t.Helper()
	stack.Eventually(t, policyLag, "creating "+resourceName(obj)+" without the webhook", func(ctx context.Context) (bool, string) {
		err := client.IgnoreAlreadyExists(h.s.Client.Create(ctx, obj.DeepCopyObject().(client.Object)))
		return err == nil, fmt.Sprint(err)
	})
}

// columns splits kubectl's table of one row into (header, cell) pairs by
// the header's column positions, so cells may hold single spaces.
func columns(out string) ([][2]string, bool) {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != 2 {
		return nil, false
	}
	header, row := lines[0], lines[1]
	var starts []int
	for i := range header {
		if header[i] != ' ' && (i == 0 || header[i-1] == ' ') {
			starts = append(starts, i)
		}
	}
	var cells [][2]string
	for i, start := range starts {
		end := len(header)
		if i+1 < len(starts) {
			end = starts[i+1]
		}
		cell := ""
		if start < len(row) {
			cell = row[start:min(end, len(row))]
			if i+1 == len(starts) {
				cell = row[start:]
			}
		}
		cells = append(cells, [2]string{strings.TrimSpace(header[start:end]), strings.TrimSpace(cell)})
	}
	return cells, true
}
