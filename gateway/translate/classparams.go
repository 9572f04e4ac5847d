package translate

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ServiceTypeKey is the key of a GatewayClass's parameters ConfigMap that
// sets the type of the Service each of its Gateways gets.
const ServiceTypeKey = "serviceType"

// ClassServiceType reads the Service type a GatewayClass's parametersRef
// asks for: none means LoadBalancer; only a core ConfigMap with at most the
// serviceType key (LoadBalancer, ClusterIP or NodePort) is understood. The
// error is the class's InvalidParameters message.
func ClassServiceType(gc *gatewayv1.GatewayClass, configMaps []corev1.ConfigMap) (corev1.ServiceType, error) {
	ref := gc.Spec.ParametersRef
	if ref == nil {
		return corev1.ServiceTypeLoadBalancer, nil
	}
	if ref.Group != "" || ref.Kind != "ConfigMap" || ref.Namespace == nil {
		return "", fmt.Errorf("GatewayClass %s spec.parametersRef names %s %q in group %q; tenantgate takes only a core ConfigMap with its namespace set, so point it at one or remove it", gc.Name, ref.Kind, ref.Name, ref.Group)
	}
	var cm *corev1.ConfigMap
	for i := range configMaps {
		if configMaps[i].Namespace == string(*ref.Namespace) && configMaps[i].Name == ref.Name {
			cm = &configMaps[i]
		}
	}
	if cm == nil {
		return "", fmt.Errorf("GatewayClass %s spec.parametersRef names ConfigMap %s/%s, which does not exist; create it or fix the reference", gc.Name, *ref.Namespace, ref.Name)
	}
	for k := range cm.Data {
		if k != ServiceTypeKey {
			return "", fmt.Errorf("ConfigMap %s/%s (parameters of GatewayClass %s) has key %q; tenantgate understands only %s, so remove it", cm.Namespace, cm.Name, gc.Name, k, ServiceTypeKey)
		}
	}
	switch t := corev1.ServiceType(cm.Data[ServiceTypeKey]); t {
	case "":
		return corev1.ServiceTypeLoadBalancer, nil
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		return t, nil
	default:
		return "", fmt.Errorf("ConfigMap %s/%s (parameters of GatewayClass %s) sets %s %q; use LoadBalancer, ClusterIP or NodePort", cm.Namespace, cm.Name, gc.Name, ServiceTypeKey, t)
	}
}
