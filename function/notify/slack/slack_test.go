package slack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/locale"
	"github.com/cams-alert/cams-alert/function/notify/notifytest"
	"github.com/cams-alert/cams-alert/function/notify/slack"
)

type mode string

const (
	webhook mode = "webhook"
	bot     mode = "bot"
)

func newNotifier(t *testing.T, fake *notifytest.Slack, m mode, mod func(*slack.Config)) *slack.Notifier {
	t.Helper()
	c := slack.Config{Name: "ops-slack", SendResolved: true, MinInterval: -1}
	if m == webhook {
		c.WebhookURL = fake.WebhookURL
	} else {
		c.BotToken, c.Channel, c.APIURL = fake.BotToken, "C0123TEST", fake.APIURL
	}
	if mod != nil {
		mod(&c)
	}
	n, err := slack.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// assertNoSecrets fails if s contains any of fake's secrets.
func assertNoSecrets(t *testing.T, fake *notifytest.Slack, s string) {
	t.Helper()
	for _, sec := range []string{fake.WebhookToken, fake.BotToken, fake.WebhookURL, "T0000TEST/B0000TEST"} {
		if strings.Contains(s, sec) {
			t.Errorf("%q leaks secret %q", s, sec)
		}
	}
}

func TestPayload(t *testing.T) {
	for _, m := range []mode{webhook, bot} {
		t.Run(string(m), func(t *testing.T) {
			fake := notifytest.NewSlack(t)
			n := newNotifier(t, fake, m, nil)
			d := notifytest.SampleDigest()
			d.Health = []alert.Problem{{Template: "1100AB09", Code: "Ram.PermissionDeny", Message: "not allowed"}}
			if err := n.Notify(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			msgs := fake.Messages()
			if len(msgs) != 1 || len(fake.Problems()) > 0 {
				t.Fatalf("messages %d, problems %v", len(msgs), fake.Problems())
			}
			msg := msgs[0]
			if m == bot && (msg.Via != "chat.postMessage" || msg.Channel != "C0123TEST") {
				t.Fatalf("bot message via %s to %s", msg.Via, msg.Channel)
			}
			var types []string
			for _, b := range msg.Blocks {
				types = append(types, b.Type)
			}
			if got := strings.Join(types, ","); got != "header,context,section,divider,section,context,divider,section,context" {
				t.Fatalf("blocks = %s", got)
			}
			if msg.Blocks[0].Text.Text != "cams-alert · 1 alert, 1 resolved, 1 monitor problem" {
				t.Errorf("header = %q", msg.Blocks[0].Text.Text)
			}
			if want := "1100AB01 (en): read rate fell to 8.1% (+1 more)"; msg.Text != want {
				t.Errorf("push text %q, want %q", msg.Text, want)
			}
			ctxText := msg.Blocks[1].Elements[0]["text"].(string)
			if want := "Period: Sun 10 May (Asia/Shanghai)"; ctxText != want {
				t.Errorf("context %q, want %q", ctxText, want)
			}
			health, first, second := msg.Blocks[2].Text.Text, msg.Blocks[4].Text.Text, msg.Blocks[7].Text.Text
			firstMeta, secondMeta := msg.Blocks[5].Elements[0]["text"].(string), msg.Blocks[8].Elements[0]["text"].(string)
			for _, want := range []string{"Monitor health", "template 1100AB09 could not be checked: Ram.PermissionDeny — not allowed"} {
				if !strings.Contains(health, want) {
					t.Errorf("health %q lacks %q", health, want)
				}
			}
			// critical firing first, then the resolved warning
			if want := "*1100AB01* · en\n:red_circle: *Critical* · read rate fell to *8.1%*, usually 61.2% (-87%) · 12,480 delivered"; first != want {
				t.Errorf("first alert\n%q, want\n%q", first, want)
			}
			if want := "Trend 62.0% → 61.0% → 8.1% · rule read-rate-drop"; firstMeta != want {
				t.Errorf("first alert's notes %q, want %q", firstMeta, want)
			}
			if want := "*1100AB02* · es\n:white_check_mark: *Resolved* · button “Ver oferta”: *37* clicks again, usually 42 · 18,230 delivered"; second != want {
				t.Errorf("second alert\n%q, want\n%q", second, want)
			}
			if want := "lasted 2 days · rule zero-clicks"; secondMeta != want {
				t.Errorf("second alert's notes %q, want %q", secondMeta, want)
			}
			for _, b := range msg.Blocks[1:] {
				for _, txt := range []*notifytest.SlackText{b.Text} {
					if txt != nil && txt.Type == "mrkdwn" && !txt.Verbatim {
						t.Errorf("mrkdwn text not verbatim: %q", txt.Text)
					}
				}
			}
		})
	}
}

func TestSendResolvedFalse(t *testing.T) {
	fake := notifytest.NewSlack(t)
	n := newNotifier(t, fake, webhook, func(c *slack.Config) { c.SendResolved = false })
	if err := n.Notify(context.Background(), notifytest.SampleDigest()); err != nil {
		t.Fatal(err)
	}
	if got := fake.Messages()[0].BlockText(); strings.Contains(got, "1100AB02") || !strings.Contains(got, "1100AB01") {
		t.Fatalf("resolved alert sent: %s", got)
	}
	// only resolved items: nothing to send
	d := notifytest.SampleDigest()
	d.Items = d.Items[:1]
	if err := n.Notify(context.Background(), d); err != nil || len(fake.Messages()) != 1 {
		t.Fatalf("err %v, %d messages", err, len(fake.Messages()))
	}
}

func TestEscaping(t *testing.T) {
	evil := []string{"<!channel>", "<!here>", "<@U123>", "<https://evil.example|click>", "<#C999>", "<!date^1^{date}|x>"}
	for _, m := range []mode{webhook, bot} {
		t.Run(string(m), func(t *testing.T) {
			fake := notifytest.NewSlack(t)
			n := newNotifier(t, fake, m, nil)
			d := notifytest.SampleDigest()
			d.Items[0].TemplateName = "cams-alert <!channel> & co" // heading and push text
			d.Items[0].Template = "<!channel>"
			d.Items[0].Button = "Buy <@U123> & <https://evil.example|click>"
			d.Items[1].Summary = "<!here> <#C999> <!date^1^{date}|x> & > quote"
			d.Items[1].CustomSummary = true
			d.Items[1].Rule = "r<!here>"
			d.Health = []alert.Problem{{Channel: "<!channel>", Code: "<@U123>", Message: "<https://evil.example|click>"}}
			if err := n.Notify(context.Background(), d); err != nil {
				t.Fatalf("%v (problems %v)", err, fake.Problems())
			}
			if p := fake.Problems(); len(p) > 0 {
				t.Fatalf("unescaped data: %v", p)
			}
			all := strings.Join(fake.Messages()[0].Texts(), "\n")
			for _, e := range evil {
				if strings.Contains(all, e) {
					t.Errorf("%q sent raw", e)
				}
			}
			for _, want := range []string{"&lt;!channel&gt;", "&lt;@U123&gt;", "&lt;https://evil.example|click&gt;", "&amp; co"} {
				if !strings.Contains(all, want) {
					t.Errorf("escaped %q missing from %s", want, all)
				}
			}
		})
	}
}

func TestEscapeFunc(t *testing.T) {
	if got := slack.Escape("a & <!channel> > b"); got != "a &amp; &lt;!channel&gt; &gt; b" {
		t.Fatal(got)
	}
}

func TestSplitting(t *testing.T) {
	long := strings.Repeat("ü<", 4000) // escapes to 20000 bytes, 20000 characters
	tests := []struct {
		name        string
		items       []alert.Item
		health      int
		maxMessages int
		wantParts   int
		wantMore    string
		wantShown   int
	}{
		// a template's alert takes 3 blocks (divider, section, context): 15 fit
		{name: "one message", items: notifytest.ManyItems(15, 50), wantParts: 1, wantShown: 15},
		{name: "16 alerts need two", items: notifytest.ManyItems(16, 50), wantParts: 2, wantShown: 16},
		{name: "120 alerts in eight parts", items: notifytest.ManyItems(120, 200), wantParts: 8, wantShown: 120},
		{name: "cap says n more", items: notifytest.ManyItems(200, 50), maxMessages: 2, wantParts: 2, wantShown: 30,
			wantMore: "… and 170 more alerts not shown (message limit reached)"},
		{name: "health and alerts capped", items: notifytest.ManyItems(60, 50), health: 600, maxMessages: 1, wantParts: 1,
			wantShown: 0, wantMore: "… and 60 more alerts and "},
		{name: "huge summary is cut", items: []alert.Item{{Rule: "r", Template: "BIG", Language: "en", Severity: "info",
			State: alert.Firing, Metric: "sent", Value: 1, Volume: 1, Summary: long, CustomSummary: true}}, wantParts: 1, wantShown: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := notifytest.NewSlack(t)
			n := newNotifier(t, fake, webhook, func(c *slack.Config) { c.MaxMessages = tt.maxMessages })
			d := notifytest.SampleDigest()
			d.Items = tt.items
			for i := range tt.health {
				d.Health = append(d.Health, alert.Problem{Template: fmt.Sprintf("H%03d", i), Code: "Ram.PermissionDeny",
					Message: strings.Repeat("denied ", 30)})
			}
			if err := n.Notify(context.Background(), d); err != nil {
				t.Fatalf("%v (problems %v)", err, fake.Problems())
			}
			msgs := fake.Messages()
			if len(msgs) != tt.wantParts {
				t.Fatalf("%d messages, want %d (problems %v)", len(msgs), tt.wantParts, fake.Problems())
			}
			shown := 0
			seen := map[string]bool{}
			for i, m := range msgs {
				if len(m.Blocks) > slack.MaxBlocks {
					t.Errorf("message %d has %d blocks", i, len(m.Blocks))
				}
				head := m.Blocks[0].Text.Text
				if tt.wantParts > 1 && !strings.HasSuffix(head, fmt.Sprintf("(part %d/%d)", i+1, tt.wantParts)) {
					t.Errorf("header %q lacks the part label", head)
				}
				for _, b := range m.Blocks {
					if b.Type == "section" && (strings.Contains(b.Text.Text, ":large_blue_circle: *Info*") || strings.Contains(b.Text.Text, ":large_orange_circle: *Warning*")) {
						shown++
						if notifytest.SlackLength(b.Text.Text) > slack.MaxSectionText {
							t.Errorf("section of %d characters", notifytest.SlackLength(b.Text.Text))
						}
						for _, it := range tt.items {
							if strings.Contains(b.Text.Text, "*"+it.Template+"*") {
								if seen[it.Template] {
									t.Errorf("%s sent twice", it.Template)
								}
								seen[it.Template] = true
							}
						}
					}
				}
			}
			if tt.wantShown >= 0 && shown != tt.wantShown {
				t.Errorf("%d alerts shown, want %d", shown, tt.wantShown)
			}
			last := msgs[len(msgs)-1].BlockText()
			if tt.wantMore != "" && !strings.Contains(last, tt.wantMore) {
				t.Errorf("last message lacks %q:\n%s", tt.wantMore, last)
			}
			// nothing is lost silently: shown + "n more" = all
			more := 0
			if m := moreRe.FindStringSubmatch(last); m != nil {
				more, _ = strconv.Atoi(m[1])
			}
			if shown+more != len(tt.items) {
				t.Errorf("%d shown + %d more != %d alerts", shown, more, len(tt.items))
			}
			if tt.wantMore == "" && strings.Contains(last, "not shown") {
				t.Errorf("unexpected 'not shown' note")
			}
			if tt.name == "huge summary is cut" && !strings.HasSuffix(msgs[0].Blocks[3].Text.Text, "…") {
				t.Errorf("cut summary does not end with …")
			}
			// shown alerts are the most important ones, in order
			if tt.wantShown >= 0 && tt.wantShown < len(tt.items) && tt.health == 0 {
				for i, it := range tt.items {
					if seen[it.Template] != (i < tt.wantShown) {
						t.Errorf("%s shown = %v", it.Template, seen[it.Template])
					}
				}
			}
		})
	}
}

var moreRe = regexp.MustCompile(`and (\d+) more alerts? `)

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		mode      mode
		script    func(*notifytest.Slack)
		retryable bool
		after     time.Duration
		want      []string
	}{
		{name: "invalid_blocks body visible", mode: webhook, script: func(s *notifytest.Slack) { s.FailNext(1, 400, "invalid_blocks") },
			want: []string{"HTTP 400: invalid_blocks", "http://127.0.0.1"}},
		{name: "channel_not_found", mode: webhook, script: func(s *notifytest.Slack) { s.FailNext(1, 404, "channel_not_found") },
			want: []string{"HTTP 404: channel_not_found"}},
		{name: "archived", mode: webhook, script: func(s *notifytest.Slack) { s.FailNext(1, 410, "channel_is_archived") },
			want: []string{"HTTP 410: channel_is_archived"}},
		{name: "5xx retryable", mode: webhook, script: func(s *notifytest.Slack) { s.FailNext(1, 503, "<html>down</html>") },
			retryable: true, want: []string{"HTTP 503"}},
		{name: "429 retry-after", mode: webhook, script: func(s *notifytest.Slack) { s.RateLimitNext(1, 7) },
			retryable: true, after: 7 * time.Second, want: []string{"rate limited", "7s"}},
		{name: "429 without retry-after", mode: webhook, script: func(s *notifytest.Slack) { s.FailNext(1, 429, "rate_limited") },
			retryable: true, want: []string{"rate limited", "rate_limited"}},
		{name: "timeout retryable", mode: webhook, script: func(s *notifytest.Slack) { s.HangNext(1, 3*time.Second) },
			retryable: true},
		{name: "bot channel_not_found", mode: bot, script: func(s *notifytest.Slack) {
			s.FailNext(1, 200, `{"ok":false,"error":"channel_not_found"}`)
		}, want: []string{"Slack API error: channel_not_found"}},
		{name: "bot invalid_blocks details", mode: bot, script: func(s *notifytest.Slack) {
			s.FailNext(1, 200, `{"ok":false,"error":"invalid_blocks","response_metadata":{"messages":["[ERROR] must be less than 3001 characters"]}}`)
		}, want: []string{"invalid_blocks", "less than 3001"}},
		{name: "bot 429", mode: bot, script: func(s *notifytest.Slack) { s.RateLimitNext(1, 3) },
			retryable: true, after: 3 * time.Second, want: []string{"rate limited"}},
		{name: "bot ratelimited error", mode: bot, script: func(s *notifytest.Slack) {
			s.FailNext(1, 200, `{"ok":false,"error":"ratelimited"}`)
		}, retryable: true, want: []string{"ratelimited"}},
		{name: "bot 500", mode: bot, script: func(s *notifytest.Slack) { s.FailNext(1, 500, "oops") },
			retryable: true, want: []string{"HTTP 500: oops"}},
		{name: "bot timeout", mode: bot, script: func(s *notifytest.Slack) { s.HangNext(1, 3*time.Second) },
			retryable: true},
		{name: "body echoing the token is scrubbed", mode: webhook, script: func(s *notifytest.Slack) {
			s.FailNext(1, 400, "bad url "+s.WebhookURL+" token "+s.WebhookToken)
		}, want: []string{"HTTP 400: bad url"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := notifytest.NewSlack(t)
			n := newNotifier(t, fake, tt.mode, func(c *slack.Config) {
				c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond}
			})
			tt.script(fake)
			err := n.Notify(context.Background(), notifytest.SampleDigest())
			if err == nil {
				t.Fatal("no error")
			}
			ok, after := notify.IsRetryable(err)
			if ok != tt.retryable || after != tt.after {
				t.Errorf("retryable = %v after %v, want %v after %v (%v)", ok, after, tt.retryable, tt.after, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(tt.name, "timeout") && !strings.Contains(err.Error(), "Timeout") && !strings.Contains(err.Error(), "deadline exceeded") {
				t.Errorf("error %q does not say it timed out", err)
			}
			assertNoSecrets(t, fake, err.Error())
			// the same message goes through once the platform recovers
			if err := n.Notify(context.Background(), notifytest.SampleDigest()); err != nil {
				t.Fatalf("second attempt: %v", err)
			}
			if len(fake.Messages()) != 1 {
				t.Fatalf("%d messages delivered", len(fake.Messages()))
			}
		})
	}
}

func TestConnectionRefusedHasNoSecret(t *testing.T) {
	fake := notifytest.NewSlack(t)
	url := fake.WebhookURL
	fake.Server.Close()
	n, err := slack.New(slack.Config{WebhookURL: url, MinInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), notifytest.SampleDigest())
	if ok, _ := notify.IsRetryable(err); err == nil || !ok {
		t.Fatalf("err = %v, want retryable", err)
	}
	assertNoSecrets(t, fake, err.Error())
}

func TestSendRespectsRetryAfter(t *testing.T) {
	fake := notifytest.NewSlack(t)
	n := newNotifier(t, fake, webhook, nil)
	fake.RateLimitNext(1, 7)
	var waits []time.Duration
	err := notify.Send(context.Background(), n, notifytest.SampleDigest(), func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(waits) != 1 || waits[0] != 7*time.Second {
		t.Fatalf("waits = %v, want [7s]", waits)
	}
	if fake.Requests() != 2 || len(fake.Messages()) != 1 {
		t.Fatalf("requests %d, messages %d", fake.Requests(), len(fake.Messages()))
	}
}

func TestRetrySendsOnlyMissingParts(t *testing.T) {
	fake := notifytest.NewSlack(t)
	n := newNotifier(t, fake, webhook, nil)
	d := notifytest.SampleDigest()
	d.Items = notifytest.ManyItems(40, 40) // 3 parts
	fake.Script(1, notifytest.Response{})  // part 1 passes
	fake.FailNext(1, 500, "internal_error")
	err := notify.Send(context.Background(), n, d, func(context.Context, time.Duration) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	for i, m := range msgs {
		if !strings.HasSuffix(m.Blocks[0].Text.Text, fmt.Sprintf("(part %d/3)", i+1)) {
			t.Errorf("message %d is %q", i, m.Blocks[0].Text.Text)
		}
	}
	// a new digest (a later run) is sent in full
	if err := n.Notify(context.Background(), notifytest.SampleDigest()); err != nil || len(fake.Messages()) != 4 {
		t.Fatalf("err %v, %d messages", err, len(fake.Messages()))
	}
}

func TestPartialFailureNamesThePart(t *testing.T) {
	fake := notifytest.NewSlack(t)
	n := newNotifier(t, fake, webhook, nil)
	d := notifytest.SampleDigest()
	d.Items = notifytest.ManyItems(40, 40)
	fake.Script(1, notifytest.Response{})
	fake.FailNext(1, 400, "invalid_blocks")
	err := n.Notify(context.Background(), d)
	if err == nil || !strings.Contains(err.Error(), "part 2/3 (parts 1-1 delivered)") || !strings.Contains(err.Error(), "invalid_blocks") {
		t.Fatalf("err = %v", err)
	}
}

func TestPacing(t *testing.T) {
	fake := notifytest.NewSlack(t)
	n := newNotifier(t, fake, webhook, func(c *slack.Config) { c.MinInterval = 60 * time.Millisecond })
	d := notifytest.SampleDigest()
	d.Items = notifytest.ManyItems(40, 40) // 3 messages
	start := time.Now()
	if err := n.Notify(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 120*time.Millisecond {
		t.Fatalf("3 messages in %v, want ≥ 120ms", el)
	}
	// pacing gives up when the context ends
	n2 := newNotifier(t, fake, webhook, func(c *slack.Config) { c.MinInterval = time.Hour })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := n2.Notify(ctx, d)
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("err = %v", err)
	}
}

// TestNewChecksAPIURL: the API URL is the one setting New checks itself
// (a test setting, not channel configuration); the channel's own fields
// are checked by receiver (receiver.TestValidate).
func TestNewChecksAPIURL(t *testing.T) {
	const secret = "SECRETTOKENVALUE"
	_, err := slack.New(slack.Config{BotToken: "xoxb-" + secret, Channel: "C1", APIURL: "http://slack.example/api/"})
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Fatalf("err = %v, want %q", err, "https")
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatalf("error leaks the secret: %v", err)
	}
	for _, ok := range []string{"https://hooks.slack.com/services/T/B/x", "http://127.0.0.1:1/services/T/B/x", "http://localhost/x/y", "http://[::1]:8/a/b"} {
		if _, err := slack.New(slack.Config{WebhookURL: ok}); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	other := notifytest.NewSlack(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.WebhookURL, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	n, err := slack.New(slack.Config{WebhookURL: redirector.URL + "/services/T/B/SECRETPATHTOKEN", MinInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), notifytest.SampleDigest())
	if err == nil || other.Requests() != 0 {
		t.Fatalf("err = %v, other host got %d requests", err, other.Requests())
	}
	if strings.Contains(err.Error(), "SECRETPATHTOKEN") {
		t.Fatalf("error leaks: %v", err)
	}
}

func TestRenderPlainText(t *testing.T) {
	out := slack.PlainText(slack.Render(notifytest.SampleDigest(), nil, 0))
	for _, want := range []string{"[push] 1100AB01 (en): read rate fell to 8.1% (+1 more)", "cams-alert · 1 alert, 1 resolved", "1100AB01", "1100AB02"} {
		if !strings.Contains(out, want) {
			t.Errorf("plain text lacks %q:\n%s", want, out)
		}
	}
}

// In Chinese text, bold values are set off by zero-width spaces: Slack
// makes *…* bold only at word boundaries.
func TestBoldInChinese(t *testing.T) {
	for _, tc := range []struct {
		tag  string
		want string
	}{
		{"en", "read rate fell to *8.1%*, usually"},
		{"zh-CN", "阅读率降至 \u200b*8.1%*\u200b，平时"},
	} {
		msgs := slack.Render(notifytest.SampleDigest(), locale.Get(tc.tag), 0)
		b, err := json.Marshal(msgs[0])
		if err != nil {
			t.Fatal(err)
		}
		var m notifytest.SlackMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if text := m.BlockText(); !strings.Contains(text, tc.want) {
			t.Errorf("%s: %q lacks %q", tc.tag, text, tc.want)
		}
	}
}
