package translate

import (
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/tenancy"
)

var incrementalRuns = flag.Int("incremental.runs", 1, "how many random seeds TestIncrementalEqualsBuild runs (each 6 sequences of 25 steps per golden input)")

// TestIncrementalEqualsBuild runs random sequences of changes (the
// mutator's hostile edits of routes, listeners, Services, certificates and
// grants; routes added and deleted; endpoints changed; Services and grants
// deleted; the tenant policy's verdicts changed) over every golden input
// and checks after each step that Incremental.Build equals a full Build of
// the same snapshot, and that a Compiler's table answers like Compile's.
func TestIncrementalEqualsBuild(t *testing.T) {
	const sequences, steps = 6, 25
	paths, _ := goldenSeeds()
	compared, reused, replayed, skipped := 0, 0, 0, 0
	for run := range *incrementalRuns {
		rng := rand.New(rand.NewPCG(15, uint64(15+run)))
		for i, seed := range seedSnapshots(t) {
			name := strings.TrimSuffix(filepath.Base(paths[i]), ".in.yaml")
			for seq := range sequences {
				inc, compiler := &Incremental{}, &routetable.Compiler{}
				s := cloneSnapshot(seed)
				var done []string
				var lastGot, lastWant Result
				for step := range steps {
					prev := s
					if step > 0 {
						s = cloneSnapshot(s) // the previous snapshot stays as the cache served it
						done = append(done, randomChange(rng, s))
					}
					stampVersions(s)
					s.HTTPRouteChanges = nil
					if rng.IntN(4) > 0 {
						withRouteChanges(prev, s, uint64(step+1)) // as the controller's route log says
					}
					got, want := inc.Build(s), Build(s)
					if !sameResults(got, want) {
						t.Fatalf("%s sequence %d after %s: incremental Build differs from a full Build:\n%s", name, seq, strings.Join(done, ", "), diffResults(got, want))
					}
					// Results share memory with the last one: it must be as it was.
					if step > 0 && !sameResults(lastGot, lastWant) {
						t.Fatalf("%s sequence %d after %s: the incremental Build changed the last Result:\n%s", name, seq, strings.Join(done, ", "), diffResults(lastGot, lastWant))
					}
					if step > 0 {
						inc.Recycle(lastGot.Config) // read no more: a later Build may write its lists
					}
					lastGot, lastWant = got, want
					table, faults := compiler.Compile(got.Config)
					wantTable, wantFaults := routetable.Compile(want.Config)
					if fmt.Sprint(faults) != fmt.Sprint(wantFaults) {
						t.Fatalf("%s sequence %d after %s: Compiler faults %v, Compile faults %v", name, seq, strings.Join(done, ", "), faults, wantFaults)
					}
					if d := tableDifferences(table, wantTable, want.Config); d != "" {
						t.Fatalf("%s sequence %d after %s: the Compiler's table differs from Compile's: %s", name, seq, strings.Join(done, ", "), d)
					}
					compared++
					reused += inc.Stats().Reused
					replayed += inc.Stats().Replayed
					if inc.Stats().Skipped > 0 {
						skipped++
					}
				}
			}
		}
	}
	if reused == 0 || replayed == 0 {
		t.Fatalf("%d route translations reused, %d route stages replayed: the test compares nothing incremental", reused, replayed)
	}
	if skipped == 0 {
		t.Fatal("no Build walked only the changed routes: the test does not reach that path")
	}
	t.Logf("%d steps compared (incremental equals full Build and Compile); %d route translations reused, %d route stages replayed; %d Builds walked only the changed routes", compared, reused, replayed, skipped)
}

// withRouteChanges gives s the routes of prev that did not change (the
// same key, UID and resourceVersion) as prev's very objects, and says in
// s.HTTPRouteChanges which did, as the controller's route log does.
func withRouteChanges(prev, s *Snapshot, seq uint64) {
	old := make(map[types.NamespacedName]*gatewayv1.HTTPRoute, len(prev.HTTPRoutes))
	for _, r := range prev.HTTPRoutes {
		old[keyOf(&r.ObjectMeta)] = r
	}
	ch := &RouteChanges{Since: seq - 1, Seq: seq}
	for i, r := range s.HTTPRoutes {
		k := keyOf(&r.ObjectMeta)
		if o := old[k]; o != nil && o != r && o.UID == r.UID && o.ResourceVersion == r.ResourceVersion {
			s.HTTPRoutes[i] = o
		} else if o != r {
			ch.HTTPRoutes = append(ch.HTTPRoutes, r)
		}
		delete(old, k)
	}
	for _, k := range slices.SortedFunc(maps.Keys(old), func(a, b types.NamespacedName) int { return strings.Compare(a.String(), b.String()) }) {
		ch.Gone = append(ch.Gone, k)
	}
	s.HTTPRouteChanges = ch
}

// randomChange applies one random change to s and says what it was.
// An added route is created up to a second before or after the one it
// copies, so it sorts among the others; routes are listed in a new order
// at times, as an informer cache lists them.
func randomChange(rng *rand.Rand, s *Snapshot) string {
	switch rng.IntN(12) {
	case 11:
		// tenantgate's own status write: a new resourceVersion, the same generation.
		if len(s.Gateways) == 0 {
			return "no Gateway to write the status of"
		}
		g := &s.Gateways[rng.IntN(len(s.Gateways))]
		g.Status.Conditions = append(g.Status.Conditions, metav1.Condition{Type: "Written", Status: metav1.ConditionTrue, Reason: "Step", Message: strconv.Itoa(rng.IntN(1000))})
		return "status written on Gateway " + g.Namespace + "/" + g.Name
	case 10:
		// The cache lists objects in no particular order.
		rng.Shuffle(len(s.HTTPRoutes), func(i, j int) { s.HTTPRoutes[i], s.HTTPRoutes[j] = s.HTTPRoutes[j], s.HTTPRoutes[i] })
		rng.Shuffle(len(s.GRPCRoutes), func(i, j int) { s.GRPCRoutes[i], s.GRPCRoutes[j] = s.GRPCRoutes[j], s.GRPCRoutes[i] })
		return "routes listed in another order"
	case 8:
		s.Now = metav1.NewTime(s.Now.Add(time.Second))
		return "a second later"
	case 9:
		if len(s.Gateways) == 0 || len(s.Gateways[0].Spec.Listeners) == 0 {
			return "no listener to fail binding"
		}
		g := &s.Gateways[rng.IntN(len(s.Gateways))]
		if len(g.Spec.Listeners) == 0 {
			return "no listener to fail binding"
		}
		name := g.Namespace + "/" + g.Name + "/" + string(g.Spec.Listeners[0].Name)
		if s.BindErrors[name] != "" {
			delete(s.BindErrors, name)
			return "listener " + name + " bound again"
		}
		if s.BindErrors == nil {
			s.BindErrors = map[string]string{}
		}
		s.BindErrors[name] = "address already in use"
		return "listener " + name + " failed to bind"
	case 0, 1, 2:
		choices := make([]byte, 16)
		for j := range choices {
			choices[j] = byte(rng.Uint32())
		}
		sub, m, ok := mutate(&chooser{data: choices}, s)
		if !ok {
			return m + " (nothing to break)"
		}
		return m + " on " + sub.kind + " " + sub.key.String()
	case 3:
		if len(s.HTTPRoutes) == 0 {
			return "no route to delete"
		}
		k := rng.IntN(len(s.HTTPRoutes))
		name := s.HTTPRoutes[k].Name
		s.HTTPRoutes = slices.Delete(s.HTTPRoutes, k, k+1)
		return "deleted HTTPRoute " + name
	case 4:
		if len(s.HTTPRoutes) == 0 {
			return "no route to copy"
		}
		r := s.HTTPRoutes[rng.IntN(len(s.HTTPRoutes))].DeepCopy()
		r.Name += "-copy" + strconv.Itoa(rng.IntN(1000))
		r.UID = ""
		r.Status = gatewayv1.HTTPRouteStatus{}
		r.CreationTimestamp = metav1.NewTime(r.CreationTimestamp.Add(time.Duration(rng.IntN(3)-1) * time.Second))
		s.HTTPRoutes = append(s.HTTPRoutes, r)
		return "added HTTPRoute " + r.Name
	case 5:
		if len(s.EndpointSlices) == 0 {
			return "no EndpointSlice to change"
		}
		es := &s.EndpointSlices[rng.IntN(len(s.EndpointSlices))]
		switch {
		case len(es.Endpoints) > 1 && rng.IntN(2) == 0:
			es.Endpoints = es.Endpoints[1:]
		case len(es.Endpoints) > 0 && rng.IntN(2) == 0:
			ready := rng.IntN(2) == 0
			es.Endpoints[0].Conditions.Ready = &ready
		default:
			es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.9.%d.%d", rng.IntN(256), rng.IntN(256))}})
		}
		return "changed endpoints of EndpointSlice " + es.Namespace + "/" + es.Name
	case 6:
		if len(s.Services) == 0 {
			return "no Service to delete"
		}
		k := rng.IntN(len(s.Services))
		name := s.Services[k].Namespace + "/" + s.Services[k].Name
		s.Services = slices.Delete(s.Services, k, k+1)
		return "deleted Service " + name
	default:
		if len(s.ReferenceGrants) > 0 && rng.IntN(2) == 0 {
			k := rng.IntN(len(s.ReferenceGrants))
			name := s.ReferenceGrants[k].Namespace + "/" + s.ReferenceGrants[k].Name
			s.ReferenceGrants = slices.Delete(s.ReferenceGrants, k, k+1)
			return "deleted ReferenceGrant " + name
		}
		s.Policy = randomPolicy{refuse: rng.Uint64()}
		return "tenant policy changed"
	}
}

// randomPolicy refuses objects by a hash of their name: a stand-in for a
// Tenant edit that changes verdicts on routes, listeners and grants.
type randomPolicy struct{ refuse uint64 }

func (p randomPolicy) refused(kind, ns, name string) []string {
	if testHash(kind, ns, name, strconv.FormatUint(p.refuse, 10))%3 != 0 {
		return nil
	}
	return []string{fmt.Sprintf("%s %s/%s is refused by a random tenant rule", kind, ns, name)}
}

// Indexes: the same seed gives the same verdicts.
func (p randomPolicy) Indexes() any { return p.refuse }

func (p randomPolicy) RouteViolations(r *gatewayv1.HTTPRoute) []string {
	return p.refused("HTTPRoute", r.Namespace, r.Name)
}
func (p randomPolicy) GRPCRouteViolations(r *gatewayv1.GRPCRoute) []string {
	return p.refused("GRPCRoute", r.Namespace, r.Name)
}
func (p randomPolicy) TLSRouteViolations(r *gatewayv1.TLSRoute) []string {
	return p.refused("TLSRoute", r.Namespace, r.Name)
}
func (p randomPolicy) GatewayViolations(*gatewayv1.Gateway) tenancy.ListenerViolations {
	return tenancy.ListenerViolations{}
}
func (p randomPolicy) ListenerSetViolations(*gatewayv1.ListenerSet) tenancy.ListenerViolations {
	return tenancy.ListenerViolations{}
}
func (p randomPolicy) GrantViolations(g *gatewayv1.ReferenceGrant) []string {
	return p.refused("ReferenceGrant", g.Namespace, g.Name)
}

// stampVersions gives every object a UID and a resourceVersion that
// changes exactly when its content does, and GatewayClasses, Gateways and
// ListenerSets a generation that changes exactly when their spec does, as
// the API server would.
func stampVersions(s *Snapshot) {
	stamp := func(m *metav1.ObjectMeta, obj any) {
		if m.UID == "" {
			m.UID = types.UID("uid-" + m.Namespace + "-" + m.Name)
		}
		m.ResourceVersion = ""
		raw, _ := json.Marshal(obj)
		m.ResourceVersion = strconv.FormatUint(testHash(string(raw)), 36)
	}
	generation := func(m *metav1.ObjectMeta, spec any) {
		raw, _ := json.Marshal(spec)
		m.Generation = int64(testHash(string(raw))>>2) + 1
	}
	for i := range s.GatewayClasses {
		generation(&s.GatewayClasses[i].ObjectMeta, s.GatewayClasses[i].Spec)
	}
	for i := range s.Gateways {
		generation(&s.Gateways[i].ObjectMeta, s.Gateways[i].Spec)
	}
	for i := range s.ListenerSets {
		generation(&s.ListenerSets[i].ObjectMeta, s.ListenerSets[i].Spec)
	}
	for i := range s.HTTPRoutes {
		stamp(&s.HTTPRoutes[i].ObjectMeta, s.HTTPRoutes[i])
	}
	for i := range s.GatewayClasses {
		stamp(&s.GatewayClasses[i].ObjectMeta, &s.GatewayClasses[i])
	}
	for i := range s.Gateways {
		stamp(&s.Gateways[i].ObjectMeta, &s.Gateways[i])
	}
	for i := range s.ListenerSets {
		stamp(&s.ListenerSets[i].ObjectMeta, &s.ListenerSets[i])
	}
	for i := range s.Namespaces {
		stamp(&s.Namespaces[i].ObjectMeta, &s.Namespaces[i])
	}
	for i := range s.GRPCRoutes {
		stamp(&s.GRPCRoutes[i].ObjectMeta, s.GRPCRoutes[i])
	}
	for i := range s.Services {
		stamp(&s.Services[i].ObjectMeta, &s.Services[i])
	}
	for i := range s.EndpointSlices {
		stamp(&s.EndpointSlices[i].ObjectMeta, &s.EndpointSlices[i])
	}
	for i := range s.ReferenceGrants {
		stamp(&s.ReferenceGrants[i].ObjectMeta, &s.ReferenceGrants[i])
	}
	for i := range s.BackendTLSPolicies {
		stamp(&s.BackendTLSPolicies[i].ObjectMeta, &s.BackendTLSPolicies[i])
	}
	for i := range s.Secrets {
		stamp(&s.Secrets[i].ObjectMeta, &s.Secrets[i])
	}
	for i := range s.ConfigMaps {
		stamp(&s.ConfigMaps[i].ObjectMeta, &s.ConfigMaps[i])
	}
}

// tableDifferences probes two tables compiled from cfg with a request per
// listener, route hostname and match, and says where they answer
// differently ("" when nowhere).
func tableDifferences(got, want *routetable.Table, cfg routetable.Config) string {
	names := func(t *routetable.Table) string {
		var out []string
		for _, s := range t.Sockets() {
			for _, l := range s.Listeners {
				out = append(out, fmt.Sprintf("%s:%d %s %q", s.Address, s.Port, l.Name, l.Hostname))
			}
		}
		return strings.Join(out, "; ")
	}
	if g, w := names(got), names(want); g != w {
		return "listeners " + g + " against " + w
	}
	answer := func(t *routetable.Table, l *routetable.Listener, host string, r *http.Request) string {
		s := t.Socket(l.Address, l.Port)
		if s == nil {
			return "no socket"
		}
		cl, m := s.Route(host, r)
		if cl == nil || m == nil {
			return "no match"
		}
		out := fmt.Sprintf("%s %s rule %d match %d:", cl.Name, m.Rule.Route, m.Rule.Index, m.Index)
		for _, b := range m.Rule.Backends {
			out += fmt.Sprintf(" %s/%d/%s/%d", b.Name, b.Weight, b.Unresolved, len(b.Endpoints()))
			for _, e := range b.Endpoints() {
				out += fmt.Sprintf(",%v", e)
			}
		}
		return out
	}
	for i := range cfg.Listeners {
		l := &cfg.Listeners[i]
		for _, route := range l.Routes {
			hosts := slices.Clone(route.Hostnames)
			if len(hosts) == 0 {
				hosts = []string{l.Hostname}
			}
			for _, h := range hosts {
				h = strings.Replace(h, "*", "probe", 1)
				if h == "" {
					h = "any.example"
				}
				for _, rule := range route.Rules {
					for _, m := range append(rule.Matches, routetable.Match{}) {
						path := m.Path.Value
						if m.Path.Type == routetable.PathRegex || !strings.HasPrefix(path, "/") {
							path = "/"
						}
						r := &http.Request{Method: cmpOr(m.Method, http.MethodGet), URL: &url.URL{Path: path}, Host: h, Header: http.Header{}}
						for _, hm := range m.Headers {
							r.Header.Set(hm.Name, hm.Value)
						}
						if g, w := answer(got, l, h, r), answer(want, l, h, r); g != w {
							return fmt.Sprintf("listener %s host %s path %s: %s against %s", l.Name, h, path, g, w)
						}
					}
				}
			}
		}
	}
	return ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// testHash is FNV-1a over the parts: the same in every run, so a failing
// seed fails again (objectHash is seeded per process).
func testHash(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = h.Write([]byte(p))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}
