package audit

import (
	"context"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/tenantgate/tenantgate/leadership"
)

func TestReconcileWritesOnlyWhileLeading(t *testing.T) {
	f := newFixture(t, interceptor.Funcs{})
	r := f.reconciler(t0.Time)
	r.Leadership = &leadership.State{}
	if _, err := r.Reconcile(context.Background(), allTenants); err != nil {
		t.Fatal(err)
	}
	if f.writes != 0 {
		t.Fatalf("a replica that does not lead wrote %d statuses", f.writes)
	}
	r.Leadership.Set(true)
	if _, err := r.Reconcile(context.Background(), allTenants); err != nil {
		t.Fatal(err)
	}
	if f.writes != 2 {
		t.Errorf("the leader wrote %d statuses, want 2", f.writes)
	}
}

func TestReconcileStopsWhenLeadershipIsLostMidAudit(t *testing.T) {
	lead := &leadership.State{}
	lead.Set(true)
	f := newFixture(t, interceptor.Funcs{
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			lead.Set(false) // the Lease is lost while this write is in flight
			return c.SubResource(sub).Update(ctx, obj, opts...)
		},
	})
	r := f.reconciler(t0.Time)
	r.Leadership = lead
	if _, err := r.Reconcile(context.Background(), allTenants); err != nil {
		t.Fatal(err)
	}
	if f.writes != 1 {
		t.Errorf("%d statuses written; want 1 (none after leadership was lost)", f.writes)
	}
}
