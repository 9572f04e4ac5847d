package controller

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/gateway/translate"
)

// A failing reconcile of the single work item is retried with exponential
// backoff by the real controller-runtime queue, not in a hot loop; the next
// success resets it.
func TestReconcileErrorsBackOff(t *testing.T) {
	var (
		mu    sync.Mutex
		calls []time.Time
		fail  = true
	)
	opts := controllerOptions()
	opts.SkipNameValidation = ptr.To(true)
	opts.Reconciler = reconcile.Func(func(context.Context, reconcile.Request) (reconcile.Result, error) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, time.Now())
		if fail {
			return reconcile.Result{}, errors.New("compiling the route table: boom")
		}
		return reconcile.Result{}, nil
	})
	c, err := crcontroller.NewUnmanaged("backoff", opts)
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan event.GenericEvent, 1)
	all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request { return []reconcile.Request{everything} })
	if err := c.Watch(source.Channel(events, all)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Start(ctx) }()
	defer func() { cancel(); <-done }()

	events <- event.GenericEvent{Object: &corev1.Namespace{}}
	const window = 3 * time.Second
	time.Sleep(window)
	mu.Lock()
	n := len(calls)
	var gaps []time.Duration
	for i := 1; i < len(calls); i++ {
		gaps = append(gaps, calls[i].Sub(calls[i-1]))
	}
	mu.Unlock()
	t.Logf("figures: %d reconciles in %v of constant failure; gaps %v", n, window, gaps)
	// 100ms doubling: attempts at about 0, 0.1, 0.3, 0.7, 1.5 and 3.1s.
	if n < 4 || n > 7 {
		t.Errorf("%d reconciles in %v; want 4 to 7 (retried, with backoff from %v doubling)", n, window, backoffBase)
	}
	for i := 1; i < len(gaps); i++ {
		if gaps[i] < gaps[i-1]*3/2 {
			t.Errorf("retry %d waited %v after a wait of %v; want the wait to double", i+1, gaps[i], gaps[i-1])
		}
	}

	// A success forgets the failures: the next failure waits backoffBase again.
	mu.Lock()
	fail = false
	mu.Unlock()
	events <- event.GenericEvent{Object: &corev1.Namespace{}}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == n+1 })
	mu.Lock()
	fail = true
	mu.Unlock()
	events <- event.GenericEvent{Object: &corev1.Namespace{}}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(calls) == n+3 })
	mu.Lock()
	if gap := calls[n+2].Sub(calls[n+1]); gap > 10*backoffBase {
		t.Errorf("after a success, the first retry waited %v; want about %v", gap, backoffBase)
	}
	mu.Unlock()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// recordingDataPlane remembers the tables it was given.
type recordingDataPlane struct{ tables []*routetable.Table }

func (d *recordingDataPlane) Apply(t *routetable.Table) map[string]error {
	d.tables = append(d.tables, t)
	return nil
}

// A panic in Build is recovered by the reconciler itself: the data plane
// keeps its last good table, the panic is counted and logged as a bug with
// the snapshot's size, and the error is returned so the retry backs off.
func TestBuildPanicKeepsTheLastGoodTable(t *testing.T) {
	var logged strings.Builder
	dp := &recordingDataPlane{}
	r := &Reconciler{DataPlane: dp, Log: funcr.New(func(prefix, args string) { logged.WriteString(args + "\n") }, funcr.Options{})}
	reg := prometheus.NewRegistry()
	r.Registerer = reg
	if err := r.init(); err != nil {
		t.Fatal(err)
	}
	s := &translate.Snapshot{}
	if _, err := r.program(s); err != nil {
		t.Fatalf("a good build failed: %v", err)
	}
	if len(dp.tables) != 1 {
		t.Fatalf("data plane got %d tables, want 1", len(dp.tables))
	}

	r.build = func(*translate.Snapshot) translate.Result {
		var m map[string]int
		m["boom"]++ // a nil map write: the kind of bug Build must never hide
		return translate.Result{}
	}
	_, err := r.program(&translate.Snapshot{HTTPRoutes: []*gatewayv1.HTTPRoute{{}, {}, {}}})
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("program returned %v; want the recovered panic as an error", err)
	}
	if len(dp.tables) != 1 {
		t.Errorf("data plane got %d tables after the panic, want still 1 (the last good one)", len(dp.tables))
	}
	if got := counterValue(t, r.metrics.buildPanics); got != 1 {
		t.Errorf("tenantgate_gateway_build_panics_total = %v, want 1", got)
	}
	if got := counterValue(t, r.metrics.rebuilds); got != 2 {
		t.Errorf("tenantgate_gateway_rebuilds_total = %v, want 2", got)
	}
	for _, want := range []string{"BUG", "assignment to entry in nil map", `"HTTPRoute"=3`, "stack"} {
		if !strings.Contains(logged.String(), want) {
			t.Errorf("the log does not mention %q:\n%s", want, logged.String())
		}
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
