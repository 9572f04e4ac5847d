package app

// The permissions tenantgate needs, and no more; hack/generate.sh turns these
// markers into manifests/rbac/role.yaml (ClusterRole and Role "tenantgate"),
// the controller's identity (tenantgate-controller in manifests/default).
// The webhook and the data plane write nothing: their ClusterRoles in
// manifests/default grant reads only. tests/manifests checks all three
// against the resources each role uses.

// The gateway controller and the policy cache read the Gateway API objects
// (the policy also every other route kind the cluster serves); the leader
// writes the status of the ones it owns.
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gatewayclasses;gateways;httproutes;grpcroutes;tlsroutes;tcproutes;udproutes;referencegrants;listenersets;backendtlspolicies,verbs=get;list;watch
// +kubebuilder:rbac:groups=gateway.networking.k8s.io,resources=gatewayclasses/status;gateways/status;httproutes/status;grpcroutes/status;tlsroutes/status;listenersets/status;backendtlspolicies/status,verbs=update;patch

// Backends, endpoints, listener certificates (any namespace a ReferenceGrant
// opens), CA bundles for client and backend TLS validation, and namespace
// labels for allowedRoutes and tenant membership. Secrets and ConfigMaps are
// listed and watched as metadata only and fetched with get only when
// referenced, but RBAC cannot tell a metadata watch from a full one nor name
// objects not yet known, so list and watch stay cluster-wide.
// +kubebuilder:rbac:groups="",resources=services;secrets;configmaps;namespaces,verbs=get;list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=get;list;watch

// The leader creates a Service per Gateway of its class (owned by the
// Gateway), updates it as the Gateway's listeners and spec.infrastructure
// change, and deletes it when the Gateway is no longer its own.
// +kubebuilder:rbac:groups="",resources=services,verbs=create;update;patch;delete

// The Services have no selector (the data-plane Pods are in tenantgate's
// namespace, out of a selector's reach): the leader lists the data-plane
// Pods there and writes each Service's EndpointSlice.
// +kubebuilder:rbac:groups="",namespace=tenantgate-system,resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=discovery.k8s.io,resources=endpointslices,verbs=create;update;patch;delete

// Without an address pool the leader signs each Service's target ports with
// a key it keeps in a Secret of its own namespace, made on first use.
// +kubebuilder:rbac:groups="",namespace=tenantgate-system,resources=secrets,verbs=create

// A Gateway whose class asks for a dedicated data plane gets a Deployment
// and a PodDisruptionBudget in tenantgate's own namespace (never the
// Gateway's: the data plane's ServiceAccount reads TLS Secrets).
// +kubebuilder:rbac:groups=apps,namespace=tenantgate-system,resources=deployments,verbs=list;create;update;delete
// +kubebuilder:rbac:groups=policy,namespace=tenantgate-system,resources=poddisruptionbudgets,verbs=list;create;update;delete

// Tenants are the policy; their status reports the audit.
// +kubebuilder:rbac:groups=tenancy.tenantgate.dev,resources=tenants,verbs=get;list;watch
// +kubebuilder:rbac:groups=tenancy.tenantgate.dev,resources=tenants/status,verbs=update;patch

// The leader records a Warning Event on each object (in its own namespace)
// whose status newly says it could not be programmed.
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Leader election (one status writer) and its core/v1 events, only in
// tenantgate's own namespace (events.k8s.io is granted everywhere above).
// +kubebuilder:rbac:groups=coordination.k8s.io,namespace=tenantgate-system,resources=leases,verbs=get;create;update
// +kubebuilder:rbac:groups="",namespace=tenantgate-system,resources=events,verbs=create;patch
