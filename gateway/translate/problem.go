package translate

import (
	"fmt"
	"strings"
)

// problem is a reason and a one-sentence message for a condition that is not
// True; the zero problem means all is well.
type problem struct {
	reason  string
	message string
}

func (p problem) ok() bool { return p.reason == "" }

func newProblem[R ~string](reason R, format string, args ...any) problem {
	return problem{reason: string(reason), message: fmt.Sprintf(format, args...)}
}

// firstProblem returns the first of ps that is not ok.
func firstProblem(ps ...problem) problem {
	for _, p := range ps {
		if !p.ok() {
			return p
		}
	}
	return problem{}
}

// maxJoined bounds how many messages one condition repeats, keeping it far
// below the API's 32768-character limit.
const maxJoined = 8

// joinProblems folds several problems into one: the first one's reason, all
// messages (up to maxJoined) in order.
func joinProblems(ps []problem) problem {
	if len(ps) == 0 {
		return problem{}
	}
	msgs := make([]string, 0, min(len(ps), maxJoined)+1)
	for i, p := range ps {
		if i == maxJoined {
			msgs = append(msgs, fmt.Sprintf("and %d more.", len(ps)-maxJoined))
			break
		}
		msgs = append(msgs, p.message)
	}
	return problem{reason: ps[0].reason, message: strings.Join(msgs, " ")}
}

// clonePtr copies a pointed-to value, so the Config and statuses Build
// returns never alias the snapshot's objects.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// fieldPath locates a field for messages, such as
// spec.rules[1].backendRefs[0]. It is a plain value formatted only when a
// message needs it, so a valid route costs no string building.
type fieldPath struct {
	parts [8]fieldPart
	depth int
}

type fieldPart struct {
	name  string
	index int // -1 when the part is not a list element
}

// field appends ".name"; parts beyond the fixed depth are dropped.
func (f fieldPath) field(name string) fieldPath { return f.index(name, -1) }

// index appends ".name[i]".
func (f fieldPath) index(name string, i int) fieldPath {
	if f.depth < len(f.parts) {
		f.parts[f.depth] = fieldPart{name: name, index: i}
		f.depth++
	}
	return f
}

func (f fieldPath) String() string {
	var b strings.Builder
	for i, p := range f.parts[:f.depth] {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p.name)
		if p.index >= 0 {
			fmt.Fprintf(&b, "[%d]", p.index)
		}
	}
	return b.String()
}
