package translate

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// TestIncrementalEqualsBuildUnderTenantEdits runs random sequences of
// Tenant edits (hostnames, namespaces by name and by label, gateways,
// backend namespaces, enforcement; tenants created and deleted), namespace
// relabelling and route edits under the real tenant policy (and, one
// sequence in four, with no policy at all), and checks
// after each step that Incremental.Build, which keeps the stages of the
// routes a policy change cannot reach, equals a full Build, and that the
// Compiler's table answers like Compile's. It fails if no Tenant edit ever
// kept a stage (the scoping would be dead code) or none ever judged a
// route again.
func TestIncrementalEqualsBuildUnderTenantEdits(t *testing.T) {
	const sequences, steps = 40, 30
	kept, judged, compared := 0, 0, 0
	for seq := range sequences {
		rng := rand.New(rand.NewPCG(21, uint64(seq)))
		w := newTenantWorld(rng)
		inc, compiler := &Incremental{}, &routetable.Compiler{}
		var last Result
		var done []string
		for step := range steps {
			prev := w.s
			w.s = cloneSnapshot(w.s)
			policyChanged := false
			if step > 0 {
				what, changed := w.change(rng)
				done = append(done, what)
				policyChanged = changed
			}
			switch {
			case seq%4 == 3:
				w.s.Policy = nil // no tenancy: namespace labels still decide which listeners admit a route
			case policyChanged || w.s.Policy == nil:
				w.s.Policy = tenancy.NewPolicy(w.inputs())
			}
			stampVersions(w.s)
			w.s.HTTPRouteChanges = nil
			if rng.IntN(2) == 0 {
				withRouteChanges(prev, w.s, uint64(step+1))
			}
			got, want := inc.Build(w.s), Build(w.s)
			if !sameResults(got, want) {
				t.Fatalf("sequence %d after %s: incremental Build differs from a full Build:\n%s", seq, strings.Join(done, ", "), diffResults(got, want))
			}
			inc.Recycle(last.Config) // as the controller does: the Config before this one is read no more
			last = got
			table, faults := compiler.Compile(got.Config)
			wantTable, wantFaults := routetable.Compile(want.Config)
			if fmt.Sprint(faults) != fmt.Sprint(wantFaults) {
				t.Fatalf("sequence %d after %s: Compiler faults %v, Compile faults %v", seq, strings.Join(done, ", "), faults, wantFaults)
			}
			if d := tableDifferences(table, wantTable, want.Config); d != "" {
				t.Fatalf("sequence %d after %s: the Compiler's table differs from Compile's: %s", seq, strings.Join(done, ", "), d)
			}
			compared++
			if policyChanged && step > 0 && w.s.Policy != nil {
				st := inc.Stats()
				if st.Replayed > 0 {
					kept++
				}
				if st.Replayed < len(w.s.HTTPRoutes) {
					judged++
				}
			}
		}
	}
	t.Logf("%d Builds compared; after a policy change, %d kept some stages and %d judged some routes again", compared, kept, judged)
	if kept == 0 || judged == 0 {
		t.Fatalf("policy changes kept stages in %d Builds and judged routes again in %d; want both above 0", kept, judged)
	}
}

// tenantWorld is a snapshot with tenants: a shared Gateway with a listener
// for every namespace and one for namespaces labelled blue, six team
// namespaces, a shared backend namespace, and routes claiming hostnames
// from a small pool, so tenants' claims overlap.
type tenantWorld struct {
	s       *Snapshot
	tenants []v1alpha1.Tenant
}

var (
	tenantHostPool = []string{"a.example.com", "*.a.example.com", "b.example.com", "*.example.com", "shop.example.com", "x.apps.example.com", "*.apps.example.com"}
	teamNamespaces = []string{"team-0", "team-1", "team-2", "team-3", "team-4", "team-5"}
)

const sharedBackends = "shared-backends"

func newTenantWorld(rng *rand.Rand) *tenantWorld {
	s := benchSnapshot()
	s.Namespaces, s.Services, s.EndpointSlices, s.HTTPRoutes = nil, nil, nil, nil
	gw := &s.Gateways[0]
	selector := gatewayv1.NamespacesFromSelector
	gw.Spec.Listeners = append(gw.Spec.Listeners, gatewayv1.Listener{
		Name: "apps", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: new(gatewayv1.Hostname("*.apps.example.com")),
		AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &selector, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"color": "blue"}}}},
	})
	// ListenerSets may join the shared Gateway; a second Gateway shares its
	// address, so their listeners judge each other's hostnames.
	fromAll := gatewayv1.NamespacesFromAll
	gw.Spec.AllowedListeners = &gatewayv1.AllowedListeners{Namespaces: &gatewayv1.ListenerNamespaces{From: &fromAll}}
	second := gw.DeepCopy()
	second.Name, second.Spec.AllowedListeners = "second", nil
	second.Spec.Listeners = []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: randomHostname(rng),
		AllowedRoutes: gw.Spec.Listeners[0].AllowedRoutes}}
	// A team's own Gateway: the policy judges its listeners by the
	// tenant that owns team-0, so a Tenant edit can change them.
	own := gw.DeepCopy()
	own.Namespace, own.Name = teamNamespaces[0], "own"
	own.Spec.Listeners = []gatewayv1.Listener{{Name: "web", Port: 81, Protocol: gatewayv1.HTTPProtocolType, Hostname: new(gatewayv1.Hostname(tenantHostPool[rng.IntN(len(tenantHostPool))])),
		AllowedRoutes: gw.Spec.Listeners[0].AllowedRoutes}}
	s.Gateways = append(s.Gateways, *own, *second)
	s.Addresses[types.NamespacedName{Namespace: own.Namespace, Name: own.Name}] = "127.10.0.2"
	s.Addresses[types.NamespacedName{Namespace: second.Namespace, Name: second.Name}] = s.Addresses[types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}]
	s.ListenerSets = []gatewayv1.ListenerSet{randomListenerSet(rng)}
	s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: benchRouteParentNS}})
	for i, ns := range append(slices.Clone(teamNamespaces), sharedBackends) {
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: randomColor(rng)}})
		s.Services = append(s.Services, benchService(ns, 0))
		s.EndpointSlices = append(s.EndpointSlices, benchSlice(ns, i, 0))
	}
	w := &tenantWorld{s: s}
	for i := range 4 {
		w.tenants = append(w.tenants, randomTenant(rng, fmt.Sprintf("t%d", i)))
	}
	for i := range 24 {
		w.s.HTTPRoutes = append(w.s.HTTPRoutes, randomTenantRoute(rng, fmt.Sprintf("r%02d", i)))
	}
	return w
}

func (w *tenantWorld) inputs() tenancy.Inputs {
	return tenancy.Inputs{Tenants: slices.Clone(w.tenants), Namespaces: w.s.Namespaces, PlatformNamespaces: []string{benchRouteParentNS},
		Gateways: w.s.Gateways, ListenerSets: w.s.ListenerSets, ReferenceGrants: w.s.ReferenceGrants}
}

// change makes one random change and says what it was and whether the
// policy's inputs changed.
func (w *tenantWorld) change(rng *rand.Rand) (string, bool) {
	switch rng.IntN(9) {
	case 8:
		return w.changeParents(rng), true
	case 0, 1:
		i := rng.IntN(len(w.tenants))
		name := w.tenants[i].Name
		w.tenants[i] = randomTenant(rng, name)
		return "Tenant " + name + " edited", true
	case 2:
		if len(w.tenants) > 1 && rng.IntN(2) == 0 {
			i := rng.IntN(len(w.tenants))
			name := w.tenants[i].Name
			w.tenants = slices.Delete(w.tenants, i, i+1)
			return "Tenant " + name + " deleted", true
		}
		name := fmt.Sprintf("t%d", 4+rng.IntN(100))
		w.tenants = append(w.tenants, randomTenant(rng, name))
		return "Tenant " + name + " created", true
	case 3:
		i := 1 + rng.IntN(len(w.s.Namespaces)-1)
		w.s.Namespaces[i].Labels = randomColor(rng) // a new map: the last snapshot shares the old one
		return "Namespace " + w.s.Namespaces[i].Name + " relabelled", true
	case 4:
		return "the policy rebuilt from the same objects", true
	case 5:
		if len(w.s.HTTPRoutes) > 0 && rng.IntN(3) == 0 {
			i := rng.IntN(len(w.s.HTTPRoutes))
			name := w.s.HTTPRoutes[i].Name
			w.s.HTTPRoutes = slices.Delete(w.s.HTTPRoutes, i, i+1)
			return "HTTPRoute " + name + " deleted", false
		}
		r := randomTenantRoute(rng, fmt.Sprintf("n%03d", rng.IntN(1000)))
		if !slices.ContainsFunc(w.s.HTTPRoutes, func(o *gatewayv1.HTTPRoute) bool { return o.Namespace == r.Namespace && o.Name == r.Name }) {
			w.s.HTTPRoutes = append(w.s.HTTPRoutes, r)
		}
		return "HTTPRoute " + r.Name + " created", false
	default:
		if len(w.s.HTTPRoutes) == 0 {
			return "no route to edit", false
		}
		i := rng.IntN(len(w.s.HTTPRoutes))
		r := randomTenantRoute(rng, w.s.HTTPRoutes[i].Name)
		r.Namespace = w.s.HTTPRoutes[i].Namespace
		r.CreationTimestamp = w.s.HTTPRoutes[i].CreationTimestamp
		w.s.HTTPRoutes[i] = r
		return "HTTPRoute " + r.Namespace + "/" + r.Name + " edited", false
	}
}

func randomColor(rng *rand.Rand) map[string]string {
	return map[string]string{"color": []string{"blue", "green"}[rng.IntN(2)]}
}

func randomTenant(rng *rand.Rand, name string) v1alpha1.Tenant {
	spec := v1alpha1.TenantSpec{Enforcement: v1alpha1.EnforcementDeny}
	for range rng.IntN(3) {
		spec.Namespaces.Names = append(spec.Namespaces.Names, v1alpha1.NamespaceName(teamNamespaces[rng.IntN(len(teamNamespaces))]))
	}
	if rng.IntN(4) == 0 {
		spec.Namespaces.Selector = &metav1.LabelSelector{MatchLabels: randomColor(rng)}
	}
	for range rng.IntN(4) {
		h := v1alpha1.OwnedHostname{Hostname: v1alpha1.Hostname(tenantHostPool[rng.IntN(len(tenantHostPool))])}
		if rng.IntN(4) == 0 {
			h.PathPrefixes = []v1alpha1.PathPrefix{v1alpha1.PathPrefix("/" + name)}
		}
		if !slices.ContainsFunc(spec.Hostnames, func(o v1alpha1.OwnedHostname) bool { return o.Hostname == h.Hostname }) {
			spec.Hostnames = append(spec.Hostnames, h)
		}
	}
	switch rng.IntN(3) {
	case 0:
		spec.Gateways = []v1alpha1.GatewayReference{{Namespace: benchRouteParentNS, Name: benchRouteParentName}}
	case 1:
		spec.Gateways = []v1alpha1.GatewayReference{{Namespace: benchRouteParentNS, Name: benchRouteParentName, SectionNames: []string{"http"}}}
	}
	if rng.IntN(3) == 0 {
		spec.BackendNamespaces.Names = []v1alpha1.NamespaceName{sharedBackends}
	}
	if rng.IntN(4) == 0 {
		spec.Enforcement = v1alpha1.EnforcementWarn
	}
	return v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)}, Spec: spec}
}

func randomTenantRoute(rng *rand.Rand, name string) *gatewayv1.HTTPRoute {
	ns := teamNamespaces[rng.IntN(len(teamNamespaces))]
	r := new(benchRoute(ns, 0))
	r.Name = name
	r.Spec.Hostnames = nil
	for range rng.IntN(3) {
		h := tenantHostPool[rng.IntN(len(tenantHostPool))]
		if strings.HasPrefix(h, "*.") && rng.IntN(2) == 0 {
			h = "w" + strings.TrimPrefix(h, "*")
		}
		r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(h))
	}
	switch rng.IntN(6) {
	case 0:
		r.Spec.ParentRefs[0].SectionName = new(gatewayv1.SectionName([]string{"http", "apps"}[rng.IntN(2)]))
	case 1:
		r.Spec.ParentRefs = append(r.Spec.ParentRefs, gatewayv1.ParentReference{Namespace: new(gatewayv1.Namespace(teamNamespaces[0])), Name: "own"})
	case 2:
		r.Spec.ParentRefs[0].Name = "second"
	case 3:
		kind := gatewayv1.Kind("ListenerSet")
		r.Spec.ParentRefs[0] = gatewayv1.ParentReference{Kind: &kind, Namespace: new(gatewayv1.Namespace(teamNamespaces[1])), Name: "extra"}
	}
	backendNS := ns
	if rng.IntN(3) == 0 {
		backendNS = []string{sharedBackends, teamNamespaces[rng.IntN(len(teamNamespaces))]}[rng.IntN(2)]
	}
	for i := range r.Spec.Rules {
		for j := range r.Spec.Rules[i].BackendRefs {
			b := &r.Spec.Rules[i].BackendRefs[j].BackendRef
			b.Name, b.Namespace = "svc-0", new(gatewayv1.Namespace(backendNS))
		}
	}
	r.CreationTimestamp = metav1.NewTime(time.Date(2026, 11, 25, 11, 0, rng.IntN(60), 0, time.UTC))
	return r
}

// changeParents edits a Gateway or the ListenerSet (its hostnames, a
// listener added or removed, ListenerSets allowed or not; the ListenerSet
// deleted or created).
func (w *tenantWorld) changeParents(rng *rand.Rand) string {
	switch rng.IntN(5) {
	case 4:
		g := &w.s.Gateways[0] // shared
		if g.Spec.AllowedListeners != nil {
			g.Spec.AllowedListeners = nil
			return "Gateway shared allows no ListenerSet"
		}
		all := gatewayv1.NamespacesFromAll
		g.Spec.AllowedListeners = &gatewayv1.AllowedListeners{Namespaces: &gatewayv1.ListenerNamespaces{From: &all}}
		return "Gateway shared allows ListenerSets again"
	case 0:
		g := &w.s.Gateways[len(w.s.Gateways)-1] // second
		g.Spec.Listeners[0].Hostname = randomHostname(rng)
		return "Gateway second's hostname changed"
	case 1:
		g := &w.s.Gateways[0] // shared
		if n := len(g.Spec.Listeners); n > 2 {
			g.Spec.Listeners = g.Spec.Listeners[:2]
			return "Gateway shared lost a listener"
		}
		g.Spec.Listeners = append(g.Spec.Listeners, gatewayv1.Listener{Name: "more", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
			Hostname: randomHostname(rng), AllowedRoutes: g.Spec.Listeners[0].AllowedRoutes})
		return "Gateway shared gained a listener"
	case 2:
		if len(w.s.ListenerSets) > 0 {
			w.s.ListenerSets = nil
			return "ListenerSet deleted"
		}
		w.s.ListenerSets = []gatewayv1.ListenerSet{randomListenerSet(rng)}
		return "ListenerSet created"
	default:
		if len(w.s.ListenerSets) == 0 {
			return "no ListenerSet to edit"
		}
		w.s.ListenerSets[0].Spec.Listeners[0].Hostname = randomHostname(rng)
		return "ListenerSet hostname changed"
	}
}

func randomHostname(rng *rand.Rand) *gatewayv1.Hostname {
	if rng.IntN(5) == 0 {
		return nil
	}
	return new(gatewayv1.Hostname(tenantHostPool[rng.IntN(len(tenantHostPool))]))
}

// randomListenerSet adds a listener of team-1's to the shared Gateway.
func randomListenerSet(rng *rand.Rand) gatewayv1.ListenerSet {
	all := gatewayv1.NamespacesFromAll
	return gatewayv1.ListenerSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: teamNamespaces[1], Name: "extra", CreationTimestamp: metav1.NewTime(time.Date(2026, 11, 25, 10, 0, rng.IntN(60), 0, time.UTC))},
		Spec: gatewayv1.ListenerSetSpec{
			ParentRef: gatewayv1.ParentGatewayReference{Namespace: new(gatewayv1.Namespace(benchRouteParentNS)), Name: benchRouteParentName},
			Listeners: []gatewayv1.ListenerEntry{{Name: "ls", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: randomHostname(rng),
				AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &all}}}},
		},
	}
}
