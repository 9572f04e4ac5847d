package controller

import (
	"cmp"
	"maps"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func secret(ns, name string) objectRef {
	return objectRef{Kind: kindSecret, NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}
}

func configMap(ns, name string) objectRef {
	return objectRef{Kind: kindConfigMap, NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}
}

func certRef(name string, opts ...func(*gatewayv1.SecretObjectReference)) gatewayv1.SecretObjectReference {
	r := gatewayv1.SecretObjectReference{Name: gatewayv1.ObjectName(name)}
	for _, o := range opts {
		o(&r)
	}
	return r
}

func inNamespace(ns string) func(*gatewayv1.SecretObjectReference) {
	return func(r *gatewayv1.SecretObjectReference) { r.Namespace = ptr.To(gatewayv1.Namespace(ns)) }
}

func ofKind(group, kind string) func(*gatewayv1.SecretObjectReference) {
	return func(r *gatewayv1.SecretObjectReference) {
		r.Group, r.Kind = ptr.To(gatewayv1.Group(group)), ptr.To(gatewayv1.Kind(kind))
	}
}

func httpsGateway(ns, name string, refs ...gatewayv1.SecretObjectReference) gatewayv1.Gateway {
	return gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gatewayv1.GatewaySpec{Listeners: []gatewayv1.Listener{
			{Name: "http", Protocol: gatewayv1.HTTPProtocolType, Port: 80},
			{Name: "https", Protocol: gatewayv1.HTTPSProtocolType, Port: 443, TLS: &gatewayv1.ListenerTLSConfig{CertificateRefs: refs}},
		}},
	}
}

func caRef(kind, ns, name string) gatewayv1.ObjectReference {
	r := gatewayv1.ObjectReference{Kind: gatewayv1.Kind(kind), Name: gatewayv1.ObjectName(name)}
	if ns != "" {
		r.Namespace = ptr.To(gatewayv1.Namespace(ns))
	}
	return r
}

func withFrontendCAs(gw gatewayv1.Gateway, def []gatewayv1.ObjectReference, perPort ...[]gatewayv1.ObjectReference) gatewayv1.Gateway {
	f := &gatewayv1.FrontendTLSConfig{Default: gatewayv1.TLSConfig{Validation: &gatewayv1.FrontendTLSValidation{CACertificateRefs: def}}}
	for i, refs := range perPort {
		f.PerPort = append(f.PerPort, gatewayv1.TLSPortConfig{Port: gatewayv1.PortNumber(8443 + i),
			TLS: gatewayv1.TLSConfig{Validation: &gatewayv1.FrontendTLSValidation{CACertificateRefs: refs}}})
	}
	gw.Spec.TLS = &gatewayv1.GatewayTLSConfig{Frontend: f}
	return gw
}

func listenerSet(ns, name, parentNS, parent string, refs ...gatewayv1.SecretObjectReference) gatewayv1.ListenerSet {
	ls := gatewayv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	ls.Spec.ParentRef = gatewayv1.ParentGatewayReference{Name: gatewayv1.ObjectName(parent)}
	if parentNS != "" {
		ls.Spec.ParentRef.Namespace = ptr.To(gatewayv1.Namespace(parentNS))
	}
	ls.Spec.Listeners = []gatewayv1.ListenerEntry{{Name: "https", Protocol: gatewayv1.HTTPSProtocolType, Port: 443,
		TLS: &gatewayv1.ListenerTLSConfig{CertificateRefs: refs}}}
	return ls
}

func backendTLSPolicy(ns, name string, refs ...gatewayv1.LocalObjectReference) gatewayv1.BackendTLSPolicy {
	p := gatewayv1.BackendTLSPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	p.Spec.Validation.CACertificateRefs = refs
	return p
}

func refGrant(ns, fromKind, fromNS, toKind string, toName string) gatewayv1.ReferenceGrant {
	g := gatewayv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "g"}}
	g.Spec.From = []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: gatewayv1.Kind(fromKind), Namespace: gatewayv1.Namespace(fromNS)}}
	to := gatewayv1.ReferenceGrantTo{Kind: gatewayv1.Kind(toKind)}
	if toName != "" {
		to.Name = ptr.To(gatewayv1.ObjectName(toName))
	}
	g.Spec.To = []gatewayv1.ReferenceGrantTo{to}
	return g
}

func TestReferenced(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   refInputs
		want []objectRef
	}{
		{"nothing references anything", refInputs{Gateways: []gatewayv1.Gateway{httpsGateway("infra", "gw")}}, nil},
		{"listener certificates default to Secrets in the Gateway's namespace",
			refInputs{Gateways: []gatewayv1.Gateway{httpsGateway("infra", "gw", certRef("a"), certRef("b", ofKind("", "Secret")))}},
			[]objectRef{secret("infra", "a"), secret("infra", "b")}},
		{"a certificate in another group or kind is never fetched",
			refInputs{Gateways: []gatewayv1.Gateway{httpsGateway("infra", "gw", certRef("a", ofKind("example.com", "Secret")), certRef("b", ofKind("", "ConfigMap")))}},
			nil},
		{"a certificate in another namespace without a grant is not fetched",
			refInputs{Gateways: []gatewayv1.Gateway{httpsGateway("infra", "gw", certRef("kube-root", inNamespace("kube-system")))}},
			nil},
		{"a certificate in another namespace with a grant for that name is fetched",
			refInputs{
				Gateways:        []gatewayv1.Gateway{httpsGateway("infra", "gw", certRef("c", inNamespace("certs")), certRef("d", inNamespace("certs")))},
				ReferenceGrants: []gatewayv1.ReferenceGrant{refGrant("certs", "Gateway", "infra", "Secret", "c")},
			},
			[]objectRef{secret("certs", "c")}},
		{"a grant to every Secret, but from another namespace, does not count",
			refInputs{
				Gateways:        []gatewayv1.Gateway{httpsGateway("infra", "gw", certRef("c", inNamespace("certs")))},
				ReferenceGrants: []gatewayv1.ReferenceGrant{refGrant("certs", "Gateway", "apples", "Secret", "")},
			},
			nil},
		{"frontend CA references, default and per port, ConfigMap or Secret",
			refInputs{Gateways: []gatewayv1.Gateway{withFrontendCAs(httpsGateway("infra", "gw"),
				[]gatewayv1.ObjectReference{caRef("ConfigMap", "", "ca-default")},
				[]gatewayv1.ObjectReference{caRef("Secret", "", "ca-8443"), caRef("Service", "", "not-a-ca")},
				[]gatewayv1.ObjectReference{caRef("ConfigMap", "other", "ca-other")})}},
			[]objectRef{configMap("infra", "ca-default"), secret("infra", "ca-8443")}},
		{"backend client certificate",
			refInputs{Gateways: []gatewayv1.Gateway{func() gatewayv1.Gateway {
				gw := httpsGateway("infra", "gw")
				gw.Spec.TLS = &gatewayv1.GatewayTLSConfig{Backend: &gatewayv1.GatewayBackendTLS{ClientCertificateRef: ptr.To(certRef("client"))}}
				return gw
			}()}},
			[]objectRef{secret("infra", "client")}},
		{"ListenerSet certificates, only when its parent is one of our Gateways",
			refInputs{
				Gateways: []gatewayv1.Gateway{httpsGateway("infra", "gw")},
				ListenerSets: []gatewayv1.ListenerSet{
					listenerSet("apples", "mine", "infra", "gw", certRef("apple-cert")),
					listenerSet("apples", "elsewhere", "infra", "not-ours", certRef("stray")),
					listenerSet("infra", "same-ns", "", "gw", certRef("infra-cert")),
				},
			},
			[]objectRef{secret("apples", "apple-cert"), secret("infra", "infra-cert")}},
		{"a ListenerSet's cross-namespace certificate needs a grant from ListenerSets",
			refInputs{
				Gateways:     []gatewayv1.Gateway{httpsGateway("infra", "gw")},
				ListenerSets: []gatewayv1.ListenerSet{listenerSet("apples", "mine", "infra", "gw", certRef("shared", inNamespace("certs")))},
				ReferenceGrants: []gatewayv1.ReferenceGrant{
					refGrant("certs", "Gateway", "apples", "Secret", ""),
				},
			},
			nil},
		{"BackendTLSPolicy CA references are local",
			refInputs{BackendTLSPolicies: []gatewayv1.BackendTLSPolicy{backendTLSPolicy("bananas", "p",
				gatewayv1.LocalObjectReference{Kind: "ConfigMap", Name: "ca"},
				gatewayv1.LocalObjectReference{Kind: "Secret", Name: "ca-secret"},
				gatewayv1.LocalObjectReference{Group: "example.com", Kind: "ConfigMap", Name: "elsewhere"})}},
			[]objectRef{configMap("bananas", "ca"), secret("bananas", "ca-secret")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.SortedFunc(maps.Keys(referenced(tc.in)), compareRefs)
			want := slices.SortedFunc(slices.Values(tc.want), compareRefs)
			if !slices.Equal(got, want) {
				t.Errorf("referenced = %v, want %v", got, want)
			}
		})
	}
}

func compareRefs(a, b objectRef) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.String(), b.String()))
}
