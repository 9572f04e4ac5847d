package audit

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// world is two tenants that both claim apples.example.com (as if one was
// forced in past the webhook) and a route of apples that takes a hostname
// it does not own.
const world = `
namespaces:
- metadata: {name: apples}
- metadata: {name: grapes}
tenants:
- metadata: {name: apples, generation: 1}
  spec:
    namespaces: {names: [apples]}
    hostnames: [{hostname: apples.example.com}]
- metadata: {name: grapes, generation: 3}
  spec:
    namespaces: {names: [grapes]}
    hostnames: [{hostname: apples.example.com}]
- metadata: {name: limes, generation: 1, deletionTimestamp: "2026-11-25T09:00:00Z", finalizers: [example.com/hold]}
  spec:
    namespaces: {names: [limes]}
httpRoutes:
- metadata: {namespace: apples, name: hijack}
  spec:
    hostnames: [bananas.example.com]
`

// fixture is a fake API holding the world, the policy of the same world,
// and a count of status writes.
type fixture struct {
	client client.Client
	policy *tenancy.Policy
	writes int
}

func newFixture(t *testing.T, funcs interceptor.Funcs) *fixture {
	t.Helper()
	var in tenancy.Inputs
	if err := yaml.UnmarshalStrict([]byte(world), &in); err != nil {
		t.Fatal(err)
	}
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, gatewayv1.Install, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixture{policy: tenancy.NewPolicy(in)}
	var objs []client.Object
	for i := range in.Tenants {
		objs = append(objs, &in.Tenants[i])
	}
	update := funcs.SubResourceUpdate
	funcs.SubResourceUpdate = func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
		f.writes++
		if update != nil {
			return update(ctx, c, sub, obj, opts...)
		}
		return c.SubResource(sub).Update(ctx, obj, opts...)
	}
	f.client = fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).
		WithStatusSubresource(&v1alpha1.Tenant{}).WithInterceptorFuncs(funcs).Build()
	return f
}

func (f *fixture) reconciler(now time.Time) *Reconciler {
	return &Reconciler{
		Reader: f.client, Writer: f.client, Now: func() time.Time { return now },
		Policy: tenancy.SourceFunc(func(context.Context) (*tenancy.Policy, error) { return f.policy, nil }),
	}
}

func (f *fixture) tenant(t *testing.T, name string) *v1alpha1.Tenant {
	t.Helper()
	var tenant v1alpha1.Tenant
	if err := f.client.Get(context.Background(), client.ObjectKey{Name: name}, &tenant); err != nil {
		t.Fatal(err)
	}
	return &tenant
}

func TestReconcileWritesChangedStatusOnly(t *testing.T) {
	f := newFixture(t, interceptor.Funcs{})
	res, err := f.reconciler(t0.Time).Reconcile(context.Background(), allTenants)
	if err != nil || res.RequeueAfter != DefaultResync {
		t.Fatalf("Reconcile = %+v, %v; want a resync after %s", res, err, DefaultResync)
	}
	if f.writes != 2 {
		t.Errorf("status writes = %d, want 2 (apples and grapes; limes is being deleted)", f.writes)
	}
	apples := f.tenant(t, "apples")
	if c := meta.FindStatusCondition(apples.Status.Conditions, v1alpha1.ConditionHostnameConflict); c == nil || c.Status != metav1.ConditionTrue || !c.LastTransitionTime.Equal(&t0) {
		t.Errorf("apples HostnameConflict = %+v, want True since %s", c, t0)
	}
	if v := apples.Status.Violations; len(v) != 1 || v[0].Name != "hijack" {
		t.Errorf("apples violations = %+v, want the hijack route", v)
	}
	if c := meta.FindStatusCondition(f.tenant(t, "grapes").Status.Conditions, v1alpha1.ConditionReady); c == nil || c.ObservedGeneration != 3 {
		t.Errorf("grapes Ready = %+v, want observedGeneration 3", c)
	}
	if s := f.tenant(t, "limes").Status; len(s.Conditions) != 0 {
		t.Errorf("a Tenant being deleted got a status: %+v", s)
	}

	// Nothing changed an hour later: no writes, times kept.
	f.writes = 0
	if _, err := f.reconciler(t1.Time).Reconcile(context.Background(), allTenants); err != nil {
		t.Fatal(err)
	}
	if f.writes != 0 {
		t.Errorf("status writes with nothing changed = %d, want 0", f.writes)
	}
}

func TestReconcileWithoutPolicy(t *testing.T) {
	f := newFixture(t, interceptor.Funcs{})
	r := f.reconciler(t0.Time)
	r.Policy = tenancy.SourceFunc(func(context.Context) (*tenancy.Policy, error) { return nil, errors.New("cache not synced") })
	_, err := r.Reconcile(context.Background(), allTenants)
	if want := "auditing tenants: the tenant policy is not loaded yet: cache not synced"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if f.writes != 0 {
		t.Errorf("status writes without a policy = %d, want 0", f.writes)
	}
}

func TestReconcileWriteFailures(t *testing.T) {
	tenants := schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "tenants"}
	for _, tc := range []struct {
		name      string
		err       error
		wantAfter time.Duration
		wantErr   bool
	}{
		{"a lost race is retried soon", apierrors.NewConflict(tenants, "apples", errors.New("modified")), conflictRetry, false},
		{"a deleted tenant is skipped", apierrors.NewNotFound(tenants, "apples"), DefaultResync, false},
		{"other errors are returned", apierrors.NewForbidden(tenants, "apples", errors.New("no RBAC")), 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, interceptor.Funcs{SubResourceUpdate: func(context.Context, client.Client, string, client.Object, ...client.SubResourceUpdateOption) error {
				return tc.err
			}})
			res, err := f.reconciler(t0.Time).Reconcile(context.Background(), allTenants)
			if (err != nil) != tc.wantErr || res.RequeueAfter != tc.wantAfter {
				t.Errorf("Reconcile = %+v, %v; want requeue after %s, error %v", res, err, tc.wantAfter, tc.wantErr)
			}
		})
	}
}

var _ reconcile.Reconciler = (*Reconciler)(nil)
