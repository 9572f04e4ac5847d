package node

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// Config configures an Agent.
type Config struct {
	// Name of the Node.
	Name string
	// Client acts as the node (system:node:<Name>): Node, Lease, Pod status.
	Client kubernetes.Interface
	// Scheduler binds pending Pods (system:kube-scheduler).
	Scheduler kubernetes.Interface
	// Images the node can run.
	Images Images
	// APIServer is the API server's loopback host:port on this machine. When
	// set, each Pod reaches it at the same address inside its own network
	// namespace, named by KUBERNETES_SERVICE_HOST/PORT, and gets its
	// projected service-account token, so in-cluster clients work.
	APIServer string
	// StateDir holds per-Pod logs.
	StateDir string
	Log      logr.Logger
}

// Agent plays kubelet for one Node.
type Agent struct {
	cfg   Config
	net   *network
	queue workqueue.TypedRateLimitingInterface[types.NamespacedName]
	pods  cache.Indexer

	mu      sync.Mutex
	running map[types.NamespacedName]*podRuntime
	slots   map[int]bool
	// madeDirs are mount targets that did not exist on the host; removed on shutdown.
	madeDirs map[string]bool
}

// noteMountTargets remembers mount targets the bind mounts will create,
// with their missing parents (/var/run/secrets/kubernetes.io/... on most hosts).
func (a *Agent) noteMountTargets(ms []mount) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range ms {
		for dir := m.target; dir != "/" && dir != "."; dir = filepath.Dir(dir) {
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				break
			}
			a.madeDirs[dir] = true
		}
	}
}

// New checks the configuration; Run does the work.
func New(cfg Config) (*Agent, error) {
	if cfg.Name == "" || cfg.Client == nil || cfg.Scheduler == nil {
		return nil, errors.New("node agent needs a name, a node client and a scheduler client")
	}
	if cfg.Log.GetSink() == nil {
		cfg.Log = logr.Discard()
	}
	return &Agent{cfg: cfg, running: map[types.NamespacedName]*podRuntime{}, slots: map[int]bool{}, madeDirs: map[string]bool{}}, nil
}

// Subnet is the Pod network, e.g. 10.244.3.0/24; empty before Run.
func (a *Agent) Subnet() string {
	if a.net == nil {
		return ""
	}
	return a.net.prefix.String()
}

// Run sets up the pod network, registers the Node, reports on started once
// the Node is Ready (or why it could not be), and serves until ctx ends; then
// it stops every Pod process and removes the network.
func (a *Agent) Run(ctx context.Context, started chan<- error) {
	var err error
	if a.net, err = newNetwork(); err != nil {
		started <- err
		return
	}
	defer a.shutdown()
	if err := a.serveKubelet(ctx); err != nil {
		started <- err
		return
	}
	if err := a.registerNode(ctx); err != nil {
		started <- fmt.Errorf("registering node %s: %w", a.cfg.Name, err)
		return
	}

	a.queue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName]())
	defer a.queue.ShutDown()
	mine := informers.NewSharedInformerFactoryWithOptions(a.cfg.Client, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", a.cfg.Name).String()
	}))
	pending := informers.NewSharedInformerFactoryWithOptions(a.cfg.Scheduler, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.nodeName", "").String()
	}))
	podInformer := mine.Core().V1().Pods().Informer()
	a.pods = podInformer.GetIndexer()
	enqueue := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if pod, ok := obj.(*corev1.Pod); ok {
			a.queue.Add(types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name})
		}
	}
	handler := cache.ResourceEventHandlerFuncs{AddFunc: enqueue, UpdateFunc: func(_, n any) { enqueue(n) }, DeleteFunc: enqueue}
	if _, err := podInformer.AddEventHandler(handler); err != nil {
		started <- err
		return
	}
	if _, err := pending.Core().V1().Pods().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { a.bind(ctx, obj) },
		UpdateFunc: func(_, obj any) { a.bind(ctx, obj) },
	}); err != nil {
		started <- err
		return
	}
	mine.Start(ctx.Done())
	pending.Start(ctx.Done())
	defer mine.Shutdown()
	defer pending.Shutdown()
	mine.WaitForCacheSync(ctx.Done())
	pending.WaitForCacheSync(ctx.Done())

	go a.heartbeat(ctx)
	for range 2 {
		go func() {
			for a.processNext(ctx) {
			}
		}()
	}
	started <- nil
	<-ctx.Done()
}

func (a *Agent) shutdown() {
	if a.queue != nil {
		a.queue.ShutDown()
	}
	a.mu.Lock()
	runtimes := make([]*podRuntime, 0, len(a.running))
	for _, rt := range a.running {
		runtimes = append(runtimes, rt)
	}
	a.mu.Unlock()
	for _, rt := range runtimes {
		rt.stop(2 * time.Second)
	}
	// Deepest first; Remove only succeeds while empty, so it never removes what others put there.
	dirs := slices.Collect(maps.Keys(a.madeDirs))
	slices.SortFunc(dirs, func(x, y string) int { return len(y) - len(x) })
	for _, dir := range dirs {
		os.Remove(dir)
	}
	if err := a.net.teardown(); err != nil {
		a.cfg.Log.Error(err, "removing the pod network")
	}
}

// bind plays the scheduler: every pending Pod goes to the one Node.
func (a *Agent) bind(ctx context.Context, obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil {
		return
	}
	err := a.cfg.Scheduler.CoreV1().Pods(pod.Namespace).Bind(ctx, &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: a.cfg.Name},
	}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsConflict(err) && !apierrors.IsNotFound(err) {
		a.cfg.Log.Error(err, "binding pod", "pod", pod.Namespace+"/"+pod.Name)
	}
}

func (a *Agent) nodeStatus() corev1.NodeStatus {
	now := metav1.Now()
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("2"),
		corev1.ResourceMemory: resource.MustParse("24Gi"),
		corev1.ResourcePods:   resource.MustParse("250"),
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Conditions: []corev1.NodeCondition{{
			Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "LocalNodeAgentReady",
			Message: "the tenantgate local node agent is running", LastHeartbeatTime: now, LastTransitionTime: now,
		}},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: kubeletPort}},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: a.net.gateway.String()},
			{Type: corev1.NodeHostName, Address: a.cfg.Name},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion: "v1.37.2", OperatingSystem: "linux", Architecture: "amd64",
			ContainerRuntimeVersion: "tenantgate-local://0",
		},
	}
}

func (a *Agent) registerNode(ctx context.Context) error {
	nodes := a.cfg.Client.CoreV1().Nodes()
	n, err := nodes.Get(ctx, a.cfg.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		n, err = nodes.Create(ctx, &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: a.cfg.Name, Labels: map[string]string{
				"kubernetes.io/hostname": a.cfg.Name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
			}},
			Spec: corev1.NodeSpec{PodCIDR: a.net.prefix.String(), PodCIDRs: []string{a.net.prefix.String()}},
		}, metav1.CreateOptions{})
	}
	if err != nil {
		return err
	}
	n.Status = a.nodeStatus()
	_, err = nodes.UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

// heartbeat renews the node Lease and Ready condition, as kubelet does.
func (a *Agent) heartbeat(ctx context.Context) {
	leases := a.cfg.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	for {
		now := metav1.NowMicro()
		lease, err := leases.Get(ctx, a.cfg.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			_, err = leases.Create(ctx, &coordinationv1.Lease{
				ObjectMeta: metav1.ObjectMeta{Name: a.cfg.Name, Namespace: corev1.NamespaceNodeLease},
				Spec: coordinationv1.LeaseSpec{
					HolderIdentity: ptr.To(a.cfg.Name), LeaseDurationSeconds: ptr.To[int32](40), RenewTime: &now,
				},
			}, metav1.CreateOptions{})
		case err == nil:
			lease.Spec.RenewTime = &now
			_, err = leases.Update(ctx, lease, metav1.UpdateOptions{})
		}
		if err == nil {
			err = a.registerNode(ctx)
		}
		if err != nil && ctx.Err() == nil {
			a.cfg.Log.V(1).Info("heartbeat failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

func (a *Agent) processNext(ctx context.Context) bool {
	key, quit := a.queue.Get()
	if quit {
		return false
	}
	defer a.queue.Done(key)
	if err := a.sync(ctx, key); err != nil {
		if ctx.Err() == nil {
			a.cfg.Log.Info("pod sync failed; retrying", "pod", key.String(), "error", err.Error())
		}
		a.queue.AddRateLimited(key)
		return true
	}
	a.queue.Forget(key)
	return true
}
