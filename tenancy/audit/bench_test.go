package audit

import (
	"context"
	"fmt"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// memStore is the cache as the audit reads it, in memory, so the
// benchmark times the audit rather than a fake API: Tenants are copied out
// as the cache copies them, routes listed as the cache lists them without
// deep copies.
type memStore struct {
	tenants map[string]*v1alpha1.Tenant
	names   []string // sorted
	routes  []gatewayv1.HTTPRoute
}

func (m *memStore) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	t, ok := m.tenants[key.Name]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Resource: "tenants"}, key.Name)
	}
	t.DeepCopyInto(obj.(*v1alpha1.Tenant))
	return nil
}

func (m *memStore) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	switch l := list.(type) {
	case *v1alpha1.TenantList:
		l.Items = make([]v1alpha1.Tenant, len(m.names))
		for i, n := range m.names {
			m.tenants[n].DeepCopyInto(&l.Items[i])
		}
	case *gatewayv1.HTTPRouteList:
		l.Items = slices.Clone(m.routes)
	default:
		return fmt.Errorf("memStore lists no %T", list)
	}
	return nil
}

func (m *memStore) Status() client.SubResourceWriter { return statusWriter{m: m} }

type statusWriter struct {
	client.SubResourceWriter
	m *memStore
}

func (w statusWriter) Update(_ context.Context, obj client.Object, _ ...client.SubResourceUpdateOption) error {
	t := obj.(*v1alpha1.Tenant)
	w.m.tenants[t.Name] = t.DeepCopy()
	return nil
}

// benchWorld is the large bench: 2,000 tenants, each owning one
// namespace and five routes there, and 10,000 more routes over 100
// namespaces of no tenant: 20,000 routes.
func benchWorld() (*memStore, *tenancy.Policy) {
	const tenants, perTenant, shared, sharedNamespaces = 2000, 5, 10000, 100
	m := &memStore{tenants: map[string]*v1alpha1.Tenant{}}
	var in tenancy.Inputs
	gwNS := gatewayv1.Namespace("infra")
	route := func(ns, name, host string) gatewayv1.HTTPRoute {
		r := gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1}}
		r.Spec.ParentRefs = []gatewayv1.ParentReference{{Namespace: &gwNS, Name: "bench"}}
		r.Spec.Hostnames = []gatewayv1.Hostname{gatewayv1.Hostname(host)}
		r.Status.Parents = parentsIn(served)
		return r
	}
	for i := range tenants {
		name := fmt.Sprintf("t%04d", i)
		t := v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1}}
		t.Spec.Namespaces.Names = []v1alpha1.NamespaceName{v1alpha1.NamespaceName(name)}
		t.Spec.Hostnames = []v1alpha1.OwnedHostname{{Hostname: v1alpha1.Hostname(name + ".bench.test")}}
		in.Tenants = append(in.Tenants, t)
		in.Namespaces = append(in.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
		m.tenants[name] = &in.Tenants[len(in.Tenants)-1]
		m.names = append(m.names, name)
		for j := range perTenant {
			m.routes = append(m.routes, route(name, fmt.Sprintf("app-%d", j), name+".bench.test"))
		}
	}
	for i := range sharedNamespaces {
		in.Namespaces = append(in.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%02d", i)}})
	}
	for i := range shared {
		m.routes = append(m.routes, route(fmt.Sprintf("bench-%02d", i%sharedNamespaces), fmt.Sprintf("r-%05d", i), fmt.Sprintf("r-%05d.bench.test", i)))
	}
	in.HTTPRoutes = pointersTo(m.routes)
	return m, tenancy.NewPolicy(in)
}

// BenchmarkAudit times the audit's work for one route change at 20,000
// routes and 2,000 tenants (statuses already written, so nothing is
// written): before, an audit of every tenant counting routes by listing
// them; after, the tally's update and an audit of the route's tenant. The
// policy is the same across iterations, so its own audit of the existing
// routes (Policy.TenantStatus, once per policy) is not timed here; see
// policy-audit.
func BenchmarkAudit(b *testing.B) {
	m, p := benchWorld()
	ctx := context.Background()
	newReconciler := func() *Reconciler {
		return &Reconciler{Reader: m, Writer: m, Policy: tenancy.Static(p)}
	}
	if _, err := newReconciler().Reconcile(ctx, allTenants); err != nil { // write every status once
		b.Fatal(err)
	}
	old := &m.routes[5*1234]
	changed := old.DeepCopy()
	changed.Status.Parents = parentsIn(refused)

	b.Run("before/all-tenants-listing", func(b *testing.B) {
		r := newReconciler()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.Reconcile(ctx, allTenants); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("after/one-tenant-tally", func(b *testing.B) {
		r := newReconciler()
		r.tally = newRouteTally()
		h := r.routeHandler()
		for i := range m.routes {
			h.OnAdd(&m.routes[i], true)
		}
		r.tally.synced = []func() bool{func() bool { return true }}
		r.takeChanges() // the initial list: covered by the audit of all tenants above
		from, to := client.Object(old), client.Object(changed)
		b.ReportAllocs()
		for b.Loop() {
			h.OnUpdate(from, to) // the route moves between states and back, so statuses are written each time
			from, to = to, from
			if _, err := r.Reconcile(ctx, concernedTenants); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("policy-audit", func(b *testing.B) {
		// What a route change costs in the policy (tenancy, not this
		// package): a new policy's audit of every existing route.
		b.ReportAllocs()
		for b.Loop() {
			p.WithRoutes(func() tenancy.Routes { return tenancy.Routes{HTTPRoutes: pointersTo(m.routes)} }).TenantStatus("t1234")
		}
	})
}

// pointersTo views the benchmark's routes as a policy's Inputs hold them.
func pointersTo[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}
