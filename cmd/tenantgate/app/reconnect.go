package app

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/watch"
	toolscache "k8s.io/client-go/tools/cache"
)

// reconnectCap bounds the wait between two attempts to reach an API server
// that refuses connections. client-go's reflector backs off to [30s, 60s)
// after such an outage, so without this the cache (and with it status and
// the data plane's table) stays stale for up to a minute after the API
// server is back. One dial every 2s per informer costs an API server that
// is down nothing.
const reconnectCap = 2 * time.Second

// newReconnectingInformer is controller-runtime's informer constructor with
// a ListerWatcher that waits out an unreachable API server itself, so the
// reflector never sees those errors and never grows its backoff.
func newReconnectingInformer(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
	return toolscache.NewSharedIndexInformer(reconnecting(lw), obj, resync, indexers)
}

// reconnecting wraps lw so List and Watch retry, at most reconnectCap
// apart, while the API server cannot be reached; every other error, and
// every answer from the server (429 included), passes through at once.
func reconnecting(lw toolscache.ListerWatcher) *toolscache.ListWatch {
	inner := toolscache.ToListerWatcherWithContext(lw)
	return &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return untilReachable(ctx, func() (runtime.Object, error) { return inner.ListWithContext(ctx, opts) })
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return untilReachable(ctx, func() (watch.Interface, error) { return inner.WatchWithContext(ctx, opts) })
		},
	}
}

// untilReachable calls call until it returns anything but an unreachable
// API server, or ctx ends (then the last error is returned).
func untilReachable[T any](ctx context.Context, call func() (T, error)) (T, error) {
	wait := 200 * time.Millisecond
	for {
		v, err := call()
		if err == nil || !unreachable(err) {
			return v, err
		}
		t := time.NewTimer(wait/2 + rand.N(wait/2+1))
		select {
		case <-ctx.Done():
			t.Stop()
			return v, err
		case <-t.C:
		}
		wait = min(2*wait, reconnectCap)
	}
}

// unreachable reports errors that say no API server answered: refused or
// reset connections and failed dials. The server's own answers never are.
func unreachable(err error) bool {
	if utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) {
		return true
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
