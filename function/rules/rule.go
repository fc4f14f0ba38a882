package rules

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"gopkg.in/yaml.v3"
)

var ruleFields = []string{
	"name", "metric", "condition", "expr", "by", "baseline", "baseline_stat", "threshold",
	"min_delivered", "min_sent", "min_expected", "confidence", "for", "granularity",
	"severity", "match", "button", "notify", "summary", "repeat_every", "send_resolved",
}

// commonFields make sense for every condition.
var commonFields = []string{"name", "condition", "expr", "for", "granularity", "severity", "match", "notify", "summary", "repeat_every", "send_resolved"}

// condFields are the further fields each condition uses.
var condFields = map[string][]string{
	Above:  {"metric", "threshold", "button", "min_delivered", "min_sent"},
	Below:  {"metric", "threshold", "button", "min_delivered", "min_sent"},
	Zero:   {"metric", "baseline", "baseline_stat", "min_expected", "button", "min_delivered", "min_sent"},
	Drop:   {"metric", "by", "baseline", "baseline_stat", "confidence", "button", "min_delivered", "min_sent"},
	Rise:   {"metric", "by", "baseline", "baseline_stat", "confidence", "button", "min_delivered", "min_sent"},
	Absent: {"baseline", "min_sent"},
	Expr:   {"metric", "baseline", "baseline_stat", "button", "min_delivered", "min_sent"},
}

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
	if isNull(n) {
		return
	}
	seq := resolve(n)
	if seq.Kind != yaml.SequenceNode {
		l.errAt(n, "rules: want a list, got %s", kindOf(n))
		return
	}
	for i, it := range seq.Content {
		l.rule(i+1, it)
	}
}

func (l *loader) rule(idx int, n *yaml.Node) {
	m, ok := l.wantMapping(n, fmt.Sprintf("rule #%d", idx))
	if !ok {
		return
	}
	fs := l.fields(m, "in rule", ruleFields)
	r := &Rule{File: l.file, Line: m.Line, For: 1, Granularity: metrics.Daily, BaselineStat: defaultBaselineStat}
	pr := &pendingRule{r: r}
	good := true
	bad := func() { good = false }
	label := fmt.Sprintf("rule #%d", idx)

	// name
	if p, ok := fs.get("name"); ok {
		if s, ok := l.wantString(p.v, label+": name"); ok {
			switch {
			case !ruleNameRE.MatchString(s):
				l.errAt(p.v, "rule name %q: use only a-z, 0-9 and '-'", s)
				bad()
			case l.ruleAt[s] != "":
				l.errAt(p.v, "duplicate rule name %q (first defined at %s)", s, l.ruleAt[s])
				bad()
			default:
				l.ruleAt[s] = fmt.Sprintf("%s:%d", l.file, p.v.Line)
			}
			r.Name = s
			if ruleNameRE.MatchString(s) {
				label = "rule " + s
			}
		} else {
			bad()
		}
	} else {
		l.errAt(m, "%s: missing name", label)
		bad()
	}

	// condition / expr
	cp, hasCond := fs.get("condition")
	ep, hasExpr := fs.get("expr")
	if hasCond {
		if s, ok := l.wantString(cp.v, label+": condition"); ok {
			known := s == Expr
			for _, c := range Conditions {
				known = known || c == s
			}
			if !known {
				l.errAt(cp.v, "%s: unknown condition %q (want %s)%s", label, s, strings.Join(Conditions, ", "), suggest(s, Conditions))
				bad()
			} else {
				r.Condition = s
			}
		} else {
			bad()
		}
	}
	switch {
	case hasExpr && hasCond && r.Condition != "" && r.Condition != Expr:
		l.errAt(cp.k, "%s: condition %s cannot be combined with expr (an expr rule has no condition)", label, r.Condition)
		bad()
		r.Condition = ""
	case hasExpr:
		r.Condition = Expr
	case !hasCond:
		l.errAt(m, "%s: missing condition (%s) or expr", label, strings.Join(Conditions, ", "))
		bad()
	case r.Condition == Expr:
		l.errAt(cp.v, "%s: condition expr needs an expr field", label)
		bad()
		r.Condition = ""
	}
	cond := r.Condition

	// fields that make no sense for the condition
	// are ignored with a warning, not refused: a rule written as a
	// catalogue of every field (SPEC §5's example) still loads, and
	// validate says what is ignored.
	if cond != "" {
		for _, f := range slices.Clone(fs.order) {
			if slices.Contains(commonFields, f) || condFieldAllowed(cond, f) {
				continue
			}
			p, _ := fs.get(f)
			hint := ""
			if cond == Absent && f == "metric" {
				hint = " (absent watches sent)"
			} else if cond == Absent && f == "min_delivered" {
				hint = " (use min_sent)"
			}
			l.warnAt(p.k, "%s: %s is not used by condition %s%s; ignored", label, f, cond, hint)
			fs.drop(f)
		}
	}

	// granularity
	if p, ok := fs.get("granularity"); ok {
		if s, ok := l.wantString(p.v, label+": granularity"); ok {
			g := metrics.Granularity(s)
			if !g.Valid() {
				l.errAt(p.v, "%s: unknown granularity %q (want DAILY or HALF_HOUR)%s", label, s, suggest(strings.ToUpper(s), []string{"DAILY", "HALF_HOUR"}))
				bad()
			} else {
				r.Granularity = g
			}
		} else {
			bad()
		}
	}

	// metric
	if p, ok := fs.get("metric"); ok && cond != Absent {
		if s, ok := l.wantString(p.v, label+": metric"); ok {
			if !metrics.Known(s) {
				l.errAt(p.v, "%s: unknown metric %q (want %s)%s", label, s, strings.Join(metrics.Names, ", "), suggest(s, metrics.Names))
				bad()
			} else if cond == Zero && metrics.IsRate(s) {
				l.errAt(p.v, "%s: condition zero needs a count metric (delivered, read, clicks), not %s", label, s)
				bad()
			} else if cond == Zero && s == metrics.Sent {
				// A period with nothing sent is a period without data, which
				// zero never judges: the rule could never fire.
				l.errAt(p.v, "%s: condition zero cannot watch sent (a period with nothing sent has no data); use condition absent for sends that stop", label)
				bad()
			} else {
				r.Metric = s
			}
		} else {
			bad()
		}
	} else if !ok {
		switch cond {
		case Above, Below, Zero, Drop, Rise:
			l.errAt(m, "%s: condition %s needs metric", label, cond)
			bad()
		case Expr:
			r.Metric = metrics.Delivered
		}
	}
	if cond == Absent {
		r.Metric = metrics.Sent
	}
	isRate := metrics.IsRate(r.Metric)

	// threshold
	if p, ok := fs.get("threshold"); ok && (cond == Above || cond == Below) {
		if v, ok := l.thresholdValue(p.v, label, r.Metric); ok {
			r.Threshold = v
		} else {
			bad()
		}
	} else if !ok && (cond == Above || cond == Below) {
		l.errAt(m, "%s: condition %s needs threshold", label, cond)
		bad()
	}

	// by
	if p, ok := fs.get("by"); ok && (cond == Drop || cond == Rise) {
		if v, rel, ok := l.byValue(p.v, label, cond, r.Metric); ok {
			r.By, r.ByRelative = v, rel
		} else {
			bad()
		}
	} else if !ok && (cond == Drop || cond == Rise) {
		l.errAt(m, "%s: condition %s needs by (\"30%%\" relative to the baseline, or an absolute number)", label, cond)
		bad()
	}

	// guards
	if p, ok := fs.get("min_delivered"); ok && cond != Absent {
		if v, ok := l.wantInt(p.v, label+": min_delivered"); ok && v >= 0 {
			r.MinDelivered = v
		} else {
			if ok {
				l.errAt(p.v, "%s: min_delivered must not be negative", label)
			}
			bad()
		}
	}
	if p, ok := fs.get("min_sent"); ok {
		if v, ok := l.wantInt(p.v, label+": min_sent"); ok && v >= 0 {
			r.MinSent = v
		} else {
			if ok {
				l.errAt(p.v, "%s: min_sent must not be negative", label)
			}
			bad()
		}
	} else if cond == Absent {
		r.MinSent = defaultMinSentForAbsence
	}
	if p, ok := fs.get("min_expected"); ok && cond == Zero {
		if v, ok := l.wantNumber(p.v, label+": min_expected"); ok && v >= 0 {
			r.MinExpected = v
		} else {
			if ok {
				l.errAt(p.v, "%s: min_expected must not be negative", label)
			}
			bad()
		}
	}
	if p, ok := fs.get("confidence"); ok && (cond == Drop || cond == Rise) {
		if v, ok := l.wantNumber(p.v, label+": confidence"); ok {
			switch {
			case v <= 0 || v >= 1:
				l.errAt(p.v, "%s: confidence must be between 0 and 1 exclusive, like 0.99", label)
				bad()
			case r.Metric != "" && !isRate:
				l.errAt(p.v, "%s: confidence needs a rate metric (delivery_rate, read_rate, click_rate), not %s", label, r.Metric)
				bad()
			default:
				r.Confidence = v
			}
		} else {
			bad()
		}
	}
	if p, ok := fs.get("for"); ok {
		if v, ok := l.wantInt(p.v, label+": for"); ok {
			if v < 1 || v > maxFor {
				l.errAt(p.v, "%s: for must be between 1 and %d periods", label, maxFor)
				bad()
			} else {
				r.For = int(v)
			}
		} else {
			bad()
		}
	}

	// button
	if p, ok := fs.get("button"); ok && cond != Absent {
		if s, ok := l.wantString(p.v, label+": button"); ok {
			switch typ, isType := metrics.ButtonType(s); {
			case strings.TrimSpace(s) == "":
				l.errAt(p.v, "%s: button is empty", label)
				bad()
			case isType && typ != metrics.QuickReply && typ != metrics.URLButton && typ != metrics.PhoneButton:
				l.errAt(p.v, "%s: unknown button type %q (want type:%s, type:%s or type:%s)", label, typ, metrics.QuickReply, metrics.URLButton, metrics.PhoneButton)
				bad()
			case cond != Expr && r.Metric != "" && r.Metric != metrics.Clicks && r.Metric != metrics.ClickRate:
				// Ignored, not honoured: a button on a read-rate rule would
				// silently narrow it to templates that have that button.
				l.warnAt(p.k, "%s: button is only used with metric clicks or click_rate, not %s; ignored", label, r.Metric)
			default:
				r.Button = s
			}
		} else {
			bad()
		}
	}

	// match
	if p, ok := fs.get("match"); ok {
		if mm, ok := l.wantMapping(p.v, label+": match"); ok {
			mf := l.fields(mm, "in match", []string{"templates", "languages"})
			for _, f := range []string{"templates", "languages"} {
				q, ok := mf.get(f)
				if !ok || isNull(q.v) {
					continue
				}
				globs, ok := l.wantStrings(q.v, label+": match: "+f)
				if !ok {
					bad()
					continue
				}
				for i, g := range globs {
					if !l.checkGlob(resolve(q.v).Content[i], label+": match: "+f, g) {
						bad()
					}
				}
				if f == "templates" {
					r.Match.Templates = globs
				} else {
					r.Match.Languages = globs
				}
			}
		} else {
			bad()
		}
	}
	r.allTpl = allGlob(r.Match.Templates)
	r.allLang = allGlob(r.Match.Languages)

	// lifecycle and routing
	if p, ok := fs.get("severity"); ok {
		pr.severitySet = true
		if s, ok := l.severity(p.v, label); ok {
			r.Severity = s
		} else {
			bad()
		}
	}
	if p, ok := fs.get("notify"); ok {
		pr.notifySet = true
		if names, ok := l.wantStrings(p.v, label+": notify"); ok {
			r.Notify = names
			for i, name := range names {
				l.notifyRefs = append(l.notifyRefs, notifyRef{label: label, file: l.file, node: resolve(p.v).Content[i], name: name})
			}
		} else {
			bad()
		}
	}
	if p, ok := fs.get("repeat_every"); ok {
		pr.repeatSet = true
		if d, ok := l.wantDuration(p.v, label+": repeat_every"); ok {
			r.RepeatEvery = d
		} else {
			bad()
		}
	}
	if p, ok := fs.get("send_resolved"); ok {
		pr.sendSet = true
		if b, ok := l.wantBool(p.v, label+": send_resolved"); ok {
			r.SendResolved = b
		} else {
			bad()
		}
	}

	// expression (before baseline: baseline_* variables need one)
	if hasExpr && cond == Expr {
		if s, ok := l.wantString(ep.v, label+": expr"); ok {
			prog, vars, err := compileExpr(s, fs.has("button"))
			if err != nil {
				l.errAt(ep.v, "%s: expr: %s", label, err)
				bad()
			} else {
				r.Expr, r.ExprSource, r.exprVars = prog, s, vars
				if vars&varButtonAny != 0 && !fs.has("button") {
					l.errAt(ep.v, "%s: expr uses button_clicks or baseline_button_clicks but the rule has no button", label)
					bad()
				}
			}
		} else {
			bad()
		}
	}

	// baseline
	if p, ok := fs.get("baseline"); ok && condFieldAllowed(cond, "baseline") {
		if v, ok := l.baselineValue(p.v, label, r.Granularity); ok {
			if cond == Absent && v < minAbsentBaseline {
				l.errAt(p.v, "%s: baseline: absent needs at least %d periods of history to learn the sending pattern", label, minAbsentBaseline)
				bad()
			}
			r.Baseline = v
		} else {
			bad()
		}
	} else if !ok {
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
	if p, ok := fs.get("baseline_stat"); ok && condFieldAllowed(cond, "baseline_stat") {
		if s, ok := l.wantString(p.v, label+": baseline_stat"); ok {
			if s != "mean" && s != "median" {
				l.errAt(p.v, "%s: unknown baseline_stat %q (want mean or median)", label, s)
				bad()
			} else {
				r.BaselineStat = s
			}
		} else {
			bad()
		}
	}

	// summary
	if p, ok := fs.get("summary"); ok {
		if s, ok := l.wantString(p.v, label+": summary"); ok {
			t, err := parseSummary(r.Name, s)
			if err != nil {
				l.errAt(p.v, "%s: summary: %s", label, err)
				bad()
			}
			r.Summary = t
		} else {
			bad()
		}
	} else if cond != "" {
		r.Summary = defaultSummary(cond)
	}

	if good {
		l.rules = append(l.rules, pr)
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
	if v, ok := scalarFloat(n); ok {
		if metrics.IsRate(metric) && (v < 0 || v > 1) {
			l.errAt(n, "%s: threshold %v is outside 0..1 for %s (rates are fractions: write 0.2 or \"20%%\")", label, v, metric)
			return 0, false
		}
		return v, true
	}
	if s, ok := scalarString(n); ok {
		if v, ok := parsePercent(s); ok && resolve(n).Tag == "!!str" {
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
	l.errAt(n, "%s: threshold: want a number (or \"20%%\" for a rate), got %s", label, kindOf(n))
	return 0, false
}

func (l *loader) byValue(n *yaml.Node, label, cond, metric string) (float64, bool, bool) {
	if v, ok := scalarFloat(n); ok {
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
	if s, ok := scalarString(n); ok && resolve(n).Tag == "!!str" {
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
	l.errAt(n, "%s: by: want \"30%%\" (relative) or a number (absolute), got %s", label, kindOf(n))
	return 0, false, false
}

// baselineValue parses a count of periods (14) or a duration (7d) that is a
// whole number of periods of g.
func (l *loader) baselineValue(n *yaml.Node, label string, g metrics.Granularity) (int, bool) {
	var periods int64
	if v, ok := scalarInt(n); ok {
		periods = v
	} else if s, ok := scalarString(n); ok {
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
		l.errAt(n, "%s: baseline: want a number of periods or a duration like 7d, got %s", label, kindOf(n))
		return 0, false
	}
	if periods < 1 || periods > maxBaseline {
		l.errAt(n, "%s: baseline must be between 1 and %d periods", label, maxBaseline)
		return 0, false
	}
	return int(periods), true
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
			return nil, errors.New("division by zero")
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
	p, err := expr.Compile(src, append([]expr.Option{expr.Env(exprEnv{}), expr.AsBool(), expr.MaxNodes(2000)}, exprDiv...)...)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			msg := fe.Message
			if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
				msg += suggest(name, exprVarNames)
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
