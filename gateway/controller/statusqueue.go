package controller

import (
	"context"
	"errors"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// statusJob is one build's desired status, with the snapshot it came from.
type statusJob struct {
	snapshot *translate.Snapshot
	result   translate.Result
	// routeChanges is what changed among the HTTPRoutes since the job
	// before it was submitted (of every job it replaced, too); nil when unknown.
	routeChanges *translate.RouteChanges
	// done is called once nothing reads the job any more: written,
	// replaced by a newer job or dropped. Nil: nothing to do.
	done func()
}

// finish calls the job's done once.
func (j *statusJob) finish() {
	if j.done != nil {
		j.done()
		j.done = nil
	}
}

// statusQueue hands the latest build to the status writer. Only the newest
// job matters: an older one still waiting is replaced, never written.
type statusQueue struct {
	mu  sync.Mutex
	job *statusJob
	// merged carries what changed since the first of the jobs the queued
	// one replaced (whose own routeChanges is then nil), so a replacement
	// costs its own changes, not all those carried so far; nil when no job
	// was replaced or the changes are not known, as the queued job's nil
	// routeChanges then says too.
	merged *routeChangeSet
	wake   chan struct{}
}

func newStatusQueue() *statusQueue { return &statusQueue{wake: make(chan struct{}, 1)} }

func (q *statusQueue) submit(j *statusJob) {
	q.mu.Lock()
	replaced := q.job
	if replaced != nil {
		if q.merged == nil {
			q.merged = newRouteChangeSet(replaced.routeChanges)
		}
		q.merged, j.routeChanges = q.merged.add(j.routeChanges), nil
	}
	q.job = j
	q.mu.Unlock()
	if replaced != nil {
		replaced.finish() // never written: the writer takes only the queued job
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// retry puts j back unless a newer job arrived meanwhile.
func (q *statusQueue) retry(j *statusJob) {
	q.mu.Lock()
	kept := q.job == nil
	if kept {
		q.job, q.merged = j, nil
	}
	q.mu.Unlock()
	if !kept {
		j.finish()
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *statusQueue) take(ctx context.Context) *statusJob {
	for {
		q.mu.Lock()
		j := q.job
		if j != nil && q.merged != nil {
			j.routeChanges = q.merged.changes()
		}
		q.job, q.merged = nil, nil
		q.mu.Unlock()
		if j != nil {
			return j
		}
		select {
		case <-ctx.Done():
			return nil
		case <-q.wake:
		}
	}
}

// statusWriter writes status (and the Gateways' Services) off the reconcile's path, so a burst of status
// updates never delays the next table swap. It runs on every replica but
// writes only while the replica leads: losing leadership stops the writing
// mid-flight, and the latest job is written once it leads again.
type statusWriter struct{ r *Reconciler }

func (w statusWriter) Start(ctx context.Context) error {
	for {
		lctx, cancel, err := w.r.Leadership.Lead(ctx)
		if err != nil {
			return nil
		}
		w.writeWhileLeading(lctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
	}
}

// writeWhileLeading writes the latest job until ctx ends (leadership lost
// or shutdown); a job cut short is kept unless a newer one replaced it.
func (w statusWriter) writeWhileLeading(ctx context.Context) {
	w.r.routeStatusPass().failed() // another leader may have written meanwhile
	for {
		j := w.r.statuses.take(ctx)
		if j == nil {
			return
		}
		failures, err := w.r.syncServices(ctx, j.snapshot, j.result)
		err = errors.Join(err, w.r.writeStatus(ctx, j, withInfrastructureFailures(j.result, failures)))
		if ctx.Err() != nil {
			w.r.statuses.retry(j)
			return
		}
		if err != nil {
			w.r.Log.V(1).Info("status write failed; retrying unless a newer build supersedes it", "error", err.Error())
			select {
			case <-ctx.Done():
			case <-time.After(retryAfter(err)):
			}
			w.r.statuses.retry(j)
			continue
		}
		j.finish()
	}
}

// retryAfter is how long the writer waits before writing a failed job
// again: a conflict only means the cache has not yet delivered the newer
// object (whose event brings a newer job), so it waits a moment, not the
// second any other failure waits.
func retryAfter(err error) time.Duration {
	conflicts := true
	for _, e := range flatten(err) {
		conflicts = conflicts && apierrors.IsConflict(e)
	}
	if conflicts {
		return 100 * time.Millisecond
	}
	return time.Second
}

// flatten is the errors errors.Join joined, at any depth, or err.
func flatten(err error) []error {
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// NeedLeaderElection is false: the writer waits for Leadership itself, so
// the manager never needs (nor exits on losing) a Lease.
func (statusWriter) NeedLeaderElection() bool { return false }
