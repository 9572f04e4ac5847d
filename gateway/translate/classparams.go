package translate

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The keys of a GatewayClass's parameters ConfigMap.
const (
	// ServiceTypeKey sets the type of the Service each Gateway gets.
	ServiceTypeKey = "serviceType"
	// DataPlaneKey is "shared" (the default: the class's Gateways share the
	// data-plane Pods) or "dedicated" (each Gateway gets its own Deployment).
	DataPlaneKey = "dataPlane"
	// ReplicasKey, CPUKey, MemoryKey and MinAvailableKey shape a dedicated
	// data plane: its replicas, each Pod's CPU and memory (request = limit),
	// and its PodDisruptionBudget's minAvailable (a count or a percentage).
	ReplicasKey     = "replicas"
	CPUKey          = "cpu"
	MemoryKey       = "memory"
	MinAvailableKey = "minAvailable"
)

// classKeys are the keys tenantgate understands, in the order errors list them.
var classKeys = []string{ServiceTypeKey, DataPlaneKey, ReplicasKey, CPUKey, MemoryKey, MinAvailableKey}

// ClassParameters are what a GatewayClass's parameters ConfigMap says.
type ClassParameters struct {
	ServiceType corev1.ServiceType
	// Dedicated gives each Gateway of the class its own data-plane Deployment.
	Dedicated bool
	Replicas  int32
	// CPU and Memory are zero when not set (no request, no limit).
	CPU, Memory  resource.Quantity
	MinAvailable intstr.IntOrString
}

// Default dedicated data plane: two replicas, one of which may be
// disrupted at a time.
const (
	defaultReplicas     = 2
	defaultMinAvailable = 1
)

// ClassServiceType reads the Service type a GatewayClass's parametersRef
// asks for (see ClassParams).
func ClassServiceType(gc *gatewayv1.GatewayClass, configMaps []corev1.ConfigMap) (corev1.ServiceType, error) {
	p, err := ClassParams(gc, configMaps)
	return p.ServiceType, err
}

// ClassParams reads a GatewayClass's parametersRef: none means a shared
// data plane behind LoadBalancer Services; only a core ConfigMap with
// tenantgate's keys is understood. The error is the class's
// InvalidParameters message.
func ClassParams(gc *gatewayv1.GatewayClass, configMaps []corev1.ConfigMap) (ClassParameters, error) {
	p := ClassParameters{ServiceType: corev1.ServiceTypeLoadBalancer, Replicas: defaultReplicas, MinAvailable: intstr.FromInt32(defaultMinAvailable)}
	ref := gc.Spec.ParametersRef
	if ref == nil {
		return p, nil
	}
	if ref.Group != "" || ref.Kind != "ConfigMap" || ref.Namespace == nil {
		return ClassParameters{}, fmt.Errorf("GatewayClass %s spec.parametersRef names %s %q in group %q; tenantgate takes only a core ConfigMap with its namespace set, so point it at one or remove it", gc.Name, ref.Kind, ref.Name, ref.Group)
	}
	var cm *corev1.ConfigMap
	for i := range configMaps {
		if configMaps[i].Namespace == string(*ref.Namespace) && configMaps[i].Name == ref.Name {
			cm = &configMaps[i]
		}
	}
	if cm == nil {
		return ClassParameters{}, fmt.Errorf("GatewayClass %s spec.parametersRef names ConfigMap %s/%s, which does not exist; create it or fix the reference", gc.Name, *ref.Namespace, ref.Name)
	}
	where := fmt.Sprintf("ConfigMap %s/%s (parameters of GatewayClass %s)", cm.Namespace, cm.Name, gc.Name)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range cm.Data {
			if !yield(k) {
				return
			}
		}
	}) {
		if !slices.Contains(classKeys, k) {
			return ClassParameters{}, fmt.Errorf("%s has key %q; tenantgate understands only %s, so remove it", where, k, strings.Join(classKeys, ", "))
		}
	}
	switch t := corev1.ServiceType(cm.Data[ServiceTypeKey]); t {
	case "":
	case corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
		p.ServiceType = t
	default:
		return ClassParameters{}, fmt.Errorf("%s sets %s %q; use LoadBalancer, ClusterIP or NodePort", where, ServiceTypeKey, t)
	}
	switch v := cm.Data[DataPlaneKey]; v {
	case "", "shared":
	case "dedicated":
		p.Dedicated = true
	default:
		return ClassParameters{}, fmt.Errorf("%s sets %s %q; use shared or dedicated", where, DataPlaneKey, v)
	}
	if v, ok := cm.Data[ReplicasKey]; ok {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 || n > 100 {
			return ClassParameters{}, fmt.Errorf("%s sets %s %q; give a whole number from 1 to 100", where, ReplicasKey, v)
		}
		p.Replicas = int32(n)
	}
	for key, q := range map[string]*resource.Quantity{CPUKey: &p.CPU, MemoryKey: &p.Memory} {
		if v, ok := cm.Data[key]; ok {
			parsed, err := resource.ParseQuantity(v)
			if err != nil || parsed.Sign() <= 0 {
				return ClassParameters{}, fmt.Errorf("%s sets %s %q; give a positive quantity such as 500m or 256Mi", where, key, v)
			}
			*q = parsed
		}
	}
	if v, ok := cm.Data[MinAvailableKey]; ok {
		p.MinAvailable = intstr.Parse(v)
		n, err := intstr.GetScaledValueFromIntOrPercent(&p.MinAvailable, int(p.Replicas), true)
		if err != nil || n < 0 || (p.MinAvailable.Type == intstr.String && !strings.HasSuffix(v, "%")) {
			return ClassParameters{}, fmt.Errorf("%s sets %s %q; give a count such as 1 or a percentage such as 50%%", where, MinAvailableKey, v)
		}
	}
	if !p.Dedicated && (cm.Data[ReplicasKey] != "" || cm.Data[CPUKey] != "" || cm.Data[MemoryKey] != "" || cm.Data[MinAvailableKey] != "") {
		return ClassParameters{}, fmt.Errorf("%s sets %s, %s, %s or %s, which shape only a dedicated data plane; add %s: dedicated or remove them", where, ReplicasKey, CPUKey, MemoryKey, MinAvailableKey, DataPlaneKey)
	}
	return p, nil
}

// DedicatedGateways are the Gateways whose class (one of ours, with valid
// parameters) gives them their own data plane: the shared data plane
// leaves them to it.
func DedicatedGateways(controller gatewayv1.GatewayController, classes []gatewayv1.GatewayClass, gateways []gatewayv1.Gateway, configMaps []corev1.ConfigMap) map[types.NamespacedName]bool {
	if controller == "" {
		controller = ControllerName
	}
	dedicated := map[string]bool{}
	for i := range classes {
		if classes[i].Spec.ControllerName != controller {
			continue
		}
		if p, err := ClassParams(&classes[i], configMaps); err == nil && p.Dedicated {
			dedicated[classes[i].Name] = true
		}
	}
	out := map[types.NamespacedName]bool{}
	for _, gw := range gateways {
		if dedicated[string(gw.Spec.GatewayClassName)] {
			out[types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}] = true
		}
	}
	return out
}
