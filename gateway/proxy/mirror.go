package proxy

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// mirror sends copies of r to the rule's and the backend's mirror targets,
// each to one endpoint, and ignores the answers. A body is buffered up to
// MirrorBodyLimit; a larger request, an upgrade, or a full set of in-flight
// mirrors is not mirrored. r keeps its body intact either way.
func (s *Server) mirror(ex *exchange, r *http.Request) {
	lists := [...][]routetable.CompiledMirror{ex.match.Rule.Filters.Mirrors, ex.backend.Filters.Mirrors}
	if len(lists[0])+len(lists[1]) == 0 || r.Header.Get("Upgrade") != "" {
		return
	}
	var body []byte
	buffered := false
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
			if !buffered {
				var ok bool
				if body, ok = bufferBody(r, s.opts.MirrorBodyLimit); !ok {
					s.metrics.mirrors.WithLabelValues(m.Backend.Name, "body_too_large").Inc()
					return
				}
				buffered = true
			}
			select {
			case s.mirrors <- struct{}{}:
			default:
				s.metrics.mirrors.WithLabelValues(m.Backend.Name, "dropped").Inc()
				continue
			}
			// Copied here, not in the goroutine: the original request moves on.
			ctx, cancel := context.WithTimeout(s.hardCtx, s.opts.MirrorTimeout)
			out := mirrorRequest(ctx, r, endpoint, body)
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

// mirrorRequest copies r for endpoint e with the buffered body.
func mirrorRequest(ctx context.Context, r *http.Request, e *routetable.CompiledEndpoint, body []byte) *http.Request {
	out := r.Clone(ctx)
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = e.URL.Scheme, e.URL.Host
	out.Close = false
	removeHopByHop(out.Header)
	out.Body, out.ContentLength = http.NoBody, 0
	if len(body) > 0 {
		out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	}
	return out
}

// bufferBody reads up to limit bytes of r's body and puts them back in front
// of the rest; ok is false when the body is larger than limit or unreadable.
func bufferBody(r *http.Request, limit int64) (body []byte, ok bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	r.Body = replayBody{Reader: io.MultiReader(bytes.NewReader(buf), r.Body), Closer: r.Body}
	if err != nil || int64(len(buf)) > limit {
		return nil, false
	}
	return buf, true
}

type replayBody struct {
	io.Reader
	io.Closer
}
