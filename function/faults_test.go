package main

// Fault injection, end to end: the CLI against the local CAMS server (and a
// fault-injecting proxy in front of it), the fake Slack and DingTalk robots
// and a STATE_DIR, each misbehaving in one way. Every case states what the
// user sees (exit code, summary, health message) and what is not lost. Every
// run also checks that no secret shows anywhere (see rig.run).

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams/camstest"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/monitor"
	"github.com/cams-alert/cams-alert/function/notify"
)

// without returns wantFiring without the alerts of template.
func without(template string) []string {
	var out []string
	for _, f := range wantFiring {
		if !strings.Contains(f, " "+template+" ") {
			out = append(out, f)
		}
	}
	return out
}

func errorKeys(s *monitor.Summary) []string {
	var out []string
	for _, e := range s.Errors {
		out = append(out, strings.TrimSpace(e.Template+" "+e.Code))
	}
	slices.Sort(out)
	return out
}

// expect is what the user sees after one run.
type expect struct {
	code       int
	firing     []string // nil: every incident of the sample (wantFiring)
	errors     []string // "TEMPLATE CODE" of the summary's errors
	minRetries int64
	sent       int      // notifications sent (alerts × channels)
	pending    int      // notifications left pending in the ledger
	health     []string // the health message (both digests) says these; nil: no health message
}

func (w expect) check(t *testing.T, r *rig, code int, sum *monitor.Summary, stderr string) {
	t.Helper()
	if code != w.code {
		t.Errorf("exit %d, want %d\n%s", code, w.code, stderr)
	}
	wantF := w.firing
	if wantF == nil {
		wantF = wantFiring
	}
	wantF = slices.Clone(wantF)
	slices.Sort(wantF)
	if got := firing(sum); !slices.Equal(got, wantF) {
		t.Errorf("firing alerts:\n got %q\nwant %q", got, wantF)
	}
	if got := errorKeys(sum); !slices.Equal(got, w.errors) {
		t.Errorf("summary errors = %q, want %q (%+v)", got, w.errors, sum.Errors)
	}
	if sum.Retries < w.minRetries {
		t.Errorf("retries = %d, want at least %d", sum.Retries, w.minRetries)
	}
	if sum.Notifications.Sent != w.sent || sum.Notifications.Pending != w.pending {
		t.Errorf("notifications = %+v, want sent %d, pending %d", sum.Notifications, w.sent, w.pending)
	}
	st, dt := r.slackText(), r.dingText()
	if len(w.health) == 0 {
		if strings.Contains(st, "Monitor health") || strings.Contains(dt, "Monitor health") {
			t.Errorf("unexpected health message:\n%s\n%s", st, dt)
		}
	}
	for _, h := range w.health {
		if !strings.Contains(st, h) {
			t.Errorf("Slack's health message lacks %q:\n%s", h, st)
		}
		if !strings.Contains(dt, h) {
			t.Errorf("DingTalk's health message lacks %q:\n%s", h, dt)
		}
	}
	if p := append(r.slack.Problems(), r.ding.Problems()...); len(p) > 0 {
		t.Errorf("the fakes rejected payloads: %q", p)
	}
}

// TestCAMSFaults: the API throttles, fails, resets, stalls, denies or
// answers with nothing.
func TestCAMSFaults(t *testing.T) {
	t.Parallel()
	throttle := func(tmpl string) func(*testing.T, *rig) {
		return func(_ *testing.T, r *rig) {
			r.cams.Fail(tmpl, 400, "System.LimitControl", "The system is under flow control.")
		}
	}
	cases := []struct {
		name  string
		args  []string // extra run flags
		setup func(*testing.T, *rig)
		want  expect
		after func(*testing.T, *rig, *monitor.Summary)
	}{{
		// A throttling storm: half of all calls refused for a second. Calls
		// are retried with backoff (the last of 5 attempts comes 1.5 s or more
		// after the first), so the storm passes: everything is checked and
		// sent, and the summary counts the retries.
		name: "throttling storm 50% for 1s",
		setup: func(t *testing.T, r *rig) {
			r.cams.SetThrottle(0.5)
			tm := time.AfterFunc(time.Second, func() { r.cams.SetThrottle(0) })
			t.Cleanup(func() { tm.Stop() })
		},
		want: expect{code: exitOK, minRetries: 1, sent: 8},
		after: func(t *testing.T, r *rig, _ *monitor.Summary) {
			if r.cams.Throttled() == 0 {
				t.Error("the storm throttled nothing")
			}
		},
	}, {
		// Throttled for longer than the run's budget (4s here): the client
		// keeps retrying with backoff while the budget lasts, then that
		// template is reported as not checked, in the summary and the health
		// message; every other alert is delivered. Exit 1.
		name:  "one template throttled past the run's budget",
		args:  []string{"--budget", "4s"},
		setup: throttle("1100SHOP0001"),
		want: expect{code: exitFailed, firing: without("1100SHOP0001"), errors: []string{"1100SHOP0001 Budget.Exhausted"},
			minRetries: 4, sent: 6, health: []string{"1100SHOP0001", "Budget.Exhausted", "System.LimitControl"}},
		after: func(t *testing.T, r *rig, _ *monitor.Summary) {
			if n := r.cams.Count(camstest.ActionMetric, "1100SHOP0001"); n < 5 {
				t.Errorf("throttled template asked %d times, want retries while the budget lasts", n)
			}
		},
	}, {
		// Two 503s, then the API recovers: retried, nothing lost.
		name: "5xx twice, then recovery",
		setup: func(_ *testing.T, r *rig) {
			r.cams.FailTimes("1100SHOP0001", 2, 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server.")
		},
		want: expect{code: exitOK, minRetries: 2, sent: 8},
	}, {
		// An HTML error page from a gateway (the SDK can choke on such
		// bodies): read as a retryable HTTP error, retried, nothing lost.
		name: "502 HTML body, then recovery",
		setup: func(_ *testing.T, r *rig) {
			r.cams.Respond("1100SHOP0001", 2, 502, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		},
		want: expect{code: exitOK, minRetries: 2, sent: 8},
	}, {
		// The connection is reset (RST) twice: retried, nothing lost.
		name: "connection reset twice",
		setup: func(t *testing.T, r *rig) {
			resets := r.proxy(t, func(tmpl string, n int) (time.Duration, bool) {
				return 0, tmpl == "1100SHOP0001" && n <= 2
			})
			t.Cleanup(func() {
				if resets() != 2 {
					t.Errorf("proxy reset %d connections, want 2", resets())
				}
			})
		},
		want: expect{code: exitOK, minRetries: 2, sent: 8},
	}, {
		// The first answer comes after the client's read timeout (shortened
		// to 300ms for the test; 10s in production): the call is abandoned
		// and retried, nothing lost.
		name: "read timeout once",
		setup: func(t *testing.T, r *rig) {
			shortReadTimeout(r)
			r.proxy(t, func(tmpl string, n int) (time.Duration, bool) {
				if tmpl == "1100SHOP0001" && n == 1 {
					return 3 * time.Second, false
				}
				return 0, false
			})
		},
		want: expect{code: exitOK, minRetries: 1, sent: 8},
	}, {
		// Failures that outlast the retries, one kind per template: a
		// persistent 500 (SHOP), every connection reset (FLASH), every answer
		// later than the read timeout (DLV). Each template is reported as not
		// checked with its cause, in the summary and the health message; the
		// other templates' alerts are delivered. Exit 1. (One run for the
		// three, as the retries' backoff takes seconds.)
		name: "persistent 500, resets and read timeouts",
		setup: func(t *testing.T, r *rig) {
			shortReadTimeout(r)
			r.cams.Fail("1100SHOP0001", 500, "InternalError", "The request processing has failed due to some unknown error.")
			r.proxy(t, func(tmpl string, n int) (time.Duration, bool) {
				switch tmpl {
				case "1100FLASH0002":
					return 0, true
				case "1100DLV0006":
					return 3 * time.Second, false
				}
				return 0, false
			})
		},
		want: expect{code: exitFailed, firing: []string{"sends-stopped 1100WEEK0003 en"},
			errors:     []string{"1100DLV0006 Net.Timeout", "1100FLASH0002 Net.Connection", "1100SHOP0001 InternalError"},
			minRetries: 12, sent: 2,
			health: []string{"1100SHOP0001", "InternalError", "1100FLASH0002", "Net.Connection", "1100DLV0006", "Net.Timeout"}},
	}, {
		// A 1 GB body (chunked, so only reading shows its size): reading
		// stops at the 8 MiB limit, the template is reported with
		// Response.TooLarge, asked once; the others are delivered.
		name: "1 GB body on one template",
		setup: func(_ *testing.T, r *rig) {
			r.cams.Handle("1100SHOP0001", -1, camstest.HugeBody(1<<30, false))
		},
		want: expect{code: exitFailed, firing: without("1100SHOP0001"), errors: []string{"1100SHOP0001 Response.TooLarge"},
			sent: 6, health: []string{"1100SHOP0001", "Response.TooLarge"}},
		after: func(t *testing.T, r *rig, _ *monitor.Summary) {
			if n := r.cams.Count(camstest.ActionMetric, "1100SHOP0001"); n != 1 {
				t.Errorf("the template was asked %d times, want 1", n)
			}
		},
	}, {
		// The connection drops in the middle of a body that has no length:
		// the JSON ends early, which is a dropped connection, retried.
		name: "connection dropped mid-body once",
		setup: func(_ *testing.T, r *rig) {
			body := []byte(`{"RequestId":"R-CUT","Code":"OK","Data":[{"Start":1790784000000,"SentCount":5}]}`)
			r.cams.Handle("1100SHOP0001", 1, camstest.DropMidBody(body, 50, true))
		},
		want: expect{code: exitOK, minRetries: 1, sent: 8},
	}, {
		// Permission denied on one template: permanent, asked once, not
		// retried; the health message names the template and the code.
		name: "permission denied on one template",
		setup: func(_ *testing.T, r *rig) {
			r.cams.Fail("1100NEWS0007", 400, "Ram.PermissionDeny", "You are not authorized to perform the operation.")
		},
		want: expect{code: exitFailed, errors: []string{"1100NEWS0007 Ram.PermissionDeny"}, sent: 8,
			health: []string{"1100NEWS0007", "Ram.PermissionDeny"}},
		after: func(t *testing.T, r *rig, _ *monitor.Summary) {
			if n := r.cams.Count(camstest.ActionMetric, "1100NEWS0007"); n != 1 {
				t.Errorf("denied template asked %d times, want 1", n)
			}
		},
	}, {
		// Listing the templates is denied: nothing can be checked. The
		// summary and the health message say why; exit 1.
		name: "ListChatappTemplate denied",
		setup: func(_ *testing.T, r *rig) {
			r.cams.Fail(camstest.ListKey, 400, "Ram.PermissionDeny", "You are not authorized to perform the operation.")
		},
		want: expect{code: exitFailed, firing: []string{}, errors: []string{"Ram.PermissionDeny"},
			health: []string{"Ram.PermissionDeny"}},
	}, {
		// Every template answers with an empty Data: the ROI metric is not
		// enabled. The health message and the summary (a NoData error) say
		// so, and the run exits 1: nothing was really evaluated.
		name: "empty Data for every template",
		setup: func(_ *testing.T, r *rig) {
			files, _ := filepath.Glob("../testdata/sample/1100*.json")
			for _, f := range files {
				r.cams.SetMetrics(strings.TrimSuffix(filepath.Base(f), ".json"))
			}
		},
		want: expect{code: exitFailed, firing: []string{}, errors: []string{monitor.CodeNoData},
			health: []string{"NoData", "ROI metric"}},
		after: func(t *testing.T, _ *rig, sum *monitor.Summary) {
			if sum.Templates != 7 {
				t.Errorf("templates = %d, want 7 (all asked, all empty)", sum.Templates)
			}
		},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.fast(t)
			c.setup(t, r)
			start := time.Now()
			code, sum, stderr := r.run(t, append([]string{"--at", sampleAt}, c.args...)...)
			t.Logf("run took %v", time.Since(start).Round(time.Millisecond))
			c.want.check(t, r, code, sum, stderr)
			if c.after != nil {
				c.after(t, r, sum)
			}
			// One digest per channel, whatever happened.
			if n, m := len(r.slack.Messages()), len(r.ding.Messages()); n != 1 || m != 1 {
				t.Errorf("slack got %d messages, dingtalk %d; want one digest each", n, m)
			}
		})
	}
}

func shortReadTimeout(r *rig) { r.tune.camsReadTimeout = 300 * time.Millisecond }

func shortWebhookTimeout(r *rig) { r.tune.webhookTimeout = 300 * time.Millisecond }

// TestWebhookFaults: the chat platforms hang, fail, throttle or refuse.
// A notification that was not delivered stays pending in the ledger; the
// next run delivers exactly it (and repeats nothing that was delivered).
func TestWebhookFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string // more flags for the first run
		setup func(*testing.T, *rig)
		want  expect
		// requests the fakes received in the first run
		slackReqs, dingReqs int
		// the channel that failed, which the other one's health section names
		failed string
	}{{
		// Slack holds the first request past the client's timeout: retried.
		name:      "slack hangs once",
		setup:     func(t *testing.T, r *rig) { shortWebhookTimeout(r); r.slack.HangNext(1, 5*time.Second) },
		want:      expect{code: exitOK, sent: 8},
		slackReqs: 2, dingReqs: 1,
	}, {
		name:      "slack 500 once",
		setup:     func(_ *testing.T, r *rig) { r.slack.FailNext(1, 500, "internal_error") },
		want:      expect{code: exitOK, sent: 8},
		slackReqs: 2, dingReqs: 1,
	}, {
		// 429 with Retry-After: waited out and retried within the run.
		name:      "slack 429 once",
		setup:     func(_ *testing.T, r *rig) { r.slack.RateLimitNext(1, 1) },
		want:      expect{code: exitOK, sent: 8},
		slackReqs: 2, dingReqs: 1,
	}, {
		// Slack hangs on every attempt: 5 attempts, then the 4 alerts stay
		// pending; exit 1. DingTalk got its digest before Slack failed, so it
		// then gets a short health-only message saying Slack is unreachable.
		name:      "slack hangs every time",
		setup:     func(t *testing.T, r *rig) { shortWebhookTimeout(r); r.slack.HangNext(5, 5*time.Second) },
		want:      expect{code: exitFailed, sent: 4, pending: 4},
		slackReqs: 5, dingReqs: 2, failed: "slack",
	}, {
		// DingTalk answers 502 on every attempt: pending, exit 1, and the
		// Slack digest's health section says the robot is unreachable.
		name:      "dingtalk 502 every time",
		setup:     func(_ *testing.T, r *rig) { r.ding.FailNext(5, 502, "<html>bad gateway</html>") },
		want:      expect{code: exitFailed, sent: 4, pending: 4},
		slackReqs: 1, dingReqs: 5, failed: "dingtalk",
	}, {
		// 429 without Retry-After: treated as DingTalk's rate block, a
		// minute's wait, which the run's budget allows.
		name:      "dingtalk 429",
		setup:     func(_ *testing.T, r *rig) { r.ding.FailNext(1, 429, "too many requests") },
		want:      expect{code: exitOK, sent: 8},
		slackReqs: 1, dingReqs: 2,
	}, {
		// errcode 130101 (20 a minute exceeded): the minute it asks for is
		// waited out within the run's budget, and the digest goes out.
		name:      "dingtalk errcode 130101",
		setup:     func(_ *testing.T, r *rig) { r.ding.RateLimitNext(1) },
		want:      expect{code: exitOK, sent: 8},
		slackReqs: 1, dingReqs: 2,
	}, {
		// The same with a budget too short for the wait: not waited out;
		// pending for the next run.
		name:      "dingtalk errcode 130101 past the budget",
		args:      []string{"--budget", "20s"},
		setup:     func(_ *testing.T, r *rig) { r.ding.RateLimitNext(1) },
		want:      expect{code: exitFailed, sent: 4, pending: 4},
		slackReqs: 1, dingReqs: 1, failed: "dingtalk",
	}, {
		// errcode 310000 (bad sign, keyword or IP): permanent, not retried;
		// the Slack digest's health section says what to check.
		name:      "dingtalk errcode 310000",
		setup:     func(_ *testing.T, r *rig) { r.ding.BadSignNext(1) },
		want:      expect{code: exitFailed, sent: 4, pending: 4},
		slackReqs: 1, dingReqs: 1, failed: "dingtalk",
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.fast(t)
			c.setup(t, r)
			code, sum, stderr := r.run(t, append([]string{"--at", sampleAt}, c.args...)...)
			if code != c.want.code {
				t.Errorf("exit %d, want %d\n%s", code, c.want.code, stderr)
			}
			if got := firing(sum); len(got) != len(wantFiring) {
				t.Errorf("firing = %q, want every incident", got)
			}
			if sum.Notifications.Sent != c.want.sent || sum.Notifications.Pending != c.want.pending ||
				sum.Notifications.Failed != c.want.pending {
				t.Errorf("notifications = %+v, want sent %d, failed and pending %d", sum.Notifications, c.want.sent, c.want.pending)
			}
			if s, d := r.slack.Requests(), r.ding.Requests(); s != c.slackReqs || d != c.dingReqs {
				t.Errorf("requests: slack %d, dingtalk %d; want %d, %d", s, d, c.slackReqs, c.dingReqs)
			}
			if p := append(r.slack.Problems(), r.ding.Problems()...); len(p) > 0 {
				t.Errorf("the fakes rejected payloads: %q", p)
			}
			if c.failed != "" {
				// the other channel's health section names the failed one
				// and shows its URL redacted
				other, url := r.slackText(), r.ding.Server.URL+"/robot/…"
				if c.failed == "slack" {
					other, url = r.dingText(), r.slack.Server.URL+"/services/…"
				}
				for _, w := range []string{"channel " + c.failed + " could not be reached", url} {
					if !strings.Contains(other, w) {
						t.Errorf("the other channel's health section lacks %q:\n%s", w, other)
					}
				}
				if !strings.Contains(stderr, "delivery failed") {
					t.Errorf("stderr does not log the failed delivery:\n%s", stderr)
				}
			}
			if c.want.pending == 0 {
				return
			}
			// What is kept: the next run delivers exactly the pending digest.
			slackBefore, dingBefore := len(r.slack.Messages()), len(r.ding.Messages())
			code, sum, stderr = r.run(t, "--at", sampleAt)
			if code != exitOK || sum.Notifications.Sent != 4 || sum.Notifications.Pending != 0 {
				t.Errorf("rerun: exit %d, notifications %+v; want 0 and the 4 pending sent\n%s", code, sum.Notifications, stderr)
			}
			sAfter, dAfter := len(r.slack.Messages()), len(r.ding.Messages())
			if sAfter+dAfter-slackBefore-dingBefore != 1 {
				t.Errorf("rerun sent slack %d, dingtalk %d messages; want one digest to the channel that failed",
					sAfter-slackBefore, dAfter-dingBefore)
			}
			code, sum, _ = r.run(t, "--at", sampleAt)
			if code != exitOK || sum.Notifications.Sent != 0 || len(r.slack.Messages()) != sAfter || len(r.ding.Messages()) != dAfter {
				t.Errorf("third run: exit %d, %+v: sent again", code, sum.Notifications)
			}
		})
	}
}

// TestStateDirFaults: the ledger's directory is unusable, full, corrupt or
// locked. No alert is sent that the ledger cannot record (every run and FC
// retry would send it again); the health message, stderr and the summary
// say what is wrong.
func TestStateDirFaults(t *testing.T) {
	t.Parallel()
	t.Run("STATE_DIR under a regular file", func(t *testing.T) {
		t.Parallel()
		// As root, permissions do not stop writes: a STATE_DIR whose parent
		// is a file cannot be created by anyone.
		r := newRig(t)
		file := filepath.Join(t.TempDir(), "not-a-dir")
		if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		r.setenv("STATE_DIR", filepath.Join(file, "state"))
		unwritableLedger(t, r)
	})
	t.Run("read-only mount", func(t *testing.T) {
		t.Parallel()
		dir := mountTmpfs(t, "ro,size=64k")
		r := newRig(t)
		r.setenv("STATE_DIR", dir)
		unwritableLedger(t, r)
	})
	t.Run("full disk", func(t *testing.T) {
		t.Parallel()
		dir := mountTmpfs(t, "size=64k")
		fill(t, dir)
		r := newRig(t)
		r.setenv("STATE_DIR", dir)
		unwritableLedger(t, r)
	})
	t.Run("corrupt ledger", func(t *testing.T) {
		t.Parallel()
		// The ledger file is garbage: it is kept aside (not deleted), the
		// run starts from an empty ledger and sends (the alerts may be
		// repeated once), and the health message says so. Exit 0.
		r := newRig(t)
		path := filepath.Join(r.state, ledger.FileName)
		if err := os.WriteFile(path, []byte("{\"version\":1,\"entries\":[{\"alert\":"), 0o644); err != nil {
			t.Fatal(err)
		}
		code, sum, stderr := r.run(t, "--at", sampleAt)
		expect{code: exitOK, sent: 8, health: []string{"Ledger.Corrupt", "kept aside"}}.check(t, r, code, sum, stderr)
		kept, _ := filepath.Glob(path + ".corrupt-*")
		if len(kept) != 1 {
			t.Errorf("corrupt ledger kept as %q, want one copy", kept)
		}
		// The new ledger works: a rerun repeats nothing.
		code, sum, _ = r.run(t, "--at", sampleAt)
		if code != exitOK || sum.Notifications.Sent != 0 || len(r.slack.Messages()) != 1 {
			t.Errorf("rerun after recovery: exit %d, %+v, %d slack messages", code, sum.Notifications, len(r.slack.Messages()))
		}
	})
	t.Run("ledger locked by another run", func(t *testing.T) {
		t.Parallel()
		// Another run holds the lock: this one evaluates, reports, sends
		// nothing (the other run is sending) and exits 1; the summary is
		// still printed. Nothing is lost: the next run sends what is due.
		r := newRig(t)
		unlock, err := ledger.Lock(r.state)
		if err != nil {
			t.Fatal(err)
		}
		code, sum, stderr := r.run(t, "--at", sampleAt)
		unlock()
		if code != exitFailed || !strings.Contains(stderr, "another run holds the ledger") {
			t.Errorf("exit %d, want 1 with the lock named\n%s", code, stderr)
		}
		if len(firing(sum)) != len(wantFiring) || r.slack.Requests()+r.ding.Requests() != 0 {
			t.Errorf("firing %q, requests %d: want the alerts reported, nothing sent", firing(sum), r.slack.Requests()+r.ding.Requests())
		}
		code, sum, _ = r.run(t, "--at", sampleAt)
		if code != exitOK || sum.Notifications.Sent != 8 {
			t.Errorf("next run: exit %d, %+v; want the 8 notifications sent", code, sum.Notifications)
		}
	})
}

// unwritableLedger: nothing can be recorded, so no alert is sent; the
// health message says why, so do stderr and the summary's errors (exit 1),
// and nothing is left for an FC retry to send again.
func unwritableLedger(t *testing.T, r *rig) {
	t.Helper()
	code, sum, stderr := r.run(t, "--at", sampleAt)
	expect{code: exitFailed, errors: []string{monitor.CodeLedgerUnwritable}, sent: 0,
		health: []string{"Ledger.Unwritable", "held back"}}.check(t, r, code, sum, stderr)
	heldBack(t, r, sum, stderr, 8)
}

// heldBack: n notifications were held back, said loudly, and nothing is
// owed that an FC retry would send again.
func heldBack(t *testing.T, r *rig, sum *monitor.Summary, stderr string, n int) {
	t.Helper()
	if sum.Notifications.HeldBack != n || sum.Notifications.Undelivered() {
		t.Errorf("notifications %+v: want %d held back and nothing for an FC retry", sum.Notifications, n)
	}
	if !strings.Contains(stderr, "held back") || !strings.Contains(stderr, "level=ERROR") {
		t.Errorf("stderr does not say the alerts were held back:\n%s", stderr)
	}
	for _, m := range r.slack.Messages() {
		if strings.Contains(m.BlockText(), "firing") && strings.Contains(m.BlockText(), "Ledger.Unwritable") {
			t.Errorf("an alert went out with the ledger unwritable:\n%s", m.BlockText())
		}
	}
}

// TestUnwritableLedgerNeverResends: STATE_DIR turns read-only (a read-only
// bind mount: as root, permission bits stop nothing) after a run recorded
// its notifications. The following runs, FC retries included, send none of
// them again and none that they cannot record, and say so every time.
func TestUnwritableLedgerNeverResends(t *testing.T) {
	t.Parallel()
	t.Run("read-only bind mount", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		code, sum, _ := r.run(t, "--at", sampleAt)
		if code != exitOK || sum.Notifications.Sent != 8 {
			t.Fatalf("first run: exit %d, %+v", code, sum.Notifications)
		}
		bindReadOnly(t, r.state)
		for i, at := range []string{sampleAt, sampleAt, "2026-11-25T09:00:00+08:00"} {
			before := len(r.slack.Messages()) + len(r.ding.Messages())
			code, sum, stderr := r.run(t, "--at", at)
			if code != exitFailed || !slices.Contains(errorKeys(sum), monitor.CodeLedgerUnwritable) {
				t.Errorf("run %d: exit %d, errors %q; want 1 and %s", i+2, code, errorKeys(sum), monitor.CodeLedgerUnwritable)
			}
			if sum.Notifications.Sent != 0 || sum.Notifications.Undelivered() {
				t.Errorf("run %d: %+v; want nothing sent and nothing for an FC retry", i+2, sum.Notifications)
			}
			if !strings.Contains(stderr, "cannot be written") {
				t.Errorf("run %d: stderr does not say so:\n%s", i+2, stderr)
			}
			// One health message per channel and run, no alert.
			if got := len(r.slack.Messages()) + len(r.ding.Messages()) - before; got != 2 {
				t.Errorf("run %d: %d messages, want the two health messages", i+2, got)
			}
			if !strings.Contains(r.slack.Messages()[len(r.slack.Messages())-1].BlockText(), "Ledger.Unwritable") {
				t.Errorf("run %d: the health message does not name the ledger", i+2)
			}
		}
		// The FC handler: no error, so FC does not retry (a retry could
		// record nothing either), and no alert went out.
		before := len(r.slack.Messages())
		if sum, err := r.app().handle(context.Background(), timer(sampleAt)); err != nil || sum.Notifications.Sent != 0 {
			t.Errorf("FC handler: %v, %+v; want no error (no FC retry) and nothing sent", err, sum)
		}
		if got := len(r.slack.Messages()) - before; got != 1 {
			t.Errorf("FC invocation: %d Slack messages, want the health message", got)
		}
	})
	t.Run("ledger.json is a directory", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		if err := os.Mkdir(filepath.Join(r.state, ledger.FileName), 0o755); err != nil {
			t.Fatal(err)
		}
		unwritableLedger(t, r)
		unwritableLedger(t, r) // an FC retry: the same, no more
		if n := len(r.slack.Messages()); n != 2 {
			t.Errorf("%d Slack messages after two runs, want one health message each", n)
		}
	})
	t.Run("disk fails mid-run (injected)", func(t *testing.T) {
		t.Parallel()
		// The first temp files (the probe, the write-ahead save) work; then
		// the disk fails: DingTalk's digest went out but cannot be marked
		// sent, and Slack's is held back.
		r := newRig(t)
		var calls atomic.Int32
		r.tuneLedger(ledger.Options{CreateTemp: func(dir, pattern string) (*os.File, error) {
			if calls.Add(1) > 2 {
				return nil, fmt.Errorf("open %s: input/output error", dir)
			}
			return os.CreateTemp(dir, pattern)
		}})
		code, sum, stderr := r.run(t, "--at", sampleAt)
		if code != exitFailed || sum.Notifications.Sent != 4 || !slices.Contains(errorKeys(sum), monitor.CodeLedgerUnwritable) {
			t.Errorf("exit %d, %+v, errors %q", code, sum.Notifications, errorKeys(sum))
		}
		heldBack(t, r, sum, stderr, 4)
		if !strings.Contains(r.slackText(), "Ledger.Unwritable") || !strings.Contains(r.dingText(), "Ledger.Unwritable") {
			t.Errorf("the health messages do not name the ledger:\n%s\n%s", r.slackText(), r.dingText())
		}
		if strings.Contains(r.slackText(), "firing") {
			t.Errorf("Slack got alerts that could not be recorded:\n%s", r.slackText())
		}
	})
}

// bindReadOnly bind-mounts dir read-only onto itself (root only), undone at
// the end of the test.
func bindReadOnly(t *testing.T, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for a bind mount")
	}
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount here (%v)", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount read-only here (%v)", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "probe"), nil, 0o644); err == nil {
		t.Fatal("the read-only bind mount takes writes")
	}
}

// mountTmpfs mounts a small tmpfs (root only), unmounted at the end.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v)", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// fill writes into dir until the file system is full.
func fill(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for i := 0; i < 1<<12; i++ {
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
	t.Fatal("the tmpfs never filled up")
}

// TestSecretsNeverShown: faults whose error texts carry secrets (a gateway
// echoing the webhook URL, the API's "string to sign", a wrong key) show none
// of them in stdout, stderr, the summary, the messages or the ledger (checked
// by every rig.run), and webhook URLs appear redacted.
func TestSecretsNeverShown(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.fast(t)
	envSecret := "ENVsecretNOTforSummaries-91f2"
	r.setenv("UNRELATED_SECRET", envSecret)
	r.addSecret(envSecret)
	// A gateway that echoes the request (webhook token and signature) in
	// its error page, on both platforms.
	r.ding.FailNext(5, 502, "bad gateway for POST "+r.ding.WebhookURL+"&sign=x&secret="+rigDingSecret)
	r.slack.FailNext(5, 502, "bad gateway for POST "+r.slack.WebhookURL)
	r.cams.Fail("1100NEWS0007", 400, "Ram.PermissionDeny", "denied for "+rigAccessKeyID+" token "+rigSecurityToken)
	code, sum, stderr := r.run(t, "--at", sampleAt)
	// pending: the 8 alerts, and the health messages that failed with them
	if code != exitFailed || sum.Notifications.Failed != 8 || sum.Notifications.Pending < 8 {
		t.Fatalf("exit %d, %+v; want 1 with all 8 pending\n%s", code, sum.Notifications, stderr)
	}
	for _, w := range []string{r.ding.Server.URL + "/robot/…", r.slack.Server.URL + "/services/…"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr lacks the redacted URL %q:\n%s", w, stderr)
		}
	}
	// A server that echoes the request's key id, STS token and signature
	// in every field of its error (RequestId, Code, Message, HostId...).
	r.cams.Clear("1100NEWS0007")
	r.cams.Handle("1100NEWS0007", -1, camstest.Echo(400))
	code, sum, stderr = r.run(t, "--at", sampleAt)
	if code != exitFailed || !strings.Contains(stderr, "[redacted]") {
		t.Errorf("echoing server: exit %d, errors %+v\n%s", code, sum.Errors, stderr)
	}
	// A wrong secret key: the API answers SignatureDoesNotMatch with its
	// string to sign (which holds the key id and the STS token).
	wrong := "WRONGsecretVALUE-0000aaaa"
	r.addSecret(wrong)
	r.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", wrong)
	code, sum, stderr = r.run(t, "--at", sampleAt)
	if code != exitFailed || len(sum.Errors) == 0 || sum.Errors[0].Code != "SignatureDoesNotMatch" {
		t.Errorf("wrong key: exit %d, errors %+v\n%s", code, sum.Errors, stderr)
	}
	// The dry run prints every message: still nothing secret.
	r.runRaw(t, "run", "--dry-run", "--at", sampleAt)
	r.runRaw(t, "validate")
}

// TestWebhookMustBeHTTPS: a webhook that is not https (except on loopback)
// is a configuration error: exit 2, the variable or channel named, nothing
// fetched or sent, and no secret in the message.
func TestWebhookMustBeHTTPS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, env, value, rules string
		want                    []string
	}{
		{name: "SLACK_WEBHOOK_URL over http", env: "SLACK_WEBHOOK_URL",
			value: "http://hooks.slack.example/services/T1/B1/plainHTTPsecret0123", want: []string{"SLACK_WEBHOOK_URL", "https"}},
		{name: "DINGTALK_WEBHOOK_URL over http", env: "DINGTALK_WEBHOOK_URL",
			value: "http://oapi.dingtalk.example/robot/send?access_token=plainHTTPsecret4567", want: []string{"DINGTALK_WEBHOOK_URL", "https"}},
		{name: "SLACK_WEBHOOK_URL not a URL", env: "SLACK_WEBHOOK_URL",
			value: "hooks.slack.example/services/T1/B1/noSchemeSecret0123", want: []string{"SLACK_WEBHOOK_URL", "not a URL"}},
		{name: "a rules channel over http", env: "EVIL_HOOK",
			value: "http://example.com/robot/send?access_token=chanHTTPsecret8901",
			rules: "channels:\n  ops-ding: {type: dingtalk, webhook_url: \"${EVIL_HOOK}\"}\nrules:\n  - {name: r, condition: absent, notify: [ops-ding]}\n",
			want:  []string{"ops-ding", "https"}},
		{name: "a rules channel with another scheme", env: "EVIL_HOOK",
			value: "ftp://example.com/services/T1/B1/chanFTPsecret2345",
			rules: "channels:\n  ops-slack: {type: slack, webhook_url: \"${EVIL_HOOK}\"}\nrules:\n  - {name: r, condition: absent, notify: [ops-slack]}\n",
			want:  []string{"ops-slack", "https"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.setenv(c.env, c.value)
			r.addSecret(c.value)
			for _, s := range notify.URLSecrets(c.value)[1:] {
				r.addSecret(s)
			}
			if c.rules != "" {
				path := filepath.Join(t.TempDir(), "rules.yaml")
				if err := os.WriteFile(path, []byte(c.rules), 0o644); err != nil {
					t.Fatal(err)
				}
				r.setenv("RULES_PATH", path)
			}
			for _, args := range [][]string{{"run", "--at", sampleAt}, {"validate"}} {
				code, _, stderr := r.runRaw(t, args...)
				if code != exitConfig {
					t.Errorf("%s: exit %d, want 2\n%s", args[0], code, stderr)
				}
				for _, w := range c.want {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: the error does not say %q:\n%s", args[0], w, stderr)
					}
				}
			}
			if r.cams.Requests() != 0 || r.slack.Requests() != 0 || r.ding.Requests() != 0 {
				t.Errorf("a bad webhook still fetched (%d) or sent (%d, %d)", r.cams.Requests(), r.slack.Requests(), r.ding.Requests())
			}
		})
	}
}

// TestWebhookRedirectNotFollowed: a webhook that redirects to another host
// does not take the message (nor its token) there: the target receives
// nothing, the notifications stay pending, exit 1.
func TestWebhookRedirectNotFollowed(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.fast(t)
	var hits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		fmt.Fprint(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(target.Close)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, target.URL+req.URL.RequestURI(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	r.setenv("SLACK_WEBHOOK_URL", redirector.URL+"/services/T0000TEST/B0000TEST/"+r.slack.WebhookToken)
	r.setenv("DINGTALK_WEBHOOK_URL", redirector.URL+"/robot/send?access_token="+r.ding.AccessToken)
	code, sum, stderr := r.run(t, "--at", sampleAt)
	if hits.Load() != 0 {
		t.Errorf("the redirect target received %d requests", hits.Load())
	}
	if code != exitFailed || sum.Notifications.Failed != 8 || sum.Notifications.Pending < 8 {
		t.Errorf("exit %d, %+v; want 1 with all 8 pending\n%s", code, sum.Notifications, stderr)
	}
	for _, ch := range []string{"channel slack:", "channel dingtalk:"} {
		said := false
		for _, line := range strings.Split(stderr, "\n") {
			said = said || strings.Contains(line, ch) && strings.Contains(line, "redirect")
		}
		if !said {
			t.Errorf("stderr does not say %s refused a redirect:\n%s", ch, stderr)
		}
	}
}

// The injection payloads: Slack control sequences, DingTalk mentions,
// markdown and HTML, in a template code, a language and a button text.
const (
	evilCode     = "1100<!channel>@13800138000"
	evilLanguage = "en<@U999>"
	evilButton   = "<!channel> <!here> <@U123> <https://evil.example|click> @13800138000 [x](https://evil.example) **b** # h"
)

// TestInjectionShownLiterally: template codes, languages, button texts and
// summaries are data, never markup, through the whole CLI: Slack shows
// <!channel> & co. literally (escaped), DingTalk mentions only the configured
// number, and no data breaks out of the markdown. A summary template sees
// only the alert's data.
func TestInjectionShownLiterally(t *testing.T) {
	t.Parallel()
	r := newRig(t, withoutSample())
	envSecret := "ENVsecretNOTforSummaries-77c1"
	r.setenv("INJ_SECRET", envSecret)
	r.addSecret(envSecret)
	day := time.Date(2026, 11, 16, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	var buckets []camstest.Bucket
	for i := range 8 {
		buckets = append(buckets, camstest.Bucket{Language: evilLanguage, Start: day.AddDate(0, 0, i),
			Sent: 1000, Delivered: 950, Read: 600,
			Buttons: []metrics.Button{{Type: "quick_reply_button", Text: evilButton, Count: 40}}})
	}
	r.cams.SetMetrics(evilCode, buckets...)

	// Channels from variables only these rules read, so the digests are the
	// rules' own; the DingTalk robot may mention one number.
	r.setenv("INJ_SLACK", r.slack.WebhookURL)
	r.setenv("INJ_DING", r.ding.WebhookURL)
	for _, v := range []string{"SLACK_WEBHOOK_URL", "DINGTALK_WEBHOOK_URL", "DINGTALK_SECRET"} {
		r.setenv(v, "")
	}
	rules := fmt.Sprintf(`channels:
  ops-slack: {type: slack, webhook_url: "${INJ_SLACK}"}
  ops-ding: {type: dingtalk, webhook_url: "${INJ_DING}", secret: %q, at_mobiles: ["13900000001"]}
defaults:
  notify: [ops-slack, ops-ding]
rules:
  - name: evil-button
    metric: clicks
    button: %q
    condition: below
    threshold: 1000000
    severity: critical
    summary: '{{.Template}} / {{.Button}} / {{.}} <!channel> <!here> @13800138000 [y](https://evil.example)'
`, rigDingSecret, evilButton)
	path := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(path, []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
	r.setenv("RULES_PATH", path)

	code, sum, stderr := r.run(t, "--at", sampleAt)
	if code != exitOK || len(sum.Alerts) != 1 || sum.Alerts[0].Template != evilCode || sum.Alerts[0].Button != evilButton {
		t.Fatalf("exit %d, alerts %+v; want the one evil alert\n%s", code, sum.Alerts, stderr)
	}
	// The fakes reject unescaped "<", unlisted mentions, links and HTML.
	if p := append(r.slack.Problems(), r.ding.Problems()...); len(p) > 0 {
		t.Errorf("the fakes rejected payloads: %q", p)
	}

	sm := r.slack.Messages()
	if len(sm) != 1 {
		t.Fatalf("slack got %d messages, want 1", len(sm))
	}
	raw := string(sm[0].Raw)
	for _, bad := range []string{"<!", "<@", "<http", `\u003c!`, `\u003c@`, `\u003chttp`} {
		if strings.Contains(raw, bad) {
			t.Errorf("the Slack payload holds a live control sequence %q:\n%s", bad, raw)
		}
	}
	text := sm[0].BlockText()
	for _, lit := range []string{"&lt;!channel&gt;", "&lt;!here&gt;", "&lt;@U123&gt;", "&lt;https://evil.example|click&gt;",
		"&lt;@U999&gt;", "1100&lt;!channel&gt;@13800138000"} {
		if !strings.Contains(text, lit) {
			t.Errorf("Slack does not show %q literally:\n%s", lit, text)
		}
	}

	dm := r.ding.Messages()
	if len(dm) != 1 {
		t.Fatalf("dingtalk got %d messages, want 1", len(dm))
	}
	m := dm[0]
	if got := m.Mentioned(); !slices.Equal(got, []string{"13900000001"}) || m.IsAtAll {
		t.Errorf("DingTalk mentions %q (at all: %v), want only the configured 13900000001", got, m.IsAtAll)
	}
	if strings.Contains(m.Text, "@13800138000") || strings.Contains(m.Text, "@U") {
		t.Errorf("DingTalk text carries a live @mention from data:\n%s", m.Text)
	}
	if !strings.Contains(m.Text, "＠13800138000") {
		t.Errorf("DingTalk does not show the data's @ as text:\n%s", m.Text)
	}
	for _, bad := range []string{"](", "<", "\n# h", "**b**"} {
		if strings.Contains(m.Text, bad) {
			t.Errorf("DingTalk text holds markup from data %q:\n%s", bad, m.Text)
		}
	}
	for _, line := range strings.Split(m.Text, "\n") {
		if strings.Contains(line, "evil.example") && strings.HasPrefix(strings.TrimSpace(line), "#") && !strings.HasPrefix(line, "#### ") {
			t.Errorf("data opened a heading: %q", line)
		}
	}
	// {{.}} printed the summary data: the alert, nothing from the environment.
	if !strings.Contains(r.slackText(), "evil-button") {
		t.Errorf("the summary did not render:\n%s", r.slackText())
	}
}

// TestSummaryCannotReadEnvironment: summary templates get no function that
// reads the environment, files or the network; using one is a load error
// with its position (exit 2), before anything is fetched.
func TestSummaryCannotReadEnvironment(t *testing.T) {
	t.Parallel()
	for _, summary := range []string{`{{env "INJ_SECRET"}}`, `{{getenv "INJ_SECRET"}}`, `{{readFile "/etc/passwd"}}`, `{{expandenv "$INJ_SECRET"}}`} {
		t.Run(summary, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.setenv("INJ_SECRET", "ENVsecretNOTforSummaries-0d3e")
			r.addSecret("ENVsecretNOTforSummaries-0d3e")
			rules := "rules:\n  - name: x\n    condition: absent\n    summary: '" + summary + "'\n"
			path := filepath.Join(t.TempDir(), "rules.yaml")
			if err := os.WriteFile(path, []byte(rules), 0o644); err != nil {
				t.Fatal(err)
			}
			r.setenv("RULES_PATH", path)
			for _, args := range [][]string{{"validate"}, {"run", "--at", sampleAt}} {
				code, _, stderr := r.runRaw(t, args...)
				if code != exitConfig || !strings.Contains(stderr, path+":4:") {
					t.Errorf("%s: exit %d, want 2 with %s:4:col\n%s", args[0], code, path, stderr)
				}
			}
			if r.cams.Requests() != 0 {
				t.Errorf("fetched %d times with bad rules", r.cams.Requests())
			}
		})
	}
}
