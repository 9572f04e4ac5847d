package controller

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
	"github.com/tenantgate/tenantgate/leadership"
)

// classJob is a build whose desired status of GatewayClass "ours" says reason.
func classJob(reason string) *statusJob {
	gc := gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "ours", ResourceVersion: "1"}}
	return &statusJob{
		snapshot: &translate.Snapshot{GatewayClasses: []gatewayv1.GatewayClass{gc}},
		result: translate.Result{GatewayClasses: map[types.NamespacedName]gatewayv1.GatewayClassStatus{{Name: "ours"}: {
			Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: reason, Message: reason,
				LastTransitionTime: metav1.NewTime(time.Unix(0, 0))}},
		}}},
	}
}

// A replica that does not lead writes no status; once it leads it writes
// the latest build only, and nothing of the one that build replaced.
func TestStatusWriterWritesOnlyWhileLeading(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := gatewayv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		written []string
	)
	c := fake.NewClientBuilder().WithScheme(scheme).
		WithObjects(&gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "ours"}}).
		WithStatusSubresource(&gatewayv1.GatewayClass{}).
		WithInterceptorFuncs(interceptor.Funcs{SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			mu.Lock()
			written = append(written, obj.(*gatewayv1.GatewayClass).Status.Conditions[0].Reason)
			mu.Unlock()
			return c.SubResource(sub).Update(ctx, obj, opts...)
		}}).Build()
	lead := &leadership.State{}
	r := &Reconciler{Writer: c, Leadership: lead, Log: logr.Discard()}
	if err := r.init(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- statusWriter{r}.Start(ctx) }()
	defer func() { cancel(); <-done }()

	r.statuses.submit(classJob("Older"))
	r.statuses.submit(classJob("Latest"))
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	if len(written) != 0 {
		t.Errorf("a replica that does not lead wrote %v", written)
	}
	mu.Unlock()

	lead.Set(true)
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(written) > 0 })
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(written) != 1 || written[0] != "Latest" {
		t.Errorf("the new leader wrote %v; want only the latest build's status", written)
	}
}
