package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/tenantgate/tenantgate/gateway/controller"
	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/leadership"
	"github.com/tenantgate/tenantgate/tenancy/audit"
	"github.com/tenantgate/tenantgate/webhook"
)

// Role is which parts of tenantgate one process runs (-role). The one
// binary is deployed once per role (manifests/default), so admission never
// shares a process or a memory limit with the internet-facing proxy, and
// the proxy never waits for the controller.
type Role string

const (
	// RoleAll runs what -enable-webhook and -enable-gateway say in one
	// process: the webhook, the controller (status, audit, Events) and the proxy.
	RoleAll Role = "all"
	// RoleWebhook runs the tenant-policy cache and the admission webhook
	// only: no gateway, no audit, no proxy, no Lease.
	RoleWebhook Role = "webhook"
	// RoleController translates and writes status, the Tenant audit and
	// Events (while it holds the Lease, with -leader-elect); it binds no
	// listener.
	RoleController Role = "controller"
	// RoleDataPlane translates from its own watches and serves traffic; it
	// writes nothing to the API and never campaigns for the Lease.
	RoleDataPlane Role = "dataplane"
)

// Roles are the values -role accepts.
var Roles = []Role{RoleAll, RoleWebhook, RoleController, RoleDataPlane}

// parseRole checks r; empty (Options built in code) means RoleAll.
func parseRole(r Role) (Role, error) {
	if r == "" {
		return RoleAll, nil
	}
	if !slices.Contains(Roles, r) {
		return "", unknownRole(r)
	}
	return r, nil
}

func unknownRole(r Role) error {
	return fmt.Errorf("-role %q is not all, webhook, controller or dataplane; pick one of those", string(r))
}

// setRole records the role and the parts it implies, refusing the flags a
// role other than all decides by itself (set holds the flags given).
func (o *Options) setRole(r Role, set map[string]bool) error {
	if r == "" {
		return unknownRole(r) // -role= given empty
	}
	r, err := parseRole(r)
	if err != nil {
		return err
	}
	o.Role = r
	if r == RoleAll {
		return nil
	}
	for _, name := range []string{"enable-webhook", "enable-gateway"} {
		if set[name] {
			return fmt.Errorf("-%s applies only to -role=all; -role=%s already decides which parts run, so drop -%s", name, r, name)
		}
	}
	if o.LeaderElect && r != RoleController {
		return fmt.Errorf("-leader-elect is set but -role=%s never writes to the API, so it never campaigns for the Lease; drop -leader-elect (only -role=controller and -role=all use it)", r)
	}
	o.EnableWebhook, o.EnableGateway = r == RoleWebhook, r != RoleWebhook
	return nil
}

// parts is what a process runs.
type parts struct {
	webhook bool // serves admission
	gateway bool // watches and translates the Gateway API
	proxy   bool // binds the Gateways' listeners and serves traffic
	writer  bool // writes status, the Tenant audit and Events while it leads
}

// parts says what a process of o's role runs.
func (o Options) parts() parts {
	switch o.Role {
	case RoleWebhook:
		return parts{webhook: true}
	case RoleController:
		return parts{gateway: true, writer: true}
	case RoleDataPlane:
		return parts{gateway: true, proxy: true}
	}
	return parts{webhook: o.EnableWebhook, gateway: o.EnableGateway, proxy: o.EnableGateway, writer: true}
}

// setupRole adds to the manager the parts o's role runs, their readiness
// checks and the role's info metric. The tenant-policy cache is already
// added: every role decides with it.
func setupRole(mgr ctrl.Manager, cfg *rest.Config, opts Options, policy *policyCache, log logr.Logger) error {
	role, _ := parseRole(opts.Role)
	if err := setRoleInfo(role); err != nil {
		return err
	}
	p := opts.parts()
	if p.webhook {
		if err := webhook.Register(mgr, policy); err != nil {
			return fmt.Errorf("registering the admission webhook: %w", err)
		}
		if role == RoleWebhook {
			// Ready means "answers admission": the policy is built and the server takes TLS connections.
			if err := mgr.AddReadyzCheck("webhook-server", mgr.GetWebhookServer().StartedChecker()); err != nil {
				return err
			}
		}
	}
	// A process that never writes never leads, so the status writer stays idle.
	lead := &leadership.State{}
	if p.writer {
		var err error
		if lead, err = addLeadership(mgr, cfg, opts, log); err != nil {
			return err
		}
		if err := audit.Register(mgr, policy, policy.audited, lead); err != nil {
			return fmt.Errorf("registering the tenant audit: %w", err)
		}
	}
	if !p.gateway {
		return nil
	}
	var plane controller.DataPlane = bindsNothing{}
	if p.proxy {
		srv, err := addProxy(mgr, opts, policy.tenantOf, log)
		if err != nil {
			return err
		}
		plane = srv
		if role == RoleDataPlane {
			programmed := &firstTable{DataPlane: srv, done: make(chan struct{})}
			plane = programmed
			if err := mgr.AddReadyzCheck("route-table", programmed.check); err != nil {
				return err
			}
		}
	}
	if role == RoleController {
		if err := mgr.AddReadyzCheck("caches-synced", cacheSynced(mgr)); err != nil {
			return err
		}
	}
	return setupGateway(mgr, opts, policy, lead, plane, p.writer, log)
}

// bindsNothing stands in for the proxy in -role=controller: the data-plane
// Pods bind the listeners, so this process reports none as failing.
type bindsNothing struct{}

func (bindsNothing) Apply(*routetable.Table) map[string]error { return nil }

// firstTable is the proxy, remembering that it has applied a table. The
// first table is built from synced caches and the first complete tenant
// policy, so a data-plane replica is Ready only once it serves every route.
type firstTable struct {
	controller.DataPlane
	once sync.Once
	done chan struct{}
}

func (f *firstTable) Apply(t *routetable.Table) map[string]error {
	failed := f.DataPlane.Apply(t)
	f.once.Do(func() { close(f.done) })
	return failed
}

func (f *firstTable) check(*http.Request) error {
	if !isClosed(f.done) {
		return errors.New("the data plane has not programmed its first route table yet")
	}
	return nil
}

// cacheSynced is Ready once every informer started so far has synced.
func cacheSynced(mgr ctrl.Manager) func(*http.Request) error {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !mgr.GetCache().WaitForCacheSync(ctx) {
			return errors.New("the caches have not synced with the API server yet")
		}
		return nil
	}
}

// roleInfo is 1 for this process's role, so dashboards can tell the
// Deployments' Pods apart.
var roleInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "tenantgate_role_info",
	Help: "Always 1; the role label is the parts this process runs (-role: all, webhook, controller or dataplane).",
}, []string{"role"})

func setRoleInfo(r Role) error {
	if err := metrics.Registry.Register(roleInfo); err != nil && !errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		return fmt.Errorf("registering tenantgate_role_info: %w", err)
	}
	roleInfo.Reset()
	roleInfo.WithLabelValues(string(r)).Set(1)
	return nil
}
