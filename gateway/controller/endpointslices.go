package controller

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// EndpointSliceManager is the managed-by label value of the EndpointSlices
// tenantgate writes, so the EndpointSlice controller leaves them alone.
const EndpointSliceManager = "controller.tenantgate.dev"

// FieldOwner is the field manager of every object the controller writes.
const FieldOwner = "tenantgate-controller"

// DefaultDataPlaneNamespace is where manifests/default runs the data plane.
const DefaultDataPlaneNamespace = "tenantgate-system"

// dataPlanePods lists the Pods of the data-plane namespace (the controller
// caches only that namespace's Pods); nil without a Pod cache.
func (r *Reconciler) dataPlanePods(ctx context.Context) ([]corev1.Pod, error) {
	if r.pods == nil {
		return nil, nil
	}
	var list corev1.PodList
	if err := r.pods.List(ctx, &list, client.InNamespace(r.dataPlaneNamespace())); err != nil {
		return nil, err
	}
	return list.Items, nil
}

func (r *Reconciler) dataPlaneNamespace() string {
	if r.DataPlaneNamespace == "" {
		return DefaultDataPlaneNamespace
	}
	return r.DataPlaneNamespace
}

// servingPods keeps the shared data plane's Pods (ServiceSelector).
func (r *Reconciler) servingPods(pods []corev1.Pod) []corev1.Pod {
	sel := r.ServiceSelector
	if sel == nil {
		sel, _ = ParseServiceSelector(DefaultServiceSelector)
	}
	match := labels.SelectorFromSet(sel)
	return slices.DeleteFunc(slices.Clone(pods), func(p corev1.Pod) bool { return !match.Matches(labels.Set(p.Labels)) })
}

// desiredEndpointSlice lists pods (their IPv4 addresses) on svc's target
// ports: ready as the Pod's Ready condition says, terminating once deleted.
func desiredEndpointSlice(svc *corev1.Service, gw *gatewayv1.Gateway, pods []corev1.Pod) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: svc.Namespace, Name: svc.Name,
			Labels: map[string]string{
				discoveryv1.LabelServiceName: svc.Name,
				discoveryv1.LabelManagedBy:   EndpointSliceManager,
			},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: "v1", Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
			}},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{},
	}
	for _, p := range svc.Spec.Ports {
		es.Ports = append(es.Ports, discoveryv1.EndpointPort{
			Name: ptr.To(p.Name), Protocol: ptr.To(p.Protocol), Port: ptr.To(p.TargetPort.IntVal),
		})
	}
	for _, pod := range pods {
		ip := podIPv4(&pod)
		if ip == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
			continue
		}
		ready := podReady(&pod)
		terminating := pod.DeletionTimestamp != nil
		ep := discoveryv1.Endpoint{
			Addresses: []string{ip},
			Conditions: discoveryv1.EndpointConditions{
				Ready: ptr.To(ready && !terminating), Serving: ptr.To(ready), Terminating: ptr.To(terminating),
			},
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		}
		if pod.Spec.NodeName != "" {
			ep.NodeName = ptr.To(pod.Spec.NodeName)
		}
		es.Endpoints = append(es.Endpoints, ep)
	}
	slices.SortFunc(es.Endpoints, func(a, b discoveryv1.Endpoint) int { return strings.Compare(a.Addresses[0], b.Addresses[0]) })
	es.Labels, es.Annotations = infrastructureMetadata(es.Labels, nil, gw)
	// Set again after the infrastructure labels, which must not redirect it.
	es.Labels[discoveryv1.LabelServiceName], es.Labels[discoveryv1.LabelManagedBy] = svc.Name, EndpointSliceManager
	return es
}

func podIPv4(p *corev1.Pod) string {
	for _, ip := range p.Status.PodIPs {
		if a, err := netip.ParseAddr(ip.IP); err == nil && a.Is4() {
			return a.String()
		}
	}
	return ""
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// sliceControlledBy: es is the one tenantgate wrote for this very Service.
func sliceControlledBy(es *discoveryv1.EndpointSlice, svc *corev1.Service) bool {
	ref := metav1.GetControllerOfNoCopy(es)
	return ref != nil && ref.UID == svc.UID && ref.Kind == "Service" && es.Labels[discoveryv1.LabelManagedBy] == EndpointSliceManager
}

// syncEndpointSlice writes svc's EndpointSlice. One of that name it does
// not control (a tenant's, say) is never adopted nor changed: the returned
// sentence says so for the Gateway's status.
func (r *Reconciler) syncEndpointSlice(ctx context.Context, existing []discoveryv1.EndpointSlice, svc *corev1.Service, gw *gatewayv1.Gateway, pods []corev1.Pod) (string, error) {
	want := desiredEndpointSlice(svc, gw, pods)
	var cur *discoveryv1.EndpointSlice
	for i := range existing {
		if existing[i].Namespace == want.Namespace && existing[i].Name == want.Name {
			cur = &existing[i]
		}
	}
	if cur == nil {
		return "", ignore(apierrors.IsAlreadyExists, r.Writer.Create(ctx, want, client.FieldOwner(FieldOwner)))
	}
	if !sliceControlledBy(cur, svc) {
		return fmt.Sprintf("its EndpointSlice %s already exists and is not owned by its Service, so tenantgate leaves it alone and its Service has no endpoints; delete that EndpointSlice or rename the Gateway",
			types.NamespacedName{Namespace: cur.Namespace, Name: cur.Name}), nil
	}
	next := cur.DeepCopy()
	next.Labels, next.Annotations = infrastructureMetadata(next.Labels, next.Annotations, gw)
	next.Labels[discoveryv1.LabelServiceName], next.Labels[discoveryv1.LabelManagedBy] = svc.Name, EndpointSliceManager
	next.OwnerReferences, next.AddressType, next.Endpoints, next.Ports = want.OwnerReferences, want.AddressType, want.Endpoints, want.Ports
	if equality.Semantic.DeepEqual(cur, next) {
		return "", nil
	}
	return "", ignore(apierrors.IsNotFound, r.Writer.Update(ctx, next, client.FieldOwner(FieldOwner)))
}

// watchDataPlanePods caches the Pods of the data-plane namespace only (not
// the cluster's) and rebuilds on each change, so EndpointSlices follow them.
func (r *Reconciler) watchDataPlanePods(mgr ctrl.Manager) (source.Source, error) {
	pods, err := cache.New(mgr.GetConfig(), cache.Options{
		Scheme: mgr.GetScheme(), Mapper: mgr.GetRESTMapper(),
		DefaultNamespaces: map[string]cache.Config{r.dataPlaneNamespace(): {}},
	})
	if err != nil {
		return nil, fmt.Errorf("caching the data-plane Pods: %w", err)
	}
	if err := mgr.Add(pods); err != nil {
		return nil, err
	}
	r.pods = pods
	return source.Kind(pods, &corev1.Pod{}, handler.TypedEnqueueRequestsFromMapFunc(func(context.Context, *corev1.Pod) []reconcile.Request {
		return []reconcile.Request{everything}
	})), nil
}
