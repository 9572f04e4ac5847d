package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// floorWatch is a bare watcher of a set's routes, as a controller's
// informer would be: when each change value first arrived. No controller
// watching the same API server can put a change on the wire sooner.
type floorWatch struct {
	mu      sync.Mutex
	arrived map[string]time.Time
}

// watchFloor starts the watcher from the current version, so it replays
// nothing of the routes already there. With done, a change value counts as
// arrived only in a version of its route done holds for.
func (e *env) watchFloor(b *testing.B, set string, done func(*gatewayv1.HTTPRoute) bool) *floorWatch {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	var now gatewayv1.HTTPRouteList
	if err := e.c.List(ctx, &now, client.MatchingLabels{setLabel: set}, client.Limit(1)); err != nil {
		b.Fatal(err)
	}
	w, err := e.c.Watch(ctx, &gatewayv1.HTTPRouteList{}, client.MatchingLabels{setLabel: set}, &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: now.ResourceVersion}})
	if err != nil {
		b.Fatal(err)
	}
	f := &floorWatch{arrived: map[string]time.Time{}}
	go func() {
		for ev := range w.ResultChan() {
			r, ok := ev.Object.(*gatewayv1.HTTPRoute)
			if !ok {
				continue
			}
			if v := changeOf(r); v != "" && (done == nil || done(r)) {
				f.mu.Lock()
				if _, seen := f.arrived[v]; !seen {
					f.arrived[v] = time.Now()
				}
				f.mu.Unlock()
			}
		}
	}()
	b.Cleanup(w.Stop)
	return f
}

// at waits until value arrived, or deadline.
func (f *floorWatch) at(value string, deadline time.Time) (time.Time, bool) {
	for {
		f.mu.Lock()
		t, ok := f.arrived[value]
		f.mu.Unlock()
		if ok || time.Now().After(deadline) {
			return t, ok
		}
		time.Sleep(time.Millisecond)
	}
}

// changeOf is the change header value a bench route's first rule sets, "" if none.
func changeOf(r *gatewayv1.HTTPRoute) string {
	for _, rule := range r.Spec.Rules {
		for _, f := range rule.Filters {
			if f.ResponseHeaderModifier != nil {
				for _, h := range f.ResponseHeaderModifier.Set {
					if string(h.Name) == changeHeader {
						return h.Value
					}
				}
			}
		}
	}
	return ""
}

// Endpoint changes go to a Service without selector whose one
// EndpointSlice the benchmark writes itself: an echo Pod's address, then
// none, and so on.
const (
	endpointService = "ep"
	endpointSlice   = "ep-bench"
	endpointHost    = "ep.bench.test"
)

// endpointChanges flips the endpoints of a route's only Service count
// times between one echo Pod and none, and reports how long until the proxy
// answered accordingly (200, then 503). The phase stops after budget.
func (e *env) endpointChanges(b *testing.B, count int, budget time.Duration) {
	ctx := context.Background()
	pod := e.echoAddress(b)
	echo, port := gatewayv1.Namespace(echoNS), gatewayv1.PortNumber(80)
	route := benchRoute("ep", 0, "")
	route.Spec.Hostnames = []gatewayv1.Hostname{endpointHost}
	route.Spec.Rules[0].BackendRefs[0].Name = endpointService
	route.Spec.Rules[0].BackendRefs[0].Namespace, route.Spec.Rules[0].BackendRefs[0].Port = &echo, &port
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: echoNS, Name: endpointService},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(3000)}}},
	}
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: echoNS, Name: endpointSlice, Labels: map[string]string{discoveryv1.LabelServiceName: endpointService}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: new("http"), Port: new(int32(3000))}},
	}
	for _, obj := range []client.Object{svc, slice, route} {
		if err := e.create(ctx, obj); err != nil {
			b.Fatal(err)
		}
	}
	waitStatus := func(want int, deadline time.Time) bool {
		for time.Now().Before(deadline) {
			if status, _ := e.get(endpointHost); status == want {
				return true
			}
			time.Sleep(2 * time.Millisecond)
		}
		return false
	}
	if !waitStatus(http.StatusServiceUnavailable, time.Now().Add(time.Minute)) {
		b.Fatalf("route %s/%s never answered 503 with its Service's endpoints empty", route.Namespace, route.Name)
	}
	var wire []time.Duration
	missed := 0
	phaseEnd := time.Now().Add(budget)
	for k := 0; k < count && time.Now().Before(phaseEnd); k++ {
		endpoints, want := []discoveryv1.Endpoint{}, http.StatusServiceUnavailable
		if k%2 == 0 {
			endpoints, want = []discoveryv1.Endpoint{{Addresses: []string{pod}}}, http.StatusOK
		}
		patch, _ := json.Marshal(map[string]any{"endpoints": endpoints})
		start := time.Now()
		target := &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: echoNS, Name: endpointSlice}}
		if err := e.c.Patch(ctx, target, client.RawPatch(types.MergePatchType, patch)); err != nil {
			b.Fatalf("changing EndpointSlice %s/%s: %v", echoNS, endpointSlice, err)
		}
		if !waitStatus(want, start.Add(30*time.Second)) {
			missed++
		}
		wire = append(wire, time.Since(start))
	}
	slices.Sort(wire)
	b.ReportMetric(float64(len(wire)), "endpoint-changes")
	b.ReportMetric(float64(missed), "endpoint-changes-not-on-wire")
	b.ReportMetric(ms(results.Percentile(wire, 0.5)), "ms-wire-p50")
	b.ReportMetric(ms(results.Percentile(wire, 0.99)), "ms-wire-p99")
}

// echoAddress is the address of a ready echo Pod, from its Service's EndpointSlices.
func (e *env) echoAddress(b *testing.B) string {
	var slices discoveryv1.EndpointSliceList
	if err := e.c.List(context.Background(), &slices, client.InNamespace(echoNS), client.MatchingLabels{discoveryv1.LabelServiceName: "echo"}); err != nil {
		b.Fatal(err)
	}
	for _, s := range slices.Items {
		for _, ep := range s.Endpoints {
			if len(ep.Addresses) > 0 && (ep.Conditions.Ready == nil || *ep.Conditions.Ready) {
				return ep.Addresses[0]
			}
		}
	}
	b.Fatal("no ready echo Pod address in the echo Service's EndpointSlices")
	return ""
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
