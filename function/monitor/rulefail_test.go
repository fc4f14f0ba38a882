package monitor_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/monitor"
	"github.com/cams-alert/cams-alert/function/rules"
)

// A rule that cannot be evaluated (an expression failing at run time) is
// an error the user sees: in the summary naming the rule (so the run exits
// 1), and in the health message; the other rules still fire.
func TestRuleFailureIsReported(t *testing.T) {
	r := newRig(t)
	set, err := rules.Load("../../rules", nil)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, loc)
	deps := &monitor.Deps{Source: &cams.Replay{Dir: "../../testdata/sample"}, Rules: set, Location: loc,
		Evaluate: func(s *metrics.Series, w metrics.Window) ([]rules.Result, []monitor.RuleFailure) {
			return set.Evaluate(s, w), []monitor.RuleFailure{{Rule: "huge-map", Err: errors.New("memory budget exceeded")}}
		}}
	ev := monitor.Evaluate(context.Background(), deps, monitor.Options{At: at})
	if len(ev.Results) == 0 {
		t.Fatal("the other rules did not fire")
	}
	sum, err := monitor.Deliver(context.Background(), ev, r.dl, at)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(sum.Errors, func(e monitor.Error) bool { return e.Code == monitor.CodeRuleFailed })
	if i < 0 || sum.OK() {
		t.Fatalf("errors %+v: want %s, and the run not OK", sum.Errors, monitor.CodeRuleFailed)
	}
	if e := sum.Errors[i]; e.Rule != "huge-map" || !strings.Contains(e.Message, "memory budget exceeded") ||
		!strings.Contains(e.Message, "8 series") {
		t.Errorf("error %+v: want the rule, its error and how many series", e)
	}
	if n := slices.IndexFunc(sum.Errors[i+1:], func(e monitor.Error) bool { return e.Code == monitor.CodeRuleFailed }); n >= 0 {
		t.Errorf("one rule failing on every template is %d errors, want one: %+v", n+2, sum.Errors)
	}
	if text := r.texts(counts{}); !strings.Contains(text["slack"], "huge-map") || !strings.Contains(text["ding"], "Rule.Failed") {
		t.Errorf("the health message does not name the rule:\n%s\n%s", text["slack"], text["ding"])
	}
}
