package scenarios

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a scenario: where it is (File:Line:Col, or the --set flag that
// introduced it, in which case Line and Col are 0), which key (Path, e.g.
// faults[2].crash.fraction) and what is wrong and allowed (Msg).
type Error struct {
	File      string
	Line, Col int
	Path      string
	Msg       string
}

// Error prints FILE:LINE:COL: PATH: MSG, dropping the parts that are unknown.
func (e Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one scenario, in file order, then those of --set flags.
type Errors struct {
	List []Error
}

// Error prints one problem per line.
func (e *Errors) Error() string {
	lines := make([]string, len(e.List))
	for i, x := range e.List {
		lines[i] = x.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find the individual Error values.
func (e *Errors) Unwrap() []error {
	errs := make([]error, len(e.List))
	for i, x := range e.List {
		errs[i] = x
	}
	return errs
}

// finish sorts and de-duplicates the list (an alias used twice can report one problem
// twice) and returns nil when it is empty, so that callers can `return cfg, errs.finish()`.
//
// File problems come first, in reading order; then those of each --set, in the order of
// the flags (setOrder maps an Error's File to its flag's index).
func (e *Errors) finish(setOrder map[string]int) error {
	if len(e.List) == 0 {
		return nil
	}
	slices.SortStableFunc(e.List, func(a, b Error) int {
		if (a.Line == 0) != (b.Line == 0) {
			if a.Line == 0 {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(setOrder[a.File], setOrder[b.File]),
			cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	seen := make(map[Error]bool, len(e.List))
	e.List = slices.DeleteFunc(e.List, func(x Error) bool {
		dup := seen[x]
		seen[x] = true
		return dup
	})
	return e
}
