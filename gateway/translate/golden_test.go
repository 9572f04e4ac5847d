package translate

import (
	goldenfile "github.com/tenantgate/tenantgate/tests/golden"

	"bufio"
	"bytes"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/tenancy"
)

// Environment is a test-only object in NAME.in.yaml holding the Snapshot
// inputs that are not Kubernetes objects.
type Environment struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	// Addresses the controller assigned, by Gateway "namespace/name".
	Addresses     map[string]string `json:"addresses,omitempty"`
	AddressErrors map[string]string `json:"addressErrors,omitempty"`
	BindErrors    map[string]string `json:"bindErrors,omitempty"`
	// ReservedPorts are the data plane's own ports, and what holds them.
	ReservedPorts map[int32]string `json:"reservedPorts,omitempty"`
	// Listening, when present (even empty), lists the bound listeners.
	Listening *[]string `json:"listening,omitempty"`
	// Violations feed a fake TenantPolicy, by HTTPRoute "namespace/name".
	Violations map[string][]string `json:"violations,omitempty"`
	// ListenerViolations refuse listeners of Gateways and ListenerSets, by
	// "namespace/name/listener" of the object declaring them.
	ListenerViolations map[string][]string `json:"listenerViolations,omitempty"`
	// GrantViolations refuse ReferenceGrants, by "namespace/name".
	GrantViolations map[string][]string `json:"grantViolations,omitempty"`
	// SupportedFeatures replaces DefaultSupportedFeatures when set.
	SupportedFeatures []gatewayv1.FeatureName `json:"supportedFeatures,omitempty"`
}

func (e *Environment) DeepCopyObject() runtime.Object {
	c := *e
	e.ObjectMeta.DeepCopyInto(&c.ObjectMeta)
	c.Addresses, c.AddressErrors, c.BindErrors = maps.Clone(e.Addresses), maps.Clone(e.AddressErrors), maps.Clone(e.BindErrors)
	c.ReservedPorts = maps.Clone(e.ReservedPorts)
	if e.Listening != nil {
		l := slices.Clone(*e.Listening)
		c.Listening = &l
	}
	c.Violations = maps.Clone(e.Violations)
	c.ListenerViolations, c.GrantViolations = maps.Clone(e.ListenerViolations), maps.Clone(e.GrantViolations)
	c.SupportedFeatures = slices.Clone(e.SupportedFeatures)
	return &c
}

// fakePolicy refuses the routes, listeners and grants an Environment lists.
type fakePolicy struct{ Routes, Listeners, Grants map[string][]string }

func (p fakePolicy) RouteViolations(r *gatewayv1.HTTPRoute) []string {
	return p.Routes[r.Namespace+"/"+r.Name]
}

func (p fakePolicy) GRPCRouteViolations(r *gatewayv1.GRPCRoute) []string {
	return p.Routes["GRPCRoute "+r.Namespace+"/"+r.Name]
}

func (p fakePolicy) TLSRouteViolations(r *gatewayv1.TLSRoute) []string {
	return p.Routes[r.Namespace+"/"+r.Name]
}

func (p fakePolicy) GatewayViolations(gw *gatewayv1.Gateway) tenancy.ListenerViolations {
	return p.listenersOf(gw.Namespace, gw.Name)
}

func (p fakePolicy) ListenerSetViolations(ls *gatewayv1.ListenerSet) tenancy.ListenerViolations {
	return p.listenersOf(ls.Namespace, ls.Name)
}

func (p fakePolicy) listenersOf(ns, name string) tenancy.ListenerViolations {
	out := tenancy.ListenerViolations{Listeners: map[gatewayv1.SectionName][]string{}}
	for k, v := range p.Listeners {
		if owner, listener, ok := strings.Cut(k, "/"+name+"/"); ok && owner == ns {
			out.Listeners[gatewayv1.SectionName(listener)] = v
		}
	}
	return out
}

func (p fakePolicy) GrantViolations(g *gatewayv1.ReferenceGrant) []string {
	return p.Grants[g.Namespace+"/"+g.Name]
}

// goldenNow is the snapshot time of every golden test.
var goldenNow = metav1.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func testScheme(t testing.TB) *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, discoveryv1.AddToScheme, gatewayv1.Install} {
		if err := add(s); err != nil {
			t.Fatal(err)
		}
	}
	s.AddKnownTypes(schema.GroupVersion{Group: "test.tenantgate.dev", Version: "v1"}, &Environment{})
	return s
}

// loadSnapshot decodes a multi-document YAML file into a Snapshot.
func loadSnapshot(t testing.TB, path string) *Snapshot {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objects, err := decodeObjects(testScheme(t), data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	s := &Snapshot{ControllerName: ControllerName, Now: goldenNow}
	for _, obj := range objects {
		addObject(t, s, obj)
	}
	return s
}

// decodeObjects decodes YAML documents strictly: an unknown or duplicated
// field is an error.
func decodeObjects(scheme *runtime.Scheme, data []byte) ([]runtime.Object, error) {
	decoder := serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objects []runtime.Object
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objects, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, _, err := decoder.Decode(doc, nil, nil)
		if err != nil {
			return nil, err
		}
		objects = append(objects, obj)
	}
}

func addObject(t testing.TB, s *Snapshot, obj runtime.Object) {
	switch o := obj.(type) {
	case *gatewayv1.GatewayClass:
		s.GatewayClasses = append(s.GatewayClasses, *o)
	case *gatewayv1.Gateway:
		s.Gateways = append(s.Gateways, *o)
	case *gatewayv1.ListenerSet:
		s.ListenerSets = append(s.ListenerSets, *o)
	case *gatewayv1.HTTPRoute:
		s.HTTPRoutes = append(s.HTTPRoutes, o)
	case *gatewayv1.GRPCRoute:
		s.GRPCRoutes = append(s.GRPCRoutes, o)
	case *gatewayv1.TLSRoute:
		s.TLSRoutes = append(s.TLSRoutes, *o)
	case *gatewayv1.ReferenceGrant:
		s.ReferenceGrants = append(s.ReferenceGrants, *o)
	case *gatewayv1.BackendTLSPolicy:
		s.BackendTLSPolicies = append(s.BackendTLSPolicies, *o)
	case *corev1.Service:
		s.Services = append(s.Services, *o)
	case *discoveryv1.EndpointSlice:
		s.EndpointSlices = append(s.EndpointSlices, *o)
	case *corev1.Secret:
		s.Secrets = append(s.Secrets, *o)
	case *corev1.ConfigMap:
		s.ConfigMaps = append(s.ConfigMaps, *o)
	case *corev1.Namespace:
		s.Namespaces = append(s.Namespaces, *o)
	case *Environment:
		s.Addresses = make(map[types.NamespacedName]string)
		for k, v := range o.Addresses {
			s.Addresses[splitKey(k)] = v
		}
		s.AddressErrors = make(map[types.NamespacedName]string)
		for k, v := range o.AddressErrors {
			s.AddressErrors[splitKey(k)] = v
		}
		s.BindErrors = o.BindErrors
		s.ReservedPorts = o.ReservedPorts
		if o.Listening != nil {
			s.Listening = make(map[string]bool)
			for _, name := range *o.Listening {
				s.Listening[name] = true
			}
		}
		if o.Violations != nil || o.ListenerViolations != nil || o.GrantViolations != nil {
			s.Policy = fakePolicy{Routes: o.Violations, Listeners: o.ListenerViolations, Grants: o.GrantViolations}
		}
		for _, f := range o.SupportedFeatures {
			s.SupportedFeatures = append(s.SupportedFeatures, gatewayv1.SupportedFeature{Name: f})
		}
	default:
		t.Fatalf("unexpected object %T", obj)
	}
}

func splitKey(k string) types.NamespacedName {
	ns, name, _ := strings.Cut(k, "/")
	return types.NamespacedName{Namespace: ns, Name: name}
}

// defaultFeaturesMarker stands in golden files for a supportedFeatures list
// equal to DefaultSupportedFeatures(), which would otherwise repeat in each.
const defaultFeaturesMarker = "(DefaultSupportedFeatures)"

// golden is the shape of NAME.out.yaml: maps keyed "namespace/name" so the
// file is sorted and readable.
type golden struct {
	Config         routetable.Config                       `json:"config"`
	GatewayClasses map[string]gatewayv1.GatewayClassStatus `json:"gatewayClasses,omitempty"`
	Gateways       map[string]gatewayv1.GatewayStatus      `json:"gateways,omitempty"`
	HTTPRoutes     map[string]gatewayv1.HTTPRouteStatus    `json:"httpRoutes,omitempty"`
	GRPCRoutes     map[string]gatewayv1.GRPCRouteStatus    `json:"grpcRoutes,omitempty"`
	TLSRoutes      map[string]gatewayv1.TLSRouteStatus     `json:"tlsRoutes,omitempty"`
	Policies       map[string]gatewayv1.PolicyStatus       `json:"backendTLSPolicies,omitempty"`
	ListenerSets   map[string]gatewayv1.ListenerSetStatus  `json:"listenerSets,omitempty"`
}

func goldenOf(r Result) golden {
	g := golden{
		Config:         r.Config,
		GatewayClasses: make(map[string]gatewayv1.GatewayClassStatus),
		Gateways:       make(map[string]gatewayv1.GatewayStatus),
		HTTPRoutes:     make(map[string]gatewayv1.HTTPRouteStatus),
		GRPCRoutes:     make(map[string]gatewayv1.GRPCRouteStatus),
		TLSRoutes:      make(map[string]gatewayv1.TLSRouteStatus),
		Policies:       make(map[string]gatewayv1.PolicyStatus),
		ListenerSets:   make(map[string]gatewayv1.ListenerSetStatus),
	}
	for k, v := range r.GatewayClasses {
		if slices.Equal(v.SupportedFeatures, DefaultSupportedFeatures()) {
			v.SupportedFeatures = []gatewayv1.SupportedFeature{{Name: defaultFeaturesMarker}}
		}
		g.GatewayClasses[k.Name] = v
	}
	for k, v := range r.Gateways {
		g.Gateways[k.String()] = v
	}
	for k, v := range r.HTTPRoutes.All() {
		g.HTTPRoutes[k.String()] = v
	}
	for k, v := range r.GRPCRoutes {
		g.GRPCRoutes[k.String()] = v
	}
	for k, v := range r.TLSRoutes {
		g.TLSRoutes[k.String()] = v
	}
	for k, v := range r.BackendTLSPolicies {
		g.Policies[k.String()] = v
	}
	for k, v := range r.ListenerSets {
		g.ListenerSets[k.String()] = v
	}
	return g
}

// TestGolden runs Build on every testdata/NAME.in.yaml and compares the
// result with NAME.out.yaml.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			s := loadSnapshot(t, in)
			before := loadSnapshot(t, in)
			result := Build(s)
			if !equality.Semantic.DeepEqual(s, before) {
				t.Fatal("Build modified its snapshot")
			}
			checkConditions(t, result)
			if _, faults := routetable.Compile(result.Config); len(faults) > 0 {
				t.Errorf("the data plane refuses part of Build's Config: %v", faults.Err())
			}
			got, err := yaml.Marshal(goldenOf(result))
			if err != nil {
				t.Fatal(err)
			}
			again, _ := yaml.Marshal(goldenOf(Build(s)))
			if !bytes.Equal(got, again) {
				t.Fatal("Build is not deterministic: two runs on one snapshot differ")
			}
			goldenfile.Check(t, strings.TrimSuffix(in, ".in.yaml")+".out.yaml", got)
		})
	}
}

// checkConditions asserts what the API server would: conditions are valid
// metav1 conditions, stamped with the snapshot time.
func checkConditions(t *testing.T, r Result) {
	t.Helper()
	check := func(where string, conds []metav1.Condition) {
		if errs := metav1validation.ValidateConditions(conds, field.NewPath(where)); len(errs) > 0 {
			t.Errorf("%s: invalid conditions: %v", where, errs.ToAggregate())
		}
		for _, c := range conds {
			if !c.LastTransitionTime.Equal(&goldenNow) {
				t.Errorf("%s: condition %s has LastTransitionTime %v, want the snapshot's %v", where, c.Type, c.LastTransitionTime, goldenNow)
			}
		}
	}
	for k, s := range r.GatewayClasses {
		check(k.String(), s.Conditions)
	}
	for k, s := range r.Gateways {
		check(k.String(), s.Conditions)
		for _, l := range s.Listeners {
			check(k.String()+"/"+string(l.Name), l.Conditions)
		}
	}
	// Route conditions carry no time; the status writer's merge stamps them.
	route := func(where string, st gatewayv1.RouteStatus) {
		for _, p := range st.Parents {
			for _, c := range p.Conditions {
				if !c.LastTransitionTime.IsZero() {
					t.Errorf("%s: route condition %s has LastTransitionTime %v, want none (MergeRouteStatus stamps it)", where, c.Type, c.LastTransitionTime)
				}
			}
		}
		for _, p := range MergeRouteStatus(gatewayv1.HTTPRouteStatus{}, gatewayv1.HTTPRouteStatus{RouteStatus: st}, ControllerName, goldenNow).Parents {
			check(where+" merged", p.Conditions)
		}
	}
	for k, s := range r.HTTPRoutes.All() {
		route(k.String(), s.RouteStatus)
	}
	for k, s := range r.GRPCRoutes {
		route(k.String(), s.RouteStatus)
	}
	for k, s := range r.TLSRoutes {
		route(k.String(), s.RouteStatus)
	}
	for k, s := range r.ListenerSets {
		check(k.String(), s.Conditions)
		for _, l := range s.Listeners {
			check(k.String()+"/"+string(l.Name), l.Conditions)
		}
	}
	for k, s := range r.BackendTLSPolicies {
		for _, a := range s.Ancestors {
			check(k.String(), a.Conditions)
		}
	}
}
