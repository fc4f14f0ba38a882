// Command quality runs the alert-quality benchmark (`make quality`): the rules
// over synthetic campaign traffic with labelled incidents, for several seeds
// of each traffic profile. It prints recall, false alerts per 1,000
// template-days and their breakdowns, and exits 1 when any seed of any
// profile misses a target.
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/cams-alert/cams-alert/function/quality"
)

func main() {
	def := quality.DefaultConfig()
	seeds := flag.String("seeds", "1,2,3,4,5", "comma-separated seeds")
	profiles := flag.String("profiles", strings.Join(quality.Profiles, ","), "comma-separated traffic profiles ("+strings.Join(quality.Profiles, ", ")+")")
	rulesPath := flag.String("rules", def.RulesPath, "rules file or directory")
	templates := flag.Int("templates", def.Templates, "template/language series per seed")
	days := flag.Int("days", def.Days, "days of generated data")
	evalDays := flag.Int("eval-days", def.EvalDays, "trailing days evaluated")
	incidents := flag.Float64("incidents", def.IncidentShare, "share of series with an incident")
	drift := flag.Float64("drift", def.Drift, "day-to-day drift of the rates (relative sd)")
	minRecall := flag.Float64("min-recall", 0.95, "target: least recall on every seed")
	maxFalse := flag.Float64("max-false", 1, "target: most false alerts per 1,000 template-days on every seed")
	worst := flag.Int("worst", 12, "how many worst false alerts and misses to list")
	flag.Parse()
	if *evalDays <= 0 || *evalDays >= *days {
		fail("-eval-days must be between 1 and -days - 1")
	}
	var list []uint64
	for _, f := range strings.Split(*seeds, ",") {
		s, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
		if err != nil {
			fail("bad seed " + f)
		}
		list = append(list, s)
	}
	var cfgs []quality.Config
	for _, name := range strings.Split(*profiles, ",") {
		cfg, err := quality.ProfileConfig(strings.TrimSpace(name))
		if err != nil {
			fail(err.Error())
		}
		cfg.RulesPath, cfg.Templates, cfg.Days, cfg.EvalDays = *rulesPath, *templates, *days, *evalDays
		cfg.IncidentShare, cfg.Drift = *incidents, *drift
		cfgs = append(cfgs, cfg)
	}
	// every seed of every profile at once: the runs are independent
	reps := make([][]*quality.Report, len(cfgs))
	errs := make([]error, len(cfgs)*len(list))
	var wg sync.WaitGroup
	for p, cfg := range cfgs {
		reps[p] = make([]*quality.Report, len(list))
		for i, s := range list {
			wg.Go(func() { reps[p][i], errs[p*len(list)+i] = quality.Run(cfg, s) })
		}
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fail(err.Error())
		}
	}
	pass := true
	for p := range cfgs {
		if p > 0 {
			fmt.Println()
		}
		ok := quality.Print(os.Stdout, reps[p], quality.Targets{MinRecall: *minRecall, MaxFalsePer1000: *maxFalse}, *worst)
		pass = pass && ok
	}
	if !pass {
		os.Exit(1)
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "quality:", msg)
	os.Exit(2)
}
