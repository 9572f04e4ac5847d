package cluster_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tenantgate/tenantgate/tests/cluster"
)

// TestLocalCluster runs echo-basic as a real Deployment behind a Service,
// reaches every Pod through its own network namespace, and then checks that
// Stop leaves no process, namespace or bridge behind.
func TestLocalCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		t.Fatalf("starting the local cluster: %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			c.Stop()
		}
	}()
	subnet := c.Node.Subnet()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	client := kubernetes.NewForConfigOrDie(c.Admin)

	t.Run("node is Ready", func(t *testing.T) {
		n, err := client.CoreV1().Nodes().Get(ctx, "tenantgate-node", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if !nodeReady(n) {
			t.Fatalf("node conditions: %+v", n.Status.Conditions)
		}
	})

	t.Run("echo Deployment serves from each Pod", func(t *testing.T) {
		ns := createNamespace(t, ctx, client, "echo")
		labels := map[string]string{"app": "echo"}
		_, err := client.AppsV1().Deployments(ns).Create(ctx, echoDeployment("echo", labels, 2), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "echo"},
			Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{
				{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(3000)},
			}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		addrs := waitReadyEndpoints(t, ctx, client, ns, "echo", 2)
		pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		byIP := map[string]string{}
		for _, p := range pods.Items {
			byIP[p.Status.PodIP] = p.Name
		}
		for _, ip := range addrs {
			var echo struct{ Pod, Namespace string }
			body := get(t, fmt.Sprintf("http://%s:3000/", ip))
			if err := json.Unmarshal([]byte(body), &echo); err != nil {
				t.Fatalf("endpoint %s answered %q: %v", ip, body, err)
			}
			if byIP[ip] == "" || echo.Pod != byIP[ip] || echo.Namespace != ns {
				t.Errorf("endpoint %s answered pod %s/%s; want %s/%s", ip, echo.Namespace, echo.Pod, ns, byIP[ip])
			}
		}
	})

	t.Run("kubectl logs reaches the node agent", func(t *testing.T) {
		pods, err := client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{LabelSelector: "app=echo"})
		if err != nil || len(pods.Items) == 0 {
			t.Fatalf("no echo pods: %v", err)
		}
		p := pods.Items[0]
		since := metav1.NewTime(time.Now().Add(-time.Hour))
		data, err := client.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: "echo", SinceTime: &since}).DoRaw(ctx)
		if err != nil {
			t.Fatalf("pod logs: %v", err)
		}
		if !strings.Contains(string(data), "Starting server") {
			t.Errorf("logs of %s do not show echo-basic starting: %q", p.Name, data)
		}
		future := metav1.NewTime(time.Now().Add(time.Hour))
		data, err = client.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: "echo", SinceTime: &future}).DoRaw(ctx)
		if err != nil || len(data) != 0 {
			t.Errorf("logs since a future time: %q, %v; want none", data, err)
		}
	})

	t.Run("unknown image stays Pending with an event", func(t *testing.T) {
		ns := createNamespace(t, ctx, client, "unknown")
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "mystery"},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: "example.invalid/mystery:1"}}},
		}
		if _, err := client.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			evs, err := client.CoreV1().Events(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, err
			}
			for _, e := range evs.Items {
				if e.Reason == "UnknownImage" && strings.Contains(e.Message, "example.invalid/mystery:1") {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			t.Fatalf("no UnknownImage event: %v", err)
		}
		got, err := client.CoreV1().Pods(ns).Get(ctx, "mystery", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase != corev1.PodPending {
			t.Errorf("phase %s, want Pending", got.Status.Phase)
		}
	})

	t.Run("a Pod reaches the API server as its ServiceAccount", func(t *testing.T) {
		ns := createNamespace(t, ctx, client, "incluster")
		if _, err := client.AppsV1().Deployments(ns).Create(ctx, echoDeployment("echo", map[string]string{"app": "echo"}, 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		waitReadyEndpoints(t, ctx, client, ns, "", 0)
		pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) != 1 {
			t.Fatalf("pods: %v %v", pods, err)
		}
		pod := pods.Items[0]
		// The volume the API server's ServiceAccount admission added, as the agent wrote it.
		var volume string
		for _, v := range pod.Spec.Volumes {
			if strings.HasPrefix(v.Name, "kube-api-access-") {
				volume = filepath.Join(c.Dir, "pods", ns+"_"+pod.Name, "volumes", v.Name)
			}
		}
		if volume == "" {
			t.Fatalf("pod %s has no kube-api-access volume: %+v", pod.Name, pod.Spec.Volumes)
		}
		if data, err := os.ReadFile(filepath.Join(volume, "namespace")); err != nil || string(data) != ns {
			t.Errorf("namespace file: %q, %v; want %q", data, err, ns)
		}
		token, err := os.ReadFile(filepath.Join(volume, "token"))
		if err != nil {
			t.Fatal(err)
		}
		// kubelet refreshes tokens; this agent writes one, which the API
		// server extends (--service-account-extend-token-expiration) from
		// the requested 3607 s to a year, so long make run sessions keep working.
		if life := tokenLifetime(t, string(token)); life < 24*time.Hour {
			t.Errorf("the Pod's token lives %s; want it extended well beyond the requested hour", life)
		}
		// Inside the Pod's network namespace, at the address and port its
		// KUBERNETES_SERVICE_HOST/PORT name, with its token and ca.crt.
		serving := c.Env.ControlPlane.APIServer.SecureServing
		ip := net.ParseIP(pod.Status.PodIP).To4()
		netns := fmt.Sprintf("tgp%d-%d", ip[2], ip[3]-1)
		out, err := exec.CommandContext(ctx, "ip", "netns", "exec", netns, filepath.Join(root, "bin", "kubectl"),
			"--server=https://"+net.JoinHostPort(serving.Address, serving.Port), "--token="+string(token),
			"--certificate-authority="+filepath.Join(volume, "ca.crt"),
			"auth", "whoami", "-o", "jsonpath={.status.userInfo.username} {.status.userInfo.extra.authentication\\.kubernetes\\.io/pod-name[0]}").CombinedOutput()
		if want := "system:serviceaccount:" + ns + ":default " + pod.Name; err != nil || string(out) != want {
			t.Errorf("kubectl auth whoami from inside the Pod: %q, %v; want %q", out, err, want)
		}
	})

	t.Run("a failing liveness probe restarts the container", func(t *testing.T) {
		ns := createNamespace(t, ctx, client, "liveness")
		d := echoDeployment("echo", map[string]string{"app": "echo"}, 1)
		d.Spec.Template.Spec.Containers[0].LivenessProbe = &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(3999)}}, // nothing listens there
			PeriodSeconds: 1, FailureThreshold: 2,
		}
		if _, err := client.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil || len(pods.Items) == 0 || len(pods.Items[0].Status.ContainerStatuses) == 0 {
				return false, err
			}
			return pods.Items[0].Status.ContainerStatuses[0].RestartCount >= 2, nil
		})
		if err != nil {
			t.Errorf("the container was not restarted twice within a minute of failing its liveness probe: %v", err)
		}
	})

	t.Run("deleting a Pod stops its process and namespace", func(t *testing.T) {
		ns := createNamespace(t, ctx, client, "gone")
		_, err := client.AppsV1().Deployments(ns).Create(ctx, echoDeployment("gone", map[string]string{"app": "gone"}, 1), metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		waitReadyEndpoints(t, ctx, client, ns, "", 0)
		before := countNetns(t, subnet)
		if err := client.AppsV1().Deployments(ns).Delete(ctx, "gone", metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationForeground)}); err != nil {
			t.Fatal(err)
		}
		err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			return err == nil && len(pods.Items) == 0 && countNetns(t, subnet) < before, err
		})
		if err != nil {
			t.Fatalf("pod or namespace not removed: %v", err)
		}
	})

	if err := c.Stop(); err != nil {
		t.Fatalf("stopping: %v", err)
	}
	stopped = true
	// Parallel test packages run their own clusters and may claim the freed
	// pod network at once; they can only do so after our bridge was deleted
	// (claiming is creating the bridge), and our namespaces go before it.
	index := strings.Split(subnet, ".")[2]
	owner, err := os.ReadFile("/run/tenantgate/net/" + index)
	switch {
	case err == nil && strings.TrimSpace(string(owner)) == strconv.Itoa(os.Getpid()):
		t.Errorf("pod network %s is still recorded as ours after Stop", subnet)
	case err == nil:
		t.Logf("pod network %s was freed and is now used by process %s", subnet, strings.TrimSpace(string(owner)))
	default:
		if n := countNetns(t, subnet); n != 0 {
			t.Errorf("%d pod network namespaces of %s remain after Stop", n, subnet)
		}
		if err := exec.Command("ip", "link", "show", "tgbr"+index).Run(); err == nil {
			t.Errorf("bridge tgbr%s remains after Stop", index)
		}
	}
	if out, _ := exec.Command("pgrep", "-f", "echo-basic|kube-apiserver --|kube-controller-manager --kubeconfig="+c.Dir).Output(); len(out) > 0 {
		// Other test packages may run their own clusters; only ours must be gone.
		for _, pid := range strings.Fields(string(out)) {
			cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			if strings.Contains(string(cmdline), c.Dir) {
				t.Errorf("process %s (%s) survived Stop", pid, cmdline)
			}
		}
	}
}

func echoDeployment(name string, labels map[string]string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "echo", Image: "gateway-api/echo-basic:v1.6.3",
					Ports: []corev1.ContainerPort{{ContainerPort: 3000}},
					Env: []corev1.EnvVar{
						{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
					},
				}}},
			},
		},
	}
}

func createNamespace(t *testing.T, ctx context.Context, client kubernetes.Interface, prefix string) string {
	t.Helper()
	ns, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return ns.Name
}

// waitReadyEndpoints waits until the Service's EndpointSlices list want ready
// addresses (or, with service "", until every Pod in ns is Ready).
func waitReadyEndpoints(t *testing.T, ctx context.Context, client kubernetes.Interface, ns, service string, want int) []string {
	t.Helper()
	var addrs []string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		if service == "" {
			pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil || len(pods.Items) == 0 {
				return false, err
			}
			for _, p := range pods.Items {
				if p.Status.PodIP == "" || !podReady(&p) {
					return false, nil
				}
			}
			return true, nil
		}
		slices, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + service})
		if err != nil {
			return false, err
		}
		addrs = nil
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready {
					addrs = append(addrs, e.Addresses...)
				}
			}
		}
		return len(addrs) == want, nil
	})
	if err != nil {
		t.Fatalf("waiting for %d ready endpoints of %s/%s: %v (have %v)", want, ns, service, err, addrs)
	}
	return addrs
}

func get(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, resp.StatusCode)
	}
	return string(body)
}

func countNetns(t *testing.T, subnet string) int {
	t.Helper()
	index := strings.Split(subnet, ".")[2]
	entries, _ := os.ReadDir("/run/netns")
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tgp"+index+"-") {
			n++
		}
	}
	return n
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// tokenLifetime is exp - iat of a service-account JWT.
func tokenLifetime(t *testing.T, jwt string) time.Duration {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct{ Exp, Iat int64 }
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return time.Duration(claims.Exp-claims.Iat) * time.Second
}
