package proxy

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// routeLabels are the labels that say whose traffic a series counts.
var routeLabels = []string{"tenant", "namespace", "route"}

const routeLabelHelp = `route is the route's name, "" when Options.MetricsRoutes turns route labels off, and ` +
	overflowRoute + ` for routes beyond that many`

// overflowRoute labels the traffic of routes past the limit on routes with
// series of their own, so a tenant creating routes cannot grow the
// metrics without bound.
const overflowRoute = "_overflow"

// routeSeries decides which routes get series of their own: the first
// MetricsRoutes to receive traffic; later ones share overflowRoute until a
// named route leaves the table.
type routeSeries struct {
	max   int // < 0: no route label at all
	mu    sync.Mutex
	named map[routetable.RouteKey]bool
	// sinceSweep counts the tables retained by their gone routes alone
	// since every named route was last looked at.
	sinceSweep int
}

// sweepEvery bounds how many tables go by before retain looks at every
// named route again: a request still on an older table may name a route
// after its table was retained, and only a sweep forgets that one.
const sweepEvery = 256

func newRouteSeries(max int) *routeSeries {
	return &routeSeries{max: max, named: map[routetable.RouteKey]bool{}}
}

// label is the route label of k's traffic.
func (rs *routeSeries) label(k routetable.RouteKey) string {
	if rs.max < 0 || k.Name == "" {
		return ""
	}
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.named[k] {
		return k.Name
	}
	if len(rs.named) < rs.max {
		rs.named[k] = true
		return k.Name
	}
	return overflowRoute
}

// retain forgets the named routes t no longer carries and returns them;
// when t knows the routes gone since prev, only those are looked at.
func (rs *routeSeries) retain(prev, t *routetable.Table) []routetable.RouteKey {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var gone []routetable.RouteKey
	forget := func(k routetable.RouteKey) {
		if rs.named[k] && !t.HasRoute(k) {
			delete(rs.named, k)
			gone = append(gone, k)
		}
	}
	if candidates, ok := t.RoutesGoneSince(prev); ok && rs.sinceSweep < sweepEvery {
		rs.sinceSweep++
		for _, k := range candidates {
			forget(k)
		}
		return gone
	}
	rs.sinceSweep = 0
	for k := range rs.named {
		forget(k)
	}
	return gone
}

// ruleSeries are one rule's series, resolved once so a request costs no
// label hashing; statuses and upstream reasons are resolved on first use.
type ruleSeries struct {
	m                           *metrics
	listener                    string
	labels                      []string // tenant, namespace, route
	duration                    prometheus.Observer
	requestBytes, responseBytes prometheus.Counter
	codes                       [len(statusClasses)]atomic.Pointer[prometheus.Counter] // by status / 100
	upstream                    sync.Map                                               // reason -> prometheus.Counter
}

// requests is the request counter of the status's class: an array lookup,
// so counting a request allocates nothing.
func (r *ruleSeries) requests(status int) prometheus.Counter {
	class, ok := status/100, status >= 100 && status < 600
	if !ok { // not a status net/http lets a handler send
		return r.m.requests.WithLabelValues(append([]string{r.listener}, append(r.labels, statusClass(status))...)...)
	}
	if c := r.codes[class].Load(); c != nil {
		return *c
	}
	c := r.m.requests.WithLabelValues(append([]string{r.listener}, append(r.labels, statusClasses[class])...)...)
	r.codes[class].Store(&c)
	return c
}

func (r *ruleSeries) upstreamError(reason string) prometheus.Counter {
	if c, ok := r.upstream.Load(reason); ok {
		return c.(prometheus.Counter)
	}
	c := r.m.upstreamErrors.WithLabelValues(append(r.labels, reason)...)
	r.upstream.Store(reason, c)
	return c
}

// ruleMetrics are the series of the request's rule (or of its listener
// when no rule matched), cached per rule until the next Apply and, across
// tables, by their labels: a table swap costs each rule one lookup, not
// the resolution of its series again.
func (s *Server) ruleMetrics(ex *exchange) *ruleSeries {
	var rule *routetable.CompiledRule
	var listener string
	if ex.listener != nil {
		listener = ex.listener.Name
	}
	if ex.match != nil {
		rule = ex.match.Rule
	}
	cache := s.series.Load()
	key := any(rule)
	if rule == nil {
		key = listener
	}
	if rs, ok := cache.rules.Load(key); ok {
		return rs.(*ruleSeries)
	}
	labels := seriesLabels{listener: listener}
	if rule != nil {
		if s.opts.TenantOf != nil {
			labels.tenant = s.opts.TenantOf(rule.Namespace)
		}
		labels.namespace, labels.route = rule.Namespace, s.routes.label(routetable.RouteKey{Namespace: rule.Namespace, Name: rule.Name})
	}
	actual, _ := cache.rules.LoadOrStore(key, s.resolved.get(s.metrics, labels))
	return actual.(*ruleSeries)
}

// seriesLabels are the labels of one rule's series.
type seriesLabels struct{ listener, tenant, namespace, route string }

// resolvedSeries are the series resolved so far, by their labels; those of
// a route that left the table are forgotten with its series.
type resolvedSeries struct {
	mu      sync.Mutex
	byLabel map[seriesLabels]*ruleSeries
	byRoute map[routetable.RouteKey][]seriesLabels // by namespace and route label
}

func (r *resolvedSeries) get(m *metrics, l seriesLabels) *ruleSeries {
	r.mu.Lock()
	defer r.mu.Unlock()
	if rs := r.byLabel[l]; rs != nil {
		return rs
	}
	labels := []string{l.tenant, l.namespace, l.route}
	rs := &ruleSeries{
		m: m, listener: l.listener, labels: labels,
		duration:      m.duration.WithLabelValues(labels...),
		requestBytes:  m.requestBytes.WithLabelValues(labels...),
		responseBytes: m.responseBytes.WithLabelValues(labels...),
	}
	if r.byLabel == nil {
		r.byLabel, r.byRoute = map[seriesLabels]*ruleSeries{}, map[routetable.RouteKey][]seriesLabels{}
	}
	r.byLabel[l] = rs
	k := routetable.RouteKey{Namespace: l.namespace, Name: l.route}
	r.byRoute[k] = append(r.byRoute[k], l)
	return rs
}

// forget deletes the series of routes, resolved or not, under the lock a
// resolution takes, so none is resolved to a series just deleted.
func (r *resolvedSeries) forget(m *metrics, routes []routetable.RouteKey) {
	if len(routes) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range routes {
		for _, l := range r.byRoute[k] {
			delete(r.byLabel, l)
		}
		delete(r.byRoute, k)
		match := prometheus.Labels{"namespace": k.Namespace, "route": k.Name}
		for _, v := range []*prometheus.MetricVec{m.requests.MetricVec, m.duration.MetricVec,
			m.requestBytes.MetricVec, m.responseBytes.MetricVec, m.upstreamErrors.MetricVec} {
			v.DeletePartialMatch(match)
		}
	}
}

// seriesCache maps the rules of one table to their series.
type seriesCache struct{ rules sync.Map }

// forgetRoutes starts a new series cache for t (its rules are new, and a
// namespace may have changed tenant) and deletes the series of the named
// routes t no longer carries; prev is the table t replaces.
func (s *Server) forgetRoutes(prev, t *routetable.Table) {
	s.series.Store(&seriesCache{})
	s.resolved.forget(s.metrics, s.routes.retain(prev, t))
}
