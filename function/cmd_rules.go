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
	"github.com/cams-alert/cams-alert/function/ruletest"
)

// defaultRuleTests is what `test` runs without arguments.
const defaultRuleTests = "testdata/rules/*_test.yaml"

// cmdTest runs rule unit tests (SPEC §7): exit 0 when all pass, 1 on any
// failure (a failing expectation, a bad test file, rules that do not load),
// 2 on bad flags.
func cmdTest(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "print every passing test too")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: cams-alert test [-v] [FILES]\n\nRuns rule unit tests (default: %s). See README.md, \"Rule tests\".\n", defaultRuleTests)
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

// cmdBacktest evaluates the rules over each of the last N periods, as if a
// run had happened at the end of each, and prints each alert's episodes. It
// sends nothing and touches no ledger.
func cmdBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
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
	s, err := load(stderr)
	if err != nil {
		printErr(stderr, err)
		return exitConfig
	}
	src, err := source(s.cfg, environ{})
	if err != nil {
		printErr(stderr, err)
		return exitConfig
	}
	templates := s.cfg.Templates
	var errs []string
	failed := map[string]bool{}
	if len(templates) == 0 {
		list, err := src.ListTemplates(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "backtest: cannot list templates: %v\n", err)
			return exitFailed
		}
		seen := map[string]bool{}
		for _, t := range list {
			if !seen[t.Code] {
				seen[t.Code] = true
				templates = append(templates, t.Code)
			}
		}
	}
	loc := s.cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	res := &backtest.Report{At: at, Days: *days, Location: loc}
	for _, g := range s.rules.Granularities() {
		n := backtest.Periods(g, *days)
		need := s.rules.Lookback(g)
		if s.cfg.LookbackDays > 0 {
			need = max(need, int(time.Duration(s.cfg.LookbackDays)*24*time.Hour/g.Step()))
		}
		// Two extra buckets: the API's boundaries need not match ours.
		q := cams.Query{Granularity: g, Start: at.Add(-time.Duration(need+n+2) * g.Step()), End: at}
		for _, code := range templates {
			if failed[code] {
				continue
			}
			q.Template = code
			series, err := src.Metrics(ctx, q)
			if err != nil {
				failed[code] = true
				errs = append(errs, fmt.Sprintf("%s: %v", code, err))
				continue
			}
			grid := metrics.GridFor(g, loc, series...)
			windows := backtest.Windows(grid, grid.Latest(at), n)
			res.Add(g, windows, backtest.Run(s.rules, series, windows))
		}
	}
	sort.Strings(errs)
	res.Templates = len(templates) - len(failed)
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
