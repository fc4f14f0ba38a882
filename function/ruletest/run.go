package ruletest

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/rules"
	"github.com/cams-alert/cams-alert/function/yamldiag"
)

// Report counts tests.
type Report struct {
	Passed, Failed int
}

// Options tune a run.
type Options struct {
	// Verbose prints a line for every passing test too.
	Verbose bool
}

// Env resolves ${VAR} in the rule files' channels during tests: every
// variable is set, to a placeholder. Tests never send anything, and must not
// depend on the machine's environment.
func Env(name string) (string, bool) {
	return "https://ruletest.invalid/" + name + "?access_token=x", true
}

// RunFiles runs every test in the files, printing failures (and, with
// Verbose, successes) to out. A file that cannot be read or parsed, or whose
// rules do not load, counts as failed: once per test in it (at least once).
func RunFiles(paths []string, out io.Writer, opt Options) Report {
	var total Report
	for _, path := range paths {
		r := RunFile(path, out, opt)
		total.Passed += r.Passed
		total.Failed += r.Failed
	}
	return total
}

// RunFile runs one test file.
func RunFile(path string, out io.Writer, opt Options) Report {
	f, err := Parse(path)
	if err != nil {
		fmt.Fprintf(out, "FAIL  %s: %v\n", path, err)
		return Report{Failed: 1}
	}
	return f.Run(out, opt)
}

// Run loads the file's rules and runs its tests.
func (f *File) Run(out io.Writer, opt Options) Report {
	failFile := func(ds rules.Diagnostics) Report {
		ds.Sort()
		fmt.Fprintf(out, "FAIL  %s\n", f.Path)
		for _, d := range ds {
			fmt.Fprintf(out, "      %s\n", d)
		}
		return Report{Failed: max(1, len(f.Tests))}
	}
	if len(f.Diags) > 0 {
		return failFile(f.Diags)
	}
	set, err := rules.LoadFiles(f.RuleFiles, Env)
	if err != nil {
		ds, ok := err.(rules.Diagnostics)
		if !ok {
			ds = rules.Diagnostics{{File: f.Path, Line: 1, Col: 1, Msg: err.Error()}}
		}
		return failFile(append(rules.Diagnostics{{File: f.Path, Line: 1, Col: 1,
			Msg: "rule_files do not load: " + strings.Join(f.RuleFiles, ", ")}}, ds...))
	}
	var rep Report
	for _, t := range f.Tests {
		failures := t.run(set)
		if len(failures) == 0 {
			rep.Passed++
			if opt.Verbose {
				fmt.Fprintf(out, "ok    %s:%d: %s\n", t.File, t.Line, t.Name)
			}
			continue
		}
		rep.Failed++
		fmt.Fprintf(out, "FAIL  %s:%d: %s\n", t.File, t.Line, t.Name)
		for _, l := range failures {
			fmt.Fprintf(out, "      %s\n", l)
		}
	}
	if rep.Failed == 0 && !opt.Verbose {
		fmt.Fprintf(out, "ok    %s (%d tests)\n", f.Path, rep.Passed)
	}
	return rep
}

// Got is one alert the rules raised in a test period.
type Got struct {
	rules.Result
	Silenced string // the silence's reason, "" when not silenced
}

// Evaluate runs the test's rules over its series at period idx (0-based) and
// returns the alerts firing or resolved in it. Each series is cut at the end
// of the period: the engine sees exactly the history a run at that moment
// would.
func (t *Test) Evaluate(set *rules.Set, idx int) []Got {
	w := t.window(idx)
	var out []Got
	for _, cut := range t.upTo(w) {
		for _, r := range set.Evaluate(cut, w) {
			g := Got{Result: r}
			// A run evaluates a period once it is complete: at its end.
			g.Silenced, _ = set.Silenced(&r, w.End)
			out = append(out, g)
		}
	}
	return out
}

// upTo cuts each series at the end of w: the engine sees exactly the history
// a run at that moment would.
func (t *Test) upTo(w metrics.Window) []*metrics.Series {
	out := make([]*metrics.Series, len(t.Series))
	for i, s := range t.Series {
		cut := *s
		cut.Periods = s.Periods[:s.Upto(w.End)]
		out[i] = &cut
	}
	return out
}

func (t *Test) window(idx int) metrics.Window {
	step := t.Granularity.Step()
	w := metrics.Window{Start: t.Start.Add(time.Duration(idx) * step)}
	w.End = w.Start.Add(step)
	return w
}

// explain shows what the drop and rise rules saw in period idx: the value,
// what the history expected, the range it allowed and the dispersion, so
// that a failing test says why a drop did or did not fire.
func (t *Test) explain(set *rules.Set, idx int) []string {
	w := t.window(idx)
	var out []string
	for _, s := range t.upTo(w) {
		ex := set.Explain(s, w)
		for _, r := range set.Rules {
			st := ex[r.Name]
			if st == nil {
				continue
			}
			v := "not judged"
			if st.HasValue {
				v = num(st.Value)
				if st.Holds {
					v += " holds"
				}
			}
			out = append(out, fmt.Sprintf("    why: %s on %s (%s): %s; %s", r.Name, s.Template, s.Language, v, st))
		}
	}
	return out
}

// subset returns the set restricted to the test's rules, or a problem.
func (t *Test) subset(set *rules.Set) (*rules.Set, []string) {
	if len(t.Rules) == 0 {
		return set, nil
	}
	sub := *set
	sub.Rules = nil
	var problems []string
	for _, name := range t.Rules {
		found := false
		for _, r := range set.Rules {
			if r.Name == name {
				sub.Rules = append(sub.Rules, r)
				found = true
			}
		}
		if !found {
			var names []string
			for _, r := range set.Rules {
				names = append(names, r.Name)
			}
			line, col := t.Line, 1
			if t.rulesNode != nil {
				line, col = t.rulesNode.Line, t.rulesNode.Column
			}
			problems = append(problems, fmt.Sprintf("%s:%d:%d: rules: no rule %q in the rule files%s", t.File, line, col, name, yamldiag.Suggest(name, names)))
		}
	}
	return &sub, problems
}

// run returns the test's failures, one line each (empty: passed).
func (t *Test) run(set *rules.Set) []string {
	if len(t.Diags) > 0 {
		t.Diags.Sort()
		var out []string
		for _, d := range t.Diags {
			out = append(out, d.String())
		}
		return out
	}
	set, problems := t.subset(set)
	if len(problems) > 0 {
		return problems
	}
	if !hasGranularity(set, t.Granularity) {
		return []string{fmt.Sprintf("%s:%d:1: no rule under test is %s: its series would never be judged (set granularity: on the test or the rules)",
			t.File, t.Line, t.Granularity)}
	}
	var out []string
	for _, e := range t.Expect {
		got := t.Evaluate(set, e.Index)
		wantOK, gotOK := match(e.Alerts, got, t)
		ok := true
		for _, b := range wantOK {
			ok = ok && b
		}
		for _, b := range gotOK {
			ok = ok && b
		}
		if ok {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: at %s (%s):", t.File, e.Line, e.At, t.periodName(e.Index)))
		if len(e.Alerts) == 0 {
			out = append(out, "    expected: no alerts")
		} else {
			out = append(out, "    expected:")
			for i := range e.Alerts {
				mark := "      "
				if !wantOK[i] {
					mark = "    - " // missing
				}
				out = append(out, mark+e.Alerts[i].String())
			}
		}
		if len(got) == 0 {
			out = append(out, "    got: no alerts")
		} else {
			out = append(out, "    got:")
			for i := range got {
				mark := "      "
				if !gotOK[i] {
					mark = "    + " // unexpected
				}
				out = append(out, mark+t.describe(&got[i]))
			}
		}
		out = append(out, t.explain(set, e.Index)...)
	}
	return out
}

func hasGranularity(set *rules.Set, g metrics.Granularity) bool {
	for _, have := range set.Granularities() {
		if have == g {
			return true
		}
	}
	return false
}

// match pairs expected and got alerts one to one (a maximum bipartite
// matching on "every field the expectation gives agrees") and reports which
// of each side found a partner.
func match(want []Want, got []Got, t *Test) (wantOK, gotOK []bool) {
	owner := make([]int, len(got)) // got index → want index, or -1
	for i := range owner {
		owner[i] = -1
	}
	var try func(wi int, seen []bool) bool
	try = func(wi int, seen []bool) bool {
		for gi := range got {
			if seen[gi] || !want[wi].matches(&got[gi], t) {
				continue
			}
			seen[gi] = true
			if owner[gi] < 0 || try(owner[gi], seen) {
				owner[gi] = wi
				return true
			}
		}
		return false
	}
	wantOK = make([]bool, len(want))
	for wi := range want {
		wantOK[wi] = try(wi, make([]bool, len(got)))
	}
	gotOK = make([]bool, len(got))
	for gi, wi := range owner {
		gotOK[gi] = wi >= 0
	}
	return wantOK, gotOK
}

func (w *Want) matches(g *Got, t *Test) bool {
	eq := func(p *string, v string) bool { return p == nil || *p == v }
	if !eq(w.Rule, g.Rule.Name) || !eq(w.Template, g.Key.Template) || !eq(w.Language, g.Key.Language) ||
		!eq(w.Button, g.Button) || !eq(w.State, g.State) || !eq(w.Severity, g.Rule.Severity) {
		return false
	}
	if w.Silenced != nil && *w.Silenced != (g.Silenced != "") {
		return false
	}
	if w.Value != nil && !w.Value.match(g.Value) {
		return false
	}
	if w.Baseline != nil && (!g.HasBaseline || !w.Baseline.match(g.Baseline)) {
		return false
	}
	if w.Since != nil && !g.Since.Equal(t.Start.Add(time.Duration(*w.Since)*t.Granularity.Step())) {
		return false
	}
	return true
}

// unit names the test's periods: "day" or "period".
func (t *Test) unit() string {
	if t.Granularity == metrics.Daily {
		return "day"
	}
	return "period"
}

// periodName renders period idx with its dates.
func (t *Test) periodName(idx int) string {
	step := t.Granularity.Step()
	s := t.Start.Add(time.Duration(idx) * step)
	if t.Granularity == metrics.Daily {
		return s.Format("Mon 2 Jan 2006")
	}
	return s.Format("Mon 2 Jan 2006 15:04")
}

// at names a time as the test's period it starts: "day 8".
func (t *Test) at(ts time.Time) string {
	step := t.Granularity.Step()
	d := ts.Sub(t.Start)
	if d%step == 0 {
		return fmt.Sprintf("%s %d", t.unit(), int(d/step)+1)
	}
	return ts.Format(time.RFC3339)
}

// describe renders a got alert in the expectation's syntax, plus what it
// measured.
func (t *Test) describe(g *Got) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{rule: %s, template: %s, language: %s", g.Rule.Name, yamlStr(g.Key.Template), yamlStr(g.Key.Language))
	if g.Button != "" {
		fmt.Fprintf(&b, ", button: %s", yamlStr(g.Button))
	}
	fmt.Fprintf(&b, ", state: %s}", g.State)
	fmt.Fprintf(&b, " value %s", num(g.Value))
	if g.HasBaseline {
		fmt.Fprintf(&b, " baseline %s", num(g.Baseline))
	}
	fmt.Fprintf(&b, " since %s", t.at(g.Since))
	if g.Silenced != "" {
		fmt.Fprintf(&b, " silenced (%s)", g.Silenced)
	}
	if g.Detail != "" {
		fmt.Fprintf(&b, " — %s", g.Detail)
	}
	return b.String()
}

func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprint(v)
	}
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func yamlStr(s string) string {
	if s == "" || strings.ContainsAny(s, ":{}[],#&*!|>'\"%@` ") {
		return strconv.Quote(s)
	}
	return s
}
