package proxy

import (
	"net/http"
	"strings"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// corsResponseHeaders are the headers the gateway answers for an allowed
// origin; they replace a backend's own.
var corsResponseHeaders = [...]string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"}

// corsOf is the CORS filter that applies: the chosen backend's, else the rule's.
func corsOf(rule *routetable.CompiledRule, backend *routetable.CompiledBackend) *routetable.CompiledCORS {
	if backend != nil && backend.Filters.CORS != nil {
		return backend.Filters.CORS
	}
	return rule.Filters.CORS
}

// isPreflight reports whether r is a CORS preflight request (Fetch 3.2.2).
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// applyCORS answers a preflight itself, 204 with the CORS headers when the
// origin is allowed and without them when not, and reports true. For any
// other request from an allowed origin it sets the response's CORS headers
// and reports false; the request then goes on.
func applyCORS(w http.ResponseWriter, r *http.Request, ex *exchange, c *routetable.CompiledCORS) bool {
	origin := r.Header.Get("Origin")
	allowed := c.AllowsOrigin(origin)
	h := w.Header()
	if allowed {
		ex.corsHeaders = true
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin") // the answer depends on the Origin, so caches must key on it
		if c.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if c.ExposeHeaders != "" {
			h.Set("Access-Control-Expose-Headers", c.ExposeHeaders)
		}
	}
	if !isPreflight(r) {
		return false
	}
	if allowed {
		if v := c.AllowMethods(r.Header.Get("Access-Control-Request-Method")); v != "" {
			h.Set("Access-Control-Allow-Methods", v)
		}
		if v := c.AllowHeaders(strings.Join(r.Header.Values("Access-Control-Request-Headers"), ", ")); v != "" {
			h.Set("Access-Control-Allow-Headers", v)
		}
		if c.MaxAge != "" {
			h.Set("Access-Control-Max-Age", c.MaxAge)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return true
}

// takeCORSHeaders moves the CORS headers the gateway set on the client's
// response into the backend's, replacing the backend's own, so response
// filters applied afterwards see and may change them.
func takeCORSHeaders(from, to http.Header) {
	for _, name := range corsResponseHeaders {
		if v, ok := from[name]; ok {
			to[name] = v
			delete(from, name)
		} else {
			delete(to, name)
		}
	}
}
