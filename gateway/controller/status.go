package controller

import (
	"cmp"
	"context"
	"errors"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// statusWriters bounds the status updates in flight: thousands of new routes
// are written in parallel, within the client's rate limit.
const statusWriters = 16

// writeStatus updates every owned object whose desired status differs from
// the cached one; unchanged objects cost no API call. A conflict means the
// cache is behind: the update event requeues the reconcile.
func (r *Reconciler) writeStatus(ctx context.Context, j *statusJob, res translate.Result) error {
	s := j.snapshot
	ours := r.controllerName()
	var updates []statusUpdate
	updates = append(updates, changed(pointers(s.GatewayClasses), lookup(res.GatewayClasses),
		func(o *gatewayv1.GatewayClass) *gatewayv1.GatewayClassStatus { return &o.Status }, translate.MergeGatewayClassStatus, gatewayClassFacts, nil)...)
	updates = append(updates, changed(pointers(s.Gateways), lookup(res.Gateways),
		func(o *gatewayv1.Gateway) *gatewayv1.GatewayStatus { return &o.Status }, translate.MergeGatewayStatus, gatewayFacts, nil)...)
	routes := r.routeStatusPass()
	updates = append(updates, routes.updates(s, j.routeChanges, res, ours)...)
	updates = append(updates, grpcRouteUpdates(s, res, ours)...)
	updates = append(updates, tlsRouteUpdates(s, res, ours)...)
	updates = append(updates, changed(pointers(s.ListenerSets), lookup(res.ListenerSets),
		func(o *gatewayv1.ListenerSet) *gatewayv1.ListenerSetStatus { return &o.Status }, translate.MergeListenerSetStatus, listenerSetFacts, nil)...)
	updates = append(updates, changed(pointers(s.BackendTLSPolicies), lookup(res.BackendTLSPolicies),
		func(o *gatewayv1.BackendTLSPolicy) *gatewayv1.PolicyStatus { return &o.Status },
		func(current, desired gatewayv1.PolicyStatus) gatewayv1.PolicyStatus {
			return translate.MergePolicyStatus(current, desired, ours)
		}, policyFacts(ours), nil)...)
	err := r.updateAll(ctx, updates)
	if err != nil && ctx.Err() != nil {
		routes.failed() // cut short: some routes were not tried
	}
	return err
}

// routeStatusPass is the status writer's, made on first use.
func (r *Reconciler) routeStatusPass() *routeStatusPass {
	if r.routeStatuses == nil {
		r.routeStatuses = newRouteStatusPass()
	}
	return r.routeStatuses
}

// statusUpdate is one object to write, with the not-programmed facts its new
// status states that its current status did not.
type statusUpdate struct {
	obj   client.Object
	facts []fact
	// written tells the memo, once obj's update succeeded (obj then holds
	// the new resourceVersion); nil without a memo. failed, when not nil,
	// notes a failed update for the next pass.
	written, failed func()
}

// changed returns copies, with the merged status, of the items whose status
// (desired gives it by key) would change; the snapshot itself is left as it was. memo, when not nil,
// skips the items found unchanged before (statusmemo.go); a caller passing
// every item brackets the call with memo.begin and memo.end.
func changed[T any, P interface {
	*T
	client.Object
}, S any](items []P, desired func(types.NamespacedName) (S, bool), status func(P) *S, merge func(current, desired S) S, facts func(*S) []fact, memo *statusMemo[S]) []statusUpdate {
	var out []statusUpdate
	for _, obj := range items {
		key := types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}
		want, ok := desired(key)
		if !ok || memo.satisfied(key, obj.GetResourceVersion(), want) {
			continue
		}
		next := merge(*status(obj), want)
		if equality.Semantic.DeepEqual(*status(obj), next) {
			memo.record(key, obj.GetResourceVersion(), want)
			continue
		}
		// One deep copy of the object with its new status: the merge shares
		// pointers with the build's desired status, and Update decodes the
		// server's answer into the object it is given.
		item := *obj
		*status(P(&item)) = next
		cp := P(&item).DeepCopyObject().(P)
		u := statusUpdate{obj: cp, facts: newFacts(facts(status(obj)), facts(&next))}
		if memo != nil {
			over := obj.GetResourceVersion()
			u.written = func() { memo.written(key, over, cp.GetResourceVersion(), want) }
		}
		out = append(out, u)
	}
	return out
}

// lookup finds desired statuses in a map.
func lookup[S any](m map[types.NamespacedName]S) func(types.NamespacedName) (S, bool) {
	return func(key types.NamespacedName) (S, bool) {
		st, ok := m[key]
		return st, ok
	}
}

// pointers views a snapshot's slice of objects as changed takes them.
func pointers[T any](items []T) []*T {
	out := make([]*T, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	return out
}

// updateAll writes the statuses with a bounded number of requests in flight.
func (r *Reconciler) updateAll(ctx context.Context, updates []statusUpdate) error {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
		written []func()
		failed  []func()
		sem     = make(chan struct{}, statusWriters)
	)
	for _, u := range updates {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err()) // leadership lost or shutting down
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := r.update(ctx, u.obj)
			if errors.Is(err, errGone) {
				return
			}
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				if u.failed != nil {
					failed = append(failed, u.failed)
				}
				mu.Unlock()
				return
			}
			if u.written != nil {
				mu.Lock()
				written = append(written, u.written)
				mu.Unlock()
			}
			r.recordNotProgrammed(u)
		}()
	}
	wg.Wait()
	for _, w := range append(written, failed...) {
		w() // the memo and the pass are the writer goroutine's alone
	}
	return errors.Join(errs...)
}

// errGone marks an update of an object deleted meanwhile: nothing to retry.
var errGone = errors.New("object deleted")

// recordNotProgrammed emits one Warning Event on an object whose status now
// states facts it did not state before. It runs only after that status was
// written, so it runs on the leader only and a steady state, a restart or a
// new leader (the status already says it) emits nothing; a replica that
// lost leadership meanwhile leaves it to the new leader.
func (r *Reconciler) recordNotProgrammed(u statusUpdate) {
	if r.Events == nil || len(u.facts) == 0 || !r.Leadership.Leading() {
		return
	}
	reason := cmp.Or(u.facts[0].reason, "NotProgrammed")
	r.Events.Eventf(u.obj, nil, corev1.EventTypeWarning, reason, "Program", "%s", eventNote(u.facts))
}

func (r *Reconciler) update(ctx context.Context, obj client.Object) error {
	err := r.Writer.Status().Update(ctx, obj)
	if apierrors.IsNotFound(err) {
		return errGone // deleted meanwhile
	}
	if apierrors.IsConflict(err) {
		r.Log.V(1).Info("status conflict; the newer object will be reconciled", "object", client.ObjectKeyFromObject(obj).String())
	}
	return err
}
