package hostname

import (
	"slices"
	"testing"
)

func TestCovers(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want bool
	}{
		{"any covers a name", "", "a.example.com", true},
		{"bare wildcard covers a wildcard", "*", "*.example.com", true},
		{"a name covers only itself", "a.example.com", "a.example.com", true},
		{"a name does not cover another", "a.example.com", "b.example.com", false},
		{"a name does not cover any", "a.example.com", "", false},
		{"wildcard covers a name below", "*.example.com", "a.example.com", true},
		{"wildcard covers a deeper name", "*.example.com", "a.b.example.com", true},
		{"wildcard covers a narrower wildcard", "*.example.com", "*.a.example.com", true},
		{"wildcard covers itself", "*.example.com", "*.example.com", true},
		{"wildcard does not cover its domain", "*.example.com", "example.com", false},
		{"suffix starts at a label", "*.example.com", "badexample.com", false},
		{"narrow wildcard does not cover a wider one", "*.a.example.com", "*.example.com", false},
		{"wildcard does not cover any", "*.example.com", "", false},
		{"wildcard does not cover bare wildcard", "*.example.com", "*", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Covers(tt.a, tt.b); got != tt.want {
				t.Errorf("Covers(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestIntersect(t *testing.T) {
	tests := []struct {
		listener, route, want string
		ok                    bool
	}{
		{"", "a.example.com", "a.example.com", true},
		{"*.example.com", "a.example.com", "a.example.com", true},
		{"very.specific.com", "*.specific.com", "very.specific.com", true},
		{"*.example.com", "*.a.example.com", "*.a.example.com", true},
		{"*.example.com", "*.com", "*.example.com", true},
		{"*.example.com", "example.com", "", false},
		{"a.example.com", "b.example.com", "", false},
	}
	for _, tt := range tests {
		got, ok := Intersect(tt.listener, tt.route)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Intersect(%q, %q) = %q, %v; want %q, %v", tt.listener, tt.route, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNormalizeAndFromHost(t *testing.T) {
	for in, want := range map[string]string{
		"A.Example.COM.":       "a.example.com",
		"a.example.com:8080":   "a.example.com",
		"[::1]:443":            "::1",
		"Shop.Example.com.:80": "shop.example.com",
	} {
		if got := FromHost(in); got != want {
			t.Errorf("FromHost(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Normalize("*.Example.com."); got != "*.example.com" {
		t.Errorf("Normalize = %q", got)
	}
}

func TestParentsAreExactlyTheCoveringWildcards(t *testing.T) {
	tests := map[string][]string{
		"x.a.com":   {"*.a.com", "*.com", "*"},
		"*.x.a.com": {"*.x.a.com", "*.a.com", "*.com", "*"},
		"com":       {"*"},
		"*":         nil,
		"":          nil,
	}
	for p, want := range tests {
		var got []string
		Parents(p, func(w string) bool { got = append(got, w); return true })
		if !slices.Equal(got, want) {
			t.Errorf("Parents(%q) = %q, want %q", p, got, want)
		}
		for _, w := range got {
			if !Covers(w, p) {
				t.Errorf("Parents(%q) yields %q, which does not cover it", p, w)
			}
		}
	}
}

func TestCompareOrdersBySpecificity(t *testing.T) {
	in := []string{"", "*.example.com", "a.example.com", "*.a.example.com", "b.a.example.com", "*"}
	slices.SortFunc(in, Compare)
	want := []string{"b.a.example.com", "a.example.com", "*.a.example.com", "*.example.com", "*", ""}
	if !slices.Equal(in, want) {
		t.Errorf("sorted = %q, want %q", in, want)
	}
}

func FuzzOverlapsIsSymmetricAndCoversImpliesIntersect(f *testing.F) {
	for _, s := range [][2]string{{"*.a.com", "b.a.com"}, {"", "x"}, {"*", "*.a"}, {"a.com", "a.com"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		a, b = Normalize(a), Normalize(b)
		if Overlaps(a, b) != Overlaps(b, a) {
			t.Fatalf("Overlaps(%q, %q) is not symmetric", a, b)
		}
		if Covers(a, b) {
			if got, ok := Intersect(a, b); !ok || got != b {
				t.Fatalf("Covers(%q, %q) but Intersect = %q, %v", a, b, got, ok)
			}
		}
	})
}
