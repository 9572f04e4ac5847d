package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Route changes of the controller failover fault: changeCount creates and
// updates over changeRoutes HTTPRoutes in bananas, one every changePause,
// the Lease holder killed after killAfterChange of them. Paced so the
// changes span the whole failover (the Lease expires about 15s after the
// kill).
const (
	changeCount      = 200
	changeRoutes     = 20
	killAfterChange  = 60
	changePause      = 300 * time.Millisecond
	programmedWithin = 2 * time.Minute
)

// failoverPools are the address pools of this test's replicas.
var failoverPools = []string{"127.72.0.0/24", "127.73.0.0/24", "127.74.0.0/24"}

// TestControllerLeaderKilledDuringRouteChanges is issue 17's fault (2): two
// leader-elected controllers, a data plane the traffic goes through and a
// webhook (roles.go). 200 route changes, each a new path served and a new
// generation, run while the leading controller is SIGKILLed after the
// 60th. Traffic through the data plane sees no failed or lost request; the
// data plane keeps serving the changes made while no controller leads; the
// other controller takes the Lease and writes status; after the failover
// every change is served and its route Accepted at its latest generation.
func TestControllerLeaderKilledDuringRouteChanges(t *testing.T) {
	w := StartWorld(t, true)
	w.StartWebhooks(t, 1)
	a := w.Replica(t, "controller-a", w.controllerRole(failoverPools[0]))
	holder := leaderLease(t, w, a, 30*time.Second)
	b := w.Replica(t, "controller-b", w.controllerRole(failoverPools[1]))
	dp := w.Replica(t, "dataplane", w.dataPlaneRole(t, failoverPools[2]))
	addr := poolAddress(dp)
	w.ApplyServingWorld(t)
	w.RouteAccepted(t, "apples", "apples", 30*time.Second)
	awaitServing(t, w, dp, addr, "apples.example.com")

	traffic := Stream{Name: "apples.example.com through the data plane", Addrs: []string{addr}, Host: "apples.example.com", Path: "/",
		Max: 100000, Duration: 4 * time.Minute, Workers: 2, Pause: 5 * time.Millisecond}.Start()
	defer traffic.Stop()
	changes := startRouteChanges(t.Context(), w)
	<-changes.reached(killAfterChange)
	if !a.Leader(t) {
		t.Fatalf("%s does not lead any more before the kill", a.Name)
	}
	killed := time.Now()
	a.Kill(t)
	f := watchFailover(t, w, dp, addr, changes, holder, killed)
	<-changes.done
	applied := changes.applied()
	if errs := changes.errors(); len(errs) > 0 {
		t.Fatalf("%d of %d route changes were not applied:\n%s", len(errs), changeCount, strings.Join(errs, "\n"))
	}
	lastChange := applied[len(applied)-1].at
	awaitProgrammed(t, w, dp, addr, applied)
	programmed := time.Now()
	time.Sleep(time.Second)
	tf := traffic.Stop()

	t.Logf("stream: %s", tf)
	if tf.Sent == 0 || tf.Failed != 0 || tf.Lost != 0 {
		t.Errorf("every request through the data plane must succeed through the failover; %s", tf)
	}
	if n := len(tf.Results); n > 0 && !tf.Results[n-1].Start.After(killed.Add(f.leaseTaken)) {
		t.Errorf("the stream ended at %v, before the new leader took the Lease; it did not cover the failover", tf.Results[n-1].Start)
	}
	if !b.Leader(t) || dp.Leader(t) {
		t.Errorf("after the failover %s leads %v and the data plane %v; want only %s", b.Name, b.Leader(t), dp.Leader(t), b.Name)
	}
	for _, r := range []*Replica{b, dp} {
		if r.Exited() {
			t.Errorf("replica %s exited: %v", r.Name, r.proc.Err())
		}
	}
	if f.writtenWithoutLeader {
		t.Errorf("status was written %v after the kill while the Lease still named the killed holder: someone but the leader writes status", f.statusWritten)
	}
	if f.leaderlessServed != f.leaderless {
		t.Errorf("the data plane served %d of the %d changes made while no controller led (each applied at least %v before the new leader took the Lease); it must not need a leader",
			f.leaderlessServed, f.leaderless, leaderlessMargin)
	}
	t.Logf("figures: fault=controller-leader-killed-during-route-changes: %d route changes (%d creates, %d updates over %d HTTPRoutes), %s (the Lease holder) SIGKILLed after change %d; "+
		"new holder %s in the Lease %v after the kill, first status write by the new leader %v after the kill; "+
		"changes made with no leader %d, served by the data plane before a new leader %d, made after the new leader took the Lease %d; all %d changes served and Accepted at their latest generation %v after the kill (%v after the last change); "+
		"requests sent %d, failed %d, lost %d",
		changeCount, changeRoutes, changeCount-changeRoutes, changeRoutes, a.Name, killAfterChange,
		b.Name, f.leaseTaken.Round(time.Millisecond), f.statusWritten.Round(time.Millisecond),
		f.leaderless, f.leaderlessServed, f.afterTakeover(applied, killed), changeCount, programmed.Sub(killed).Round(time.Millisecond), programmed.Sub(lastChange).Round(time.Millisecond),
		tf.Sent, tf.Failed, tf.Lost)
}

// routeChange is one applied change: path Path newly served on Host by
// route Route, which then has Generation.
type routeChange struct {
	Route, Host, Path string
	Generation        int64
	at                time.Time
}

// routeChanges applies the changes in the background.
type routeChanges struct {
	mu    sync.Mutex
	done  chan struct{}
	list  []routeChange
	errs  []string
	waits map[int]chan struct{}
}

// startRouteChanges applies changeCount changes, one every changePause:
// change k adds the Exact path /change-k to route k%changeRoutes, so the
// first changeRoutes create the routes and every later one updates a
// route, and every change stays observable to the end. It stops early
// when ctx ends.
func startRouteChanges(ctx context.Context, w *World) *routeChanges {
	c := &routeChanges{done: make(chan struct{}), waits: map[int]chan struct{}{}}
	go func() {
		defer close(c.done)
		paths := make([][]string, changeRoutes)
		for k := range changeCount {
			i := k % changeRoutes
			ch := routeChange{Route: fmt.Sprintf("change-%02d", i), Host: fmt.Sprintf("change-%02d.bananas.example.com", i),
				Path: fmt.Sprintf("/change-%03d", k), Generation: int64(len(paths[i]) + 1)}
			paths[i] = append(paths[i], ch.Path)
			actx, cancel := context.WithTimeout(ctx, 20*time.Second)
			err := w.TryApply(actx, changedRoute(ch, paths[i]))
			cancel()
			ch.at = time.Now()
			c.mu.Lock()
			if err != nil {
				c.errs = append(c.errs, fmt.Sprintf("change %d (%s %s): %v", k, ch.Route, ch.Path, err))
			} else {
				c.list = append(c.list, ch)
			}
			if wait, ok := c.waits[k+1]; ok {
				close(wait)
				delete(c.waits, k+1)
			}
			c.mu.Unlock()
			select {
			case <-ctx.Done(): // the test ended early
				return
			case <-time.After(changePause):
			}
		}
	}()
	return c
}

// reached is closed once n changes have been tried.
func (c *routeChanges) reached(n int) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if len(c.list)+len(c.errs) >= n {
		close(ch)
	} else {
		c.waits[n] = ch
	}
	return ch
}

func (c *routeChanges) applied() []routeChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]routeChange(nil), c.list...)
}

func (c *routeChanges) errors() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.errs...)
}

// changedRoute is route ch.Route serving paths on ch.Host from banana-echo.
func changedRoute(ch routeChange, paths []string) string {
	var matches []string
	for _, p := range paths {
		matches = append(matches, fmt.Sprintf("{path: {type: Exact, value: %s}}", p))
	}
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %s, namespace: bananas}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [%s]
  rules: [{matches: [%s], backendRefs: [{name: banana-echo, port: 80}]}]
`, ch.Route, ch.Host, strings.Join(matches, ", "))
}

// leaderlessMargin: a change counts as made with no leader when it was
// applied after the kill and this long before the new holder took the
// Lease, which leaves the data plane that long to serve it.
const leaderlessMargin = 2 * time.Second

// failover is what watchFailover saw, in time since the kill.
type failover struct {
	leaseTaken, statusWritten    time.Duration
	leaderless, leaderlessServed int
	// writtenWithoutLeader: status changed while the Lease still named the
	// dead holder.
	writtenWithoutLeader bool
}

// afterTakeover counts the changes applied once the new leader held the Lease.
func (f failover) afterTakeover(applied []routeChange, killed time.Time) int {
	n := 0
	for _, ch := range applied {
		if ch.at.After(killed.Add(f.leaseTaken)) {
			n++
		}
	}
	return n
}

// watchFailover polls until a new holder is in the Lease and the first
// status write after the kill (which only a new leader can make) has
// landed. Meanwhile it probes, through the data plane, each change made
// since the kill, to count those served before a new leader.
func watchFailover(t *testing.T, w *World, dp *Replica, addr string, changes *routeChanges, oldHolder string, killed time.Time) failover {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	served := map[string]time.Time{} // change path -> first seen served
	var f failover
	var baseline string
	ctx := context.Background()
	for deadline := killed.Add(90 * time.Second); f.leaseTaken == 0 || f.statusWritten == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("90s after the kill: new holder in the Lease after %v, first status write after %v (0: not yet)", f.leaseTaken, f.statusWritten)
		}
		if dp.Exited() {
			t.Fatalf("the data plane exited: %v", dp.proc.Err())
		}
		// Status is read before the Lease: a write seen here was made
		// before the Lease read below, so by then its writer held the Lease.
		// The first second is skipped: writes the dead leader sent before it
		// died have landed by then.
		written := false
		if f.statusWritten == 0 && time.Since(killed) >= time.Second {
			if status, err := statusFingerprint(ctx, w); err == nil {
				switch {
				case baseline == "":
					baseline = status
				case status != baseline:
					f.statusWritten, written = time.Since(killed), true
				}
			}
		}
		if f.leaseTaken > 0 {
			continue
		}
		for _, ch := range changes.applied() {
			if _, ok := served[ch.Path]; !ok && ch.at.After(killed) && serves(hc, addr, ch) {
				served[ch.Path] = time.Now()
			}
		}
		var lease coordinationv1.Lease
		if err := w.Client.Get(ctx, types.NamespacedName{Namespace: LeaseNamespace, Name: "tenantgate-status-writer"}, &lease); err != nil {
			continue
		}
		if h := lease.Spec.HolderIdentity; h != nil && *h != "" && *h != oldHolder {
			f.leaseTaken = time.Since(killed)
		} else if written {
			f.writtenWithoutLeader = true
		}
	}
	for _, ch := range changes.applied() {
		if ch.at.After(killed) && ch.at.Before(killed.Add(f.leaseTaken-leaderlessMargin)) {
			f.leaderless++
			if at, ok := served[ch.Path]; ok && at.Before(killed.Add(f.leaseTaken)) {
				f.leaderlessServed++
			}
		}
	}
	return f
}

// statusFingerprint is the status of Gateway infra/shared and of every
// HTTPRoute in bananas, which changes only when someone writes status.
func statusFingerprint(ctx context.Context, w *World) (string, error) {
	var gw gatewayv1.Gateway
	if err := w.Client.Get(ctx, types.NamespacedName{Namespace: "infra", Name: "shared"}, &gw); err != nil {
		return "", err
	}
	var routes gatewayv1.HTTPRouteList
	if err := w.Client.List(ctx, &routes, client.InNamespace("bananas")); err != nil {
		return "", err
	}
	statuses := map[string]any{"Gateway infra/shared": gw.Status}
	for _, r := range routes.Items {
		statuses["HTTPRoute "+r.Name] = r.Status
	}
	out, err := json.Marshal(statuses) // sorted keys, values not pointers
	return string(out), err
}

// serves reports whether ch's path is answered 200 by a banana-echo Pod.
func serves(hc *http.Client, addr string, ch routeChange) bool {
	status, pod, err := Stream{Host: ch.Host, Path: ch.Path}.get(hc, addr)
	return err == nil && status == http.StatusOK && strings.HasPrefix(pod, "banana-echo-")
}

// awaitProgrammed waits until every change is served through the data
// plane and every changed route is Accepted by our controller with
// observedGeneration at its latest generation.
func awaitProgrammed(t *testing.T, w *World, dp *Replica, addr string, applied []routeChange) {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	defer hc.CloseIdleConnections()
	latest := map[string]int64{}
	for _, ch := range applied {
		latest[ch.Route] = max(latest[ch.Route], ch.Generation)
	}
	pending := applied
	w.Eventually(t, programmedWithin, fmt.Sprintf("all %d changes served and Accepted at their latest generation", len(applied)), func(ctx context.Context) (bool, string) {
		if dp.Exited() {
			t.Fatalf("the data plane exited: %v", dp.proc.Err())
		}
		var still []routeChange
		for _, ch := range pending {
			if !serves(hc, addr, ch) {
				still = append(still, ch)
			}
		}
		pending = still
		if len(pending) > 0 {
			return false, fmt.Sprintf("%d changes not served yet, e.g. %s%s", len(pending), pending[0].Host, pending[0].Path)
		}
		var routes gatewayv1.HTTPRouteList
		if err := w.Client.List(ctx, &routes, client.InNamespace("bananas")); err != nil {
			return false, err.Error()
		}
		var stale []string
		seen := map[string]bool{}
		for _, r := range routes.Items {
			want, ok := latest[r.Name]
			if !ok {
				continue
			}
			seen[r.Name] = true
			if r.Generation != want || !acceptedAt(r, want) {
				stale = append(stale, fmt.Sprintf("%s generation %d (want %d), parents %+v", r.Name, r.Generation, want, r.Status.Parents))
			}
		}
		for name := range latest {
			if !seen[name] {
				stale = append(stale, name+" missing")
			}
		}
		if len(stale) > 0 {
			return false, fmt.Sprintf("%d routes not Accepted at their latest generation: %s", len(stale), stale[0])
		}
		return true, ""
	})
}

// acceptedAt reports whether our controller reports r Accepted=True for
// generation gen.
func acceptedAt(r gatewayv1.HTTPRoute, gen int64) bool {
	for _, p := range r.Status.Parents {
		if p.ControllerName != ControllerName {
			continue
		}
		c := meta.FindStatusCondition(p.Conditions, string(gatewayv1.RouteConditionAccepted))
		if c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == gen {
			return true
		}
	}
	return false
}
