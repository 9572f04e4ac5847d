package proxy

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the proxy's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// requestBytes and responseBytes are body bytes by route.
	requestBytes  *prometheus.CounterVec
	responseBytes *prometheus.CounterVec
	// upstreamErrors are requests no backend answered, by route and reason.
	upstreamErrors *prometheus.CounterVec
	mirrors        *prometheus.CounterVec
	retries        *prometheus.CounterVec
	// rejectedPaths counts requests answered 400 by path normalisation.
	rejectedPaths *prometheus.CounterVec
	// retriesUnavailable counts requests with a retry policy sent once because their body was not kept.
	retriesUnavailable *prometheus.CounterVec
	// bufferedBodyBytes is the request body bytes held for mirrors and retries now.
	bufferedBodyBytes prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_requests_total",
			Help: "Requests answered by the proxy, by listener, tenant, namespace and route (" + routeLabelHelp + ") and status class.",
		}, append([]string{"listener"}, append(routeLabels, "code")...)),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tenantgate_proxy_request_duration_seconds",
			Help:    "Time from request to the end of the response, by tenant, namespace and route (" + routeLabelHelp + ").",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, routeLabels),
		requestBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_request_bytes_total",
			Help: "Request body bytes read from clients, by tenant, namespace and route (" + routeLabelHelp + ").",
		}, routeLabels),
		responseBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_response_bytes_total",
			Help: "Response body bytes sent to clients, by tenant, namespace and route (" + routeLabelHelp + ").",
		}, routeLabels),
		upstreamErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_upstream_errors_total",
			Help: "Requests no backend answered, by tenant, namespace, route (" + routeLabelHelp + ") and reason (invalid_backend, no_endpoint, connect, timeout, response).",
		}, append(routeLabels, "reason")),
		mirrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_mirror_requests_total",
			Help: "Mirrored request copies by mirror backend and result (sent, failed, dropped, no_endpoint, body_too_large, body_budget_exhausted).",
		}, []string{"backend", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_retries_total",
			Help: "Backend requests sent again by a retry policy, by route (namespace/name) and why (status, timeout, connection_error).",
		}, []string{"route", "reason"}),
		rejectedPaths: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_rejected_paths_total",
			Help: "Requests answered 400 because their path cannot be normalised safely, by reason (climbs_above_root, encoded_slash, backslash, control_character, invalid_escape, dot_segment_parameters, not_absolute).",
		}, []string{"reason"}),
		retriesUnavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_retries_unavailable_total",
			Help: "Requests of a route with a retry policy that could be tried only once because their body was not kept, by route (namespace/name) and why (body_too_large, body_budget_exhausted).",
		}, []string{"route", "reason"}),
		bufferedBodyBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tenantgate_proxy_buffered_body_bytes",
			Help: "Request body bytes held in memory for mirrors and retries, bounded by the proxy's body buffer budget.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.requestBytes, m.responseBytes, m.upstreamErrors, m.mirrors, m.retries, m.rejectedPaths, m.retriesUnavailable, m.bufferedBodyBytes)
	}
	return m
}

var statusClasses = [...]string{"1xx", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) string {
	if c := status / 100; c >= 1 && c <= 5 {
		return statusClasses[c]
	}
	return strconv.Itoa(status)
}

// count records an exchange in its rule's metrics, on either path, and
// returns how long it took.
func (s *Server) count(ex *exchange, status int) time.Duration {
	elapsed := time.Since(ex.start)
	rm := s.ruleMetrics(ex)
	rm.requests(status).Inc()
	rm.duration.Observe(elapsed.Seconds())
	if n := ex.requestBytes.Load(); n > 0 {
		rm.requestBytes.Add(float64(n))
	}
	if ex.written > 0 {
		rm.responseBytes.Add(float64(ex.written))
	}
	if ex.upstreamError != "" {
		rm.upstreamError(ex.upstreamError).Inc()
	}
	return elapsed
}

// finish records a request in the metrics and the access log.
func (s *Server) finish(ex *exchange, r *http.Request) {
	status := ex.status
	if status == 0 {
		status = http.StatusOK // what net/http sends for a handler that wrote nothing
		if r.Header.Get("Upgrade") != "" {
			status = http.StatusSwitchingProtocols // ReverseProxy writes 101 on the hijacked connection
		}
	}
	var listener, route, backend string
	if ex.listener != nil {
		listener = ex.listener.Name
	}
	if ex.match != nil {
		route = ex.match.Rule.Route
	}
	if ex.backend != nil {
		backend = ex.backend.Name
	}
	elapsed := s.count(ex, status)
	if s.opts.AccessLog.GetSink() != nil {
		s.opts.AccessLog.Info("request", "method", r.Method, "host", r.Host, "path", r.URL.Path,
			"proto", r.Proto, "status", status, "listener", listener, "route", route, "backend", backend,
			"remote", r.RemoteAddr, "duration", elapsed)
	}
}

// recorder remembers the status a handler sent. Unwrap lets
// http.ResponseController reach Flush and Hijack underneath.
type recorder struct {
	http.ResponseWriter
	status  int
	written int64 // body bytes
}

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 && status >= 200 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
