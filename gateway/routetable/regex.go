package routetable

import (
	"fmt"
	"regexp"
	"regexp/syntax"
)

// Limits on a regular expression in a path, header or query parameter
// match. They bound what one tenant's rule costs every request and the
// table's memory; the translator and admission check them with CompileRegex,
// the same function the data plane compiles with.
const (
	// MaxRegexLength is the longest expression accepted, in bytes.
	MaxRegexLength = 1024
	// MaxRegexNesting is how many levels deep the parsed expression may
	// nest (groups, repetitions, alternations, concatenations).
	MaxRegexNesting = 32
	// MaxRegexProgram is the most instructions the compiled matcher may
	// have: a path with a UUID pattern takes about 55, a 1,024-byte literal
	// 1,028, ".{0,1000}" 2,004.
	MaxRegexProgram = 2000
	// MaxRegexInput is the longest value (path, header or query parameter)
	// a regular expression is run on; a longer one does not match. RE2's
	// cost grows with program size times input length, so this bounds
	// what any client can make one match cost (about 1,024 x 2,000 steps).
	MaxRegexInput = 1024
)

// matchRegex runs re on s within MaxRegexInput.
func matchRegex(re *regexp.Regexp, s string) bool {
	return len(s) <= MaxRegexInput && re.MatchString(s)
}

// CompileRegex compiles a match's regular expression (RE2 syntax, as Go's
// regexp reads it) anchored to match the whole value, within the limits
// above. It is the one place the data plane's regular expressions are
// checked: the translator and the admission webhook call it to validate, so
// what they accept the data plane compiles. The error says what is wrong in
// words that follow "the regular expression is not usable: ".
func CompileRegex(expr string) (*regexp.Regexp, error) {
	if len(expr) > MaxRegexLength {
		return nil, fmt.Errorf("it is %d bytes long, over the limit of %d", len(expr), MaxRegexLength)
	}
	// The expression must parse alone, so that ")|(" cannot escape the anchors.
	if _, err := syntax.Parse(expr, syntax.Perl); err != nil {
		return nil, err
	}
	anchored := "^(?:" + expr + ")$"
	tree, err := syntax.Parse(anchored, syntax.Perl)
	if err != nil {
		return nil, err
	}
	if depth := height(tree) - 1; depth > MaxRegexNesting { // less the anchors' concatenation
		return nil, fmt.Errorf("it nests %d levels deep, over the limit of %d", depth, MaxRegexNesting)
	}
	prog, err := syntax.Compile(tree.Simplify())
	if err != nil {
		return nil, err
	}
	if n := len(prog.Inst); n > MaxRegexProgram {
		return nil, fmt.Errorf("it compiles to %d instructions, over the limit of %d (use fewer or smaller repetitions)", n, MaxRegexProgram)
	}
	return regexp.Compile(anchored)
}

// height counts the levels of a parsed expression's tree, as the parser's
// own nesting limit does.
func height(re *syntax.Regexp) int {
	deepest := 0
	for _, sub := range re.Sub {
		deepest = max(deepest, height(sub))
	}
	return deepest + 1
}
