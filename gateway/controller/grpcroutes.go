package controller

import (
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// grpcRouteUpdates are the GRPCRoutes whose status of ours would change.
func grpcRouteUpdates(s *translate.Snapshot, res translate.Result, ours gatewayv1.GatewayController) []statusUpdate {
	return changed(s.GRPCRoutes, lookup(res.GRPCRoutes),
		func(o *gatewayv1.GRPCRoute) *gatewayv1.GRPCRouteStatus { return &o.Status },
		func(current, desired gatewayv1.GRPCRouteStatus) gatewayv1.GRPCRouteStatus {
			return translate.MergeGRPCRouteStatus(current, desired, ours, s.Now)
		}, grpcRouteFacts(ours), nil)
}

// grpcRouteFacts reads only the parent entries of controller, as routeFacts.
func grpcRouteFacts(controller gatewayv1.GatewayController) func(st *gatewayv1.GRPCRouteStatus) []fact {
	facts := routeFacts(controller)
	return func(st *gatewayv1.GRPCRouteStatus) []fact {
		return facts(&gatewayv1.HTTPRouteStatus{RouteStatus: st.RouteStatus})
	}
}

// countGRPCRoutesNotProgrammed adds the GRPCRoutes with a fact to out.
func countGRPCRoutesNotProgrammed(out map[string]int, res translate.Result, controller gatewayv1.GatewayController) {
	out["GRPCRoute"] = 0
	for _, st := range res.GRPCRoutes {
		if routeBlocked(&st.RouteStatus, controller) {
			out["GRPCRoute"]++
		}
	}
}
