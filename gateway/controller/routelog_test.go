package controller

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestRouteLogTellsWhatChanged puts and removes routes at random beside a
// plain map and takes them now and then: each take must hold exactly the
// map's routes, list as changed exactly the routes put since the last take
// that are still there (as the log holds them), as gone those removed and
// not put back, and number itself after the take before. Each take's list
// is recycled at the next take, as the status writer does.
func TestRouteLogTellsWhatChanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	log := newRouteLog()
	want := map[types.NamespacedName]*gatewayv1.HTTPRoute{}
	touched := map[types.NamespacedName]bool{}
	var lastSeq uint64
	var held, heldCopy []*gatewayv1.HTTPRoute
	for step := range 2000 {
		k := types.NamespacedName{Namespace: "ns" + strconv.Itoa(rng.IntN(3)), Name: "r" + strconv.Itoa(rng.IntN(40))}
		switch rng.IntN(5) {
		case 0, 1, 2:
			r := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: k.Namespace, Name: k.Name, ResourceVersion: strconv.Itoa(step)}}
			log.put(r)
			want[k] = r
			touched[k] = true
		case 3:
			log.remove(k)
			if _, ok := want[k]; ok {
				touched[k] = true
			}
			delete(want, k)
		case 4:
			items, ch := log.take()
			// The list taken before, still read (a status job), is as it
			// was; then it is read no more, and the log may write it.
			if !slices.Equal(held, heldCopy) {
				t.Fatalf("step %d: a take wrote the list of an earlier take still read", step)
			}
			log.recycle(held)
			held, heldCopy = items, slices.Clone(items)
			if ch.Since != lastSeq || ch.Seq != lastSeq+1 {
				t.Fatalf("step %d: take numbered %d since %d, after a take numbered %d", step, ch.Seq, ch.Since, lastSeq)
			}
			lastSeq = ch.Seq
			got := map[types.NamespacedName]*gatewayv1.HTTPRoute{}
			for _, r := range items {
				got[types.NamespacedName{Namespace: r.Namespace, Name: r.Name}] = r
			}
			if len(got) != len(items) || len(got) != len(want) {
				t.Fatalf("step %d: took %d routes (%d keys), want %d", step, len(items), len(got), len(want))
			}
			for k, r := range want {
				if got[k] != r {
					t.Fatalf("step %d: took %v for %s, want the route put last", step, got[k], k)
				}
			}
			var changed, gone []types.NamespacedName
			for k := range touched {
				if _, ok := want[k]; ok {
					changed = append(changed, k)
				} else {
					gone = append(gone, k)
				}
			}
			var gotChanged []types.NamespacedName
			for _, r := range ch.HTTPRoutes {
				k := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
				if want[k] != r {
					t.Fatalf("step %d: changed route %s is not the one put last", step, k)
				}
				gotChanged = append(gotChanged, k)
			}
			if !sameKeys(gotChanged, changed) || !sameKeys(ch.Gone, gone) {
				t.Fatalf("step %d: changed %v gone %v; want %v and %v", step, gotChanged, ch.Gone, changed, gone)
			}
			clear(touched)
		}
	}
}

func sameKeys(a, b []types.NamespacedName) bool {
	less := func(x, y types.NamespacedName) int { return strings.Compare(x.String(), y.String()) }
	a, b = slices.Clone(a), slices.Clone(b)
	slices.SortFunc(a, less)
	slices.SortFunc(b, less)
	return slices.Equal(a, b)
}
