package integration

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// testAuditCounts checks that a route created in, then deleted from, a
// namespace of tenant kiwis moves kiwis' route counts (status and metrics):
// the audit counts routes from the informers' events and audits the tenant
// a route event concerns.
func (h *harness) testAuditCounts(t *testing.T) {
	namespaces := []string{"kiwis", "kiwis-dev"}
	steady := h.routesIn(t, namespaces...)
	before := h.awaitTenant(t, "kiwis", fmt.Sprintf("%d routes, as listed in its namespaces", steady), func(s v1alpha1.TenantStatus) bool {
		return routeTotal(s) == steady
	})
	pending := httpPending(before.Status)

	r := route("kiwis-dev", named("audit-counted"), parent("infra", "market", "wild"), hosts("kiwis.example.com"))
	h.expectApply(t, r, want{}) // no controller serves market: the route stays pending
	h.awaitTenant(t, "kiwis", fmt.Sprintf("%d routes, %d HTTPRoutes pending", steady+1, pending+1), func(s v1alpha1.TenantStatus) bool {
		return routeTotal(s) == steady+1 && httpPending(s) == pending+1 && s.Summary.Routes != before.Status.Summary.Routes
	})
	series := `tenantgate_tenant_routes{kind="HTTPRoute",state="pending",tenant="kiwis"}`
	if got := scrape(t, h.s.MetricsURL)[series]; got != float64(pending+1) {
		t.Errorf("%s = %v, want %d", series, got, pending+1)
	}

	h.delete(t, r)
	h.awaitTenant(t, "kiwis", fmt.Sprintf("%d routes again", steady), func(s v1alpha1.TenantStatus) bool {
		return routeTotal(s) == steady && httpPending(s) == pending
	})
}

// routesIn counts the routes of every kind the cluster serves in namespaces.
func (h *harness) routesIn(t *testing.T, namespaces ...string) int32 {
	t.Helper()
	var n int32
	for _, newList := range []func() client.ObjectList{
		func() client.ObjectList { return &gatewayv1.HTTPRouteList{} }, func() client.ObjectList { return &gatewayv1.GRPCRouteList{} },
		func() client.ObjectList { return &gatewayv1.TLSRouteList{} }, func() client.ObjectList { return &gatewayv1.TCPRouteList{} },
		func() client.ObjectList { return &gatewayv1.UDPRouteList{} },
	} {
		for _, ns := range namespaces {
			list := newList()
			switch err := h.s.Client.List(context.Background(), list, client.InNamespace(ns)); {
			case meta.IsNoMatchError(err):
				continue // a kind the cluster does not serve
			case err != nil:
				t.Fatal(err)
			}
			n += int32(meta.LenList(list))
		}
	}
	return n
}

func routeTotal(s v1alpha1.TenantStatus) int32 {
	var n int32
	for _, c := range s.Routes {
		n += c.Served + c.Refused + c.Pending
	}
	return n
}

func httpPending(s v1alpha1.TenantStatus) int32 {
	for _, c := range s.Routes {
		if c.Kind == "HTTPRoute" {
			return c.Pending
		}
	}
	return 0
}
