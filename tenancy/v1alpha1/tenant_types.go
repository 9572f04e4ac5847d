package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Tenant declares one team's share of the cluster and of its gateways: the
// namespaces that belong to it, the hostnames (and paths on shared hosts)
// its routes may claim, the gateways they may attach to, where they may send
// traffic, and what its ReferenceGrants may open up.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tnt,categories=tenantgate
// +kubebuilder:printcolumn:name="Namespaces",type=string,JSONPath=`.status.summary.namespaces`
// +kubebuilder:printcolumn:name="Hostnames",type=string,JSONPath=`.status.summary.hostnames`
// +kubebuilder:printcolumn:name="Routes",type=string,JSONPath=`.status.summary.routes`
// +kubebuilder:printcolumn:name="Violations",type=integer,JSONPath=`.status.summary.violations`
// +kubebuilder:printcolumn:name="Enforcement",type=string,JSONPath=`.spec.enforcement`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type Tenant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is what the cluster admin grants the tenant.
	// +optional
	// +kubebuilder:default={}
	Spec TenantSpec `json:"spec,omitempty,omitzero"`

	// Status is what tenantgate observed: resolved namespaces, conflicts and
	// existing objects that break the policy.
	// +optional
	Status TenantStatus `json:"status,omitempty,omitzero"`
}

// TenantList is a list of Tenants.
//
// +kubebuilder:object:root=true
type TenantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Tenant `json:"items"`
}

// TenantSpec is the policy of one tenant.
type TenantSpec struct {
	// Namespaces selects the namespaces that belong to the tenant: the union
	// of the listed names and the namespaces whose labels match the selector.
	// A namespace belongs to at most one tenant.
	// +optional
	Namespaces TenantNamespaces `json:"namespaces,omitempty,omitzero"`

	// Hostnames are what the tenant's routes may claim. A wildcard
	// ("*.apples.example.com") covers every name below it but not the name
	// itself. Comparisons ignore case and a trailing dot.
	// +optional
	// +listType=map
	// +listMapKey=hostname
	// +kubebuilder:validation:MaxItems=256
	Hostnames []OwnedHostname `json:"hostnames,omitempty"`

	// Gateways are the parents the tenant's routes may attach to. When empty,
	// routes may attach to any Gateway whose listeners admit them.
	// +optional
	// +listType=map
	// +listMapKey=namespace
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=64
	Gateways []GatewayReference `json:"gateways,omitempty"`

	// BackendNamespaces are namespaces outside the tenant that its routes may
	// send traffic to; a ReferenceGrant there is still required.
	// +optional
	BackendNamespaces NamespaceNames `json:"backendNamespaces,omitempty,omitzero"`

	// ReferenceGrants limits what ReferenceGrants in the tenant's namespaces
	// may open up to other namespaces.
	// +optional
	// +kubebuilder:default={}
	ReferenceGrants ReferenceGrantPolicy `json:"referenceGrants,omitempty,omitzero"`

	// Enforcement is what happens to an object that breaks the policy: Deny
	// rejects it; Warn admits it and returns the violations as warnings.
	// +optional
	// +kubebuilder:default=Deny
	Enforcement Enforcement `json:"enforcement,omitempty"`
}

// TenantNamespaces selects namespaces by name and by labels.
type TenantNamespaces struct {
	// Names lists namespaces by name.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	Names []NamespaceName `json:"names,omitempty"`

	// Selector adds every namespace whose labels match. An empty selector
	// matches nothing here (unlike elsewhere in Kubernetes), so a Tenant
	// cannot take the whole cluster by accident.
	// +optional
	Selector *metav1.LabelSelector `json:"selector,omitempty"`
}

// NamespaceNames is a list of namespace names.
type NamespaceNames struct {
	// Names lists namespaces by name.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=256
	Names []NamespaceName `json:"names,omitempty"`
}

// OwnedHostname is one hostname the tenant owns, whole or in part.
type OwnedHostname struct {
	// Hostname is an exact DNS name or a wildcard of the form "*.example.com".
	// +required
	Hostname Hostname `json:"hostname"`

	// PathPrefixes, when set, make this a shared host: the tenant owns only
	// these paths on it (segment-aware: "/apples" covers "/apples/x" but not
	// "/applesauce"), and other tenants may own other paths on the same host.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=32
	PathPrefixes []PathPrefix `json:"pathPrefixes,omitempty"`
}

// GatewayReference names a Gateway the tenant's routes may attach to.
type GatewayReference struct {
	// Namespace of the Gateway.
	// +required
	Namespace NamespaceName `json:"namespace"`

	// Name of the Gateway.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`

	// SectionNames limits the routes to these listeners; omitted means any
	// listener of the Gateway.
	// +optional
	// +listType=set
	// +kubebuilder:validation:MaxItems=64
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=253
	// +kubebuilder:validation:items:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	SectionNames []string `json:"sectionNames,omitempty"`
}

// ReferenceGrantPolicy limits the ReferenceGrants in the tenant's namespaces.
type ReferenceGrantPolicy struct {
	// AllowFromNamespaces are the namespaces outside the tenant that its
	// ReferenceGrants may trust ("from"). The tenant's own namespaces are
	// always allowed.
	// +optional
	AllowFromNamespaces NamespaceNames `json:"allowFromNamespaces,omitempty,omitzero"`

	// AllowedKinds are the kinds a ReferenceGrant may open up ("to").
	// +optional
	// +listType=set
	// +kubebuilder:default={Service}
	// +kubebuilder:validation:MaxItems=16
	// +kubebuilder:validation:items:MinLength=1
	// +kubebuilder:validation:items:MaxLength=63
	// +kubebuilder:validation:items:Pattern=`^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$`
	AllowedKinds []string `json:"allowedKinds,omitempty"`

	// AllowWildcardNames allows grants without "to.name", which open up every
	// object of the kind in the namespace.
	// +optional
	AllowWildcardNames bool `json:"allowWildcardNames,omitempty"`
}

// Enforcement says what happens to an object that breaks the policy.
// +kubebuilder:validation:Enum=Deny;Warn
type Enforcement string

const (
	// EnforcementDeny rejects violating objects at admission and keeps the
	// gateway from programming them.
	EnforcementDeny Enforcement = "Deny"
	// EnforcementWarn admits violating objects and returns the violations as
	// warnings.
	EnforcementWarn Enforcement = "Warn"
)

// Hostname is an exact DNS name or a wildcard ("*.example.com"), in any case,
// with an optional trailing dot.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=254
// +kubebuilder:validation:Pattern=`^(\*\.)?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?)*\.?$`
// +kubebuilder:validation:XValidation:rule="!self.matches('^[0-9.]+$')",message="hostname must be a DNS name, not an IP address"
type Hostname string

// PathPrefix is an absolute URL path prefix.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=1024
// +kubebuilder:validation:XValidation:rule="self.startsWith('/')",message="a path prefix must start with '/'"
// +kubebuilder:validation:XValidation:rule="!self.contains('?') && !self.contains('#')",message="a path prefix must not contain '?' or '#'"
type PathPrefix string

// NamespaceName is the name of a namespace (an RFC 1123 label).
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
type NamespaceName string

// TenantStatus is what tenantgate observed about a Tenant.
type TenantStatus struct {
	// Conditions: Ready, HostnameConflict, NamespaceConflict.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Namespaces is the resolved membership, sorted.
	// +optional
	// +listType=set
	Namespaces []string `json:"namespaces,omitempty"`

	// Violations are existing objects that break the tenant's policy, such as
	// objects created before the policy or while the webhook was down.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=100
	Violations []TenantViolation `json:"violations,omitempty"`

	// Routes counts the routes in the tenant's namespaces, by kind.
	// +optional
	// +listType=map
	// +listMapKey=kind
	// +kubebuilder:validation:MaxItems=8
	Routes []TenantRouteCount `json:"routes,omitempty"`

	// Summary is the status at a glance, for `kubectl get tenants`.
	// +optional
	Summary TenantSummary `json:"summary,omitempty,omitzero"`
}

// TenantRouteCount counts one kind of route in the tenant's namespaces by
// what the gateways serving them report.
type TenantRouteCount struct {
	// Kind of route, e.g. HTTPRoute.
	// +required
	// +kubebuilder:validation:MaxLength=63
	Kind string `json:"kind"`
	// Served routes have at least one parent whose Accepted condition is
	// True.
	// +required
	Served int32 `json:"served"`
	// Refused routes have parent statuses and none of them is Accepted.
	// +required
	Refused int32 `json:"refused"`
	// Pending routes have no parent status yet: no gateway has looked at
	// them, or their parents do not exist.
	// +required
	Pending int32 `json:"pending"`
}

// TenantSummary is the status at a glance.
type TenantSummary struct {
	// Namespaces lists the resolved namespaces, comma-separated, shortened
	// after a few ("a,b,c + 3 more...").
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Namespaces string `json:"namespaces,omitempty"`
	// Hostnames lists the hostnames of spec.hostnames the same way.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Hostnames string `json:"hostnames,omitempty"`
	// Routes is "served/total" over every kind, e.g. "12/13".
	// +optional
	// +kubebuilder:validation:MaxLength=32
	Routes string `json:"routes,omitempty"`
	// Violations counts every violation, including those beyond the ones
	// status.violations lists.
	// +required
	Violations int32 `json:"violations"`
}

// TenantViolation is one existing object that breaks the tenant's policy.
type TenantViolation struct {
	// Kind of the object, e.g. HTTPRoute.
	// +required
	Kind string `json:"kind"`
	// Namespace of the object.
	// +optional
	Namespace string `json:"namespace,omitempty"`
	// Name of the object.
	// +required
	Name string `json:"name"`
	// Message names the field, the value and the rule broken.
	// +required
	Message string `json:"message"`
}

// Condition types of a Tenant.
const (
	// ConditionReady is True when the tenant's policy is in force without
	// conflicts.
	ConditionReady = "Ready"
	// ConditionHostnameConflict is True when a hostname overlaps another
	// tenant's.
	ConditionHostnameConflict = "HostnameConflict"
	// ConditionNamespaceConflict is True when a namespace is claimed by
	// another tenant too, or is a platform namespace.
	ConditionNamespaceConflict = "NamespaceConflict"
)

// Condition reasons of a Tenant.
const (
	// ReasonResolved: the policy is in force.
	ReasonResolved = "Resolved"
	// ReasonConflict: the tenant overlaps another tenant.
	ReasonConflict = "Conflict"
	// ReasonNoConflict: no overlap was found.
	ReasonNoConflict = "NoConflict"
)
