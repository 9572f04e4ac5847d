package proxy

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// retryRoundTrip sends out and, as the rule's retry policy says, sends it
// again (to the backend's next endpoint) when it fails to connect, times
// out or answers a retriable status. Each try is bounded by the rule's
// backendRequest timeout; the request timeout bounds them all. A body is
// buffered up to RetryBodyLimit to be sent again; a larger one is tried
// once, as is one the body budget cannot cover now. The last try's answer
// or error is the request's.
func (f *forwarder) retryRoundTrip(ex *exchange, out *http.Request, policy *routetable.Retry) (*http.Response, error) {
	tries := 1 + policy.Attempts
	if reason := f.keepBody(ex, out, f.retryBodyLimit); reason != "" {
		f.metrics.retriesUnavailable.WithLabelValues(ex.match.Rule.Route, reason).Inc()
		tries = 1
	}
	parent := out.Context()
	for try := 1; ; try++ {
		ctx, cancel := attemptContext(parent, ex.match.Rule.Timeouts.BackendRequest)
		attempt := out.WithContext(ctx)
		resp, err := f.transport(ex.backend, attempt).RoundTrip(attempt)
		last := try >= tries || parent.Err() != nil
		reason := ""
		switch {
		case err == nil && (last || !policy.Retries(resp.StatusCode)):
			resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
			return resp, nil
		case err != nil && last:
			cancel()
			return nil, err
		case err == nil:
			reason = "status"
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
			_ = resp.Body.Close()
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			reason = "timeout"
		default:
			reason = "connection_error"
		}
		cancel()
		f.metrics.retries.WithLabelValues(ex.match.Rule.Route, reason).Inc()
		if err := sleep(parent, backoff(policy.Backoff, try)); err != nil {
			return nil, err
		}
		out = nextAttempt(ex, out)
	}
}

// attemptContext bounds one try by the backendRequest timeout, if any.
func attemptContext(parent context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout > 0 {
		return context.WithTimeout(parent, timeout)
	}
	return context.WithCancel(parent)
}

// nextAttempt copies out for the backend's next endpoint with the held body.
func nextAttempt(ex *exchange, out *http.Request) *http.Request {
	next := out.Clone(out.Context())
	if e := ex.backend.PickEndpoint(); e != nil {
		ex.endpoint = e
		next.URL.Scheme, next.URL.Host = e.URL.Scheme, e.URL.Host
	}
	setHeldBody(next, ex.body)
	return next
}

// backoff is the wait before retry number try: the minimum, doubled for each
// earlier retry up to 8 times it, plus up to half again as jitter so clients
// that failed together do not retry together.
func backoff(minimum time.Duration, try int) time.Duration {
	d := minimum << min(try-1, 3)
	if d <= 0 {
		return 0
	}
	return d + rand.N(d/2+1)
}

// sleep waits d or until ctx ends, returning ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cancelOnClose ends a try's context once its response body is closed, so
// the backendRequest timeout covers reading the whole response.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}
