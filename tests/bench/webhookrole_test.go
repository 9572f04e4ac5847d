package bench

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/roles"
)

// webhookRole starts a -role=webhook process, as one Pod of the webhook
// Deployment, against the cluster as the earlier phases left it (every
// route, namespace and Tenant), and reports its memory once it is ready:
// ready means its caches synced and its tenant policy was built. The
// Deployment limits that Pod to 256Mi (manifests/default/webhook).
func (e *env) webhookRole(b *testing.B, binary string) {
	_, port, err := net.SplitHostPort(freeAddr(b))
	if err != nil {
		b.Fatal(err)
	}
	pprof := freeAddr(b)
	wh := e.s.Cluster.Env.WebhookInstallOptions
	p, err := roles.Start(b.Context(), roles.Options{
		Binary: binary, Kubeconfig: e.s.Cluster.AdminKubeconfig, Role: app.RoleWebhook,
		Args: []string{"-webhook-host", wh.LocalServingHost, "-webhook-port", port, "-webhook-cert-dir", wh.LocalServingCertDir,
			"-platform-namespaces", gatewayNS, "-pprof-bind-address", pprof},
		LogPath: filepath.Join(e.s.Cluster.Dir, "tenantgate-webhook-role.log"),
	}, 3*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := p.Stop(5 * time.Second); err != nil {
			b.Errorf("stopping the webhook role: %v", err)
		}
	}()
	for unit, v := range residentMiB(b, p.Pid()) {
		b.ReportMetric(v, unit)
	}
	metrics := func() []byte { return scrapeMetrics(b, "http://"+p.MetricsAddr+"/metrics") }
	b.ReportMetric(heapAfterGC(b, "webhook-role-heap", pprof, metrics), "MiB-heap-inuse-after-gc")
}
