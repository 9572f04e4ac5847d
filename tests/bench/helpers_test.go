package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// parallel runs fn(0..n-1) on workers goroutines and returns the first
// error; after one, the remaining indexes are skipped.
func parallel(n, workers int, fn func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err })
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	return first
}

// create creates obj, tolerating one that exists and retrying what a busy
// API server or webhook may refuse for a moment (timeouts, throttling).
func (e *env) create(ctx context.Context, obj client.Object) error {
	var err error
	for attempt := range 5 {
		err = e.c.Create(ctx, obj.DeepCopyObject().(client.Object))
		if err == nil || apierrors.IsAlreadyExists(err) {
			return nil
		}
		if apierrors.IsInvalid(err) || apierrors.IsForbidden(err) && !apierrors.IsTooManyRequests(err) {
			break // a denial will not change
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	return fmt.Errorf("creating %T %s/%s: %w", obj, obj.GetNamespace(), obj.GetName(), err)
}

// patchRules replaces the route's rules with a JSON merge patch: no
// resourceVersion, so the controller's status writes never conflict with it.
func (e *env) patchRules(ctx context.Context, route *gatewayv1.HTTPRoute, opts ...client.PatchOption) error {
	patch, err := json.Marshal(map[string]any{"spec": map[string]any{"rules": route.Spec.Rules}})
	if err != nil {
		return err
	}
	target := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: route.Namespace, Name: route.Name}}
	return e.c.Patch(ctx, target, client.RawPatch(types.MergePatchType, patch), opts...)
}

// deleteSet deletes every route of a set, namespace by namespace.
func (e *env) deleteSet(b *testing.B, set string) {
	err := parallel(routeNamespaces, 8, func(i int) error {
		return e.c.DeleteAllOf(context.Background(), &gatewayv1.HTTPRoute{}, client.InNamespace(routeNamespace(i)), client.MatchingLabels{setLabel: set})
	})
	if err != nil {
		b.Fatalf("deleting the routes of set %s: %v", set, err)
	}
}

func ioDiscard(resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(io.Discard, resp.Body)
}

// acceptedWatch notes when each route of a set first shows Accepted=True
// from tenantgate. It watches rather than lists, so it keeps no copies.
type acceptedWatch struct {
	want int
	mu   sync.Mutex
	seen map[types.NamespacedName]time.Time
	last time.Time
	done chan struct{}
}

func (e *env) watchAccepted(b *testing.B, set string, want int) *acceptedWatch {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	a := &acceptedWatch{want: want, seen: map[types.NamespacedName]time.Time{}, done: make(chan struct{})}
	go func() {
		defer close(a.done)
		if err := a.run(ctx, e.c, set); err != nil && ctx.Err() == nil {
			b.Errorf("watching routes of set %s for Accepted: %v", set, err)
		}
	}()
	return a
}

// run follows the watch, re-opening it from the last version seen if the
// API server ends it, until every route was seen Accepted.
func (a *acceptedWatch) run(ctx context.Context, wc client.WithWatch, set string) error {
	version := ""
	for ctx.Err() == nil {
		w, err := wc.Watch(ctx, &gatewayv1.HTTPRouteList{}, client.MatchingLabels{setLabel: set}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: version}})
		if err != nil {
			return err
		}
		for ev := range w.ResultChan() {
			r, ok := ev.Object.(*gatewayv1.HTTPRoute)
			if !ok || ev.Type == watch.Deleted {
				continue
			}
			version = r.ResourceVersion
			if a.note(r, time.Now()) {
				w.Stop()
				return nil
			}
		}
	}
	return ctx.Err()
}

// note records r if it is newly Accepted and says whether all are.
func (a *acceptedWatch) note(r *gatewayv1.HTTPRoute, now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
	if _, ok := a.seen[key]; !ok && accepted(r) {
		a.seen[key] = now
		a.last = now
	}
	return len(a.seen) >= a.want
}

func accepted(r *gatewayv1.HTTPRoute) bool {
	for _, p := range r.Status.Parents {
		if p.ControllerName == controllerName && meta.IsStatusConditionTrue(p.Conditions, string(gatewayv1.RouteConditionAccepted)) {
			return true
		}
	}
	return false
}

// wait returns when the last route was first seen Accepted, or the
// deadline and how many routes were not Accepted by then.
func (a *acceptedWatch) wait(deadline time.Time) (time.Time, int) {
	select {
	case <-a.done:
	case <-time.After(time.Until(deadline)):
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if missing := a.want - len(a.seen); missing > 0 {
		return deadline, missing
	}
	return a.last, 0
}
