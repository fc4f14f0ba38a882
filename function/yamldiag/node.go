package yamldiag

import (
	"math"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// KV is one key/value pair of a mapping.
type KV struct{ K, V *yaml.Node }

var null = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"}

// Resolve follows an alias; nil becomes a null scalar.
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 8; i++ {
		n = n.Alias
	}
	if n == nil {
		return null
	}
	return n
}

// maxMergeDepth bounds merge keys that merge mappings that merge mappings.
const maxMergeDepth = 4

// Pairs lists a mapping's pairs, expanding YAML merge keys (<<: *base):
// keys given explicitly win over merged ones. Parse has already bounded how
// far aliases expand, so the merged lists are small.
func Pairs(n *yaml.Node) []KV {
	return pairsDepth(n, 0)
}

func pairsDepth(n *yaml.Node, depth int) []KV {
	n = Resolve(n)
	if n.Kind != yaml.MappingNode || depth > maxMergeDepth {
		return nil
	}
	var out, merged []KV
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			v = Resolve(v)
			if v.Kind == yaml.SequenceNode {
				for _, m := range v.Content {
					merged = append(merged, pairsDepth(m, depth+1)...)
				}
			} else {
				merged = append(merged, pairsDepth(v, depth+1)...)
			}
			continue
		}
		out = append(out, KV{k, v})
	}
	if len(merged) == 0 {
		return out
	}
	seen := make(map[string]bool, len(out)+len(merged))
	for _, p := range out {
		seen[p.K.Value] = true
	}
	for _, p := range merged {
		if !seen[p.K.Value] {
			seen[p.K.Value] = true
			out = append(out, p)
		}
	}
	return out
}

// KindOf names a node's type for "want X, got Y" messages, never its value.
func KindOf(n *yaml.Node) string {
	if n == nil {
		return "nothing"
	}
	n = Resolve(n)
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

// IsNull reports a missing or null node.
func IsNull(n *yaml.Node) bool {
	n = Resolve(n)
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// ScalarString accepts any non-null scalar as a string.
func ScalarString(n *yaml.Node) (string, bool) {
	n = Resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", false
	}
	return n.Value, true
}

// ScalarInt accepts an integer scalar.
func ScalarInt(n *yaml.Node) (int64, bool) {
	n = Resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		return 0, false
	}
	var v int64
	if err := n.Decode(&v); err != nil {
		return 0, false
	}
	return v, true
}

// ScalarFloat accepts a finite integer or float scalar.
func ScalarFloat(n *yaml.Node) (float64, bool) {
	n = Resolve(n)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
		return 0, false
	}
	var v float64
	if err := n.Decode(&v); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// ScalarBool accepts a boolean scalar.
func ScalarBool(n *yaml.Node) (bool, bool) {
	n = Resolve(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	var v bool
	if err := n.Decode(&v); err != nil {
		return false, false
	}
	return v, true
}

// Fields is a decoded mapping: known fields by name, in file order.
type Fields struct {
	m     map[string]KV
	Order []string
}

// Get returns a field's key and value nodes.
func (f *Fields) Get(name string) (KV, bool) {
	p, ok := f.m[name]
	return p, ok
}

// Has reports whether the field was given.
func (f *Fields) Has(name string) bool { _, ok := f.m[name]; return ok }

// Drop forgets a field, so that nothing after this reads it.
func (f *Fields) Drop(name string) {
	delete(f.m, name)
	f.Order = slices.DeleteFunc(f.Order, func(s string) bool { return s == name })
}

// Fields decodes a mapping, reporting keys that are not strings, unknown or
// given twice. where reads "in rule", "at top level".
func (r *Reporter) Fields(n *yaml.Node, where string, allowed []string) *Fields {
	fs := &Fields{m: map[string]KV{}}
	for _, p := range Pairs(n) {
		name, ok := ScalarString(p.K)
		if !ok {
			r.Errorf(p.K, "%s: keys must be strings, got %s", strings.TrimPrefix(where, "in "), KindOf(p.K))
			continue
		}
		if !slices.Contains(allowed, name) {
			r.Errorf(p.K, "unknown field %q %s%s", name, where, Suggest(name, allowed))
			continue
		}
		if prev, dup := fs.m[name]; dup {
			r.Errorf(p.K, "field %q given twice %s (first at line %d)", name, where, prev.K.Line)
			continue
		}
		fs.m[name] = p
		fs.Order = append(fs.Order, name)
	}
	return fs
}

// Mapping reports anything but a mapping.
func (r *Reporter) Mapping(n *yaml.Node, what string) (*yaml.Node, bool) {
	m := Resolve(n)
	if m.Kind != yaml.MappingNode {
		r.Errorf(n, "%s: want a mapping, got %s", what, KindOf(n))
		return nil, false
	}
	return m, true
}

// Sequence reports anything but a list.
func (r *Reporter) Sequence(n *yaml.Node, what string) (*yaml.Node, bool) {
	s := Resolve(n)
	if s.Kind != yaml.SequenceNode {
		r.Errorf(n, "%s: want a list, got %s", what, KindOf(n))
		return nil, false
	}
	return s, true
}

// String reports anything but a non-null scalar.
func (r *Reporter) String(n *yaml.Node, what string) (string, bool) {
	s, ok := ScalarString(n)
	if !ok {
		r.Errorf(n, "%s: want a string, got %s", what, KindOf(n))
	}
	return s, ok
}

// Strings reads a list of strings, reporting each item that is not one.
func (r *Reporter) Strings(n *yaml.Node, what string) ([]string, bool) {
	seq := Resolve(n)
	if seq.Kind != yaml.SequenceNode {
		r.Errorf(n, "%s: want a list of strings, got %s", what, KindOf(n))
		return nil, false
	}
	out := make([]string, 0, len(seq.Content))
	ok := true
	for _, it := range seq.Content {
		s, good := ScalarString(it)
		if !good {
			r.Errorf(it, "%s: want a list of strings, got an item that is %s", what, KindOf(it))
			ok = false
			continue
		}
		out = append(out, s)
	}
	return out, ok
}

// Bool reads true or false.
func (r *Reporter) Bool(n *yaml.Node, what string) (bool, bool) {
	v, ok := ScalarBool(n)
	if !ok {
		r.Errorf(n, "%s: want true or false, got %s", what, KindOf(n))
	}
	return v, ok
}

// Int reads an integer.
func (r *Reporter) Int(n *yaml.Node, what string) (int64, bool) {
	v, ok := ScalarInt(n)
	if !ok {
		r.Errorf(n, "%s: want an integer, got %s", what, KindOf(n))
	}
	return v, ok
}

// Number reads a finite number.
func (r *Reporter) Number(n *yaml.Node, what string) (float64, bool) {
	v, ok := ScalarFloat(n)
	if !ok {
		r.Errorf(n, "%s: want a number, got %s", what, KindOf(n))
	}
	return v, ok
}

// FieldNames lists the yaml tags of a struct's fields, in order.
func FieldNames(v any) []string {
	t := reflect.TypeOf(v)
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if tag := t.Field(i).Tag.Get("yaml"); tag != "" {
			names = append(names, tag)
		}
	}
	return names
}

var nodeType = reflect.TypeFor[*yaml.Node]()

// Decode sets the fields of the struct *dst that fs holds, by their yaml
// tag: string, []string, bool, int64 and float64 are read (a wrong type is
// reported as "<label>: <field>: want …, got …"); a *yaml.Node field gets
// the value node for the caller to read. It returns the fields that did not
// decode.
func (r *Reporter) Decode(fs *Fields, label string, dst any) (bad map[string]bool) {
	v := reflect.ValueOf(dst).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Tag.Get("yaml")
		p, given := fs.Get(name)
		if name == "" || !given {
			continue
		}
		if !r.decodeField(v.Field(i), p.V, label+": "+name) {
			if bad == nil {
				bad = map[string]bool{}
			}
			bad[name] = true
		}
	}
	return bad
}

func (r *Reporter) decodeField(f reflect.Value, n *yaml.Node, what string) bool {
	var x any
	var ok bool
	switch {
	case f.Type() == nodeType:
		x, ok = n, true
	case f.Kind() == reflect.String:
		x, ok = r.String(n, what)
	case f.Kind() == reflect.Bool:
		x, ok = r.Bool(n, what)
	case f.Kind() == reflect.Int64:
		x, ok = r.Int(n, what)
	case f.Kind() == reflect.Float64:
		x, ok = r.Number(n, what)
	case f.Type() == reflect.TypeFor[[]string]():
		x, ok = r.Strings(n, what)
	default:
		panic("yamldiag.Decode: unsupported field type " + f.Type().String())
	}
	if ok {
		f.Set(reflect.ValueOf(x))
	}
	return ok
}
