package controller

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// DefaultServiceSelector selects the data-plane Pods of manifests/default;
// every Gateway's Service (through the EndpointSlice the controller writes)
// sends its traffic to them.
const DefaultServiceSelector = "app.kubernetes.io/name=tenantgate,app.kubernetes.io/component=dataplane"

const (
	// serviceSuffix ends the name of each Gateway's Service, so it cannot be
	// mistaken for the Gateway's backends.
	serviceSuffix = "-tenantgate"
	// ownedLabels and ownedAnnotations list the spec.infrastructure keys last
	// written onto the Service, so removing one from the Gateway removes it
	// from the Service without touching keys others added.
	ownedLabels      = "tenantgate.dev/infrastructure-labels"
	ownedAnnotations = "tenantgate.dev/infrastructure-annotations"
)

// ParseServiceSelector reads -gateway-service-selector ("k=v,k2=v2"), the
// labels of the data-plane Pods the Gateways' Services select.
func ParseServiceSelector(s string) (map[string]string, error) {
	sel, err := labels.ConvertSelectorToLabelsMap(s)
	if err != nil || len(sel) == 0 {
		return nil, fmt.Errorf("-gateway-service-selector %q is not a list of data-plane Pod labels such as %s; give at least one key=value", s, DefaultServiceSelector)
	}
	return sel, nil
}

// ServiceName is the name of a Gateway's Service: the Gateway's name plus
// "-tenantgate" when that is a valid Service name, otherwise a valid prefix
// of it plus a hash of the whole name, so two Gateways never share one.
func ServiceName(gateway string) string {
	name := gateway + serviceSuffix
	if len(validation.IsDNS1035Label(name)) == 0 {
		return name
	}
	sum := sha256.Sum256([]byte(gateway))
	hash := hex.EncodeToString(sum[:4])
	prefix := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, gateway)
	if prefix == "" || prefix[0] < 'a' || prefix[0] > 'z' {
		prefix = "gw-" + prefix
	}
	if max := validation.DNS1035LabelMaxLength - len(serviceSuffix) - len(hash) - 1; len(prefix) > max {
		prefix = prefix[:max]
	}
	return strings.TrimRight(prefix, "-") + "-" + hash + serviceSuffix
}

// serviceProblems says, for each Gateway whose Service name is taken by a
// Service it does not control, why it has no Service. A tenant can thus
// never make tenantgate overwrite or adopt a Service it did not create for
// that very Gateway.
func serviceProblems(gateways []gatewayv1.Gateway, services []corev1.Service) map[types.NamespacedName]string {
	byName := servicesByName(services)
	out := map[types.NamespacedName]string{}
	for i := range gateways {
		gw := &gateways[i]
		name := types.NamespacedName{Namespace: gw.Namespace, Name: ServiceName(gw.Name)}
		if svc, ok := byName[name]; ok && !controlledBy(svc, gw) {
			out[types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}] = fmt.Sprintf(
				"its Service %s already exists and is not owned by this Gateway, so tenantgate leaves it alone; delete that Service or rename the Gateway", name)
		}
	}
	return out
}

// serviceAddresses is each Gateway's address when no address pool is
// configured: its Service's load-balancer ingress IP or hostname, or its
// cluster IP for a ClusterIP Service; the others get why not yet.
func serviceAddresses(gateways []gatewayv1.Gateway, services []corev1.Service) (map[types.NamespacedName]string, map[types.NamespacedName]string) {
	byName := servicesByName(services)
	addrs, problems := map[types.NamespacedName]string{}, map[types.NamespacedName]string{}
	for i := range gateways {
		gw := &gateways[i]
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		name := types.NamespacedName{Namespace: gw.Namespace, Name: ServiceName(gw.Name)}
		svc, ok := byName[name]
		switch {
		case !ok || !controlledBy(svc, gw):
			problems[key] = fmt.Sprintf("waiting for its Service %s to be created", name)
		case svc.Spec.Type == corev1.ServiceTypeLoadBalancer:
			for _, in := range svc.Status.LoadBalancer.Ingress {
				if a := cmp.Or(in.IP, in.Hostname); a != "" {
					addrs[key] = a
					break
				}
			}
			if addrs[key] == "" {
				problems[key] = fmt.Sprintf("waiting for the load balancer of its Service %s to report an address", name)
			}
		case svc.Spec.ClusterIP != "" && svc.Spec.ClusterIP != corev1.ClusterIPNone:
			addrs[key] = svc.Spec.ClusterIP
		default:
			problems[key] = fmt.Sprintf("its Service %s has no cluster IP yet", name)
		}
	}
	return addrs, problems
}

func servicesByName(services []corev1.Service) map[types.NamespacedName]*corev1.Service {
	out := make(map[types.NamespacedName]*corev1.Service, len(services))
	for i := range services {
		out[types.NamespacedName{Namespace: services[i].Namespace, Name: services[i].Name}] = &services[i]
	}
	return out
}

// controlledBy: the Service's controller is this very Gateway (same UID,
// so not one deleted and recreated under the same name).
func controlledBy(svc *corev1.Service, gw *gatewayv1.Gateway) bool {
	ref := metav1.GetControllerOfNoCopy(svc)
	return ref != nil && ref.UID == gw.UID && ref.Kind == "Gateway" && strings.HasPrefix(ref.APIVersion, gatewayv1.GroupName+"/")
}

// desiredService is the Service tenantgate wants for gw: of the type its
// class's parameters say, with its listeners' ports. It has no selector:
// the data-plane Pods live in tenantgate's namespace, which a selector
// cannot reach, so the controller writes its EndpointSlices (endpointslices.go).
func desiredService(gw *gatewayv1.Gateway, typ corev1.ServiceType, ports []corev1.ServicePort) *corev1.Service {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: gw.Namespace, Name: ServiceName(gw.Name)},
		Spec: corev1.ServiceSpec{
			Type:  cmp.Or(typ, corev1.ServiceTypeLoadBalancer),
			Ports: ports,
		},
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		svc.Spec.LoadBalancerIP = requestedIP(gw) // the field cloud and local load balancers still honour
	}
	svc.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: gatewayv1.GroupVersion.String(), Kind: "Gateway", Name: gw.Name, UID: gw.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}}
	return svc
}

// requestedIP is the one IPAddress spec.addresses asks for, if any; a
// Gateway asking for several is refused by Build (AddressNotUsable).
func requestedIP(gw *gatewayv1.Gateway) string {
	for _, a := range gw.Spec.Addresses {
		if (a.Type == nil || *a.Type == gatewayv1.IPAddressType) && a.Value != "" {
			return a.Value
		}
	}
	return ""
}

// listenerPort is one port a Gateway's Service carries.
type listenerPort struct {
	port  int32
	proto corev1.Protocol
}

// acceptedPorts are the ports of gw's accepted listeners and of the
// accepted listeners of the ListenerSets attached to it: a refused one (a
// tenant's, a reserved port) gets no Service port.
func acceptedPorts(gw *gatewayv1.Gateway, res translate.Result, sets []gatewayv1.ListenerSet) []listenerPort {
	var out []listenerPort
	add := func(statuses []gatewayv1.ListenerStatus, name gatewayv1.SectionName, port int32, proto gatewayv1.ProtocolType) {
		for _, st := range statuses {
			if st.Name == name && meta.IsStatusConditionTrue(st.Conditions, string(gatewayv1.ListenerConditionAccepted)) {
				out = append(out, listenerPort{port: port, proto: protocolOf(proto)})
				return
			}
		}
	}
	key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
	for _, l := range gw.Spec.Listeners {
		add(res.Gateways[key].Listeners, l.Name, int32(l.Port), l.Protocol)
	}
	for i := range sets {
		ls := &sets[i]
		parentNS := ls.Namespace
		if ns := ls.Spec.ParentRef.Namespace; ns != nil {
			parentNS = string(*ns)
		}
		if parentNS != gw.Namespace || string(ls.Spec.ParentRef.Name) != gw.Name {
			continue
		}
		st := res.ListenerSets[types.NamespacedName{Namespace: ls.Namespace, Name: ls.Name}]
		for _, l := range ls.Spec.Listeners {
			var statuses []gatewayv1.ListenerStatus
			for _, e := range st.Listeners {
				statuses = append(statuses, gatewayv1.ListenerStatus{Name: e.Name, Conditions: e.Conditions})
			}
			add(statuses, l.Name, int32(l.Port), l.Protocol)
		}
	}
	return out
}

func protocolOf(p gatewayv1.ProtocolType) corev1.Protocol {
	if p == gatewayv1.UDPProtocolType {
		return corev1.ProtocolUDP
	}
	return corev1.ProtocolTCP
}

// servicePorts has one port per distinct listener port and protocol, each
// sent to its target port (the listener port itself when targets is nil:
// with an address pool the data plane listens on the listener's port).
func servicePorts(listeners []listenerPort, targets map[int32]int32) []corev1.ServicePort {
	var ports []corev1.ServicePort
	for _, l := range listeners {
		target := l.port
		if targets != nil {
			if target = targets[l.port]; target == 0 {
				continue // no data-plane port for it (the range is full): its status says so
			}
		}
		p := corev1.ServicePort{
			Name:     fmt.Sprintf("%s-%d", strings.ToLower(string(l.proto)), l.port),
			Protocol: l.proto, Port: l.port, TargetPort: intstr.FromInt32(target),
		}
		if !slices.ContainsFunc(ports, func(q corev1.ServicePort) bool { return q.Name == p.Name }) {
			ports = append(ports, p)
		}
	}
	slices.SortFunc(ports, func(a, b corev1.ServicePort) int {
		return cmp.Or(cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol))
	})
	return ports
}

// applyService makes cur say what want and gw's infrastructure say, keeping
// what others (the API server, a cloud provider, a user) added: allocated
// node ports, labels and annotations tenantgate never wrote.
func applyService(cur, want *corev1.Service, gw *gatewayv1.Gateway) {
	cur.Labels, cur.Annotations = infrastructureMetadata(cur.Labels, cur.Annotations, gw)
	if sig, ok := want.Annotations[annotationTargetPorts]; ok {
		cur.Annotations[annotationTargetPorts] = sig // after the infrastructure annotations, which must not forge it
	}
	cur.OwnerReferences = want.OwnerReferences
	cur.Spec.Type, cur.Spec.Selector, cur.Spec.LoadBalancerIP = want.Spec.Type, nil, want.Spec.LoadBalancerIP
	ports := slices.Clone(want.Spec.Ports)
	for i := range ports {
		for _, old := range cur.Spec.Ports {
			if old.Name == ports[i].Name && want.Spec.Type != corev1.ServiceTypeClusterIP {
				ports[i].NodePort = old.NodePort // keep the allocated one
			}
		}
	}
	cur.Spec.Ports = ports
}

// infrastructureMetadata returns labels and annotations with gw's
// spec.infrastructure applied, keeping keys tenantgate never wrote, for
// every object generated for gw.
func infrastructureMetadata(labels, annotations map[string]string, gw *gatewayv1.Gateway) (map[string]string, map[string]string) {
	var infraLabels, infraAnnotations map[string]string
	if inf := gw.Spec.Infrastructure; inf != nil {
		infraLabels = make(map[string]string, len(inf.Labels))
		for k, v := range inf.Labels {
			infraLabels[string(k)] = string(v)
		}
		infraAnnotations = make(map[string]string, len(inf.Annotations))
		for k, v := range inf.Annotations {
			infraAnnotations[string(k)] = string(v)
		}
	}
	labels = replaceOwned(labels, annotations[ownedLabels], infraLabels)
	annotations = replaceOwned(annotations, annotations[ownedAnnotations], infraAnnotations)
	// Set last, so no infrastructure key can rename the Gateway the object
	// belongs to or forge what tenantgate owns.
	labels[gatewayv1.GatewayNameLabelKey] = gw.Name
	annotations[ownedLabels] = ownedKeys(infraLabels)
	annotations[ownedAnnotations] = ownedKeys(infraAnnotations)
	return labels, annotations
}

// replaceOwned removes from m the keys listed in owned (comma-separated) and
// sets those of next.
func replaceOwned(m map[string]string, owned string, next map[string]string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	for k := range strings.SplitSeq(owned, ",") {
		if k != "" && k != gatewayv1.GatewayNameLabelKey && k != ownedLabels && k != ownedAnnotations {
			delete(m, k)
		}
	}
	maps.Copy(m, next)
	return m
}

func ownedKeys(m map[string]string) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ",")
}

// syncServices creates or updates the Service (and its EndpointSlice) of
// every accepted Gateway of ours and deletes those of Gateways no longer
// ours (deleting a Gateway deletes them through the garbage collector). It
// runs on the status writer, so only while this replica leads. It returns,
// by Gateway, what could not be written, for its Programmed condition.
func (r *Reconciler) syncServices(ctx context.Context, s *translate.Snapshot, res translate.Result) (map[types.NamespacedName]string, error) {
	byName := servicesByName(s.Services)
	params := map[string]translate.ClassParameters{}
	for _, gc := range r.ourClasses(s.GatewayClasses) {
		params[gc.Name], _ = translate.ClassParams(&gc, s.ConfigMaps) // a class in error accepts no Gateway
	}
	planes := map[types.NamespacedName]dedicatedPlane{}
	ours := r.ours(s.GatewayClasses, s.Gateways)
	ports := map[types.NamespacedName][]listenerPort{}
	for i := range ours {
		ports[types.NamespacedName{Namespace: ours[i].Namespace, Name: ours[i].Name}] = acceptedPorts(&ours[i], res, s.ListenerSets)
	}
	var targets translate.TargetPorts
	failures := map[types.NamespacedName]string{}
	var signKey []byte
	if !r.Pool.Prefix.IsValid() {
		var err error
		if signKey, err = r.targetPortKey(ctx, true); err != nil {
			return nil, err // no Service is written unsigned
		}
		targets, failures = translate.AssignTargetPorts(r.portClaims(ours, s.Services, ports, signKey), r.targetRange())
	}
	pods, podsErr := r.dataPlanePods(ctx)
	wanted := map[types.NamespacedName]bool{}
	var errs []error
	fail := func(key types.NamespacedName, what string, err error) {
		if err != nil {
			errs = append(errs, err)
			failures[key] = fmt.Sprintf("writing its %s failed (%v); tenantgate retries every second", what, err)
		}
	}
	for i := range ours {
		gw := &ours[i]
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		class := params[string(gw.Spec.GatewayClassName)]
		want := desiredService(gw, class.ServiceType, servicePorts(ports[key], targets[key]))
		if signKey != nil {
			want.Annotations = map[string]string{annotationTargetPorts: signTargetPorts(signKey, gw.UID, want.Spec.Ports)}
		}
		name := types.NamespacedName{Namespace: want.Namespace, Name: want.Name}
		cur, exists := byName[name]
		if exists && !controlledBy(cur, gw) {
			continue // its status says so (serviceProblems)
		}
		// A Gateway not accepted (say, its class's ConfigMap deleted by
		// mistake) keeps the Service it has, so it keeps its load-balancer
		// address, but gets no new one and no change.
		wanted[name] = true
		if st, ok := res.Gateways[key]; !ok || !meta.IsStatusConditionTrue(st.Conditions, string(gatewayv1.GatewayConditionAccepted)) {
			continue
		}
		endpoints := r.servingPods(pods)
		if class.Dedicated {
			planes[key] = dedicatedPlane{gateway: gw, params: class}
			endpoints = podsOf(gw, pods)
		}
		if !exists {
			applyService(want, want, gw)
			if err := r.Writer.Create(ctx, want, client.FieldOwner(FieldOwner)); err != nil {
				fail(key, "Service "+name.String(), ignore(apierrors.IsAlreadyExists, err))
				continue
			}
			cur = want
		} else {
			next := cur.DeepCopy()
			applyService(next, want, gw)
			if !equality.Semantic.DeepEqual(cur, next) {
				if err := r.Writer.Update(ctx, next, client.FieldOwner(FieldOwner)); err != nil {
					fail(key, "Service "+name.String(), ignore(apierrors.IsNotFound, err))
					continue
				}
				cur = next
			}
		}
		if podsErr != nil {
			fail(key, "EndpointSlice (listing the data-plane Pods)", podsErr)
			continue
		}
		if msg, err := r.syncEndpointSlice(ctx, s.EndpointSlices, cur, gw, endpoints); msg != "" {
			failures[key] = msg
		} else {
			fail(key, "EndpointSlice "+name.String(), err)
		}
	}
	gateways := map[types.UID]string{}
	for _, gw := range s.Gateways {
		gateways[gw.UID] = gw.Name
	}
	for i := range s.Services {
		svc := &s.Services[i]
		name := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
		ref := metav1.GetControllerOfNoCopy(svc)
		if _, managed := svc.Annotations[ownedLabels]; wanted[name] || !managed || ref == nil || ref.Kind != "Gateway" {
			continue
		}
		if gw, ok := gateways[ref.UID]; !ok || gw != ref.Name || ServiceName(gw) != svc.Name {
			continue // the garbage collector removes it with its Gateway
		}
		err := r.Writer.Delete(ctx, svc, client.Preconditions{UID: &svc.UID, ResourceVersion: &svc.ResourceVersion})
		errs = append(errs, ignore(apierrors.IsNotFound, err))
	}
	planeFailures, err := r.syncDataPlanes(ctx, planes)
	maps.Copy(failures, planeFailures)
	return failures, errors.Join(append(errs, err)...)
}

// ignore drops an error that expected says is harmless.
func ignore(expected func(error) bool, err error) error {
	if expected(err) {
		return nil
	}
	return err
}

// addresses gives each Gateway of ours its address: from the pool when one
// is configured (the data plane binds it), otherwise its Service's. A
// Gateway whose Service name is taken by someone else's Service gets none.
func (r *Reconciler) addresses(ours []gatewayv1.Gateway, services []corev1.Service) (map[types.NamespacedName]string, map[types.NamespacedName]string) {
	var addrs, problems map[types.NamespacedName]string
	if r.Pool.Prefix.IsValid() {
		addrs, problems = r.Pool.Assign(ours, r.assignedAddresses)
		r.assignedAddresses = make(map[types.UID]string, len(addrs))
		for i := range ours {
			if a, ok := addrs[types.NamespacedName{Namespace: ours[i].Namespace, Name: ours[i].Name}]; ok && ours[i].UID != "" {
				r.assignedAddresses[ours[i].UID] = a
			}
		}
	} else {
		addrs, problems = serviceAddresses(ours, services)
	}
	for key, why := range serviceProblems(ours, services) {
		delete(addrs, key)
		problems[key] = why
	}
	return addrs, problems
}

// withInfrastructureFailures returns res with the Programmed condition of
// each Gateway in failures False (NoResources), saying what could not be
// written: the data plane keeps serving it, but its status must not claim
// that its Service carries its traffic.
func withInfrastructureFailures(res translate.Result, failures map[types.NamespacedName]string) translate.Result {
	if len(failures) == 0 {
		return res
	}
	gateways := maps.Clone(res.Gateways)
	for key, why := range failures {
		st, ok := gateways[key]
		if !ok {
			continue
		}
		st.Conditions = slices.Clone(st.Conditions)
		for i := range st.Conditions {
			if c := &st.Conditions[i]; c.Type == string(gatewayv1.GatewayConditionProgrammed) {
				c.Status, c.Reason = metav1.ConditionFalse, string(gatewayv1.GatewayReasonNoResources)
				c.Message = fmt.Sprintf("Gateway %s is not fully programmed: %s.", key, strings.TrimSuffix(why, "."))
			}
		}
		gateways[key] = st
	}
	res.Gateways = gateways
	return res
}
