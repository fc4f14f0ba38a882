package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/config"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/monitor"
	"github.com/cams-alert/cams-alert/function/notify/console"
	"github.com/cams-alert/cams-alert/function/rules"
)

// Exit codes (docs/operations.md).
const (
	exitOK     = 0
	exitFailed = 1 // a template not checked, or a notification undelivered
	exitConfig = 2 // bad configuration or rules: nothing fetched or sent
)

const usage = `usage: cams-alert COMMAND [FLAGS]

commands:
  run [--at TIME] [--dry-run] [--json] [--budget DURATION]
                         one cycle, exactly what the timer does
  validate               check configuration and rules; exit 2 on any problem
  test [FILES]           run rule unit tests (default: testdata/rules/*_test.yaml)
  backtest --days N [--at TIME] [--json]
                         when each alert would have fired and resolved; sends nothing
  silences list|add|expire
                         the silences in STATE_DIR (run "silences help")
  enable-roi             turn on the WhatsApp ROI metrics (EnableWhatsappROIMetric) for
                         the configured space; GetChatappTemplateMetric has data a day later

Configuration is read from the environment: see docs/configuration.md.
`

// environ is what differs between FC and a terminal.
type environ struct {
	creds *fccontext.Credentials // FC's role credentials for this invocation
}

// app is one invocation's world: the environment it reads and what tests
// tune. Nothing in it is global, so tests run side by side.
type app struct {
	// lookup reads the environment; nil (production) is the process's,
	// read with envconfig.
	lookup func(string) (string, bool)
	tune   tuning
}

// tuning holds what tests shorten so that a fault costs milliseconds, not
// the production timeouts; its zero value is the production behaviour.
type tuning struct {
	camsReadTimeout time.Duration                              // the API client's read timeout (0: cams.DefaultReadTimeout)
	webhookTimeout  time.Duration                              // one request to a chat platform (0: webhookTimeout)
	minInterval     time.Duration                              // notifier pacing (0: each platform's default)
	sleep           func(context.Context, time.Duration) error // waits between delivery retries (nil: real time)
	ledger          ledger.Options                             // the ledger's file-system calls (zero: the OS)
	now             func() time.Time                           // the wall clock silences are judged by (nil: time.Now)
}

type runFlags struct {
	at     time.Time
	dryRun bool
	json   bool
	budget time.Duration
}

func (a *app) cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "run":
		return a.cmdRun(ctx, args, stdout, stderr)
	case "validate":
		return a.cmdValidate(args, stdout, stderr)
	case "test":
		return cmdTest(args, stdout, stderr)
	case "backtest":
		return a.cmdBacktest(ctx, args, stdout, stderr)
	case "enable-roi":
		return a.cmdEnableROI(ctx, args, stdout, stderr)
	case "silences":
		return a.cmdSilences(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
	return exitConfig
}

// timeFlag parses RFC 3339.
type timeFlag struct{ t *time.Time }

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("want RFC 3339, such as 2026-11-24T09:00:00+08:00")
	}
	*f.t = t
	return nil
}

func (a *app) cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var f runFlags
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(timeFlag{&f.at}, "at", "evaluate as if it were this moment (RFC 3339)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "send nothing, leave the ledger untouched, print the messages")
	fs.BoolVar(&f.json, "json", false, "print the run summary as JSON on stdout")
	fs.DurationVar(&f.budget, "budget", 10*time.Minute, "time budget for the run (FC: the function's deadline)")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "run: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	if f.at.IsZero() {
		f.at = time.Now()
	}
	ctx, cancel := context.WithTimeout(ctx, f.budget)
	defer cancel()
	out := stdout
	if f.json {
		out = stderr // stdout carries only the summary
	}
	sum, code, err := a.runOnce(ctx, environ{}, f, out, stderr)
	if err != nil {
		printErr(stderr, err)
		if sum == nil {
			return code
		}
		// What was fetched and evaluated is still reported (--json
		// consumers always get the summary when there is one).
	}
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(sum)
	} else {
		printSummary(stdout, sum, f.dryRun)
	}
	return code
}

// setup loads and checks everything a run needs, before anything is fetched.
type setup struct {
	cfg   *config.Config
	rules *rules.Set
	log   *slog.Logger
}

// load is loadConfigRules with a logger on stderr that has logged the rules'
// warnings.
func (a *app) load(stderr io.Writer) (*setup, error) {
	s, err := a.loadConfigRules()
	if err != nil {
		return nil, err
	}
	s.log = slog.New(slog.NewTextHandler(stderr, nil))
	for _, w := range s.rules.Warnings {
		s.log.Warn("rules: field ignored", "where", w.String())
	}
	return s, nil
}

// loadConfigRules reads the configuration, then the rules it points at. A
// configuration error is returned as is; a rules error is rules.Diagnostics.
func (a *app) loadConfigRules() (*setup, error) {
	cfg, err := a.config()
	if err != nil {
		return nil, err
	}
	set, err := rules.Load(cfg.RulesPath, a.lookupEnv)
	if err != nil {
		return nil, err
	}
	set.Location = cfg.Location
	return &setup{cfg: cfg, rules: set}, nil
}

// runOnce is one cycle; out receives dry-run messages.
func (a *app) runOnce(ctx context.Context, env environ, f runFlags, out, stderr io.Writer) (*monitor.Summary, int, error) {
	s, err := a.load(stderr)
	if err != nil {
		return nil, exitConfig, err
	}
	src, err := a.source(s.cfg, env)
	if err != nil {
		return nil, exitConfig, err
	}
	if c, ok := src.(*cams.Client); ok {
		// A warm FC instance builds a client per invocation: release its
		// idle connections rather than keep them until they time out.
		defer c.Close()
	}
	var mu sync.Mutex
	channels, defaults, err := a.channels(s.cfg, s.rules, f.dryRun, func(name string) *console.Notifier {
		return console.New(name, out, &mu)
	})
	if err != nil {
		return nil, exitConfig, err
	}
	deps := &monitor.Deps{Source: src, Rules: s.rules, Evaluate: evaluate(s.rules), Templates: s.cfg.Templates,
		LookbackDays: s.cfg.LookbackDays, Location: s.cfg.Location, Workers: 2 * s.cfg.QPS, Log: s.log}
	sum, err := monitor.Run(ctx, deps, &monitor.Delivery{Channels: channels, Default: defaults,
		Silences: slices.Concat(s.rules.Silences, a.chatSilences(s.cfg.StateDir, f.dryRun, s.log)), StateDir: s.cfg.StateDir,
		LedgerOptions: a.tune.ledger, DryRun: f.dryRun, Location: s.cfg.Location, Log: s.log, Sleep: a.tune.sleep}, f.at)
	if err != nil {
		return sum, exitFailed, err
	}
	if !sum.OK() {
		return sum, exitFailed, nil
	}
	return sum, exitOK, nil
}

// source picks the replay directory for file:// endpoints, else the API.
func (a *app) source(cfg *config.Config, env environ) (cams.Source, error) {
	u, _ := url.Parse(cfg.Endpoint)
	if u.Scheme == "file" {
		return &cams.Replay{Dir: u.Host + u.Path}, nil
	}
	o := cams.Options{Endpoint: cfg.Endpoint, Region: cfg.Region, CustSpaceID: cfg.CustSpaceID,
		IsvCode: cfg.IsvCode, QPS: cfg.QPS, AccessKeyID: cfg.AccessKeyID,
		AccessKeySecret: cfg.AccessKeySecret, SecurityToken: cfg.SecurityToken, ReadTimeout: a.tune.camsReadTimeout}
	if env.creds != nil {
		o.AccessKeyID, o.AccessKeySecret, o.SecurityToken = env.creds.AccessKeyId, env.creds.AccessKeySecret, env.creds.SecurityToken
	}
	return cams.New(o)
}

func (a *app) cmdValidate(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "validate: unexpected argument %q\n", args[0])
		return exitConfig
	}
	s, err := a.loadConfigRules()
	if err != nil {
		printErr(stderr, err)
		var ds rules.Diagnostics
		if !errors.As(err, &ds) {
			// Every problem at once: a bad variable must not hide the rules'.
			path, ok := a.lookupEnv("RULES_PATH")
			if !ok {
				path = config.DefaultRulesPath
			}
			if set, rerr := rules.Load(path, a.lookupEnv); rerr != nil {
				printErr(stderr, rerr)
			} else {
				printErr(stderr, set.Warnings)
			}
		}
		return exitConfig
	}
	printErr(stderr, s.rules.Warnings)
	chans, defaults, err := a.channels(s.cfg, s.rules, false, nil)
	printErr(stderr, routeWarnings(s.rules, chans, defaults))
	switch {
	case errors.Is(err, errNoChannel):
		// Rules usually ship without channels and get them from the
		// deployment's environment: checking rules must not need webhooks.
		fmt.Fprintf(stderr, "warning: %v (`run` will refuse to start)\n", err)
	case err != nil:
		printErr(stderr, err)
		return exitConfig
	}
	fmt.Fprintf(stdout, "ok: %d rules, %d channels (%s)", len(s.rules.Rules), len(chans), s.cfg.RulesPath)
	if n := len(s.rules.Warnings); n > 0 {
		fmt.Fprintf(stdout, ", %d ignored fields (warnings above)", n)
	}
	fmt.Fprintln(stdout)
	return exitOK
}

// printErr prints one problem per line (rules diagnostics, warnings too, are
// already file:line:col: message). A nil error prints nothing.
func printErr(w io.Writer, err error) {
	if err == nil {
		return
	}
	var ds rules.Diagnostics
	if errors.As(err, &ds) {
		for _, d := range ds {
			fmt.Fprintln(w, d.String())
		}
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			fmt.Fprintln(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

func printSummary(w io.Writer, s *monitor.Summary, dryRun bool) {
	fmt.Fprintf(w, "\nperiod %s → %s · %d templates checked · %d API calls (%d retries)\n",
		s.Period.Start.In(s.At.Location()).Format(time.RFC3339), s.Period.End.In(s.At.Location()).Format(time.RFC3339), s.Templates, s.APICalls, s.Retries)
	var firing, resolved, silenced int
	for _, a := range s.Alerts {
		switch {
		case a.Silenced != "":
			silenced++
		case a.State == alert.Firing:
			firing++
		default:
			resolved++
		}
	}
	fmt.Fprintf(w, "alerts: %d firing, %d resolved, %d silenced · ", firing, resolved, silenced)
	if dryRun {
		fmt.Fprintf(w, "dry run: %d notifications would be sent, nothing was sent or recorded\n", s.Notifications.WouldSend)
	} else {
		fmt.Fprintf(w, "notifications: %d sent, %d failed, %d pending", s.Notifications.Sent, s.Notifications.Failed, s.Notifications.Pending)
		if n := s.Notifications.HealthPending; n > 0 {
			fmt.Fprintf(w, "; %d health message(s) pending", n)
		}
		if n := s.Notifications.HeldBack; n > 0 {
			fmt.Fprintf(w, "; %d held back (the ledger cannot record them)", n)
		}
		fmt.Fprintln(w)
	}
	for _, a := range s.Alerts {
		printAlert(w, a)
	}
	for _, e := range s.Errors {
		label := "not checked"
		switch {
		case e.Warning:
			label = "warning"
		case e.Rule != "" || e.Code == monitor.CodeLedgerUnwritable:
			label = "error"
		}
		fmt.Fprintf(w, "%s: %s\n", label, e.String())
	}
}

// printAlert is one alert of the summary as a line: the template's name
// beside its code, so that a reader knows which campaign it is.
func printAlert(w io.Writer, a monitor.AlertJSON) {
	tmpl := a.Template
	if a.TemplateName != "" {
		tmpl += " " + strconv.Quote(a.TemplateName)
	}
	fmt.Fprintf(w, "  %-8s [%s] %s (%s)", a.State, a.Severity, tmpl, a.Language)
	if b := cmp.Or(a.ButtonText, a.Button); b != "" {
		fmt.Fprintf(w, " button %q", b)
	}
	fmt.Fprintf(w, " — rule %s", a.Rule)
	if a.Silenced != "" {
		fmt.Fprintf(w, " · silenced: %s", a.Silenced)
	}
	fmt.Fprintln(w)
}

// cmdEnableROI calls EnableWhatsappROIMetric once for the configured scope
// (CAMS_CUST_SPACE_ID / CAMS_ISV_CODE, or the account's own space).
func (a *app) cmdEnableROI(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "enable-roi: unexpected argument %q\n", args[0])
		return exitConfig
	}
	cfg, err := a.config()
	if err != nil {
		printErr(stderr, err)
		return exitConfig
	}
	src, err := a.source(cfg, environ{})
	if err != nil {
		printErr(stderr, err)
		return exitConfig
	}
	c, ok := src.(*cams.Client)
	if !ok {
		fmt.Fprintln(stderr, "enable-roi: CAMS_ENDPOINT is a replay (file://); enable-roi needs the API")
		return exitConfig
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	id, err := c.EnableROI(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "enable-roi: %v\n", err)
		return exitFailed
	}
	scope := "the account's own space"
	if cfg.CustSpaceID != "" {
		scope = "space " + cfg.CustSpaceID
	}
	fmt.Fprintf(stdout, "ok: WhatsApp ROI metrics enabled for %s (request %s).\n"+
		"GetChatappTemplateMetric has data from a day after this, and only for messages sent after it.\n", scope, id)
	return exitOK
}
