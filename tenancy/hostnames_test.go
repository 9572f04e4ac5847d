package tenancy

import (
	"slices"
	"testing"
)

func TestHostCovers(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"a.com", "a.com", true},
		{"A.Com.", "a.com", true},
		{"a.com", "b.a.com", false},
		{"*.a.com", "b.a.com", true},
		{"*.a.com", "c.b.a.com", true},
		{"*.a.com", "a.com", false},
		{"*.a.com", "ba.com", false},
		{"*.a.com", "*.a.com", true},
		{"*.a.com", "*.b.a.com", true},
		{"*.b.a.com", "*.a.com", false},
		{"b.a.com", "*.a.com", false},
		{"*", "anything.at.all", true},
		{"*", "*.com", true},
	} {
		if got := parseHost(tc.a).covers(parseHost(tc.b)); got != tc.want {
			t.Errorf("%q covers %q = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestHostIndex(t *testing.T) {
	owner := &tenantInfo{name: "t"}
	for _, h := range []string{"a.com", "*.a.com", "b.a.com", "*.c.b.a.com", "ab.com", "*.com.a"} {
		owner.hosts = append(owner.hosts, &ownedHost{tenant: owner, pattern: parseHost(h)})
	}
	idx := newHostIndex([]*tenantInfo{owner})
	collect := func(query func(hostPattern, func(*ownedHost) bool), h string) []string {
		var out []string
		query(parseHost(h), func(o *ownedHost) bool {
			out = append(out, o.pattern.String())
			return true
		})
		return out
	}
	for _, tc := range []struct {
		name  string
		query func(hostPattern, func(*ownedHost) bool)
		host  string
		want  []string
	}{
		{"exact name, most specific first", idx.covering, "b.a.com", []string{"b.a.com", "*.a.com"}},
		{"deep name under two wildcards", idx.covering, "x.c.b.a.com", []string{"*.c.b.a.com", "*.a.com"}},
		{"apex is not under its wildcard", idx.covering, "a.com", []string{"a.com"}},
		{"wildcard inside a wildcard", idx.covering, "*.b.a.com", []string{"*.a.com"}},
		{"below a wildcard, label-aligned", idx.below, "*.a.com", []string{"b.a.com", "*.c.b.a.com"}},
		{"below an exact name is nothing", idx.below, "a.com", nil},
		{"below the any-host wildcard is everything", idx.below, "*", []string{"*.com.a", "a.com", "*.a.com", "b.a.com", "*.c.b.a.com", "ab.com"}},
		{"overlapping combines both", idx.overlapping, "*.b.a.com", []string{"*.a.com", "*.c.b.a.com"}},
		{"overlapping reports an equal wildcard once", idx.overlapping, "*.a.com", []string{"*.a.com", "b.a.com", "*.c.b.a.com"}},
	} {
		if got := collect(tc.query, tc.host); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q -> %q, want %q", tc.name, tc.host, got, tc.want)
		}
	}
}
