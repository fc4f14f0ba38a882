package yamldiag

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
)

// Limits bound what one file may cost to read. Rule and test files are a few
// kilobytes; the limits are far above that and far below what would take a
// run past its memory or validate past a second.
type Limits struct {
	// MaxBytes is the largest file read.
	MaxBytes int64
	// MaxDepth bounds nesting (flow brackets and the node tree, aliases
	// followed).
	MaxDepth int
	// MaxNodes bounds the nodes of the document with every alias and merge
	// key expanded: a few aliases of aliases must not fan out to millions.
	MaxNodes int
}

// DefaultLimits suit rule files and rule test files.
var DefaultLimits = Limits{MaxBytes: 256 << 10, MaxDepth: 64, MaxNodes: 100_000}

// ReadFile reads a regular file of at most lim.MaxBytes. A device, FIFO or
// socket is refused without blocking on it (/dev/zero never ends, a FIFO
// without a writer never opens).
func ReadFile(path string, lim Limits) ([]byte, *Diagnostic) {
	fail := func(msg string) ([]byte, *Diagnostic) {
		return nil, &Diagnostic{File: path, Line: 1, Col: 1, Msg: msg}
	}
	// O_NONBLOCK: opening a FIFO must not wait for a writer; Stat on the
	// open file then tells what it is.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fail("cannot read file: " + ErrText(err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fail("cannot read file: " + ErrText(err))
	}
	if !st.Mode().IsRegular() {
		return fail(fmt.Sprintf("not a regular file (%s): only plain files are read", fileKind(st.Mode())))
	}
	if st.Size() > lim.MaxBytes {
		return fail(tooBig(st.Size(), lim))
	}
	data, err := io.ReadAll(io.LimitReader(f, lim.MaxBytes+1))
	if err != nil {
		return fail("cannot read file: " + ErrText(err))
	}
	if int64(len(data)) > lim.MaxBytes {
		return fail(tooBig(int64(len(data)), lim))
	}
	return data, nil
}

func tooBig(size int64, lim Limits) string {
	return fmt.Sprintf("file is %d bytes, more than the %d bytes a file may have", size, lim.MaxBytes)
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeSocket != 0:
		return "a socket"
	case m&os.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file"
}

// ErrText is an error without the path os adds (the diagnostic names it).
func ErrText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Parse decodes a file's single YAML document within lim. It returns the
// root node (nil for an empty file or document) or the diagnostics that
// refused it.
func Parse(file string, data []byte, lim Limits) (root *yaml.Node, ds Diagnostics) {
	if int64(len(data)) > lim.MaxBytes {
		return nil, Diagnostics{{File: file, Line: 1, Col: 1, Msg: tooBig(int64(len(data)), lim)}}
	}
	if line, col, ok := flowTooDeep(data, lim.MaxDepth); ok {
		return nil, Diagnostics{{File: file, Line: line, Col: col,
			Msg: fmt.Sprintf("nested more than %d levels deep", lim.MaxDepth)}}
	}
	defer func() {
		// yaml.v3 must not take a run down, whatever the input.
		if recover() != nil {
			root, ds = nil, Diagnostics{{File: file, Line: 1, Col: 1, Msg: "cannot parse YAML"}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, Diagnostics{YAMLError(file, err, data)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		ds = append(ds, At(file, &extra, 0, "more than one YAML document in a file is not supported"))
	} else if !errors.Is(err, io.EOF) {
		ds = append(ds, YAMLError(file, err, data))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, ds
	}
	if d, ok := tooLarge(file, doc.Content[0], lim); !ok {
		return nil, append(ds, d)
	}
	return doc.Content[0], ds
}

// flowTooDeep finds the first '[' or '{' nested deeper than limit. It counts
// brackets in quoted and plain text too: a false alarm needs dozens of
// unclosed brackets in text, while a missed one would let the parsers
// recurse a hundred thousand levels.
func flowTooDeep(data []byte, limit int) (line, col int, found bool) {
	depth := 0
	line, col = 1, 0
	for _, c := range data {
		col++
		switch c {
		case '\n':
			line, col = line+1, 0
		case '[', '{':
			if depth++; depth > limit {
				return line, col, true
			}
		case ']', '}':
			depth = max(depth-1, 0)
		}
	}
	return 0, 0, false
}

// tooLarge walks the tree with aliases followed (each node once: sizes are
// remembered) and refuses one nested deeper than lim.MaxDepth or expanding
// to more than lim.MaxNodes nodes.
func tooLarge(file string, root *yaml.Node, lim Limits) (Diagnostic, bool) {
	w := &walker{lim: lim, memo: map[*yaml.Node]shape{}}
	s := w.walk(root)
	switch {
	case s.depth > lim.MaxDepth:
		return At(file, w.deepest(root), 0, fmt.Sprintf("nested more than %d levels deep", lim.MaxDepth)), false
	case s.nodes > lim.MaxNodes:
		at := w.big
		if at == nil {
			at = root
		}
		return At(file, at, 0, fmt.Sprintf("aliases and merge keys expand the document to more than %d nodes", lim.MaxNodes)), false
	}
	return Diagnostic{}, true
}

type shape struct{ nodes, depth int }

type walker struct {
	lim  Limits
	memo map[*yaml.Node]shape
	big  *yaml.Node // the node whose expansion first passed the limit
}

func (w *walker) walk(n *yaml.Node) shape {
	if s, ok := w.memo[n]; ok {
		return s
	}
	// In progress: a self-referencing alias counts as a leaf here; yaml.v3
	// refuses such documents anyway.
	w.memo[n] = shape{1, 1}
	s := shape{nodes: 1, depth: 1}
	kids := n.Content
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		kids = []*yaml.Node{n.Alias}
	}
	for _, c := range kids {
		cs := w.walk(c)
		s.nodes = min(s.nodes+cs.nodes, w.lim.MaxNodes+1)
		s.depth = max(s.depth, cs.depth+1)
		if s.nodes > w.lim.MaxNodes && w.big == nil {
			w.big = c // the alias (or node) whose expansion passed the limit
		}
		if s.depth > w.lim.MaxDepth || w.big != nil {
			break
		}
	}
	w.memo[n] = s
	return s
}

// deepest follows the deepest branch down from n to the first node past
// MaxDepth: where the nesting goes too far.
func (w *walker) deepest(n *yaml.Node) *yaml.Node {
	for level := 1; level <= w.lim.MaxDepth; level++ {
		kids := n.Content
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			kids = []*yaml.Node{n.Alias}
		}
		next := (*yaml.Node)(nil)
		for _, c := range kids {
			if next == nil || w.memo[c].depth > w.memo[next].depth {
				next = c
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return n
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// YAMLError is the diagnostic for a file that yaml.v3 could not parse.
// yaml.v3 gives only a line, often the one before the mistake; goccy/go-yaml's
// parser points at the offending character, so its position (and message)
// is used when it finds the error too.
func YAMLError(file string, err error, data []byte) Diagnostic {
	if line, col, msg, ok := syntaxErrorAt(data); ok {
		return Diagnostic{File: file, Line: line, Col: col, Msg: "invalid YAML: " + msg}
	}
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return Diagnostic{File: file, Line: max(line, 1), Col: 1, Msg: "invalid YAML: " + firstLine(msg)}
}

// maxGoccyBytes: goccy/go-yaml builds a token list and an AST for the whole
// input; past this size the line yaml.v3 gives must do.
const maxGoccyBytes = 64 << 10

func syntaxErrorAt(data []byte) (line, col int, msg string, ok bool) {
	if len(data) > maxGoccyBytes {
		return 0, 0, "", false
	}
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := goccyparser.ParseBytes(data, 0)
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 {
		return 0, 0, "", false
	}
	return se.Token.Position.Line, max(se.Token.Position.Column, 1), firstLine(se.Message), true
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
