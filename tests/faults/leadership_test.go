package faults

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// outageBeyondRenewDeadline is far longer than the 10s renew deadline and
// the 15s Lease, and than client-go's 2-minute backoff reset: the leader
// must lose the Lease, and every informer must come back by itself.
const outageBeyondRenewDeadline = 5 * time.Minute

// convergeWithin is how soon after the API server returns status must
// converge and a new route be served.
const convergeWithin = 30 * time.Second

// TestLeaderSurvivesAPIServerOutage: two gateway replicas with
// -leader-elect; the API server is stopped for 5 minutes under traffic to
// both proxies. The leader loses the Lease
// and stops writing but does not exit; both proxies keep serving with no
// failed request; once the API returns, exactly one replica leads and
// status converges within 30s (a route added then is Accepted and served, and the
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
			Host: "apples.example.com", Path: "/", Max: 300000, Duration: outageBeyondRenewDeadline + 2*time.Minute, Workers: 2, Pause: 5 * time.Millisecond}.Start())
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
	w.Eventually(t, convergeWithin, "exactly one replica leads", func(context.Context) (bool, string) {
		var leading []string
		for _, r := range replicas {
			if r.Leader(t) {
				leading, leader = append(leading, r.Name), r
			}
		}
		return len(leading) == 1, fmt.Sprint("leading: ", leading)
	})
	led := time.Since(back)
	w.RouteAccepted(t, "bananas", route, convergeWithin-time.Since(back))
	accepted := time.Since(back)
	want := poolAddress(leader)
	w.Eventually(t, convergeWithin-time.Since(back), "Gateway address is the leader's", func(ctx context.Context) (bool, string) {
		got, err := w.statusAddress(ctx)
		return got == want, fmt.Sprint(got, err)
	})
	converged := time.Since(back)
	for _, r := range replicas {
		awaitServing(t, w, r, poolAddress(r), route+".bananas.example.com")
	}
	// Served needs only the watches, not leadership. Without the
	// reconnecting informers (cmd/tenantgate/app/reconnect.go) client-go's
	// backoff made this, and the status, up to a minute late.
	served := time.Since(back)
	if served > convergeWithin {
		t.Errorf("the route added after the outage was served by both proxies %v after the API server returned; want within %v", served.Round(time.Millisecond), convergeWithin)
	}
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
