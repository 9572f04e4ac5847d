package translate

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/tenancy"
)

// ControllerName is the GatewayClass controllerName tenantgate owns.
const ControllerName gatewayv1.GatewayController = "tenantgate.dev/gateway-controller"

// TenantPolicy is the tenancy engine as the translator sees it: for each
// object a tenant writes, the enforced violations of its tenant's rules
// (none when it may be programmed). *tenancy.Policy implements it; the
// webhook refuses the same objects with the same lines at admission.
type TenantPolicy interface {
	RouteViolations(route *gatewayv1.HTTPRoute) []string
	GRPCRouteViolations(route *gatewayv1.GRPCRoute) []string
	TLSRouteViolations(route *gatewayv1.TLSRoute) []string
	// GatewayViolations and ListenerSetViolations judge the listeners tenants
	// declare, in Gateways of their namespaces and in ListenerSets.
	GatewayViolations(gw *gatewayv1.Gateway) tenancy.ListenerViolations
	ListenerSetViolations(ls *gatewayv1.ListenerSet) tenancy.ListenerViolations
	// GrantViolations judges ReferenceGrants: one that breaks its tenant's
	// referenceGrants rules (say, it predates its namespace joining the
	// tenant) opens nothing.
	GrantViolations(g *gatewayv1.ReferenceGrant) []string
}

// Snapshot is everything Build reads: objects from the cache plus what the
// controller and the data plane know about addresses and sockets. Build never
// modifies it.
type Snapshot struct {
	// ControllerName selects the GatewayClasses we own; empty means ControllerName.
	ControllerName gatewayv1.GatewayController
	// Now stamps LastTransitionTime on every condition Build writes; the
	// status writer keeps older times where a condition's status is unchanged.
	Now metav1.Time
	// SupportedFeatures published on accepted GatewayClasses; nil means
	// DefaultSupportedFeatures(). Build sorts them.
	SupportedFeatures []gatewayv1.SupportedFeature

	GatewayClasses []gatewayv1.GatewayClass
	Gateways       []gatewayv1.Gateway
	// ListenerSets add listeners to Gateways that allow them.
	ListenerSets []gatewayv1.ListenerSet
	// HTTPRoutes with their current status: Build needs it to clear our stale
	// parent entries. Pointers, as the routes are the bulk of a snapshot:
	// the controller hands over its cache's own objects (Build never writes).
	HTTPRoutes []*gatewayv1.HTTPRoute
	// HTTPRouteChanges, when not nil, says how HTTPRoutes differs from an
	// earlier snapshot's: Incremental then looks at those routes alone (see
	// RouteChanges). Build ignores it.
	HTTPRouteChanges *RouteChanges
	// GRPCRoutes likewise, with their current status.
	GRPCRoutes []*gatewayv1.GRPCRoute
	// TLSRoutes with their current status, likewise.
	TLSRoutes []gatewayv1.TLSRoute
	// ReferenceGrants as served at gateway.networking.k8s.io/v1 (the CRD also
	// serves v1beta1 with the same schema).
	ReferenceGrants []gatewayv1.ReferenceGrant
	// BackendTLSPolicies with their current status: Build needs it to clear
	// our stale ancestor entries.
	BackendTLSPolicies []gatewayv1.BackendTLSPolicy
	Services           []corev1.Service
	EndpointSlices     []discoveryv1.EndpointSlice
	// Secrets referenced by listeners' certificateRefs and CA certificate
	// references (others are ignored).
	Secrets []corev1.Secret
	// ConfigMaps holding CA certificates (ca.crt) that client certificate
	// validation references (others are ignored).
	ConfigMaps []corev1.ConfigMap
	Namespaces []corev1.Namespace
	// ReservedPorts are the data plane's own ports (metrics, health) and
	// what holds them: a Gateway's Service sends a listener's port to the
	// data-plane Pods, so a listener on one of these would expose them.
	ReservedPorts map[int32]string

	// Addresses is the one IP the controller gave each Gateway: the IP its
	// spec.addresses requests, or one from the pool when it requests none (or
	// an IPAddress without value). A Gateway without one is not programmed
	// (AddressNotAssigned); one given another IP than it requested, or
	// requesting several, is not programmed either (AddressNotUsable).
	Addresses map[types.NamespacedName]string
	// AddressErrors says why the controller could not give a Gateway an
	// address, as a sentence for its Programmed condition: the requested IP
	// is outside the pool or taken (AddressNotUsable), the pool is exhausted
	// (AddressNotAssigned).
	AddressErrors map[types.NamespacedName]string
	// TargetPorts, when not nil, puts the Gateways on the shared data
	// plane's own ports (their Services' targetPorts): a listener binds every
	// address on its Gateway's target port for its port, and one without
	// is not served yet. Nil (an address pool) binds each Gateway's own
	// address and listener port.
	TargetPorts TargetPorts
	// BindErrors is the data plane's last failure to listen, by listener
	// name "namespace/gateway/listener".
	BindErrors map[string]string
	// Listening holds the listeners the data plane has bound, by listener
	// name. Nil means unknown: a listener is then Programmed as soon as it is
	// in the Config; otherwise only once it is listening.
	Listening map[string]bool

	// Policy refuses the routes, listeners and grants that break tenant
	// rules; nil allows everything.
	Policy TenantPolicy
}

// RouteChanges is how a snapshot's HTTPRoutes differ from those of the
// snapshot numbered Since: the routes added or changed (as this snapshot
// holds them) and the keys of those deleted. Every other route is the very
// object it was. Seq numbers this snapshot. The controller, which sees
// every event, knows this; an Incremental whose last Build was of snapshot
// Since trusts it and walks only these routes (a wrong list gives a wrong
// Result).
type RouteChanges struct {
	Since, Seq uint64
	HTTPRoutes []*gatewayv1.HTTPRoute
	Gone       []types.NamespacedName
}

// Result is what Build returns: the data plane's Config and the desired status
// of every object our controller owns.
type Result struct {
	Config routetable.Config
	// GatewayClasses is keyed by name (empty namespace).
	GatewayClasses map[types.NamespacedName]gatewayv1.GatewayClassStatus
	Gateways       map[types.NamespacedName]gatewayv1.GatewayStatus
	// HTTPRoutes holds only our controller's parent entries, one per
	// parentRef to a Gateway of ours; a route whose old status has entries of
	// ours but no such parentRef any more maps to an empty list. Route
	// conditions carry no LastTransitionTime (so an unchanged route's status
	// is the same in every Result); apply with MergeRouteStatus, which stamps
	// the conditions it writes anew.
	HTTPRoutes RouteStatuses
	// GRPCRoutes likewise; apply with MergeGRPCRouteStatus.
	GRPCRoutes map[types.NamespacedName]gatewayv1.GRPCRouteStatus
	// TLSRoutes is HTTPRoutes for TLSRoutes; apply with MergeRouteStatus
	// on their RouteStatus.
	TLSRoutes map[types.NamespacedName]gatewayv1.TLSRouteStatus
	// BackendTLSPolicies holds only our controller's ancestor entries, one
	// per Gateway of ours that accepted a route using the policy; a policy
	// with stale entries of ours maps to an empty list. Apply with
	// MergePolicyStatus.
	BackendTLSPolicies map[types.NamespacedName]gatewayv1.PolicyStatus
	// ListenerSets holds the status of every ListenerSet whose parent is one
	// of our Gateways. Apply with MergeListenerSetStatus.
	ListenerSets map[types.NamespacedName]gatewayv1.ListenerSetStatus
}

// DefaultSupportedFeatures lists the Gateway API features tenantgate's
// translator and proxy implement; the conformance suite runs the tests of
// exactly these.
func DefaultSupportedFeatures() []gatewayv1.SupportedFeature {
	names := []gatewayv1.FeatureName{
		"BackendTLSPolicy",
		"BackendTLSPolicySANValidation",
		"GRPCRoute",
		"GRPCRouteNamedRouteRule",
		"Gateway",
		"GatewayAddressEmpty",
		"GatewayBackendClientCertificate",
		"GatewayFrontendClientCertificateValidation",
		"GatewayFrontendClientCertificateValidationInsecureFallback",
		"GatewayHTTPListenerIsolation",
		"GatewayHTTPSListenerDetectMisdirectedRequests",
		"GatewayInfrastructure",
		"GatewayPort8080",
		"GatewayStaticAddresses",
		"HTTPRoute",
		"HTTPRoute303RedirectStatusCode",
		"HTTPRoute307RedirectStatusCode",
		"HTTPRoute308RedirectStatusCode",
		"HTTPRouteBackendProtocolH2C",
		"HTTPRouteBackendProtocolWebSocket",
		"HTTPRouteBackendRequestHeaderModification",
		"HTTPRouteBackendTimeout",
		"HTTPRouteCORS",
		"HTTPRouteDestinationPortMatching",
		"HTTPRouteHostRewrite",
		"HTTPRouteMethodMatching",
		"HTTPRouteNamedRouteRule",
		"HTTPRouteParentRefPort",
		"HTTPRoutePathRedirect",
		"HTTPRoutePathRewrite",
		"HTTPRoutePortRedirect",
		"HTTPRouteQueryParamMatching",
		"HTTPRouteRequestMirror",
		"HTTPRouteRequestMultipleMirrors",
		"HTTPRouteRequestPercentageMirror",
		"HTTPRouteRequestTimeout",
		"HTTPRouteResponseHeaderModification",
		"HTTPRouteRetry",
		"HTTPRouteRetryBackendTimeout",
		"HTTPRouteRetryConnectionError",
		"HTTPRouteSchemeRedirect",
		"ListenerSet",
		"ReferenceGrant",
		"TLSRoute",
		"TLSRouteModeMixed",
		"TLSRouteModeTerminate",
	}
	features := make([]gatewayv1.SupportedFeature, len(names))
	for i, n := range names {
		features[i] = gatewayv1.SupportedFeature{Name: n}
	}
	return features
}
