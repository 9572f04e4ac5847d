package controller

import (
	"bytes"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// portClaims are ours' target-port claims: what their own Services hold and,
// when want is given, the listener ports they need.
func (r *Reconciler) portClaims(ours []gatewayv1.Gateway, services []corev1.Service, want map[types.NamespacedName][]listenerPort) []translate.PortClaim {
	byName := servicesByName(services)
	claims := make([]translate.PortClaim, 0, len(ours))
	for i := range ours {
		gw := &ours[i]
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		c := translate.PortClaim{Gateway: key, Created: gw.CreationTimestamp, Held: map[int32]int32{}}
		if svc, ok := byName[types.NamespacedName{Namespace: gw.Namespace, Name: ServiceName(gw.Name)}]; ok && controlledBy(svc, gw) && portsWrittenByUs(svc) {
			for _, p := range svc.Spec.Ports {
				if p.TargetPort.IntVal > 0 {
					c.Held[p.Port] = p.TargetPort.IntVal
				}
			}
		}
		if want != nil {
			c.Want = []int32{}
			for _, l := range want[key] {
				c.Want = append(c.Want, l.port)
			}
		}
		claims = append(claims, c)
	}
	return claims
}

// portsWrittenByUs: no one but tenantgate's controller set the Service's
// target ports (its managed fields say who did). A tenant who edits its own
// Gateway's Service to take another Gateway's port is thus never believed:
// its Gateway is unbound until the leader rewrites the Service.
func portsWrittenByUs(svc *corev1.Service) bool {
	for _, mf := range svc.ManagedFields {
		if mf.Manager != FieldOwner && mf.FieldsV1 != nil && bytes.Contains(mf.FieldsV1.Raw, []byte(`"f:targetPort"`)) {
			return false
		}
	}
	return true
}

func (r *Reconciler) targetRange() translate.PortRange {
	if r.TargetPortRange == (translate.PortRange{}) {
		rng, _ := translate.ParsePortRange(translate.DefaultTargetPorts)
		return rng
	}
	return r.TargetPortRange
}
