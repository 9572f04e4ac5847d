package proxy

import (
	"context"
	"io"
	"math/rand/v2"
	"net/http"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// mirror sends copies of r to the rule's and the backend's mirror targets,
// each to one endpoint, and ignores the answers. A copy takes a mirror slot
// first, then the body is held (up to MirrorBodyLimit, within the body
// budget); without a slot the copy is dropped, and a body that cannot be
// held (too large, budget spent, upgrade) is not mirrored. r goes to its
// backend either way, with its body intact.
func (s *Server) mirror(ex *exchange, r *http.Request) {
	lists := [...][]routetable.CompiledMirror{ex.match.Rule.Filters.Mirrors, ex.backend.Filters.Mirrors}
	if len(lists[0])+len(lists[1]) == 0 || r.Header.Get("Upgrade") != "" {
		return
	}
	held := false
	for _, list := range lists {
		for i := range list {
			m := &list[i]
			if m.Percent <= 0 || (m.Percent < 100 && rand.Float64()*100 >= m.Percent) || m.Backend.Unresolved != "" {
				continue
			}
			endpoint := m.Backend.PickEndpoint()
			if endpoint == nil {
				s.metrics.mirrors.WithLabelValues(m.Backend.Name, "no_endpoint").Inc()
				continue
			}
			select {
			case s.mirrors <- struct{}{}:
			default:
				s.metrics.mirrors.WithLabelValues(m.Backend.Name, "dropped").Inc()
				continue
			}
			if !held {
				if reason := s.forward.keepBody(ex, r, s.opts.MirrorBodyLimit); reason != "" {
					<-s.mirrors
					s.metrics.mirrors.WithLabelValues(m.Backend.Name, reason).Inc()
					return
				}
				held = true
			}
			// Copied here, not in the goroutine: the original request moves on.
			ctx, cancel := context.WithTimeout(s.hardCtx, s.opts.MirrorTimeout)
			out := mirrorRequest(ctx, r, endpoint, ex.body)
			applyRequestFilters(out, ex.match, &ex.match.Rule.Filters)
			go s.sendMirror(out, cancel, m.Backend)
		}
	}
}

// sendMirror sends one copy and frees its slot.
func (s *Server) sendMirror(out *http.Request, cancel context.CancelFunc, b *routetable.CompiledBackend) {
	defer func() { <-s.mirrors }()
	defer cancel()
	resp, err := s.forward.transport(b, out).RoundTrip(out)
	if err != nil {
		s.metrics.mirrors.WithLabelValues(b.Name, "failed").Inc()
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
	_ = resp.Body.Close()
	s.metrics.mirrors.WithLabelValues(b.Name, "sent").Inc()
}

// mirrorRequest copies r for endpoint e with the held body (nil: none).
func mirrorRequest(ctx context.Context, r *http.Request, e *routetable.CompiledEndpoint, body *heldBody) *http.Request {
	out := r.Clone(ctx)
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = e.URL.Scheme, e.URL.Host
	out.Close = false
	removeHopByHop(out.Header)
	setHeldBody(out, body)
	return out
}

// setHeldBody gives out its own reader of body (nil: no body).
func setHeldBody(out *http.Request, body *heldBody) {
	out.Body, out.ContentLength = http.NoBody, 0
	if body != nil && body.size > 0 {
		out.Body, out.ContentLength = body.reader(), body.size
	}
}
