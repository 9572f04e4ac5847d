package node

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/tenantgate/tenantgate/tests/cluster/proc"
)

// podRuntime is one running Pod: its sandbox and container processes.
type podRuntime struct {
	agent   *Agent
	key     types.NamespacedName
	uid     types.UID
	slot    int
	sandbox sandbox
	api     *apiForwarder // the API server inside the Pod's namespace, when configured
	started metav1.Time
	cancel  context.CancelFunc
	done    chan struct{}

	mu         sync.Mutex
	containers []*containerRuntime
}

type containerRuntime struct {
	spec     corev1.Container
	binary   string
	env      []string
	logPath  string
	mounts   []mount
	logs     *logSink
	process  *proc.Process
	started  metav1.Time
	restarts int32
	ready    bool
	// readiness and liveness count consecutive probe results since launch.
	readiness, liveness prober
}

func (a *Agent) sync(ctx context.Context, key types.NamespacedName) error {
	obj, exists, err := a.pods.GetByKey(key.String())
	if err != nil {
		return err
	}
	a.mu.Lock()
	rt := a.running[key]
	a.mu.Unlock()
	if !exists {
		if rt != nil {
			a.release(rt, 2*time.Second)
		}
		return nil
	}
	pod := obj.(*corev1.Pod)
	if rt != nil && rt.uid != pod.UID { // same name, new Pod
		a.release(rt, 2*time.Second)
		rt = nil
	}
	if pod.DeletionTimestamp != nil {
		grace := 2 * time.Second
		if g := pod.DeletionGracePeriodSeconds; g != nil && *g < 2 {
			grace = time.Duration(*g) * time.Second
		}
		if rt != nil {
			a.release(rt, grace)
		}
		// As kubelet does: once the containers are gone, remove the object.
		err := a.cfg.Client.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, metav1.DeleteOptions{
			GracePeriodSeconds: ptr.To[int64](0), Preconditions: metav1.NewUIDPreconditions(string(pod.UID)),
		})
		if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
			return nil
		}
		return err
	}
	if rt != nil || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return nil
	}
	return a.startPod(ctx, pod)
}

func (a *Agent) startPod(ctx context.Context, pod *corev1.Pod) error {
	if len(pod.Spec.InitContainers) > 0 {
		return a.reportUnrunnable(ctx, pod, "InitContainersUnsupported", "the local node agent does not run init containers")
	}
	binaries := make([]string, len(pod.Spec.Containers))
	for i, c := range pod.Spec.Containers {
		bin, ok := a.cfg.Images.Resolve(c.Image)
		if !ok {
			return a.reportUnrunnable(ctx, pod, "UnknownImage", fmt.Sprintf(
				"the local node agent cannot run image %q (container %s); it runs only %v", c.Image, c.Name, a.cfg.Images.Names()))
		}
		binaries[i] = bin
	}

	rt := &podRuntime{agent: a, key: types.NamespacedName{Namespace: pod.Namespace, Name: pod.Name}, uid: pod.UID, started: metav1.Now()}
	a.mu.Lock()
	for rt.slot = 1; a.slots[rt.slot]; rt.slot++ {
	}
	if rt.slot > 253 {
		a.mu.Unlock()
		return fmt.Errorf("pod network %s is full", a.net.prefix)
	}
	a.slots[rt.slot] = true
	a.mu.Unlock()
	rt.sandbox = a.net.sandboxFor(rt.slot)
	if err := a.net.create(rt.sandbox); err != nil {
		a.freeSlot(rt.slot)
		return err
	}
	dir := filepath.Join(a.cfg.StateDir, pod.Namespace+"_"+pod.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		a.net.destroy(rt.sandbox)
		a.freeSlot(rt.slot)
		return err
	}
	if a.cfg.APIServer != "" {
		var err error
		if rt.api, err = forwardAPIServer(rt.sandbox.netns, a.cfg.APIServer); err != nil {
			rt.teardown(0)
			a.freeSlot(rt.slot)
			return err
		}
	}
	volumes, err := materializeVolumes(ctx, a.cfg.Client, pod, dir)
	if err != nil {
		rt.teardown(0)
		a.freeSlot(rt.slot)
		return a.configError(ctx, pod, err)
	}
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		env, err := containerEnv(ctx, a.cfg.Client, pod, c, rt.sandbox.ip.String(), a.net.gateway.String(), a.serviceEnv())
		if err != nil {
			rt.teardown(0)
			a.freeSlot(rt.slot)
			return a.configError(ctx, pod, err)
		}
		rt.containers = append(rt.containers, &containerRuntime{
			spec: *c, binary: binaries[i], env: env, logPath: filepath.Join(dir, c.Name+".log"),
			mounts: containerMounts(c, volumes),
		})
		a.noteMountTargets(rt.containers[len(rt.containers)-1].mounts)
	}
	for _, c := range rt.containers {
		if err := rt.launch(c); err != nil {
			rt.teardown(0)
			a.freeSlot(rt.slot)
			return err
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	rt.cancel, rt.done = cancel, make(chan struct{})
	a.mu.Lock()
	a.running[rt.key] = rt
	a.mu.Unlock()
	a.cfg.Log.V(1).Info("pod started", "pod", rt.key.String(), "ip", rt.sandbox.ip.String())
	go rt.supervise(runCtx)
	return nil
}

func (a *Agent) freeSlot(slot int) {
	a.mu.Lock()
	delete(a.slots, slot)
	a.mu.Unlock()
}

// release stops a Pod's processes and removes its sandbox.
func (a *Agent) release(rt *podRuntime, grace time.Duration) {
	rt.stop(grace)
	a.mu.Lock()
	if a.running[rt.key] == rt {
		delete(a.running, rt.key)
	}
	delete(a.slots, rt.slot)
	a.mu.Unlock()
}

// configError reports a Secret or ConfigMap the Pod needs but that is not
// there yet, and retries: as with kubelet, the Pod starts once it appears.
func (a *Agent) configError(ctx context.Context, pod *corev1.Pod, err error) error {
	if rerr := a.reportUnrunnable(ctx, pod, "CreateContainerConfigError", err.Error()); rerr != nil {
		return rerr
	}
	return fmt.Errorf("pod %s/%s waits for its configuration: %w", pod.Namespace, pod.Name, err)
}

// reportUnrunnable leaves the Pod Pending and says why, in status and in an Event.
func (a *Agent) reportUnrunnable(ctx context.Context, pod *corev1.Pod, reason, message string) error {
	if c := podCondition(pod, corev1.ContainersReady); c != nil && c.Reason == reason {
		return nil // already reported
	}
	status := pod.Status.DeepCopy()
	status.Phase = corev1.PodPending
	status.HostIP = a.net.gateway.String()
	setCondition(status, corev1.PodScheduled, corev1.ConditionTrue, "", "")
	setCondition(status, corev1.ContainersReady, corev1.ConditionFalse, reason, message)
	setCondition(status, corev1.PodReady, corev1.ConditionFalse, reason, message)
	status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		status.ContainerStatuses = append(status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}},
		})
	}
	updated := pod.DeepCopy()
	updated.Status = *status
	if _, err := a.cfg.Client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{}); err != nil {
		return err
	}
	now := metav1.Now()
	_, err := a.cfg.Client.CoreV1().Events(pod.Namespace).Create(ctx, &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: pod.Name + ".", Namespace: pod.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		Reason:         reason, Message: message, Type: corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "kubelet", Host: a.cfg.Name},
		FirstTimestamp: now, LastTimestamp: now, Count: 1,
	}, metav1.CreateOptions{})
	return err
}

// launch runs a container's binary inside the Pod's network namespace.
func (rt *podRuntime) launch(c *containerRuntime) error {
	if c.logs == nil {
		sink, err := openLogSink(c.logPath)
		if err != nil {
			return err
		}
		c.logs = sink
	}
	out, err := c.logs.pipe()
	if err != nil {
		return err
	}
	defer out.Close() // the child keeps its own copy
	argv := append([]string{"ip", "netns", "exec", rt.sandbox.netns, c.binary}, append(c.spec.Command, c.spec.Args...)...)
	argv = wrapWithMounts(argv, c.mounts)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = c.env
	cmd.Stdout, cmd.Stderr = out, out
	p, err := proc.Start(cmd)
	if err != nil {
		return err
	}
	c.process, c.started, c.ready = p, metav1.Now(), false
	c.readiness, c.liveness = prober{spec: c.spec.ReadinessProbe}, prober{spec: c.spec.LivenessProbe}
	return nil
}

// supervise restarts exited containers (and those their liveness probe
// failed), probes readiness and reports status whenever it changes.
func (rt *podRuntime) supervise(ctx context.Context) {
	defer close(rt.done)
	var last string
	for {
		changed := false
		rt.mu.Lock()
		for _, c := range rt.containers {
			select {
			case <-c.process.Done():
				rt.agent.cfg.Log.Info("container exited; restarting", "pod", rt.key.String(), "container", c.spec.Name, "error", fmt.Sprint(c.process.Err()))
				c.restarts++
				if err := rt.launch(c); err != nil {
					rt.agent.cfg.Log.Error(err, "restarting container", "pod", rt.key.String())
				}
				changed = true
			default:
			}
			if rt.checkLiveness(ctx, c) {
				changed = true // killed; restarted on the next pass
				continue
			}
			if ready := rt.checkReadiness(ctx, c); ready != c.ready {
				c.ready, changed = ready, true
			}
		}
		rt.mu.Unlock()
		if changed || last == "" {
			if err := rt.report(ctx); err == nil {
				last = "reported"
			} else if ctx.Err() == nil {
				rt.agent.cfg.Log.V(1).Info("pod status update failed", "pod", rt.key.String(), "error", err.Error())
				last = ""
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(probePeriod(rt.containers)):
		}
	}
}

// report writes the Pod's status as kubelet would.
func (rt *podRuntime) report(ctx context.Context) error {
	pods := rt.agent.cfg.Client.CoreV1().Pods(rt.key.Namespace)
	pod, err := pods.Get(ctx, rt.key.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if pod.UID != rt.uid {
		return nil
	}
	rt.mu.Lock()
	allReady := true
	var statuses []corev1.ContainerStatus
	for _, c := range rt.containers {
		allReady = allReady && c.ready
		statuses = append(statuses, corev1.ContainerStatus{
			Name: c.spec.Name, Image: c.spec.Image, ImageID: "local://" + c.binary, Ready: c.ready,
			Started: ptr.To(true), RestartCount: c.restarts,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: c.started}},
		})
	}
	rt.mu.Unlock()
	ready := corev1.ConditionFalse
	if allReady {
		ready = corev1.ConditionTrue
	}
	s := &pod.Status
	s.Phase = corev1.PodRunning
	s.HostIP = rt.agent.net.gateway.String()
	s.HostIPs = []corev1.HostIP{{IP: s.HostIP}}
	s.PodIP = rt.sandbox.ip.String()
	s.PodIPs = []corev1.PodIP{{IP: s.PodIP}}
	s.StartTime = &rt.started
	s.ContainerStatuses = statuses
	setCondition(s, corev1.PodScheduled, corev1.ConditionTrue, "", "")
	setCondition(s, corev1.PodInitialized, corev1.ConditionTrue, "", "")
	setCondition(s, corev1.PodReadyToStartContainers, corev1.ConditionTrue, "", "")
	setCondition(s, corev1.ContainersReady, ready, "", "")
	setCondition(s, corev1.PodReady, ready, "", "")
	_, err = pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	return err
}

// stop ends supervision, stops the processes and removes the sandbox.
func (rt *podRuntime) stop(grace time.Duration) {
	if rt.cancel != nil {
		rt.cancel()
		<-rt.done
	}
	rt.teardown(grace)
}

func (rt *podRuntime) teardown(grace time.Duration) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for _, c := range rt.containers {
		if c.process != nil {
			_ = c.process.Stop(grace)
		}
		if c.logs != nil {
			c.logs.Close()
		}
	}
	if rt.api != nil {
		rt.api.Close()
		rt.api = nil
	}
	rt.agent.net.destroy(rt.sandbox)
}

func podCondition(pod *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == t {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

func setCondition(s *corev1.PodStatus, t corev1.PodConditionType, status corev1.ConditionStatus, reason, message string) {
	for i := range s.Conditions {
		c := &s.Conditions[i]
		if c.Type == t {
			if c.Status != status {
				c.LastTransitionTime = metav1.Now()
			}
			c.Status, c.Reason, c.Message = status, reason, message
			return
		}
	}
	s.Conditions = append(s.Conditions, corev1.PodCondition{Type: t, Status: status, Reason: reason, Message: message, LastTransitionTime: metav1.Now()})
}
