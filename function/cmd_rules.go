package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/cams-alert/cams-alert/function/backtest"
	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/monitor"
	"github.com/cams-alert/cams-alert/function/ruletest"
)

// defaultRuleTests is what `test` runs without arguments.
const defaultRuleTests = "testdata/rules/*_test.yaml"

// cmdTest runs rule unit tests (docs/rules.md): exit 0 when all pass, 1 on any
// failure (a failing expectation, a bad test file, rules that do not load),
// 2 on bad flags.
func cmdTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print every passing test too")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: cams-alert test [-v] [FILES]\n\nRuns rule unit tests (default: %s). See docs/rules.md, \"Rule tests\".\n", defaultRuleTests)
	}
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	var files []string
	for _, a := range fs.Args() {
		// A directory stands for its *_test.yaml / *_test.yml files.
		if st, err := os.Stat(a); err == nil && st.IsDir() {
			y, _ := filepath.Glob(filepath.Join(a, "*_test.yaml"))
			yml, _ := filepath.Glob(filepath.Join(a, "*_test.yml"))
			if len(y)+len(yml) == 0 {
				fmt.Fprintf(stderr, "test: no *_test.yaml files in directory %s\n", a)
				return exitFailed
			}
			files = append(append(files, y...), yml...)
			continue
		}
		files = append(files, a)
	}
	if len(fs.Args()) == 0 {
		files, _ = filepath.Glob(defaultRuleTests)
		if len(files) == 0 {
			fmt.Fprintf(stderr, "test: no rule test files match %s\n", defaultRuleTests)
			return exitFailed
		}
	}
	rep := ruletest.RunFiles(files, stdout, ruletest.Options{Verbose: *verbose})
	fmt.Fprintf(stdout, "%d passed, %d failed\n", rep.Passed, rep.Failed)
	if rep.Failed > 0 {
		return exitFailed
	}
	return exitOK
}

// replay adds each template's episodes over the last days to res, and
// returns the templates that could not be fetched, with why. A warning
// (buckets of another granularity dropped) is logged and the rest of the
// answer replayed.
func replay(ctx context.Context, d *monitor.Deps, templates []string, at time.Time, days int, res *backtest.Report) []string {
	var errs []string
	failed := map[string]bool{}
	for _, g := range d.Rules.Granularities() {
		n := backtest.Periods(g, days)
		q := d.Query(g, at, n)
		for _, code := range templates {
			if failed[code] {
				continue
			}
			q.Template = code
			series, err := d.Source.Metrics(ctx, q)
			if err != nil && cams.IsWarning(err) {
				d.Log.Warn("template replayed with a warning", "template", code, "warning", err)
			} else if err != nil {
				failed[code] = true
				errs = append(errs, fmt.Sprintf("%s: %v", code, err))
				continue
			}
			grid := metrics.GridFor(g, d.Location, series...)
			windows := backtest.Windows(grid, grid.Latest(at), n)
			res.Add(g, windows, backtest.Run(d.Rules, series, windows))
		}
	}
	res.Templates = len(templates) - len(failed)
	return errs
}

// cmdBacktest evaluates the rules over each of the last N periods, as if a
// run had happened at the end of each, and prints each alert's episodes. It
// sends nothing and touches no ledger.
func (a *app) cmdBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var at time.Time
	fs := flag.NewFlagSet("backtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	days := fs.Int("days", 0, "how many periods to replay, in days (HALF_HOUR rules: days × 48 periods)")
	fs.Var(timeFlag{&at}, "at", "end of the replay (RFC 3339; default now): the last period is the latest complete one")
	asJSON := fs.Bool("json", false, "print the episodes as JSON")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "backtest: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	if *days < 1 || *days > 366 {
		fmt.Fprintln(stderr, "backtest: --days N is required, 1 to 366")
		return exitConfig
	}
	if at.IsZero() {
		at = time.Now()
	}
	s, err := a.load(stderr)
	if err != nil {
		printErr(stderr, err)
		return exitConfig
	}
	src, err := a.source(s.cfg, environ{})
	if err != nil {
		printErr(stderr, err)
		return exitConfig
	}
	templates := s.cfg.Templates
	if len(templates) == 0 {
		// Names are not shown by backtest: only the codes are listed.
		if templates, _, err = monitor.Discover(ctx, src, nil); err != nil {
			fmt.Fprintf(stderr, "backtest: cannot list templates: %v\n", err)
			return exitFailed
		}
	}
	loc := s.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	deps := &monitor.Deps{Source: src, Rules: s.rules, Evaluate: evaluate(s.rules), LookbackDays: s.cfg.LookbackDays, Location: loc,
		Log: s.log}
	res := &backtest.Report{At: at, Days: *days, Location: loc}
	errs := replay(ctx, deps, templates, at, *days, res)
	sort.Strings(errs)
	res.Unchecked = errs
	res.Sort()
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		res.Print(stdout, s.rules)
	}
	for _, e := range errs {
		fmt.Fprintf(stderr, "not checked: %s\n", e)
	}
	if len(errs) > 0 {
		return exitFailed
	}
	return exitOK
}
