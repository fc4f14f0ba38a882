package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/cams/camstest"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/monitor"
)

const sampleAt = "2026-11-24T09:00:00+08:00"

// The bundled sample's true incidents (see function/sim/sample).
var wantFiring = []string{
	"delivery-rate-drop 1100DLV0006 id",
	"read-rate-drop 1100SHOP0001 en",
	"dead-url-button 1100FLASH0002 en",
	"sends-stopped 1100WEEK0003 en",
}

func firing(s *monitor.Summary) []string {
	var out []string
	for _, a := range s.Alerts {
		if a.State == "firing" {
			out = append(out, a.Rule+" "+a.Template+" "+a.Language)
		}
	}
	slices.Sort(out)
	return out
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.cams.Fail("1100NEWS0007", 400, "Ram.PermissionDeny", "You are not authorized to perform the operation.")

	code, sum, stderr := r.run(t, "--at", sampleAt)
	if code != exitFailed {
		t.Errorf("exit %d, want %d (one template denied)\n%s", code, exitFailed, stderr)
	}
	want := slices.Clone(wantFiring)
	slices.Sort(want)
	if got := firing(sum); !slices.Equal(got, want) {
		t.Errorf("firing alerts:\n got %q\nwant %q", got, want)
	}
	if sum.Templates != 6 {
		t.Errorf("templates checked = %d, want 6 of 7 (one denied)", sum.Templates)
	}
	if len(sum.Errors) != 1 || sum.Errors[0].Template != "1100NEWS0007" || sum.Errors[0].Code != "Ram.PermissionDeny" {
		t.Errorf("errors = %+v, want the denied template", sum.Errors)
	}
	// Permission errors are permanent: asked once, not retried.
	if n := r.cams.Count("GetChatappTemplateMetric", "1100NEWS0007"); n != 1 {
		t.Errorf("denied template asked %d times, want 1", n)
	}
	wantPeriod := time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("", 8*3600))
	if !sum.Period.Start.Equal(wantPeriod) || !sum.Period.End.Equal(wantPeriod.AddDate(0, 0, 1)) {
		t.Errorf("period = %v–%v, want the day of %v", sum.Period.Start, sum.Period.End, wantPeriod)
	}
	if sum.Notifications.Sent != 8 || sum.Notifications.Pending != 0 || sum.Notifications.Failed != 0 {
		t.Errorf("notifications = %+v, want 4 alerts × 2 channels sent", sum.Notifications)
	}
	if sum.APICalls < 8 {
		t.Errorf("api_calls = %d, want at least one list and seven metric calls", sum.APICalls)
	}

	// One digest per channel, with every alert and the health note.
	sm := r.slack.Messages()
	if len(sm) != 1 {
		t.Fatalf("slack got %d messages, want 1 digest; problems: %v", len(sm), r.slack.Problems())
	}
	text := sm[0].BlockText()
	for _, w := range []string{"1100DLV0006", "1100SHOP0001", "1100FLASH0002", "1100WEEK0003", "1100NEWS0007", "Ram.PermissionDeny"} {
		if !strings.Contains(text, w) {
			t.Errorf("slack digest lacks %q:\n%s", w, text)
		}
	}
	for _, quiet := range []string{"1100BURST0004", "1100TINY0005"} {
		if strings.Contains(text, quiet) {
			t.Errorf("slack digest mentions %s, which had no incident", quiet)
		}
	}
	dm := r.ding.Messages()
	if len(dm) != 1 || len(r.ding.Problems()) != 0 {
		t.Fatalf("dingtalk got %d messages (problems %v), want 1 signed digest", len(dm), r.ding.Problems())
	}
	if !strings.Contains(dm[0].Text, "1100SHOP0001") || !strings.Contains(dm[0].Text, "Ram.PermissionDeny") {
		t.Errorf("dingtalk digest incomplete:\n%s", dm[0].Text)
	}
	// Names beside codes (ListChatappTemplate), the button's text although
	// the rule selects it by type, and a push text that says what happened.
	for _, w := range []string{"black_friday_shop_now · 1100SHOP0001 · en", "URL button “Shop now”: **0** clicks"} {
		if !strings.Contains(dm[0].Text, w) {
			t.Errorf("dingtalk digest lacks %q:\n%s", w, dm[0].Text)
		}
	}
	if want := "flash_sale_id (id): delivery rate fell to 47.6% (+3 more)"; sm[0].Text != want || dm[0].Title != want {
		t.Errorf("push texts %q (slack), %q (dingtalk), want %q", sm[0].Text, dm[0].Title, want)
	}
	for _, a := range sum.Alerts {
		if a.Template == "1100SHOP0001" && a.TemplateName != "black_friday_shop_now" {
			t.Errorf("summary alert %+v lacks the template name", a)
		}
	}

	// A rerun of the same moment (a manual rerun, an FC retry) sends nothing.
	code, sum, _ = r.run(t, "--at", sampleAt)
	if sum.Notifications.Sent != 0 || len(r.slack.Messages()) != 1 || len(r.ding.Messages()) != 1 {
		t.Errorf("rerun sent again: %+v, slack %d, dingtalk %d", sum.Notifications, len(r.slack.Messages()), len(r.ding.Messages()))
	}
	if code != exitFailed {
		t.Errorf("rerun exit %d, want %d (the template is still denied)", code, exitFailed)
	}
}

// TestRecoveryResolves: the day after, the read rate is back; the resolved
// message follows, once.
func TestRecoveryResolves(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	if code, _, stderr := r.run(t, "--at", sampleAt); code != exitOK {
		t.Fatalf("first run exit %d\n%s", code, stderr)
	}
	// Every template sends one more, normal, day.
	files, _ := filepath.Glob("../testdata/sample/1100*.json")
	var series []*metrics.Series
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := cams.Decode(body, metrics.Daily)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			last := s.Periods[len(s.Periods)-1]
			next := s.Periods[len(s.Periods)-2] // a normal day, one day later
			next.Start, next.End = last.End, last.End.Add(24*time.Hour)
			s.Periods = append(s.Periods, next)
		}
		series = append(series, ss...)
	}
	r.cams.SetSeries(series...)

	code, sum, stderr := r.run(t, "--at", "2026-11-25T09:00:00+08:00")
	var resolved []string
	for _, a := range sum.Alerts {
		if a.State == "resolved" {
			resolved = append(resolved, a.Rule+" "+a.Template+" "+a.Language)
		}
	}
	if !slices.Contains(resolved, "read-rate-drop 1100SHOP0001 en") {
		t.Fatalf("resolved = %q, want read-rate-drop 1100SHOP0001 en (exit %d)\n%s", resolved, code, stderr)
	}
	msgs := r.slack.Messages()
	last := msgs[len(msgs)-1].BlockText()
	if !strings.Contains(strings.ToLower(last), "resolved") || !strings.Contains(last, "1100SHOP0001") {
		t.Errorf("no resolved message after recovery:\n%s", last)
	}
	before := len(msgs)
	r.run(t, "--at", "2026-11-25T09:00:00+08:00")
	if after := len(r.slack.Messages()); after != before {
		t.Errorf("rerun after recovery sent %d more messages", after-before)
	}
}

// TestDryRunTouchesNothing: --dry-run posts nothing and writes no ledger.
func TestDryRunTouchesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	var stdout, stderr bytes.Buffer
	code := r.app().cli(context.Background(), []string{"run", "--dry-run", "--at", sampleAt}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	if r.slack.Requests() != 0 || r.ding.Requests() != 0 {
		t.Errorf("dry run posted: slack %d, dingtalk %d", r.slack.Requests(), r.ding.Requests())
	}
	if entries, _ := os.ReadDir(r.state); len(entries) != 0 {
		t.Errorf("dry run wrote to STATE_DIR: %v", entries)
	}
	out := stdout.String()
	// each message as its platform will show it, and a link that opens the
	// Slack one in Slack's own renderer
	for _, w := range []string{"would send to slack", "would send to dingtalk", "1100SHOP0001",
		"[push] flash_sale_id (id): delivery rate fell to 47.6% (+3 more)",
		"*black_friday_shop_now* · 1100SHOP0001 · en", "#### black_friday_shop_now · 1100SHOP0001 · en",
		"[Block Kit Builder] https://app.slack.com/block-kit-builder/#%7B%22blocks%22:%5B%7B%22type%22:%22header%22"} {
		if !strings.Contains(out, w) {
			t.Errorf("dry-run output lacks %q:\n%s", w, out)
		}
	}
	r.checkNoSecrets(t, "dry-run output", out+stderr.String())

	// --dry-run --json: the messages on stderr, the summary on stdout, and
	// it counts what would be sent, not as sent.
	code, sum, errs := r.run(t, "--dry-run", "--at", sampleAt)
	if code != exitOK || sum.Notifications.Sent != 0 || sum.Notifications.WouldSend != 8 {
		t.Errorf("dry run --json: exit %d, notifications %+v; want sent 0, would_send 8 (4 alerts × 2 channels)", code, sum.Notifications)
	}
	if !strings.Contains(errs, "would send to slack") {
		t.Errorf("dry run --json: the messages are not on stderr:\n%s", errs)
	}
}

func TestBadConfigExitsTwoAndFetchesNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.setenv("CAMS_QPS", "500")
	var stdout, stderr bytes.Buffer
	if code := r.app().cli(context.Background(), []string{"run", "--at", sampleAt}, &stdout, &stderr); code != exitConfig {
		t.Errorf("exit %d, want %d", code, exitConfig)
	}
	if !strings.Contains(stderr.String(), "CAMS_QPS") {
		t.Errorf("error does not name CAMS_QPS: %s", stderr.String())
	}
	if r.cams.Requests() != 0 || r.slack.Requests() != 0 {
		t.Errorf("bad config still fetched (%d) or sent (%d)", r.cams.Requests(), r.slack.Requests())
	}
}

// TestBinary runs the built dist/main-equivalent as a process: the exit code
// and the JSON on stdout are the contract with FC-less users and scripts.
func TestBinary(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	r := newRig(t)
	r.cams.Fail("1100NEWS0007", 400, "Ram.PermissionDeny", "You are not authorized to perform the operation.")
	bin := filepath.Join(t.TempDir(), "main")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "run", "--at", sampleAt, "--json")
	cmd.Env = r.environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err == nil || !errorsAs(err, &ee) || ee.ExitCode() != exitFailed {
		t.Fatalf("exit: %v, want %d\n%s", err, exitFailed, stderr.String())
	}
	r.checkNoSecrets(t, "the binary's output", stdout.String()+stderr.String())
	var raw map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &raw); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
	}
	for _, k := range []string{"at", "period", "templates", "api_calls", "retries", "alerts", "notifications", "errors"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	if len(r.slack.Messages()) != 1 || len(r.ding.Messages()) != 1 {
		t.Errorf("binary run posted slack %d, dingtalk %d; want one digest each", len(r.slack.Messages()), len(r.ding.Messages()))
	}

	// DEBUG=sdk would make the SDK print signed requests on stdout: refused.
	before := r.cams.Requests()
	cmd = exec.Command(bin, "run", "--at", sampleAt, "--json")
	cmd.Env = append(r.environ(), "DEBUG=tls,sdk")
	stdout.Reset()
	stderr.Reset()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if !errorsAs(err, &ee) || ee.ExitCode() != exitConfig || !strings.Contains(stderr.String(), "DEBUG=sdk") || r.cams.Requests() != before {
		t.Errorf("DEBUG=sdk: %v, %d requests\n%s", err, r.cams.Requests()-before, stderr.String())
	}
	r.checkNoSecrets(t, "the binary's output with DEBUG=sdk", stdout.String()+stderr.String())
}

func errorsAs(err error, target **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	if ok {
		*target = e
	}
	return ok
}

// TestEnableROI: enable-roi calls EnableWhatsappROIMetric once, signed, for
// the configured space; an API error is reported with its code (exit 1); a
// replay endpoint cannot enable anything (exit 2).
func TestEnableROI(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.setenv("CAMS_CUST_SPACE_ID", "cams-space-0001")
	code, out, errs := r.runRaw(t, "enable-roi")
	if code != exitOK || !strings.Contains(out, "enabled for space cams-space-0001") || !strings.Contains(out, "a day after") {
		t.Errorf("exit %d\n%s%s", code, out, errs)
	}
	if got := r.cams.ROIEnabled(); len(got) != 1 || got[0] != "cams-space-0001" {
		t.Errorf("EnableWhatsappROIMetric calls for spaces %q, want one for cams-space-0001", got)
	}

	r.cams.Fail(camstest.ActionEnableROI, 400, "Ram.PermissionDeny", "You are not authorized to perform the operation.")
	code, out, errs = r.runRaw(t, "enable-roi")
	if code != exitFailed || !strings.Contains(errs, "Ram.PermissionDeny") {
		t.Errorf("denied: exit %d\n%s%s", code, out, errs)
	}

	r.setenv("CAMS_ENDPOINT", "file://../testdata/sample")
	if code, _, errs := r.runRaw(t, "enable-roi"); code != exitConfig || !strings.Contains(errs, "replay") {
		t.Errorf("replay: exit %d\n%s", code, errs)
	}
}

// TestRuleSilences: a silence in the rules mutes its alert until it
// expires: still in the summary, with the reason, but not notified; the
// other alerts go out as usual. After it expires the alert is notified.
func TestRuleSilences(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	dir := t.TempDir()
	rules, err := os.ReadFile("../rules/marketing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	silence := "silences:\n  - match: {rule: read-rate-drop, template: \"1100SHOP*\"}\n" +
		"    until: \"2026-11-24T12:00:00+08:00\"\n    reason: campaign paused\n"
	for name, data := range map[string]string{"marketing.yaml": string(rules), "silences.yaml": silence} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.setenv("RULES_PATH", dir)
	code, sum, stderr := r.run(t, "--at", sampleAt)
	if code != exitOK || sum.Notifications.Sent != 6 {
		t.Fatalf("exit %d, %+v; want the 3 other alerts sent to both channels\n%s", code, sum.Notifications, stderr)
	}
	for _, a := range sum.Alerts {
		if silenced := a.Template == "1100SHOP0001" && a.Rule == "read-rate-drop"; silenced != strings.Contains(a.Silenced, "campaign paused") {
			t.Errorf("alert %s %s: silenced %q", a.Rule, a.Template, a.Silenced)
		}
	}
	// No alert line names it; the digests sent anyway end with a note of
	// what is silenced, why and until when.
	for _, p := range []struct{ name, text, mark string }{
		{"slack", r.slackText(), ":no_bell: *Silenced*"},
		{"dingtalk", r.dingText(), "🔕 Silenced"},
	} {
		platform, text := p.name, p.text
		alerts, note, _ := strings.Cut(text, p.mark)
		if strings.Contains(alerts, "1100SHOP0001") {
			t.Errorf("%s: the silenced alert was notified:\n%s", platform, text)
		}
		if !strings.Contains(note, "1100SHOP0001") || !strings.Contains(note, "campaign paused, until Tue 24 Nov 12:00") {
			t.Errorf("%s: no note of the silenced alert:\n%s", platform, text)
		}
	}
	// Expired: the same moment a day later is past until.
	slackBefore := len(r.slack.Messages())
	code, sum, _ = r.run(t, "--at", dayAfter)
	var after strings.Builder
	for _, m := range r.slack.Messages()[slackBefore:] {
		after.WriteString(m.BlockText())
	}
	if code != exitOK || !strings.Contains(after.String(), "1100SHOP0001") || strings.Contains(after.String(), "Silenced") {
		t.Errorf("after the silence expired: exit %d, %+v; want 1100SHOP0001 notified, nothing silenced:\n%s", code, sum.Notifications, after.String())
	}
}
