package rules

import (
	"errors"
	"fmt"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// Bounds on what an expression may ask for. A rule expression compares a
// period's numbers: none of these stops a real one, and each stops an input
// that would overflow the parser's stack, allocate gigabytes or fail at run
// time in every period.
const (
	maxExprBytes = 4096
	maxExprDepth = 64
	maxExprRange = 1000
)

// refusedBuiltins allocate in proportion to an argument and have no use in a
// condition on metrics.
var refusedBuiltins = map[string]bool{"repeat": true}

// checkExpr refuses at load what can be known to fail or to cost too much
// at run time: an expression too long or too deeply nested for the parser,
// a range that is not small and constant, a refused builtin.
func checkExpr(src string) error {
	if len(src) > maxExprBytes {
		return fmt.Errorf("expression is %d bytes, more than the %d allowed", len(src), maxExprBytes)
	}
	depth := 0
	for i, c := range src {
		switch c {
		case '(', '[', '{':
			if depth++; depth > maxExprDepth {
				return fmt.Errorf("nested more than %d levels deep (expression column %d)", maxExprDepth, i+1)
			}
		case ')', ']', '}':
			depth = max(depth-1, 0)
		}
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil // compiling reports it, with its position
	}
	v := &exprLimiter{}
	ast.Walk(&tree.Node, v)
	return v.err
}

type exprLimiter struct{ err error }

func (v *exprLimiter) Visit(n *ast.Node) {
	if v.err != nil {
		return
	}
	col := (*n).Location().From + 1
	switch x := (*n).(type) {
	case *ast.BinaryNode:
		if x.Operator != ".." {
			return
		}
		from, ok1 := constInt(x.Left)
		to, ok2 := constInt(x.Right)
		switch {
		case !ok1 || !ok2:
			v.err = fmt.Errorf("a range needs constant bounds, like 1..7 (expression column %d)", col)
		case to-from >= maxExprRange:
			v.err = fmt.Errorf("range %d..%d has more than %d values (expression column %d)", from, to, maxExprRange, col)
		}
	case *ast.BuiltinNode:
		if refusedBuiltins[x.Name] {
			v.err = fmt.Errorf("%s is not allowed in a rule expression (expression column %d)", x.Name, col)
		}
	}
}

func constInt(n ast.Node) (int, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return x.Value, true
	case *ast.UnaryNode:
		if v, ok := constInt(x.Node); ok && x.Operator == "-" {
			return -v, true
		}
	}
	return 0, false
}

// errDivZero is the one run-time error that is not a failure: a rate over
// nothing is undefined, and an undefined period is not judged.
var errDivZero = errors.New("division by zero")

// EvalError is a rule that could not be evaluated: its expression failed at
// run time on a series. The rule fires on nothing while it fails, so a run
// must say so (summary errors, stderr, exit 1).
type EvalError struct {
	Rule *Rule
	Key  string // the series: template/language
	Err  error
}

func (e *EvalError) Error() string {
	return fmt.Sprintf("rule %s (%s:%d): expr failed on %s: %v", e.Rule.Name, e.Rule.File, e.Rule.Line, e.Key, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }
