package loadbalancer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

// Options configures a Controller.
type Options struct {
	// Client may read Services and EndpointSlices, write Service status and create Events.
	Client kubernetes.Interface
	// Pool is the CIDR addresses come from, e.g. 127.11.0.0/16 (loopback,
	// so every address is local without configuring an interface).
	Pool string
	Log  logr.Logger
}

// Controller gives LoadBalancer Services an address and forwards their traffic.
type Controller struct {
	client   kubernetes.Interface
	log      logr.Logger
	queue    workqueue.TypedRateLimitingInterface[types.NamespacedName]
	services corelisters.ServiceLister
	slices   discoverylisters.EndpointSliceLister

	mu   sync.Mutex
	pool *pool
	lbs  map[types.NamespacedName]*balancer
	// refused Services wait for an address to be freed.
	refused map[types.NamespacedName]bool
}

// balancer is one Service's address and its listeners by Service port.
type balancer struct {
	addr netip.Addr
	fwd  map[int32]*forwarder
}

// New checks the options; Run does the work.
func New(opts Options) (*Controller, error) {
	if opts.Client == nil {
		return nil, errors.New("the load-balancer controller needs a Kubernetes client")
	}
	p, err := newPool(opts.Pool)
	if err != nil {
		return nil, err
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
	return &Controller{client: opts.Client, log: opts.Log, pool: p, lbs: map[types.NamespacedName]*balancer{}, refused: map[types.NamespacedName]bool{}}, nil
}

// Run serves until ctx ends, reporting on started once its caches are
// synced; then it closes every listener.
func (c *Controller) Run(ctx context.Context, started chan<- error) {
	c.queue = workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[types.NamespacedName]())
	defer c.queue.ShutDown()
	factory := informers.NewSharedInformerFactory(c.client, 0)
	svcInformer := factory.Core().V1().Services()
	sliceInformer := factory.Discovery().V1().EndpointSlices()
	c.services, c.slices = svcInformer.Lister(), sliceInformer.Lister()
	onService := func(obj any) {
		if key, err := cache.DeletionHandlingMetaNamespaceKeyFunc(obj); err == nil {
			ns, name, _ := cache.SplitMetaNamespaceKey(key)
			c.queue.Add(types.NamespacedName{Namespace: ns, Name: name})
		}
	}
	onSlice := func(obj any) {
		if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = tomb.Obj
		}
		if s, ok := obj.(*discoveryv1.EndpointSlice); ok && s.Labels[discoveryv1.LabelServiceName] != "" {
			c.queue.Add(types.NamespacedName{Namespace: s.Namespace, Name: s.Labels[discoveryv1.LabelServiceName]})
		}
	}
	for _, reg := range []struct {
		inf cache.SharedIndexInformer
		on  func(any)
	}{{svcInformer.Informer(), onService}, {sliceInformer.Informer(), onSlice}} {
		if _, err := reg.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: reg.on, UpdateFunc: func(_, n any) { reg.on(n) }, DeleteFunc: reg.on,
		}); err != nil {
			started <- err
			return
		}
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	for typ, ok := range factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			started <- fmt.Errorf("the load-balancer controller's %v cache did not sync", typ)
			return
		}
	}
	defer c.closeAll()
	var workers sync.WaitGroup
	for range 2 {
		workers.Go(func() {
			for c.processNext(ctx) {
			}
		})
	}
	started <- nil
	<-ctx.Done()
	c.queue.ShutDown()
	workers.Wait()
}

func (c *Controller) processNext(ctx context.Context) bool {
	key, quit := c.queue.Get()
	if quit {
		return false
	}
	defer c.queue.Done(key)
	if err := c.sync(ctx, key); err != nil {
		if ctx.Err() == nil {
			c.log.Info("load balancer sync failed; retrying", "service", key.String(), "error", err.Error())
			c.queue.AddRateLimited(key)
		}
		return true
	}
	c.queue.Forget(key)
	return true
}

func (c *Controller) sync(ctx context.Context, key types.NamespacedName) error {
	svc, err := c.services.Services(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) || (err == nil && !wanted(svc)) {
		c.mu.Lock()
		delete(c.refused, key)
		c.mu.Unlock()
		c.remove(key)
		if err == nil && len(svc.Status.LoadBalancer.Ingress) > 0 && svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			return c.writeStatus(ctx, svc, nil) // as the cloud controller does when the type changes
		}
		return nil
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	addr, err := c.pool.allocate(key.String(), svc.Spec.LoadBalancerIP)
	already := c.refused[key]
	c.refused[key] = err != nil
	c.mu.Unlock()
	if err != nil {
		c.remove(key)
		if already {
			return nil
		}
		return c.refuse(ctx, svc, err)
	}
	slices, err := c.slices.EndpointSlices(key.Namespace).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: key.Name}))
	if err != nil {
		return err
	}
	if err := c.program(key, addr, svc, backends(svc, slices)); err != nil {
		return err
	}
	want := []corev1.LoadBalancerIngress{{IP: addr.String(), IPMode: ptr.To(corev1.LoadBalancerIPModeVIP)}}
	if len(svc.Status.LoadBalancer.Ingress) == 1 && svc.Status.LoadBalancer.Ingress[0].IP == addr.String() {
		return nil
	}
	return c.writeStatus(ctx, svc, want)
}

// wanted reports Services this controller implements: type LoadBalancer
// without a loadBalancerClass naming another implementation.
func wanted(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer && svc.Spec.LoadBalancerClass == nil
}

// program opens a listener for each TCP port on addr, closes those the
// Service no longer has, and points them all at the current backends.
func (c *Controller) program(key types.NamespacedName, addr netip.Addr, svc *corev1.Service, be map[int32][]string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	lb := c.lbs[key]
	if lb != nil && lb.addr != addr {
		lb.closeAll()
		lb = nil
	}
	if lb == nil {
		lb = &balancer{addr: addr, fwd: map[int32]*forwarder{}}
		c.lbs[key] = lb
	}
	for port, f := range lb.fwd {
		if _, ok := be[port]; !ok {
			f.Close()
			delete(lb.fwd, port)
		}
	}
	var errs []error
	for port, addrs := range be {
		f := lb.fwd[port]
		if f == nil {
			var err error
			f, err = listen(net.JoinHostPort(addr.String(), strconv.Itoa(int(port))), c.log.WithValues("service", key.String(), "port", port))
			if err != nil {
				errs = append(errs, fmt.Errorf("listening for Service %s on %s port %d: %w", key, addr, port, err))
				continue
			}
			lb.fwd[port] = f
		}
		f.setBackends(addrs)
	}
	return errors.Join(errs...)
}

// remove closes a Service's listeners and frees its address.
func (c *Controller) remove(key types.NamespacedName) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lb := c.lbs[key]; lb != nil {
		lb.closeAll()
		delete(c.lbs, key)
		for waiting, ok := range c.refused {
			if ok && waiting != key {
				c.queue.Add(waiting) // the freed address may be the one it asked for
			}
		}
	}
	c.pool.release(key.String())
}

func (c *Controller) closeAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, lb := range c.lbs {
		lb.closeAll()
		delete(c.lbs, key)
	}
}

func (lb *balancer) closeAll() {
	for port, f := range lb.fwd {
		f.Close()
		delete(lb.fwd, port)
	}
}

func (c *Controller) writeStatus(ctx context.Context, svc *corev1.Service, ingress []corev1.LoadBalancerIngress) error {
	updated := svc.DeepCopy()
	updated.Status.LoadBalancer.Ingress = ingress
	_, err := c.client.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}

// refuse says on the Service why it gets no address; it is retried only
// when the Service or the pool changes, so it does not return an error.
func (c *Controller) refuse(ctx context.Context, svc *corev1.Service, reason error) error {
	c.log.Info("no load-balancer address", "service", svc.Namespace+"/"+svc.Name, "reason", reason.Error())
	now := metav1.NewTime(time.Now())
	_, err := c.client.CoreV1().Events(svc.Namespace).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: svc.Name + ".", Namespace: svc.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Service", APIVersion: "v1", Namespace: svc.Namespace, Name: svc.Name, UID: svc.UID},
		Reason:         "AllocationFailed", Message: reason.Error() + "; choose another spec.loadBalancerIP or leave it empty",
		Type: corev1.EventTypeWarning, Source: corev1.EventSource{Component: "tenantgate-local-loadbalancer"},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}, metav1.CreateOptions{})
	if len(svc.Status.LoadBalancer.Ingress) > 0 {
		if serr := c.writeStatus(ctx, svc, nil); serr != nil {
			return serr
		}
	}
	return err
}
