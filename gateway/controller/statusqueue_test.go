package controller

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// TestStatusQueueFinishesEveryJobOnce: a job replaced before the writer
// took it, and one put back after a newer job came, is finished (its
// snapshot's route list goes back to the route log) exactly once; a job
// taken or put back into an empty queue is not, since it is still read.
func TestStatusQueueFinishesEveryJobOnce(t *testing.T) {
	finished := map[string]int{}
	job := func(name string) *statusJob {
		return &statusJob{done: func() { finished[name]++ }}
	}
	q := newStatusQueue()
	ctx := context.Background()
	j1, j2, j3, j4 := job("j1"), job("j2"), job("j3"), job("j4")
	q.submit(j1)
	q.submit(j2)
	if finished["j1"] != 1 || finished["j2"] != 0 {
		t.Fatalf("after j2 replaced j1: finished %v; want j1 once", finished)
	}
	if got := q.take(ctx); got != j2 {
		t.Fatal("took another job than the latest")
	}
	q.retry(j2) // a failed write, nothing newer: kept
	if finished["j2"] != 0 {
		t.Fatalf("a job put back into an empty queue was finished: %v", finished)
	}
	q.submit(j3)
	if finished["j2"] != 1 {
		t.Fatalf("j2, replaced after it was put back, finished %d times", finished["j2"])
	}
	if got := q.take(ctx); got != j3 {
		t.Fatal("took another job than the latest")
	}
	q.submit(j4) // while the writer writes j3
	if finished["j3"] != 0 {
		t.Fatal("the job being written was finished when a newer one came")
	}
	q.retry(j3)
	if finished["j3"] != 1 || finished["j4"] != 0 {
		t.Fatalf("j3 put back behind a newer job: finished %v; want j3 once and j4 not", finished)
	}
	j3.finish()
	j1.finish()
	if finished["j3"] != 1 || finished["j1"] != 1 {
		t.Fatalf("finishing a job twice called its done twice: %v", finished)
	}
}

// TestRetryAfterAConflictIsShort: a write that failed only on conflicts
// (the cache behind a newer object) is tried again after a moment; any
// other failure among them waits the full second.
func TestRetryAfterAConflictIsShort(t *testing.T) {
	conflict := apierrors.NewConflict(schema.GroupResource{Group: "gateway.networking.k8s.io", Resource: "httproutes"}, "shop", errors.New("the object has been modified"))
	other := apierrors.NewInternalError(errors.New("etcd timeout"))
	for _, c := range []struct {
		name string
		err  error
		want time.Duration
	}{
		{"one conflict", conflict, 100 * time.Millisecond},
		{"conflicts joined as the writer joins them", errors.Join(nil, errors.Join(conflict, conflict)), 100 * time.Millisecond},
		{"a conflict and another failure", errors.Join(errors.Join(conflict), other), time.Second},
		{"another failure", other, time.Second},
	} {
		if got := retryAfter(c.err); got != c.want {
			t.Errorf("%s: retry after %v, want %v", c.name, got, c.want)
		}
	}
}

// TestStatusQueueCarriesReplacedJobsChanges: the job the writer takes
// says what changed since the first job it replaced, or nothing (a full
// pass) once any of them did not know, or did not follow the one before.
func TestStatusQueueCarriesReplacedJobsChanges(t *testing.T) {
	route := func(name string) *gatewayv1.HTTPRoute {
		return &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "apples", Name: name}}
	}
	changes := func(since uint64, names ...string) *translate.RouteChanges {
		ch := &translate.RouteChanges{Since: since, Seq: since + 1}
		for _, n := range names {
			ch.HTTPRoutes = append(ch.HTTPRoutes, route(n))
		}
		return ch
	}
	taken := func(jobs ...*translate.RouteChanges) *translate.RouteChanges {
		q := newStatusQueue()
		for _, ch := range jobs {
			q.submit(&statusJob{routeChanges: ch})
		}
		return q.take(t.Context()).routeChanges
	}
	got := taken(changes(0, "a"), changes(1, "b"), changes(2, "a", "c"))
	var names []string
	for _, r := range got.HTTPRoutes {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	if got.Since != 0 || got.Seq != 3 || !slices.Equal(names, []string{"a", "b", "c"}) || len(got.Gone) != 0 {
		t.Errorf("three jobs carried since %d to %d, routes %v; want 0 to 3, [a b c]", got.Since, got.Seq, names)
	}
	for name, jobs := range map[string][]*translate.RouteChanges{
		"an unknown job in the middle": {changes(0, "a"), nil, changes(2, "c")},
		"an unknown job first":         {nil, changes(1, "b")},
		"a job not following":          {changes(0, "a"), changes(5, "b")},
	} {
		if got := taken(jobs...); got != nil {
			t.Errorf("%s: taken with changes since %d; want none known", name, got.Since)
		}
	}
}
