package audit

import (
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// Metrics are the audit's per-tenant gauges. Only the replica that leads
// audits, so only it exports them; series of deleted tenants are removed.
type Metrics struct {
	violations *prometheus.GaugeVec
	routes     *prometheus.GaugeVec
	ready      *prometheus.GaugeVec

	mu    sync.Mutex
	known map[string]bool
}

// NewMetrics creates the gauges and registers them with reg, reusing the
// ones an earlier call registered there.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		violations: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tenantgate_tenant_violations",
			Help: "Existing objects that break the tenant's policy (the Tenant's status.summary.violations).",
		}, []string{"tenant"}),
		routes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tenantgate_tenant_routes",
			Help: "Routes in the tenant's namespaces by kind and by what their parents report: served (Accepted by a parent), refused, pending (no parent status).",
		}, []string{"tenant", "kind", "state"}),
		ready: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tenantgate_tenant_ready",
			Help: "1 when the tenant's policy is in force without conflicts (its Ready condition), else 0.",
		}, []string{"tenant"}),
		known: map[string]bool{},
	}
	for _, g := range []**prometheus.GaugeVec{&m.violations, &m.routes, &m.ready} {
		if err := reg.Register(*g); err != nil {
			var exists prometheus.AlreadyRegisteredError
			if !errors.As(err, &exists) {
				return nil, err
			}
			same, ok := exists.ExistingCollector.(*prometheus.GaugeVec)
			if !ok {
				return nil, err
			}
			*g = same
		}
	}
	return m, nil
}

// set records one tenant's status.
func (m *Metrics) set(tenant string, st v1alpha1.TenantStatus) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.known[tenant] = true
	m.violations.WithLabelValues(tenant).Set(float64(st.Summary.Violations))
	m.routes.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
	for _, r := range st.Routes {
		m.routes.WithLabelValues(tenant, r.Kind, "served").Set(float64(r.Served))
		m.routes.WithLabelValues(tenant, r.Kind, "refused").Set(float64(r.Refused))
		m.routes.WithLabelValues(tenant, r.Kind, "pending").Set(float64(r.Pending))
	}
	ready := 0
	for _, c := range st.Conditions {
		if c.Type == v1alpha1.ConditionReady && c.Status == "True" {
			ready = 1
		}
	}
	m.ready.WithLabelValues(tenant).Set(float64(ready))
}

// forgetExcept removes the series of tenants not in keep.
func (m *Metrics) forgetExcept(keep map[string]bool) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for t := range m.known {
		if keep[t] {
			continue
		}
		delete(m.known, t)
		for _, g := range []*prometheus.GaugeVec{m.violations, m.routes, m.ready} {
			g.DeletePartialMatch(prometheus.Labels{"tenant": t})
		}
	}
}
