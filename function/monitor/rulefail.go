package monitor

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// learningSet collects, from the fetch workers, the template-languages
// that some rule cannot judge yet for lack of history, and from when all
// rules can judge them.
type learningSet struct {
	mu   sync.Mutex
	keys map[metrics.Key]bool
	from time.Time
}

func (l *learningSet) add(k metrics.Key, from time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.keys == nil {
		l.keys = map[metrics.Key]bool{}
	}
	l.keys[k] = true
	if from.After(l.from) {
		l.from = from
	}
}

func (l *learningSet) result() (int, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys), l.from
}

// CodeRuleFailed is the error of a rule that could not be evaluated (an
// expression that fails at run time): it did not fire, and that must not
// pass for an all clear.
const CodeRuleFailed = "Rule.Failed"

// RuleFailure is one rule that could not be evaluated on one series.
type RuleFailure struct {
	Rule     string
	Template string // filled in by the monitor
	Err      error
}

// ruleFailures collects failures from the fetch workers.
type ruleFailures struct {
	mu   sync.Mutex
	list []RuleFailure
}

func (f *ruleFailures) add(r RuleFailure) {
	f.mu.Lock()
	f.list = append(f.list, r)
	f.mu.Unlock()
}

// errors is one summary error per rule (a rule that fails fails on every
// template alike: the first template and the count say enough), logged.
func (f *ruleFailures) errors(log *slog.Logger) []Error {
	byRule := map[string][]RuleFailure{}
	for _, r := range f.list {
		byRule[r.Rule] = append(byRule[r.Rule], r)
	}
	names := make([]string, 0, len(byRule))
	for n := range byRule {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []Error
	for _, n := range names {
		fs := byRule[n]
		sort.Slice(fs, func(i, j int) bool { return fs[i].Template < fs[j].Template })
		msg := fmt.Sprintf("rule %s could not be evaluated (%v) and did not fire", n, fs[0].Err)
		if len(fs) > 1 {
			msg += fmt.Sprintf(", on %d series (template %s and others)", len(fs), fs[0].Template)
		}
		log.Error("rule could not be evaluated", "rule", n, "template", fs[0].Template, "series", len(fs), "error", fs[0].Err)
		out = append(out, Error{Template: fs[0].Template, Rule: n, Code: CodeRuleFailed, Message: msg})
	}
	return out
}
