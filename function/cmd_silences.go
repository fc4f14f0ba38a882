package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cams-alert/cams-alert/function/rules"
	"github.com/cams-alert/cams-alert/function/silence"
)

const silencesUsage = `usage:
  silences list [--json]
  silences add --rule R --template T [--language L] [--button B] --for DURATION --reason TEXT
  silences expire ID

The silences kept in STATE_DIR/silences (made here or from the chat). Match
fields are globs like the rules' silences; DURATION is like 24h, 90m or 7d.
`

// now is the wall clock silences are judged by (tests move it).
func (a *app) now() time.Time {
	if a.tune.now != nil {
		return a.tune.now()
	}
	return time.Now()
}

// cmdSilences is `silences list|add|expire` on STATE_DIR.
func (a *app) cmdSilences(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, silencesUsage)
		return exitConfig
	}
	st := &silence.Store{StateDir: a.stateDir()}
	switch args[0] {
	case "list":
		return silencesList(st, a.now(), args[1:], stdout, stderr)
	case "add":
		return silencesAdd(st, a.now(), args[1:], stdout, stderr)
	case "expire":
		return silencesExpire(st, a.now(), args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, silencesUsage)
		return exitOK
	}
	fmt.Fprintf(stderr, "silences: unknown command %q\n\n%s", args[0], silencesUsage)
	return exitConfig
}

// stateDir is STATE_DIR as the configuration reads it (trimmed, default
// .state); the silences commands need nothing else.
func (a *app) stateDir() string {
	if d, ok := a.lookupEnv("STATE_DIR"); ok {
		return d
	}
	return ".state"
}

func silencesList(st *silence.Store, now time.Time, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("silences list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "silences list: unexpected argument %q\n", fs.Arg(0))
		return exitConfig
	}
	active, err := st.Active(now)
	code := exitOK
	if err != nil {
		printErr(stderr, err)
		code = exitFailed
	}
	if *asJSON {
		if active == nil {
			active = []silence.Silence{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(active)
		return code
	}
	if len(active) == 0 {
		fmt.Fprintln(stdout, "no active silences")
		return code
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tMATCH\tUNTIL\tCREATED BY\tREASON")
	for _, s := range active {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", s.ID, matchText(s.Match), s.End().Local().Format(time.RFC3339), s.CreatedBy, s.Reason)
	}
	_ = tw.Flush()
	return code
}

func matchText(m silence.Match) string {
	var parts []string
	for _, f := range []struct{ k, v string }{{"rule", m.Rule}, {"template", m.Template}, {"language", m.Language}, {"button", m.Button}} {
		if f.v != "" {
			parts = append(parts, f.k+"="+f.v)
		}
	}
	return strings.Join(parts, " ")
}

func silencesAdd(st *silence.Store, now time.Time, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("silences add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var m silence.Match
	fs.StringVar(&m.Rule, "rule", "", "rule name (glob)")
	fs.StringVar(&m.Template, "template", "", "template code (glob)")
	fs.StringVar(&m.Language, "language", "", "language (glob; empty: any)")
	fs.StringVar(&m.Button, "button", "", "button text (glob; empty: any)")
	dur := fs.String("for", "", "how long, e.g. 24h or 7d")
	reason := fs.String("reason", "", "why (shown in run summaries)")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	var problems []string
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if m.Rule == "" || m.Template == "" {
		problems = append(problems, "--rule and --template are required")
	}
	if strings.TrimSpace(*reason) == "" {
		problems = append(problems, "--reason is required (it says why, in every run's summary)")
	}
	d, err := silence.ParseDuration(*dur)
	if err != nil {
		problems = append(problems, "--for: "+err.Error())
	}
	if len(problems) > 0 {
		for _, p := range problems {
			fmt.Fprintln(stderr, "silences add: "+p)
		}
		return exitConfig
	}
	s := &silence.Silence{Match: m, Until: now.Add(d).UTC(), Reason: *reason, CreatedBy: cliUser(), CreatedAt: now.UTC()}
	stored, _, err := st.Create(s, "")
	if err != nil {
		fmt.Fprintf(stderr, "silences add: %v\n", err)
		return exitConfig
	}
	fmt.Fprintf(stdout, "%s silenced until %s (%s)\n", stored.ID, stored.Until.Local().Format(time.RFC3339), matchText(m))
	return exitOK
}

func silencesExpire(st *silence.Store, now time.Time, args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprint(stderr, "silences expire: want one silence ID (see `silences list`)\n")
		return exitConfig
	}
	s, err := st.Expire(args[0], cliUser(), now)
	if err != nil {
		fmt.Fprintf(stderr, "silences expire: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "%s expired at %s (%s)\n", s.ID, s.End().Local().Format(time.RFC3339), matchText(s.Match))
	return exitOK
}

// chatSilences are the silences in STATE_DIR/silences in force at the run's
// wall-clock time, so that a silence made a minute ago also holds for an FC
// retry of an earlier trigger. A real run also deletes those that ended
// more than 30 days ago. A file that cannot be read is logged; the others
// still hold.
func (a *app) chatSilences(stateDir string, dryRun bool, log *slog.Logger) []rules.Silence {
	st := &silence.Store{StateDir: stateDir}
	now := a.now()
	if !dryRun {
		if n, err := st.Prune(now); err != nil {
			log.Warn("silences: pruning", "err", err)
		} else if n > 0 {
			log.Info("silences: pruned those ended 30 days ago", "count", n)
		}
	}
	active, err := st.Active(now)
	if err != nil {
		log.Warn("silences: some could not be read; the others hold", "err", err)
	}
	return silence.ForRules(active)
}

// cliUser names who made a silence from the command line.
func cliUser() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, _ := os.Hostname()
	if host != "" {
		name += "@" + host
	}
	return "cli " + name
}
