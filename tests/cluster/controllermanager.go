package cluster

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tenantgate/tenantgate/tests/cluster/proc"
)

// serviceCIDR is the ClusterIP range; no kube-proxy programs it, the gateway
// sends traffic to endpoints directly.
const serviceCIDR = "10.96.0.0/16"

// controllers are the kube-controller-manager loops a Deployment-to-endpoints
// path needs, and nothing else.
var controllers = []string{
	"deployment-controller", "replicaset-controller", "endpointslice-controller",
	"serviceaccount-controller", "serviceaccount-token-controller", "namespace-controller",
	"garbage-collector-controller", "root-ca-certificate-publisher-controller",
}

type process = proc.Process

func (c *Cluster) startControllerManager(ctx context.Context) error {
	user, err := c.Env.AddUser(envtest.User{Name: "system:kube-controller-manager"}, nil)
	if err != nil {
		return err
	}
	kubeconfig, err := c.writeKubeconfig("controller-manager", user)
	if err != nil {
		return err
	}
	certDir := c.Env.ControlPlane.APIServer.CertDir
	port, err := freePort()
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(c.bin, "kube-controller-manager"),
		"--kubeconfig="+kubeconfig,
		"--authentication-kubeconfig="+kubeconfig,
		"--authorization-kubeconfig="+kubeconfig,
		"--controllers="+strings.Join(controllers, ","),
		// Each controller acts under its own service account, as in a real cluster.
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+filepath.Join(certDir, "sa-signer.key"),
		"--root-ca-file="+filepath.Join(certDir, "apiserver.crt"),
		"--service-cluster-ip-range="+serviceCIDR,
		"--leader-elect=false",
		"--bind-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--concurrent-deployment-syncs=10",
		"--concurrent-replicaset-syncs=10",
		"--concurrent-service-endpoint-syncs=10",
		"--endpointslice-updates-batch-period=0s",
	)
	cmd.Stdout, cmd.Stderr = c.out, c.out
	if c.cm, err = proc.Start(cmd); err != nil {
		return err
	}
	client := &http.Client{Timeout: 2 * time.Second, Transport: insecureLoopback()}
	url := fmt.Sprintf("https://127.0.0.1:%d/healthz", port)
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		select {
		case <-c.cm.Done():
			return false, fmt.Errorf("kube-controller-manager exited: %v; see %s", c.cm.Err(), filepath.Join(c.Dir, "control-plane.log"))
		default:
		}
		resp, err := client.Get(url)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}
