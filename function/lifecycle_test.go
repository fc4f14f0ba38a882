package main

// Process-level tests of the alert lifecycle (docs/operations.md): crashes between a
// post and the ledger write, FC retries, reruns, reminders, pending
// notifications and the exit status, through the CLI and the FC handler.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/monitor"
)

const dayAfter = "2026-11-25T09:00:00+08:00"

func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "main")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// holdingProxy stands in front of the fake Slack. While hold is set, the
// first request is handed to the fake (which records the message: Slack
// has it) and then its response is held until the client goes away: the
// process is killed after the POST and before it hears "ok".
type holdingProxy struct {
	*httptest.Server
	hold    atomic.Bool
	arrived chan struct{}
	once    sync.Once
}

func newHoldingProxy(t *testing.T, next http.Handler) *holdingProxy {
	p := &holdingProxy{arrived: make(chan struct{})}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.hold.Load() {
			next.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		p.once.Do(func() { close(p.arrived) })
		<-r.Context().Done()
	}))
	t.Cleanup(p.Server.Close)
	return p
}

func countIn(msgs []string, s string) int {
	n := 0
	for _, m := range msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// TestCrashBetweenPostAndLedgerWrite kills the process after Slack received
// its digest and before the ledger recorded it. The rerun repeats that one
// in-flight digest (at most twice in total) and nothing else: the DingTalk
// digest, recorded before the crash, is not repeated, and a third run sends
// nothing. The killed run's lock does not block the rerun.
func TestCrashBetweenPostAndLedgerWrite(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	r := newRig(t)
	proxy := newHoldingProxy(t, r.slack.Server.Config.Handler)
	r.setenv("SLACK_WEBHOOK_URL", proxy.URL+"/services/T0000TEST/B0000TEST/"+r.slack.WebhookToken)

	proxy.hold.Store(true)
	cmd := exec.Command(bin, "run", "--at", sampleAt, "--json")
	cmd.Env = r.environ()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-proxy.arrived:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("the Slack POST never arrived\n%s", stderr.String())
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	proxy.hold.Store(false)

	if _, err := os.Stat(filepath.Join(r.state, ledger.LockFileName)); err != nil {
		t.Errorf("the killed run left no lock (%v): the takeover is not exercised", err)
	}
	l, err := ledger.OpenReadOnly(r.state)
	if err != nil {
		t.Fatal(err)
	}
	var pendingSlack, sentDing int
	for _, e := range l.Entries() {
		switch {
		case e.Channel == envSlack && e.Status == ledger.StatusPending && e.Item != nil:
			pendingSlack++
		case e.Channel == envDingTalk && e.Status == ledger.StatusSent && e.Item == nil && e.Transition == ledger.Firing:
			sentDing++
		}
	}
	if pendingSlack != len(wantFiring) || sentDing != len(wantFiring) {
		t.Fatalf("ledger after the crash: %d pending for slack, %d sent to dingtalk; want %d each", pendingSlack, sentDing, len(wantFiring))
	}
	if len(r.slack.Messages()) != 1 || len(r.ding.Messages()) != 1 {
		t.Fatalf("before the rerun: slack %d, dingtalk %d messages; want 1 each", len(r.slack.Messages()), len(r.ding.Messages()))
	}

	// The rerun (a manual rerun or FC's retry of the same moment).
	code, sum := runBinary(t, r, bin, "run", "--at", sampleAt, "--json")
	if code != exitOK {
		t.Errorf("rerun exit %d, want 0", code)
	}
	if sum.Notifications != (monitor.Counts{Sent: len(wantFiring)}) {
		t.Errorf("rerun notifications %+v, want the %d pending for slack sent", sum.Notifications, len(wantFiring))
	}
	// A third run sends nothing at all.
	if code, sum = runBinary(t, r, bin, "run", "--at", sampleAt, "--json"); code != exitOK || sum.Notifications.Sent != 0 {
		t.Errorf("third run: exit %d, %+v; want 0 and nothing sent", code, sum.Notifications)
	}

	var slackTexts, dingTexts []string
	for _, m := range r.slack.Messages() {
		slackTexts = append(slackTexts, m.BlockText())
	}
	for _, m := range r.ding.Messages() {
		dingTexts = append(dingTexts, m.Text)
	}
	t.Logf("in-flight slack digest arrived %d times; dingtalk digest %d times", len(slackTexts), len(dingTexts))
	if len(slackTexts) != 2 || slackTexts[0] != slackTexts[1] {
		t.Errorf("slack got %d messages, want the in-flight digest exactly twice, identical", len(slackTexts))
	}
	if len(dingTexts) != 1 {
		t.Errorf("dingtalk got %d messages, want 1: it was recorded before the crash", len(dingTexts))
	}
	for _, a := range wantFiring {
		tpl := strings.Fields(a)[1]
		if n := countIn(slackTexts, tpl); n != 2 {
			t.Errorf("slack: %s in %d messages, want 2 (the in-flight digest and its repeat)", tpl, n)
		}
		if n := countIn(dingTexts, tpl); n != 1 {
			t.Errorf("dingtalk: %s in %d messages, want exactly 1", tpl, n)
		}
	}
	if p := append(r.slack.Problems(), r.ding.Problems()...); len(p) > 0 {
		t.Errorf("rejected payloads: %v", p)
	}
}

func runBinary(t *testing.T, r *rig, bin string, args ...string) (int, *monitor.Summary) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = r.environ()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	var sum monitor.Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("stdout is not a summary: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	return code, &sum
}

func timer(at string) events.TimerEvent {
	name := "daily"
	return events.TimerEvent{TriggerTime: &at, TriggerName: &name}
}

// TestFCRetry calls the FC handler as FC does. It fails only while a
// notification is pending; FC's retry of the same event delivers it; any
// further retry sends nothing.
func TestFCRetry(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.ding.BadSignNext(1)
	ctx := context.Background()

	sum, err := r.app().handle(ctx, timer(sampleAt))
	if err == nil || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("handler error = %v, want one saying notifications are pending (so that FC retries)", err)
	}
	if sum == nil || sum.Notifications.Pending != len(wantFiring) || sum.Notifications.Sent != len(wantFiring) {
		t.Fatalf("first invocation: %+v, want slack sent and dingtalk pending", sum)
	}
	// The health message on the other default channel says DingTalk
	// failed, with the errcode and a hint.
	if sm := r.slack.Messages(); len(sm) != 1 || !strings.Contains(sm[0].BlockText(), "310000") ||
		!strings.Contains(sm[0].BlockText(), "secret") {
		t.Errorf("slack got %d messages, want the digest with a health note on DingTalk's 310000 and a hint", len(sm))
	}

	// FC retries the same event (hours later: the same period).
	sum, err = r.app().handle(ctx, timer(sampleAt))
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if sum.Notifications != (monitor.Counts{Sent: len(wantFiring)}) {
		t.Errorf("retry: %+v, want dingtalk's %d delivered", sum.Notifications, len(wantFiring))
	}
	sum, err = r.app().handle(ctx, timer(sampleAt))
	if err != nil || sum.Notifications.Sent != 0 {
		t.Errorf("second retry: %v, %+v; want nothing sent, no error", err, sum.Notifications)
	}
	if len(r.slack.Messages()) != 1 || len(r.ding.Messages()) != 1 {
		t.Errorf("slack %d, dingtalk %d messages; want 1 each", len(r.slack.Messages()), len(r.ding.Messages()))
	}
	// A permanent problem (a template denied) is not something FC's retry
	// fixes: reported, exit status 1 on the CLI, but no handler error.
	r.cams.Fail("1100NEWS0007", 400, "Ram.PermissionDeny", "denied")
	if _, err := r.app().handle(ctx, timer(dayAfter)); err != nil {
		t.Errorf("handler failed without anything pending: %v", err)
	}
}

// TestPendingExitStatus: a notification that could not be delivered makes
// the run exit 1; the next run, although it evaluates a later period,
// delivers it and exits 0.
func TestPendingExitStatus(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.ding.FailNext(1, http.StatusNotFound, "no such robot")
	code, sum, stderr := r.run(t, "--at", sampleAt)
	if code != exitFailed || sum.Notifications.Pending != len(wantFiring) {
		t.Fatalf("exit %d, %+v; want 1 with dingtalk pending\n%s", code, sum.Notifications, stderr)
	}
	if !strings.Contains(stderr, "no such robot") {
		t.Errorf("the platform's answer is not in the log:\n%s", stderr)
	}
	stillFiring(t, r)
	code, sum, stderr = r.run(t, "--at", dayAfter)
	if code != exitOK || sum.Notifications.Pending != 0 {
		t.Fatalf("next run: exit %d, %+v\n%s", code, sum.Notifications, stderr)
	}
	dm := r.ding.Messages()
	if len(dm) != 1 {
		t.Fatalf("dingtalk got %d messages, want 1 digest", len(dm))
	}
	// DingTalk hears the firing it missed (not a reminder: it never heard
	// it); Slack, which did, hears a reminder.
	if text := dm[0].Text; strings.Contains(text, "still firing") || !strings.Contains(text, "1100SHOP0001") {
		t.Errorf("dingtalk digest:\n%s", text)
	}
	if sm := r.slack.Messages(); len(sm) != 2 || !strings.Contains(sm[1].BlockText(), "still firing") {
		t.Errorf("slack got %d messages, want the digest and a reminder", len(sm))
	}
}

// stillFiring makes the sample's last (incident) day repeat the next day.
func stillFiring(t *testing.T, r *rig) {
	t.Helper()
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
			next := last
			next.Start, next.End = last.End, last.End.Add(24*time.Hour)
			s.Periods = append(s.Periods, next)
		}
		series = append(series, ss...)
	}
	r.cams.SetSeries(series...)
}

// TestRepeatEvery: the shipped rules remind once a day. A run a day later
// (evaluated with --at, whatever the wall clock says) with the alert still
// firing sends a reminder, once.
func TestRepeatEvery(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	if code, _, stderr := r.run(t, "--at", sampleAt); code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	stillFiring(t, r)
	code, sum, stderr := r.run(t, "--at", dayAfter)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	msgs := r.slack.Messages()
	if len(msgs) != 2 {
		t.Fatalf("slack got %d messages, want the digest and a reminder (%+v)", len(msgs), sum.Notifications)
	}
	if text := msgs[1].BlockText(); !strings.Contains(text, "still firing") || !strings.Contains(text, "1100SHOP0001") {
		t.Errorf("reminder:\n%s", text)
	}
	if code, sum, _ = r.run(t, "--at", dayAfter); code != exitOK || sum.Notifications.Sent != 0 || len(r.slack.Messages()) != 2 {
		t.Errorf("rerun of the day after sent again: %+v", sum.Notifications)
	}
}

// TestLockedByLiveRun: another live run holds the ledger: a clear error and
// exit 1, nothing sent (FC's retry comes after that run).
func TestLockedByLiveRun(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	unlock, err := ledger.Lock(r.state)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	var stdout, stderr bytes.Buffer
	code := r.app().cli(context.Background(), []string{"run", "--at", sampleAt}, &stdout, &stderr)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	if !strings.Contains(stderr.String(), "another run holds the ledger") || !strings.Contains(stderr.String(), "locked by pid") {
		t.Errorf("unclear error:\n%s", stderr.String())
	}
	if r.slack.Requests()+r.ding.Requests() != 0 {
		t.Error("sent while the ledger was locked")
	}
}

// TestDryRunLeavesLedgerIdentical: after real runs (one notification
// pending), a dry run leaves STATE_DIR byte-identical.
func TestDryRunLeavesLedgerIdentical(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.ding.FailNext(1, http.StatusNotFound, "no such robot")
	r.run(t, "--at", sampleAt)
	before := dirSnapshot(t, r.state)
	var stdout, stderr bytes.Buffer
	if code := r.app().cli(context.Background(), []string{"run", "--dry-run", "--at", dayAfter}, &stdout, &stderr); code != exitOK {
		t.Errorf("dry run exit %d\n%s", code, stderr.String())
	}
	if after := dirSnapshot(t, r.state); after != before {
		t.Errorf("dry run changed STATE_DIR")
	}
	if !strings.Contains(stdout.String(), "would send to dingtalk") {
		t.Errorf("dry run does not show the pending dingtalk digest:\n%s", stdout.String())
	}
}

func dirSnapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(p + " " + info.Mode().String() + " " + info.ModTime().String() + "\n")
		if !info.IsDir() {
			data, _ := os.ReadFile(p)
			b.Write(data)
		}
		return nil
	})
	return b.String()
}
