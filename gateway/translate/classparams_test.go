package translate

import (
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func TestClassParams(t *testing.T) {
	gc := &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "edge"}, Spec: gatewayv1.GatewayClassSpec{
		ControllerName: ControllerName,
		ParametersRef:  &gatewayv1.ParametersReference{Kind: "ConfigMap", Name: "params", Namespace: new(gatewayv1.Namespace("tenantgate-system"))},
	}}
	cm := func(data map[string]string) []corev1.ConfigMap {
		return []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "tenantgate-system", Name: "params"}, Data: data}}
	}
	for _, tc := range []struct {
		name string
		data map[string]string
		want string // fmt of the parameters, or the error's distinctive part
	}{
		{"empty is a shared data plane behind LoadBalancer Services", nil, "LoadBalancer shared"},
		{"dedicated with defaults", map[string]string{"dataPlane": "dedicated"}, "LoadBalancer dedicated replicas=2 cpu=0 memory=0 minAvailable=1"},
		{"dedicated shaped", map[string]string{"dataPlane": "dedicated", "serviceType": "ClusterIP", "replicas": "3", "cpu": "500m", "memory": "256Mi", "minAvailable": "50%"},
			"ClusterIP dedicated replicas=3 cpu=500m memory=256Mi minAvailable=50%"},
		{"unknown key", map[string]string{"replica": "3"}, `has key "replica"; tenantgate understands only serviceType, dataPlane`},
		{"bad data plane", map[string]string{"dataPlane": "own"}, `sets dataPlane "own"; use shared or dedicated`},
		{"replicas out of range", map[string]string{"dataPlane": "dedicated", "replicas": "0"}, `sets replicas "0"; give a whole number from 1 to 100`},
		{"negative memory", map[string]string{"dataPlane": "dedicated", "memory": "-1Mi"}, `sets memory "-1Mi"; give a positive quantity`},
		{"minAvailable not a count", map[string]string{"dataPlane": "dedicated", "minAvailable": "most"}, `sets minAvailable "most"; give a count`},
		{"shaping a shared data plane", map[string]string{"replicas": "3"}, "shape only a dedicated data plane; add dataPlane: dedicated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ClassParams(gc, cm(tc.data))
			got := ""
			if err != nil {
				got = err.Error()
			} else {
				got = string(p.ServiceType) + " shared"
				if p.Dedicated {
					got = string(p.ServiceType) + " dedicated replicas=" + strconv.Itoa(int(p.Replicas)) + " cpu=" + p.CPU.String() + " memory=" + p.Memory.String() + " minAvailable=" + p.MinAvailable.String()
				}
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q in it", got, tc.want)
			}
		})
	}
	dedicated := DedicatedGateways("", []gatewayv1.GatewayClass{*gc}, []gatewayv1.Gateway{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "mine"}, Spec: gatewayv1.GatewaySpec{GatewayClassName: "edge"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "other"}, Spec: gatewayv1.GatewaySpec{GatewayClassName: "shared"}},
	}, cm(map[string]string{"dataPlane": "dedicated"}))
	if len(dedicated) != 1 || !dedicated[types.NamespacedName{Namespace: "a", Name: "mine"}] {
		t.Errorf("DedicatedGateways = %v; want only a/mine", dedicated)
	}
}
