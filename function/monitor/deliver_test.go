package monitor_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/monitor"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/console"
	"github.com/cams-alert/cams-alert/function/notify/dingtalk"
	"github.com/cams-alert/cams-alert/function/notify/notifytest"
	"github.com/cams-alert/cams-alert/function/notify/slack"
	"github.com/cams-alert/cams-alert/function/rules"
)

// Channels: ops-ding and ops-slack are the default channels (alerts of rules
// that name none, and the health message); quiet is a rule-only Slack
// channel that never hears resolutions.
const testRules = `
channels:
  ops-slack: {type: slack, webhook_url: "${SLACK_URL}"}
  ops-ding:  {type: dingtalk, webhook_url: "${DING_URL}", secret: "${DING_SECRET}", at_mobiles: ["13800000000"]}
  quiet:     {type: slack, webhook_url: "${QUIET_URL}", send_resolved: false}
defaults:
  notify: [ops-slack, ops-ding]
  repeat_every: 24h
  send_resolved: true
rules:
  - {name: read-drop, metric: read_rate, condition: below, threshold: 0.2, severity: critical}
  - {name: once, metric: read_rate, condition: below, threshold: 0.1, repeat_every: 0}
  - {name: no-resolve, metric: clicks, condition: zero, send_resolved: false}
  - {name: to-quiet, metric: sent, condition: above, threshold: 100, notify: [quiet, ops-slack]}
  - {name: half-hourly, metric: sent, condition: below, threshold: 10, granularity: HALF_HOUR, repeat_every: 1h, notify: [ops-slack]}
`

const dingSecret = "SECdeliverTestSecret0123"

var loc = time.FixedZone("UTC+8", 8*3600)

var day0 = time.Date(2026, 11, 1, 0, 0, 0, 0, loc)

// day n's period; runs happen at 09:00 the day after.
func period(n int) metrics.Window { return periodFrom(day0, n) }

func runAt(n int) time.Time { return period(n).End.Add(9 * time.Hour) }

func periodFrom(base time.Time, n int) metrics.Window {
	s := base.AddDate(0, 0, n)
	return metrics.Window{Start: s, End: s.AddDate(0, 0, 1)}
}

type rig struct {
	t     *testing.T
	slack *notifytest.Slack
	ding  *notifytest.DingTalk
	quiet *notifytest.Slack
	set   *rules.Set
	dir   string
	// base is day 0 (day0 unless a test needs the wall clock near).
	base time.Time
	dl   *monitor.Delivery
	// sleeps records the waits notify.Send asked for (instant in tests
	// unless realSleep).
	mu     sync.Mutex
	sleeps []time.Duration
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, slack: notifytest.NewSlack(t), ding: notifytest.NewDingTalk(t, dingSecret),
		quiet: notifytest.NewSlack(t), dir: t.TempDir(), base: day0}
	env := map[string]string{"SLACK_URL": r.slack.WebhookURL, "DING_URL": r.ding.WebhookURL,
		"DING_SECRET": dingSecret, "QUIET_URL": r.quiet.WebhookURL}
	set, err := rules.LoadBytes("rules.yaml", []byte(testRules), func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	r.set = set
	client := &http.Client{Timeout: 200 * time.Millisecond}
	chans := map[string]monitor.Channel{}
	for name, c := range set.Channels {
		var n notify.Notifier
		switch c.Type {
		case rules.Slack:
			n, err = slack.New(slack.Config{Name: name, WebhookURL: c.WebhookURL, SendResolved: true,
				HTTPClient: client, MinInterval: -1})
		case rules.DingTalk:
			n, err = dingtalk.New(dingtalk.Config{Name: name, WebhookURL: c.WebhookURL, Secret: c.Secret,
				AtMobiles: c.AtMobiles, SendResolved: true, HTTPClient: client, MinInterval: -1})
		}
		if err != nil {
			t.Fatal(err)
		}
		chans[name] = monitor.Channel{Notifier: n, SendResolved: c.SendResolved}
	}
	// The channels were greeted long ago: these tests are about alerts
	// (TestGreeting is about the first message).
	greet(t, r.dir, day0.AddDate(0, 0, -200), "ops-slack", "ops-ding", "quiet")
	r.dl = &monitor.Delivery{Channels: chans, Default: []string{"ops-slack", "ops-ding"}, StateDir: r.dir,
		Location: loc, Sleep: func(ctx context.Context, d time.Duration) error {
			r.mu.Lock()
			r.sleeps = append(r.sleeps, d)
			r.mu.Unlock()
			return ctx.Err()
		}}
	return r
}

// greet records that channels had their first message at.
func greet(t *testing.T, dir string, at time.Time, channels ...string) {
	t.Helper()
	led, err := ledger.Open(dir, at)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range channels {
		led.MarkSent("greeting", ch, at, ledger.Greeting, at)
	}
	if err := led.Save(); err != nil {
		t.Fatal(err)
	}
}

func (r *rig) rule(name string) *rules.Rule {
	for _, ru := range r.set.Rules {
		if ru.Name == name {
			return ru
		}
	}
	r.t.Fatalf("no rule %s", name)
	return nil
}

// alertSpec is one alert of a run: firing since day since, or resolved on
// the run's day after firing since day since.
type alertSpec struct {
	rule, template string
	state          string
	since          int
	silenced       bool
}

func fire(rule, tpl string, since int) alertSpec {
	return alertSpec{rule: rule, template: tpl, state: alert.Firing, since: since}
}

func resolve(rule, tpl string, since int) alertSpec {
	return alertSpec{rule: rule, template: tpl, state: alert.Resolved, since: since}
}

func (r *rig) eval(day int, at time.Time, alerts []alertSpec, errs []monitor.Error) *monitor.Evaluation {
	w := periodFrom(r.base, day)
	ev := &monitor.Evaluation{At: at, Period: w, Templates: 3, Errors: errs}
	for _, a := range alerts {
		res := rules.Result{Rule: r.rule(a.rule), Key: metrics.Key{Template: a.template, Language: "en"},
			State: a.state, Value: 0.05, Baseline: 0.6, HasBaseline: true, Volume: 1200,
			Summary: a.template + " (en): " + a.rule, Since: periodFrom(r.base, a.since).Start, Period: w}
		if a.state == alert.Resolved {
			res.Value = 0.55
			res.Duration = w.Start.Sub(res.Since)
		}
		mr := monitor.Result{Result: res}
		if a.silenced {
			mr.Silenced = "campaign paused"
		}
		ev.Results = append(ev.Results, mr)
	}
	return ev
}

// step is one run.
type step struct {
	day int
	// at overrides runAt(day) (reruns, FC retries, drifting timers).
	at     time.Time
	alerts []alertSpec
	errs   []monitor.Error
	// script makes the fake platforms fail for this run.
	script func(r *rig)
	// budget bounds delivery (default 10s).
	budget time.Duration
	// now is the wall clock (default: at).
	now time.Time

	// want: counts, new messages per platform, and texts the new messages
	// (joined) must and must not contain.
	sent, failed, pending int
	healthPending         int
	slack, ding, quiet    int
	has, hasNot           map[string][]string // platform → texts
}

type counts struct{ slack, ding, quiet int }

func (r *rig) counts() counts {
	return counts{len(r.slack.Messages()), len(r.ding.Messages()), len(r.quiet.Messages())}
}

// texts returns the text of the messages after the given counts.
func (r *rig) texts(c counts) map[string]string {
	out := map[string]string{}
	var b strings.Builder
	for _, m := range r.slack.Messages()[c.slack:] {
		b.WriteString(m.BlockText() + "\n")
	}
	out["slack"] = b.String()
	b.Reset()
	for _, m := range r.ding.Messages()[c.ding:] {
		b.WriteString(m.Text + "\n")
	}
	out["ding"] = b.String()
	b.Reset()
	for _, m := range r.quiet.Messages()[c.quiet:] {
		b.WriteString(m.BlockText() + "\n")
	}
	out["quiet"] = b.String()
	return out
}

func (r *rig) run(s step) *monitor.Summary {
	r.t.Helper()
	at := s.at
	if at.IsZero() {
		at = periodFrom(r.base, s.day).End.Add(9 * time.Hour)
	}
	now := s.now
	if now.IsZero() {
		now = at
	}
	if s.script != nil {
		s.script(r)
	}
	budget := s.budget
	if budget == 0 {
		budget = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	before := r.counts()
	sum, err := monitor.Deliver(ctx, r.eval(s.day, at, s.alerts, s.errs), r.dl, now)
	if err != nil {
		r.t.Fatalf("Deliver: %v", err)
	}
	after := r.counts()
	got := counts{after.slack - before.slack, after.ding - before.ding, after.quiet - before.quiet}
	if want := (counts{s.slack, s.ding, s.quiet}); got != want {
		r.t.Errorf("new messages slack/ding/quiet = %v, want %v\n%v", got, want, r.texts(before))
	}
	if sum.Notifications != (monitor.Counts{Sent: s.sent, Failed: s.failed, Pending: s.pending, HealthPending: s.healthPending}) {
		r.t.Errorf("notifications = %+v, want sent %d failed %d pending %d health pending %d", sum.Notifications, s.sent, s.failed, s.pending, s.healthPending)
	}
	wantOK := s.pending == 0 && s.healthPending == 0 && len(s.errs) == 0
	if sum.OK() != wantOK {
		r.t.Errorf("OK() = %v, want %v (exit status, FC retry)", sum.OK(), wantOK)
	}
	texts := r.texts(before)
	for p, ws := range s.has {
		for _, w := range ws {
			if !strings.Contains(texts[p], w) {
				r.t.Errorf("%s messages lack %q:\n%s", p, w, texts[p])
			}
		}
	}
	for p, ws := range s.hasNot {
		for _, w := range ws {
			if strings.Contains(texts[p], w) {
				r.t.Errorf("%s messages contain %q:\n%s", p, w, texts[p])
			}
		}
	}
	if probs := append(r.slack.Problems(), append(r.ding.Problems(), r.quiet.Problems()...)...); len(probs) > 0 {
		r.t.Errorf("the fake platforms rejected payloads: %v", probs)
	}
	return sum
}

var denied = []monitor.Error{{Template: "T9", Code: "Ram.PermissionDeny", Message: "not authorized"}}

func TestLifecycle(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"firing once; reruns and FC retries of the moment send nothing", []step{
			{day: 1, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1,
				has: map[string][]string{"slack": {"T1", "Critical"}, "ding": {"T1", "@13800000000"}}},
			{day: 1, alerts: []alertSpec{fire("read-drop", "T1", 1)}},
			{day: 1, at: runAt(1).Add(3 * time.Hour), now: runAt(1).Add(3 * time.Hour), alerts: []alertSpec{fire("read-drop", "T1", 1)}},
		}},
		{"for: the firing is keyed by the period it started in; without repeat_every it is never repeated", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, alerts: []alertSpec{fire("once", "T1", 1)}},
			{day: 9, alerts: []alertSpec{fire("once", "T1", 1)}},
		}},
		{"a new firing run after a resolution fires again", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, alerts: []alertSpec{resolve("once", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 3, alerts: []alertSpec{fire("once", "T1", 3)}, sent: 2, slack: 1, ding: 1,
				hasNot: map[string][]string{"slack": {"still firing"}}},
		}},
		{"repeat_every: a reminder a day later, once", []step{
			{day: 1, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1,
				has: map[string][]string{"slack": {"T1", "Critical, still firing"}}},
			{day: 2, alerts: []alertSpec{fire("read-drop", "T1", 1)}},
			{day: 2, at: runAt(2).Add(5 * time.Hour), alerts: []alertSpec{fire("read-drop", "T1", 1)}},
			{day: 3, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
		}},
		// The run that delivered on day 1 was stamped runAt(1); a timer
		// that drifts still reminds, within a tenth of repeat_every.
		{"repeat_every tolerance: exactly the interval", []step{
			{day: 1, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, at: runAt(1).Add(24 * time.Hour), alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
		}},
		{"repeat_every tolerance: the interval less a tenth", []step{
			{day: 1, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, at: runAt(1).Add(24*time.Hour - 144*time.Minute), alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
		}},
		{"repeat_every tolerance: below it, no reminder", []step{
			{day: 1, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, at: runAt(1).Add(24*time.Hour - 145*time.Minute), alerts: []alertSpec{fire("read-drop", "T1", 1)}},
		}},
		// A rerun of an old moment, made today: the wall clock is days
		// ahead of the evaluated moment and must not matter.
		{"repeat_every is measured in evaluation time, not by the wall clock", []step{
			{day: 1, now: runAt(5), alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, now: runAt(5), alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
		}},
		{"resolved follows recovery, with how long it lasted, once", []step{
			{day: 1, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 3, alerts: []alertSpec{resolve("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1,
				has: map[string][]string{"slack": {"T1", "resolved", "lasted 2 days"}, "ding": {"T1", "lasted 2 days"}}},
			{day: 3, alerts: []alertSpec{resolve("read-drop", "T1", 1)}},
		}},
		{"send_resolved false on the rule", []step{
			{day: 1, alerts: []alertSpec{fire("no-resolve", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, alerts: []alertSpec{resolve("no-resolve", "T1", 1)}},
		}},
		{"send_resolved false on the channel", []step{
			{day: 1, alerts: []alertSpec{fire("to-quiet", "T1", 1)}, sent: 2, slack: 1, quiet: 1},
			{day: 2, alerts: []alertSpec{resolve("to-quiet", "T1", 1)}, sent: 1, slack: 1,
				has: map[string][]string{"slack": {"resolved"}}},
		}},
		{"no resolution where the firing was never announced", []step{
			{day: 2, alerts: []alertSpec{resolve("read-drop", "T1", 1)}},
		}},
		{"no resolution for a firing that was silenced", []step{
			{day: 1, alerts: []alertSpec{{rule: "read-drop", template: "T1", state: alert.Firing, since: 1, silenced: true}}},
			{day: 2, alerts: []alertSpec{resolve("read-drop", "T1", 1)}},
		}},
		{"no resolution for an older firing run: only this run's announcement counts", []step{
			{day: 1, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, alerts: []alertSpec{resolve("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 4, alerts: []alertSpec{{rule: "read-drop", template: "T1", state: alert.Firing, since: 3, silenced: true}}},
			{day: 5, alerts: []alertSpec{resolve("read-drop", "T1", 3)}},
		}},
		{"5xx: pending, delivered by the next run although it evaluates a later period", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.slack.FailNext(5, 500, "internal_error") },
				sent: 1, failed: 1, pending: 1, ding: 2, // the digest, then a health note: slack failed
				has: map[string][]string{"ding": {"T1", "ops-slack", "HTTP 500"}}},
			{day: 2, alerts: []alertSpec{fire("once", "T1", 1)}, sent: 1, slack: 1,
				has: map[string][]string{"slack": {"T1", "firing since Mon 2 Nov"}}, hasNot: map[string][]string{"slack": {"still firing"}}},
			{day: 2, alerts: []alertSpec{fire("once", "T1", 1)}},
		}},
		{"timeout: pending, then delivered", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.slack.HangNext(5, time.Second) },
				sent: 1, failed: 1, pending: 1, ding: 2, has: map[string][]string{"ding": {"ops-slack"}}},
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, sent: 1, slack: 1},
		}},
		{"a failed reminder is superseded by the next one, not sent twice", []step{
			{day: 1, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
			{day: 2, alerts: []alertSpec{fire("read-drop", "T1", 1)}, script: func(r *rig) { r.slack.FailNext(5, 500, "x") },
				sent: 1, failed: 1, pending: 1, ding: 2},
			{day: 3, alerts: []alertSpec{fire("read-drop", "T1", 1)}, sent: 2, slack: 1, ding: 1},
		}},
		{"resolved while the firing is still pending: both go out, firing first", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.slack.FailNext(5, 500, "x") },
				sent: 1, failed: 1, pending: 1, ding: 2},
			{day: 2, alerts: []alertSpec{resolve("once", "T1", 1)}, sent: 3, slack: 1, ding: 1,
				has: map[string][]string{"slack": {"1 alert, 1 resolved"}}},
		}},
		{"429 Retry-After is waited out", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.slack.RateLimitNext(1, 1) },
				sent: 2, slack: 1, ding: 1},
		}},
		{"DingTalk 130101: waited and retried within the budget", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.ding.RateLimitNext(1) },
				budget: 2 * time.Minute, sent: 2, slack: 1, ding: 1},
		}},
		{"DingTalk 130101: pending when the budget is too short", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.ding.RateLimitNext(1) },
				budget: 5 * time.Second, sent: 1, failed: 1, pending: 1, slack: 1,
				has: map[string][]string{"slack": {"ops-ding", "130101"}}},
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, sent: 1, ding: 1},
		}},
		{"DingTalk 310000: failed, with the hint in the health message to the other default channel", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.ding.BadSignNext(1) },
				sent: 1, failed: 1, pending: 1, slack: 1,
				has: map[string][]string{"slack": {"T1", "ops-ding", "310000", "secret"}}},
		}},
		{"health message: once per period on each default channel, not on others", []step{
			{day: 1, errs: denied, alerts: []alertSpec{fire("to-quiet", "T1", 1)}, sent: 2, slack: 1, ding: 1, quiet: 1,
				has:    map[string][]string{"slack": {"T9", "Ram.PermissionDeny"}, "ding": {"T9", "Ram.PermissionDeny"}},
				hasNot: map[string][]string{"quiet": {"T9"}}},
			{day: 1, errs: denied},
			{day: 1, at: runAt(1).Add(2 * time.Hour), errs: denied},
			{day: 2, errs: denied, slack: 1, ding: 1, has: map[string][]string{"slack": {"T9"}}},
		}},
		{"a rerun of the period that meets a new problem says so; the same problems stay quiet", []step{
			{day: 1, errs: denied, slack: 1, ding: 1},
			{day: 1, errs: append(slices.Clone(denied), monitor.Error{Code: "SignatureDoesNotMatch", Message: "bad key"}), slack: 1, ding: 1,
				has: map[string][]string{"slack": {"SignatureDoesNotMatch", "T9"}, "ding": {"SignatureDoesNotMatch"}}},
			{day: 1, errs: append(slices.Clone(denied), monitor.Error{Code: "SignatureDoesNotMatch", Message: "bad key"})},
			{day: 1, errs: []monitor.Error{{Template: "T8", Code: "Ram.PermissionDeny", Message: "not authorized"}}},
		}},
		{"a health message still owed, with nothing else wrong, is not OK (FC retries)", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.slack.FailNext(5, 500, "x") },
				sent: 1, failed: 1, pending: 1, ding: 2},
			{day: 9, script: func(r *rig) { r.ding.BadSignNext(1) }, slack: 1, healthPending: 1,
				has: map[string][]string{"slack": {"Delivery.Abandoned"}}},
		}},
		{"a health message that failed is sent by a rerun of the period", []step{
			{day: 1, errs: denied, script: func(r *rig) { r.ding.BadSignNext(1) }, healthPending: 1, slack: 1,
				has: map[string][]string{"slack": {"T9", "ops-ding"}}},
			{day: 1, errs: denied, ding: 1, has: map[string][]string{"ding": {"T9"}}},
			{day: 1, errs: denied},
		}},
		{"undelivered for a week: given up, and said so", []step{
			{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.slack.FailNext(5, 500, "x") },
				sent: 1, failed: 1, pending: 1, ding: 2},
			{day: 9, slack: 1, ding: 1, has: map[string][]string{"ding": {"Delivery.Abandoned", "ops-slack"}, "slack": {"Delivery.Abandoned"}}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			for i, s := range tc.steps {
				t.Logf("step %d: day %d", i+1, s.day)
				r.run(s)
				if t.Failed() {
					t.Fatalf("step %d failed; ledger:\n%s", i+1, readFile(t, filepath.Join(r.dir, ledger.FileName)))
				}
			}
		})
	}
}

func readFile(t *testing.T, p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// Retry-After is really waited (no test Sleep).
func TestRetryAfterWaited(t *testing.T) {
	r := newRig(t)
	r.dl.Sleep = nil
	r.slack.RateLimitNext(1, 1)
	start := time.Now()
	r.run(step{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, sent: 2, slack: 1, ding: 1})
	if d := time.Since(start); d < time.Second {
		t.Errorf("delivered after %v: Retry-After: 1 not waited", d)
	}
	if n := r.slack.Requests(); n != 2 {
		t.Errorf("slack asked %d times, want 2", n)
	}
}

// 130101 asks for a minute's wait: taken when the budget allows.
func TestDingTalkRateLimitWait(t *testing.T) {
	r := newRig(t)
	r.ding.RateLimitNext(1)
	r.run(step{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, budget: 2 * time.Minute, sent: 2, slack: 1, ding: 1})
	if len(r.sleeps) != 1 || r.sleeps[0] < dingtalk.RateLimitWait {
		t.Errorf("waits %v, want one of at least %v", r.sleeps, dingtalk.RateLimitWait)
	}
}

// A dry run reads the ledger and changes nothing in STATE_DIR, byte for
// byte, while showing what is due (pending notifications included).
func TestDryRunLeavesStateDirIdentical(t *testing.T) {
	r := newRig(t)
	// The read-only ledger ages pending notifications by the wall clock.
	r.base = time.Now().In(loc).Truncate(24*time.Hour).AddDate(0, 0, -4)
	runAt := func(n int) time.Time { return periodFrom(r.base, n).End.Add(9 * time.Hour) }
	r.run(step{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, script: func(r *rig) { r.slack.FailNext(5, 500, "x") },
		sent: 1, failed: 1, pending: 1, ding: 2})
	before := snapshot(t, r.dir)
	var out bytes.Buffer
	var mu sync.Mutex
	dry := *r.dl
	dry.DryRun = true
	dry.Channels = map[string]monitor.Channel{}
	for name, c := range r.dl.Channels {
		dry.Channels[name] = monitor.Channel{Notifier: console.New(name, &out, &mu), SendResolved: c.SendResolved}
	}
	ev := r.eval(2, runAt(2), []alertSpec{fire("read-drop", "T2", 2)}, denied)
	sum, err := monitor.Deliver(context.Background(), ev, &dry, runAt(2))
	if err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, r.dir); after != before {
		t.Errorf("dry run changed STATE_DIR:\nbefore %s\nafter  %s", before, after)
	}
	for _, w := range []string{"would send to ops-slack", "T1", "T2", "T9"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("dry-run output lacks %q:\n%s", w, out.String())
		}
	}
	if sum.Notifications.WouldSend != 3 || sum.Notifications.Sent != 0 {
		t.Errorf("dry run: %+v; want would_send 3 (the pending one and T2 twice) and sent 0", sum.Notifications)
	}
	if r.slack.Requests() != 5 || len(r.ding.Messages()) != 2 {
		t.Errorf("dry run posted")
	}
	// A dry run on a corrupt ledger does not move it aside.
	os.WriteFile(filepath.Join(r.dir, ledger.FileName), []byte("{not json"), 0o644)
	before = snapshot(t, r.dir)
	out.Reset()
	if _, err := monitor.Deliver(context.Background(), ev, &dry, runAt(2)); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, r.dir); after != before {
		t.Errorf("dry run on a corrupt ledger changed STATE_DIR")
	}
	if !strings.Contains(out.String(), "unreadable") {
		t.Errorf("dry run does not say the ledger is unreadable:\n%s", out.String())
	}
}

// snapshot lists every file's name, mode, mtime and content.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + " " + info.Mode().String() + " " + info.ModTime().String() + "\n")
		if !info.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// A corrupt ledger is kept aside, the health message says so, and the
// alerts still go out. (With the ledger, the product forgot it greeted
// the quiet channel: it does so again.)
func TestCorruptLedger(t *testing.T) {
	r := newRig(t)
	os.WriteFile(filepath.Join(r.dir, ledger.FileName), []byte(`{"version":1,"entries":[{"alert":`), 0o644)
	r.run(step{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, sent: 2, slack: 1, ding: 1, quiet: 1,
		has: map[string][]string{"slack": {"T1", "Ledger.Corrupt", "unreadable", "kept aside"}, "ding": {"T1", "Ledger.Corrupt"}}})
	kept, _ := filepath.Glob(filepath.Join(r.dir, ledger.FileName+".corrupt-*"))
	if len(kept) != 1 {
		t.Errorf("corrupt ledger kept as %v, want one file", kept)
	}
	// The new ledger works: a rerun sends nothing.
	r.run(step{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}})
}

// The first message to a channel says how many templates are watched and
// from when the rules can judge them: inside its first digest, or on its
// own when there is nothing else to say; once. A channel that heard from
// the product before greetings existed is not greeted.
func TestGreeting(t *testing.T) {
	r := newRig(t)
	os.Remove(filepath.Join(r.dir, ledger.FileName))
	greet(t, r.dir, day0, "ops-ding") // greeted before
	led, err := ledger.Open(r.dir, day0)
	if err != nil {
		t.Fatal(err)
	}
	// ops-slack had an alert before greetings existed; quiet never heard a thing
	led.MarkSent("old|T1|en", "ops-slack", day0, ledger.Firing, day0)
	if err := led.Save(); err != nil {
		t.Fatal(err)
	}
	r.run(step{day: 1, alerts: []alertSpec{fire("once", "T1", 1)}, sent: 2, slack: 1, ding: 1, quiet: 1,
		has:    map[string][]string{"quiet": {"Watching 3 templates; the rules can judge them now."}},
		hasNot: map[string][]string{"slack": {"Watching"}, "ding": {"Watching"}}})
	r.run(step{day: 2, alerts: []alertSpec{fire("to-quiet", "T2", 2)}, sent: 2, slack: 1, quiet: 1,
		hasNot: map[string][]string{"quiet": {"Watching"}}})
}

// Another live run holds the ledger: a clear error, nothing sent.
func TestLockedByAnotherRun(t *testing.T) {
	r := newRig(t)
	unlock, err := ledger.Lock(r.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	_, err = monitor.Deliver(context.Background(), r.eval(1, runAt(1), []alertSpec{fire("once", "T1", 1)}, nil), r.dl, runAt(1))
	if err == nil || !strings.Contains(err.Error(), "another run holds the ledger") || !strings.Contains(err.Error(), "locked by pid") {
		t.Errorf("err = %v, want a clear lock error", err)
	}
	if r.slack.Requests()+r.ding.Requests() != 0 {
		t.Error("sent while another run holds the ledger")
	}
}

// The ledger records each notification as pending before its digest is
// posted: a crash during the post leaves it pending, so the next run sends
// it (that one digest may repeat) and nothing else.
func TestPendingBeforeSend(t *testing.T) {
	r := newRig(t)
	var seen []ledger.Entry
	r.dl.Channels["ops-slack"] = monitor.Channel{Notifier: notifierFunc{"ops-slack", func(ctx context.Context, d *notify.Digest) error {
		l, err := ledger.OpenReadOnly(r.dir)
		if err != nil {
			t.Fatal(err)
		}
		seen = l.Pending()
		return context.Canceled // as if the process died here
	}}}
	r.run(step{day: 1, alerts: []alertSpec{fire("once", "T1", 1), fire("once", "T2", 1)}, sent: 2, failed: 2, pending: 2, ding: 2})
	var slackPending int
	for _, e := range seen {
		if e.Channel == "ops-slack" && e.Item != nil {
			slackPending++
		}
	}
	if slackPending != 2 {
		t.Errorf("on disk during the post: %d pending for ops-slack, want 2", slackPending)
	}
}

type notifierFunc struct {
	name string
	f    func(context.Context, *notify.Digest) error
}

func (n notifierFunc) Name() string                                       { return n.name }
func (n notifierFunc) Notify(ctx context.Context, d *notify.Digest) error { return n.f(ctx, d) }

// A HALF_HOUR rule's notifications are keyed by its own half-hour period,
// not by the run's day: two incidents on one day both resolve, and an
// hourly reminder comes every hour, not once a day.
func TestHalfHourPeriods(t *testing.T) {
	r := newRig(t)
	day := period(1)
	slot := func(n int) metrics.Window {
		s := day.Start.Add(time.Duration(n) * 30 * time.Minute)
		return metrics.Window{Start: s, End: s.Add(30 * time.Minute)}
	}
	run := func(n int, state string, since int, want int) {
		t.Helper()
		w := slot(n)
		res := rules.Result{Rule: r.rule("half-hourly"), Key: metrics.Key{Template: "T1", Language: "en"},
			State: state, Value: 3, Volume: 3, Summary: "T1 (en): few sent", Since: slot(since).Start, Period: w}
		if state == alert.Resolved {
			res.Duration = w.Start.Sub(res.Since)
		}
		ev := &monitor.Evaluation{At: w.End.Add(time.Minute), Period: day, Templates: 1, Results: []monitor.Result{{Result: res}}}
		before := len(r.slack.Messages())
		sum, err := monitor.Deliver(context.Background(), ev, r.dl, ev.At)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(r.slack.Messages()) - before; got != want || sum.Notifications.Sent != want {
			t.Errorf("slot %d (%s since %d): %d messages, %+v; want %d", n, state, since, got, sum.Notifications, want)
		}
	}
	run(1, alert.Firing, 1, 1)
	run(2, alert.Firing, 1, 0)
	run(3, alert.Firing, 1, 1) // an hour later: a reminder
	run(4, alert.Resolved, 1, 1)
	run(6, alert.Firing, 6, 1)
	run(7, alert.Resolved, 6, 1) // the day's second resolution
	run(7, alert.Resolved, 6, 0)
}
