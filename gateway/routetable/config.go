package routetable

import "time"

// Config is everything the data plane serves, as plain data: the translator
// produces it from Kubernetes objects, Compile turns it into a Table. It holds
// no Kubernetes types so the proxy never sees them, and it marshals to YAML for
// the translator's golden files.
type Config struct {
	// Listeners sorted by Address, Port, then Name. Listeners that share an
	// (Address, Port) share one socket and are told apart by hostname.
	Listeners []Listener `json:"listeners,omitempty"`
}

// Protocol is a listener's application protocol.
type Protocol string

const (
	ProtocolHTTP  Protocol = "HTTP"
	ProtocolHTTPS Protocol = "HTTPS"
)

// Listener is one Gateway listener that the translator accepted and programmed.
type Listener struct {
	// Name identifies the listener: "namespace/gateway/listener".
	Name string `json:"name"`
	// Address is the IP the Gateway was given; Port the listener's port.
	Address string `json:"address"`
	Port    int32  `json:"port"`
	// BindPort, when set, is the port the data plane listens on instead of
	// Port (a target port of the Gateway's Service); Port stays what
	// clients see, for redirects.
	BindPort int32    `json:"bindPort,omitempty"`
	Protocol Protocol `json:"protocol"`
	// Hostname is the listener's hostname ("" matches every host; "*.a.com" a
	// wildcard). A request goes to the listener on its socket with the most
	// specific matching hostname (HTTPListenerIsolation).
	Hostname string `json:"hostname,omitempty"`
	// Certificates served on an HTTPS listener, chosen by SNI; on a TLS
	// listener they make it terminate (none: Passthrough).
	Certificates []Certificate `json:"certificates,omitempty"`
	// ClientValidation, on an HTTPS listener, asks clients for a certificate.
	ClientValidation *ClientValidation `json:"clientValidation,omitempty"`
	// BackendClientCertificate is presented to backends reached over TLS
	// (the Gateway's spec.tls.backend).
	BackendClientCertificate *Certificate `json:"backendClientCertificate,omitempty"`
	// Routes attached to this listener and accepted: HTTPRoutes, or on a
	// TLS listener TLSRoutes (one rule with backends, no matches). A Route
	// handed over is never written again: Configs share unchanged ones, and
	// a Compiler takes a Route it has seen, by address, as unchanged.
	Routes []*Route `json:"routes,omitempty"`
}

// Certificate is a TLS certificate chain and key in PEM, from a Secret.
type Certificate struct {
	// Secret names the source: "namespace/name".
	Secret  string `json:"secret"`
	CertPEM []byte `json:"-"`
	KeyPEM  []byte `json:"-"`
}

// ClientValidation is mutual TLS on a listener: a client must present a
// certificate signed by one of the CAs, unless InsecureFallback lets any
// client (with any certificate or none) through.
type ClientValidation struct {
	// CACertificates name the sources: "Kind namespace/name".
	CACertificates []string `json:"caCertificates"`
	// CAPEM is every CA certificate, concatenated.
	CAPEM            []byte `json:"-"`
	InsecureFallback bool   `json:"insecureFallback,omitempty"`
}

// Route is one accepted HTTPRoute (or TLSRoute) as attached to one listener.
type Route struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Created is the route's creation time, the first tie-breaker of precedence.
	Created time.Time `json:"created"`
	// Hostnames are the intersection of the route's and the listener's
	// hostnames; empty means every host the listener accepts.
	Hostnames []string `json:"hostnames,omitempty"`
	Rules     []Rule   `json:"rules,omitempty"`
	// GRPC marks a GRPCRoute: its matches are gRPC method matches, ordered
	// by GRPCRouteRule precedence, and the proxy answers its errors with a
	// gRPC status.
	GRPC bool `json:"grpc,omitempty"`
}

// Rule is one HTTPRoute rule.
type Rule struct {
	// Index of the rule in the route's spec, a tie-breaker of precedence.
	Index int `json:"index"`
	// Matches are ORed; a rule with none in the spec gets one PathPrefix "/".
	Matches  []Match   `json:"matches"`
	Filters  []Filter  `json:"filters,omitempty"`
	Backends []Backend `json:"backends,omitempty"`
	Timeouts Timeouts  `json:"timeouts,omitzero"`
	// Retry, when set, sends a failed backend request again.
	Retry *Retry `json:"retry,omitempty"`
}

// PathMatchType is how a path is compared.
type PathMatchType string

const (
	PathExact  PathMatchType = "Exact"
	PathPrefix PathMatchType = "PathPrefix"
	PathRegex  PathMatchType = "RegularExpression"
)

// StringMatchType is how a header or query value is compared.
type StringMatchType string

const (
	MatchExact StringMatchType = "Exact"
	MatchRegex StringMatchType = "RegularExpression"
)

// Match is one HTTPRouteMatch; every condition in it must hold.
type Match struct {
	Path        PathMatch    `json:"path,omitzero"`
	Headers     []ValueMatch `json:"headers,omitempty"`
	QueryParams []ValueMatch `json:"queryParams,omitempty"`
	Method      string       `json:"method,omitempty"`
	// GRPC, on a GRPCRoute's match, replaces Path: the request path must be
	// "/service/method" as it says (nil on a GRPCRoute matches any).
	GRPC *GRPCMethodMatch `json:"grpc,omitempty"`
}

// PathMatch compares the request path.
type PathMatch struct {
	Type  PathMatchType `json:"type"`
	Value string        `json:"value"`
}

// ValueMatch compares one header (name case-insensitive) or query parameter
// (name case-sensitive).
type ValueMatch struct {
	Type  StringMatchType `json:"type"`
	Name  string          `json:"name"`
	Value string          `json:"value"`
}

// FilterType names a filter, as in HTTPRouteFilterType.
type FilterType string

const (
	FilterRequestHeaderModifier  FilterType = "RequestHeaderModifier"
	FilterResponseHeaderModifier FilterType = "ResponseHeaderModifier"
	FilterRequestRedirect        FilterType = "RequestRedirect"
	FilterURLRewrite             FilterType = "URLRewrite"
	FilterRequestMirror          FilterType = "RequestMirror"
	FilterCORS                   FilterType = "CORS"
)

// Filter is one HTTPRouteFilter; exactly the field named by Type is set.
type Filter struct {
	Type           FilterType      `json:"type"`
	RequestHeader  *HeaderModifier `json:"requestHeader,omitempty"`
	ResponseHeader *HeaderModifier `json:"responseHeader,omitempty"`
	Redirect       *Redirect       `json:"redirect,omitempty"`
	Rewrite        *Rewrite        `json:"rewrite,omitempty"`
	Mirror         *Mirror         `json:"mirror,omitempty"`
	CORS           *CORS           `json:"cors,omitempty"`
}

// Header is one header name and value.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HeaderModifier sets, adds and removes headers, in that order.
type HeaderModifier struct {
	Set    []Header `json:"set,omitempty"`
	Add    []Header `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// PathModifierType is how a redirect or rewrite changes the path.
type PathModifierType string

const (
	ReplaceFullPath    PathModifierType = "ReplaceFullPath"
	ReplacePrefixMatch PathModifierType = "ReplacePrefixMatch"
)

// PathModifier replaces the full path, or the part the PathPrefix matched.
type PathModifier struct {
	Type  PathModifierType `json:"type"`
	Value string           `json:"value"`
}

// Redirect answers with a redirect instead of proxying. Nil fields keep the
// request's own value.
type Redirect struct {
	Scheme     *string       `json:"scheme,omitempty"`
	Hostname   *string       `json:"hostname,omitempty"`
	Port       *int32        `json:"port,omitempty"`
	Path       *PathModifier `json:"path,omitempty"`
	StatusCode int           `json:"statusCode"`
}

// Rewrite changes the request before it goes to the backend.
type Rewrite struct {
	Hostname *string       `json:"hostname,omitempty"`
	Path     *PathModifier `json:"path,omitempty"`
}

// Mirror sends a copy of the request to Backend and ignores the answer.
type Mirror struct {
	Backend Backend `json:"backend"`
	// Percent of requests mirrored, 0 to 100.
	Percent float64 `json:"percent"`
}

// CORS answers preflight requests itself and adds the CORS response headers
// for allowed origins, as HTTPCORSFilter defines them.
type CORS struct {
	// AllowOrigins are "*" or "scheme://host[:port]", the host maybe
	// starting with "*." (any number of labels); a missing port is the
	// scheme's default.
	AllowOrigins     []string `json:"allowOrigins,omitempty"`
	AllowCredentials bool     `json:"allowCredentials,omitempty"`
	// AllowMethods, AllowHeaders and ExposeHeaders are names or one "*".
	AllowMethods  []string `json:"allowMethods,omitempty"`
	AllowHeaders  []string `json:"allowHeaders,omitempty"`
	ExposeHeaders []string `json:"exposeHeaders,omitempty"`
	// MaxAge is how many seconds a client may cache a preflight answer; 0
	// omits the header.
	MaxAge int32 `json:"maxAge,omitempty"`
}

// AppProtocol is how the proxy speaks to a backend.
type AppProtocol string

const (
	AppProtocolHTTP1     AppProtocol = ""
	AppProtocolH2C       AppProtocol = "kubernetes.io/h2c"
	AppProtocolWebSocket AppProtocol = "kubernetes.io/ws"
	// AppProtocolHTTP2 is HTTP/2 over the backend's TLS (ALPN h2): gRPC to
	// a backend with a BackendTLSPolicy.
	AppProtocolHTTP2 AppProtocol = "h2"
)

// Backend is one backendRef resolved to endpoints.
type Backend struct {
	// Name identifies the backend: "namespace/service:port".
	Name   string `json:"name"`
	Weight int32  `json:"weight"`
	// Unresolved is why the backendRef did not resolve (not found, not
	// permitted, wrong kind); its share of requests gets 500.
	Unresolved  string      `json:"unresolved,omitempty"`
	AppProtocol AppProtocol `json:"appProtocol,omitempty"`
	// TLS, when set, makes the proxy speak TLS to the endpoints.
	TLS *BackendTLS `json:"tls,omitempty"`
	// Endpoints are the ready endpoints; none means 503.
	Endpoints []Endpoint `json:"endpoints,omitempty"`
	// Source is the Service port Endpoints come from, so that a Compiler's
	// tables share them and take endpoint changes in place.
	Source EndpointSource `json:"-"`
	// Filters applied only for requests sent to this backend.
	Filters []Filter `json:"filters,omitempty"`
}

// BackendTLS is how the proxy connects to a backend over TLS, from a
// BackendTLSPolicy: ServerName is the SNI and, without SubjectAltNames, the
// name the backend's certificate must carry; with them, the certificate
// must carry one of them instead. The certificate must chain to the CAs
// (CAPEM, or the system's when SystemCAs).
type BackendTLS struct {
	// Policy names the source: "namespace/name".
	Policy          string           `json:"policy"`
	ServerName      string           `json:"serverName"`
	SubjectAltNames []SubjectAltName `json:"subjectAltNames,omitempty"`
	// CACertificates name the CA sources: "Kind namespace/name".
	CACertificates []string `json:"caCertificates,omitempty"`
	CAPEM          []byte   `json:"-"`
	SystemCAs      bool     `json:"systemCAs,omitempty"`
}

// SubjectAltNameType is the kind of name a SubjectAltName compares.
type SubjectAltNameType string

const (
	SANHostname SubjectAltNameType = "Hostname"
	SANURI      SubjectAltNameType = "URI"
)

// SubjectAltName is one name a backend certificate may carry: a DNS name
// (wildcards in the certificate match as in hostname verification) or an
// exact URI such as a SPIFFE ID.
type SubjectAltName struct {
	Type  SubjectAltNameType `json:"type"`
	Value string             `json:"value"`
}

// Endpoint is one ready address of a backend.
type Endpoint struct {
	Address string `json:"address"`
	Port    int32  `json:"port"`
}

// Retry is a rule's retry policy: a backend request that fails to connect,
// times out (Timeouts.BackendRequest) or answers one of Codes is sent again,
// up to Attempts more times, waiting at least Backoff before each retry.
type Retry struct {
	Codes    []int         `json:"codes,omitempty"`
	Attempts int           `json:"attempts"`
	Backoff  time.Duration `json:"backoff"`
}

// Timeouts of a rule; zero means none.
type Timeouts struct {
	Request        time.Duration `json:"request,omitempty"`
	BackendRequest time.Duration `json:"backendRequest,omitempty"`
}
