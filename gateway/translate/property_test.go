package translate

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// Whole-snapshot properties, checked on golden inputs broken by the mutator:
//
//  1. Build never panics, and Compile(Build(s).Config) leaves nothing out.
//  2. Build is deterministic and does not modify its snapshot.
//  3. A bad object changes nothing outside itself: Build of the snapshot
//     with the broken object equals Build of the snapshot without it, once
//     what the object may legitimately change is set aside (isolation).
//
// Isolation, per kind of broken object X:
//   - HTTPRoute: X's own entries in the Config and its status are set
//     aside, and listeners' attachedRoutes counts (X attaches or not). Other
//     routes' Config entries and statuses, and every Gateway, ListenerSet
//     and GatewayClass status must be identical. BackendTLSPolicy statuses
//     are not compared: X may make a Gateway an ancestor of a policy.
//     Precedence between X's matches and others' is legitimate, so the
//     comparison is of Config entries, not of which route a request reaches.
//     GRPCRoutes' statuses and Config entries are set aside too: where X
//     and a GRPCRoute claim one hostname on a listener, the older wins.
//   - GRPCRoute: the same, with HTTPRoutes as the other kind.
//   - Gateway: X's listeners and status are set aside, and so are Gateways
//     given the same address (their listeners may conflict with X's by
//     port and hostname), the routes and ListenerSets naming X (or a
//     Gateway sharing its address) as parent, and BackendTLSPolicy
//     statuses. Everything else must be identical.
//   - ConfigMap or Secret (CA bundle, certificate): a broken one must act as
//     a missing one, so the whole Config and every HTTPRoute status must be
//     identical; the Gateways, ListenerSets and BackendTLSPolicies naming
//     X are set aside (their messages say what is wrong with it).
//   - ListenerSet, BackendTLSPolicy, ReferenceGrant, Service: they decide
//     for others by design (precedence by age, targets, grants, backends),
//     so only properties 1 and 2 are checked.

// goldenSeeds loads every golden input once.
var goldenSeeds = sync.OnceValues(func() ([]string, error) {
	return filepath.Glob("testdata/*.in.yaml")
})

func seedSnapshots(t testing.TB) []*Snapshot {
	paths, err := goldenSeeds()
	if err != nil || len(paths) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	out := make([]*Snapshot, len(paths))
	for i, p := range paths {
		out[i] = loadSnapshot(t, p)
	}
	return out
}

// cloneSnapshot deep-copies every object, so a mutation leaves the seed alone.
func cloneSnapshot(s *Snapshot) *Snapshot {
	c := *s
	c.GatewayClasses = deepCopies(s.GatewayClasses, (*gatewayv1.GatewayClass).DeepCopy)
	c.Gateways = deepCopies(s.Gateways, (*gatewayv1.Gateway).DeepCopy)
	c.ListenerSets = deepCopies(s.ListenerSets, (*gatewayv1.ListenerSet).DeepCopy)
	c.HTTPRoutes = deepCopyPointers(s.HTTPRoutes, (*gatewayv1.HTTPRoute).DeepCopy)
	c.GRPCRoutes = deepCopyPointers(s.GRPCRoutes, (*gatewayv1.GRPCRoute).DeepCopy)
	c.ReferenceGrants = deepCopies(s.ReferenceGrants, (*gatewayv1.ReferenceGrant).DeepCopy)
	c.BackendTLSPolicies = deepCopies(s.BackendTLSPolicies, (*gatewayv1.BackendTLSPolicy).DeepCopy)
	c.Services = deepCopies(s.Services, deepCopyService)
	c.EndpointSlices = slices.Clone(s.EndpointSlices)
	for i := range c.EndpointSlices {
		c.EndpointSlices[i] = *s.EndpointSlices[i].DeepCopy()
	}
	c.Secrets = deepCopies(s.Secrets, deepCopySecret)
	c.ConfigMaps = deepCopies(s.ConfigMaps, deepCopyConfigMap)
	c.Namespaces = slices.Clone(s.Namespaces)
	c.Addresses, c.AddressErrors, c.BindErrors, c.Listening = maps.Clone(s.Addresses), maps.Clone(s.AddressErrors), maps.Clone(s.BindErrors), maps.Clone(s.Listening)
	return &c
}

func deepCopyPointers[T any](in []*T, copyOf func(*T) *T) []*T {
	if in == nil {
		return nil
	}
	out := make([]*T, len(in))
	for i := range in {
		out[i] = copyOf(in[i])
	}
	return out
}

func deepCopies[T any](in []T, copyOf func(*T) *T) []T {
	if in == nil {
		return nil
	}
	out := make([]T, len(in))
	for i := range in {
		out[i] = *copyOf(&in[i])
	}
	return out
}

// without returns a copy of s without the subject.
func without(s *Snapshot, sub subject) *Snapshot {
	c := cloneSnapshot(s)
	drop := func(ns, name string) bool { return ns == sub.key.Namespace && name == sub.key.Name }
	switch sub.kind {
	case "HTTPRoute":
		c.HTTPRoutes = slices.DeleteFunc(c.HTTPRoutes, func(o *gatewayv1.HTTPRoute) bool { return drop(o.Namespace, o.Name) })
	case "GRPCRoute":
		c.GRPCRoutes = slices.DeleteFunc(c.GRPCRoutes, func(o *gatewayv1.GRPCRoute) bool { return drop(o.Namespace, o.Name) })
	case "Gateway":
		c.Gateways = slices.DeleteFunc(c.Gateways, func(o gatewayv1.Gateway) bool { return drop(o.Namespace, o.Name) })
	case "ConfigMap":
		c.ConfigMaps = slices.DeleteFunc(c.ConfigMaps, func(o corev1ConfigMap) bool { return drop(o.Namespace, o.Name) })
	case "Secret":
		c.Secrets = slices.DeleteFunc(c.Secrets, func(o corev1Secret) bool { return drop(o.Namespace, o.Name) })
	}
	return c
}

// buildChecked runs Build and checks properties 1 and 2.
// broken names the objects the mutator broke.
func buildChecked(t testing.TB, s *Snapshot, what string, broken ...subject) Result {
	t.Helper()
	before := cloneSnapshot(s)
	var r Result
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("%s: Build panicked: %v", what, p)
			}
		}()
		r = Build(s)
	}()
	if !equality.Semantic.DeepEqual(s, before) {
		t.Fatalf("%s: Build modified its snapshot", what)
	}
	_, faults := routetable.Compile(r.Config)
	for _, f := range faults {
		t.Fatalf("%s: Compile left out part of Build's Config: %v", what, f)
	}
	if again := Build(s); !sameResults(r, again) {
		t.Fatalf("%s: Build is not deterministic:\n%s", what, diffResults(r, again))
	}
	return r
}

// checkIsolation checks property 3 for the subject broken in s.
func checkIsolation(t testing.TB, s *Snapshot, sub subject, with Result, what string) {
	t.Helper()
	clean := without(s, sub)
	var want Result
	switch sub.kind {
	case "HTTPRoute", "GRPCRoute", "Gateway", "ConfigMap", "Secret":
		want = buildChecked(t, clean, what+" (without it)", sub)
	default:
		return
	}
	got, want := setAside(s, sub, with), setAside(clean, sub, want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: %s %s changed something outside itself:\n%s", what, sub.kind, sub.key, diffResults(got, want))
	}
}

// setAside returns r without what sub may legitimately change (see above).
func setAside(s *Snapshot, sub subject, r Result) Result {
	out := Result{
		Config:             routetable.Config{},
		GatewayClasses:     r.GatewayClasses,
		Gateways:           maps.Clone(r.Gateways),
		GRPCRoutes:         maps.Clone(r.GRPCRoutes),
		BackendTLSPolicies: maps.Clone(r.BackendTLSPolicies),
		ListenerSets:       maps.Clone(r.ListenerSets),
	}
	httpRoutes := r.HTTPRoutes.Map()
	gone := map[types.NamespacedName]bool{} // Gateways set aside
	switch sub.kind {
	case "HTTPRoute":
		delete(httpRoutes, sub.key)
		out.GRPCRoutes = nil
		out.BackendTLSPolicies = nil
		zeroAttached(&out)
	case "GRPCRoute":
		delete(out.GRPCRoutes, sub.key)
		httpRoutes = nil
		out.BackendTLSPolicies = nil
		zeroAttached(&out)
	case "Gateway":
		gone[sub.key] = true
		if addr := s.Addresses[sub.key]; addr != "" {
			for k, a := range s.Addresses {
				if a == addr {
					gone[k] = true
				}
			}
		}
		for k := range gone {
			delete(out.Gateways, k)
		}
		for _, r := range s.HTTPRoutes {
			for _, ref := range r.Spec.ParentRefs {
				if namesAny(gone, string(ref.Name)) {
					delete(httpRoutes, keyOf(&r.ObjectMeta))
				}
			}
		}
		for _, r := range s.GRPCRoutes {
			for _, ref := range r.Spec.ParentRefs {
				if namesAny(gone, string(ref.Name)) {
					delete(out.GRPCRoutes, keyOf(&r.ObjectMeta))
				}
			}
		}
		for _, ls := range s.ListenerSets {
			if namesAny(gone, string(ls.Spec.ParentRef.Name)) {
				delete(out.ListenerSets, keyOf(&ls.ObjectMeta))
				for _, r := range s.HTTPRoutes {
					for _, ref := range r.Spec.ParentRefs {
						if string(ref.Name) == ls.Name {
							delete(httpRoutes, keyOf(&r.ObjectMeta))
						}
					}
				}
				for _, r := range s.GRPCRoutes {
					for _, ref := range r.Spec.ParentRefs {
						if string(ref.Name) == ls.Name {
							delete(out.GRPCRoutes, keyOf(&r.ObjectMeta))
						}
					}
				}
			}
		}
		out.BackendTLSPolicies = nil
	case "ConfigMap", "Secret":
		for _, g := range s.Gateways {
			if mentions(g.Spec, sub.key.Name) {
				delete(out.Gateways, keyOf(&g.ObjectMeta))
			}
		}
		for _, ls := range s.ListenerSets {
			if mentions(ls.Spec, sub.key.Name) {
				delete(out.ListenerSets, keyOf(&ls.ObjectMeta))
			}
		}
		for _, p := range s.BackendTLSPolicies {
			if mentions(p.Spec, sub.key.Name) {
				delete(out.BackendTLSPolicies, keyOf(&p.ObjectMeta))
			}
		}
	}
	for _, l := range r.Config.Listeners {
		if sub.kind == "Gateway" && listenerOfAny(gone, l.Name) {
			continue
		}
		if sub.kind == "HTTPRoute" || sub.kind == "GRPCRoute" {
			// Routes of the other kind may lose a hostname conflict to the subject.
			l.Routes = slices.DeleteFunc(slices.Clone(l.Routes), func(rt *routetable.Route) bool {
				return rt.GRPC != (sub.kind == "GRPCRoute") || rt.Namespace == sub.key.Namespace && rt.Name == sub.key.Name
			})
			if len(l.Routes) == 0 {
				l.Routes = nil
			}
		}
		out.Config.Listeners = append(out.Config.Listeners, l)
	}
	out.HTTPRoutes = plainStatuses(httpRoutes)
	return out
}

// namesAny reports whether name is the name of a Gateway in set; parentRefs
// are compared by name only, which sets aside a little more than needed.
func namesAny(set map[types.NamespacedName]bool, name string) bool {
	for k := range set {
		if k.Name == name {
			return true
		}
	}
	return false
}

// listenerOfAny reports whether a Config listener belongs to a Gateway in set.
func listenerOfAny(set map[types.NamespacedName]bool, listener string) bool {
	for k := range set {
		if strings.HasPrefix(listener, k.Namespace+"/"+k.Name+"/") {
			return true
		}
	}
	return false
}

// mentions reports whether an object's spec names something called name.
func mentions(spec any, name string) bool {
	raw, _ := json.Marshal(spec)
	quoted, _ := json.Marshal(name)
	return strings.Contains(string(raw), `"name":`+string(quoted))
}

func zeroAttached(r *Result) {
	for k, g := range r.Gateways {
		g.Listeners = slices.Clone(g.Listeners)
		for i := range g.Listeners {
			g.Listeners[i].AttachedRoutes = 0
		}
		r.Gateways[k] = g
	}
	for k, ls := range r.ListenerSets {
		ls.Listeners = slices.Clone(ls.Listeners)
		for i := range ls.Listeners {
			ls.Listeners[i].AttachedRoutes = 0
		}
		r.ListenerSets[k] = ls
	}
}

// diffResults shows the first lines where two results differ, as YAML.
// sameResults is reflect.DeepEqual of the Results with their HTTPRoute
// statuses as plain maps: Incremental lays changes over shared ones.
func sameResults(a, b Result) bool {
	a.HTTPRoutes, b.HTTPRoutes = plainStatuses(a.HTTPRoutes.Map()), plainStatuses(b.HTTPRoutes.Map())
	return reflect.DeepEqual(a, b)
}

// plainStatuses holds m with no layer and no base number, for comparisons.
func plainStatuses(m map[types.NamespacedName]gatewayv1.HTTPRouteStatus) RouteStatuses {
	return RouteStatuses{base: m, n: len(m)}
}

func diffResults(a, b Result) string {
	ya, _ := yaml.Marshal(goldenOf(a))
	yb, _ := yaml.Marshal(goldenOf(b))
	la, lb := strings.Split(string(ya), "\n"), strings.Split(string(yb), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			lo, hi := max(0, i-3), min(len(la), len(lb), i+4)
			return fmt.Sprintf("line %d:\n--- with\n%s\n--- without\n%s", i+1, strings.Join(la[lo:hi], "\n"), strings.Join(lb[lo:hi], "\n"))
		}
	}
	if len(la) != len(lb) {
		return fmt.Sprintf("%d lines against %d", len(la), len(lb))
	}
	return "only in fields YAML hides (PEM)"
}

// checkMutated breaks s as the chooser says and checks every property.
func checkMutated(t testing.TB, seed *Snapshot, name string, choices []byte) {
	t.Helper()
	s := cloneSnapshot(seed)
	c := &chooser{data: choices}
	var subjects []subject
	var what []string
	for range 1 + c.intn(3) {
		sub, m, ok := mutate(c, s)
		if ok {
			subjects = append(subjects, sub)
			what = append(what, m+" on "+sub.kind+" "+sub.key.String())
		}
	}
	desc := name + ": " + strings.Join(what, ", ")
	r := buildChecked(t, s, desc, subjects...)
	if len(subjects) == 1 {
		checkIsolation(t, s, subjects[0], r, desc)
	}
}

// TestBuildIsTotal is the short budget of the whole-snapshot properties:
// a fixed number of random mutations of every golden input.
func TestBuildIsTotal(t *testing.T) {
	const perSeed = 40
	paths, _ := goldenSeeds()
	rng := rand.New(rand.NewPCG(13, 13))
	cases := 0
	for i, seed := range seedSnapshots(t) {
		name := strings.TrimSuffix(filepath.Base(paths[i]), ".in.yaml")
		for range perSeed {
			choices := make([]byte, 64)
			for j := range choices {
				choices[j] = byte(rng.Uint32())
			}
			checkMutated(t, seed, name, choices)
			cases++
		}
	}
	t.Logf("%d mutated snapshots: Build total, deterministic, failures confined; Compile without faults", cases)
}

type (
	corev1ConfigMap = corev1.ConfigMap
	corev1Secret    = corev1.Secret
)

func deepCopyService(s *corev1.Service) *corev1.Service       { return s.DeepCopy() }
func deepCopySecret(s *corev1.Secret) *corev1.Secret          { return s.DeepCopy() }
func deepCopyConfigMap(c *corev1.ConfigMap) *corev1.ConfigMap { return c.DeepCopy() }
