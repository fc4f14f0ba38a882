// Package monitor runs one cycle: fetch → evaluate → decide → deliver. It is
// what the timer runs on FC and what `run` runs locally.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/rules"
)

// Deps is what a cycle works with; main wires it.
type Deps struct {
	Source cams.Source
	Rules  *rules.Set
	// Templates to check; empty = discover with ListChatappTemplate.
	Templates []string
	// LookbackDays overrides what the rules need (0 = automatic).
	LookbackDays int
	Location     *time.Location
	// Workers is the fetch concurrency (default: enough that latency does
	// not bound the rate limit).
	Workers int
	Log     *slog.Logger
	// Evaluate evaluates the rules on one series and reports the rules
	// that could not be evaluated (nil: Rules.Evaluate, which reports
	// none). The seam for an evaluator that tells its run-time failures
	// instead of not firing.
	Evaluate func(s *metrics.Series, w metrics.Window) ([]rules.Result, []RuleFailure)
}

// Options are the per-run settings.
type Options struct {
	// At is the evaluation moment: the evaluated period is the latest
	// complete period ending at or before it.
	At time.Time
	// Reserve is the time kept back from the context's deadline for
	// deciding and delivering; fetching stops when it is reached.
	Reserve time.Duration
}

// Evaluation is what the fetch and evaluate stages found.
type Evaluation struct {
	At        time.Time
	Period    metrics.Window
	Templates int
	Calls     int64
	Retries   int64
	Results   []Result
	Errors    []Error
	// Empty counts templates whose every query returned no data at all.
	Empty int
	// Names are the templates' names (ListChatappTemplate), empty when
	// they could not be looked up: messages then show codes alone.
	Names cams.Names
	// Learning counts the template-languages that some rule cannot judge
	// yet for lack of history; LearningFrom is when every rule can judge
	// them all (an estimate; zero when none is learning).
	Learning     int
	LearningFrom time.Time
}

// Result is one firing or resolved alert with its rule.
type Result struct {
	rules.Result
	// TemplateName is the template's name beside its code, "" when
	// unknown.
	TemplateName string
	Silenced     string // silence reason, empty when not silenced
	// Silence is the silence that mutes it, nil when none.
	Silence *rules.Silence
}

// Error is a template that could not be checked, or a rule that could not
// be evaluated (Rule names it).
type Error struct {
	Template string `json:"template"`
	Rule     string `json:"rule,omitempty"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	// Warning marks a problem that did not stop the check (buckets of the
	// wrong granularity dropped, names not looked up): reported, but the
	// run still exits 0 and FC does not retry it.
	Warning bool `json:"warning,omitempty"`
}

// Unchecked is the code of templates left out because the run's time budget
// ran out.
const Unchecked = "Budget.Exhausted"

// Evaluate fetches every template and evaluates the rules on it as soon as
// its metrics arrive, keeping only the results: memory does not grow with the
// history of templates already done. What could not be checked is in the
// evaluation's Errors: the run goes on to report and deliver the rest.
func Evaluate(ctx context.Context, d *Deps, opt Options) *Evaluation {
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ev := &Evaluation{At: opt.At}
	// Fetching stops Reserve before the deadline: what was found must
	// still be decided and delivered. Calls in flight then are cancelled
	// and their templates reported as unchecked, like those not started.
	fctx, cancel := ctx, context.CancelFunc(func() {})
	if deadline, ok := ctx.Deadline(); ok {
		fctx, cancel = context.WithDeadline(ctx, deadline.Add(-opt.Reserve))
	}
	defer cancel()
	templates, names, err := discover(fctx, d, ev, log)
	if err != nil {
		e := toError("", err)
		e.Message = "could not list the templates to check (ListChatappTemplate): " + e.Message
		ev.Errors = append(ev.Errors, e)
		// No data to learn the bucket grid from: report the period a run
		// at this moment judges, in the reader's zone.
		if g := d.Rules.Granularities(); len(g) > 0 {
			ev.Period = metrics.GridFor(g[0], d.Location).Latest(opt.At)
		}
		ev.Calls, ev.Retries = d.Source.Stats()
		return ev
	}
	grans := d.Rules.Granularities()
	queries := make(map[metrics.Granularity]cams.Query, len(grans))
	for _, g := range grans {
		queries[g] = d.Query(g, opt.At, 0)
	}
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	// The summary's period: the evaluated DAILY (or first) window, learned
	// from the first template that has data.
	var periodOnce sync.Once
	setPeriod := func(w metrics.Window) { periodOnce.Do(func() { ev.Period = w }) }
	var failures ruleFailures
	var learning learningSet

	c := &checker{d: d, queries: queries, grans: grans, loc: loc, at: opt.At, setPeriod: setPeriod, failed: failures.add,
		learning: learning.add}
	if len(d.Templates) == 0 {
		c.names = names() // discovery listed them: known before the fetch
	}
	unchecked := fetchAll(fctx, d, templates, func(code string) (checked, error) {
		return c.check(fctx, code)
	}, ev, log)
	ev.Names = names()
	ev.Errors = append(ev.Errors, failures.errors(log)...)
	ev.Learning, ev.LearningFrom = learning.result()
	if len(unchecked) > 0 {
		log.Warn("run time budget exhausted: templates left unchecked", "unchecked", len(unchecked),
			"checked", ev.Templates, "of", len(templates))
		ev.Errors = append(ev.Errors, unchecked...)
	}
	if ev.Period.End.IsZero() && len(grans) > 0 {
		ev.Period = metrics.GridFor(grans[0], loc).Latest(opt.At)
	}
	ev.Calls, ev.Retries = d.Source.Stats()
	for i := range ev.Results {
		ev.Results[i].TemplateName = ev.Names.Name(ev.Results[i].Key)
	}
	sortResults(ev.Results)
	sort.SliceStable(ev.Errors, func(i, j int) bool { return ev.Errors[i].Template < ev.Errors[j].Template })
	return ev
}

// Discover is the templates to check, the configured ones or else every
// template of the account (ListChatappTemplate), each once, and their
// names. Configured templates have their names looked up too; when that
// fails, the error is a *cams.Warning (cams.IsWarning) and the templates
// come without names.
func Discover(ctx context.Context, src cams.Source, configured []string) ([]string, cams.Names, error) {
	if len(configured) > 0 {
		names, err := cams.LookupNames(ctx, src)
		return configured, names, err
	}
	list, err := src.ListTemplates(ctx)
	if err != nil {
		return nil, cams.Names{}, err
	}
	templates := make([]string, 0, len(list))
	for _, t := range list {
		templates = append(templates, t.Code)
	}
	return dedupe(templates), cams.NamesOf(list), nil
}

// discover is Discover for a run. Configured templates have their names
// looked up beside the fetch, not before it: listing an ISV's templates takes
// seconds at 5 calls a second. names waits for them; a failed lookup is a
// warning in ev (a lookup cut off by the run's budget only a log line: the
// templates it left unchecked are reported already).
func discover(fctx context.Context, d *Deps, ev *Evaluation, log *slog.Logger) (templates []string, names func() cams.Names, err error) {
	if len(d.Templates) == 0 {
		templates, found, err := Discover(fctx, d.Source, nil)
		if err == nil {
			log.Info("discovered templates", "count", len(templates))
		}
		return templates, func() cams.Names { return found }, err
	}
	var (
		found   cams.Names
		lookErr error
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		_, found, lookErr = Discover(fctx, d.Source, d.Templates)
	}()
	return dedupe(slices.Clone(d.Templates)), func() cams.Names {
		<-done
		if lookErr != nil {
			log.Warn("template names not looked up: messages show codes only", "error", lookErr)
			if !outOfBudget(fctx, lookErr) {
				ev.Errors = append(ev.Errors, warningError("", lookErr))
			}
		}
		return found
	}, nil
}

// Query is the metrics query for granularity g at moment at: what the
// rules look back (or LookbackDays, if longer), and extra periods before
// that (a backtest replays them).
func (d *Deps) Query(g metrics.Granularity, at time.Time, extra int) cams.Query {
	n := d.Rules.Lookback(g)
	if d.LookbackDays > 0 {
		n = max(n, int(time.Duration(d.LookbackDays)*24*time.Hour/g.Step()))
	}
	// Two extra buckets: the API's boundaries need not match ours.
	start := at.Add(-time.Duration(n+extra+2) * g.Step())
	return cams.Query{Granularity: g, Start: start, End: at}
}

// fetchAll checks templates on a pool of workers until fctx ends, adding
// what check found to ev; it returns the templates the budget left
// unchecked.
func fetchAll(fctx context.Context, d *Deps, templates []string, check func(code string) (checked, error),
	ev *Evaluation, log *slog.Logger) []Error {
	workers := d.Workers
	if workers <= 0 {
		workers = defaultWorkers(d.Source)
	}
	workers = max(1, min(workers, len(templates)))
	var (
		mu        sync.Mutex
		wg        sync.WaitGroup
		next      atomic.Int64 // index of the next template to hand out
		unchecked []Error
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(templates) {
					return
				}
				code := templates[i]
				res, err := check(code)
				mu.Lock()
				switch {
				case err != nil && outOfBudget(fctx, err):
					unchecked = append(unchecked, uncheckedError(code, err))
				case err != nil:
					ev.Errors = append(ev.Errors, toError(code, err))
					log.Warn("template not checked", "template", code, "error", err)
				default:
					ev.Templates++
					if res.empty {
						ev.Empty++
					}
					ev.Results = append(ev.Results, res.results...)
					ev.Errors = append(ev.Errors, res.warnings...)
					for _, w := range res.warnings {
						log.Warn("template checked with a warning", "template", code, "code", w.Code, "warning", w.Message)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// Templates never handed out: the budget ran out (or ctx ended) first.
	for _, code := range templates[min(int(next.Load()), len(templates)):] {
		unchecked = append(unchecked, uncheckedError(code, nil))
	}
	return unchecked
}

// checker fetches one template at every granularity the rules need and
// evaluates it; nothing of its history outlives a check.
type checker struct {
	d         *Deps
	queries   map[metrics.Granularity]cams.Query
	grans     []metrics.Granularity
	loc       *time.Location
	at        time.Time
	setPeriod func(metrics.Window)
	failed    func(RuleFailure)
	// learning hears of the series some rule cannot judge yet.
	learning func(k metrics.Key, from time.Time)
	// names, when known before the fetch, go into the series so that
	// summaries can say them (.TemplateName).
	names cams.Names
}

// checked is what one template's check found.
type checked struct {
	results []Result
	// empty: every query answered with no data at all.
	empty bool
	// warnings are the problems the check went on despite (buckets of
	// another granularity dropped): the rest of the answer was evaluated.
	warnings []Error
}

func (c *checker) check(ctx context.Context, code string) (out checked, err error) {
	evaluate := c.d.Evaluate
	if evaluate == nil {
		evaluate = func(s *metrics.Series, w metrics.Window) ([]rules.Result, []RuleFailure) {
			return c.d.Rules.Evaluate(s, w), nil
		}
	}
	out.empty = true
	for gi, g := range c.grans {
		q := c.queries[g]
		q.Template = code
		series, err := c.d.Source.Metrics(ctx, q)
		if err != nil {
			// A warning comes with a series that is good to use: the
			// template is checked, and the warning reported.
			if !cams.IsWarning(err) {
				return checked{}, err
			}
			out.warnings = append(out.warnings, warningError(code, err))
		}
		if len(series) > 0 {
			out.empty = false
		}
		grid := metrics.GridFor(g, c.loc, series...)
		w := grid.Latest(c.at)
		if gi == 0 && len(series) > 0 {
			c.setPeriod(w)
		}
		for _, s := range series {
			s.TemplateName = c.names.Name(s.Key)
			rs, fails := evaluate(s, w)
			for _, r := range rs {
				out.results = append(out.results, Result{Result: r})
			}
			for _, f := range fails {
				f.Template = code
				c.failed(f)
			}
			if l, from := c.d.Rules.Learning(s, w); l {
				c.learning(s.Key, from)
			}
		}
	}
	return out, nil
}

// warningError is the summary entry of a cams warning about template code.
func warningError(code string, err error) Error {
	e := Error{Template: code, Code: "Warning", Message: err.Error(), Warning: true}
	var w *cams.Warning
	if errors.As(err, &w) {
		e.Code, e.Message = w.Code, w.Message
		if w.Code == cams.CodeSpanMismatch {
			e.Message += " (the template was checked without them)"
		}
	}
	return e
}

// defaultWorkers is the fetch concurrency when Deps leaves it open: twice the
// API budget, so that calls taking up to two seconds still keep the rate at
// the budget (the limiter, not the worker count, sets the pace).
func defaultWorkers(src cams.Source) int {
	if budget := cams.RateBudget(src); budget > 0 {
		return max(16, int(math.Ceil(2*budget)))
	}
	return 16
}

// outOfBudget reports whether a template's fetch failed because the fetch
// budget ran out (its context ended, or its next try would have come too
// late) rather than because of the template or the API.
func outOfBudget(fctx context.Context, err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return true
	}
	var ae *cams.APIError
	if errors.As(err, &ae) && (ae.Code == cams.CodeDeadline || ae.Code == cams.CodeCanceled) {
		return true
	}
	// A retryable failure (throttled, 5xx) given up on while the budget
	// was running out: its retry would have come after the deadline.
	if !cams.IsRetryable(err) {
		return false
	}
	if fctx.Err() != nil {
		return true
	}
	dl, ok := fctx.Deadline()
	// The longest wait before a retry: a retryable failure this close to
	// the fetch deadline was cut short by it.
	return ok && time.Until(dl) < cams.BackoffCap
}

func uncheckedError(code string, err error) Error {
	msg := "not checked: the run's time budget ran out before this template was fetched"
	if err != nil {
		var ae *cams.APIError
		if errors.As(err, &ae) && ae.Code != cams.CodeDeadline && ae.Code != cams.CodeCanceled {
			msg += " (last error: " + ae.Code + ")"
		}
	}
	return Error{Template: code, Code: Unchecked, Message: msg}
}

func toError(template string, err error) Error {
	var ae *cams.APIError
	budget := errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
	if errors.As(err, &ae) {
		budget = budget || ae.Code == cams.CodeCanceled || ae.Code == cams.CodeDeadline
		if !budget {
			return Error{Template: template, Code: ae.Code, Message: ae.Message}
		}
	}
	code := "Error"
	if budget {
		return Error{Template: template, Code: Unchecked,
			Message: "the run's time budget ran out (the FC timeout, or --budget locally)"}
	}
	return Error{Template: template, Code: code, Message: err.Error()}
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func sortResults(rs []Result) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if ra, rb := alert.SeverityRank(a.Rule.Severity), alert.SeverityRank(b.Rule.Severity); ra != rb {
			return ra < rb
		}
		if a.Volume != b.Volume {
			return a.Volume > b.Volume
		}
		if a.Key != b.Key {
			return a.Key.String() < b.Key.String()
		}
		if a.Rule.Name != b.Rule.Name {
			return a.Rule.Name < b.Rule.Name
		}
		return a.Button < b.Button
	})
}

// Item is the alert line of a result, with non-finite numbers (an
// expression's division by zero) made printable.
func Item(r *Result) alert.Item {
	it := r.Result.Item()
	it.TemplateName = r.TemplateName
	it.Value, it.Baseline = clean(it.Value), clean(it.Baseline)
	if it.Metric == "" {
		it.Metric = "expr"
	}
	return it
}

func clean(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// String describes an error for logs and health messages.
func (e Error) String() string {
	if e.Rule != "" {
		return fmt.Sprintf("rule %s: %s: %s", e.Rule, e.Code, e.Message)
	}
	if e.Template == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("template %s: %s: %s", e.Template, e.Code, e.Message)
}
