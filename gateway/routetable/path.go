package routetable

import (
	"net/url"
	"strings"
)

// PathError says why a request path cannot be normalised safely; the
// proxy answers such a request with 400 and Error as the body.
type PathError struct {
	// Reason is a short label for metrics, e.g. "climbs_above_root".
	Reason string
	msg    string
}

func (e *PathError) Error() string { return e.msg }

// The ways a path can be refused; each message says what to do.
var (
	errClimbsAboveRoot = &PathError{"climbs_above_root", `the request path climbs above the root with ".."; remove the extra ".." segments`}
	errBackslash       = &PathError{"backslash", `the request path contains "\"; separate path segments with "/"`}
	errControl         = &PathError{"control_character", "the request path contains a control character (%00-%1F or %7F); remove it"}
	ErrInvalidEscape   = &PathError{"invalid_escape", `the request path has a "%" not followed by two hex digits; encode a literal "%" as %25`}
	errDotParameters   = &PathError{"dot_segment_parameters", `the request path has a "." or ".." segment with ";" parameters; remove the parameters`}
	errNotAbsolute     = &PathError{"not_absolute", `the request path does not start with "/"; send an absolute path`}
	ErrEncodedSlash    = &PathError{"encoded_slash", `the request path has an encoded "/" or "\" (%2F or %5C) that would route it elsewhere once decoded; send the slash unencoded`}
)

// NormalizePath returns the normal form of an escaped request path (as
// sent, without the query): unreserved characters percent-decoded and other
// escapes in uppercase hex (RFC 3986 §6.2.2.1-2), characters a path may not
// hold raw percent-encoded, empty segments dropped (merged slashes) and
// then "." and ".." segments resolved (RFC 3986 §5.2.4). A clean path is
// returned as is, without allocating. "" stays "" (no path to route by).
// %2F and %5C are kept: they are data inside a segment, and whether they
// may pass depends on the route table (the proxy checks that the decoded
// path picks the same rule).
func NormalizePath(escaped string) (string, error) {
	if escaped == "" || isNormalPath(escaped) {
		return escaped, nil
	}
	if escaped[0] != '/' {
		return "", errNotAbsolute
	}
	canonical, err := canonicalEscapes(escaped)
	if err != nil {
		return "", err
	}
	return resolveSegments(canonical)
}

// isNormalPath is the fast path: true when NormalizePath would return p
// unchanged. It only reads p.
func isNormalPath(p string) bool {
	if p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '/':
			if i+1 < len(p) && (p[i+1] == '/' || dotSegmentAt(p, i+1)) {
				return false
			}
		case c == '%':
			if i+2 >= len(p) || !isUpperHex(p[i+1]) || !isUpperHex(p[i+2]) {
				return false
			}
			if v := unhex(p[i+1])<<4 | unhex(p[i+2]); isUnreserved(v) || isControl(v) {
				return false
			}
			i += 2
		case !rawPathChar[c]:
			return false
		}
	}
	return true
}

// dotSegmentAt reports whether the segment starting at p[i] is ".", ".."
// or one of them with ";" parameters.
func dotSegmentAt(p string, i int) bool {
	if i >= len(p) || p[i] != '.' {
		return false
	}
	if i+1 < len(p) && p[i+1] == '.' {
		i++
	}
	return i+1 == len(p) || p[i+1] == '/' || p[i+1] == ';'
}

// canonicalEscapes decodes escaped unreserved characters, uppercases the
// other escapes and escapes raw characters a path may not hold.
func canonicalEscapes(p string) (string, error) {
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "", ErrInvalidEscape
			}
			v := unhex(p[i+1])<<4 | unhex(p[i+2])
			i += 2
			switch {
			case isControl(v):
				return "", errControl
			case isUnreserved(v):
				b.WriteByte(v)
			default:
				writeEscape(&b, v)
			}
		case c == '\\':
			return "", errBackslash
		case isControl(c):
			return "", errControl
		case rawPathChar[c]:
			b.WriteByte(c)
		default: // a space, `"<>^{|}` or a byte of UTF-8: escaped as Go's url package escapes it
			writeEscape(&b, c)
		}
	}
	return b.String(), nil
}

// resolveSegments drops empty segments, then removes dot segments; a ".."
// with nothing left to remove climbs above the root and is refused.
func resolveSegments(p string) (string, error) {
	segments := make([]string, 0, strings.Count(p, "/"))
	trailingSlash := false
	for seg := range strings.SplitSeq(p[1:], "/") {
		trailingSlash = false
		switch {
		case seg == "":
			trailingSlash = true
		case seg == ".":
			trailingSlash = true
		case seg == "..":
			if len(segments) == 0 {
				return "", errClimbsAboveRoot
			}
			segments = segments[:len(segments)-1]
			trailingSlash = true
		case strings.HasPrefix(seg, ".;"), strings.HasPrefix(seg, "..;"):
			return "", errDotParameters // Tomcat and Spring read "..;x" as ".."
		default:
			segments = append(segments, seg)
		}
	}
	out := "/" + strings.Join(segments, "/")
	if trailingSlash && len(segments) > 0 {
		out += "/"
	}
	return out, nil
}

// SlashesDecoded is path with %2F and %5C read as "/", normalised again: the
// path a backend that decodes them would resolve.
func SlashesDecoded(path string) (string, error) {
	r := strings.NewReplacer("%2F", "/", "%5C", "/")
	return NormalizePath(r.Replace(path))
}

// HasEncodedSlash reports whether a normalised request path holds %2F or
// %5C. A "\" in Path can only come from %5C (a raw one is refused), and
// %2F always leaves RawPath set, so most paths cost one IndexByte.
func HasEncodedSlash(u *url.URL) bool {
	return strings.IndexByte(u.Path, '\\') >= 0 || u.RawPath != "" && hasEscapedSlash(u.RawPath)
}

// hasEscapedSlash reports whether a normal escaped path holds %2F or %5C.
func hasEscapedSlash(path string) bool {
	for i := strings.IndexByte(path, '%'); i >= 0 && i+2 < len(path); {
		if e := path[i+1 : i+3]; e == "2F" || e == "5C" {
			return true
		}
		next := strings.IndexByte(path[i+1:], '%')
		if next < 0 {
			return false
		}
		i += 1 + next
	}
	return false
}

// rawPathChar is what a normal path holds unescaped: RFC 3986 pchar and "/"
// (unreserved, sub-delims, ":", "@"), plus "[" and "]", which Go's url
// package also leaves alone in a path.
var rawPathChar = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~!$&'()*+,;=:@/[]" {
		t[c] = true
	}
	return t
}()

func isUnreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

func isControl(c byte) bool { return c < 0x20 || c == 0x7f }

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func isUpperHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

func writeEscape(b *strings.Builder, c byte) {
	const hex = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hex[c>>4])
	b.WriteByte(hex[c&15])
}
