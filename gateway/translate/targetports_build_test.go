package translate

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// With target ports, a listener binds every address on its Gateway's
// target port and keeps its own port for what clients see; a Gateway whose
// Service has no target port yet is bound nowhere and says why.
func TestBuildBindsTargetPorts(t *testing.T) {
	key := types.NamespacedName{Namespace: "infra", Name: "shared"}
	s := loadSnapshot(t, "testdata/route-accepted.in.yaml")
	s.TargetPorts = TargetPorts{key: {80: 20007}}
	ls := Build(s).Config.Listeners
	if len(ls) != 1 || ls[0].Address != "" || ls[0].BindPort != 20007 || ls[0].Port != 80 {
		t.Fatalf("listeners %+v; want one on every address, port 80 bound as 20007", ls)
	}

	s = loadSnapshot(t, "testdata/route-accepted.in.yaml")
	s.TargetPorts = TargetPorts{}
	res := Build(s)
	if len(res.Config.Listeners) != 0 {
		t.Errorf("listeners %+v; want none before the Service maps the port", res.Config.Listeners)
	}
	c := meta.FindStatusCondition(res.Gateways[key].Conditions, string(gatewayv1.GatewayConditionProgrammed))
	if c == nil || c.Status != "False" || c.Reason != string(gatewayv1.GatewayReasonPending) || !strings.Contains(c.Message, "Waiting for the Gateway's Service to map its listener ports") {
		t.Errorf("Programmed %+v; want False/Pending saying the Service has no target port yet", c)
	}
}

// Without a pool, an address the Gateway's Service did not get is
// reported as not usable, naming both.
func TestRequestedAddressTheServiceDidNotGet(t *testing.T) {
	key := types.NamespacedName{Namespace: "infra", Name: "shared"}
	s := loadSnapshot(t, "testdata/route-accepted.in.yaml")
	s.TargetPorts = TargetPorts{key: {80: 20007}}
	s.Gateways[0].Spec.Addresses = []gatewayv1.GatewaySpecAddress{{Value: "203.0.113.9"}}
	s.Addresses = map[types.NamespacedName]string{key: "198.51.100.4"}
	c := meta.FindStatusCondition(Build(s).Gateways[key].Conditions, string(gatewayv1.GatewayConditionProgrammed))
	if c == nil || c.Reason != string(gatewayv1.GatewayReasonAddressNotUsable) || !strings.Contains(c.Message, "requests address 203.0.113.9, but its Service got 198.51.100.4") {
		t.Errorf("Programmed %+v; want False/AddressNotUsable naming both addresses", c)
	}
}
