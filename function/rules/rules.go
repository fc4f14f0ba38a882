// Package rules is the alert rule language: loading and validating rule
// files (every problem reported at once, as file:line:col: message), and
// evaluating the rules over metric series for one evaluated period.
//
// docs/rules.md is the user-facing documentation of every field and of the
// evaluation semantics implemented here.
package rules

import (
	"text/template"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/receiver"
	"github.com/cams-alert/cams-alert/function/yamldiag"
	"github.com/expr-lang/expr/vm"
)

// Conditions a rule may watch, plus "expr" for rules written as an expression.
const (
	Above  = "above"
	Below  = "below"
	Zero   = "zero"
	Drop   = "drop"
	Rise   = "rise"
	Absent = "absent"
	Expr   = "expr"
)

// Conditions lists the condition names a rule may use.
var Conditions = []string{Above, Below, Zero, Drop, Rise, Absent}

// Channel types, as the receiver package names them.
const (
	Slack    = receiver.Slack
	DingTalk = receiver.DingTalk
)

// Diagnostic is one problem in a rule file (file:line:col: message).
type Diagnostic = yamldiag.Diagnostic

// Diagnostics is every problem found by Load, sorted by file, line, column.
// It is the error Load returns.
type Diagnostics = yamldiag.Diagnostics

// Channel is a channel declared in the rule files, validated by the
// receiver package.
type Channel = receiver.Channel

// Defaults fill the fields a rule leaves out. Defaults are merged over all
// loaded files (see Load).
type Defaults struct {
	Notify       []string
	NotifySet    bool // notify was given (an explicit [] means "nowhere")
	Severity     string
	RepeatEvery  time.Duration
	SendResolved bool
}

// Silence mutes matching alerts until Until.
type Silence struct {
	// Globs (path.Match syntax); empty matches anything.
	Rule, Template, Language, Button string
	Until                            time.Time
	Reason                           string
	File                             string
	Line                             int
}

// Match selects the series a rule applies to; empty lists match all.
type Match struct {
	Templates []string
	Languages []string
}

// Rule is one validated rule, defaults applied.
type Rule struct {
	Name      string
	Metric    string
	Condition string // one of Conditions, or Expr
	// By is the drop/rise size: a fraction of the baseline when ByRelative
	// ("30%" → 0.30), else an absolute difference in the metric's unit.
	By         float64
	ByRelative bool
	// Baseline is the number of previous sending periods the baseline runs
	// over (0: the rule has no baseline).
	Baseline     int
	BaselineStat string // "mean" or "median"
	// Seasonality is SeasonAuto (drop and rise compare with the same
	// weekday, or half hour of the day, when the history shows a cycle) or
	// SeasonOff.
	Seasonality  string
	Threshold    float64
	MinDelivered int64
	MinSent      int64
	MinExpected  float64
	Confidence   float64 // 0: no statistical test
	For          int
	Granularity  metrics.Granularity
	Severity     string
	Match        Match
	Button       string
	// Notify names the rule's channels when NotifySet (the rule or the
	// defaults gave notify; an empty list means nowhere). Otherwise the
	// rule goes to the run's default channels: see Channels.
	Notify       []string
	NotifySet    bool
	RepeatEvery  time.Duration
	SendResolved bool
	// Summary renders the alert line; never nil after Load (a default per
	// condition when the rule has none).
	Summary *template.Template
	// Expr is the compiled expression of an expr rule (nil otherwise);
	// ExprSource is its text.
	Expr       *vm.Program
	ExprSource string
	File       string
	Line       int
	Col        int

	exprVars uint32 // bitmask of the variables the expression reads
	allTpl   bool   // Match.Templates is empty or only "*"
	allLang  bool
}

// Set is everything loaded from the rule files.
type Set struct {
	Channels     map[string]*Channel
	ChannelOrder []string // channel names in file order
	Defaults     Defaults
	Silences     []Silence
	Rules        []*Rule
	// Location renders dates in details (absent: "none since Tue 24 Nov").
	// Load sets UTC; the caller sets the TIMEZONE location.
	Location *time.Location
	// Files lists the files that were loaded, in load order.
	Files []string
	// Warnings lists what was ignored (sorted like Diagnostics); validate
	// prints them and run logs them.
	Warnings Diagnostics
}

// Channels returns the channels the rule's alerts go to: its notify list
// (or the defaults' notify), else the run's default channels def.
func (r *Rule) Channels(def []string) []string {
	if r.NotifySet || len(r.Notify) > 0 {
		return r.Notify
	}
	return def
}

// Granularities returns the granularities the rules use, DAILY first.
func (s *Set) Granularities() []metrics.Granularity {
	var d, h bool
	for _, r := range s.Rules {
		if r.Granularity == metrics.HalfHour {
			h = true
		} else {
			d = true
		}
	}
	var out []metrics.Granularity
	if d {
		out = append(out, metrics.Daily)
	}
	if h {
		out = append(out, metrics.HalfHour)
	}
	return out
}

// trendLen is how many sending periods a trend sparkline shows.
const trendLen = 8

// Lookback returns how many periods of history (before and including the
// evaluated one) a run must fetch at granularity g so that every rule at g
// sees its baseline, its `for` run and its trend:
//
//   - rules with a baseline: 3×baseline + for (baselines count sending
//     periods: a sender active on one period in three still fills them);
//   - absent: 2×learning window + for (the pattern is learned from the window
//     before the last send, and a stop is tracked for another window), which
//     is 57 days for the default 28-day window at DAILY;
//   - drop and rise: the history their expectation learns from (28 days
//     at DAILY, 7 at HALF_HOUR) + for;
//   - every rule: at least 3×for + trend length.
//
// It is 0 when no rule uses g.
func (s *Set) Lookback(g metrics.Granularity) int {
	n := 0
	for _, r := range s.Rules {
		if r.Granularity != g {
			continue
		}
		need := 3*r.For + trendLen
		switch {
		case r.Condition == Absent:
			need = max(need, 2*r.Baseline+r.For+1)
		case r.Baseline > 0:
			need = max(need, 3*r.Baseline+r.For+1)
		}
		if r.Condition == Drop || r.Condition == Rise {
			// the history the expectation learns the cycle and the
			// variation from (stats.go)
			need = max(need, seasonPeriods(g)+r.For+1)
		}
		n = max(n, need)
	}
	return n
}
