package controller

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// tlsRouteUpdates are the TLSRoutes whose status Build changed, merged the
// way HTTPRoutes are: only our controller's parent entries are touched.
func tlsRouteUpdates(s *translate.Snapshot, res translate.Result, ours gatewayv1.GatewayController) []statusUpdate {
	facts := routeFacts(ours)
	return changed(pointers(s.TLSRoutes), lookup(res.TLSRoutes),
		func(o *gatewayv1.TLSRoute) *gatewayv1.TLSRouteStatus { return &o.Status },
		func(current, desired gatewayv1.TLSRouteStatus) gatewayv1.TLSRouteStatus {
			merged := translate.MergeRouteStatus(gatewayv1.HTTPRouteStatus{RouteStatus: current.RouteStatus}, gatewayv1.HTTPRouteStatus{RouteStatus: desired.RouteStatus}, ours, s.Now)
			return gatewayv1.TLSRouteStatus{RouteStatus: merged.RouteStatus}
		},
		func(st *gatewayv1.TLSRouteStatus) []fact {
			return facts(&gatewayv1.HTTPRouteStatus{RouteStatus: st.RouteStatus})
		}, nil)
}

// tlsRoutesNotProgrammed counts the TLSRoutes of a build with at least one fact.
func tlsRoutesNotProgrammed(res translate.Result, ours gatewayv1.GatewayController) int {
	n := 0
	for _, st := range res.TLSRoutes {
		if routeBlocked(&st.RouteStatus, ours) {
			n++
		}
	}
	return n
}
