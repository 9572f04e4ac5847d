package controller

import (
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
)

// Kinds of the objects the translator reads certificates and CA bundles from.
const (
	kindSecret    = "Secret"
	kindConfigMap = "ConfigMap"
)

// objectRef names one Secret or ConfigMap.
type objectRef struct {
	Kind string // kindSecret or kindConfigMap
	types.NamespacedName
}

// refSet is the Secrets and ConfigMaps the translator may read.
type refSet map[objectRef]struct{}

// refInputs is what decides which Secrets and ConfigMaps are referenced.
type refInputs struct {
	// GatewayClasses are ours only; their parametersRef may name a ConfigMap.
	GatewayClasses []gatewayv1.GatewayClass
	// Gateways are ours only (their class names our controller).
	Gateways           []gatewayv1.Gateway
	ListenerSets       []gatewayv1.ListenerSet
	BackendTLSPolicies []gatewayv1.BackendTLSPolicy
	ReferenceGrants    []gatewayv1.ReferenceGrant
	// RefuseGrant ignores the grants the tenant policy refuses, as Build
	// does, so they make the gateway hold nothing either; nil honours all.
	RefuseGrant model.GrantFilter
}

// referenced lists every Secret and ConfigMap the translator can read for
// these objects: the ConfigMap parameters of our GatewayClasses, listener tls.certificateRefs of our Gateways and of the
// ListenerSets naming them, the Gateways' frontend caCertificateRefs (default
// and per port) and backend clientCertificateRef, and BackendTLSPolicy
// validation.caCertificateRefs. A reference into another namespace counts
// only when a ReferenceGrant there allows it, so a tenant cannot make the
// gateway hold another team's Secret by naming it. Kinds the translator
// refuses (another group, another kind) are left out.
func referenced(in refInputs) refSet {
	out := refSet{}
	grants := model.NewGrants(in.ReferenceGrants, in.RefuseGrant)
	add := func(fromKind, fromNamespace string, group gatewayv1.Group, kind gatewayv1.Kind, namespace *gatewayv1.Namespace, name gatewayv1.ObjectName) {
		if group != "" || (kind != kindSecret && kind != kindConfigMap) {
			return
		}
		ref := objectRef{Kind: string(kind), NamespacedName: types.NamespacedName{Namespace: fromNamespace, Name: string(name)}}
		if namespace != nil && *namespace != "" {
			ref.Namespace = string(*namespace)
		}
		if ok, _ := grants.Allows(model.Reference{
			FromGroup: gatewayv1.GroupName, FromKind: fromKind, FromNamespace: fromNamespace,
			ToKind: ref.Kind, ToNamespace: ref.Namespace, ToName: ref.Name,
		}); !ok {
			return
		}
		out[ref] = struct{}{}
	}
	certificate := func(fromKind, fromNamespace string, ref gatewayv1.SecretObjectReference) {
		if kind := deref(ref.Kind, kindSecret); kind == kindSecret { // certificates come only from Secrets
			add(fromKind, fromNamespace, deref(ref.Group, ""), kind, ref.Namespace, ref.Name)
		}
	}
	for _, gc := range in.GatewayClasses {
		// A class is cluster-scoped and set up by the cluster admin: no grant needed.
		if ref := gc.Spec.ParametersRef; ref != nil && ref.Group == "" && ref.Kind == kindConfigMap && ref.Namespace != nil {
			out[objectRef{Kind: kindConfigMap, NamespacedName: types.NamespacedName{Namespace: string(*ref.Namespace), Name: ref.Name}}] = struct{}{}
		}
	}
	ours := map[types.NamespacedName]bool{}
	for i := range in.Gateways {
		gw := &in.Gateways[i]
		ours[types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}] = true
		for _, l := range gw.Spec.Listeners {
			if l.TLS != nil {
				for _, ref := range l.TLS.CertificateRefs {
					certificate("Gateway", gw.Namespace, ref)
				}
			}
		}
		tls := gw.Spec.TLS
		if tls == nil {
			continue
		}
		if tls.Backend != nil && tls.Backend.ClientCertificateRef != nil {
			certificate("Gateway", gw.Namespace, *tls.Backend.ClientCertificateRef)
		}
		if tls.Frontend == nil {
			continue
		}
		validations := []*gatewayv1.FrontendTLSValidation{tls.Frontend.Default.Validation}
		for _, p := range tls.Frontend.PerPort {
			validations = append(validations, p.TLS.Validation)
		}
		for _, v := range validations {
			if v == nil {
				continue
			}
			for _, ref := range v.CACertificateRefs {
				add("Gateway", gw.Namespace, ref.Group, ref.Kind, ref.Namespace, ref.Name)
			}
		}
	}
	for i := range in.ListenerSets {
		ls := &in.ListenerSets[i]
		if parent, isGateway := model.ListenerSetParentKey(ls); !isGateway || !ours[parent] {
			continue
		}
		for _, l := range ls.Spec.Listeners {
			if l.TLS != nil {
				for _, ref := range l.TLS.CertificateRefs {
					certificate(kindListenerSet, ls.Namespace, ref)
				}
			}
		}
	}
	for i := range in.BackendTLSPolicies {
		p := &in.BackendTLSPolicies[i]
		for _, ref := range p.Spec.Validation.CACertificateRefs {
			add("BackendTLSPolicy", p.Namespace, ref.Group, ref.Kind, nil, ref.Name)
		}
	}
	return out
}

// kindListenerSet is the kind ReferenceGrants name for ListenerSets.
const kindListenerSet = "ListenerSet"

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
