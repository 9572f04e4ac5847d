package tenancy

import (
	"slices"
	"sort"
	"strings"
)

// hostPattern is a normalized hostname: lower case, no trailing dot. For a
// wildcard "*.example.com", wildcard is set and domain is "example.com"; a
// bare "*" is a wildcard with an empty domain and matches every name.
type hostPattern struct {
	wildcard bool
	domain   string
}

func parseHost(s string) hostPattern {
	s = strings.TrimSuffix(strings.ToLower(s), ".")
	if s == "*" {
		return hostPattern{wildcard: true}
	}
	if rest, ok := strings.CutPrefix(s, "*."); ok {
		return hostPattern{wildcard: true, domain: rest}
	}
	return hostPattern{domain: s}
}

func (h hostPattern) String() string {
	switch {
	case !h.wildcard:
		return h.domain
	case h.domain == "":
		return "*"
	default:
		return "*." + h.domain
	}
}

// covers reports whether every name b matches is also matched by h
// ("*.a.com" covers "x.a.com" and "*.x.a.com" but not "a.com").
func (h hostPattern) covers(b hostPattern) bool {
	if !h.wildcard {
		return !b.wildcard && h.domain == b.domain
	}
	if h.domain == "" {
		return true
	}
	if b.wildcard && b.domain == h.domain {
		return true
	}
	return strings.HasSuffix(b.domain, "."+h.domain)
}

// overlaps reports whether some name is matched by both patterns; for
// hostnames that is the case exactly when one covers the other.
func (h hostPattern) overlaps(b hostPattern) bool {
	return h.covers(b) || b.covers(h)
}

// reversedKey orders a pattern by its labels from the root, so that all
// patterns below a domain form one contiguous range of a sorted slice:
// "shop.example.com" -> "com.example.shop", "*.example.com" -> "com.example.*".
func (h hostPattern) reversedKey() string {
	labels := strings.Split(h.domain, ".")
	if h.domain == "" {
		labels = nil
	}
	slices.Reverse(labels)
	if h.wildcard {
		labels = append(labels, "*")
	}
	return strings.Join(labels, ".")
}

// ownedHost is one entry of a Tenant's spec.hostnames, normalized.
type ownedHost struct {
	tenant   *tenantInfo
	index    int // position in spec.hostnames, for field paths
	pattern  hostPattern
	prefixes []string // normalized path prefixes; nil means the whole host
}

// shared reports whether the tenant owns only some paths on the host.
func (o *ownedHost) shared() bool { return len(o.prefixes) > 0 }

type keyedHost struct {
	key   string
	owned *ownedHost
}

// hostIndex finds the tenant hostnames that cover or lie below a pattern in
// time proportional to its number of labels (plus the matches).
type hostIndex struct {
	exact    map[string][]*ownedHost // by domain of an exact entry
	wildcard map[string][]*ownedHost // by domain of a "*.domain" entry
	sorted   []keyedHost             // by reversedKey, for "below" queries
}

func newHostIndex(tenants []*tenantInfo) *hostIndex {
	idx := &hostIndex{exact: map[string][]*ownedHost{}, wildcard: map[string][]*ownedHost{}}
	for _, t := range tenants {
		for _, o := range t.hosts {
			if o.pattern.wildcard {
				idx.wildcard[o.pattern.domain] = append(idx.wildcard[o.pattern.domain], o)
			} else {
				idx.exact[o.pattern.domain] = append(idx.exact[o.pattern.domain], o)
			}
			idx.sorted = append(idx.sorted, keyedHost{key: o.pattern.reversedKey(), owned: o})
		}
	}
	sort.SliceStable(idx.sorted, func(i, j int) bool { return idx.sorted[i].key < idx.sorted[j].key })
	return idx
}

// covering calls yield for every owned entry that covers h, most specific
// first, until yield returns false.
func (idx *hostIndex) covering(h hostPattern, yield func(*ownedHost) bool) {
	each := func(list []*ownedHost) bool {
		for _, o := range list {
			if !yield(o) {
				return false
			}
		}
		return true
	}
	d := h.domain
	if h.wildcard {
		if !each(idx.wildcard[d]) {
			return
		}
	} else if !each(idx.exact[d]) || (d == "" && !each(idx.wildcard[""])) {
		return
	}
	for d != "" {
		if dot := strings.IndexByte(d, '.'); dot >= 0 {
			d = d[dot+1:]
		} else {
			d = ""
		}
		if !each(idx.wildcard[d]) {
			return
		}
	}
}

// below calls yield for every owned entry that h covers and that does not
// equal h, until yield returns false.
func (idx *hostIndex) below(h hostPattern, yield func(*ownedHost) bool) {
	if !h.wildcard {
		return
	}
	prefix := ""
	if h.domain != "" {
		prefix = hostPattern{domain: h.domain}.reversedKey() + "."
	}
	self := h.reversedKey()
	i := sort.Search(len(idx.sorted), func(i int) bool { return idx.sorted[i].key >= prefix })
	for ; i < len(idx.sorted) && strings.HasPrefix(idx.sorted[i].key, prefix); i++ {
		if idx.sorted[i].key == self {
			continue
		}
		if !yield(idx.sorted[i].owned) {
			return
		}
	}
}

// overlapping calls yield for every owned entry that shares a name with h.
func (idx *hostIndex) overlapping(h hostPattern, yield func(*ownedHost) bool) {
	more := true
	idx.covering(h, func(o *ownedHost) bool {
		more = yield(o)
		return more
	})
	if more {
		idx.below(h, yield)
	}
}
