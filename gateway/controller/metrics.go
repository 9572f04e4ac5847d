package controller

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the controller's Prometheus collectors.
type metrics struct {
	rebuilds        prometheus.Counter
	endpointUpdates prometheus.Counter
	reconcileErrors prometheus.Counter
	buildPanics     prometheus.Counter
	notProgrammed   *prometheus.GaugeVec
	referenced      prometheus.Gauge
	// buildRoutes counts the routes of each build by what it reused of them.
	buildRoutes *prometheus.CounterVec
}

// newMetrics creates the collectors and registers them with reg (nil keeps
// them unregistered), reusing collectors an earlier call registered there,
// as a second in-process start of tenantgate does.
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		rebuilds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tenantgate_gateway_rebuilds_total",
			Help: "Translations of the whole snapshot into a route table (one per reconcile that got as far).",
		}),
		endpointUpdates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tenantgate_gateway_endpoint_updates_total",
			Help: "Service ports whose endpoints changed and were stored in the serving route table without a rebuild.",
		}),
		reconcileErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tenantgate_gateway_reconcile_errors_total",
			Help: "Reconciles that failed and were retried with exponential backoff; the last good route table kept serving.",
		}),
		buildPanics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tenantgate_gateway_build_panics_total",
			Help: "Panics recovered while translating or compiling the snapshot: each is a bug; the last good route table kept serving.",
		}),
		notProgrammed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "tenantgate_gateway_objects_not_programmed",
			Help: "Objects of our controller whose last build reports Accepted, ResolvedRefs or Programmed False, by kind.",
		}, []string{"kind"}),
		referenced: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tenantgate_gateway_referenced_objects",
			Help: "Secrets and ConfigMaps held in full because a Gateway, ListenerSet or BackendTLSPolicy references them.",
		}),
		buildRoutes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tenantgate_gateway_build_routes_total",
			Help: "Routes of each build by what it did: walked (looked at), skipped (not looked at: unchanged since the last build), replayed (attachment and status kept), reused (translation kept, replayed ones included), translated (translated afresh).",
		}, []string{"work"}),
	}
	if reg == nil {
		return m, nil
	}
	var err error
	if m.rebuilds, err = register(reg, m.rebuilds); err != nil {
		return nil, err
	}
	if m.endpointUpdates, err = register(reg, m.endpointUpdates); err != nil {
		return nil, err
	}
	if m.reconcileErrors, err = register(reg, m.reconcileErrors); err != nil {
		return nil, err
	}
	if m.buildPanics, err = register(reg, m.buildPanics); err != nil {
		return nil, err
	}
	if m.notProgrammed, err = register(reg, m.notProgrammed); err != nil {
		return nil, err
	}
	if m.referenced, err = register(reg, m.referenced); err != nil {
		return nil, err
	}
	if m.buildRoutes, err = register(reg, m.buildRoutes); err != nil {
		return nil, err
	}
	return m, nil
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
