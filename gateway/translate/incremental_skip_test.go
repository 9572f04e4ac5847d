package translate

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// TestListenerPatchMergesAsASort removes and adds routes at random, several
// at a time and some of the same name: the patched list must be what
// sorting the kept and added routes gives.
func TestListenerPatchMergesAsASort(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	route := func(i int) *routetable.Route {
		return &routetable.Route{Namespace: "ns" + strconv.Itoa(i%7), Name: "r" + strconv.Itoa(i), GRPC: i%5 == 0}
	}
	for trial := range 500 {
		var base []*routetable.Route
		for _, i := range rng.Perm(60)[:rng.IntN(40)] {
			base = append(base, route(i))
		}
		slices.SortFunc(base, compareServed)
		p := &listenerPatch{base: slices.Clone(base)}
		kept := map[string]*routetable.Route{}
		for _, r := range base {
			kept[r.Namespace+"/"+r.Name+strconv.FormatBool(r.GRPC)] = r
		}
		for range rng.IntN(6) {
			if len(base) > 0 {
				r := base[rng.IntN(len(base))]
				p.removed = append(p.removed, r)
				delete(kept, r.Namespace+"/"+r.Name+strconv.FormatBool(r.GRPC))
			}
		}
		for range rng.IntN(6) {
			r := route(rng.IntN(60))
			k := r.Namespace + "/" + r.Name + strconv.FormatBool(r.GRPC)
			if old, ok := kept[k]; ok && !slices.Contains(p.removed, old) {
				p.removed = append(p.removed, old) // a changed route: its old self leaves
			}
			if slices.ContainsFunc(p.added, func(a *routetable.Route) bool { return compareServed(a, r) == 0 }) {
				continue
			}
			kept[k] = r
			p.added = append(p.added, r)
		}
		var want []*routetable.Route
		for _, r := range kept {
			want = append(want, r)
		}
		slices.SortFunc(want, compareServed)
		got := p.patched()
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("trial %d: patched %d routes, want %d sorted", trial, len(got), len(want))
		}
		if !slices.Equal(p.base, base) {
			t.Fatalf("trial %d: patched wrote the last Build's list", trial)
		}
	}
}
