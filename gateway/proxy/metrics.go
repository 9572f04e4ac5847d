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
	mirrors  *prometheus.CounterVec
	retries  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_requests_total",
			Help: "Requests answered by the proxy, by listener, route (namespace/name), backend and status class.",
		}, []string{"listener", "route", "backend", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tenantgate_proxy_request_duration_seconds",
			Help:    "Time from request to the end of the response, by route (namespace/name).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		mirrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_mirror_requests_total",
			Help: "Mirrored request copies by mirror backend and result (sent, failed, dropped, no_endpoint, body_too_large).",
		}, []string{"backend", "result"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_proxy_retries_total",
			Help: "Backend requests sent again by a retry policy, by route (namespace/name) and why (status, timeout, connection_error).",
		}, []string{"route", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.mirrors, m.retries)
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
	elapsed := time.Since(ex.start)
	s.metrics.requests.WithLabelValues(listener, route, backend, statusClass(status)).Inc()
	s.metrics.duration.WithLabelValues(route).Observe(elapsed.Seconds())
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
	status int
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
	return w.ResponseWriter.Write(b)
}

func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
