package translate

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// classState is one GatewayClass whose controllerName is ours.
type classState struct {
	class    *gatewayv1.GatewayClass
	accepted bool
	message  string // why it is not accepted
}

// gatewayClasses accepts every GatewayClass naming our controller, unless
// its parameters (a ConfigMap setting the Gateways' Service type) are
// missing or malformed.
func (b *builder) gatewayClasses() {
	for _, gc := range sortedPointers(b.s.GatewayClasses) {
		if gc.Spec.ControllerName != b.controller {
			continue
		}
		c := &classState{class: gc, accepted: true}
		if _, err := ClassServiceType(gc, b.s.ConfigMaps); err != nil {
			c.accepted = false
			c.message = err.Error() + "."
		}
		b.classes[gc.Name] = c
		b.result.GatewayClasses[types.NamespacedName{Name: gc.Name}] = b.classStatus(c)
	}
}

func (b *builder) classStatus(c *classState) gatewayv1.GatewayClassStatus {
	gen := c.class.Generation
	if !c.accepted {
		return gatewayv1.GatewayClassStatus{Conditions: []metav1.Condition{
			b.condition(string(gatewayv1.GatewayClassConditionStatusAccepted), false, string(gatewayv1.GatewayClassReasonInvalidParameters), c.message, gen),
		}}
	}
	features := slices.Clone(b.s.SupportedFeatures)
	if features == nil {
		features = DefaultSupportedFeatures()
	}
	slices.SortFunc(features, func(x, y gatewayv1.SupportedFeature) int { return cmp.Compare(x.Name, y.Name) })
	features = slices.CompactFunc(features, func(x, y gatewayv1.SupportedFeature) bool { return x.Name == y.Name })
	return gatewayv1.GatewayClassStatus{
		Conditions: []metav1.Condition{
			b.condition(string(gatewayv1.GatewayClassConditionStatusAccepted), true, string(gatewayv1.GatewayClassReasonAccepted), "tenantgate accepts this GatewayClass.", gen),
		},
		SupportedFeatures: features,
	}
}
