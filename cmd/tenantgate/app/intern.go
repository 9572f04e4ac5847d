package app

import (
	"sync"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The cache decodes every route into its own strings and its own small
// allocations behind each optional field, though most of them repeat: a
// route's parentRef group, kind, namespace and section, its backends' group,
// kind, namespace, port and weight, its path type, its status conditions.
// At 20,000 routes that is megabytes of equal copies. The transform makes
// equal values share one copy: strings through unique, optional fields
// through a bounded table of pointers. Cached objects are never written (a
// client reading the cache gets a deep copy), so sharing is safe.

// sharedPointersMax bounds each pointer table: a value past it keeps its own
// copy, so a cluster of unique paths cannot grow the table without end.
const sharedPointersMax = 4096

// pointers hands out one pointer per distinct value of T.
type pointers[T comparable] struct {
	mu sync.Mutex
	m  map[T]*T
}

func (t *pointers[T]) share(p *T) *T {
	if p == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if q, ok := t.m[*p]; ok {
		return q
	}
	if t.m == nil {
		t.m = map[T]*T{}
	}
	if len(t.m) < sharedPointersMax {
		t.m[*p] = p
	}
	return p
}

// interner holds the pointer tables of one cache.
type interner struct {
	groups     pointers[gatewayv1.Group]
	kinds      pointers[gatewayv1.Kind]
	namespaces pointers[gatewayv1.Namespace]
	sections   pointers[gatewayv1.SectionName]
	ports      pointers[gatewayv1.PortNumber]
	weights    pointers[int32]
	pathTypes  pointers[gatewayv1.PathMatchType]
	headTypes  pointers[gatewayv1.HeaderMatchType]
	queryTypes pointers[gatewayv1.QueryParamMatchType]
	methods    pointers[gatewayv1.HTTPMethod]
	grpcTypes  pointers[gatewayv1.GRPCMethodMatchType]
	grpcHeads  pointers[gatewayv1.GRPCHeaderMatchType]
	strs       pointers[string] // path values, gRPC services and methods
}

// str is s's canonical copy.
func str[S ~string](s S) S {
	if s == "" {
		return s
	}
	return S(unique.Make(string(s)).Value())
}

// object shares what repeats in obj, a route kind or any other object's
// metadata. It returns obj, changed in place.
func (in *interner) object(obj any) any {
	switch o := obj.(type) {
	case *gatewayv1.HTTPRoute:
		in.meta(&o.ObjectMeta)
		in.common(&o.Spec.CommonRouteSpec)
		for i := range o.Spec.Rules {
			in.httpRule(&o.Spec.Rules[i])
		}
		in.status(&o.Status.RouteStatus)
	case *gatewayv1.GRPCRoute:
		in.meta(&o.ObjectMeta)
		in.common(&o.Spec.CommonRouteSpec)
		for i := range o.Spec.Rules {
			in.grpcRule(&o.Spec.Rules[i])
		}
		in.status(&o.Status.RouteStatus)
	case *gatewayv1.TLSRoute:
		in.meta(&o.ObjectMeta)
		in.common(&o.Spec.CommonRouteSpec)
		for i := range o.Spec.Rules {
			r := &o.Spec.Rules[i]
			r.Name = in.sections.share(r.Name)
			for j := range r.BackendRefs {
				in.backend(&r.BackendRefs[j])
			}
		}
		in.status(&o.Status.RouteStatus)
	case metav1.Object:
		in.metaOf(o)
	}
	return obj
}

// meta shares the namespace and labels: names and UIDs are unique.
func (in *interner) meta(m *metav1.ObjectMeta) {
	m.Namespace = str(m.Namespace)
	for k, v := range m.Labels {
		m.Labels[str(k)] = str(v) // an equal key: the map takes the shared key and value
	}
}

func (in *interner) metaOf(o metav1.Object) {
	o.SetNamespace(str(o.GetNamespace()))
	labels := o.GetLabels()
	for k, v := range labels {
		labels[str(k)] = str(v)
	}
}

func (in *interner) common(c *gatewayv1.CommonRouteSpec) {
	for i := range c.ParentRefs {
		in.parent(&c.ParentRefs[i])
	}
}

func (in *interner) parent(p *gatewayv1.ParentReference) {
	p.Group = in.groups.share(p.Group)
	p.Kind = in.kinds.share(p.Kind)
	p.Namespace = in.namespaces.share(p.Namespace)
	p.Name = str(p.Name)
	p.SectionName = in.sections.share(p.SectionName)
	p.Port = in.ports.share(p.Port)
}

func (in *interner) backend(b *gatewayv1.BackendRef) {
	b.Group = in.groups.share(b.Group)
	b.Kind = in.kinds.share(b.Kind)
	b.Namespace = in.namespaces.share(b.Namespace)
	b.Name = str(b.Name)
	b.Port = in.ports.share(b.Port)
	b.Weight = in.weights.share(b.Weight)
}

func (in *interner) httpRule(r *gatewayv1.HTTPRouteRule) {
	r.Name = in.sections.share(r.Name)
	for i := range r.Matches {
		m := &r.Matches[i]
		if m.Path != nil {
			m.Path.Type = in.pathTypes.share(m.Path.Type)
			m.Path.Value = in.strs.share(m.Path.Value)
		}
		for j := range m.Headers {
			m.Headers[j].Type = in.headTypes.share(m.Headers[j].Type)
			m.Headers[j].Name = str(m.Headers[j].Name)
		}
		for j := range m.QueryParams {
			m.QueryParams[j].Type = in.queryTypes.share(m.QueryParams[j].Type)
			m.QueryParams[j].Name = str(m.QueryParams[j].Name)
		}
		m.Method = in.methods.share(m.Method)
	}
	for i := range r.Filters {
		r.Filters[i].Type = str(r.Filters[i].Type)
	}
	for i := range r.BackendRefs {
		in.backend(&r.BackendRefs[i].BackendRef)
		for j := range r.BackendRefs[i].Filters {
			r.BackendRefs[i].Filters[j].Type = str(r.BackendRefs[i].Filters[j].Type)
		}
	}
}

func (in *interner) grpcRule(r *gatewayv1.GRPCRouteRule) {
	r.Name = in.sections.share(r.Name)
	for i := range r.Matches {
		m := &r.Matches[i]
		if m.Method != nil {
			m.Method.Type = in.grpcTypes.share(m.Method.Type)
			m.Method.Service = in.strs.share(m.Method.Service)
			m.Method.Method = in.strs.share(m.Method.Method)
		}
		for j := range m.Headers {
			m.Headers[j].Type = in.grpcHeads.share(m.Headers[j].Type)
			m.Headers[j].Name = str(m.Headers[j].Name)
		}
	}
	for i := range r.Filters {
		r.Filters[i].Type = str(r.Filters[i].Type)
	}
	for i := range r.BackendRefs {
		in.backend(&r.BackendRefs[i].BackendRef)
		for j := range r.BackendRefs[i].Filters {
			r.BackendRefs[i].Filters[j].Type = str(r.BackendRefs[i].Filters[j].Type)
		}
	}
}

// status shares every parent's reference, controller and conditions: the
// conditions of routes with the same outcome are the same words.
func (in *interner) status(s *gatewayv1.RouteStatus) {
	for i := range s.Parents {
		p := &s.Parents[i]
		in.parent(&p.ParentRef)
		p.ControllerName = str(p.ControllerName)
		for j := range p.Conditions {
			c := &p.Conditions[j]
			c.Type, c.Status, c.Reason, c.Message = str(c.Type), str(c.Status), str(c.Reason), str(c.Message)
		}
	}
}
