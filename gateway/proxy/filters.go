package proxy

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// modifyHeaders sets, adds and removes headers in that order; names are
// canonical already (routetable canonicalizes them).
func modifyHeaders(h http.Header, mod *routetable.HeaderModifier) {
	for _, set := range mod.Set {
		h[set.Name] = []string{set.Value}
	}
	for _, add := range mod.Add {
		h[add.Name] = append(h[add.Name], add.Value)
	}
	for _, name := range mod.Remove {
		delete(h, name)
	}
}

// modifyRequestHeaders is modifyHeaders for a request, where Go keeps the
// Host header in a field of its own.
func modifyRequestHeaders(r *http.Request, mod *routetable.HeaderModifier) {
	modifyHeaders(r.Header, mod)
	if host := r.Header["Host"]; len(host) > 0 {
		r.Host = host[len(host)-1]
		delete(r.Header, "Host")
	}
}

// replacePrefix swaps the path prefix a PathPrefix match matched (given
// without its trailing slash) for replacement, following the table in the
// HTTPPathModifier.ReplacePrefixMatch documentation.
func replacePrefix(path, prefix, replacement string) string {
	rest := strings.TrimPrefix(path, prefix) // "" or "/..." since the match was segment-aware
	if out := strings.TrimSuffix(replacement, "/") + rest; out != "" {
		return out
	}
	return "/"
}

// modifiedPath is the escaped path after a path modifier; m is the match
// that selected the rule, whose prefix ReplacePrefixMatch replaces.
func modifiedPath(escapedPath string, mod *routetable.PathModifier, m *routetable.CompiledMatch) string {
	switch {
	case mod == nil:
		return escapedPath
	case mod.Type == routetable.ReplaceFullPath:
		return mod.Value
	case mod.Type == routetable.ReplacePrefixMatch && m.Path.Type == routetable.PathPrefix:
		return replacePrefix(escapedPath, m.PathPrefix(), mod.Value)
	}
	return escapedPath
}

// setEscapedPath gives u a new path given in escaped form.
func setEscapedPath(u *url.URL, escaped string) {
	path, err := url.PathUnescape(escaped)
	if err != nil {
		path = escaped
	}
	u.Path, u.RawPath = path, escaped
}

// rewriteRequest applies a URLRewrite filter to an outbound request.
func rewriteRequest(out *http.Request, rw *routetable.Rewrite, m *routetable.CompiledMatch) {
	if rw.Hostname != nil {
		out.Host = *rw.Hostname
	}
	if rw.Path != nil {
		setEscapedPath(out.URL, modifiedPath(out.URL.EscapedPath(), rw.Path, m))
	}
}

// redirectLocation builds the Location of a RequestRedirect as the
// HTTPRequestRedirectFilter documentation defines it; unset fields keep the
// request's scheme, host and path, the query is kept.
func redirectLocation(rd *routetable.Redirect, r *http.Request, l *routetable.CompiledListener, m *routetable.CompiledMatch) string {
	scheme := "http"
	if l.Protocol == routetable.ProtocolHTTPS {
		scheme = "https"
	}
	port := l.Port
	if rd.Scheme != nil {
		scheme = *rd.Scheme
		port = wellKnownPort(scheme, l.Port)
	}
	if rd.Port != nil {
		port = *rd.Port
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if rd.Hostname != nil {
		host = *rd.Hostname
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]" // an IPv6 literal from the Host header
	}
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(host)
	if port != wellKnownPort(scheme, 0) {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(int(port)))
	}
	b.WriteString(modifiedPath(r.URL.EscapedPath(), rd.Path, m))
	if r.URL.RawQuery != "" {
		b.WriteString("?")
		b.WriteString(r.URL.RawQuery)
	}
	return b.String()
}

// wellKnownPort is 80 for http and 443 for https, else fallback.
func wellKnownPort(scheme string, fallback int32) int32 {
	switch scheme {
	case "http":
		return 80
	case "https":
		return 443
	}
	return fallback
}

// hopByHop are the headers that describe one connection, not the request.
var hopByHop = []string{"Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// removeHopByHop deletes hop-by-hop headers and those Connection names.
func removeHopByHop(h http.Header) {
	for _, value := range h["Connection"] {
		for name := range strings.SplitSeq(value, ",") {
			if name = strings.TrimSpace(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		delete(h, name)
	}
}
