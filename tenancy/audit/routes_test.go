package audit

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

func parentWith(accepted metav1.ConditionStatus) gatewayv1.RouteParentStatus {
	return gatewayv1.RouteParentStatus{Conditions: []metav1.Condition{{Type: "Accepted", Status: accepted}}}
}

func TestStateOf(t *testing.T) {
	for _, tc := range []struct {
		name    string
		parents []gatewayv1.RouteParentStatus
		want    routeState
	}{
		{"no parent status", nil, pending},
		{"one parent accepts", []gatewayv1.RouteParentStatus{parentWith(metav1.ConditionFalse), parentWith(metav1.ConditionTrue)}, served},
		{"every parent refuses", []gatewayv1.RouteParentStatus{parentWith(metav1.ConditionFalse), parentWith(metav1.ConditionUnknown)}, refused},
		{"a parent with no Accepted condition yet", []gatewayv1.RouteParentStatus{{}}, refused},
	} {
		if got := stateOf(tc.parents); got != tc.want {
			t.Errorf("%s: state %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestCountsForNamespaces(t *testing.T) {
	c := routeCounts{
		"apples":     {{Kind: "HTTPRoute", Served: 2, Refused: 1}, {}},
		"apples-dev": {{Kind: "HTTPRoute", Pending: 1}, {Kind: "GRPCRoute", Served: 1}},
		"grapes":     {{Kind: "HTTPRoute", Served: 9}, {}},
	}
	got := c.forNamespaces([]string{"apples", "apples-dev", "unknown"})
	want := []v1alpha1.TenantRouteCount{{Kind: "HTTPRoute", Served: 2, Refused: 1, Pending: 1}, {Kind: "GRPCRoute", Served: 1}}
	if !slices.Equal(got, want) {
		t.Errorf("counts %+v, want %+v (grapes' routes must not count)", got, want)
	}
	if got := c.forNamespaces(nil); got != nil {
		t.Errorf("a tenant without namespaces counts %+v", got)
	}
}
