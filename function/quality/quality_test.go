package quality

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
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

// TestGenerateIsDeterministic: one seed gives the same data and the same
// report, compared by content (a SHA-256 of each), never by counts alone; the
// data is not empty; and another seed gives other data and another report, so
// the hashes do see a difference.
func TestGenerateIsDeterministic(t *testing.T) {
	cfg := DefaultConfig()
	cfg.RulesPath = "../../rules"
	cfg.Templates = 100
	a, b, other := runDigest(t, cfg, 3), runDigest(t, cfg, 3), runDigest(t, cfg, 4)
	if a.data != b.data {
		t.Errorf("seed 3 generated different data: %s vs %s", a.data, b.data)
	}
	if a.report != b.report {
		t.Errorf("seed 3 gave different reports: %s vs %s", a.report, b.report)
	}
	if a.data == other.data {
		t.Errorf("seeds 3 and 4 generated the same data (%s)", a.data)
	}
	if a.report == other.report {
		t.Errorf("seeds 3 and 4 gave the same report (%s)", a.report)
	}
}

type digest struct{ data, report string }

// runDigest runs one seed and hashes what it generated and what it reported,
// after checking there is something to hash: every series sends, and the
// report has incidents and alerts.
func runDigest(t *testing.T, cfg Config, seed uint64) digest {
	t.Helper()
	ds := sim.Generate(seed, simOptions(cfg))
	if len(ds.Series) != cfg.Templates {
		t.Fatalf("seed %d: %d series, want %d", seed, len(ds.Series), cfg.Templates)
	}
	for _, s := range ds.Series {
		var sent int64
		for _, p := range s.Periods {
			sent += p.Sent
		}
		if len(s.Periods) == 0 || sent == 0 {
			t.Fatalf("seed %d: series %s is empty (%d periods, %d sent)", seed, s.Key, len(s.Periods), sent)
		}
	}
	data, err := json.Marshal(ds)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Incidents) == 0 || len(rep.Alerts) == 0 {
		t.Fatalf("seed %d: %d incidents, %d alerts: nothing to compare", seed, len(rep.Incidents), len(rep.Alerts))
	}
	h := sha256.New()
	// fmt prints maps in key order, and every incident by value.
	fmt.Fprintf(h, "%d %d %v %v %d\n", rep.Series, rep.TemplateDays, rep.TemplateDaysBy, rep.TemplateDaysPattern, rep.Evaluations)
	for _, in := range rep.Incidents {
		fmt.Fprintf(h, "%+v\n", *in)
	}
	for _, a := range rep.Alerts {
		fmt.Fprintf(h, "%+v\n", a)
	}
	return digest{data: fmt.Sprintf("%x", sha256.Sum256(data)), report: fmt.Sprintf("%x", h.Sum(nil))}
}
