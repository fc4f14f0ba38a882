package rules

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// kv is one key/value pair of a YAML mapping.
type kv struct{ k, v *yaml.Node }

// fieldSet is a decoded mapping: known fields by name, in file order.
type fieldSet struct {
	m     map[string]kv
	order []string
}

func (f *fieldSet) get(name string) (kv, bool) {
	p, ok := f.m[name]
	return p, ok
}

func (f *fieldSet) has(name string) bool { _, ok := f.m[name]; return ok }

// resolve follows an alias.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	return n
}

// pairs lists a mapping's pairs, expanding YAML merge keys (<<: *base): keys
// given explicitly win over merged ones.
func pairs(n *yaml.Node) []kv {
	return pairsDepth(n, 0)
}

func pairsDepth(n *yaml.Node, depth int) []kv {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 4 {
		return nil
	}
	var out, merged []kv
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			v = resolve(v)
			if v == nil {
				continue
			}
			if v.Kind == yaml.MappingNode {
				merged = append(merged, pairsDepth(v, depth+1)...)
			} else if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					merged = append(merged, pairsDepth(m, depth+1)...)
				}
			}
			continue
		}
		out = append(out, kv{k, v})
	}
	for _, p := range merged {
		dup := false
		for _, q := range out {
			if q.k.Value == p.k.Value {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, p)
		}
	}
	return out
}

// kindOf names a node's type for "want X, got Y" messages, never its value.
func kindOf(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!str":
			return "a string"
		default:
			return "a " + strings.TrimPrefix(n.Tag, "!!")
		}
	}
	return "an unexpected node"
}

func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// scalarString accepts any non-null scalar as a string.
func scalarString(n *yaml.Node) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

func scalarInt(n *yaml.Node) (int64, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		return 0, false
	}
	return v, true
}

func scalarFloat(n *yaml.Node) (float64, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, false
	}
	var v float64
	if err := n.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func scalarBool(n *yaml.Node) (bool, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		return false, false
	}
	return v, true
}

// parsePercent parses "30%" into 0.30.
func parsePercent(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasSuffix(s, "%") {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(s, "%")), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v / 100, true
}

// suggest returns ` (did you mean "x"?)` for a near miss among names.
func suggest(got string, names []string) string {
	best, bestD := "", 3
	for _, n := range names {
		if d := editDistance(got, n); d < bestD {
			best, bestD = n, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
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
