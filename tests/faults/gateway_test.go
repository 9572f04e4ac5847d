package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestOneReplicaUnderFaults is faults 4, 5 and 6 against one tenantgate
// process run as manifests/default runs it (webhook, controller and proxy,
// -leader-elect), sharing one cluster: a backend Pod deleted mid-traffic,
// hostile clients, hostile objects.
func TestOneReplicaUnderFaults(t *testing.T) {
	oneReplicaUnderFaults(t, 1, 500)
}

// oneReplicaUnderFaults deletes a backend Pod deletions times and holds
// slowConns slow-header connections.
func oneReplicaUnderFaults(t *testing.T, deletions, slowConns int) {
	w := StartWorld(t, true)
	g := w.Replica(t, "gateway", ReplicaOptions{
		Webhook: true, WebhookPort: w.Webhooks().LocalServingPort,
		Gateway: true, AddressPool: "127.63.0.0/24", LeaderElect: true,
	})
	w.ApplyServingWorld(t)
	addr := w.GatewayAddress(t)
	w.RouteAccepted(t, "apples", "apples", 30*time.Second)
	awaitServing(t, w, g, addr, "apples.example.com")

	t.Run("4 backend Pod deleted mid-traffic", func(t *testing.T) { backendPodDeleted(t, w, addr, deletions) })
	t.Run("5 hostile clients", func(t *testing.T) { hostileClients(t, addr, slowConns) })
	t.Run("6 hostile objects", func(t *testing.T) { hostileObjects(t, w, g, addr) })
	if g.Exited() {
		t.Errorf("tenantgate exited: %v; its log ends:\n%s", g.proc.Err(), tail(g.LogPath, 5))
	}
}

// backendPodDeleted deletes one apple-echo Pod deletions times while
// requests flow, each time waiting until the Pod object is gone and a
// replacement is ready, then lets at least 2000 more requests through. At
// most 1% of requests may fail; responses that started a second after a
// Pod was gone must not come from it.
func backendPodDeleted(t *testing.T, w *World, addr string, deletions int) {
	ctx := context.Background()
	traffic := Stream{Name: "apples.example.com while apple-echo Pods are deleted", Addrs: []string{addr}, Host: "apples.example.com", Path: "/",
		Max: 100000, Duration: 5 * time.Minute, Workers: 2, Pause: 5 * time.Millisecond}.Start()
	defer traffic.Stop()
	gone := map[string]time.Time{} // deleted Pod -> when its object was gone
	var phases []string
	traffic.AwaitSent(500)
	for i := range deletions {
		pods := w.ReadyPods(t, "apples", "apple-echo")
		if len(pods) < 2 {
			t.Fatalf("deletion %d: apple-echo has ready Pods %v, want 2", i+1, pods)
		}
		victim := pods[0]
		deleted := time.Now()
		if err := w.Client.Delete(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "apples", Name: victim}}); err != nil {
			t.Fatal(err)
		}
		w.Eventually(t, time.Minute, "Pod apples/"+victim+" gone", func(ctx context.Context) (bool, string) {
			err := w.Client.Get(ctx, types.NamespacedName{Namespace: "apples", Name: victim}, &corev1.Pod{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
		gone[victim] = time.Now()
		w.Eventually(t, 2*time.Minute, "a replacement for "+victim+" ready", func(context.Context) (bool, string) {
			ready := w.ReadyPods(t, "apples", "apple-echo")
			return len(ready) == 2, fmt.Sprint(ready)
		})
		phases = append(phases, fmt.Sprintf("%s gone after %v, replacement ready after %v", victim,
			gone[victim].Sub(deleted).Round(time.Millisecond), time.Since(deleted).Round(time.Millisecond)))
		traffic.AwaitSent(traffic.Sent() + 2000)
	}
	f := traffic.Stop()
	stale := 0
	for _, r := range f.Results {
		if at, ok := gone[r.Pod]; ok && r.Start.After(at.Add(time.Second)) {
			stale++
		}
	}
	t.Logf("figures: fault=backend-pod-deleted %s; %s; answered by a deleted Pod more than 1s after it was gone: %d", strings.Join(phases, "; "), f, stale)
	if f.Sent == 0 || float64(f.Failed+f.Lost) > 0.01*float64(f.Sent) {
		t.Errorf("more than 1%% of requests failed or were lost: %s", f)
	}
	if stale != 0 {
		t.Errorf("%d requests were answered by a Pod more than 1s after it was deleted", stale)
	}
}
