package routetable

import (
	"fmt"
	"strconv"
	"strings"
)

// CompiledCORS is a CORS filter with its origins parsed and its header
// values joined once, so answering a request only compares strings.
type CompiledCORS struct {
	AllowCredentials bool
	anyOrigin        bool
	origins          []originPattern
	anyMethod        bool
	methods          string // joined with ", "
	anyHeader        bool
	headers          string // joined with ", "
	// ExposeHeaders is the Access-Control-Expose-Headers value, "" for none.
	ExposeHeaders string
	// MaxAge is the Access-Control-Max-Age value, "" for none.
	MaxAge string
}

// originPattern is one allowed origin: scheme, host (a "*." prefix or a lone
// "*" is a wildcard) and port, the scheme's default when the origin has none.
type originPattern struct {
	scheme, host, port string
}

// AllowsOrigin reports whether a request's Origin header value is allowed.
// It does not allocate.
func (c *CompiledCORS) AllowsOrigin(origin string) bool {
	if origin == "" {
		return false
	}
	if c.anyOrigin {
		return true
	}
	scheme, host, port, ok := splitOrigin(origin)
	if !ok {
		return false
	}
	for _, p := range c.origins {
		if strings.EqualFold(p.scheme, scheme) && p.port == port && p.matchesHost(host) {
			return true
		}
	}
	return false
}

func (p *originPattern) matchesHost(host string) bool {
	switch {
	case p.host == "*":
		return true
	case strings.HasPrefix(p.host, "*."):
		suffix := p.host[1:] // ".bar.com": "*" takes one label or more
		return len(host) > len(suffix) && strings.EqualFold(host[len(host)-len(suffix):], suffix)
	}
	return strings.EqualFold(p.host, host)
}

// AllowMethods is the Access-Control-Allow-Methods value of a preflight
// answer, "" to omit it. A wildcard echoes the requested method, and is
// answered "*" only without credentials, as HTTPCORSFilter requires.
func (c *CompiledCORS) AllowMethods(requested string) string {
	return c.allow(c.anyMethod, c.methods, requested)
}

// AllowHeaders is the Access-Control-Allow-Headers value of a preflight
// answer, "" to omit it; a wildcard echoes the requested headers.
func (c *CompiledCORS) AllowHeaders(requested string) string {
	return c.allow(c.anyHeader, c.headers, requested)
}

func (c *CompiledCORS) allow(wildcard bool, listed, requested string) string {
	switch {
	case !wildcard:
		return listed
	case requested != "":
		return requested
	case !c.AllowCredentials:
		return "*"
	}
	return ""
}

// CheckCORS returns the error that would leave a rule with this CORS filter
// out of the table; the translator calls it on every CORS filter it keeps.
func CheckCORS(in *CORS) error {
	_, err := compileCORS(in, "the filter")
	return err
}

// compileCORS checks the origins and joins the header values.
func compileCORS(in *CORS, where string) (*CompiledCORS, error) {
	c := &CompiledCORS{AllowCredentials: in.AllowCredentials}
	for _, o := range in.AllowOrigins {
		if o == "*" {
			c.anyOrigin = true
			continue
		}
		scheme, host, port, ok := splitOrigin(o)
		wildcard := host == "*" || strings.HasPrefix(host, "*.")
		if !ok || (scheme != "http" && scheme != "https") || strings.Contains(strings.TrimPrefix(host, "*"), "*") || (host[0] == '*' && !wildcard) {
			return nil, fmt.Errorf("%s has CORS origin %q; use \"*\" or scheme://host[:port] with scheme http or https", where, o)
		}
		n, _ := strconv.Atoi(port) // "0443" is "443"
		c.origins = append(c.origins, originPattern{scheme: scheme, host: host, port: strconv.Itoa(n)})
	}
	var err error
	if c.anyMethod, c.methods, err = joinNames(in.AllowMethods, "method", where); err != nil {
		return nil, err
	}
	if c.anyHeader, c.headers, err = joinNames(in.AllowHeaders, "header", where); err != nil {
		return nil, err
	}
	anyExposed, exposed, err := joinNames(in.ExposeHeaders, "exposed header", where)
	switch {
	case err != nil:
		return nil, err
	case anyExposed && !in.AllowCredentials:
		c.ExposeHeaders = "*"
	case !anyExposed:
		c.ExposeHeaders = exposed
	} // with credentials "*" would mean a header named "*", so nothing is exposed
	if in.MaxAge > 0 {
		c.MaxAge = strconv.Itoa(int(in.MaxAge))
	}
	return c, nil
}

// joinNames joins names with ", "; a lone "*" is a wildcard and "*" among
// other names an error.
func joinNames(names []string, kind, where string) (wildcard bool, joined string, err error) {
	for _, n := range names {
		if n == "*" && len(names) > 1 {
			return false, "", fmt.Errorf("%s lists CORS %s \"*\" with other values; keep \"*\" alone or drop it", where, kind)
		}
	}
	if len(names) == 1 && names[0] == "*" {
		return true, "", nil
	}
	return false, strings.Join(names, ", "), nil
}

// splitOrigin splits "scheme://host[:port]" without allocating; a missing
// port is the scheme's default (80 for http, 443 for https). The scheme is
// returned as written.
func splitOrigin(origin string) (scheme, host, port string, ok bool) {
	scheme, rest, ok := strings.Cut(origin, "://")
	if !ok || scheme == "" || rest == "" || strings.ContainsAny(rest, "/?#@") {
		return "", "", "", false
	}
	host = rest
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i:], "]") {
		host, port = rest[:i], rest[i+1:]
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", "", "", false
		}
	}
	if port == "" {
		switch {
		case strings.EqualFold(scheme, "http"):
			port = "80"
		case strings.EqualFold(scheme, "https"):
			port = "443"
		}
	}
	return scheme, host, port, host != ""
}
