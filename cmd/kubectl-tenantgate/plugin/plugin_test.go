package plugin

import (
	"errors"
	"slices"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestIsRouteKind(t *testing.T) {
	for kind, want := range map[string]bool{
		"httproute": true, "httproutes": true, "grpcroute.gateway.networking.k8s.io": true, "tlsroutes": true,
		"gateway": false, "service": false, "httproutex": false, "referencegrant": false,
	} {
		if got := isRouteKind(kind); got != want {
			t.Errorf("isRouteKind(%q) = %v, want %v", kind, got, want)
		}
	}
}

// A status entry matches its parentRef with the spec's defaults applied:
// kind Gateway, the route's namespace, the gateway.networking.k8s.io group.
func TestSameParent(t *testing.T) {
	spec := gatewayv1.ParentReference{Name: "shared", Namespace: ptr.To(gatewayv1.Namespace("infra")), SectionName: ptr.To(gatewayv1.SectionName("http"))}
	written := gatewayv1.ParentReference{Group: ptr.To(gatewayv1.Group(gatewayv1.GroupName)), Kind: ptr.To(gatewayv1.Kind("Gateway")),
		Name: "shared", Namespace: ptr.To(gatewayv1.Namespace("infra")), SectionName: ptr.To(gatewayv1.SectionName("http"))}
	if !sameParent(spec, written, "apples") {
		t.Errorf("%s and %s are the same parent", describeParent(spec, "apples"), describeParent(written, "apples"))
	}
	other := written
	other.SectionName = ptr.To(gatewayv1.SectionName("https"))
	if sameParent(spec, other, "apples") {
		t.Errorf("a status entry for another listener matched")
	}
	local := gatewayv1.ParentReference{Name: "shared"}
	if sameParent(local, written, "apples") || !sameParent(local, gatewayv1.ParentReference{Name: "shared", Namespace: ptr.To(gatewayv1.Namespace("apples"))}, "apples") {
		t.Errorf("a parentRef without namespace must mean the route's own namespace")
	}
}

func TestDenialLines(t *testing.T) {
	denied := apierrors.NewForbidden(schema.GroupResource{Group: gatewayv1.GroupName, Resource: "httproutes"}, "r",
		errors.New(`admission webhook "httproutes.tenantgate.dev" denied the request: first line`+"\n"+"second line"))
	if got := denialLines(denied); !slices.Equal(got, []string{"first line", "second line"}) {
		t.Errorf("denialLines = %q", got)
	}
	other := errors.New("the server could not find the requested resource")
	if got := denialLines(other); !slices.Equal(got, []string{other.Error()}) {
		t.Errorf("an error not from the webhook must stay whole, got %q", got)
	}
}
