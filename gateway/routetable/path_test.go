package routetable

import (
	"strings"
	"testing"
)

func TestNormalizePath(t *testing.T) {
	cases := []struct {
		name, in, want string
		err            *PathError
	}{
		// Left alone: what clean paths look like.
		{"root", "/", "/", nil},
		{"plain", "/apples/ripe", "/apples/ripe", nil},
		{"trailing slash kept", "/apples/", "/apples/", nil},
		{"file with dots", "/static/app.min.js", "/static/app.min.js", nil},
		{"three dots is a name", "/a/.../b", "/a/.../b", nil},
		{"dot prefix is a name", "/.well-known/acme", "/.well-known/acme", nil},
		{"uppercase escape of a reserved character", "/a%20b/c%3Fd", "/a%20b/c%3Fd", nil},
		{"sub-delims and colon raw", "/a;v=1/b:c@d!$&'()*+,=", "/a;v=1/b:c@d!$&'()*+,=", nil},
		{"encoded slash kept for the router to judge", "/api/group%2Fproject", "/api/group%2Fproject", nil},
		{"encoded percent stays", "/a%252e%252e/b", "/a%252e%252e/b", nil},
		{"empty stays empty", "", "", nil},

		// Normalised: equivalent spellings of one path.
		{"encoded unreserved decoded", "/%61pples/%7Euser", "/apples/~user", nil},
		{"lowercase escape uppercased", "/a%2fb/%3f", "/a%2Fb/%3F", nil},
		{"raw characters escaped", `/a b/"q"/{x}|^` + "`", "/a%20b/%22q%22/%7Bx%7D%7C%5E%60", nil},
		{"utf-8 escaped", "/caf\xc3\xa9", "/caf%C3%A9", nil},
		{"dot segment", "/a/./b", "/a/b", nil},
		{"dot-dot segment inside", "/a/b/../c", "/a/c", nil},
		{"encoded dot-dot (the attack on a split host)", "/a/%2e%2e/b/x", "/b/x", nil},
		{"mixed-case encoded dots", "/a/%2E./b/x", "/b/x", nil},
		{"half-encoded dots", "/a/.%2E/b", "/b", nil},
		{"trailing dot", "/a/b/.", "/a/b/", nil},
		{"trailing dot-dot", "/a/b/..", "/a/", nil},
		{"dot-dot back to root", "/a/..", "/", nil},
		{"merged slashes", "//a///b//", "/a/b/", nil},
		{"slashes merged before dot-dot", "/a//../b", "/b", nil},

		// Refused.
		{"climbs above root", "/..", "", errClimbsAboveRoot},
		{"climbs after a segment", "/a/../../b", "", errClimbsAboveRoot},
		{"climbs with encoded dots", "/%2e%2e/b", "", errClimbsAboveRoot},
		{"climbs through merged slashes", "//../b", "", errClimbsAboveRoot},
		{"raw backslash", `/a\..\b`, "", errBackslash},
		{"encoded NUL", "/a%00b", "", errControl},
		{"encoded newline", "/a%0d%0aSet-Cookie:x", "", errControl},
		{"raw control", "/a\x01b", "", errControl},
		{"encoded DEL", "/a%7f", "", errControl},
		{"truncated escape", "/a%2", "", ErrInvalidEscape},
		{"non-hex escape", "/a%zzb", "", ErrInvalidEscape},
		{"dot-dot with parameters (Tomcat)", "/a/..;/b", "", errDotParameters},
		{"dot with parameters", "/a/.;x/b", "", errDotParameters},
		{"not absolute", "a/b", "", errNotAbsolute},
		{"asterisk form", "*", "", errNotAbsolute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want error
			if tc.err != nil {
				want = tc.err
			}
			got, err := NormalizePath(tc.in)
			if err != want { //nolint:errorlint // the sentinels are compared as values
				t.Fatalf("NormalizePath(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if got != tc.want {
				t.Fatalf("NormalizePath(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSlashesDecoded(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/api/group%2Fproject", "/api/group/project"},
		{"/a/..%2F..%2Fb", ""}, // climbs above the root once decoded
		{"/a/x%2F..%2F..%2Fb/x", "/b/x"},
		{"/a/x%5C..%5C..%5Cb", "/b"},
	}
	for _, tc := range cases {
		got, err := SlashesDecoded(tc.in)
		if (err != nil) != (tc.want == "") || got != tc.want {
			t.Errorf("SlashesDecoded(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for path, want := range map[string]bool{"/a%2Fb": true, "/a%5C": true, "/a%20b%2F": true, "/a%252F": false, "/a%2": false, "/plain": false} {
		if got := hasEscapedSlash(path); got != want {
			t.Errorf("hasEscapedSlash(%q) = %v, want %v", path, got, want)
		}
	}
}

func FuzzNormalizePath(f *testing.F) {
	for _, seed := range []string{"/", "/a/b", "/a/%2e%2e/b/x", "/a/../../b", "//a//b/./c/..", "/a%2Fb", "/%7e%41", `/a\b`, "/a/..;/b", "/caf\xc3\xa9", "/a%zz", "/.well-known/x", "/a/.%2e"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizePath(in)
		if err != nil {
			if out != "" {
				t.Fatalf("NormalizePath(%q) = %q with error %v", in, out, err)
			}
			return
		}
		if in == "" {
			if out != "" {
				t.Fatalf(`NormalizePath("") = %q`, out)
			}
			return
		}
		if !strings.HasPrefix(out, "/") {
			t.Fatalf("NormalizePath(%q) = %q does not start at the root", in, out)
		}
		for seg := range strings.SplitSeq(out[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("NormalizePath(%q) = %q keeps a dot segment", in, out)
			}
		}
		if strings.Contains(out, "//") {
			t.Fatalf("NormalizePath(%q) = %q keeps an empty segment", in, out)
		}
		again, err := NormalizePath(out)
		if err != nil || again != out {
			t.Fatalf("NormalizePath is not idempotent: %q -> %q -> %q, %v", in, out, again, err)
		}
		if !isNormalPath(out) {
			t.Fatalf("NormalizePath(%q) = %q, which the fast path does not take as normal", in, out)
		}
	})
}

// BenchmarkNormalizePath shows the clean path costs a scan and no allocation.
func BenchmarkNormalizePath(b *testing.B) {
	for _, bc := range []struct{ name, path string }{
		{"clean", "/api/v1/namespaces/apples/pods/echo-basic-7d9c/log"},
		{"escaped", "/api/group%2Fproject/files/a%20b"},
		{"dot-segments", "/a/%2e%2e/b/./x"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := NormalizePath(bc.path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
