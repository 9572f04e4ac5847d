package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tests/stack"
)

// tally counts where requests went: by namespace for 200s, by status otherwise.
type tally struct {
	total    int
	byNS     map[string]int
	byStatus map[int]int
	pods     map[string]string // pod -> namespace, for 200s
}

func (t tally) String() string {
	return fmt.Sprintf("%d requests: namespaces %v, statuses %v", t.total, t.byNS, t.byStatus)
}

func (t tally) share(ns string) float64 { return float64(t.byNS[ns]) / float64(t.total) }

// send makes n requests to the Gateway at addr for host and path.
func send(t *testing.T, addr, host, path string, n int) tally {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	out := tally{byNS: map[string]int{}, byStatus: map[int]int{}, pods: map[string]string{}}
	for range n {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Host = host
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s%s (Host %s): %v", addr, path, host, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out.total++
		out.byStatus[resp.StatusCode]++
		if resp.StatusCode == http.StatusOK {
			var echo struct{ Pod, Namespace string }
			if err := json.Unmarshal(body, &echo); err != nil {
				t.Fatalf("200 with a body that is not echo-basic's: %q", body)
			}
			out.byNS[echo.Namespace]++
			out.pods[echo.Pod] = echo.Namespace
		}
	}
	return out
}

func within(got, want, tolerance float64) bool { return got >= want-tolerance && got <= want+tolerance }

// gatewayAddress waits until the Gateway is Programmed and returns addr:80.
func gatewayAddress(t *testing.T, s *stack.Stack, ns, name string) string {
	t.Helper()
	var addr string
	stack.Eventually(t, time.Minute, "Gateway "+ns+"/"+name+" Programmed with an address", func(ctx context.Context) (bool, string) {
		var gw gatewayv1.Gateway
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &gw); err != nil {
			return false, err.Error()
		}
		c := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
		if c == nil || c.Status != "True" || len(gw.Status.Addresses) == 0 {
			return false, fmt.Sprintf("status %+v", gw.Status)
		}
		addr = gw.Status.Addresses[0].Value + ":80"
		return true, ""
	})
	return addr
}

// routeCondition waits until the route's parent status for our controller has
// condition typ with the given status and reason.
func routeCondition(t *testing.T, s *stack.Stack, ns, name, typ, status, reason string) metav1.Condition {
	t.Helper()
	var found metav1.Condition
	stack.Eventually(t, 30*time.Second, fmt.Sprintf("HTTPRoute %s/%s %s=%s/%s", ns, name, typ, status, reason), func(ctx context.Context) (bool, string) {
		var r gatewayv1.HTTPRoute
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &r); err != nil {
			return false, err.Error()
		}
		for _, p := range r.Status.Parents {
			if p.ControllerName != "tenantgate.dev/gateway-controller" {
				continue
			}
			c := meta.FindStatusCondition(p.Conditions, typ)
			if c != nil && string(c.Status) == status && c.Reason == reason {
				found = *c
				return true, ""
			}
		}
		return false, fmt.Sprintf("parents %+v", r.Status.Parents)
	})
	return found
}

// podsOf lists the names of the Pods in ns.
func podsOf(t *testing.T, s *stack.Stack, ns string) map[string]bool {
	t.Helper()
	var pods corev1.PodList
	if err := s.Client.List(context.Background(), &pods, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range pods.Items {
		names[p.Name] = true
	}
	return names
}

func readFile(path string) ([]byte, error) { return os.ReadFile(path) }
