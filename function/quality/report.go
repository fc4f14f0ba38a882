package quality

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/sim"
)

// Targets are what every seed must reach.
type Targets struct {
	MinRecall       float64 // e.g. 0.95
	MaxFalsePer1000 float64 // e.g. 1
}

// Pass reports whether a seed's report meets the targets.
func (t Targets) Pass(r *Report) bool {
	return r.Recall() >= t.MinRecall && r.FalsePer1000() <= t.MaxFalsePer1000
}

// Print writes the figures of the seeds' reports and returns whether every
// seed met the targets. worst bounds the lists of false alerts and misses.
func Print(w io.Writer, reps []*Report, t Targets, worst int) bool {
	if len(reps) == 0 {
		fmt.Fprintln(w, "no seeds")
		return false
	}
	c := reps[0].Config
	fmt.Fprintf(w, "alert quality, profile %s: %s over %d templates × %d days (last %d evaluated), %.0f%% with an incident, %.0f%% daily rate drift",
		c.Profile, c.RulesPath, c.Templates, c.Days, c.EvalDays, 100*c.IncidentShare, 100*c.Drift)
	if c.ReadJitter > 0 || c.ClickJitter > 0 || c.WeekendRead > 0 {
		fmt.Fprintf(w, ", read rate ±%.0f%% and click rate ±%.0f%% from day to day, read rate %.0f%% lower at weekends",
			100*c.ReadJitter, 100*c.ClickJitter, 100*c.WeekendRead)
	}
	fmt.Fprint(w, "\n\n")
	all, pass := printSeeds(w, reps, t)
	printByKind(w, all)
	printByPattern(w, all)
	printByBand(w, all)
	printFalseByRule(w, all, reps[0].RuleNames)
	if worst > 0 {
		printWorst(w, all, worst)
	}
	verdict := "PASS"
	if !pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "\ntargets on every seed: recall ≥ %.0f%%, ≤ %.2f false alerts per 1,000 template-days: %s\n",
		100*t.MinRecall, t.MaxFalsePer1000, verdict)
	return pass
}

// printSeeds writes one line per seed and the total, and returns the seeds
// pooled and whether every seed met the targets.
func printSeeds(w io.Writer, reps []*Report, t Targets) (*Report, bool) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seed\ttemplate-days\tincidents\tdetectable\tdetected\trecall\tfalse alerts\tfalse/1000\tincident alerts\t")
	pass := true
	var all Report
	for _, r := range reps {
		ok := t.Pass(r)
		pass = pass && ok
		mark := ""
		if !ok {
			mark = "  ✗"
		}
		det := r.Detectable()
		hit := 0
		for _, in := range det {
			if in.Detected {
				hit++
			}
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%.1f%%\t%d\t%.2f\t%d\t%s\n", r.Seed, r.TemplateDays, len(r.Incidents), len(det), hit,
			100*r.Recall(), len(r.False()), r.FalsePer1000(), len(r.Alerts)-len(r.False()), mark)
		all.TemplateDays += r.TemplateDays
		for i := range all.TemplateDaysBy {
			all.TemplateDaysBy[i] += r.TemplateDaysBy[i]
		}
		if all.TemplateDaysPattern == nil {
			all.TemplateDaysPattern = map[sim.Pattern]int{}
		}
		for p, n := range r.TemplateDaysPattern {
			all.TemplateDaysPattern[p] += n
		}
		all.Incidents = append(all.Incidents, r.Incidents...)
		all.Alerts = append(all.Alerts, r.Alerts...)
	}
	det := all.Detectable()
	hit := 0
	for _, in := range det {
		if in.Detected {
			hit++
		}
	}
	fmt.Fprintf(tw, "all\t%d\t%d\t%d\t%d\t%.1f%%\t%d\t%.2f\t%d\t\n", all.TemplateDays, len(all.Incidents), len(det), hit,
		100*all.Recall(), len(all.False()), all.FalsePer1000(), len(all.Alerts)-len(all.False()))
	tw.Flush()
	return &all, pass
}

func printByKind(w io.Writer, all *Report) {
	fmt.Fprintf(w, "\nby incident type (all seeds; recall = matching rule fired on the 1st or 2nd observable day)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "incident\trule\tincidents\tdetectable\tdetected\trecall\tnot detectable, caught later\t")
	for _, k := range Kinds {
		var n, d, h, late, nd int
		for _, in := range all.Incidents {
			if in.Kind != k {
				continue
			}
			n++
			if in.Detectable {
				d++
				if in.Detected {
					h++
				}
			} else if in.First >= 0 {
				nd++
				if in.DetectedDay >= 0 {
					late++
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%d of %d\t\n", k, RuleFor[k], n, d, h, pct(h, d), late, nd)
	}
	tw.Flush()
}

func printByPattern(w io.Writer, all *Report) {
	det := all.Detectable()
	fmt.Fprintf(w, "\nrecall by sending pattern (burst senders' baselines are their last sending days, not calendar days)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "pattern	detectable	detected	recall	")
	for _, p := range []sim.Pattern{sim.Daily, sim.Weekdays, sim.Burst} {
		var d, h int
		for _, in := range det {
			if in.Pattern == p {
				d++
				if in.Detected {
					h++
				}
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t\n", p, d, h, pct(h, d))
	}
	tw.Flush()
}

func printByBand(w io.Writer, all *Report) {
	fmt.Fprintf(w, "\nby volume band (nominal sent per sending day)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "band\ttemplate-days\tdetectable\trecall\t")
	for _, k := range Kinds {
		fmt.Fprintf(tw, "%s\t", k)
	}
	fmt.Fprintln(tw, "false\tfalse/1000\t")
	for bi, b := range Bands {
		var d, h int
		kd := map[string][2]int{}
		for _, in := range all.Incidents {
			if BandOf(in.Volume) != bi || !in.Detectable {
				continue
			}
			d++
			x := kd[in.Kind]
			x[0]++
			if in.Detected {
				h++
				x[1]++
			}
			kd[in.Kind] = x
		}
		f := 0
		for _, a := range all.False() {
			if BandOf(a.Volume) == bi {
				f++
			}
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t", b.Name, all.TemplateDaysBy[bi], d, pct(h, d))
		for _, k := range Kinds {
			fmt.Fprintf(tw, "%d/%d\t", kd[k][1], kd[k][0])
		}
		fmt.Fprintf(tw, "%d\t%.2f\t\n", f, per1000(f, all.TemplateDaysBy[bi]))
	}
	tw.Flush()
}

// printWorst lists the largest false alerts and missed incidents.
func printWorst(w io.Writer, all *Report, worst int) {
	fs := all.False()
	sort.SliceStable(fs, func(i, j int) bool { return fs[i].VolumeOn > fs[j].VolumeOn })
	fmt.Fprintf(w, "\nworst false alerts (%d of %d; by volume)\n", min(worst, len(fs)), len(fs))
	for _, a := range fs[:min(worst, len(fs))] {
		btn := ""
		if a.Button != "" {
			btn = " [" + a.Button + "]"
		}
		why := ""
		if a.Detail != "" && !strings.Contains(a.Summary, a.Detail) {
			why = " (" + a.Detail + ")"
		}
		fmt.Fprintf(w, "  seed %d %-19s %s %s (%s)%s, %s sender of ~%d, %s: %s%s\n", a.Seed, a.Rule, a.Date.Format("Mon 02 Jan"), a.Template, a.Language,
			btn, a.Pattern, a.Volume, a.Severity, a.Summary, why)
	}
	var miss []*Incident
	for _, in := range all.Detectable() {
		if !in.Detected {
			miss = append(miss, in)
		}
	}
	sort.SliceStable(miss, func(i, j int) bool { return miss[i].VolumeOn > miss[j].VolumeOn })
	fmt.Fprintf(w, "\nmissed detectable incidents (%d of %d; by volume)\n", min(worst, len(miss)), len(miss))
	for _, in := range miss[:min(worst, len(miss))] {
		late := "never fired while the incident lasted"
		if in.DetectedDay >= 0 {
			late = fmt.Sprintf("fired %d days after its first day", in.DetectedDay-in.First)
		}
		fmt.Fprintf(w, "  seed %d %-17s %s (%s), %s sender of ~%d, day %d: %s %s, baseline %s, volume %d; %s; %s\n",
			in.Seed, in.Kind, in.Template, in.Language, in.Pattern, in.Volume, in.First, in.Metric,
			format(in.Metric, in.Value), format(in.Metric, in.Baseline), in.VolumeOn, in.Why, late)
	}
}

// printFalseByRule counts the false alerts of every rule of the set (in the
// set's order, then any other rule that fired) by sending pattern.
func printFalseByRule(w io.Writer, all *Report, names []string) {
	fmt.Fprintf(w, "\nfalse alerts by rule and sending pattern (per 1,000 template-days of that pattern)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	patterns := []sim.Pattern{sim.Daily, sim.Weekdays, sim.Burst}
	fmt.Fprint(tw, "rule\t")
	for _, p := range patterns {
		fmt.Fprintf(tw, "%s\t", p)
	}
	fmt.Fprintln(tw, "all\tper 1000\t")
	names = slices.Clone(names)
	count := map[string]map[sim.Pattern]int{}
	for _, a := range all.False() {
		if count[a.Rule] == nil {
			count[a.Rule] = map[sim.Pattern]int{}
			if !slices.Contains(names, a.Rule) {
				names = append(names, a.Rule)
			}
		}
		count[a.Rule][a.Pattern]++
	}
	for _, rule := range names {
		fmt.Fprintf(tw, "%s\t", rule)
		n := 0
		for _, p := range patterns {
			c := count[rule][p]
			n += c
			fmt.Fprintf(tw, "%d (%.2f)\t", c, per1000(c, all.TemplateDaysPattern[p]))
		}
		fmt.Fprintf(tw, "%d\t%.2f\t\n", n, per1000(n, all.TemplateDays))
	}
	tw.Flush()
}

func pct(a, b int) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

func per1000(n, days int) float64 {
	if days == 0 {
		return 0
	}
	return 1000 * float64(n) / float64(days)
}

func format(metric string, v float64) string {
	if metrics.IsRate(metric) {
		return strings.TrimSuffix(fmt.Sprintf("%.1f", 100*v), ".0") + "%"
	}
	return fmt.Sprintf("%.1f", v)
}
