package rules

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/yamldiag"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

// ruleSpec is a rule as written. Fields whose YAML may take several forms
// (by: 30% or 0.1; baseline: 14 or 7d; threshold: 0.2 or "20%") stay nodes
// and are read by the rule's condition.
type ruleSpec struct {
	Name         string     `yaml:"name"`
	Metric       string     `yaml:"metric"`
	Condition    string     `yaml:"condition"`
	Expr         string     `yaml:"expr"`
	By           *yaml.Node `yaml:"by"`
	Baseline     *yaml.Node `yaml:"baseline"`
	BaselineStat string     `yaml:"baseline_stat"`
	Threshold    *yaml.Node `yaml:"threshold"`
	MinDelivered int64      `yaml:"min_delivered"`
	MinSent      int64      `yaml:"min_sent"`
	MinExpected  float64    `yaml:"min_expected"`
	Confidence   float64    `yaml:"confidence"`
	For          int64      `yaml:"for"`
	Granularity  string     `yaml:"granularity"`
	Severity     string     `yaml:"severity"`
	Match        *yaml.Node `yaml:"match"`
	Button       string     `yaml:"button"`
	Notify       []string   `yaml:"notify"`
	Summary      string     `yaml:"summary"`
	RepeatEvery  *yaml.Node `yaml:"repeat_every"`
	SendResolved bool       `yaml:"send_resolved"`
	Seasonality  string     `yaml:"seasonality"`
}

var ruleFields = yamldiag.FieldNames(ruleSpec{})

var severities = alert.Severities

// commonFields make sense for every condition.
var commonFields = []string{"name", "condition", "expr", "for", "granularity", "severity", "match", "notify", "summary", "repeat_every", "send_resolved"}

// condFields are the further fields each condition uses.
var condFields = map[string][]string{
	Above:  {"metric", "threshold", "button", "min_delivered", "min_sent"},
	Below:  {"metric", "threshold", "button", "min_delivered", "min_sent"},
	Zero:   {"metric", "baseline", "baseline_stat", "min_expected", "button", "min_delivered", "min_sent"},
	Drop:   {"metric", "by", "baseline", "baseline_stat", "confidence", "button", "min_delivered", "min_sent", "seasonality"},
	Rise:   {"metric", "by", "baseline", "baseline_stat", "confidence", "button", "min_delivered", "min_sent", "seasonality"},
	Absent: {"baseline", "min_sent"},
	Expr:   {"metric", "baseline", "baseline_stat", "button", "min_delivered", "min_sent"},
}

// condOnly are read only once the condition is known: with a missing or
// unknown condition they are not checked at all.
var condOnly = []string{"threshold", "by", "min_expected", "confidence", "expr", "baseline", "baseline_stat", "seasonality"}

var ruleNameRE = regexp.MustCompile(`^[a-z0-9-]+$`)

// Default baselines, in periods.
const (
	defaultBaselineDaily     = 7      // 7d
	defaultBaselineHalfHour  = 48     // 1d of half hours
	defaultAbsentDaily       = 28     // 28d
	defaultAbsentHalfHour    = 7 * 48 // 7d
	minAbsentBaseline        = 7
	maxBaseline              = 5000
	maxFor                   = 1000
	defaultBaselineStat      = "mean"
	defaultMinSentForAbsence = 1
)

func (l *loader) rulesList(n *yaml.Node) {
	if yamldiag.IsNull(n) {
		return
	}
	seq, ok := l.rep.Sequence(n, "rules")
	if !ok {
		return
	}
	for i, it := range seq.Content {
		l.rule(i+1, it)
	}
}

// A rule is checked in steps: those every rule takes, those of its
// condition, then those that depend on both (the baseline's default needs
// the expression's variables).
var (
	commonSteps = []func(*ruleReader){(*ruleReader).granularity, (*ruleReader).metric, (*ruleReader).guards,
		(*ruleReader).forRun, (*ruleReader).button, (*ruleReader).match, (*ruleReader).routing}
	condSteps = map[string][]func(*ruleReader){
		Above: {(*ruleReader).threshold},
		Below: {(*ruleReader).threshold},
		Drop:  {(*ruleReader).by, (*ruleReader).confidence, (*ruleReader).seasonality},
		Rise:  {(*ruleReader).by, (*ruleReader).confidence, (*ruleReader).seasonality},
		Expr:  {(*ruleReader).expr},
	}
	finalSteps = []func(*ruleReader){(*ruleReader).baseline, (*ruleReader).baselineStat, (*ruleReader).summary}
)

// ruleReader validates one rule: the spec as decoded, fs where each field
// was written, and the Rule being built.
type ruleReader struct {
	l     *loader
	m     *yaml.Node
	fs    *yamldiag.Fields
	bad   map[string]bool // fields that did not decode (already reported)
	label string
	spec  ruleSpec
	r     *Rule
	pr    *pendingRule
	good  bool
}

func (l *loader) rule(idx int, n *yaml.Node) {
	label := fmt.Sprintf("rule #%d", idx)
	m, ok := l.rep.Mapping(n, label)
	if !ok {
		return
	}
	r := &Rule{File: l.rep.File, Line: m.Line, Col: m.Column, For: 1, Granularity: metrics.Daily, BaselineStat: defaultBaselineStat, Seasonality: SeasonAuto}
	rr := &ruleReader{l: l, m: m, fs: l.rep.Fields(m, "in rule", ruleFields), label: label, r: r, pr: &pendingRule{r: r}, good: true}
	rr.name()
	rr.condition()
	rr.ignoreUnused()
	rr.bad = l.rep.Decode(rr.fs, rr.label, &rr.spec)
	rr.good = rr.good && len(rr.bad) == 0
	steps := slices.Concat(commonSteps, condSteps[r.Condition], finalSteps)
	for _, step := range steps {
		step(rr)
	}
	if rr.good {
		l.rules = append(l.rules, rr.pr)
	}
}

func (rr *ruleReader) errAt(n *yaml.Node, format string, args ...any) {
	rr.l.rep.Errorf(n, format, args...)
	rr.good = false
}

// given reports a field that was written and decoded.
func (rr *ruleReader) given(f string) bool { return rr.fs.Has(f) && !rr.bad[f] }

// val is a field's value node.
func (rr *ruleReader) val(f string) *yaml.Node {
	p, _ := rr.fs.Get(f)
	return p.V
}

func (rr *ruleReader) name() {
	p, ok := rr.fs.Get("name")
	if !ok {
		rr.errAt(rr.m, "%s: missing name", rr.label)
		return
	}
	rr.fs.Drop("name")
	s, ok := rr.l.rep.String(p.V, rr.label+": name")
	if !ok {
		rr.good = false
		return
	}
	switch at := rr.l.ruleAt[s]; {
	case !ruleNameRE.MatchString(s):
		rr.errAt(p.V, "rule name %q: use only a-z, 0-9 and '-'", s)
	case at != "":
		rr.errAt(p.V, "duplicate rule name %q (first defined at %s)", s, at)
		rr.label = "rule " + s
	default:
		rr.l.ruleAt[s] = fmt.Sprintf("%s:%d", rr.l.rep.File, p.V.Line)
		rr.label = "rule " + s
	}
	rr.r.Name = s
}

// condition reads condition or expr: exactly one kind of rule.
func (rr *ruleReader) condition() {
	cp, hasCond := rr.fs.Get("condition")
	_, hasExpr := rr.fs.Get("expr")
	r, label := rr.r, rr.label
	if hasCond {
		rr.fs.Drop("condition")
		if s, ok := rr.l.rep.String(cp.V, label+": condition"); !ok {
			rr.good = false
		} else if s != Expr && !slices.Contains(Conditions, s) {
			rr.errAt(cp.V, "%s: unknown condition %q (want %s)%s", label, s, strings.Join(Conditions, ", "), yamldiag.Suggest(s, Conditions))
		} else {
			r.Condition = s
		}
	}
	switch {
	case hasExpr && hasCond && r.Condition != "" && r.Condition != Expr:
		rr.errAt(cp.K, "%s: condition %s cannot be combined with expr (an expr rule has no condition)", label, r.Condition)
		r.Condition = ""
	case hasExpr:
		r.Condition = Expr
	case !hasCond:
		rr.errAt(rr.m, "%s: missing condition (%s) or expr", label, strings.Join(Conditions, ", "))
	case r.Condition == Expr:
		rr.errAt(cp.V, "%s: condition expr needs an expr field", label)
		r.Condition = ""
	}
}

// ignoreUnused drops the fields the condition does not use, with a warning
// rather than an error: a rule written as a catalogue of every field still
// loads, and validate says what is ignored.
func (rr *ruleReader) ignoreUnused() {
	cond := rr.r.Condition
	if cond == "" {
		for _, f := range condOnly {
			rr.fs.Drop(f)
		}
		return
	}
	for _, f := range slices.Clone(rr.fs.Order) {
		if slices.Contains(commonFields, f) || condFieldAllowed(cond, f) {
			continue
		}
		p, _ := rr.fs.Get(f)
		hint := ""
		if cond == Absent && f == "metric" {
			hint = " (absent watches sent)"
		} else if cond == Absent && f == "min_delivered" {
			hint = " (use min_sent)"
		}
		rr.l.rep.Warnf(p.K, "%s: %s is not used by condition %s%s; ignored", rr.label, f, cond, hint)
		rr.fs.Drop(f)
	}
}

func (rr *ruleReader) granularity() {
	if !rr.given("granularity") {
		return
	}
	s := rr.spec.Granularity
	if g := metrics.Granularity(s); g.Valid() {
		rr.r.Granularity = g
		return
	}
	rr.errAt(rr.val("granularity"), "%s: unknown granularity %q (want DAILY or HALF_HOUR)%s", rr.label, s, yamldiag.Suggest(strings.ToUpper(s), []string{"DAILY", "HALF_HOUR"}))
}

func (rr *ruleReader) metric() {
	r, cond, label := rr.r, rr.r.Condition, rr.label
	switch {
	case cond == Absent:
		r.Metric = metrics.Sent
	case !rr.fs.Has("metric"):
		switch cond {
		case Above, Below, Zero, Drop, Rise:
			rr.errAt(rr.m, "%s: condition %s needs metric", label, cond)
		case Expr:
			r.Metric = metrics.Delivered
		}
	case !rr.given("metric"):
	case !metrics.Known(rr.spec.Metric):
		s := rr.spec.Metric
		rr.errAt(rr.val("metric"), "%s: unknown metric %q (want %s)%s", label, s, strings.Join(metrics.Names, ", "), yamldiag.Suggest(s, metrics.Names))
	case cond == Zero && metrics.IsRate(rr.spec.Metric):
		rr.errAt(rr.val("metric"), "%s: condition zero needs a count metric (delivered, read, clicks), not %s", label, rr.spec.Metric)
	case cond == Zero && rr.spec.Metric == metrics.Sent:
		// A period with nothing sent is a period without data, which zero
		// never judges: the rule could never fire.
		rr.errAt(rr.val("metric"), "%s: condition zero cannot watch sent (a period with nothing sent has no data); use condition absent for sends that stop", label)
	default:
		r.Metric = rr.spec.Metric
	}
}

func (rr *ruleReader) threshold() {
	cond := rr.r.Condition
	if rr.spec.Threshold == nil {
		rr.errAt(rr.m, "%s: condition %s needs threshold", rr.label, cond)
		return
	}
	if v, ok := rr.l.thresholdValue(rr.spec.Threshold, rr.label, rr.r.Metric); ok {
		rr.r.Threshold = v
	} else {
		rr.good = false
	}
}

func (rr *ruleReader) by() {
	cond := rr.r.Condition
	if rr.spec.By == nil {
		rr.errAt(rr.m, "%s: condition %s needs by (\"30%%\" relative to the baseline, or an absolute number)", rr.label, cond)
		return
	}
	if v, rel, ok := rr.l.byValue(rr.spec.By, rr.label, cond, rr.r.Metric); ok {
		rr.r.By, rr.r.ByRelative = v, rel
	} else {
		rr.good = false
	}
}

// guards are the volume floors.
func (rr *ruleReader) guards() {
	r, sp := rr.r, &rr.spec
	nonNegative := func(f string, negative bool) bool {
		if negative {
			rr.errAt(rr.val(f), "%s: %s must not be negative", rr.label, f)
		}
		return !negative
	}
	if rr.given("min_delivered") && r.Condition != Absent && nonNegative("min_delivered", sp.MinDelivered < 0) {
		r.MinDelivered = sp.MinDelivered
	}
	switch {
	case rr.given("min_sent"):
		if nonNegative("min_sent", sp.MinSent < 0) {
			r.MinSent = sp.MinSent
		}
	case !rr.fs.Has("min_sent") && r.Condition == Absent:
		r.MinSent = defaultMinSentForAbsence
	}
	if rr.given("min_expected") && r.Condition == Zero && nonNegative("min_expected", sp.MinExpected < 0) {
		r.MinExpected = sp.MinExpected
	}
}

func (rr *ruleReader) confidence() {
	r, v := rr.r, rr.spec.Confidence
	if !rr.given("confidence") {
		return
	}
	switch {
	case v <= 0 || v >= 1:
		rr.errAt(rr.val("confidence"), "%s: confidence must be between 0 and 1 exclusive, like 0.99", rr.label)
	case r.Metric != "" && !metrics.IsRate(r.Metric):
		rr.errAt(rr.val("confidence"), "%s: confidence needs a rate metric (delivery_rate, read_rate, click_rate), not %s", rr.label, r.Metric)
	default:
		r.Confidence = v
	}
}

func (rr *ruleReader) forRun() {
	if !rr.given("for") {
		return
	}
	if v := rr.spec.For; v < 1 || v > maxFor {
		rr.errAt(rr.val("for"), "%s: for must be between 1 and %d periods", rr.label, maxFor)
	} else {
		rr.r.For = int(v)
	}
}

func (rr *ruleReader) button() {
	r, s := rr.r, rr.spec.Button
	if !rr.given("button") || r.Condition == Absent {
		return
	}
	switch typ, isType := metrics.ButtonType(s); {
	case strings.TrimSpace(s) == "":
		rr.errAt(rr.val("button"), "%s: button is empty", rr.label)
	case isType && typ != metrics.QuickReply && typ != metrics.URLButton && typ != metrics.PhoneButton:
		rr.errAt(rr.val("button"), "%s: unknown button type %q (want type:%s, type:%s or type:%s)", rr.label, typ, metrics.QuickReply, metrics.URLButton, metrics.PhoneButton)
	case r.Condition != Expr && r.Metric != "" && r.Metric != metrics.Clicks && r.Metric != metrics.ClickRate:
		// Ignored, not honoured: a button on a read-rate rule would
		// silently narrow it to templates that have that button.
		p, _ := rr.fs.Get("button")
		rr.l.rep.Warnf(p.K, "%s: button is only used with metric clicks or click_rate, not %s; ignored", rr.label, r.Metric)
	default:
		r.Button = s
	}
}

// matchSpec selects templates and languages.
type matchSpec struct {
	Templates *yaml.Node `yaml:"templates"`
	Languages *yaml.Node `yaml:"languages"`
}

var matchFields = yamldiag.FieldNames(matchSpec{})

func (rr *ruleReader) match() {
	r := rr.r
	defer func() { r.allTpl, r.allLang = allGlob(r.Match.Templates), allGlob(r.Match.Languages) }()
	if !rr.fs.Has("match") {
		return
	}
	rep, label := rr.l.rep, rr.label
	mm, ok := rep.Mapping(rr.spec.Match, label+": match")
	if !ok {
		rr.good = false
		return
	}
	var ms matchSpec
	rep.Decode(rep.Fields(mm, "in match", matchFields), label+": match", &ms)
	r.Match.Templates = rr.globs(ms.Templates, "templates")
	r.Match.Languages = rr.globs(ms.Languages, "languages")
}

func (rr *ruleReader) globs(n *yaml.Node, field string) []string {
	if yamldiag.IsNull(n) {
		return nil
	}
	what := rr.label + ": match: " + field
	globs, ok := rr.l.rep.Strings(n, what)
	if !ok {
		rr.good = false
		return nil
	}
	for i, g := range globs {
		if !rr.l.checkGlob(yamldiag.Resolve(n).Content[i], what, g) {
			rr.good = false
		}
	}
	return globs
}

// routing reads severity, notify, repeat_every and send_resolved; what the
// rule leaves out the defaults fill in (pendingRule.withDefaults).
func (rr *ruleReader) routing() {
	r, pr, sp, fs := rr.r, rr.pr, &rr.spec, rr.fs
	pr.severitySet = fs.Has("severity")
	if rr.given("severity") {
		if rr.l.checkSeverity(fs, rr.label, sp.Severity) {
			r.Severity = sp.Severity
		} else {
			rr.good = false
		}
	}
	pr.notifySet = fs.Has("notify")
	if rr.given("notify") {
		r.Notify, r.NotifySet = sp.Notify, true
		rr.l.addRefs(rr.label, rr.val("notify"), sp.Notify)
	}
	pr.repeatSet = fs.Has("repeat_every")
	if pr.repeatSet {
		if d, ok := rr.l.wantDuration(sp.RepeatEvery, rr.label+": repeat_every"); ok {
			r.RepeatEvery = d
		} else {
			rr.good = false
		}
	}
	pr.sendSet = fs.Has("send_resolved")
	r.SendResolved = sp.SendResolved
}

// expr compiles an expr rule's expression (before the baseline: baseline_*
// variables need one).
func (rr *ruleReader) expr() {
	r := rr.r
	if !rr.given("expr") {
		return
	}
	n, hasButton := rr.val("expr"), rr.fs.Has("button")
	prog, vars, err := compileExpr(rr.spec.Expr, hasButton)
	if err != nil {
		rr.errAt(n, "%s: expr: %s", rr.label, err)
		return
	}
	r.Expr, r.ExprSource, r.exprVars = prog, rr.spec.Expr, vars
	if vars&varButtonAny != 0 && !hasButton {
		rr.errAt(n, "%s: expr uses button_clicks or baseline_button_clicks but the rule has no button", rr.label)
	}
}

func (rr *ruleReader) baseline() {
	r, cond := rr.r, rr.r.Condition
	if rr.spec.Baseline != nil {
		v, ok := rr.l.baselineValue(rr.spec.Baseline, rr.label, r.Granularity)
		switch {
		case !ok:
			rr.good = false
		case cond == Absent && v < minAbsentBaseline:
			rr.errAt(rr.spec.Baseline, "%s: baseline: absent needs at least %d periods of history to learn the sending pattern", rr.label, minAbsentBaseline)
		}
		r.Baseline = v
		return
	}
	if rr.fs.Has("baseline") || cond == "" {
		return
	}
	daily := r.Granularity != metrics.HalfHour
	switch {
	case cond == Absent && daily:
		r.Baseline = defaultAbsentDaily
	case cond == Absent:
		r.Baseline = defaultAbsentHalfHour
	case cond == Drop || cond == Rise || cond == Zero || (cond == Expr && r.exprVars&varBaselineAny != 0):
		if daily {
			r.Baseline = defaultBaselineDaily
		} else {
			r.Baseline = defaultBaselineHalfHour
		}
	}
}

func (rr *ruleReader) baselineStat() {
	if !rr.given("baseline_stat") {
		return
	}
	if s := rr.spec.BaselineStat; s != "mean" && s != "median" {
		rr.errAt(rr.val("baseline_stat"), "%s: unknown baseline_stat %q (want mean or median)", rr.label, s)
	} else {
		rr.r.BaselineStat = s
	}
}

func (rr *ruleReader) seasonality() {
	if !rr.given("seasonality") {
		return
	}
	if s := rr.spec.Seasonality; s != SeasonAuto && s != SeasonOff {
		rr.errAt(rr.val("seasonality"), "%s: unknown seasonality %q (want auto or off)", rr.label, s)
	} else {
		rr.r.Seasonality = s
	}
}

func (rr *ruleReader) summary() {
	r := rr.r
	switch {
	case rr.given("summary"):
		t, err := parseSummary(r.Name, rr.spec.Summary)
		if err != nil {
			rr.errAt(rr.val("summary"), "%s: summary: %s", rr.label, err)
		}
		r.Summary = t
	case !rr.fs.Has("summary") && r.Condition != "":
		r.Summary = defaultSummary(r.Condition)
	}
}

func condFieldAllowed(cond, field string) bool { return slices.Contains(condFields[cond], field) }

func allGlob(gs []string) bool {
	for _, g := range gs {
		if g == "*" {
			return true
		}
	}
	return len(gs) == 0
}

func (l *loader) thresholdValue(n *yaml.Node, label, metric string) (float64, bool) {
	if v, ok := yamldiag.ScalarFloat(n); ok {
		if metrics.IsRate(metric) && (v < 0 || v > 1) {
			l.errAt(n, "%s: threshold %v is outside 0..1 for %s (rates are fractions: write 0.2 or \"20%%\")", label, v, metric)
			return 0, false
		}
		return v, true
	}
	if s, ok := yamldiag.ScalarString(n); ok {
		if v, ok := parsePercent(s); ok && yamldiag.Resolve(n).Tag == "!!str" {
			if !metrics.IsRate(metric) {
				l.errAt(n, "%s: threshold %q: a percentage needs a rate metric", label, s)
				return 0, false
			}
			if v < 0 || v > 1 {
				l.errAt(n, "%s: threshold %q is outside 0%%..100%%", label, s)
				return 0, false
			}
			return v, true
		}
	}
	l.errAt(n, "%s: threshold: want a number (or \"20%%\" for a rate), got %s", label, yamldiag.KindOf(n))
	return 0, false
}

func (l *loader) byValue(n *yaml.Node, label, cond, metric string) (float64, bool, bool) {
	if v, ok := yamldiag.ScalarFloat(n); ok {
		switch {
		case v <= 0:
			l.errAt(n, "%s: by must be greater than 0", label)
			return 0, false, false
		case metrics.IsRate(metric) && v >= 1:
			l.errAt(n, "%s: by %v is more than a rate can move (absolute by is in rate units: 0.1 = 10 points; write \"30%%\" for relative)", label, v)
			return 0, false, false
		}
		return v, false, true
	}
	if s, ok := yamldiag.ScalarString(n); ok && yamldiag.Resolve(n).Tag == "!!str" {
		if v, ok := parsePercent(s); ok {
			switch {
			case v <= 0:
				l.errAt(n, "%s: by must be greater than 0%%", label)
				return 0, false, false
			case cond == Drop && v > 1:
				l.errAt(n, "%s: by %q: a drop cannot exceed 100%%", label, s)
				return 0, false, false
			}
			return v, true, true
		}
		l.errAt(n, "%s: by: want \"30%%\" (relative) or a number (absolute), got %q", label, s)
		return 0, false, false
	}
	l.errAt(n, "%s: by: want \"30%%\" (relative) or a number (absolute), got %s", label, yamldiag.KindOf(n))
	return 0, false, false
}

// baselineValue parses a count of periods (14) or a duration (7d) that is a
// whole number of periods of g.
func (l *loader) baselineValue(n *yaml.Node, label string, g metrics.Granularity) (int, bool) {
	var periods int64
	if v, ok := yamldiag.ScalarInt(n); ok {
		periods = v
	} else if s, ok := yamldiag.ScalarString(n); ok {
		if v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil {
			periods = v
		} else {
			d, err := parseDuration(s)
			if err != nil {
				l.errAt(n, "%s: baseline: invalid %q (want a number of periods like 14, or a duration like 7d)", label, s)
				return 0, false
			}
			step := g.Step()
			if d <= 0 || d%step != 0 {
				l.errAt(n, "%s: baseline: %s is not a whole number of %s periods (%s each)", label, s, g, shortDuration(step))
				return 0, false
			}
			periods = int64(d / step)
		}
	} else {
		l.errAt(n, "%s: baseline: want a number of periods or a duration like 7d, got %s", label, yamldiag.KindOf(n))
		return 0, false
	}
	if periods < 1 || periods > maxBaseline {
		l.errAt(n, "%s: baseline must be between 1 and %d periods", label, maxBaseline)
		return 0, false
	}
	return int(periods), true
}

// parseDuration is time.ParseDuration plus a "d" (24h) unit: "7d", "1d12h".
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	i := strings.IndexByte(s, 'd')
	if i <= 0 {
		return time.ParseDuration(s)
	}
	days, err := strconv.ParseInt(s[:i], 10, 32)
	if err != nil || days < 0 || days > 3660 {
		return 0, errors.New("bad days")
	}
	d := time.Duration(days) * 24 * time.Hour
	if rest := s[i+1:]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, errors.New("bad duration")
		}
		d += r
	}
	return d, nil
}

func shortDuration(d time.Duration) string {
	switch {
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// ---- expressions -------------------------------------------------------------

// exprEnv is what an expression sees. Counts are integers, rates fractions,
// baseline_* the baseline's statistic of each metric.
type exprEnv struct {
	Sent                 int     `expr:"sent"`
	Delivered            int     `expr:"delivered"`
	Read                 int     `expr:"read"`
	Clicks               int     `expr:"clicks"`
	DeliveryRate         float64 `expr:"delivery_rate"`
	ReadRate             float64 `expr:"read_rate"`
	ClickRate            float64 `expr:"click_rate"`
	ButtonClicks         int     `expr:"button_clicks"`
	BaselineSent         float64 `expr:"baseline_sent"`
	BaselineDelivered    float64 `expr:"baseline_delivered"`
	BaselineRead         float64 `expr:"baseline_read"`
	BaselineClicks       float64 `expr:"baseline_clicks"`
	BaselineDeliveryRate float64 `expr:"baseline_delivery_rate"`
	BaselineReadRate     float64 `expr:"baseline_read_rate"`
	BaselineClickRate    float64 `expr:"baseline_click_rate"`
	BaselineButtonClicks float64 `expr:"baseline_button_clicks"`
}

// Variable bits, in exprVarNames order.
const (
	varSent uint32 = 1 << iota
	varDelivered
	varRead
	varClicks
	varDeliveryRate
	varReadRate
	varClickRate
	varButtonClicks
	varBaselineSent
	varBaselineDelivered
	varBaselineRead
	varBaselineClicks
	varBaselineDeliveryRate
	varBaselineReadRate
	varBaselineClickRate
	varBaselineButtonClicks

	varBaselineAny = varBaselineSent | varBaselineDelivered | varBaselineRead | varBaselineClicks |
		varBaselineDeliveryRate | varBaselineReadRate | varBaselineClickRate | varBaselineButtonClicks
	varButtonAny = varButtonClicks | varBaselineButtonClicks
	varAll       = 1<<16 - 1
)

var exprVarNames = []string{
	"sent", "delivered", "read", "clicks", "delivery_rate", "read_rate", "click_rate", "button_clicks",
	"baseline_sent", "baseline_delivered", "baseline_read", "baseline_clicks",
	"baseline_delivery_rate", "baseline_read_rate", "baseline_click_rate", "baseline_button_clicks",
}

// varCollector finds the variables an expression reads; dynamic marks one
// that reads $env and so may read any.
type varCollector struct {
	mask    uint32
	dynamic bool
}

func (c *varCollector) Visit(n *ast.Node) {
	var name string
	switch v := (*n).(type) {
	case *ast.IdentifierNode:
		name = v.Value
	case *ast.StringNode: // $env["read_rate"]
		name = v.Value
	default:
		return
	}
	if name == "$env" {
		c.mask |= varAll
		c.dynamic = true
		return
	}
	for i, vn := range exprVarNames {
		if vn == name {
			c.mask |= 1 << i
		}
	}
}

// exprDiv replaces expr's "/": a division by zero is an error, so the period
// is not evaluated (an undefined value never alerts), where expr would give
// +Inf and fire "sent / delivered > 2" on a period with nothing delivered.
var exprDiv = []expr.Option{
	expr.Function("__div", func(params ...any) (any, error) {
		a, aerr := toFloat(params[0])
		b, berr := toFloat(params[1])
		if err := errors.Join(aerr, berr); err != nil {
			return nil, err
		}
		if b == 0 {
			return nil, errDivZero
		}
		return a / b, nil
	}, new(func(int, int) float64), new(func(float64, float64) float64),
		new(func(int, float64) float64), new(func(float64, int) float64)),
	expr.Operator("/", "__div"),
}

// compileExpr compiles a boolean expression over exprEnv and reports which
// variables it reads. An expression that reads $env reads what it may:
// the button's variables only when the rule has a button.
func compileExpr(src string, hasButton bool) (prog *vm.Program, vars uint32, err error) {
	if strings.TrimSpace(src) == "" {
		return nil, 0, errors.New("empty expression")
	}
	defer func() {
		if r := recover(); r != nil {
			prog, err = nil, fmt.Errorf("cannot compile expression")
		}
	}()
	if err := checkExpr(src); err != nil {
		return nil, 0, err
	}
	p, err := expr.Compile(src, append([]expr.Option{expr.Env(exprEnv{}), expr.AsBool(), expr.MaxNodes(2000)}, exprDiv...)...)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			msg := fe.Message
			if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
				msg += yamldiag.Suggest(name, exprVarNames)
			}
			if fe.Line > 1 {
				msg = fmt.Sprintf("%s (expression line %d, column %d)", msg, fe.Line, fe.Column+1)
			} else {
				msg = fmt.Sprintf("%s (expression column %d)", msg, fe.Column+1)
			}
			return nil, 0, errors.New(msg)
		}
		return nil, 0, errors.New(firstLine(err.Error()))
	}
	c := &varCollector{}
	node := p.Node()
	ast.Walk(&node, c)
	if c.dynamic && !hasButton {
		c.mask &^= varButtonAny
	}
	return p, c.mask, nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
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
