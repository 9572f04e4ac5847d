package audit

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// routeState is what a route's parents report about it.
type routeState int

const (
	pending routeState = iota // no parent status yet
	served                    // at least one parent Accepted it
	refused                   // parents answered, none Accepted it
)

// stateOf reads a route's parent statuses, whichever controllers wrote
// them: the tenant policy applies to every implementation's routes.
func stateOf(parents []gatewayv1.RouteParentStatus) routeState {
	if len(parents) == 0 {
		return pending
	}
	for _, p := range parents {
		if meta.IsStatusConditionTrue(p.Conditions, string(gatewayv1.RouteConditionAccepted)) {
			return served
		}
	}
	return refused
}

// parentsOf returns a route's parent statuses and kind; ok is false for
// objects that are not routes.
func parentsOf(obj client.Object) (kind string, parents []gatewayv1.RouteParentStatus, ok bool) {
	switch r := obj.(type) {
	case *gatewayv1.HTTPRoute:
		return "HTTPRoute", r.Status.Parents, true
	case *gatewayv1.GRPCRoute:
		return "GRPCRoute", r.Status.Parents, true
	case *gatewayv1.TLSRoute:
		return "TLSRoute", r.Status.Parents, true
	case *gatewayv1.TCPRoute:
		return "TCPRoute", r.Status.Parents, true
	case *gatewayv1.UDPRoute:
		return "UDPRoute", r.Status.Parents, true
	}
	return "", nil, false
}

// routeKinds are the route kinds counted, HTTPRoute first; the others
// only where the cluster serves them.
var routeKinds = []struct {
	obj  client.Object
	list func() client.ObjectList
}{
	{&gatewayv1.HTTPRoute{}, func() client.ObjectList { return &gatewayv1.HTTPRouteList{} }},
	{&gatewayv1.GRPCRoute{}, func() client.ObjectList { return &gatewayv1.GRPCRouteList{} }},
	{&gatewayv1.TLSRoute{}, func() client.ObjectList { return &gatewayv1.TLSRouteList{} }},
	{&gatewayv1.TCPRoute{}, func() client.ObjectList { return &gatewayv1.TCPRouteList{} }},
	{&gatewayv1.UDPRoute{}, func() client.ObjectList { return &gatewayv1.UDPRouteList{} }},
}

// routeCounts counts the routes of each namespace by kind, indexed as
// routeKinds.
type routeCounts map[string][]v1alpha1.TenantRouteCount

// kindIndex is each route kind's place in routeKinds.
var kindIndex = func() map[string]int {
	m := map[string]int{}
	for i, k := range routeKinds {
		kind, _, _ := parentsOf(k.obj)
		m[kind] = i
	}
	return m
}()

// add counts a route d times (-1 takes it out) in the state its parents
// report; objects that are not routes are ignored. A namespace left with
// no route is dropped, so deleted namespaces do not accumulate.
func (c routeCounts) add(obj client.Object, d int32) {
	kind, parents, ok := parentsOf(obj)
	if !ok {
		return
	}
	ns := obj.GetNamespace()
	counts := c[ns]
	if counts == nil {
		counts = make([]v1alpha1.TenantRouteCount, len(routeKinds))
		c[ns] = counts
	}
	k := &counts[kindIndex[kind]]
	k.Kind = kind
	switch stateOf(parents) {
	case served:
		k.Served += d
	case refused:
		k.Refused += d
	default:
		k.Pending += d
	}
	if d < 0 && !slices.ContainsFunc(counts, func(k v1alpha1.TenantRouteCount) bool { return total(k) != 0 }) {
		delete(c, ns)
	}
}

func total(k v1alpha1.TenantRouteCount) int32 { return k.Served + k.Refused + k.Pending }

// countRoutes lists every kind in lists from r and counts by namespace.
func countRoutes(ctx context.Context, r client.Reader, lists []func() client.ObjectList) (routeCounts, error) {
	counts := routeCounts{}
	for _, newList := range lists {
		list := newList()
		if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil { // only read
			return nil, fmt.Errorf("listing %T: %w", list, err)
		}
		items, err := meta.ExtractList(list)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			if obj, ok := item.(client.Object); ok {
				counts.add(obj, 1)
			}
		}
	}
	return counts, nil
}

// forNamespaces sums the counts of namespaces by kind, leaving out kinds
// with no route.
func (c routeCounts) forNamespaces(namespaces []string) []v1alpha1.TenantRouteCount {
	var sum []v1alpha1.TenantRouteCount
	for _, ns := range namespaces {
		for _, k := range c[ns] {
			if total(k) == 0 {
				continue
			}
			i := 0
			for i < len(sum) && sum[i].Kind != k.Kind {
				i++
			}
			if i == len(sum) {
				sum = append(sum, v1alpha1.TenantRouteCount{Kind: k.Kind})
			}
			sum[i].Served += k.Served
			sum[i].Refused += k.Refused
			sum[i].Pending += k.Pending
		}
	}
	return sum
}
