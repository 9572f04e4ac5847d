package webhook

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
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
			return ctrl.NewWebhookManagedBy(mgr, &gatewayv1.HTTPRoute{}).
				WithValidator(NewHTTPRouteValidator(src, m)).WithValidatorCustomPath(HTTPRoutePath).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &gatewayv1.GRPCRoute{}).
				WithValidator(NewGRPCRouteValidator(src, m)).WithValidatorCustomPath(GRPCRoutePath).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &gatewayv1.TLSRoute{}).
				WithValidator(NewTLSRouteValidator(src, m)).WithValidatorCustomPath(TLSRoutePath).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &gatewayv1.TCPRoute{}).
				WithValidator(NewTCPRouteValidator(src, m)).WithValidatorCustomPath(TCPRoutePath).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &gatewayv1.UDPRoute{}).
				WithValidator(NewUDPRouteValidator(src, m)).WithValidatorCustomPath(UDPRoutePath).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &gatewayv1.ListenerSet{}).
				WithValidator(NewListenerSetValidator(src, m)).WithValidatorCustomPath(ListenerSetPath).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &gatewayv1.Gateway{}).
				WithValidator(NewGatewayValidator(src, m)).WithValidatorCustomPath(GatewayPath).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &corev1.Namespace{}).
				WithValidator(NewNamespaceValidator(src, m)).WithValidatorCustomPath(NamespacePath).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &gatewayv1.ReferenceGrant{}).
				WithValidator(NewReferenceGrantValidator(src, m)).WithValidatorCustomPath(ReferenceGrantPath).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &gatewayv1beta1.ReferenceGrant{}).
				WithValidator(NewReferenceGrantV1beta1Validator(src, m)).WithValidatorCustomPath(ReferenceGrantV1beta1Path).Complete()
		},
		func() error {
			return ctrl.NewWebhookManagedBy(mgr, &v1alpha1.Tenant{}).
				WithValidator(NewTenantValidator(src, m)).WithValidatorCustomPath(TenantPath).Complete()
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("registering the tenantgate webhook: %w", err)
		}
	}
	return nil
}
