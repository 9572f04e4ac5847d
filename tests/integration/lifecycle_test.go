package integration

import (
	"context"
	"slices"
	"testing"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// versionCases: an HTTPRoute written through v1beta1 is converted and
// checked by the same webhook.
var versionCases = []admissionCase{{
	name: "v1beta1 route claiming another tenant's hostname denied",
	obj:  route("kiwis", v1beta1Route(), parent("infra", "market", "wild"), hosts("limes.example.com")),
	want: denied(`spec.hostnames[0]: "limes.example.com" belongs to tenant "limes", not tenant "kiwis"; use a hostname listed in Tenant kiwis spec.hostnames`),
}, {
	name: "v1beta1 route on an owned hostname admitted",
	obj:  route("kiwis", v1beta1Route(), parent("infra", "market", "wild"), hosts("kiwis.example.com")),
}}

// testUpdates: an object may not be edited into violation, and deletes are
// always allowed.
func (h *harness) testUpdates(t *testing.T) {
	t.Run("an HTTPRoute edited into violation is denied and stays as it was", func(t *testing.T) {
		h.expectApply(t, route("kiwis", named("edited"), parent("infra", "market", "wild"), hosts("kiwis.example.com")), want{})
		h.expectUpdateDenied(t, route("kiwis", named("edited"), parent("infra", "market", "wild"), hosts("kiwis.example.com", "limes.example.com")),
			denied(`spec.hostnames[1]: "limes.example.com" belongs to tenant "limes", not tenant "kiwis"; use a hostname listed in Tenant kiwis spec.hostnames`))
		var stored gatewayv1.HTTPRoute
		if err := h.s.Client.Get(context.Background(), client.ObjectKey{Namespace: "kiwis", Name: "edited"}, &stored); err != nil {
			t.Fatal(err)
		}
		if want := []gatewayv1.Hostname{"kiwis.example.com"}; !slices.Equal(stored.Spec.Hostnames, want) {
			t.Errorf("stored hostnames = %q, want %q", stored.Spec.Hostnames, want)
		}
	})
	t.Run("a ReferenceGrant edited into violation is denied", func(t *testing.T) {
		h.expectApply(t, grant("kiwis", from("HTTPRoute", "infra"), to("Service", "kiwi-echo")), want{})
		h.expectUpdateDenied(t, grant("kiwis", from("HTTPRoute", "infra"), to("Service", "kiwi-echo"), to("Service", "")),
			denied(`spec.to[1].name: unset, so the grant opens up every Service in namespace "kiwis", which tenant "kiwis" does not allow; set to.name, or set Tenant kiwis spec.referenceGrants.allowWildcardNames`))
	})
	t.Run("a Tenant edited into a conflict is denied", func(t *testing.T) {
		h.expectApply(t, tenant("grapes", owns("grapes.example.com")), want{})
		h.expectUpdateDenied(t, tenant("grapes", owns("grapes.example.com"), owns("limes.example.com")),
			denied(`spec.hostnames[1]: "limes.example.com" overlaps "limes.example.com" of tenant "limes"; `+overlapRule))
	})
	t.Run("deletes are allowed", func(t *testing.T) {
		r := route("kiwis", named("deleted"), parent("infra", "market", "wild"), hosts("kiwis.example.com"))
		h.expectApply(t, r, want{})
		out := h.mustKubectl(t, manifest(t, r), "delete", "-f", "-")
		if want := `httproute.gateway.networking.k8s.io "deleted" deleted from kiwis namespace` + "\n"; out != want {
			t.Errorf("kubectl delete printed %q, want %q", out, want)
		}
	})
}
