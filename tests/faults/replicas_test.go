package faults

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestGatewayReplicasLeaderKilled is fault 3 and high availability: two
// gateway replicas with -leader-elect, each on its own Gateway address (see
// the package doc for why not one). Exactly one, the Lease holder, writes
// anything to the API. The leader is killed (SIGKILL) under load: clients
// of its address retry on a fresh connection to the other address and see
// no error, the other replica's clients see nothing at all, and the
// survivor takes the Lease over and keeps status converging.
func TestGatewayReplicasLeaderKilled(t *testing.T) {
	gatewayLeaderKills(t, 1)
}

// replicaPools gives each replica its own loopback range; the Gateway gets
// the first address of each.
var replicaPools = []string{"127.64.0.0/24", "127.65.0.0/24", "127.66.0.0/24", "127.67.0.0/24"}

// gatewayLeaderKills kills the leader kills times, each time starting a
// fresh replica in its place, so every round has two replicas.
func gatewayLeaderKills(t *testing.T, kills int) {
	w := StartWorld(t, true)
	hooks := w.Webhooks()
	lb, err := NewBalancer(net.JoinHostPort(hooks.LocalServingHost, strconv.Itoa(hooks.LocalServingPort)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	// Each replica is a whole Pod of manifests/default: webhook, controller
	// and proxy, behind the Service stand-in for admission.
	next := 0
	start := func(t *testing.T) *Replica {
		pool := replicaPools[next%len(replicaPools)]
		r := w.Replica(t, fmt.Sprintf("replica-%d", next), ReplicaOptions{
			Webhook: true, WebhookPort: freePort(t), Gateway: true, AddressPool: pool, LeaderElect: true})
		lb.Add(r.WebhookAddr)
		next++
		return r
	}
	leader := start(t)
	holder := leaderLease(t, w, leader, 30*time.Second)
	follower := start(t)
	w.ApplyServingWorld(t)

	for round := 1; round <= kills; round++ {
		t.Logf("round %d: leader %s (%s), follower %s (%s)", round, leader.Name, poolAddress(leader), follower.Name, poolAddress(follower))
		awaitServing(t, w, leader, poolAddress(leader), "apples.example.com")
		awaitServing(t, w, follower, poolAddress(follower), "apples.example.com")

		// Status changes now are written by the leader alone: the follower
		// has made no write request to the API in its whole life.
		route := fmt.Sprintf("before-kill-%d", round)
		w.Apply(t, namedBananasRoute(route, route+".bananas.example.com"))
		w.RouteAccepted(t, "bananas", route, 30*time.Second)
		if got := follower.Writes(t); got != 0 {
			t.Errorf("round %d: follower %s made %v write requests to the API; only the leader may write", round, follower.Name, got)
		}
		if leader.Writes(t) == 0 {
			t.Errorf("round %d: leader %s made no write to the API, yet the route's status was written", round, leader.Name)
		}
		if follower.Leader(t) || !leader.Leader(t) {
			t.Errorf("round %d: leader metric: %s %v, %s %v; want only %s", round, leader.Name, leader.Leader(t), follower.Name, follower.Leader(t), leader.Name)
		}

		// Two client populations: the leader's, which fail over to the
		// follower's address, and the follower's own.
		failover := Stream{Name: "clients of the killed replica (retry on the other address)", Addrs: []string{poolAddress(leader), poolAddress(follower)},
			Host: "apples.example.com", Path: "/", Max: 20000, Duration: time.Minute, Workers: 2, Pause: 5 * time.Millisecond}.Start()
		bystanders := Stream{Name: "clients of the surviving replica", Addrs: []string{poolAddress(follower)},
			Host: "apples.example.com", Path: "/", Max: 20000, Duration: time.Minute, Workers: 2, Pause: 5 * time.Millisecond}.Start()
		time.Sleep(2 * time.Second)
		killed := time.Now()
		leader.Kill(t)
		newHolder := leaderLease(t, w, follower, 45*time.Second)
		takeover := time.Since(killed)
		if newHolder == holder {
			t.Errorf("round %d: the Lease still names %s after its holder was killed", round, holder)
		}
		holder = newHolder
		time.Sleep(2 * time.Second)
		f1, f2 := failover.Stop(), bystanders.Stop()
		t.Logf("figures: fault=proxy-replica-killed round %d: %s", round, f1)
		t.Logf("figures: fault=proxy-replica-killed round %d: %s", round, f2)
		t.Logf("figures: fault=leader-killed round %d: %s took the Lease (holder %s) %v after %s was killed", round, follower.Name, holder, takeover.Round(time.Millisecond), leader.Name)
		for _, f := range []Figures{f1, f2} {
			if f.Sent == 0 || f.Failed != 0 || f.Lost != 0 {
				t.Errorf("round %d: %s", round, f)
			}
		}
		if f2.Retried != 0 {
			t.Errorf("round %d: clients of the surviving replica had to retry %d requests", round, f2.Retried)
		}

		// The new leader writes status: a route added now is accepted and
		// the Gateway reports the survivor's address.
		route = fmt.Sprintf("after-kill-%d", round)
		w.Apply(t, namedBananasRoute(route, route+".bananas.example.com"))
		w.RouteAccepted(t, "bananas", route, 30*time.Second)
		awaitServing(t, w, follower, poolAddress(follower), route+".bananas.example.com")
		want := poolAddress(follower)
		w.Eventually(t, 30*time.Second, "Gateway address is the new leader's", func(ctx context.Context) (bool, string) {
			got, err := w.statusAddress(ctx)
			return got == want, fmt.Sprint(got, err)
		})
		if follower.Writes(t) == 0 {
			t.Errorf("round %d: new leader %s made no write to the API", round, follower.Name)
		}
		if round < kills {
			leader, follower = follower, start(t)
		}
	}
}

// leaderLease waits until r reports holding the Lease and the Lease names a
// holder, and returns that holder.
func leaderLease(t *testing.T, w *World, r *Replica, timeout time.Duration) string {
	t.Helper()
	var holder string
	w.Eventually(t, timeout, r.Name+" holds the status-writer Lease", func(ctx context.Context) (bool, string) {
		if r.Exited() {
			t.Fatalf("replica %s exited: %v", r.Name, r.proc.Err())
		}
		var lease coordinationv1.Lease
		if err := w.Client.Get(ctx, types.NamespacedName{Namespace: LeaseNamespace, Name: "tenantgate-status-writer"}, &lease); err != nil {
			return false, err.Error()
		}
		if lease.Spec.HolderIdentity != nil {
			holder = *lease.Spec.HolderIdentity
		}
		return r.Leader(t) && holder != "", "holder " + holder
	})
	return holder
}

// poolAddress is the address a replica gives the only Gateway: the first
// of its pool.
func poolAddress(r *Replica) string {
	p := netip.MustParsePrefix(r.Options.AddressPool)
	return p.Addr().Next().String() + ":80"
}

// namedBananasRoute is a bananas route name for host.
func namedBananasRoute(name, host string) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %s, namespace: bananas}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [%s]
  rules: [{backendRefs: [{name: banana-echo, port: 80}]}]
`, name, host)
}
