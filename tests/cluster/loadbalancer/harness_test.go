package loadbalancer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
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
	"github.com/tenantgate/tenantgate/tests/cluster/loadbalancer"
)

// TestLoadBalancerOnTheLocalCluster gives real Services of type LoadBalancer
// addresses from 127.77.0.0/24 and sends real connections through them to
// echo-basic Pods: a Service with a selector, a selector-less Service with a
// hand-written EndpointSlice, a requested spec.loadBalancerIP (honoured when
// in the pool and free, refused with an Event otherwise), and deletion and a
// type change, after which the listener is gone and the address is free.
func TestLoadBalancerOnTheLocalCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		t.Fatalf("starting the local cluster: %v", err)
	}
	defer c.Stop()
	client := kubernetes.NewForConfigOrDie(c.Admin)
	lb, err := loadbalancer.New(loadbalancer.Options{Client: client, Pool: "127.77.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	lbCtx, stopLB := context.WithCancel(ctx)
	started, stopped := make(chan error, 1), make(chan struct{})
	go func() { defer close(stopped); lb.Run(lbCtx, started) }()
	defer func() { stopLB(); <-stopped }()
	if err := <-started; err != nil {
		t.Fatal(err)
	}

	ns, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "lb-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "echo"}
	if _, err := client.AppsV1().Deployments(ns.Name).Create(ctx, echoDeployment(labels, 2), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc := func(name string, selector map[string]string, ip string) *corev1.Service {
		return &corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer, Selector: selector, LoadBalancerIP: ip,
				Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(3000)}}},
		}
	}
	if _, err := client.CoreV1().Services(ns.Name).Create(ctx, svc("echo", labels, ""), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	addr := waitAddress(t, ctx, client, ns.Name, "echo")

	t.Run("connections reach every ready Pod, round robin", func(t *testing.T) {
		seen := map[string]int{}
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
			seen = map[string]int{}
			for range 4 {
				pod, err := echoPod("http://" + addr + "/")
				if err != nil {
					return false, nil // Pods not ready yet
				}
				seen[pod]++
			}
			return len(seen) == 2, nil
		})
		if err != nil {
			t.Fatalf("four requests to %s reached %v; want both Pods twice", addr, seen)
		}
		// Both Pods answer now, so the forwarder has both endpoints: the
		// batch that first saw both may have begun while it knew one.
		seen = map[string]int{}
		for range 4 {
			pod, err := echoPod("http://" + addr + "/")
			if err != nil {
				t.Fatalf("request to %s once both Pods answered: %v", addr, err)
			}
			seen[pod]++
		}
		for pod, n := range seen {
			if n != 2 {
				t.Errorf("pod %s got %d of 4 requests; want 2 (round robin)", pod, n)
			}
		}
	})

	t.Run("a selector-less Service with its own EndpointSlice", func(t *testing.T) {
		pods, err := client.CoreV1().Pods(ns.Name).List(ctx, metav1.ListOptions{LabelSelector: "app=echo"})
		if err != nil || len(pods.Items) == 0 {
			t.Fatalf("echo Pods: %v", err)
		}
		target := pods.Items[0]
		if _, err := client.CoreV1().Services(ns.Name).Create(ctx, svc("manual", nil, "127.77.0.200"), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		_, err = client.DiscoveryV1().EndpointSlices(ns.Name).Create(ctx, &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Name: "manual-1", Labels: map[string]string{discoveryv1.LabelServiceName: "manual"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{target.Status.PodIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](3000)}},
		}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := waitAddress(t, ctx, client, ns.Name, "manual")
		if got != "127.77.0.200:80" {
			t.Errorf("the Service asked for 127.77.0.200 and got %s", got)
		}
		// The address is written when the Service is seen; its listener
		// forwards once the EndpointSlice is seen too, which may be a moment later.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if pod, err := echoPod("http://" + got + "/"); err == nil && pod == target.Name {
				break
			}
		}
		for range 3 {
			pod, err := echoPod("http://" + got + "/")
			if err != nil || pod != target.Name {
				t.Errorf("request through %s reached %q (%v); want the one endpoint %s", got, pod, err, target.Name)
			}
		}
	})

	t.Run("a requested address held by another Service is refused with an Event", func(t *testing.T) {
		host, _, _ := net.SplitHostPort(addr)
		if _, err := client.CoreV1().Services(ns.Name).Create(ctx, svc("thief", labels, host), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		var msg string
		err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			events, err := client.CoreV1().Events(ns.Name).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.name=thief"})
			if err != nil || len(events.Items) == 0 {
				return false, err
			}
			msg = events.Items[0].Message
			return true, nil
		})
		want := fmt.Sprintf("spec.loadBalancerIP %s is already used by Service %s/echo; choose another spec.loadBalancerIP or leave it empty", host, ns.Name)
		if err != nil || msg != want {
			t.Errorf("event for the refused Service: %q (%v); want %q", msg, err, want)
		}
		s, _ := client.CoreV1().Services(ns.Name).Get(ctx, "thief", metav1.GetOptions{})
		if len(s.Status.LoadBalancer.Ingress) != 0 {
			t.Errorf("the refused Service has status %v; want no ingress", s.Status.LoadBalancer.Ingress)
		}
	})

	t.Run("deleting the holder frees the address for the one that asked", func(t *testing.T) {
		if err := client.CoreV1().Services(ns.Name).Delete(ctx, "echo", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		if got := waitAddress(t, ctx, client, ns.Name, "thief"); got != addr {
			t.Errorf("after the holder was deleted the waiting Service got %s; want %s", got, addr)
		}
		if _, err := echoPod("http://" + addr + "/"); err != nil {
			t.Errorf("the address's new owner does not serve: %v", err)
		}
	})

	t.Run("changing the type closes the listener and clears the status", func(t *testing.T) {
		s, err := client.CoreV1().Services(ns.Name).Get(ctx, "manual", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		s.Spec.Type, s.Spec.LoadBalancerIP = corev1.ServiceTypeClusterIP, ""
		if _, err := client.CoreV1().Services(ns.Name).Update(ctx, s, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			s, err := client.CoreV1().Services(ns.Name).Get(ctx, "manual", metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			c, derr := net.DialTimeout("tcp", "127.77.0.200:80", time.Second)
			if derr == nil {
				c.Close()
			}
			return derr != nil && len(s.Status.LoadBalancer.Ingress) == 0, nil
		})
		if err != nil {
			t.Errorf("127.77.0.200:80 still accepts connections or the status still has an ingress: %v", err)
		}
	})
}

func waitAddress(t *testing.T, ctx context.Context, client kubernetes.Interface, ns, name string) string {
	t.Helper()
	var got string
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		s, err := client.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil || len(s.Status.LoadBalancer.Ingress) == 0 {
			return false, err
		}
		got = net.JoinHostPort(s.Status.LoadBalancer.Ingress[0].IP, "80")
		return true, nil
	})
	if err != nil {
		t.Fatalf("Service %s/%s got no load-balancer address: %v", ns, name, err)
	}
	return got
}

// echoPod returns the Pod name echo-basic reports, on a fresh connection.
func echoPod(url string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var echo struct{ Pod string }
	if err := json.Unmarshal(body, &echo); err != nil {
		return "", fmt.Errorf("%s answered %q", url, body)
	}
	return echo.Pod, nil
}

func echoDeployment(labels map[string]string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "echo"},
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
