package action

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/slack-go/slack"

	"github.com/cams-alert/cams-alert/function/notify/notifytest"
)

// TestSlackDocumentedExample: slack-go's verifier accepts the example of
// Slack's "Verifying requests from Slack" page and refuses it altered. The
// example is from 2018: the test runs in a synctest bubble whose clock is
// moved to the example's timestamp, so the 5-minute window is slack-go's own.
func TestSlackDocumentedExample(t *testing.T) {
	const (
		ts   = "1531420618"
		sig  = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
		body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	)
	for _, tc := range []struct {
		name, secret, sig, body string
		at                      time.Duration // from the example's timestamp
		want                    error
	}{
		{"documented example", testSigning, sig, body, 0, nil},
		{"4 minutes later", testSigning, sig, body, 4 * time.Minute, nil},
		{"body altered", testSigning, sig, body + "x", 0, slack.ErrInvalidSignature},
		{"another secret", testSigning + "0", sig, body, 0, slack.ErrInvalidSignature},
		{"signature altered", testSigning, sig[:len(sig)-1] + "4", body, 0, slack.ErrInvalidSignature},
		{"6 minutes later", testSigning, sig, body, 6 * time.Minute, slack.ErrExpiredTimestamp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				time.Sleep(time.Until(time.Unix(1531420618, 0).Add(tc.at)))
				h := http.Header{}
				h.Set("X-Slack-Request-Timestamp", ts)
				h.Set("X-Slack-Signature", tc.sig)
				sv, err := slack.NewSecretsVerifier(h, tc.secret)
				if err == nil {
					_, _ = sv.Write([]byte(tc.body))
					err = sv.Ensure()
				}
				if !errors.Is(err, tc.want) {
					t.Errorf("err %v, want %v", err, tc.want)
				}
			})
		})
	}
}

func TestSlackClick(t *testing.T) {
	r := newRig(t, "https://alerts.example.com")
	fake := notifytest.NewSlack(t)
	body := clickBody(t, fake.WebhookURL, alert.Value(), "1700000001.000200")
	ts := r.now.Unix()
	resp := r.serve(slackEvent(ts, slackSign(testSigning, ts, body), body, nil))
	if resp.StatusCode != 200 {
		t.Fatalf("click: %d %s", resp.StatusCode, resp.Body)
	}
	all := r.silences(t)
	if len(all) != 1 {
		t.Fatalf("%d silences after one click, want 1", len(all))
	}
	s := all[0]
	if !s.Matches(alert.Rule, alert.Template, alert.Language, alert.Button) ||
		s.Matches(alert.Rule, alert.Template, alert.Language, "Other button") || s.Matches(alert.Rule, "1100ABC", alert.Language, alert.Button) {
		t.Errorf("silence %+v does not match exactly the alert", s.Match)
	}
	if !s.Until.Equal(r.now.Add(7 * 24 * time.Hour).UTC().Truncate(time.Nanosecond)) {
		t.Errorf("until %v, want the click + 7 days", s.Until)
	}
	if !strings.Contains(s.CreatedBy, "@ana") || !strings.Contains(s.CreatedBy, "U0ANA") {
		t.Errorf("created_by %q: want the Slack user's name and id", s.CreatedBy)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].Text, "Silenced by @ana until ") {
		t.Fatalf("response_url got %d messages %+v, want one \"Silenced by @ana until …\"", len(msgs), msgs)
	}
	if !strings.Contains(string(msgs[0].Raw), `"response_type":"ephemeral"`) {
		t.Errorf("the update is not for the clicker only: %s", msgs[0].Raw)
	}
	// Slack retries the same action (X-Slack-Retry-Num) and the same
	// signed request may be replayed within the window: still one silence.
	for i, extra := range []map[string]string{{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}, nil} {
		resp := r.serve(slackEvent(ts, slackSign(testSigning, ts, body), body, extra))
		if resp.StatusCode != 200 {
			t.Errorf("delivery %d: %d", i+2, resp.StatusCode)
		}
	}
	if n := len(r.silences(t)); n != 1 {
		t.Errorf("%d silences after retries of one click, want 1", n)
	}
}

func TestSlackOverflowAndDefault(t *testing.T) {
	r := newRig(t, "https://alerts.example.com")
	day := alert
	day.For = 0 // the element names no duration: 24h
	// An overflow: the value is the selected option's.
	body := payloadBody(t, "", map[string]any{"type": "overflow", "action_id": "silence", "block_id": "b1",
		"action_ts": "1700000001.1", "selected_option": map[string]any{"value": day.Value(),
			"text": map[string]any{"type": "plain_text", "text": "1 day"}}})
	ts := r.now.Unix()
	if resp := r.serve(slackEvent(ts, slackSign(testSigning, ts, body), body, nil)); resp.StatusCode != 200 {
		t.Fatalf("overflow click: %d %s", resp.StatusCode, resp.Body)
	}
	all := r.silences(t)
	if len(all) != 1 || all[0].Until.Sub(all[0].CreatedAt) != 24*time.Hour {
		t.Fatalf("silences %+v: want one of 24h", all)
	}
}

// TestSlackRefused: forged, stale, replayed-late and unsigned requests get
// 401 and store nothing.
func TestSlackRefused(t *testing.T) {
	r := newRig(t, "https://alerts.example.com")
	body := clickBody(t, "", alert.Value(), "1700000001.000200")
	now := r.now.Unix()
	for _, tc := range []struct {
		name string
		ev   func() *eventT
	}{
		{"forged signature", func() *eventT { return slackEvent(now, slackSign("not-the-secret", now, body), body, nil) }},
		{"body altered", func() *eventT {
			return slackEvent(now, slackSign(testSigning, now, body), strings.Replace(body, "ana", "eve", 1), nil)
		}},
		{"timestamp altered", func() *eventT { return slackEvent(now+1, slackSign(testSigning, now, body), body, nil) }},
		{"stale (6 minutes)", func() *eventT {
			return slackEvent(now-360, slackSign(testSigning, now-360, body), body, nil)
		}},
		{"from the future (6 minutes)", func() *eventT {
			return slackEvent(now+360, slackSign(testSigning, now+360, body), body, nil)
		}},
		{"v1 scheme", func() *eventT {
			return slackEvent(now, "v1="+slackSign(testSigning, now, body)[3:], body, nil)
		}},
		{"no signature", func() *eventT { return slackEvent(now, "", body, nil) }},
	} {
		if resp := r.serve(tc.ev()); resp.StatusCode != 401 {
			t.Errorf("%s: %d, want 401", tc.name, resp.StatusCode)
		}
	}
	if n := len(r.silences(t)); n != 0 {
		t.Errorf("%d silences stored by refused requests", n)
	}
}

// TestSlackBadPayloads: signed, but not a silence click.
func TestSlackBadPayloads(t *testing.T) {
	r := newRig(t, "https://alerts.example.com")
	now := r.now.Unix()
	other := strings.Replace(clickBody(t, "", alert.Value(), "1.1"), "silence-7d", "open-dashboard", 1)
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"another action", other, 200},
		{"not a form payload", "hello=1", 400},
		{"payload not JSON", "payload=%7B", 400},
		{"view submission", "payload=%7B%22type%22%3A%22view_submission%22%7D", 200},
		{"value not ours", clickBody(t, "", "s1.e30", "1.1"), 400},
	} {
		resp := r.serve(slackEvent(now, slackSign(testSigning, now, tc.body), tc.body, nil))
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}
	if n := len(r.silences(t)); n != 0 {
		t.Errorf("%d silences stored", n)
	}
}

// TestSlackResponseURLBounded: a response_url that hangs does not hold the
// answer past Slack's 3 seconds, and the silence is stored.
func TestSlackResponseURLBounded(t *testing.T) {
	r := newRig(t, "https://alerts.example.com")
	r.h.cfg.Now = time.Now
	fake := notifytest.NewSlack(t)
	fake.HangNext(1, 20*time.Second)
	body := clickBody(t, fake.WebhookURL, alert.Value(), "1700000001.9")
	ts := time.Now().Unix()
	start := time.Now()
	resp := r.serve(slackEvent(ts, slackSign(testSigning, ts, body), body, nil))
	if took := time.Since(start); took >= 3*time.Second {
		t.Errorf("answered after %v with a hanging response_url, want under 3 s", took)
	}
	if resp.StatusCode != 200 || len(r.silences(t)) != 1 {
		t.Errorf("status %d, %d silences: want 200 and the silence stored", resp.StatusCode, len(r.silences(t)))
	}
}
