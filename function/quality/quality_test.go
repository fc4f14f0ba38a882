package quality

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cams-alert/cams-alert/function/sim"
)

// TestShippedRulesSmoke runs the benchmark on a small dataset: the harness
// labels incidents, matches alerts to them and meets the targets on the
// shipped rules (`make quality` runs the full size).
func TestShippedRulesSmoke(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RulesPath = "../../rules"
	cfg.Templates = 400
	rep, err := Run(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	if rep.TemplateDays != 400*cfg.EvalDays {
		t.Errorf("template-days %d", rep.TemplateDays)
	}
	kinds := map[string]int{}
	for _, in := range rep.Incidents {
		if in.First >= 0 && in.First < in.Day {
			t.Errorf("%s %s: first observable day %d before the incident's day %d", in.Kind, in.Template, in.First, in.Day)
		}
		if in.Detectable {
			kinds[in.Kind]++
		}
		if in.Kind == sim.SendsStopped && in.Pattern == sim.Burst && in.Detectable {
			t.Errorf("%s: a burst sender's stop is labelled detectable", in.Template)
		}
	}
	for _, k := range Kinds {
		if kinds[k] == 0 {
			t.Errorf("no detectable %s incident in the smoke dataset", k)
		}
	}
	var buf bytes.Buffer
	pass := Print(&buf, []*Report{rep}, Targets{MinRecall: 0.9, MaxFalsePer1000: 2}, 5)
	if !pass {
		t.Errorf("targets missed:\n%s", buf.String())
	}
	for _, want := range []string{"recall", "false/1000", "by incident type", "by volume band", "worst false alerts", "missed detectable"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestExpectedZ(t *testing.T) {
	// 40% collapse of a 50% read rate at 300 delivered against 7 days of 300.
	if z := expectedZ(0.5, 0.3, 300, 2100); z < 6 || z > 7 {
		t.Errorf("z = %.2f, want about 6.5", z)
	}
	if z := expectedZ(0.5, 0.5, 300, 2100); z != 0 {
		t.Errorf("no change: z = %.2f", z)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RulesPath = "../../rules"
	cfg.Templates = 100
	a, err := Run(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Run(cfg, 3)
	if len(a.Alerts) != len(b.Alerts) || len(a.Incidents) != len(b.Incidents) || a.Recall() != b.Recall() {
		t.Error("the same seed gave different results")
	}
}
