package action

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/notify/notifytest"
	"github.com/cams-alert/cams-alert/function/silence"
)

func postToken(tok string) *eventT {
	return event("POST", "/silence", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		nil, url.Values{"token": {tok}}.Encode(), false)
}

func getToken(tok string) *eventT {
	return event("GET", "/silence", nil, map[string]string{"token": tok}, "", false)
}

func TestDingTalkLink(t *testing.T) {
	r := newRig(t, "https://alerts.example.com")
	tok := alert.Sign(testSecret, r.now.Add(-time.Hour))
	// GET shows the page and changes nothing, however often it is opened
	// (link previewers and scanners open links).
	for range 3 {
		resp := r.serve(getToken(tok))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
			t.Fatalf("GET: %d %s", resp.StatusCode, resp.Headers["Content-Type"])
		}
		for _, want := range []string{"Black Friday promo", "1100AB", "zero-clicks", "Shop now", "7 days",
			`method="post"`, `name="token"`, `name="viewport"`} {
			if !strings.Contains(resp.Body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		if strings.Count(resp.Body, "<button") != 1 {
			t.Errorf("the page has %d buttons, want 1", strings.Count(resp.Body, "<button"))
		}
	}
	if n := len(r.silences(t)); n != 0 {
		t.Fatalf("GET stored %d silences", n)
	}
	// The POST from the page stores it; posting again leaves one.
	for i := range 2 {
		resp := r.serve(postToken(tok))
		if resp.StatusCode != 200 || !strings.Contains(resp.Body, "Silenced") {
			t.Fatalf("POST %d: %d %s", i+1, resp.StatusCode, resp.Body)
		}
	}
	all := r.silences(t)
	if len(all) != 1 {
		t.Fatalf("%d silences, want 1", len(all))
	}
	s := all[0]
	if !s.Matches(alert.Rule, alert.Template, alert.Language, alert.Button) || s.Match.Template != "1100AB" {
		t.Errorf("silence %+v does not match exactly the alert", s.Match)
	}
	if !strings.HasPrefix(s.CreatedBy, "DingTalk link ") || strings.Contains(s.CreatedBy, tok) {
		t.Errorf("created_by %q: want the link named, not copied", s.CreatedBy)
	}
	if s.Until.Sub(s.CreatedAt) != 7*24*time.Hour {
		t.Errorf("silence lasts %v, want 7 days", s.Until.Sub(s.CreatedAt))
	}
}

func TestDingTalkLocale(t *testing.T) {
	r := newRig(t, "https://alerts.example.com")
	r.h.cfg.Locale = "zh-CN"
	resp := r.serve(getToken(alert.Sign(testSecret, r.now)))
	for _, want := range []string{`lang="zh-CN"`, "静默此告警", "7 天", "模板"} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("the zh-CN page lacks %q", want)
		}
	}
}

// TestDingTalkRefused: altered (at every position), expired, foreign-key and
// wrong-alert tokens get 403 on GET and POST and change nothing.
func TestDingTalkRefused(t *testing.T) {
	r := newRig(t, "https://alerts.example.com")
	tok := alert.Sign(testSecret, r.now)
	other := alert
	other.Template = "OTHER"
	p, _, _ := strings.Cut(tok, ".")
	_, otherSig, _ := strings.Cut(other.Sign(testSecret, r.now), ".")
	bad := map[string]string{
		"expired":                   alert.Sign(testSecret, r.now.Add(-silence.TokenTTL-time.Second)),
		"another key":               alert.Sign(testSecret+"x", r.now),
		"another alert's signature": p + "." + otherSig,
		"empty":                     "",
		"a Slack value":             alert.Value(),
	}
	for i := range len(tok) {
		c := byte('A')
		if tok[i] == 'A' {
			c = 'B'
		}
		bad["altered at "+string(rune('0'+i%10))+"/"+url.QueryEscape(tok[:i])] = tok[:i] + string(c) + tok[i+1:]
	}
	for name, b := range bad {
		for _, ev := range []*eventT{getToken(b), postToken(b)} {
			resp := r.serve(ev)
			if resp.StatusCode != 403 {
				t.Errorf("%s (%s): %d, want 403", name, *ev.TriggerContext.Http.Method, resp.StatusCode)
			}
			if strings.Contains(resp.Body, "<form") {
				t.Errorf("%s: a refused link shows the form", name)
			}
		}
	}
	if resp := r.serve(getToken(bad["expired"])); !strings.Contains(resp.Body, "expired") {
		t.Errorf("an expired link's page does not say so: %s", resp.Body)
	}
	if n := len(r.silences(t)); n != 0 {
		t.Errorf("%d silences stored by refused links", n)
	}
}

// TestSecretsNeverShown: no log line, error page or response carries
// ACTION_SECRET, the Slack signing secret, a token (outside its own page's
// form) or a response_url.
func TestSecretsNeverShown(t *testing.T) {
	r := newRig(t, "https://alerts.example.com")
	fake := notifytest.NewSlack(t)
	fake.FailNext(1, 500, "boom")
	tok := alert.Sign(testSecret, r.now)
	ts := r.now.Unix()
	body := clickBody(t, fake.WebhookURL, alert.Value(), "1.5")
	var bodies []string
	for _, ev := range []*eventT{
		slackEvent(ts, slackSign(testSigning, ts, body), body, nil),
		slackEvent(ts, slackSign("wrong", ts, body), body, nil),
		postToken(tok), postToken(tok + "x"), getToken(tok[1:]),
		event("GET", "/nowhere", nil, map[string]string{"token": tok}, "", false),
	} {
		resp := r.serve(ev)
		bodies = append(bodies, resp.Body)
		for _, v := range resp.Headers {
			bodies = append(bodies, v)
		}
	}
	shown := strings.Join(bodies, "\n") + r.log.String()
	for name, secret := range map[string]string{"ACTION_SECRET": testSecret, "SLACK_SIGNING_SECRET": testSigning,
		"token": tok, "token's signature": tok[strings.Index(tok, ".")+1:], "response_url": fake.WebhookToken} {
		if strings.Contains(shown, secret) {
			t.Errorf("%s shown in a response or the log", name)
		}
	}
	if !strings.Contains(r.log.String(), "silenced") {
		t.Errorf("the log does not record the silence: %s", r.log.String())
	}
}
