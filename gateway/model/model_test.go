package model

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func namespace(name string, labels map[string]string) corev1.Namespace {
	return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func listener(name string, protocol gatewayv1.ProtocolType, host string, routes *gatewayv1.AllowedRoutes) gatewayv1.Listener {
	l := gatewayv1.Listener{Name: gatewayv1.SectionName(name), Port: 80, Protocol: protocol, AllowedRoutes: routes}
	if host != "" {
		l.Hostname = ptr.To(gatewayv1.Hostname(host))
	}
	return l
}

func gateway(ns, name string, listeners ...gatewayv1.Listener) gatewayv1.Gateway {
	return gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: gatewayv1.GatewaySpec{Listeners: listeners}}
}

func from(f gatewayv1.FromNamespaces, sel *metav1.LabelSelector) *gatewayv1.AllowedRoutes {
	return &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &f, Selector: sel}}
}

func TestListenerAdmission(t *testing.T) {
	team := &metav1.LabelSelector{MatchLabels: map[string]string{"team": "yes"}}
	grpc := gatewayv1.RouteGroupKind{Kind: KindGRPCRoute}
	tests := []struct {
		name     string
		listener gatewayv1.Listener
		kind     gatewayv1.Kind
		ns       string
		want     bool
		refusal  string
	}{
		{name: "default is Same", listener: listener("http", gatewayv1.HTTPProtocolType, "", nil), kind: KindHTTPRoute, ns: "infra", want: true},
		{name: "Same refuses others", listener: listener("http", gatewayv1.HTTPProtocolType, "", nil), kind: KindHTTPRoute, ns: "apples",
			refusal: "listener http admits only its own namespace infra, not apples"},
		{name: "All", listener: listener("http", gatewayv1.HTTPProtocolType, "", from(gatewayv1.NamespacesFromAll, nil)), kind: KindHTTPRoute, ns: "apples", want: true},
		{name: "Selector matches labels", listener: listener("http", gatewayv1.HTTPProtocolType, "", from(gatewayv1.NamespacesFromSelector, team)), kind: KindHTTPRoute, ns: "apples", want: true},
		{name: "Selector refuses others", listener: listener("http", gatewayv1.HTTPProtocolType, "", from(gatewayv1.NamespacesFromSelector, team)), kind: KindHTTPRoute, ns: "bananas",
			refusal: `listener http admits only namespaces matching "team=yes", not bananas`},
		{name: "Selector without selector admits nothing", listener: listener("http", gatewayv1.HTTPProtocolType, "", from(gatewayv1.NamespacesFromSelector, nil)), kind: KindHTTPRoute, ns: "apples",
			refusal: "listener http admits no namespace (its selector is invalid), not apples"},
		{name: "unknown namespace matches no selector", listener: listener("http", gatewayv1.HTTPProtocolType, "", from(gatewayv1.NamespacesFromSelector, &metav1.LabelSelector{})), kind: KindHTTPRoute, ns: "ghost",
			refusal: `listener http admits only namespaces matching "", not ghost`},
		{name: "kind by protocol", listener: listener("tls", gatewayv1.TLSProtocolType, "", nil), kind: KindHTTPRoute, ns: "infra",
			refusal: "listener tls does not allow HTTPRoutes"},
		{name: "TLSRoute on TLS", listener: listener("tls", gatewayv1.TLSProtocolType, "", nil), kind: KindTLSRoute, ns: "infra", want: true},
		{name: "listed kinds restrict", listener: listener("http", gatewayv1.HTTPProtocolType, "", &gatewayv1.AllowedRoutes{Kinds: []gatewayv1.RouteGroupKind{grpc}}), kind: KindHTTPRoute, ns: "infra",
			refusal: "listener http does not allow HTTPRoutes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(Inputs{
				Gateways:   []gatewayv1.Gateway{gateway("infra", "shared", tt.listener)},
				Namespaces: []corev1.Namespace{namespace("infra", nil), namespace("apples", map[string]string{"team": "yes"}), namespace("bananas", nil)},
			})
			l := m.Gateway(key("infra", "shared")).Listeners[0]
			labels := m.NamespaceLabels(tt.ns)
			if got := l.Admits(tt.kind, tt.ns, labels); got != tt.want {
				t.Errorf("Admits = %v, want %v", got, tt.want)
			}
			if got := l.Refusal(tt.kind, tt.ns, labels); got != tt.refusal {
				t.Errorf("Refusal = %q, want %q", got, tt.refusal)
			}
		})
	}
}

func TestInvalidKindsAreReported(t *testing.T) {
	l := NewListener(Owner{Kind: KindGateway}, key("infra", "shared"), ptr.To(listener("http", gatewayv1.HTTPProtocolType, "", &gatewayv1.AllowedRoutes{Kinds: []gatewayv1.RouteGroupKind{
		{Kind: KindHTTPRoute}, {Kind: KindTCPRoute}, {Kind: KindHTTPRoute}, {Group: ptr.To(gatewayv1.Group("example.com")), Kind: "Foo"},
	}})), SpecSupport)
	if len(l.Kinds) != 1 || l.Kinds[0].Kind != KindHTTPRoute {
		t.Errorf("Kinds = %v, want HTTPRoute once", l.Kinds)
	}
	if got := strings.Join(l.InvalidKinds, ","); got != "gateway.networking.k8s.io/TCPRoute,example.com/Foo" {
		t.Errorf("InvalidKinds = %s", got)
	}
}

func TestListenerSetsAttachByAllowedListenersAndAge(t *testing.T) {
	gw := gateway("infra", "shared", listener("http", gatewayv1.HTTPProtocolType, "", from(gatewayv1.NamespacesFromAll, nil)))
	gw.Spec.AllowedListeners = &gatewayv1.AllowedListeners{Namespaces: &gatewayv1.ListenerNamespaces{
		From: ptr.To(gatewayv1.NamespacesFromSelector), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "yes"}},
	}}
	set := func(ns, name string, age int) gatewayv1.ListenerSet {
		return gatewayv1.ListenerSet{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.Unix(int64(1000-age), 0)},
			Spec: gatewayv1.ListenerSetSpec{
				ParentRef: gatewayv1.ParentGatewayReference{Name: "shared", Namespace: ptr.To(gatewayv1.Namespace("infra"))},
				Listeners: []gatewayv1.ListenerEntry{{Name: "extra", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: ptr.To(gatewayv1.Hostname("Apples.Example.com"))}},
			},
		}
	}
	m := New(Inputs{
		Gateways:     []gatewayv1.Gateway{gw},
		ListenerSets: []gatewayv1.ListenerSet{set("apples", "young", 1), set("apples", "old", 5), set("bananas", "refused", 9)},
		Namespaces:   []corev1.Namespace{namespace("infra", nil), namespace("apples", map[string]string{"team": "yes"}), namespace("bananas", nil)},
	})
	g := m.Gateway(key("infra", "shared"))
	if len(g.Sets) != 2 || g.Sets[0].Key.Name != "old" || g.Sets[1].Key.Name != "young" || g.Sets[1].Precedence != 2 {
		t.Fatalf("admitted sets in precedence order: got %v", g.Sets)
	}
	if got := m.ListenerSet(key("bananas", "refused")).Refusal; got != `it allows only namespaces matching "team=yes"` {
		t.Errorf("refusal = %q", got)
	}
	if got := g.Sets[0].Listeners[0].Hostname; got != "apples.example.com" {
		t.Errorf("hostname not normalized: %q", got)
	}
	if n := len(g.AllListeners()); n != 3 {
		t.Errorf("AllListeners = %d, want 3", n)
	}
	// A route through the refused ListenerSet gets the reason, not a panic.
	p, ok := m.ParentRef(&gatewayv1.ParentReference{Kind: ptr.To(KindListenerSet), Name: "refused"}, "bananas")
	if !ok {
		t.Fatal("refused ListenerSet is not resolvable as a parent")
	}
	if _, why := m.Attach(Route{Kind: KindHTTPRoute, Namespace: "bananas"}, &gatewayv1.ParentReference{}, p); why == nil || why.Reason != string(gatewayv1.RouteReasonNoMatchingParent) {
		t.Errorf("Attach through a refused ListenerSet = %v", why)
	}
}

func TestAttachFindings(t *testing.T) {
	gw := gateway("infra", "shared",
		listener("a", gatewayv1.HTTPProtocolType, "*.apples.example.com", from(gatewayv1.NamespacesFromAll, nil)),
		listener("b", gatewayv1.HTTPProtocolType, "bananas.example.com", nil))
	m := New(Inputs{Gateways: []gatewayv1.Gateway{gw}, Namespaces: []corev1.Namespace{namespace("apples", nil)}})
	p, _ := m.ParentRef(&gatewayv1.ParentReference{Name: "shared", Namespace: ptr.To(gatewayv1.Namespace("infra"))}, "apples")
	tests := []struct {
		name      string
		ref       gatewayv1.ParentReference
		hostnames []gatewayv1.Hostname
		reason    string
		message   string
		attached  []string
	}{
		{name: "attached with the intersection", hostnames: []gatewayv1.Hostname{"shop.apples.example.com", "x.org"}, attached: []string{"a:shop.apples.example.com"}},
		{name: "no listener of that name", ref: gatewayv1.ParentReference{SectionName: ptr.To(gatewayv1.SectionName("c"))},
			reason: "NoMatchingParent", message: "Gateway infra/shared has no listener named c; fix the parentRef."},
		{name: "not admitted", ref: gatewayv1.ParentReference{SectionName: ptr.To(gatewayv1.SectionName("b"))},
			reason: "NotAllowedByListeners", message: "Gateway infra/shared does not admit this route: listener b admits only its own namespace infra, not apples; change the listener's allowedRoutes or the parentRef."},
		{name: "no hostname in common", hostnames: []gatewayv1.Hostname{"apples.example.com"},
			reason: "NoMatchingListenerHostname", message: "None of the route's hostnames matches a listener of Gateway infra/shared (a: *.apples.example.com); add a matching hostname."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := m.Attach(Route{Kind: KindHTTPRoute, Namespace: "apples", Hostnames: tt.hostnames}, &tt.ref, p)
			if tt.reason != "" {
				if why == nil || why.Reason != tt.reason || why.Message != tt.message {
					t.Fatalf("finding = %+v, want %s: %s", why, tt.reason, tt.message)
				}
				return
			}
			var names []string
			for _, a := range got {
				names = append(names, string(a.Listener.Spec.Name)+":"+strings.Join(a.Hostnames, ","))
			}
			if why != nil || strings.Join(names, " ") != strings.Join(tt.attached, " ") {
				t.Errorf("attached %v (%v), want %v", names, why, tt.attached)
			}
		})
	}
}

func TestGrants(t *testing.T) {
	grant := gatewayv1.ReferenceGrant{
		ObjectMeta: metav1.ObjectMeta{Namespace: "apples", Name: "g"},
		Spec: gatewayv1.ReferenceGrantSpec{
			From: []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: "infra"}},
			To:   []gatewayv1.ReferenceGrantTo{{Kind: "Service", Name: ptr.To(gatewayv1.ObjectName("echo"))}},
		},
	}
	ref := Reference{FromGroup: gatewayv1.GroupName, FromKind: "HTTPRoute", FromNamespace: "infra", ToKind: "Service", ToNamespace: "apples", ToName: "echo"}
	if ok, _ := NewGrants([]gatewayv1.ReferenceGrant{grant}, nil).Allows(ref); !ok {
		t.Error("grant does not allow its reference")
	}
	other := ref
	other.ToName = "db"
	if ok, _ := NewGrants([]gatewayv1.ReferenceGrant{grant}, nil).Allows(other); ok {
		t.Error("grant allows another name")
	}
	refuse := func(*gatewayv1.ReferenceGrant) string { return "it breaks tenant \"apples\" rules" }
	ok, why := NewGrants([]gatewayv1.ReferenceGrant{grant}, refuse).Allows(ref)
	if ok || why != `ReferenceGrant apples/g is ignored: it breaks tenant "apples" rules` {
		t.Errorf("ignored grant: ok=%v why=%q", ok, why)
	}
	same := ref
	same.FromNamespace = "apples"
	if ok, _ := NewGrants(nil, nil).Allows(same); !ok {
		t.Error("same-namespace reference needs no grant")
	}
}

func key(ns, name string) types.NamespacedName {
	return types.NamespacedName{Namespace: ns, Name: name}
}
