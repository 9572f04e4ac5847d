package faults

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestAPIServerRestartUnderTraffic is fault 2: the kube-apiserver process
// is stopped and started again 15s later while requests flow through the
// proxy of tenantgate run as manifests/default runs it (-leader-elect).
// 15s is longer than the leader's 10s lease renew deadline, as real
// restarts are. The proxy serves its last table throughout with no failed
// or lost request, and a route added the moment the API server is back
// (while tenantgate's watches are still reconnecting) gets served.
func TestAPIServerRestartUnderTraffic(t *testing.T) {
	apiServerRestarts(t, 1, 15*time.Second, true)
}

// apiServerRestarts restarts the API server rounds times, each time down
// for at least down, under traffic through one tenantgate.
func apiServerRestarts(t *testing.T, rounds int, down time.Duration, leaderElect bool) {
	w := StartWorld(t, true)
	g := w.Replica(t, "gateway", ReplicaOptions{
		Webhook: true, WebhookPort: w.Webhooks().LocalServingPort,
		Gateway: true, AddressPool: "127.62.0.0/24", LeaderElect: leaderElect,
	})
	w.ApplyServingWorld(t)
	addr := w.GatewayAddress(t)
	w.RouteAccepted(t, "apples", "apples", 30*time.Second)
	awaitServing(t, w, g, addr, "apples.example.com")

	for round := range rounds {
		traffic := Stream{Name: fmt.Sprintf("round %d, apples.example.com through the restart", round+1), Addrs: []string{addr},
			Host: "apples.example.com", Path: "/", Max: 20000, Duration: 3 * time.Minute, Workers: 2, Pause: 5 * time.Millisecond}.Start()
		time.Sleep(time.Second)
		unreachable := RestartAPIServer(t, w.Cluster, down)
		if g.Exited() {
			f := traffic.Stop()
			t.Fatalf("tenantgate exited while the API server was down %v (%v), taking its proxy with it; %s; its log ends:\n%s",
				unreachable.Round(time.Millisecond), g.proc.Err(), f, tail(g.LogPath, 3))
		}
		// Added at once: tenantgate's watches are still in their reconnect backoff.
		host := fmt.Sprintf("new-%d.bananas.example.com", round)
		w.Apply(t, namedBananasRoute(fmt.Sprintf("new-%d", round), host))
		added := time.Now()
		awaitServing(t, w, g, addr, host)
		converged := time.Since(added)
		time.Sleep(time.Second)
		f := traffic.Stop()
		t.Logf("figures: fault=apiserver-restart round %d: API server unreachable %v; route added after it came back served after %v; %s",
			round+1, unreachable.Round(time.Millisecond), converged.Round(time.Millisecond), f)
		if f.Sent == 0 || f.Failed != 0 || f.Lost != 0 {
			t.Errorf("round %d: every request must succeed through the API server restart; %s", round+1, f)
		}
	}
}

// awaitServing waits until host answers 200 through the proxy of g.
func awaitServing(t *testing.T, w *World, g *Replica, addr, host string) {
	t.Helper()
	w.Eventually(t, 90*time.Second, host+" served", func(context.Context) (bool, string) {
		if g.Exited() {
			t.Fatalf("replica %s exited (%v) while waiting for %s to be served", g.Name, g.proc.Err(), host)
		}
		f := Stream{Name: host, Addrs: []string{addr}, Host: host, Path: "/", Max: 3, Duration: 10 * time.Second}.Run()
		return f.OK == 3, f.String()
	})
}
