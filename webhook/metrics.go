package webhook

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Decision results, the values of the "result" label.
const (
	ResultAllowed = "allowed" // no violations (there may be informational warnings)
	ResultWarned  = "warned"  // violations admitted: Warn mode, or a spec-preserving update
	ResultDenied  = "denied"
	ResultError   = "error" // no policy to decide with
)

// Metrics are the webhook's Prometheus collectors.
type Metrics struct {
	decisions *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

// NewMetrics creates the collectors and registers them with reg, reusing
// collectors an earlier call registered there.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	decisions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantgate_admission_decisions_total",
		Help: "Admission decisions of the tenantgate webhook by object kind, operation, result (allowed, warned, denied, error) and tenant (of the object's namespace, or the Tenant itself; empty for none).",
	}, []string{"kind", "operation", "result", "tenant"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tenantgate_admission_duration_seconds",
		Help:    "Time the tenantgate webhook took to decide, by object kind.",
		Buckets: []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1},
	}, []string{"kind"})
	var err error
	if decisions, err = register(reg, decisions); err != nil {
		return nil, err
	}
	if latency, err = register(reg, latency); err != nil {
		return nil, err
	}
	return &Metrics{decisions: decisions, latency: latency}, nil
}

// register registers c, or returns the equal collector already registered.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	var exists prometheus.AlreadyRegisteredError
	if errors.As(err, &exists) {
		if same, ok := exists.ExistingCollector.(C); ok {
			return same, nil
		}
	}
	return c, err
}

// observe records one decision; a nil *Metrics records nothing. Tenants
// are created by cluster admins, which bounds the tenant label.
func (m *Metrics) observe(kind, operation, result, tenant string, took time.Duration) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(kind, operation, result, tenant).Inc()
	m.latency.WithLabelValues(kind).Observe(took.Seconds())
}
