package faults

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// The roles of issue 17's split install (webhook, controller and data-plane
// Deployments of one binary, -role), one ReplicaOptions each. The webhook
// and the data plane run as the read-only identity of ReadOnlyKubeconfig,
// as their ServiceAccounts in manifests/default may write nothing.

// webhookRole serves admission on 127.0.0.1:port.
func (w *World) webhookRole(t testing.TB, port int) ReplicaOptions {
	return ReplicaOptions{Role: "webhook", Kubeconfig: w.ReadOnlyKubeconfig(t), Webhook: true, WebhookPort: port}
}

// controllerRole translates and, while it holds the Lease, writes status;
// Gateways get their addresses from pool. It binds no proxy listener.
func (w *World) controllerRole(pool string) ReplicaOptions {
	return ReplicaOptions{Role: "controller", Gateway: true, AddressPool: pool, LeaderElect: true}
}

// dataPlaneRole proxies on the first address of pool: each process assigns
// Gateway addresses from its own -gateway-address-pool, so the tests send
// traffic to the data plane's (the controller reports its own in status).
func (w *World) dataPlaneRole(t testing.TB, pool string) ReplicaOptions {
	return ReplicaOptions{Role: "dataplane", Kubeconfig: w.ReadOnlyKubeconfig(t), Gateway: true, AddressPool: pool}
}

// StartWebhooks starts n webhook replicas behind a Balancer on the URL
// the API server calls, as the webhook Deployment behind its Service.
func (w *World) StartWebhooks(t testing.TB, n int) ([]*Replica, *Balancer) {
	t.Helper()
	hooks := w.Webhooks()
	lb, err := NewBalancer(net.JoinHostPort(hooks.LocalServingHost, strconv.Itoa(hooks.LocalServingPort)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	var out []*Replica
	for i := range n {
		r := w.Replica(t, fmt.Sprintf("webhook-%d", i), w.webhookRole(t, freePort(t)))
		lb.Add(r.WebhookAddr)
		out = append(out, r)
	}
	return out, lb
}

// readOnlyAccount is the ServiceAccount ReadOnlyKubeconfig acts as.
const readOnlyAccount = "faults-read-only"

// ReadOnlyKubeconfig returns a kubeconfig that acts as ServiceAccount
// tenantgate-system/faults-read-only, which may get, list and watch
// everything and write nothing, as the webhook's and the data plane's
// least privilege in the split install.
func (w *World) ReadOnlyKubeconfig(t testing.TB) string {
	t.Helper()
	if w.readOnly != "" {
		return w.readOnly
	}
	w.Apply(t, fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: %[1]s}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: [get, list, watch]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: %[1]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %[1]s}
subjects: [{kind: ServiceAccount, namespace: %[2]s, name: %[1]s}]
`, readOnlyAccount, LeaseNamespace))
	w.readOnly = impersonating(t, w.Cluster.AdminKubeconfig, LeaseNamespace, readOnlyAccount)
	return w.readOnly
}

// impersonating writes a copy of the kubeconfig at path whose user acts as
// ServiceAccount namespace/name, with the groups a ServiceAccount token carries.
func impersonating(t testing.TB, path, namespace, name string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, user := range cfg.AuthInfos {
		user.Impersonate = "system:serviceaccount:" + namespace + ":" + name
		user.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"}
	}
	out := filepath.Join(t.TempDir(), name+".kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, out); err != nil {
		t.Fatal(err)
	}
	return out
}
