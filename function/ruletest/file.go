// Package ruletest runs rule unit tests (modelled on `promtool test rules`):
// YAML files that give metric series in a short notation and the alerts the
// rules must raise, period by period. The series are evaluated by the real
// rules engine (rules.Set.Evaluate), so a test exercises exactly what a run
// does. docs/rules.md, "Rule tests", documents them.
package ruletest

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/rules"
	"github.com/cams-alert/cams-alert/function/yamldiag"
)

// DefaultStart is the first period of a test that gives no start: a Monday,
// at midnight in UTC+8 (where the API's DAILY buckets start for the
// Singapore region).
var DefaultStart = time.Date(2026, 11, 2, 0, 0, 0, 0, time.FixedZone("+08:00", 8*3600))

// File is one parsed test file.
type File struct {
	Path      string
	RuleFiles []string // resolved against the test file's directory
	Tests     []*Test
	// Diags are problems that make the whole file unusable.
	Diags rules.Diagnostics
}

// Test is one test case.
type Test struct {
	Name        string
	File        string
	Line        int
	Start       time.Time
	Granularity metrics.Granularity
	// Rules, when given, restricts the test to these rule names.
	Rules     []string
	rulesNode *yaml.Node
	Series    []*metrics.Series
	Periods   int // the longest series' length
	Expect    []Expect
	// Diags are problems in this test: it fails without being run.
	Diags rules.Diagnostics
}

// Expect is the alerts expected in one evaluated period.
type Expect struct {
	Line   int
	At     string // as written
	Index  int    // 0-based period
	Alerts []Want
}

// Want is one expected alert; nil fields are not compared.
type Want struct {
	Line                                    int
	Rule, Template, Language, Button, State *string
	Severity                                *string
	Silenced                                *bool
	Value, Baseline                         *approx
	Since                                   *int              // 0-based period
	order                                   []string          // the fields given, in wantFields order
	text                                    map[string]string // as written
}

// approx is a number compared to the precision it was written with: 0.63
// matches anything that rounds to 0.63.
type approx struct {
	v, tol float64
}

func (a approx) match(x float64) bool {
	return math.Abs(x-a.v) <= a.tol+1e-12*math.Max(1, math.Abs(a.v))
}

// Parse reads a test file. It returns an error only when the file cannot be
// read; every problem in it is in File.Diags or a Test's Diags.
func Parse(path string) (*File, error) {
	// The error says what the user needs ("open …: no such file"); O_NONBLOCK:
	// a FIFO must not hang the open (ReadFile then refuses it).
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	f.Close()
	data, diag := yamldiag.ReadFile(path, yamldiag.DefaultLimits)
	if diag != nil {
		return nil, diag
	}
	return ParseBytes(path, data), nil
}

// ParseBytes parses a test file's content as if read from path.
func ParseBytes(path string, data []byte) (f *File) {
	f = &File{Path: path}
	p := newParser(path)
	defer func() {
		if r := recover(); r != nil { // nothing in a file may take the run down
			f.Diags = append(f.Diags, rules.Diagnostic{File: path, Line: 1, Col: 1, Msg: "cannot parse YAML"})
		}
	}()
	root, ds := yamldiag.Parse(path, data, yamldiag.DefaultLimits)
	if len(ds) > 0 {
		f.Diags = append(f.Diags, ds...)
		return f
	}
	if root == nil {
		f.Diags = append(f.Diags, rules.Diagnostic{File: path, Line: 1, Col: 1, Msg: "empty test file: want rule_files and tests"})
		return f
	}
	root = resolve(root)
	if root.Kind != yaml.MappingNode {
		p.errAt(root, "top level: want a mapping with rule_files and tests, got %s", kindOf(root))
		f.Diags = p.Errs
		return f
	}
	fs := p.fields(root, "at top level", []string{"rule_files", "tests"})
	if n, ok := fs["rule_files"]; ok {
		files, ok := p.strings(n.V, "rule_files")
		if ok && len(files) == 0 {
			p.errAt(n.V, "rule_files: want at least one rule file")
		}
		for _, rf := range files {
			if !filepath.IsAbs(rf) {
				rf = filepath.Join(filepath.Dir(path), rf)
			}
			f.RuleFiles = append(f.RuleFiles, rf)
		}
	} else {
		p.errAt(root, "missing rule_files: the rule files under test, relative to this file")
	}
	if n, ok := fs["tests"]; ok {
		seq := resolve(n.V)
		if seq.Kind != yaml.SequenceNode || len(seq.Content) == 0 {
			p.errAt(n.V, "tests: want a list of tests, got %s", kindOf(seq))
		} else {
			names := map[string]int{}
			for _, tn := range seq.Content {
				t := parseTest(path, tn)
				if prev, dup := names[t.Name]; dup && t.Name != "" {
					t.Diags = append(t.Diags, rules.Diagnostic{File: path, Line: t.Line, Col: 1,
						Msg: fmt.Sprintf("test name %q already used at line %d", t.Name, prev)})
				}
				names[t.Name] = t.Line
				f.Tests = append(f.Tests, t)
			}
		}
	} else {
		p.errAt(root, "missing tests")
	}
	f.Diags = append(f.Diags, p.Errs...)
	return f
}

// ---- YAML helpers ---------------------------------------------------------

// fparser reports a test file's problems; the YAML reading is yamldiag's,
// shared with the rules loader.
type fparser struct{ yamldiag.Reporter }

type kv = yamldiag.KV

func newParser(file string) *fparser { return &fparser{yamldiag.Reporter{File: file}} }

func (p *fparser) errAt(n *yaml.Node, format string, args ...any) { p.Errorf(n, format, args...) }

// errAtCol reports at n's position, shifted by off characters into it.
func (p *fparser) errAtCol(n *yaml.Node, off int, format string, args ...any) {
	p.ErrorfCol(n, off, format, args...)
}

var (
	resolve = yamldiag.Resolve
	kindOf  = yamldiag.KindOf
)

// fields decodes a mapping, reporting unknown and repeated keys.
func (p *fparser) fields(n *yaml.Node, where string, allowed []string) map[string]kv {
	fs := p.Fields(n, where, allowed)
	out := make(map[string]kv, len(fs.Order))
	for _, name := range fs.Order {
		out[name], _ = fs.Get(name)
	}
	return out
}

func (p *fparser) str(n *yaml.Node, what string) (string, bool) { return p.String(n, what) }

// strings reads a list of strings; a single string is a list of one.
func (p *fparser) strings(n *yaml.Node, what string) ([]string, bool) {
	if s, ok := yamldiag.ScalarString(n); ok {
		return []string{s}, true
	}
	if r := resolve(n); r.Kind != yaml.SequenceNode {
		p.errAt(n, "%s: want a list of strings, got %s", what, kindOf(r))
		return nil, false
	}
	var out []string
	ok := true
	for _, it := range resolve(n).Content {
		s, good := p.str(it, what)
		ok = ok && good
		if good {
			out = append(out, s)
		}
	}
	return out, ok
}

// ---- tests ------------------------------------------------------------------

var testFields = []string{"name", "start", "granularity", "rules", "series", "expect"}

func parseTest(file string, n *yaml.Node) *Test {
	p := newParser(file)
	r := resolve(n)
	t := &Test{File: file, Line: max(n.Line, 1), Start: DefaultStart, Granularity: metrics.Daily}
	defer func() { t.Diags = append(t.Diags, p.Errs...) }()
	if r.Kind != yaml.MappingNode {
		p.errAt(n, "test: want a mapping with name, series and expect, got %s", kindOf(r))
		return t
	}
	fs := p.fields(r, "in test", testFields)
	if v, ok := fs["name"]; ok {
		t.Name, _ = p.str(v.V, "name")
	}
	if t.Name == "" {
		p.errAt(n, "test: missing name")
		t.Name = fmt.Sprintf("test at line %d", t.Line)
	}
	if v, ok := fs["granularity"]; ok {
		if s, ok := p.str(v.V, "granularity"); ok {
			g := metrics.Granularity(strings.ToUpper(s))
			if !g.Valid() {
				p.errAt(v.V, "granularity %q: want DAILY or HALF_HOUR", s)
			} else {
				t.Granularity = g
			}
		}
	}
	if v, ok := fs["start"]; ok {
		if s, ok := p.str(v.V, "start"); ok {
			st, err := time.Parse(time.RFC3339, s)
			if err != nil {
				p.errAt(v.V, "start %q: want an RFC 3339 time such as 2026-11-02T00:00:00+08:00", s)
			} else {
				t.Start = st
			}
		}
	}
	if v, ok := fs["rules"]; ok {
		t.Rules, _ = p.strings(v.V, "rules")
		t.rulesNode = v.V
	}
	if v, ok := fs["series"]; ok {
		p.series(t, v.V)
	} else {
		p.errAt(n, "test %q: missing series", t.Name)
	}
	if v, ok := fs["expect"]; ok {
		p.expects(t, v.V)
	} else {
		p.errAt(n, "test %q: missing expect", t.Name)
	}
	return t
}

var seriesFields = []string{"template", "language", "sent", "delivered", "read", "clicks", "buttons"}

// buttonPrefixes map a button key's "type:" prefix to the API's type.
var buttonPrefixes = []struct{ prefix, typ string }{
	{"url:", metrics.URLButton},
	{"reply:", metrics.QuickReply},
	{"phone:", metrics.PhoneButton},
	{metrics.URLButton + ":", metrics.URLButton},
	{metrics.QuickReply + ":", metrics.QuickReply},
	{metrics.PhoneButton + ":", metrics.PhoneButton},
}

// parseButtonKey splits "url:Shop now" into its type and text; a key without
// a prefix is a quick reply button.
func parseButtonKey(k string) (typ, text string) {
	for _, bp := range buttonPrefixes {
		if rest, ok := strings.CutPrefix(k, bp.prefix); ok {
			return bp.typ, strings.TrimLeft(rest, " ")
		}
	}
	return metrics.QuickReply, k
}

// values parses one series field, reporting at the field's position (and at
// the offending character when the scalar is on one line).
func (p *fparser) values(n *yaml.Node, what string) ([]int64, bool) {
	r := resolve(n)
	if r.Kind != yaml.ScalarNode || r.Tag == "!!null" {
		p.errAt(n, "%s: want a series such as \"1000x7 _ 900\", got %s", what, kindOf(r))
		return nil, false
	}
	vals, err := ParseSeries(r.Value)
	if err != nil {
		off := 0
		var se *SeriesError
		if errors.As(err, &se) && r == n && !strings.ContainsAny(r.Value, "\n\\") {
			switch r.Style {
			case 0:
				off = se.Pos
			case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
				if !strings.Contains(r.Value, "'") {
					off = se.Pos + 1
				}
			}
		}
		p.errAtCol(n, off, "%s: %v", what, err)
		return nil, false
	}
	return vals, true
}

func (p *fparser) series(t *Test, n *yaml.Node) {
	seq := resolve(n)
	if seq.Kind != yaml.SequenceNode || len(seq.Content) == 0 {
		p.errAt(n, "series: want a list of series ({template, language, sent, ...}), got %s", kindOf(seq))
		return
	}
	seen := map[metrics.Key]int{}
	for _, sn := range seq.Content {
		if s, np := p.oneSeries(t, sn, seen); s != nil {
			t.Series = append(t.Series, s)
			t.Periods = max(t.Periods, np)
		}
	}
}

// seriesField is one field of a series, a count or a button, parsed.
type seriesField struct {
	name      string
	node      *yaml.Node
	vals      []int64
	button    bool
	typ, text string // buttons only
}

// oneSeries parses one series; np is its number of periods (gaps too).
func (p *fparser) oneSeries(t *Test, sn *yaml.Node, seen map[metrics.Key]int) (s *metrics.Series, np int) {
	m := resolve(sn)
	if m.Kind != yaml.MappingNode {
		p.errAt(sn, "series: want a mapping such as {template: T1, language: en, sent: \"1000x9\"}, got %s", kindOf(m))
		return nil, 0
	}
	fs := p.fields(m, "in series", seriesFields)
	key, ok := p.seriesKey(sn, fs, seen)
	if !ok {
		return nil, 0
	}
	counts, good := p.seriesCounts(fs)
	if _, ok := fs["sent"]; !ok {
		p.errAt(sn, "series %s: missing sent (one value per period, _ for a period with no data)", key)
		return nil, 0
	}
	buttons, ok := p.seriesButtons(fs)
	if !good || !ok {
		return nil, 0
	}
	np = len(counts[0].vals) // sent is parsed first
	others := append(slices.Clone(counts[1:]), buttons...)
	for _, f := range others {
		if len(f.vals) != np {
			p.errAt(f.node, "series %s: %s has %d periods but sent has %d: every field needs one value per period", key, f.name, len(f.vals), np)
			good = false
		}
	}
	if !good {
		return nil, 0
	}
	s = &metrics.Series{Key: key, Granularity: t.Granularity}
	for i := range np {
		per, gap, ok := p.seriesPeriod(t, key, i, fs, counts, others)
		if !ok {
			return nil, 0
		}
		if !gap {
			s.Periods = append(s.Periods, per)
		}
	}
	return s, np
}

func (p *fparser) seriesKey(sn *yaml.Node, fs map[string]kv, seen map[metrics.Key]int) (metrics.Key, bool) {
	key := metrics.Key{Language: "en"}
	if v, ok := fs["template"]; ok {
		key.Template, _ = p.str(v.V, "template")
	} else {
		p.errAt(sn, "series: missing template")
	}
	if v, ok := fs["language"]; ok {
		key.Language, _ = p.str(v.V, "language")
	}
	if prev, dup := seen[key]; dup {
		p.errAt(sn, "series %s given twice (first at line %d)", key, prev)
		return key, false
	}
	seen[key] = sn.Line
	return key, true
}

// seriesCounts parses sent, delivered, read and clicks, in that order.
func (p *fparser) seriesCounts(fs map[string]kv) ([]seriesField, bool) {
	var counts []seriesField
	good := true
	for _, name := range []string{"sent", "delivered", "read", "clicks"} {
		v, ok := fs[name]
		if !ok {
			continue
		}
		vals, ok := p.values(v.V, name)
		good = good && ok
		counts = append(counts, seriesField{name: name, node: v.V, vals: vals})
	}
	return counts, good
}

func (p *fparser) seriesButtons(fs map[string]kv) ([]seriesField, bool) {
	v, ok := fs["buttons"]
	if !ok {
		return nil, true
	}
	good := true
	bm := resolve(v.V)
	if bm.Kind != yaml.MappingNode {
		p.errAt(v.V, "buttons: want a mapping of button text to series, such as {\"url:Shop now\": \"40x9\"}, got %s", kindOf(bm))
		good = false
	}
	var buttons []seriesField
	for _, pr := range yamldiag.Pairs(bm) {
		k, ok := p.str(pr.K, "buttons: button text")
		if !ok {
			good = false
			continue
		}
		typ, text := parseButtonKey(k)
		if text == "" {
			p.errAt(pr.K, "buttons: %q has no button text", k)
			good = false
			continue
		}
		name := "button " + strconv.Quote(k)
		vals, ok := p.values(pr.V, name)
		good = good && ok
		buttons = append(buttons, seriesField{name: name, node: pr.V, vals: vals, button: true, typ: typ, text: text})
	}
	return buttons, good
}

// seriesPeriod builds period i; gap reports a period with no data.
func (p *fparser) seriesPeriod(t *Test, key metrics.Key, i int, fs map[string]kv, counts, others []seriesField) (per metrics.Period, gap, ok bool) {
	sent := counts[0].vals[i]
	gap = sent == Gap
	for _, f := range others {
		switch v := f.vals[i]; {
		case gap && v != Gap:
			p.errAt(f.node, "series %s: period %d: sent is _ (no data) but %s is %d: a period with no data is _ in every field", key, i+1, f.name, v)
			return per, gap, false
		case !gap && v == Gap && !f.button:
			p.errAt(f.node, "series %s: period %d: %s is _ (no data) but sent is %d: a period with no data is _ in every field", key, i+1, f.name, sent)
			return per, gap, false
		}
	}
	if gap {
		return per, true, true
	}
	step := t.Granularity.Step()
	start := t.Start.Add(time.Duration(i) * step)
	per = metrics.Period{Start: start, End: start.Add(step), Sent: sent}
	var clicks []int64
	var sum int64
	hasButtons := false
	for _, f := range others {
		hasButtons = hasButtons || f.button
		switch {
		case f.button && f.vals[i] != Gap: // _ in a period with data: the API left the button out
			per.Buttons = append(per.Buttons, metrics.Button{Type: f.typ, Text: f.text, Count: f.vals[i]})
			sum += f.vals[i]
		case f.name == "delivered":
			per.Delivered = f.vals[i]
		case f.name == "read":
			per.Read = f.vals[i]
		case f.name == "clicks":
			clicks = f.vals
		}
	}
	switch {
	case clicks != nil && hasButtons && clicks[i] != sum:
		p.errAt(fs["clicks"].V, "series %s: period %d: clicks is %d but its buttons add up to %d (leave clicks out to use the buttons' sum)", key, i+1, clicks[i], sum)
		return per, false, false
	case clicks != nil:
		per.Clicks = clicks[i]
	default:
		per.Clicks = sum
	}
	return per, false, true
}

var expectFields = []string{"at", "alerts"}

var wantFields = []string{"rule", "template", "language", "button", "state", "severity", "silenced", "value", "baseline", "since"}

var periodRE = regexp.MustCompile(`^\s*(?:(day|period)\s+)?(\d+)\s*$`)

// period parses "day N" (DAILY), "period N", a bare N (1-based) or an
// RFC 3339 time (the latest complete period that ends at or before it, as
// `run --at` picks), returning a 0-based index.
func (p *fparser) period(t *Test, n *yaml.Node, what string) (int, bool) {
	s, ok := p.str(n, what)
	if !ok {
		return 0, false
	}
	if m := periodRE.FindStringSubmatch(s); m != nil {
		if m[1] == "day" && t.Granularity != metrics.Daily {
			p.errAt(n, "%s %q: \"day N\" is for DAILY tests; use \"period N\"", what, s)
			return 0, false
		}
		i, err := strconv.Atoi(m[2])
		if err != nil || i < 1 {
			p.errAt(n, "%s %q: periods count from 1", what, s)
			return 0, false
		}
		return i - 1, true
	}
	at, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		p.errAt(n, "%s %q: want \"day N\", \"period N\" (from 1) or an RFC 3339 time", what, s)
		return 0, false
	}
	step := t.Granularity.Step()
	d := at.Sub(t.Start)
	if d < step {
		p.errAt(n, "%s %q: no complete period ends by then (the first starts at %s)", what, s, t.Start.Format(time.RFC3339))
		return 0, false
	}
	return int(d/step) - 1, true
}

func (p *fparser) expects(t *Test, n *yaml.Node) {
	seq := resolve(n)
	if seq.Kind != yaml.SequenceNode || len(seq.Content) == 0 {
		p.errAt(n, "expect: want a list of {at, alerts}, got %s", kindOf(seq))
		return
	}
	for _, en := range seq.Content {
		m := resolve(en)
		if m.Kind != yaml.MappingNode {
			p.errAt(en, "expect: want a mapping such as {at: \"day 8\", alerts: []}, got %s", kindOf(m))
			continue
		}
		fs := p.fields(m, "in expect", expectFields)
		e := Expect{Line: en.Line}
		good := true
		if v, ok := fs["at"]; ok {
			e.At, _ = p.str(v.V, "at")
			idx, ok := p.period(t, v.V, "at")
			good = good && ok
			if ok && t.Periods > 0 && idx >= t.Periods {
				p.errAt(v.V, "at %q: the series have only %d periods", e.At, t.Periods)
				good = false
			}
			e.Index = idx
		} else {
			p.errAt(en, "expect: missing at (\"day N\")")
			good = false
		}
		v, ok := fs["alerts"]
		if !ok {
			p.errAt(en, "expect: missing alerts (write alerts: [] for none)")
			continue
		}
		al := resolve(v.V)
		if al.Kind == yaml.ScalarNode && al.Tag == "!!null" {
			al = &yaml.Node{Kind: yaml.SequenceNode}
		}
		if al.Kind != yaml.SequenceNode {
			p.errAt(v.V, "alerts: want a list of {rule, template, language, button, state}, got %s", kindOf(al))
			continue
		}
		for _, an := range al.Content {
			w, ok := p.want(t, an)
			good = good && ok
			e.Alerts = append(e.Alerts, w)
		}
		if good {
			t.Expect = append(t.Expect, e)
		}
	}
}

func (p *fparser) want(t *Test, n *yaml.Node) (Want, bool) {
	w := Want{Line: n.Line, text: map[string]string{}}
	m := resolve(n)
	if m.Kind != yaml.MappingNode {
		p.errAt(n, "alert: want a mapping such as {rule: read-rate-drop, template: T1, state: firing}, got %s", kindOf(m))
		return w, false
	}
	fs := p.fields(m, "in alert", wantFields)
	good := true
	strField := func(name string) *string {
		v, ok := fs[name]
		if !ok {
			return nil
		}
		s, ok := p.str(v.V, name)
		if !ok {
			good = false
			return nil
		}
		w.text[name] = s
		return &s
	}
	w.Rule, w.Template, w.Language, w.Button = strField("rule"), strField("template"), strField("language"), strField("button")
	w.State, w.Severity = strField("state"), strField("severity")
	if w.State != nil && *w.State != alert.Firing && *w.State != alert.Resolved {
		p.errAt(fs["state"].V, "state %q: want firing or resolved", *w.State)
		good = false
	}
	good = p.wantSilenced(fs, &w) && good
	for _, name := range []string{"value", "baseline"} {
		if a := p.wantApprox(fs, name, &w, &good); name == "value" {
			w.Value = a
		} else {
			w.Baseline = a
		}
	}
	if v, ok := fs["since"]; ok {
		idx, ok := p.period(t, v.V, "since")
		if ok {
			w.Since = &idx
			w.text["since"], _ = p.str(v.V, "since")
		}
		good = good && ok
	}
	for _, name := range wantFields {
		if _, ok := w.text[name]; ok {
			w.order = append(w.order, name)
		}
	}
	return w, good
}

func (p *fparser) wantSilenced(fs map[string]kv, w *Want) bool {
	v, ok := fs["silenced"]
	if !ok {
		return true
	}
	r := resolve(v.V)
	var b bool
	if r.Kind != yaml.ScalarNode || r.Decode(&b) != nil || r.Tag != "!!bool" {
		p.errAt(v.V, "silenced: want true or false, got %s", kindOf(r))
		return false
	}
	w.Silenced = &b
	w.text["silenced"] = strconv.FormatBool(b)
	return true
}

// wantApprox reads a number compared to the precision it is written with.
func (p *fparser) wantApprox(fs map[string]kv, name string, w *Want, good *bool) *approx {
	v, ok := fs[name]
	if !ok {
		return nil
	}
	s, ok := p.str(v.V, name)
	if !ok {
		*good = false
		return nil
	}
	a, err := parseApprox(s)
	if err != nil {
		p.errAt(v.V, "%s %q: %v", name, s, err)
		*good = false
		return nil
	}
	w.text[name] = s
	return &a
}

// parseApprox reads "0.63", "63%" or "1,200": the tolerance is half a unit
// of the last digit written.
func parseApprox(s string) (approx, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
	pct := strings.HasSuffix(s, "%")
	num := strings.TrimSpace(strings.TrimSuffix(s, "%"))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return approx{}, errors.New("want a number such as 0.63, 63% or 1200")
	}
	decimals := 0
	if i := strings.IndexByte(num, '.'); i >= 0 && !strings.ContainsAny(num, "eE") {
		decimals = len(num) - i - 1
	}
	tol := 0.5 * math.Pow(10, -float64(decimals))
	if pct {
		v, tol = v/100, tol/100
	}
	return approx{v: v, tol: tol}, nil
}

// String renders the expected alert with only the fields it gives.
func (w *Want) String() string {
	var parts []string
	for _, name := range w.order {
		parts = append(parts, name+": "+w.text[name])
	}
	if len(parts) == 0 {
		return "{any alert}"
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
