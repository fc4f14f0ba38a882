// Package yamldiag turns YAML files into positioned diagnostics: it reads and
// parses them within limits a hostile file cannot exceed, walks yaml.v3 nodes
// (aliases and merge keys resolved) and reports every problem as
// file:line:col: message. The rule loader (rules) and the rule test loader
// (ruletest) share it, so that both speak the same way about the same mistake.
package yamldiag

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Diagnostic is one problem in a file.
type Diagnostic struct {
	File string
	Line int
	Col  int
	Msg  string
	// Warning marks a problem that does not stop the file from loading.
	Warning bool
}

func (d Diagnostic) String() string {
	if d.Warning {
		return fmt.Sprintf("%s:%d:%d: warning: %s", d.File, d.Line, d.Col, d.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, d.Msg)
}

func (d Diagnostic) Error() string { return d.String() }

// Diagnostics is a list of problems; as an error it prints one per line.
type Diagnostics []Diagnostic

func (ds Diagnostics) Error() string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(d.String())
	}
	return b.String()
}

// Sort orders the diagnostics by file, line and column, keeping the order of
// those at the same place.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// At is a diagnostic at n's position (1:1 when n has none), shifted off
// characters to the right.
func At(file string, n *yaml.Node, off int, msg string) Diagnostic {
	line, col := 1, 1
	if n != nil {
		line, col = max(n.Line, 1), max(n.Column, 1)
	}
	return Diagnostic{File: file, Line: line, Col: col + max(off, 0), Msg: msg}
}

// Reporter collects the problems of the file being read.
type Reporter struct {
	File  string
	Errs  Diagnostics
	Warns Diagnostics
}

// Errorf records an error at n.
func (r *Reporter) Errorf(n *yaml.Node, format string, args ...any) {
	r.Errs = append(r.Errs, At(r.File, n, 0, fmt.Sprintf(format, args...)))
}

// ErrorfCol records an error off characters into n (a position inside a
// one-line scalar).
func (r *Reporter) ErrorfCol(n *yaml.Node, off int, format string, args ...any) {
	r.Errs = append(r.Errs, At(r.File, n, off, fmt.Sprintf(format, args...)))
}

// Warnf records a problem that does not stop the load.
func (r *Reporter) Warnf(n *yaml.Node, format string, args ...any) {
	d := At(r.File, n, 0, fmt.Sprintf(format, args...))
	d.Warning = true
	r.Warns = append(r.Warns, d)
}

// Add records diagnostics made elsewhere.
func (r *Reporter) Add(ds ...Diagnostic) { r.Errs = append(r.Errs, ds...) }

// Suggest returns ` (did you mean "x"?)` for a near miss among names,
// ignoring case.
func Suggest(got string, names []string) string {
	best, bestD := "", 3
	low := strings.ToLower(got)
	for _, n := range names {
		if d := EditDistance(low, strings.ToLower(n)); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// EditDistance is the Levenshtein distance; long strings are never near.
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
