// Command quality runs the alert-quality benchmark (`make quality`): the rules
// over synthetic campaign traffic with labelled incidents, for several seeds.
// It prints recall, false alerts per 1,000 template-days and their breakdowns,
// and exits 1 when any seed misses a target.
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
	cfg := quality.DefaultConfig()
	seeds := flag.String("seeds", "1,2,3,4,5", "comma-separated seeds")
	flag.StringVar(&cfg.RulesPath, "rules", cfg.RulesPath, "rules file or directory")
	flag.IntVar(&cfg.Templates, "templates", cfg.Templates, "template/language series per seed")
	flag.IntVar(&cfg.Days, "days", cfg.Days, "days of generated data")
	flag.IntVar(&cfg.EvalDays, "eval-days", cfg.EvalDays, "trailing days evaluated")
	flag.Float64Var(&cfg.IncidentShare, "incidents", cfg.IncidentShare, "share of series with an incident")
	flag.Float64Var(&cfg.Drift, "drift", cfg.Drift, "day-to-day drift of the rates (relative sd)")
	minRecall := flag.Float64("min-recall", 0.95, "target: least recall on every seed")
	maxFalse := flag.Float64("max-false", 1, "target: most false alerts per 1,000 template-days on every seed")
	worst := flag.Int("worst", 12, "how many worst false alerts and misses to list")
	flag.Parse()
	if cfg.EvalDays <= 0 || cfg.EvalDays >= cfg.Days {
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
	reps := make([]*quality.Report, len(list))
	errs := make([]error, len(list))
	var wg sync.WaitGroup
	for i, s := range list {
		wg.Go(func() { reps[i], errs[i] = quality.Run(cfg, s) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fail(err.Error())
		}
	}
	if !quality.Print(os.Stdout, reps, quality.Targets{MinRecall: *minRecall, MaxFalsePer1000: *maxFalse}, *worst) {
		os.Exit(1)
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "quality:", msg)
	os.Exit(2)
}
