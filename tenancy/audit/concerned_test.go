package audit

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// orchard is two tenants, a namespace of no tenant and a platform namespace.
const orchard = `
platformNamespaces: [infra]
namespaces:
- metadata: {name: apples}
- metadata: {name: grapes}
- metadata: {name: rogue}
- metadata: {name: infra}
tenants:
- metadata: {name: apples}
  spec:
    namespaces: {names: [apples]}
    hostnames: [{hostname: apples.example.com}]
- metadata: {name: grapes}
  spec:
    namespaces: {names: [grapes]}
    hostnames: [{hostname: grapes.example.com}]
`

func hostRoute(ns, name string, hosts ...gatewayv1.Hostname) *gatewayv1.HTTPRoute {
	return &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gatewayv1.HTTPRouteSpec{Hostnames: hosts}}
}

func TestConcernedBy(t *testing.T) {
	var in tenancy.Inputs
	if err := yaml.UnmarshalStrict([]byte(orchard), &in); err != nil {
		t.Fatal(err)
	}
	p := tenancy.NewPolicy(in)
	for _, tc := range []struct {
		name   string
		routes []client.Object // a route, or its versions before and after an update
		want   []string
	}{
		{"a route in a tenant's namespace concerns that tenant only",
			[]client.Object{hostRoute("apples", "r", "grapes.example.com")}, []string{"apples"}},
		{"a route of no tenant taking a hostname concerns the tenant that owns it",
			[]client.Object{hostRoute("rogue", "r", "grapes.example.com")}, []string{"grapes"}},
		{"a wildcard of no tenant concerns every tenant whose hostname it covers",
			[]client.Object{hostRoute("rogue", "r", "*.example.com")}, []string{"apples", "grapes"}},
		{"a route of no tenant giving a hostname back concerns its former victim",
			[]client.Object{hostRoute("rogue", "r", "grapes.example.com"), hostRoute("rogue", "r", "free.example.com")}, []string{"grapes"}},
		{"a route of no tenant moving from one victim to another concerns both, once each",
			[]client.Object{hostRoute("rogue", "r", "grapes.example.com"), hostRoute("rogue", "r", "apples.example.com", "grapes.example.com")},
			[]string{"apples", "grapes"}},
		{"a harmless route of no tenant concerns nobody",
			[]client.Object{hostRoute("rogue", "r", "free.example.com")}, nil},
		{"a route in a platform namespace concerns nobody",
			[]client.Object{hostRoute("infra", "r", "apples.example.com")}, nil},
	} {
		if got := concernedBy(p, routeChanges{routes: tc.routes}); !slices.Equal(got, tc.want) {
			t.Errorf("%s: tenants %v, want %v", tc.name, got, tc.want)
		}
	}
	again := routeChanges{routes: []client.Object{hostRoute("rogue", "r", "grapes.example.com")}, tenants: map[string]bool{"apples": true}}
	if got := concernedBy(p, again); !slices.Equal(got, []string{"apples", "grapes"}) {
		t.Errorf("with apples to audit again: tenants %v, want [apples grapes]", got)
	}
}

func TestReconcileOneTenant(t *testing.T) {
	f := newFixture(t, interceptor.Funcs{})
	m, err := NewMetrics(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	r := f.reconciler(t0.Time)
	r.Metrics = m
	if _, err := r.Reconcile(context.Background(), allTenants); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(m.ready); n != 2 {
		t.Fatalf("%d tenants have metrics after auditing all, want 2", n)
	}

	// A route created in apples: only apples' counts move.
	created := hostRoute("apples", "new", "apples.example.com")
	if err := f.client.Create(context.Background(), created); err != nil {
		t.Fatal(err)
	}
	f.writes = 0
	r.changedRoutes(created)
	res, err := r.Reconcile(context.Background(), concernedTenants)
	if err != nil || res != (reconcile.Result{}) {
		t.Fatalf("Reconcile(apples) = %+v, %v; want no requeue (the all-tenants item resyncs)", res, err)
	}
	if left := r.takeChanges(); len(left.routes)+len(left.tenants) != 0 {
		t.Errorf("changes still to audit after the audit: %+v", left)
	}
	if f.writes != 1 {
		t.Errorf("auditing apples wrote %d statuses, want 1", f.writes)
	}
	if got := f.tenant(t, "apples").Status.Summary.Routes; got != "0/1" {
		t.Errorf("apples routes %q, want 0/1 (the new route, pending)", got)
	}
	if got := f.tenant(t, "grapes").Status.Summary.Routes; got != "" {
		t.Errorf("grapes routes %q, want none (apples' route is not grapes')", got)
	}
	if n := testutil.CollectAndCount(m.ready); n != 2 {
		t.Errorf("%d tenants have metrics after auditing apples alone, want 2 (grapes' must stay)", n)
	}
	if got := testutil.ToFloat64(m.routes.WithLabelValues("apples", "HTTPRoute", "pending")); got != 1 {
		t.Errorf("apples' pending HTTPRoutes metric = %v, want 1", got)
	}

	for _, name := range []string{"limes", "nobody"} { // being deleted; gone
		f.writes = 0
		r.retry(routeChanges{tenants: map[string]bool{name: true}})
		if res, err := r.Reconcile(context.Background(), concernedTenants); err != nil || res != (reconcile.Result{}) || f.writes != 0 {
			t.Errorf("Reconcile(%s) = %+v, %v with %d writes; want nothing done", name, res, err, f.writes)
		}
	}

	// An audit of all tenants covers the routes changed before it.
	r.changedRoutes(hostRoute("grapes", "new"))
	if _, err := r.Reconcile(context.Background(), allTenants); err != nil {
		t.Fatal(err)
	}
	if left := r.takeChanges(); len(left.routes)+len(left.tenants) != 0 {
		t.Errorf("changes still to audit after an audit of all: %+v", left)
	}
}

func TestReconcileConcernedRetriesConflicts(t *testing.T) {
	tenants := schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "tenants"}
	f := newFixture(t, interceptor.Funcs{SubResourceUpdate: func(_ context.Context, _ client.Client, _ string, obj client.Object, _ ...client.SubResourceUpdateOption) error {
		if obj.GetName() == "grapes" {
			return apierrors.NewConflict(tenants, "grapes", errors.New("modified"))
		}
		return nil
	}})
	r := f.reconciler(t0.Time)
	r.changedRoutes(hostRoute("apples", "a"), hostRoute("grapes", "g"))
	res, err := r.Reconcile(context.Background(), concernedTenants)
	if err != nil || res.RequeueAfter != conflictRetry {
		t.Errorf("Reconcile = %+v, %v; want a retry after %s", res, err, conflictRetry)
	}
	if left := r.takeChanges(); len(left.routes) != 0 || len(left.tenants) != 1 || !left.tenants["grapes"] {
		t.Errorf("left to audit again: %+v, want tenant grapes alone (its write lost a race)", left)
	}
}

func TestRecordGrantsInScope(t *testing.T) {
	f := newFixture(t, interceptor.Funcs{})
	r := f.reconciler(t0.Time)
	r.Events = events.NewFakeRecorder(10)
	r.toldGrants = map[types.UID]toldGrant{
		"in-apples": {namespace: "apples", note: "told"},
		"in-grapes": {namespace: "grapes", note: "told"},
	}
	// An audit of apples finds no refused grant: only apples' is forgotten.
	r.recordGrants(context.Background(), map[types.NamespacedName]grantRefusal{}, map[string]bool{"apples": true})
	if _, ok := r.toldGrants["in-grapes"]; !ok || len(r.toldGrants) != 1 {
		t.Errorf("told grants after auditing apples: %v; want grapes' kept, apples' forgotten", r.toldGrants)
	}
	r.recordGrants(context.Background(), map[types.NamespacedName]grantRefusal{}, nil)
	if len(r.toldGrants) != 0 {
		t.Errorf("told grants after auditing all without refusals: %v; want none", r.toldGrants)
	}
}

func TestRouteHandlerRecordsChanges(t *testing.T) {
	r := &Reconciler{tally: newRouteTally()}
	h := r.routeHandler()
	waiting := httpIn("apples", "a", pending)
	h.OnAdd(waiting, false)
	if got := r.takeChanges().routes; !slices.Equal(got, []client.Object{waiting}) {
		t.Errorf("after an add: changed %v, want the route", got)
	}
	rewritten := waiting.DeepCopyObject().(client.Object)
	rewritten.SetResourceVersion("2") // a status write that moves nothing counted
	h.OnUpdate(waiting, rewritten)
	if got := r.takeChanges().routes; len(got) != 0 {
		t.Errorf("after a status write of the same state: changed %v, want none", got)
	}
	accepted := httpIn("apples", "a", served)
	h.OnUpdate(rewritten, accepted)
	if got := r.takeChanges().routes; !slices.Equal(got, []client.Object{rewritten, accepted}) {
		t.Errorf("after the route was served: changed %v, want both versions", got)
	}
	edited := accepted.DeepCopyObject().(client.Object)
	edited.SetGeneration(2)
	h.OnUpdate(accepted, edited)
	if got := r.takeChanges().routes; !slices.Equal(got, []client.Object{accepted, edited}) {
		t.Errorf("after a spec change: changed %v, want both versions", got)
	}
	h.OnDelete(toolscache.DeletedFinalStateUnknown{Key: "apples/a", Obj: edited})
	if got := r.takeChanges().routes; !slices.Equal(got, []client.Object{edited}) {
		t.Errorf("after a tombstone delete: changed %v, want its last version", got)
	}
	if got := r.tally.forNamespaces([]string{"apples"}); len(got) != 0 {
		t.Errorf("counts after the delete: %+v, want none", got)
	}
}
