package faults

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// outageBeyondRenewDeadline is longer than the 25s renew deadline and the
// 30s Lease, so the leader must lose the Lease, yet short enough for `make
// test` (the issue's 5-minute outage is the same path, only longer).
const outageBeyondRenewDeadline = 40 * time.Second

// TestLeaderSurvivesAPIServerOutage: two gateway replicas with
// -leader-elect; the API server is stopped for longer than the leader's
// renew deadline under traffic to both proxies. The leader loses the Lease
// and stops writing but does not exit; both proxies keep serving with no
// failed request; once the API returns, exactly one replica leads and
// status converges (a route added then is Accepted and served, and the
// Gateway's address is the new leader's).
func TestLeaderSurvivesAPIServerOutage(t *testing.T) {
	w := StartWorld(t, true)
	a := w.Replica(t, "replica-a", ReplicaOptions{
		Webhook: true, WebhookPort: w.Webhooks().LocalServingPort, Gateway: true, AddressPool: replicaPools[0], LeaderElect: true})
	leaderLease(t, w, a, 30*time.Second)
	b := w.Replica(t, "replica-b", ReplicaOptions{Gateway: true, AddressPool: replicaPools[1], LeaderElect: true})
	replicas := []*Replica{a, b}
	w.ApplyServingWorld(t)
	w.RouteAccepted(t, "apples", "apples", 30*time.Second)
	for _, r := range replicas {
		awaitServing(t, w, r, poolAddress(r), "apples.example.com")
	}

	var streams []*Running
	for _, r := range replicas {
		streams = append(streams, Stream{Name: "apples.example.com through " + r.Name, Addrs: []string{poolAddress(r)},
			Host: "apples.example.com", Path: "/", Max: 100000, Duration: 4 * time.Minute, Workers: 2, Pause: 5 * time.Millisecond}.Start())
	}
	time.Sleep(time.Second)
	unreachable := RestartAPIServer(t, w.Cluster, outageBeyondRenewDeadline)
	back := time.Now()
	exits := 0
	for _, r := range replicas {
		if r.Exited() {
			exits++
			t.Errorf("replica %s exited while the API server was down %v: %v; its log ends:\n%s", r.Name, unreachable.Round(time.Millisecond), r.proc.Err(), tail(r.LogPath, 5))
		}
	}
	if exits > 0 {
		for _, s := range streams {
			s.Stop()
		}
		t.FailNow()
	}
	// The outage outlasted the renew deadline: the leader gave up writing.
	if !a.LogContains("stopped leading") {
		t.Errorf("replica %s held the Lease through a %v outage; the test did not exercise losing it", a.Name, unreachable.Round(time.Millisecond))
	}

	route := "after-outage"
	w.Apply(t, namedBananasRoute(route, route+".bananas.example.com"))
	var leader *Replica
	w.Eventually(t, 60*time.Second, "exactly one replica leads", func(context.Context) (bool, string) {
		var leading []string
		for _, r := range replicas {
			if r.Leader(t) {
				leading, leader = append(leading, r.Name), r
			}
		}
		return len(leading) == 1, fmt.Sprint("leading: ", leading)
	})
	led := time.Since(back)
	w.RouteAccepted(t, "bananas", route, 60*time.Second)
	accepted := time.Since(back)
	want := poolAddress(leader)
	w.Eventually(t, 60*time.Second, "Gateway address is the leader's", func(ctx context.Context) (bool, string) {
		got, err := w.statusAddress(ctx)
		return got == want, fmt.Sprint(got, err)
	})
	converged := time.Since(back)
	for _, r := range replicas {
		awaitServing(t, w, r, poolAddress(r), route+".bananas.example.com")
	}
	// Served needs only the watches, not leadership: when it is as late as
	// the status, the lag is client-go's watch reconnect backoff (up to 30s,
	// jittered to 60s, after a long outage), not the election.
	served := time.Since(back)
	time.Sleep(time.Second)
	var sent, failed, lost int
	for i, s := range streams {
		f := s.Stop()
		sent, failed, lost = sent+f.Sent, failed+f.Failed, lost+f.Lost
		t.Logf("stream %d: %s", i+1, f)
		if f.Sent == 0 || f.Failed != 0 || f.Lost != 0 {
			t.Errorf("every request must succeed through the outage; %s", f)
		}
		var last time.Time
		for _, r := range f.Results {
			if r.Start.After(last) {
				last = r.Start
			}
		}
		if !last.After(back) {
			t.Errorf("stream %d ended at %v, before the API server was back; it did not cover the outage", i+1, last)
		}
	}
	for _, r := range replicas {
		if r.Exited() {
			exits++
		}
	}
	t.Logf("figures: fault=apiserver-outage-beyond-renew-deadline: API server unreachable %v; requests sent %d, failed %d, lost %d; process exits %d; after the API server was back: %s led after %v, the new route was Accepted after %v, status converged (Gateway address the leader's) after %v, the route served by both proxies after %v",
		unreachable.Round(time.Millisecond), sent, failed, lost, exits, leader.Name, led.Round(time.Millisecond), accepted.Round(time.Millisecond), converged.Round(time.Millisecond), served.Round(time.Millisecond))
	if exits != 0 {
		t.Errorf("%d replicas exited", exits)
	}
}
