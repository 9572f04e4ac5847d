package translate

import (
	"fmt"
	"slices"
	"strconv"
	"syscall"
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

// BenchmarkIncrementalRouteChange is one route change among 5,000 as the
// controller runs it: Incremental.Build and Compiler.Compile of a snapshot
// in which one route has a new resourceVersion, generation and rules.
func BenchmarkIncrementalRouteChange(b *testing.B) {
	for _, namespaces := range []int{benchNamespaces, 4 * benchNamespaces} {
		b.Run(fmt.Sprintf("routes=%d", namespaces*benchRoutesPerNS), func(b *testing.B) { benchRouteChange(b, namespaces, false) })
		b.Run(fmt.Sprintf("routes=%d/told", namespaces*benchRoutesPerNS), func(b *testing.B) { benchRouteChange(b, namespaces, true) })
	}
}

// largeBenchSnapshot is benchSnapshot with more team namespaces of the same shape.
func largeBenchSnapshot(namespaces int) *Snapshot {
	s := benchSnapshot()
	for n := benchNamespaces; n < namespaces; n++ {
		ns := fmt.Sprintf("team-%03d", n)
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		for v := range benchServicesPerNS {
			s.Services = append(s.Services, benchService(ns, v))
			s.EndpointSlices = append(s.EndpointSlices, benchSlice(ns, n%250, v))
		}
		for r := range benchRoutesPerNS {
			s.HTTPRoutes = append(s.HTTPRoutes, new(benchRoute(ns, r)))
		}
	}
	return s
}

// benchRouteChange changes one route per op; told gives the snapshot the
// RouteChanges the controller's route log would.
func benchRouteChange(b *testing.B, namespaces int, told bool) {
	s := largeBenchSnapshot(namespaces)
	benchEdits(b, s, func(i int) {
		r := s.HTTPRoutes[i*997%len(s.HTTPRoutes)]
		r.Spec.Rules[1].Filters[0].RequestHeaderModifier.Set[0].Value = "v" + strconv.Itoa(i)
		r.ResourceVersion = "changed-" + strconv.Itoa(i)
		r.Generation++ // as the API server counts a spec change: the route's status changes too
		if told {
			s.HTTPRouteChanges = &RouteChanges{Since: uint64(i + 1), Seq: uint64(i + 2), HTTPRoutes: []*gatewayv1.HTTPRoute{r}}
		}
	}, func(i int, st IncrementalStats) {
		if st.Translated != 1 || st.Replayed+st.Skipped != len(s.HTTPRoutes)-1 || told != (st.Skipped > 0) && i > 0 {
			b.Fatalf("translated %d routes, replayed %d and skipped %d for one change among %d (told %v); want 1 and the others", st.Translated, st.Replayed, st.Skipped, len(s.HTTPRoutes), told)
		}
	})
}

// benchEdits builds and compiles s once, then per op makes edit i, builds
// and compiles again, and hands check the Build's stats.
func benchEdits(b *testing.B, s *Snapshot, edit func(i int), check func(i int, st IncrementalStats)) {
	stampVersions(s)
	inc, compiler := &Incremental{}, &routetable.Compiler{}
	last := inc.Build(s).Config
	compiler.Compile(last)
	b.ReportAllocs()
	defer reportCPU(b)()
	for i := 0; b.Loop(); i++ {
		edit(i)
		res := inc.Build(s)
		check(i, inc.Stats())
		if _, faults := compiler.Compile(res.Config); len(faults) > 0 {
			b.Fatal(faults.Err())
		}
		inc.Recycle(last) // as the controller does
		last = res.Config
	}
}

// BenchmarkIncrementalServiceChange edits one team's Service per op (a
// label, as a deploy tool does) at 20,000 routes: only the routes sending
// to that Service are translated again.
func BenchmarkIncrementalServiceChange(b *testing.B) {
	s := largeBenchSnapshot(4 * benchNamespaces)
	translated := 0
	benchEdits(b, s, func(i int) {
		svc := &s.Services[i*997%len(s.Services)]
		svc.Labels = map[string]string{"deploy": strconv.Itoa(i)}
		svc.ResourceVersion = "changed-" + strconv.Itoa(i)
	}, func(_ int, st IncrementalStats) {
		if st.Translated == 0 || st.Translated > len(s.HTTPRoutes)/100 || st.Replayed+st.Translated != len(s.HTTPRoutes) {
			b.Fatalf("translated %d routes and replayed %d stages of %d for one Service edited; want the few reading it, every other stage replayed", st.Translated, st.Replayed, len(s.HTTPRoutes))
		}
		translated += st.Translated
	})
	b.ReportMetric(float64(translated)/float64(b.N), "translated/op")
}

// BenchmarkIncrementalGrantChange edits one team's ReferenceGrant per op at
// 20,000 routes. No route here sends to another namespace and no listener
// refers to one, so no translation or stage is computed again.
func BenchmarkIncrementalGrantChange(b *testing.B) {
	s := largeBenchSnapshot(4 * benchNamespaces)
	s.ReferenceGrants = []gatewayv1.ReferenceGrant{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-001", Name: "from-team-002", UID: "grant"},
		Spec: gatewayv1.ReferenceGrantSpec{
			From: []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: "team-002"}},
			To:   []gatewayv1.ReferenceGrantTo{{Kind: "Service"}},
		},
	}}
	benchEdits(b, s, func(i int) {
		g := &s.ReferenceGrants[0]
		g.Labels = map[string]string{"deploy": strconv.Itoa(i)}
		g.ResourceVersion = "changed-" + strconv.Itoa(i)
	}, func(_ int, st IncrementalStats) {
		if st.Translated != 0 || st.Replayed != len(s.HTTPRoutes) {
			b.Fatalf("translated %d routes and replayed %d stages of %d for a grant nothing reads; want none and all (%+v)", st.Translated, st.Replayed, len(s.HTTPRoutes), st)
		}
	})
}

// BenchmarkIncrementalBuildOnly is the Build part of BenchmarkIncrementalRouteChange.
func BenchmarkIncrementalBuildOnly(b *testing.B) {
	for _, namespaces := range []int{benchNamespaces, 4 * benchNamespaces} {
		b.Run(fmt.Sprintf("routes=%d", namespaces*benchRoutesPerNS), func(b *testing.B) { benchBuildOnly(b, namespaces) })
	}
}

// BenchmarkIncrementalBuildNextSecond is BenchmarkIncrementalBuildOnly at
// 20,000 routes with each change a second after the last, as a
// controller sees changes: every status is stamped with the new time.
func BenchmarkIncrementalBuildNextSecond(b *testing.B) {
	benchBuild(b, 4*benchNamespaces, time.Second, false)
}

// BenchmarkIncrementalBuildCreatedApart is BenchmarkIncrementalBuildOnly at
// 20,000 routes created over 1,000 seconds in no namespace order, so
// that route order (oldest first) is not the listeners' namespace/name order.
func BenchmarkIncrementalBuildCreatedApart(b *testing.B) {
	benchBuild(b, 4*benchNamespaces, 0, true)
}

func benchBuildOnly(b *testing.B, namespaces int) { benchBuild(b, namespaces, 0, false) }

// benchBuild changes one route each op and moves the snapshot's time by tick.
func benchBuild(b *testing.B, namespaces int, tick time.Duration, apart bool) {
	s := largeBenchSnapshot(namespaces)
	if apart {
		for i := range s.HTTPRoutes {
			s.HTTPRoutes[i].CreationTimestamp = metav1.NewTime(s.Now.Add(-time.Duration(i*7919%1000) * time.Second))
		}
	}
	stampVersions(s)
	inc := &Incremental{}
	inc.Build(s)
	b.ReportAllocs()
	defer reportCPU(b)()
	i := 0
	for b.Loop() {
		r := s.HTTPRoutes[i*997%len(s.HTTPRoutes)]
		r.ResourceVersion = "changed-" + strconv.Itoa(i)
		i++
		s.Now = metav1.NewTime(s.Now.Add(tick))
		inc.Build(s)
	}
}

// reportCPU reports the process's CPU time per op (GC included) when the
// returned func runs: on a shared machine it varies far less than ns/op.
func reportCPU(b *testing.B) func() {
	start := processCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIncrementalTenantEdit edits one Tenant per op at 20,000 routes
// under the real tenant policy (a tenant per namespace, owning its
// namespace's hostnames): one Tenant gains or loses a hostname of its own.
// scoped is the policy as tenantgate runs it; unscoped hides
// VerdictChangesSince, so every route is judged and staged again, as before.
func BenchmarkIncrementalTenantEdit(b *testing.B) {
	for _, scoped := range []bool{true, false} {
		b.Run(map[bool]string{true: "scoped", false: "unscoped"}[scoped], func(b *testing.B) {
			s := largeBenchSnapshot(4 * benchNamespaces)
			var tenants []v1alpha1.Tenant
			for _, ns := range s.Namespaces {
				tenants = append(tenants, v1alpha1.Tenant{
					ObjectMeta: metav1.ObjectMeta{Name: "t-" + ns.Name, UID: types.UID("uid-" + ns.Name)},
					Spec: v1alpha1.TenantSpec{
						Namespaces: v1alpha1.TenantNamespaces{Names: []v1alpha1.NamespaceName{v1alpha1.NamespaceName(ns.Name)}},
						Hostnames:  []v1alpha1.OwnedHostname{{Hostname: v1alpha1.Hostname("*." + ns.Name + ".example.com")}},
						Gateways:   []v1alpha1.GatewayReference{{Namespace: benchRouteParentNS, Name: benchRouteParentName}},
					},
				})
			}
			// Two policies that differ in one Tenant's hostnames, built once: the
			// policy cache's cost is not the translator's.
			policies := [2]TenantPolicy{}
			for i := range policies {
				edited := slices.Clone(tenants)
				edited[7].Spec.Hostnames = append(slices.Clone(edited[7].Spec.Hostnames), v1alpha1.OwnedHostname{Hostname: v1alpha1.Hostname(fmt.Sprintf("extra-%d.example.com", i))})
				p := tenancy.NewPolicy(tenancy.Inputs{Tenants: edited, Namespaces: s.Namespaces, PlatformNamespaces: []string{benchRouteParentNS}, Gateways: s.Gateways})
				policies[i] = p
				if !scoped {
					policies[i] = unscopedPolicy{TenantPolicy: p, indexes: p.Indexes()}
				}
			}
			s.Policy = policies[1]
			replayed := 0
			benchEdits(b, s, func(i int) { s.Policy = policies[i%2] }, func(_ int, st IncrementalStats) {
				if scoped && st.Replayed < len(s.HTTPRoutes)-benchRoutesPerNS {
					b.Fatalf("replayed %d stages of %d for one Tenant edited; want all but its own namespace's", st.Replayed, len(s.HTTPRoutes))
				}
				replayed += st.Replayed
			})
			b.ReportMetric(float64(replayed)/float64(b.N), "replayed/op")
		})
	}
}

// unscopedPolicy is a tenant policy that does not say which verdicts its
// changes reach.
type unscopedPolicy struct {
	TenantPolicy
	indexes any
}

func (u unscopedPolicy) Indexes() any { return u.indexes }

// BenchmarkIncrementalNamespaceChange relabels one team namespace per op
// at 20,000 routes (as a team's onboarding or a label edit does): only the
// stages of that namespace's routes are computed again.
func BenchmarkIncrementalNamespaceChange(b *testing.B) {
	s := largeBenchSnapshot(4 * benchNamespaces)
	replayed := 0
	benchEdits(b, s, func(i int) {
		ns := &s.Namespaces[i*97%len(s.Namespaces)]
		ns.Labels = map[string]string{"deploy": strconv.Itoa(i)}
		ns.ResourceVersion = "changed-" + strconv.Itoa(i)
	}, func(_ int, st IncrementalStats) {
		if st.Replayed < len(s.HTTPRoutes)-benchRoutesPerNS {
			b.Fatalf("replayed %d stages of %d for one namespace relabelled; want all but its routes'", st.Replayed, len(s.HTTPRoutes))
		}
		replayed += st.Replayed
	})
	b.ReportMetric(float64(replayed)/float64(b.N), "replayed/op")
}

// BenchmarkIncrementalListenerSetEdit edits one team's ListenerSet on the
// shared Gateway per op at 20,000 routes (its listener's hostname): no
// route names it, so every stage is replayed.
func BenchmarkIncrementalListenerSetEdit(b *testing.B) {
	s := largeBenchSnapshot(4 * benchNamespaces)
	all := gatewayv1.NamespacesFromAll
	s.Gateways[0].Spec.AllowedListeners = &gatewayv1.AllowedListeners{Namespaces: &gatewayv1.ListenerNamespaces{From: &all}}
	s.ListenerSets = []gatewayv1.ListenerSet{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "team-001", Name: "own", Generation: 1},
		Spec: gatewayv1.ListenerSetSpec{
			ParentRef: gatewayv1.ParentGatewayReference{Namespace: new(gatewayv1.Namespace(benchRouteParentNS)), Name: benchRouteParentName},
			Listeners: []gatewayv1.ListenerEntry{{Name: "web", Port: 8443, Protocol: gatewayv1.HTTPProtocolType, Hostname: new(gatewayv1.Hostname("team-001.example.com"))}},
		},
	}}
	replayed := 0
	benchEdits(b, s, func(i int) {
		ls := &s.ListenerSets[0]
		ls.Spec.Listeners[0].Hostname = new(gatewayv1.Hostname(fmt.Sprintf("v%d.team-001.example.com", i)))
		ls.Generation++
	}, func(_ int, st IncrementalStats) {
		if st.Replayed != len(s.HTTPRoutes) {
			b.Fatalf("replayed %d stages of %d for a ListenerSet no route names; want all", st.Replayed, len(s.HTTPRoutes))
		}
		replayed += st.Replayed
	})
	b.ReportMetric(float64(replayed)/float64(b.N), "replayed/op")
}
