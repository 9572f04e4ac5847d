package routetable

import (
	"strings"
	"testing"
)

func TestCompileRegex(t *testing.T) {
	cases := []struct {
		name, expr string
		// want is "" when the expression compiles, else part of the error.
		want string
	}{
		{"ordinary path", `/api/v[0-9]+/users/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, ""},
		{"at the length limit", strings.Repeat("a", MaxRegexLength), ""},
		{"over the length limit", strings.Repeat("a", MaxRegexLength+1), "1025 bytes long, over the limit of 1024"},
		{"syntax error", "(", "missing closing )"},
		{"cannot escape the anchors", "a)|(b", "unexpected )"},
		{"nested at the limit", strings.Repeat("(", MaxRegexNesting-1) + "a" + strings.Repeat(")", MaxRegexNesting-1), ""},
		{"nested too deep", strings.Repeat("(", MaxRegexNesting) + "a" + strings.Repeat(")", MaxRegexNesting), "nests 33 levels deep, over the limit of 32"},
		// 999 levels pass regexp.Compile alone but not anchored; the length limit refuses them first.
		{"999 levels", strings.Repeat("(", 999) + "a" + strings.Repeat(")", 999), "over the limit of 1024"},
		{"program too large", ".{0,1000}", "2004 instructions, over the limit of 2000"},
		{"repetition the parser refuses", "(a{1000}){1000}", "invalid repeat count"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			re, err := CompileRegex(tc.expr)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("CompileRegex refused it: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("CompileRegex error %v, want one containing %q", err, tc.want)
			case tc.want == "" && re.String() != "^(?:"+tc.expr+")$":
				t.Fatalf("compiled %q, want it anchored", re.String())
			}
		})
	}
}

func TestCompileRegexMatchesWholeValue(t *testing.T) {
	re, err := CompileRegex("a|b")
	if err != nil {
		t.Fatal(err)
	}
	for value, want := range map[string]bool{"a": true, "b": true, "ab": false, "xa": false, "": false} {
		if got := re.MatchString(value); got != want {
			t.Errorf("%q matched %t, want %t", value, got, want)
		}
	}
}

func TestRegexesRunOnlyOnBoundedInput(t *testing.T) {
	re, err := CompileRegex(`/x/.*`)
	if err != nil {
		t.Fatal(err)
	}
	short := "/x/" + strings.Repeat("a", MaxRegexInput-3)
	if !matchRegex(re, short) {
		t.Errorf("a %d-byte path does not match", len(short))
	}
	if long := short + "a"; matchRegex(re, long) {
		t.Errorf("a %d-byte path matches; values over MaxRegexInput must not be run", len(long))
	}
}
