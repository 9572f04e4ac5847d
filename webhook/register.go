package webhook

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// The webhook server paths; manifests/webhook/validating.yaml points the
// ValidatingWebhookConfiguration at them.
const (
	HTTPRoutePath             = "/validate-gateway-networking-k8s-io-v1-httproute"
	GRPCRoutePath             = "/validate-gateway-networking-k8s-io-v1-grpcroute"
	TLSRoutePath              = "/validate-gateway-networking-k8s-io-v1-tlsroute"
	TCPRoutePath              = "/validate-gateway-networking-k8s-io-v1-tcproute"
	UDPRoutePath              = "/validate-gateway-networking-k8s-io-v1-udproute"
	ListenerSetPath           = "/validate-gateway-networking-k8s-io-v1-listenerset"
	GatewayPath               = "/validate-gateway-networking-k8s-io-v1-gateway"
	NamespacePath             = "/validate-v1-namespace"
	ReferenceGrantPath        = "/validate-gateway-networking-k8s-io-v1-referencegrant"
	ReferenceGrantV1beta1Path = "/validate-gateway-networking-k8s-io-v1beta1-referencegrant"
	TenantPath                = "/validate-tenancy-tenantgate-dev-v1alpha1-tenant"
)

// Register adds the validating webhooks for every route kind (HTTPRoute,
// GRPCRoute, TLSRoute, TCPRoute, UDPRoute), ListenerSet, Gateway,
// ReferenceGrant (v1 and v1beta1), Tenant and Namespace to the manager's
// webhook server, with metrics in controller-runtime's registry (served on
// the manager's metrics endpoint). The manager's scheme must already hold
// core v1, gateway-api v1 and v1beta1 and tenancy v1alpha1. A path for a
// kind the cluster does not serve is harmless: the API server never calls
// it. Other versions a CRD serves (HTTPRoute and Gateway v1beta1, TLSRoute,
// TCPRoute and UDPRoute v1alpha2 in the experimental channel) are converted
// to v1 by the API server (matchPolicy: Equivalent); ReferenceGrant v1beta1
// has its own path, as before.
func Register(mgr manager.Manager, src tenancy.Source) error {
	if gvk, missing := missingKind(mgr.GetScheme()); missing {
		return fmt.Errorf("the manager's scheme does not know %s; add core v1, gateway-api v1 and v1beta1 and tenancy v1alpha1 to it before registering the webhook", gvk)
	}
	m, err := NewMetrics(metrics.Registry)
	if err != nil {
		return fmt.Errorf("registering webhook metrics: %w", err)
	}
	steps := []func() error{
		func() error {
			return serve(mgr, &gatewayv1.HTTPRoute{}, NewHTTPRouteValidator(src, m), HTTPRoutePath)
		},
		func() error {
			return serve(mgr, &gatewayv1.GRPCRoute{}, NewGRPCRouteValidator(src, m), GRPCRoutePath)
		},
		func() error { return serve(mgr, &gatewayv1.TLSRoute{}, NewTLSRouteValidator(src, m), TLSRoutePath) },
		func() error { return serve(mgr, &gatewayv1.TCPRoute{}, NewTCPRouteValidator(src, m), TCPRoutePath) },
		func() error { return serve(mgr, &gatewayv1.UDPRoute{}, NewUDPRouteValidator(src, m), UDPRoutePath) },
		func() error {
			return serve(mgr, &gatewayv1.ListenerSet{}, NewListenerSetValidator(src, m), ListenerSetPath)
		},
		func() error { return serve(mgr, &gatewayv1.Gateway{}, NewGatewayValidator(src, m), GatewayPath) },
		func() error { return serve(mgr, &corev1.Namespace{}, NewNamespaceValidator(src, m), NamespacePath) },
		func() error {
			return serve(mgr, &gatewayv1.ReferenceGrant{}, NewReferenceGrantValidator(src, m), ReferenceGrantPath)
		},
		func() error {
			return serve(mgr, &gatewayv1beta1.ReferenceGrant{}, NewReferenceGrantV1beta1Validator(src, m), ReferenceGrantV1beta1Path)
		},
		func() error { return serve(mgr, &v1alpha1.Tenant{}, NewTenantValidator(src, m), TenantPath) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("registering the tenantgate webhook: %w", err)
		}
	}
	return nil
}

// serve serves v at path for obj's kind, with requestLogger.
func serve[T runtime.Object](mgr manager.Manager, obj T, v admission.Validator[T], path string) error {
	gvk, err := apiutil.GVKForObject(obj, mgr.GetScheme())
	if err != nil {
		return err
	}
	return ctrl.NewWebhookManagedBy(mgr, obj).WithValidator(v).WithValidatorCustomPath(path).
		WithLogConstructor(requestLogger(gvk)).Complete()
}
