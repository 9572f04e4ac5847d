package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tenantgate/tenantgate/tests/cluster/node"
)

// Options says what to start.
type Options struct {
	// Dir holds certificates, kubeconfigs and logs; a temporary folder when empty.
	Dir string
	// NodeName is the one Node the node agent plays; "tenantgate-node" when empty.
	NodeName string
	// ExperimentalCRDs installs the Gateway API experimental channel instead of standard.
	ExperimentalCRDs bool
	// NoCRDs installs no CRDs: the caller installs them as a user would.
	NoCRDs bool
	// Webhooks are installed pointing at a server on this machine, as envtest does.
	Webhooks envtest.WebhookInstallOptions
	// Images adds to or overrides the node's known images (repository path
	// without registry or tag -> binary), e.g. "tenantgate" -> a binary just built.
	Images map[string]string
	// Log receives progress; logr.Discard() when unset.
	Log logr.Logger
	// Output receives the control-plane processes' output; a file in Dir when nil.
	Output io.Writer
}

// Cluster is a running local control plane plus one node.
type Cluster struct {
	// Admin is a cluster-admin identity (group system:masters).
	Admin *rest.Config
	// AdminKubeconfig is the path of Admin written as a kubeconfig file.
	AdminKubeconfig string
	// Dir is the state folder.
	Dir string
	// Env is the envtest environment running etcd and kube-apiserver.
	Env *envtest.Environment
	// Node is the node agent.
	Node *node.Agent

	root, bin   string
	ownDir      bool
	log         logr.Logger
	out         io.Writer
	outFile     *os.File
	cm          *process
	cancelAgent context.CancelFunc
	agentDone   chan struct{}
}

// Start brings up etcd, kube-apiserver, kube-controller-manager, the CRDs and
// the node agent, and waits until the Node is Ready. On error everything that
// was started is stopped again.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	bin, err := BinDir(root)
	if err != nil {
		return nil, err
	}
	c := &Cluster{root: root, bin: bin, Dir: opts.Dir, log: opts.Log, out: opts.Output}
	if c.log.GetSink() == nil {
		c.log = logr.Discard()
	}
	if c.Dir == "" {
		if c.Dir, err = os.MkdirTemp("", "tenantgate-cluster-"); err != nil {
			return nil, err
		}
		c.ownDir = true
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	ready := false
	defer func() {
		if !ready {
			c.ownDir = false // keep the logs the error points to
			c.Stop()
		}
	}()
	if c.out == nil {
		if c.outFile, err = os.Create(filepath.Join(c.Dir, "control-plane.log")); err != nil {
			return nil, err
		}
		c.out = c.outFile
	}

	var crds []string
	if !opts.NoCRDs {
		if crds, err = c.crdPaths(opts.ExperimentalCRDs); err != nil {
			return nil, err
		}
	}
	c.Env = &envtest.Environment{
		BinaryAssetsDirectory:    bin,
		CRDDirectoryPaths:        crds,
		ErrorIfCRDPathMissing:    !opts.NoCRDs,
		WebhookInstallOptions:    opts.Webhooks,
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  30 * time.Second,
	}
	api := c.Env.ControlPlane.GetAPIServer()
	api.Out, api.Err = c.out, c.out
	args := api.Configure()
	// The real admission chain: service accounts exist because the controller
	// manager creates them, and nodes may only touch their own objects.
	args.Set("disable-admission-plugins", "")
	args.Set("enable-admission-plugins", "NodeRestriction")
	args.Set("authorization-mode", "Node", "RBAC")
	args.Set("service-cluster-ip-range", serviceCIDR)
	// No kube-proxy runs and the advertise address is loopback, which
	// EndpointSlices refuse; the kubernetes Service needs no endpoints here.
	args.Set("endpoint-reconciler-type", "none")
	// Webhooks and aggregated APIs are called at their Service's endpoints
	// (Pod IPs on the bridge), as no kube-proxy implements ClusterIPs here.
	args.Set("enable-aggregator-routing", "true")
	// `kubectl logs` reaches the node agent at its bridge address.
	args.Set("kubelet-preferred-address-types", "InternalIP")
	c.Env.ControlPlane.Etcd = &envtest.Etcd{Out: c.out, Err: c.out}

	ReapDead()
	c.log.Info("starting etcd and kube-apiserver")
	if _, err := c.Env.Start(); err != nil {
		return nil, fmt.Errorf("starting etcd and kube-apiserver: %w", err)
	}
	c.recordOwner()
	admin, err := c.Env.AddUser(envtest.User{Name: "tenantgate-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	c.Admin = admin.Config()
	if c.AdminKubeconfig, err = c.writeKubeconfig("admin", admin); err != nil {
		return nil, err
	}

	c.log.Info("starting kube-controller-manager")
	if err := c.startControllerManager(ctx); err != nil {
		return nil, err
	}

	c.log.Info("starting the node agent")
	if err := c.startNode(ctx, opts); err != nil {
		return nil, err
	}
	ready = true
	return c, nil
}

func (c *Cluster) crdPaths(experimental bool) ([]string, error) {
	return CRDPaths(c.root, experimental)
}

// CRDPaths are the folders of the CRDs a cluster gets: the Gateway API's
// standard (or experimental) channel and the Tenant CRD.
func CRDPaths(root string, experimental bool) ([]string, error) {
	gw, err := ModuleDir(root, "sigs.k8s.io/gateway-api")
	if err != nil {
		return nil, err
	}
	channel := "standard"
	if experimental {
		channel = "experimental"
	}
	return []string{
		filepath.Join(gw, "config", "crd", channel),
		filepath.Join(root, "manifests", "crds"),
	}, nil
}

func (c *Cluster) writeKubeconfig(name string, user *envtest.AuthenticatedUser) (string, error) {
	data, err := user.KubeConfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(c.Dir, name+".kubeconfig")
	return path, os.WriteFile(path, data, 0o600)
}

func (c *Cluster) startNode(ctx context.Context, opts Options) error {
	name := opts.NodeName
	if name == "" {
		name = "tenantgate-node"
	}
	kubelet, err := c.Env.AddUser(envtest.User{Name: "system:node:" + name, Groups: []string{"system:nodes", "system:authenticated"}}, nil)
	if err != nil {
		return err
	}
	scheduler, err := c.Env.AddUser(envtest.User{Name: "system:kube-scheduler"}, nil)
	if err != nil {
		return err
	}
	nodeClient, err := kubernetes.NewForConfig(kubelet.Config())
	if err != nil {
		return err
	}
	schedClient, err := kubernetes.NewForConfig(scheduler.Config())
	if err != nil {
		return err
	}
	images := node.KnownImages(c.bin)
	maps.Copy(images, opts.Images)
	serving := c.Env.ControlPlane.APIServer.SecureServing
	c.Node, err = node.New(node.Config{
		Name:      name,
		Client:    nodeClient,
		Scheduler: schedClient,
		Images:    images,
		APIServer: net.JoinHostPort(serving.Address, serving.Port),
		StateDir:  filepath.Join(c.Dir, "pods"),
		Log:       c.log.WithName("node"),
	})
	if err != nil {
		return err
	}
	agentCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	c.cancelAgent = cancel
	c.agentDone = make(chan struct{})
	started := make(chan error, 1)
	go func() {
		defer close(c.agentDone)
		c.Node.Run(agentCtx, started)
	}()
	select {
	case err := <-started:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop stops the node agent (its Pods, network namespaces and bridge), the
// controller manager, kube-apiserver and etcd, and removes the state folder
// when Start made it. It is safe to call more than once.
func (c *Cluster) Stop() error {
	var errs []error
	if c.cancelAgent != nil {
		c.cancelAgent()
		<-c.agentDone
		c.cancelAgent = nil
	}
	if c.cm != nil {
		errs = append(errs, c.cm.Stop(10*time.Second))
		c.cm = nil
	}
	if c.Env != nil {
		errs = append(errs, c.Env.Stop())
		c.Env = nil
		c.forgetOwner()
	}
	if c.outFile != nil {
		c.outFile.Close()
		c.outFile = nil
	}
	if c.ownDir && c.Dir != "" {
		errs = append(errs, os.RemoveAll(c.Dir))
		c.ownDir = false
	}
	return errors.Join(errs...)
}
