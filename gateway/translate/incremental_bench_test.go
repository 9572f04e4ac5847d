package translate

import (
	"strconv"
	"testing"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// BenchmarkIncrementalRouteChange is one route change among 5,000 as the
// controller runs it: Incremental.Build and Compiler.Compile of a snapshot
// in which one route has a new resourceVersion and rules.
func BenchmarkIncrementalRouteChange(b *testing.B) {
	s := benchSnapshot()
	stampVersions(s)
	inc, compiler := &Incremental{}, &routetable.Compiler{}
	compiler.Compile(inc.Build(s).Config)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := &s.HTTPRoutes[i*997%len(s.HTTPRoutes)]
		r.Spec.Rules[1].Filters[0].RequestHeaderModifier.Set[0].Value = "v" + strconv.Itoa(i)
		r.ResourceVersion = "changed-" + strconv.Itoa(i)
		i++
		res := inc.Build(s)
		if st := inc.Stats(); st.Translated != 1 {
			b.Fatalf("translated %d routes for one change; want 1", st.Translated)
		}
		if _, faults := compiler.Compile(res.Config); len(faults) > 0 {
			b.Fatal(faults.Err())
		}
	}
}

// BenchmarkIncrementalBuildOnly is the Build part of BenchmarkIncrementalRouteChange.
func BenchmarkIncrementalBuildOnly(b *testing.B) {
	s := benchSnapshot()
	stampVersions(s)
	inc := &Incremental{}
	inc.Build(s)
	i := 0
	for b.Loop() {
		r := &s.HTTPRoutes[i*997%len(s.HTTPRoutes)]
		r.ResourceVersion = "changed-" + strconv.Itoa(i)
		i++
		inc.Build(s)
	}
}
