package webhook

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// The webhook server paths; manifests/webhook/validating.yaml points the
// ValidatingWebhookConfiguration at them.
const (
	HTTPRoutePath             = "/validate-gateway-networking-k8s-io-v1-httproute"
	ReferenceGrantPath        = "/validate-gateway-networking-k8s-io-v1-referencegrant"
	ReferenceGrantV1beta1Path = "/validate-gateway-networking-k8s-io-v1beta1-referencegrant"
	TenantPath                = "/validate-tenancy-tenantgate-dev-v1alpha1-tenant"
)

// Register adds the validating webhooks for HTTPRoute, ReferenceGrant (v1
// and v1beta1) and Tenant to the manager's webhook server, with metrics in
// controller-runtime's registry (served on the manager's metrics endpoint).
// The manager's scheme must already hold gateway-api v1 and v1beta1 and
// tenancy v1alpha1.
func Register(mgr manager.Manager, src PolicySource) error {
	if gvk, missing := missingKind(mgr.GetScheme()); missing {
		return fmt.Errorf("the manager's scheme does not know %s; add gateway-api v1 and v1beta1 and tenancy v1alpha1 to it before registering the webhook", gvk)
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
