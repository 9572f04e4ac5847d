package tenancy

import (
	"slices"
	"sort"
	"strings"

	"github.com/tenantgate/tenantgate/gateway/hostname"
)

// hostPattern is a hostname normalized by package hostname, whose rules
// (wildcards, coverage, overlap) the policy uses: "*.example.com" matches
// the names below example.com, a bare "*" (and "") every name.
type hostPattern string

func parseHost(s string) hostPattern { return hostPattern(hostname.Normalize(s)) }

func (h hostPattern) String() string { return string(h) }

// wildcard reports whether h is "*" or "*.domain".
func (h hostPattern) wildcard() bool { return hostname.IsWildcard(string(h)) }

// domain is what a wildcard matches names below, or an exact name itself.
func (h hostPattern) domain() string { return hostname.Domain(string(h)) }

// covers reports whether every name b matches is also matched by h.
func (h hostPattern) covers(b hostPattern) bool { return hostname.Covers(string(h), string(b)) }

// overlaps reports whether some name is matched by both patterns.
func (h hostPattern) overlaps(b hostPattern) bool { return hostname.Overlaps(string(h), string(b)) }

// reversedKey orders a pattern by its labels from the root, so that all
// patterns below a domain form one contiguous range of a sorted slice:
// "shop.example.com" -> "com.example.shop", "*.example.com" -> "com.example.*".
func (h hostPattern) reversedKey() string {
	d := h.domain()
	labels := strings.Split(d, ".")
	if d == "" {
		labels = nil
	}
	slices.Reverse(labels)
	if h.wildcard() {
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
			if o.pattern.wildcard() {
				idx.wildcard[o.pattern.domain()] = append(idx.wildcard[o.pattern.domain()], o)
			} else {
				idx.exact[o.pattern.domain()] = append(idx.exact[o.pattern.domain()], o)
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
	d := h.domain()
	if h.wildcard() {
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
	if !h.wildcard() {
		return
	}
	prefix := ""
	if h.domain() != "" {
		prefix = hostPattern(h.domain()).reversedKey() + "."
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
