package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/gateway/translate"
)

// A dedicated data plane is a Deployment (and PodDisruptionBudget) in the
// data-plane namespace, not in the Gateway's: its ServiceAccount reads every
// TLS Secret the data plane serves, so a Pod of it in a namespace where a
// tenant can create Pods would hand that tenant other tenants' keys (Envoy
// Gateway's default is the controller's namespace too). Owner references
// cannot cross namespaces, so these labels tie it to its Gateway and the
// controller deletes it when the Gateway is gone, orphans after a restart
// included.
const (
	// DedicatedComponent is the component label of dedicated data-plane Pods,
	// so the shared data plane's selector never matches them.
	DedicatedComponent  = "gateway-dataplane"
	labelGatewayUID     = "tenantgate.dev/gateway-uid"
	annotationGateway   = "tenantgate.dev/gateway"
	labelComponent      = "app.kubernetes.io/component"
	labelName           = "app.kubernetes.io/name"
	dataPlaneAccount    = "tenantgate-dataplane"
	dataPlaneHealthPort = 8081
)

// DataPlaneName names the dedicated data plane of Gateway key: readable,
// unique per Gateway (a hash of namespace/name), a valid DNS label.
func DataPlaneName(key types.NamespacedName) string {
	sum := sha256.Sum256([]byte(key.String()))
	prefix := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, key.Namespace+"-"+key.Name)
	if len(prefix) > 40 {
		prefix = prefix[:40]
	}
	return "tenantgate-" + strings.Trim(prefix, "-") + "-" + hex.EncodeToString(sum[:4])
}

// servedConfig keeps the listeners this process serves: with ServeGateway,
// that Gateway's only; otherwise every Gateway's but the dedicated ones.
func (r *Reconciler) servedConfig(s *translate.Snapshot, cfg routetable.Config) routetable.Config {
	dedicated := translate.DedicatedGateways(r.controllerName(), s.GatewayClasses, s.Gateways, s.ConfigMaps)
	if r.ServeGateway == (types.NamespacedName{}) && len(dedicated) == 0 {
		return cfg
	}
	cfg.Listeners = slices.DeleteFunc(slices.Clone(cfg.Listeners), func(l routetable.Listener) bool {
		parts := strings.SplitN(l.Name, "/", 3)
		if len(parts) < 3 {
			return true
		}
		key := types.NamespacedName{Namespace: parts[0], Name: parts[1]}
		if r.ServeGateway != (types.NamespacedName{}) {
			return key != r.ServeGateway
		}
		return dedicated[key]
	})
	return cfg
}

// dedicatedLabels select the Pods of gw's dedicated data plane.
func dedicatedLabels(gw *gatewayv1.Gateway) map[string]string {
	return map[string]string{labelName: "tenantgate", labelComponent: DedicatedComponent, labelGatewayUID: string(gw.UID)}
}

// podsOf keeps gw's dedicated data-plane Pods.
func podsOf(gw *gatewayv1.Gateway, pods []corev1.Pod) []corev1.Pod {
	match := labels.SelectorFromSet(dedicatedLabels(gw))
	return slices.DeleteFunc(slices.Clone(pods), func(p corev1.Pod) bool { return !match.Matches(labels.Set(p.Labels)) })
}

// desiredDataPlane is gw's dedicated data plane: the controller's image with
// -role=dataplane restricted to gw, shaped by its class's parameters.
func (r *Reconciler) desiredDataPlane(gw *gatewayv1.Gateway, p translate.ClassParameters) (*appsv1.Deployment, *policyv1.PodDisruptionBudget) {
	key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
	meta := metav1.ObjectMeta{Namespace: r.dataPlaneNamespace(), Name: DataPlaneName(key), Labels: dedicatedLabels(gw)}
	meta.Labels, meta.Annotations = infrastructureMetadata(meta.Labels, nil, gw)
	for k, v := range dedicatedLabels(gw) {
		meta.Labels[k] = v // no infrastructure label may make it select other Pods
	}
	meta.Annotations[annotationGateway] = key.String()
	podMeta := *meta.DeepCopy()
	podMeta.Namespace, podMeta.Name = "", ""
	resources := corev1.ResourceRequirements{}
	for name, q := range map[corev1.ResourceName]resource.Quantity{corev1.ResourceCPU: p.CPU, corev1.ResourceMemory: p.Memory} {
		if !q.IsZero() {
			if resources.Requests == nil {
				resources.Requests, resources.Limits = corev1.ResourceList{}, corev1.ResourceList{}
			}
			resources.Requests[name], resources.Limits[name] = q, q // request = limit: a guaranteed share
		}
	}
	args := append([]string{"-role=dataplane", "-data-plane-gateway=" + key.String(),
		"-gateway-target-ports=" + r.targetRange().String(), "-metrics-bind-address=:8080",
		fmt.Sprintf("-health-probe-bind-address=:%d", dataPlaneHealthPort)}, r.DataPlaneArgs...)
	dep := &appsv1.Deployment{
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(p.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: dedicatedLabels(gw)},
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{
				MaxSurge: ptr.To(intstr.FromInt32(1)), MaxUnavailable: ptr.To(intstr.FromInt32(0)),
			}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: podMeta,
				Spec: corev1.PodSpec{
					ServiceAccountName:            dataPlaneAccount,
					TerminationGracePeriodSeconds: ptr.To[int64](30),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532), RunAsGroup: ptr.To[int64](65532),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name: "tenantgate", Image: r.DataPlaneImage, Args: args, Resources: resources,
						Ports: []corev1.ContainerPort{{Name: "metrics", ContainerPort: 8080}, {Name: "health", ContainerPort: dataPlaneHealthPort}},
						ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/readyz", Port: intstr.FromString("health")}},
							PeriodSeconds: 5, FailureThreshold: 2, TimeoutSeconds: 1, SuccessThreshold: 1}, // the defaults spelled out, so an unchanged Deployment is never rewritten
						LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("health")}},
							InitialDelaySeconds: 10, PeriodSeconds: 10, FailureThreshold: 3, TimeoutSeconds: 1, SuccessThreshold: 1},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true), RunAsNonRoot: ptr.To(true),
							Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
					}},
				},
			},
		},
	}
	pdb := &policyv1.PodDisruptionBudget{
		ObjectMeta: *meta.DeepCopy(),
		Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: ptr.To(p.MinAvailable), Selector: &metav1.LabelSelector{MatchLabels: dedicatedLabels(gw)}},
	}
	return dep, pdb
}

// syncDataPlanes creates or updates the dedicated data planes the
// Gateways in want need and deletes every other one tenantgate made (its
// Gateway deleted, moved to a shared class, or gone while the controller
// was down). It returns, by Gateway, what could not be written.
func (r *Reconciler) syncDataPlanes(ctx context.Context, want map[types.NamespacedName]dedicatedPlane) (map[types.NamespacedName]string, error) {
	failures := map[types.NamespacedName]string{}
	if r.pods == nil {
		return failures, nil // not watching the data-plane namespace (WatchDataPlanePods): nothing of it to manage
	}
	if r.DataPlaneImage == "" && len(want) > 0 {
		for key := range want {
			failures[key] = "its class asks for a dedicated data plane, but the controller runs without -data-plane-image; set it to the tenantgate image"
		}
		return failures, nil
	}
	var deps appsv1.DeploymentList
	var pdbs policyv1.PodDisruptionBudgetList
	sel := client.MatchingLabels{labelName: "tenantgate", labelComponent: DedicatedComponent}
	if err := r.APIReader.List(ctx, &deps, client.InNamespace(r.dataPlaneNamespace()), sel); err != nil {
		return failures, err
	}
	if err := r.APIReader.List(ctx, &pdbs, client.InNamespace(r.dataPlaneNamespace()), sel); err != nil {
		return failures, err
	}
	var errs []error
	kept := map[string]bool{}
	for key, plane := range want {
		dep, pdb := r.desiredDataPlane(plane.gateway, plane.params)
		kept[dep.Name] = true
		err := errors.Join(
			applyOwned(ctx, r.Writer, deps.Items, dep, plane.gateway, func(cur, want *appsv1.Deployment) { cur.Spec = want.Spec }),
			applyOwned(ctx, r.Writer, pdbs.Items, pdb, plane.gateway, func(cur, want *policyv1.PodDisruptionBudget) { cur.Spec = want.Spec }))
		if err != nil {
			errs = append(errs, err)
			failures[key] = fmt.Sprintf("writing its dedicated data plane %s/%s failed (%v); tenantgate retries every second", dep.Namespace, dep.Name, err)
		}
	}
	for i := range deps.Items {
		if d := &deps.Items[i]; !kept[d.Name] && d.Annotations[annotationGateway] != "" {
			errs = append(errs, ignore(apierrors.IsNotFound, r.Writer.Delete(ctx, d, client.Preconditions{UID: &d.UID})))
		}
	}
	for i := range pdbs.Items {
		if p := &pdbs.Items[i]; !kept[p.Name] && p.Annotations[annotationGateway] != "" {
			errs = append(errs, ignore(apierrors.IsNotFound, r.Writer.Delete(ctx, p, client.Preconditions{UID: &p.UID})))
		}
	}
	return failures, errors.Join(errs...)
}

// dedicatedPlane is a Gateway that gets its own data plane, and how.
type dedicatedPlane struct {
	gateway *gatewayv1.Gateway
	params  translate.ClassParameters
}

// applyOwned creates want, or updates the existing object of its name to
// want's spec, labels and annotations when they differ. An object of that
// name tenantgate made for another Gateway is left alone.
func applyOwned[T any, P interface {
	*T
	client.Object
}](ctx context.Context, w client.Client, existing []T, want P, gw *gatewayv1.Gateway, setSpec func(cur, want P)) error {
	var cur P
	for i := range existing {
		if P(&existing[i]).GetName() == want.GetName() {
			cur = P(&existing[i])
		}
	}
	if cur == nil {
		return ignore(apierrors.IsAlreadyExists, w.Create(ctx, want, client.FieldOwner(FieldOwner)))
	}
	if owner := cur.GetAnnotations()[annotationGateway]; owner != want.GetAnnotations()[annotationGateway] {
		return fmt.Errorf("%s %s already exists and belongs to Gateway %q", cur.GetObjectKind().GroupVersionKind().Kind, want.GetName(), owner)
	}
	next := cur.DeepCopyObject().(P)
	l, a := infrastructureMetadata(next.GetLabels(), next.GetAnnotations(), gw)
	maps.Copy(l, want.GetLabels())
	a[annotationGateway] = want.GetAnnotations()[annotationGateway]
	next.SetLabels(l)
	next.SetAnnotations(a)
	setSpec(next, want)
	if equality.Semantic.DeepDerivative(next, cur) {
		return nil // only defaults the API server filled in differ
	}
	return ignore(apierrors.IsNotFound, w.Update(ctx, next, client.FieldOwner(FieldOwner)))
}
