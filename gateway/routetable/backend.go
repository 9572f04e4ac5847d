package routetable

import (
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net/textproto"
	"net/url"
	"slices"
	"sync/atomic"
	"time"
)

// CompiledRule is one HTTPRoute rule: its filters, its weighted backends and
// the route facts precedence breaks ties with.
type CompiledRule struct {
	// Route is "namespace/name", as metrics and the tie-breaker use it.
	Route     string
	Namespace string
	Name      string
	Created   time.Time
	Index     int
	Filters   CompiledFilters
	Backends  []*CompiledBackend
	Timeouts  Timeouts
	// Retry is the rule's retry policy, nil for none.
	Retry *Retry
	// GRPC is set on a GRPCRoute's rule: errors are answered as gRPC statuses.
	GRPC bool
	// cumulative[i] is the sum of the weights of Backends[0..i].
	cumulative []int64
}

// PickBackend chooses a backend in proportion to the weights; nil when no
// backend has weight, which the spec answers with 500.
func (r *CompiledRule) PickBackend() *CompiledBackend {
	if len(r.cumulative) == 0 || r.cumulative[len(r.cumulative)-1] == 0 {
		return nil
	}
	return r.backendAt(rand.Int64N(r.cumulative[len(r.cumulative)-1]))
}

// backendAt returns the backend whose share of [0, total weight) holds n.
func (r *CompiledRule) backendAt(n int64) *CompiledBackend {
	for i, upTo := range r.cumulative {
		if n < upTo {
			return r.Backends[i]
		}
	}
	return nil
}

// CompiledBackend is one backendRef with its endpoints and filters. It is
// shared by every request of a table, so it is never copied.
type CompiledBackend struct {
	Name   string
	Weight int32
	// Unresolved is why the backendRef did not resolve; requests sent here get 500.
	Unresolved  string
	AppProtocol AppProtocol
	// TLS, when set, is how to connect to the endpoints (https URLs).
	TLS *CompiledBackendTLS
	// endpoints are the ready endpoints (none means 503), shared with the
	// other backends of the same Service port (endpoints.go).
	endpoints *EndpointSet
	Filters   CompiledFilters
	next      atomic.Uint64
}

// Endpoints are the backend's ready endpoints now.
func (b *CompiledBackend) Endpoints() []CompiledEndpoint { return b.endpoints.Endpoints() }

// CompiledEndpoint is one ready address with its URL pre-built for proxying.
type CompiledEndpoint struct {
	Address string
	Port    int32
	URL     *url.URL
}

// PickEndpoint balances round robin across the ready endpoints; nil when
// there are none.
func (b *CompiledBackend) PickEndpoint() *CompiledEndpoint {
	eps := b.Endpoints()
	if len(eps) == 0 {
		return nil
	}
	return &eps[(b.next.Add(1)-1)%uint64(len(eps))]
}

// CompiledFilters are a rule's or a backend's filters with header names
// canonicalized and mirror backends compiled.
type CompiledFilters struct {
	RequestHeader  *HeaderModifier
	ResponseHeader *HeaderModifier
	Redirect       *Redirect
	Rewrite        *Rewrite
	Mirrors        []CompiledMirror
	CORS           *CompiledCORS
}

// CompiledMirror sends Percent of requests to one endpoint of Backend.
type CompiledMirror struct {
	Backend *CompiledBackend
	Percent float64
}

// Empty reports whether no filter is set.
func (f *CompiledFilters) Empty() bool {
	return f.RequestHeader == nil && f.ResponseHeader == nil && f.Redirect == nil && f.Rewrite == nil && len(f.Mirrors) == 0 && f.CORS == nil
}

// scope is what compiling a rule takes from around it: where it is, for
// errors, and the client certificate its listener presents to TLS backends.
type scope struct {
	where      string
	clientCert *tls.Certificate
	// endpoints shares endpoint sets across a Compiler's tables; nil shares none.
	endpoints *endpointRegistry
}

// backend narrows the scope to one backend.
func (sc scope) backend(name string) scope {
	sc.where += " backend " + name
	return sc
}

func compileRule(route *Route, in Rule, sc scope) (*CompiledRule, error) {
	r := &CompiledRule{
		Route:     route.Namespace + "/" + route.Name,
		Namespace: route.Namespace,
		Name:      route.Name,
		Created:   route.Created,
		Index:     in.Index,
		Timeouts:  in.Timeouts,
		GRPC:      route.GRPC,
	}
	var err error
	if r.Filters, err = compileFilters(in.Filters, sc); err != nil {
		return nil, err
	}
	if r.Retry, err = compileRetry(in.Retry, sc.where); err != nil {
		return nil, err
	}
	var total int64
	for _, b := range in.Backends {
		cb, err := compileBackend(b, sc, true)
		if err != nil {
			return nil, err
		}
		total += int64(max(b.Weight, 0))
		r.Backends = append(r.Backends, cb)
		r.cumulative = append(r.cumulative, total)
	}
	return r, nil
}

// tlsKeys adds the TLS settings keys of the rule's backends and mirrors to keys.
func (r *CompiledRule) tlsKeys(keys map[string]bool) {
	add := func(b *CompiledBackend) {
		if b.TLS != nil {
			keys[b.TLS.Key] = true
		}
	}
	for _, m := range r.Filters.Mirrors {
		add(m.Backend)
	}
	for _, b := range r.Backends {
		add(b)
		for _, m := range b.Filters.Mirrors {
			add(m.Backend)
		}
	}
}

// compileBackend builds a backend; a mirror target takes no filters of its own.
func compileBackend(in Backend, sc scope, withFilters bool) (*CompiledBackend, error) {
	b := &CompiledBackend{Name: in.Name, Weight: in.Weight, Unresolved: in.Unresolved, AppProtocol: in.AppProtocol}
	scheme := "http"
	if in.TLS != nil {
		var err error
		if b.TLS, err = compileBackendTLS(in.TLS, sc.backend(in.Name)); err != nil {
			return nil, err
		}
		if in.AppProtocol == AppProtocolH2C {
			return nil, fmt.Errorf("%s backend %s speaks h2c, which is cleartext, yet has TLS settings; drop one", sc.where, in.Name)
		}
		scheme = "https"
	} else if in.AppProtocol == AppProtocolHTTP2 {
		return nil, fmt.Errorf("%s backend %s speaks HTTP/2 over TLS but has no TLS settings; add them or use h2c", sc.where, in.Name)
	}
	b.endpoints = sc.endpoints.set(in.Source, scheme, in.Endpoints)
	if withFilters {
		var err error
		if b.Filters, err = compileFilters(in.Filters, sc.backend(in.Name)); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func compileFilters(in []Filter, sc scope) (CompiledFilters, error) {
	where := sc.where
	var f CompiledFilters
	for _, filter := range in {
		if !filter.hasPayload() {
			return f, fmt.Errorf("%s has a %q filter without its settings; set the field its type names", where, filter.Type)
		}
		var dup bool
		switch filter.Type {
		case FilterRequestHeaderModifier:
			dup, f.RequestHeader = f.RequestHeader != nil, canonicalHeaders(filter.RequestHeader)
		case FilterResponseHeaderModifier:
			dup, f.ResponseHeader = f.ResponseHeader != nil, canonicalHeaders(filter.ResponseHeader)
		case FilterRequestRedirect:
			dup, f.Redirect = f.Redirect != nil, filter.Redirect
		case FilterURLRewrite:
			dup, f.Rewrite = f.Rewrite != nil, filter.Rewrite
		case FilterRequestMirror:
			mb, err := compileBackend(filter.Mirror.Backend, sc, false)
			if err != nil {
				return f, err
			}
			f.Mirrors = append(f.Mirrors, CompiledMirror{Backend: mb, Percent: filter.Mirror.Percent})
		case FilterCORS:
			c, err := compileCORS(filter.CORS, where)
			if err != nil {
				return f, err
			}
			dup, f.CORS = f.CORS != nil, c
		default:
			return f, fmt.Errorf("%s has filter type %q the proxy does not implement; report it as unsupported and leave it out", where, filter.Type)
		}
		if dup {
			return f, fmt.Errorf("%s has more than one %s filter; keep one", where, filter.Type)
		}
	}
	if f.Redirect != nil && f.Rewrite != nil {
		return f, fmt.Errorf("%s combines RequestRedirect and URLRewrite filters; keep one", where)
	}
	return f, nil
}

func (f *Filter) hasPayload() bool {
	switch f.Type {
	case FilterRequestHeaderModifier:
		return f.RequestHeader != nil
	case FilterResponseHeaderModifier:
		return f.ResponseHeader != nil
	case FilterRequestRedirect:
		return f.Redirect != nil
	case FilterURLRewrite:
		return f.Rewrite != nil
	case FilterRequestMirror:
		return f.Mirror != nil
	case FilterCORS:
		return f.CORS != nil
	}
	return true
}

// canonicalHeaders copies m with header names in canonical form, so the
// proxy can index http.Header directly.
func canonicalHeaders(m *HeaderModifier) *HeaderModifier {
	out := &HeaderModifier{}
	for _, h := range m.Set {
		out.Set = append(out.Set, Header{Name: textproto.CanonicalMIMEHeaderKey(h.Name), Value: h.Value})
	}
	for _, h := range m.Add {
		out.Add = append(out.Add, Header{Name: textproto.CanonicalMIMEHeaderKey(h.Name), Value: h.Value})
	}
	for _, name := range m.Remove {
		out.Remove = append(out.Remove, textproto.CanonicalMIMEHeaderKey(name))
	}
	return out
}

// compileRetry checks a retry policy; codes must be HTTP error statuses.
func compileRetry(in *Retry, where string) (*Retry, error) {
	if in == nil {
		return nil, nil
	}
	if in.Attempts < 0 || in.Backoff < 0 {
		return nil, fmt.Errorf("%s has a retry policy with %d attempts and backoff %s; neither may be negative", where, in.Attempts, in.Backoff)
	}
	for _, code := range in.Codes {
		if code < 400 || code > 599 {
			return nil, fmt.Errorf("%s retries on status %d; use statuses from 400 to 599", where, code)
		}
	}
	out := *in
	out.Codes = slices.Clone(in.Codes)
	return &out, nil
}

// Retries reports whether the policy retries a response with status.
func (p *Retry) Retries(status int) bool {
	return slices.Contains(p.Codes, status)
}
