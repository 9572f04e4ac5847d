package webhook

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

func testPolicy(t testing.TB) *tenancy.Policy {
	t.Helper()
	data, err := os.ReadFile("testdata/policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var in tenancy.Inputs
	if err := yaml.UnmarshalStrict(data, &in); err != nil {
		t.Fatal(err)
	}
	return tenancy.NewPolicy(in)
}

// route is an HTTPRoute attached to infra/shared.
func route(ns string, hostnames ...gatewayv1.Hostname) *gatewayv1.HTTPRoute {
	gwNS := gatewayv1.Namespace("infra")
	r := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "r"}}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{{Namespace: &gwNS, Name: "shared"}}
	r.Spec.Hostnames = hostnames
	return r
}

const (
	bananasDenied = `spec.hostnames[0]: "bananas.example.com" is not owned by tenant "apples"; add it to Tenant apples spec.hostnames or use an owned hostname`
	cherriesWarn  = `spec.hostnames[0]: "bananas.example.com" is not owned by tenant "cherries"; add it to Tenant cherries spec.hostnames or use an owned hostname`
)

func TestHTTPRouteValidator(t *testing.T) {
	deleting := route("apples", "bananas.example.com")
	deleting.DeletionTimestamp = &metav1.Time{}
	relabelled := route("apples", "bananas.example.com")
	relabelled.Labels = map[string]string{"new": "label"}
	for _, tc := range []struct {
		name         string
		old, obj     *gatewayv1.HTTPRoute // old set: an update
		wantDenial   string
		wantWarnings []string
		wantResult   string
	}{
		{name: "owned hostname admitted", obj: route("apples", "apples.example.com"), wantResult: ResultAllowed},
		{name: "foreign hostname denied", obj: route("apples", "bananas.example.com"), wantDenial: bananasDenied, wantResult: ResultDenied},
		{name: "Warn mode admits with the violation as a warning", obj: route("cherries", "bananas.example.com"),
			wantWarnings: []string{cherriesWarn}, wantResult: ResultWarned},
		{name: "update into violation denied", old: route("apples", "apples.example.com"), obj: route("apples", "bananas.example.com"),
			wantDenial: bananasDenied, wantResult: ResultDenied},
		{name: "update that keeps a violating spec admitted with warnings", old: route("apples", "bananas.example.com"), obj: relabelled,
			wantWarnings: []string{bananasDenied}, wantResult: ResultWarned},
		{name: "spec change of an object being deleted still checked", old: route("apples", "apples.example.com"), obj: deleting,
			wantDenial: bananasDenied, wantResult: ResultDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m, err := NewMetrics(reg)
			if err != nil {
				t.Fatal(err)
			}
			v := NewHTTPRouteValidator(tenancy.Static(testPolicy(t)), m)
			var warnings []string
			operation := "create"
			if tc.old != nil {
				operation = "update"
				warnings, err = v.ValidateUpdate(context.Background(), tc.old, tc.obj)
			} else {
				warnings, err = v.ValidateCreate(context.Background(), tc.obj)
			}
			checkDenial(t, err, tc.wantDenial)
			if !slices.Equal(warnings, tc.wantWarnings) {
				t.Errorf("warnings = %q, want %q", warnings, tc.wantWarnings)
			}
			if got := counter(t, reg, "HTTPRoute", operation, tc.wantResult); got != 1 {
				t.Errorf("decisions{HTTPRoute,%s,%s} = %v, want 1", operation, tc.wantResult, got)
			}
		})
	}
}

// checkDenial asserts err is a 403 whose message is the violation lines
// (want), or nil when want is empty.
func checkDenial(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("denied: %v", err)
		}
		return
	}
	var status *apierrors.StatusError
	if !errors.As(err, &status) {
		t.Fatalf("error = %v, want a denial", err)
	}
	if status.ErrStatus.Code != 403 || status.ErrStatus.Message != want {
		t.Errorf("denial = %d %q, want 403 %q", status.ErrStatus.Code, status.ErrStatus.Message, want)
	}
	if d := status.ErrStatus.Details; d == nil || len(d.Causes) == 0 || d.Causes[0].Message != want {
		t.Errorf("denial causes = %+v, want one per violation", d)
	}
}

func TestDeleteAllowed(t *testing.T) {
	v := NewHTTPRouteValidator(tenancy.Static(testPolicy(t)), nil)
	if w, err := v.ValidateDelete(context.Background(), route("apples", "bananas.example.com")); err != nil || w != nil {
		t.Errorf("delete = %q, %v; want allowed", w, err)
	}
}

func TestPolicyUnavailable(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, _ := NewMetrics(reg)
	src := tenancy.SourceFunc(func(context.Context) (*tenancy.Policy, error) { return nil, errors.New("cache not synced") })
	_, err := NewHTTPRouteValidator(src, m).ValidateCreate(context.Background(), route("apples", "apples.example.com"))
	want := "tenantgate cannot check this HTTPRoute yet because its tenant policy is not loaded (cache not synced); retry in a few seconds"
	if !apierrors.IsServiceUnavailable(err) || err.Error() != want {
		t.Errorf("error = %v, want 503 %q", err, want)
	}
	if got := counter(t, reg, "HTTPRoute", "create", ResultError); got != 1 {
		t.Errorf("error decisions = %v, want 1", got)
	}
}

func TestReferenceGrantValidators(t *testing.T) {
	src := tenancy.Static(testPolicy(t))
	grant := &gatewayv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: "apples", Name: "g"}}
	grant.Spec.From = []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: "rogue"}}
	name := gatewayv1.ObjectName("apple-echo")
	grant.Spec.To = []gatewayv1.ReferenceGrantTo{{Kind: "Service", Name: &name}}
	want := `spec.from[0].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "apples" (allowed: infra); grant from an allowed namespace or add it to Tenant apples spec.referenceGrants.allowFromNamespaces`

	_, err := NewReferenceGrantValidator(src, nil).ValidateCreate(context.Background(), grant)
	checkDenial(t, err, want)
	_, err = NewReferenceGrantV1beta1Validator(src, nil).ValidateCreate(context.Background(), (*gatewayv1beta1.ReferenceGrant)(grant))
	checkDenial(t, err, want)

	grant.Spec.From[0].Namespace = "infra"
	if _, err := NewReferenceGrantValidator(src, nil).ValidateCreate(context.Background(), grant); err != nil {
		t.Errorf("allowed grant denied: %v", err)
	}
}

func TestTenantValidator(t *testing.T) {
	v := NewTenantValidator(tenancy.Static(testPolicy(t)), nil)
	grapes := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "grapes"}}
	grapes.Spec.Namespaces.Names = []v1alpha1.NamespaceName{"apples"}
	_, err := v.ValidateCreate(context.Background(), grapes)
	checkDenial(t, err, `spec.namespaces.names[0]: namespace "apples" is also claimed by tenant "apples"; a namespace belongs to at most one tenant, so remove it here or there`)

	grapes.Spec.Namespaces.Names = []v1alpha1.NamespaceName{"grapes"}
	if _, err := v.ValidateCreate(context.Background(), grapes); err != nil {
		t.Errorf("disjoint tenant denied: %v", err)
	}
}

func TestNewMetricsReusesRegisteredCollectors(t *testing.T) {
	reg := prometheus.NewRegistry()
	first, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewMetrics(reg)
	if err != nil {
		t.Fatalf("second registration: %v", err)
	}
	first.observe("Tenant", "create", ResultAllowed, "figs", 0)
	second.observe("Tenant", "create", ResultAllowed, "figs", 0)
	if got := counter(t, reg, "Tenant", "create", ResultAllowed); got != 2 {
		t.Errorf("decisions = %v, want 2 (shared collector)", got)
	}
}

// counter reads tenantgate_admission_decisions_total for one label set, and
// checks the latency histogram counted the same decisions.
func counter(t *testing.T, reg *prometheus.Registry, kind, operation, result string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var decisions float64
	var observed uint64
	for _, f := range families {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch {
			case f.GetName() == "tenantgate_admission_decisions_total" &&
				labels["kind"] == kind && labels["operation"] == operation && labels["result"] == result:
				decisions += m.GetCounter().GetValue()
			case f.GetName() == "tenantgate_admission_duration_seconds" && labels["kind"] == kind:
				observed = m.GetHistogram().GetSampleCount()
			}
		}
	}
	if uint64(decisions) != observed {
		t.Errorf("latency samples = %d, decisions = %v", observed, decisions)
	}
	return decisions
}

func TestListenerSetAndNamespaceValidators(t *testing.T) {
	src := tenancy.Static(testPolicy(t))
	ls := &gatewayv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: "cherries", Name: "ls"}}
	ls.Spec.ParentRef.Name = "shared"
	ns := gatewayv1.Namespace("infra")
	ls.Spec.ParentRef.Namespace = &ns
	host := gatewayv1.Hostname("apples.example.com")
	ls.Spec.Listeners = []gatewayv1.ListenerEntry{{Name: "web", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: &host}}
	takeover := `spec.listeners[0].hostname: "apples.example.com" belongs to tenant "apples", not tenant "cherries"; use a hostname listed in Tenant cherries spec.hostnames`
	notAttached := `spec.parentRef: the ListenerSet will not attach (Accepted=False/NotAllowed): Gateway infra/shared does not allow ListenerSets from namespace cherries: it allows none (allowedListeners.namespaces.from is None); change the Gateway's allowedListeners.`
	warnings, err := NewListenerSetValidator(src, nil).ValidateCreate(context.Background(), ls)
	if err != nil || !slices.Equal(warnings, []string{takeover, notAttached}) {
		t.Errorf("Warn-mode tenant: warnings %q, error %v; want the takeover and the attachment warning", warnings, err)
	}
	ls.Namespace = "apples"
	host = "cherries.example.com"
	_, err = NewListenerSetValidator(src, nil).ValidateCreate(context.Background(), ls)
	checkDenial(t, err, `spec.listeners[0].hostname: "cherries.example.com" belongs to tenant "cherries", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames`)

	v := NewNamespaceValidator(src, nil)
	moved := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cherries", Labels: map[string]string{"x": "y"}}}
	if _, err := v.ValidateUpdate(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cherries"}}, moved); err != nil {
		t.Errorf("a label no tenant selects was refused: %v", err)
	}
}
