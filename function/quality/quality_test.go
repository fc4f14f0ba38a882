package quality

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

// TestRealProfileSmoke holds the shipped rules to the real-variance profile
// on a small dataset (`make quality` runs the full size on five seeds).
func TestRealProfileSmoke(t *testing.T) {
	cfg, err := ProfileConfig("real")
	if err != nil {
		t.Fatal(err)
	}
	cfg.RulesPath = "../../rules"
	cfg.Templates = 400
	rep, err := Run(cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if !Print(&buf, []*Report{rep}, Targets{MinRecall: 0.9, MaxFalsePer1000: 2}, 5) {
		t.Errorf("targets missed:\n%s", buf.String())
	}
	if !strings.Contains(buf.String(), "profile real") || !strings.Contains(buf.String(), "read rate ±15%") {
		t.Errorf("report does not name the profile:\n%s", buf.String()[:200])
	}
	if _, err := ProfileConfig("lognormal"); err == nil {
		t.Error("unknown profile accepted")
	}
}

// TestReportCoversEveryRule: a user's own rule has its own line of false
// alerts, and the worst false alerts come by volume, not by severity.
func TestReportCoversEveryRule(t *testing.T) {
	dir := t.TempDir()
	shipped, err := os.ReadFile("../../rules/marketing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	own := "rules:\n  - {name: my-big-sends, metric: sent, condition: above, threshold: 45000, severity: info}\n"
	for name, data := range map[string][]byte{"marketing.yaml": shipped, "own.yaml": []byte(own)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg := DefaultConfig()
	cfg.RulesPath, cfg.Templates = dir, 200
	rep, err := Run(cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	Print(&buf, []*Report{rep}, Targets{MinRecall: 0, MaxFalsePer1000: 1e9}, 50)
	out := buf.String()
	table := out[strings.Index(out, "false alerts by rule"):strings.Index(out, "worst false alerts")]
	if !strings.Contains(table, "my-big-sends") {
		t.Errorf("the user's rule has no line:\n%s", table)
	}
	// the worst false alerts: by volume, whatever their severity
	all := &Report{Alerts: []Alert{
		{Rule: "a", Severity: "critical", Template: "SMALL", VolumeOn: 120},
		{Rule: "b", Severity: "info", Template: "LARGE", VolumeOn: 48000},
		{Rule: "c", Severity: "warning", Template: "MIDDLE", VolumeOn: 3000},
	}}
	buf.Reset()
	printWorst(&buf, all, 3)
	out = buf.String()
	if l, m, sm := strings.Index(out, "LARGE"), strings.Index(out, "MIDDLE"), strings.Index(out, "SMALL"); l < 0 || l > m || m > sm {
		t.Errorf("not by volume:\n%s", out)
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
