package webhook

import (
	"context"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// Validator checks objects of one kind against the tenant policy. Creates
// and updates are checked; deletes are always allowed. An update that leaves
// the spec unchanged is admitted even when the object already violates the
// policy (with the violations as warnings), so labels and finalizers of
// objects created before the policy can still change and they can be
// deleted; the gateway still refuses to program them.
type Validator[T client.Object] struct {
	kind    schema.GroupKind
	source  tenancy.Source
	metrics *Metrics
	check   func(*tenancy.Policy, T) tenancy.Verdict
	spec    func(T) any
	// tenant names the tenant a decision is counted under; the owner of
	// the object's namespace when nil.
	tenant func(*tenancy.Policy, T) string
}

// NewHTTPRouteValidator checks HTTPRoutes (v1).
func NewHTTPRouteValidator(src tenancy.Source, m *Metrics) *Validator[*gatewayv1.HTTPRoute] {
	return &Validator[*gatewayv1.HTTPRoute]{
		kind: schema.GroupKind{Group: gatewayv1.GroupName, Kind: "HTTPRoute"}, source: src, metrics: m,
		check: (*tenancy.Policy).CheckHTTPRoute,
		spec:  func(r *gatewayv1.HTTPRoute) any { return &r.Spec },
	}
}

// NewGRPCRouteValidator checks GRPCRoutes (v1).
func NewGRPCRouteValidator(src tenancy.Source, m *Metrics) *Validator[*gatewayv1.GRPCRoute] {
	return &Validator[*gatewayv1.GRPCRoute]{
		kind: schema.GroupKind{Group: gatewayv1.GroupName, Kind: "GRPCRoute"}, source: src, metrics: m,
		check: (*tenancy.Policy).CheckGRPCRoute,
		spec:  func(r *gatewayv1.GRPCRoute) any { return &r.Spec },
	}
}

// NewTLSRouteValidator checks TLSRoutes (v1; the API server converts
// v1alpha2 and v1alpha3 where the experimental channel serves them).
func NewTLSRouteValidator(src tenancy.Source, m *Metrics) *Validator[*gatewayv1.TLSRoute] {
	return &Validator[*gatewayv1.TLSRoute]{
		kind: schema.GroupKind{Group: gatewayv1.GroupName, Kind: "TLSRoute"}, source: src, metrics: m,
		check: (*tenancy.Policy).CheckTLSRoute,
		spec:  func(r *gatewayv1.TLSRoute) any { return &r.Spec },
	}
}

// NewTCPRouteValidator checks TCPRoutes (v1).
func NewTCPRouteValidator(src tenancy.Source, m *Metrics) *Validator[*gatewayv1.TCPRoute] {
	return &Validator[*gatewayv1.TCPRoute]{
		kind: schema.GroupKind{Group: gatewayv1.GroupName, Kind: "TCPRoute"}, source: src, metrics: m,
		check: (*tenancy.Policy).CheckTCPRoute,
		spec:  func(r *gatewayv1.TCPRoute) any { return &r.Spec },
	}
}

// NewUDPRouteValidator checks UDPRoutes (v1).
func NewUDPRouteValidator(src tenancy.Source, m *Metrics) *Validator[*gatewayv1.UDPRoute] {
	return &Validator[*gatewayv1.UDPRoute]{
		kind: schema.GroupKind{Group: gatewayv1.GroupName, Kind: "UDPRoute"}, source: src, metrics: m,
		check: (*tenancy.Policy).CheckUDPRoute,
		spec:  func(r *gatewayv1.UDPRoute) any { return &r.Spec },
	}
}

// NewListenerSetValidator checks ListenerSets (v1).
func NewListenerSetValidator(src tenancy.Source, m *Metrics) *Validator[*gatewayv1.ListenerSet] {
	return &Validator[*gatewayv1.ListenerSet]{
		kind: schema.GroupKind{Group: gatewayv1.GroupName, Kind: "ListenerSet"}, source: src, metrics: m,
		check: (*tenancy.Policy).CheckListenerSet,
		spec:  func(ls *gatewayv1.ListenerSet) any { return &ls.Spec },
	}
}

// NewGatewayValidator checks Gateways (v1; v1beta1 is converted).
func NewGatewayValidator(src tenancy.Source, m *Metrics) *Validator[*gatewayv1.Gateway] {
	return &Validator[*gatewayv1.Gateway]{
		kind: schema.GroupKind{Group: gatewayv1.GroupName, Kind: "Gateway"}, source: src, metrics: m,
		check: (*tenancy.Policy).CheckGateway,
		spec:  func(gw *gatewayv1.Gateway) any { return &gw.Spec },
	}
}

// NewNamespaceValidator checks namespace label changes: into two tenants
// is refused, into a tenant whose rules its objects break is warned about.
// Its "spec" is the labels, so other updates are never refused.
func NewNamespaceValidator(src tenancy.Source, m *Metrics) *Validator[*corev1.Namespace] {
	return &Validator[*corev1.Namespace]{
		kind: schema.GroupKind{Kind: "Namespace"}, source: src, metrics: m,
		check:  (*tenancy.Policy).CheckNamespace,
		spec:   func(ns *corev1.Namespace) any { return ns.Labels },
		tenant: func(p *tenancy.Policy, ns *corev1.Namespace) string { return p.TenantOf(ns.Name) },
	}
}

// NewReferenceGrantValidator checks ReferenceGrants (v1).
func NewReferenceGrantValidator(src tenancy.Source, m *Metrics) *Validator[*gatewayv1.ReferenceGrant] {
	return &Validator[*gatewayv1.ReferenceGrant]{
		kind: schema.GroupKind{Group: gatewayv1.GroupName, Kind: "ReferenceGrant"}, source: src, metrics: m,
		check: (*tenancy.Policy).CheckReferenceGrant,
		spec:  func(g *gatewayv1.ReferenceGrant) any { return &g.Spec },
	}
}

// NewReferenceGrantV1beta1Validator checks ReferenceGrants (v1beta1), which
// have the same schema as v1.
func NewReferenceGrantV1beta1Validator(src tenancy.Source, m *Metrics) *Validator[*gatewayv1beta1.ReferenceGrant] {
	return &Validator[*gatewayv1beta1.ReferenceGrant]{
		kind: schema.GroupKind{Group: gatewayv1.GroupName, Kind: "ReferenceGrant"}, source: src, metrics: m,
		check: func(p *tenancy.Policy, g *gatewayv1beta1.ReferenceGrant) tenancy.Verdict {
			return p.CheckReferenceGrant((*gatewayv1.ReferenceGrant)(g))
		},
		spec: func(g *gatewayv1beta1.ReferenceGrant) any { return &g.Spec },
	}
}

// NewTenantValidator checks Tenants for conflicts with other tenants.
func NewTenantValidator(src tenancy.Source, m *Metrics) *Validator[*v1alpha1.Tenant] {
	return &Validator[*v1alpha1.Tenant]{
		kind: schema.GroupKind{Group: v1alpha1.GroupVersion.Group, Kind: "Tenant"}, source: src, metrics: m,
		check:  (*tenancy.Policy).CheckTenant,
		spec:   func(t *v1alpha1.Tenant) any { return &t.Spec },
		tenant: func(_ *tenancy.Policy, t *v1alpha1.Tenant) string { return t.Name },
	}
}

var _ admission.Validator[*gatewayv1.HTTPRoute] = &Validator[*gatewayv1.HTTPRoute]{}

// ValidateCreate checks a new object.
func (v *Validator[T]) ValidateCreate(ctx context.Context, obj T) (admission.Warnings, error) {
	return v.validate(ctx, "create", obj, false)
}

// ValidateUpdate checks the new version of an object.
func (v *Validator[T]) ValidateUpdate(ctx context.Context, oldObj, newObj T) (admission.Warnings, error) {
	unchanged := equality.Semantic.DeepEqual(v.spec(oldObj), v.spec(newObj))
	return v.validate(ctx, "update", newObj, unchanged)
}

// ValidateDelete allows every delete: removing an object never crosses a
// tenant boundary.
func (v *Validator[T]) ValidateDelete(context.Context, T) (admission.Warnings, error) {
	return nil, nil
}

// validate turns the verdict into an admission answer. lenient admits
// violations as warnings (see Validator).
func (v *Validator[T]) validate(ctx context.Context, operation string, obj T, lenient bool) (admission.Warnings, error) {
	start := time.Now()
	p, err := v.source.Policy(ctx)
	if err != nil || p == nil {
		v.metrics.observe(v.kind.Kind, operation, ResultError, "", time.Since(start))
		return nil, apierrors.NewServiceUnavailable("tenantgate cannot check this " + v.kind.Kind +
			" yet because its tenant policy is not loaded (" + errorText(err) + "); retry in a few seconds")
	}
	verdict := v.check(p, obj)
	tenant := p.TenantOf(obj.GetNamespace())
	if v.tenant != nil {
		tenant = v.tenant(p, obj)
	}
	result := ResultAllowed
	var warnings admission.Warnings
	switch {
	case verdict.Denied() && !lenient:
		v.metrics.observe(v.kind.Kind, operation, ResultDenied, tenant, time.Since(start))
		return verdict.Warnings, v.denial(obj, verdict)
	case len(verdict.Violations) > 0:
		result = ResultWarned
		warnings = append(warnings, verdict.Messages()...)
	}
	warnings = append(warnings, verdict.Warnings...)
	v.metrics.observe(v.kind.Kind, operation, result, tenant, time.Since(start))
	return warnings, nil
}

// denial is a 403 whose message is one line per violation, with the field
// paths as causes for clients that read them.
func (v *Validator[T]) denial(obj T, verdict tenancy.Verdict) error {
	status := metav1.Status{
		Status:  metav1.StatusFailure,
		Code:    http.StatusForbidden,
		Reason:  metav1.StatusReasonForbidden,
		Message: strings.Join(verdict.Messages(), "\n"),
		Details: &metav1.StatusDetails{Group: v.kind.Group, Kind: v.kind.Kind, Name: obj.GetName()},
	}
	for _, e := range verdict.Violations {
		status.Details.Causes = append(status.Details.Causes, metav1.StatusCause{
			Type: metav1.CauseType(e.Type), Field: e.Field, Message: tenancy.Message(e)})
	}
	return &apierrors.StatusError{ErrStatus: status}
}

func errorText(err error) string {
	if err == nil {
		return "no policy yet"
	}
	return err.Error()
}

// missingKind reports the first kind the webhook needs that the scheme lacks.
func missingKind(scheme *runtime.Scheme) (schema.GroupVersionKind, bool) {
	for _, gvk := range []schema.GroupVersionKind{
		corev1.SchemeGroupVersion.WithKind("Namespace"),
		gatewayv1.SchemeGroupVersion.WithKind("HTTPRoute"),
		gatewayv1.SchemeGroupVersion.WithKind("GRPCRoute"),
		gatewayv1.SchemeGroupVersion.WithKind("TLSRoute"),
		gatewayv1.SchemeGroupVersion.WithKind("TCPRoute"),
		gatewayv1.SchemeGroupVersion.WithKind("UDPRoute"),
		gatewayv1.SchemeGroupVersion.WithKind("ListenerSet"),
		gatewayv1.SchemeGroupVersion.WithKind("Gateway"),
		gatewayv1.SchemeGroupVersion.WithKind("ReferenceGrant"),
		gatewayv1beta1.SchemeGroupVersion.WithKind("ReferenceGrant"),
		v1alpha1.GroupVersion.WithKind("Tenant"),
	} {
		if !scheme.Recognizes(gvk) {
			return gvk, true
		}
	}
	return schema.GroupVersionKind{}, false
}
