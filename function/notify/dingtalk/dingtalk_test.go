package dingtalk_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/dingtalk"
	"github.com/cams-alert/cams-alert/function/notify/notifytest"
)

const secret = "SECxDINGsecret0123456789abcdef"

func newNotifier(t *testing.T, fake *notifytest.DingTalk, mod func(*dingtalk.Config)) *dingtalk.Notifier {
	t.Helper()
	c := dingtalk.Config{Name: "ops-ding", WebhookURL: fake.WebhookURL, Secret: fake.Secret, SendResolved: true, MinInterval: -1}
	if mod != nil {
		mod(&c)
	}
	n, err := dingtalk.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func assertNoSecrets(t *testing.T, fake *notifytest.DingTalk, s string) {
	t.Helper()
	for _, sec := range []string{fake.AccessToken, secret, "access_token=", "sign=", fake.WebhookURL} {
		if strings.Contains(s, sec) {
			t.Errorf("%q leaks %q", s, sec)
		}
	}
}

func TestPayloadAndSignature(t *testing.T) {
	for _, sec := range []string{secret, ""} {
		t.Run(fmt.Sprintf("secret=%v", sec != ""), func(t *testing.T) {
			fake := notifytest.NewDingTalk(t, sec)
			n := newNotifier(t, fake, func(c *dingtalk.Config) { c.AtMobiles = []string{"13800000000"} })
			d := notifytest.SampleDigest()
			d.Health = []alert.Problem{{Channel: "ops-slack", Code: "HTTP 404", Message: "channel_not_found"}}
			if err := n.Notify(context.Background(), d); err != nil {
				t.Fatalf("%v (problems %v)", err, fake.Problems())
			}
			msgs := fake.Messages()
			if len(msgs) != 1 {
				t.Fatalf("%d messages, problems %v", len(msgs), fake.Problems())
			}
			m := msgs[0]
			if sec != "" && time.Since(time.UnixMilli(m.Timestamp)) > time.Minute {
				t.Errorf("timestamp %d", m.Timestamp)
			}
			if m.Title != "1100AB01 (en): read rate fell to 8.1% (+1 more)" {
				t.Errorf("title %q", m.Title)
			}
			for _, want := range []string{
				"### cams-alert · 1 alert, 1 resolved, 1 monitor problem\n\nPeriod: Sun 10 May (Asia/Shanghai)\n\n",
				"#### ⚠️ Monitor health\n\n- channel ops-slack could not be reached: HTTP 404 — channel_not_found",
				"#### 1100AB01 · en\n\n🔴 **Critical** · read rate fell to **8.1%**, usually 61.2% (-87%) · 12,480 delivered\n\n> Trend 62.0% → 61.0% → 8.1% · rule read-rate-drop",
				"#### 1100AB02 · es\n\n✅ **Resolved** · button “Ver oferta”: **37** clicks again, usually 42 · 18,230 delivered\n\n> lasted 2 days · rule zero-clicks",
				"\n\n@13800000000",
			} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("text lacks %q:\n%s", want, m.Text)
				}
			}
			if strings.Index(m.Text, "1100AB01") > strings.Index(m.Text, "1100AB02") {
				t.Errorf("critical alert not first")
			}
			if got := m.Mentioned(); len(got) != 1 || got[0] != "13800000000" {
				t.Errorf("mentioned %v", got)
			}
		})
	}
}

func TestSign(t *testing.T) {
	// base64(HMAC-SHA256(key=secret, "1700000000000\nsecret"))
	got := dingtalk.Sign("secret", 1700000000000)
	if len(got) != 44 || !strings.HasSuffix(got, "=") {
		t.Fatalf("sign %q", got)
	}
	fake := notifytest.NewDingTalk(t, secret)
	n := newNotifier(t, fake, func(c *dingtalk.Config) { c.Secret = "wrong-secret-value" })
	err := n.Notify(context.Background(), notifytest.SampleDigest())
	if err == nil || !strings.Contains(err.Error(), "310000") || strings.Contains(err.Error(), "wrong-secret-value") {
		t.Fatalf("err = %v", err)
	}
}

func TestMentionsOnlyConfigured(t *testing.T) {
	fake := notifytest.NewDingTalk(t, secret)
	n := newNotifier(t, fake, func(c *dingtalk.Config) {
		c.AtMobiles = []string{"13800000000"}
		c.AtUserIDs = []string{"manager01"}
	})
	d := notifytest.SampleDigest()
	d.Items[0].TemplateName = "alert @13900000000 @all" // heading and title
	d.Items[0].Template = "@13900000000"
	d.Items[0].Button = "@all [click](https://evil.example) <font color=red>x</font>"
	d.Items[0].Summary = "call @13900000000\n\n### heading\n**bold** _em_ `code` ![img](https://evil.example/i.png) @manager02"
	d.Items[0].CustomSummary = true
	d.Items[1].Rule = "r@13700000000"
	d.Health = []alert.Problem{{Template: "@13600000000", Code: "X", Message: "[x](https://evil.example)"}}
	if err := n.Notify(context.Background(), d); err != nil {
		t.Fatalf("%v (problems %v)", err, fake.Problems())
	}
	if p := fake.Problems(); len(p) > 0 {
		t.Fatalf("unsafe text: %v", p)
	}
	m := fake.Messages()[0]
	for _, bad := range []string{"@139", "@137", "@136", "@all", "@manager02", "](", "<font", "\n### heading", "**bold**", "`code`", "_em_"} {
		if strings.Contains(m.Text, bad) || strings.Contains(m.Title, bad) {
			t.Errorf("%q sent raw:\n%s", bad, m.Text)
		}
	}
	for _, want := range []string{"＠13900000000", "［click］(https://evil.example)", "‹font color=red›", "∗∗bold∗∗", "＿em＿"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if got := strings.Join(m.Mentioned(), ","); got != "13800000000,manager01" {
		t.Errorf("mentioned %s", got)
	}
	if m.IsAtAll {
		t.Error("isAtAll set")
	}
}

func TestNoMentionForResolvedOnly(t *testing.T) {
	fake := notifytest.NewDingTalk(t, secret)
	n := newNotifier(t, fake, func(c *dingtalk.Config) { c.AtMobiles = []string{"13800000000"} })
	d := notifytest.SampleDigest()
	d.Items = d.Items[:1] // the resolved one
	if err := n.Notify(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if m := fake.Messages()[0]; len(m.AtMobiles) > 0 || strings.Contains(m.Text, "@") {
		t.Fatalf("resolved-only digest mentions: %+v", m)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"order_update_v2", "order_update_v2"},
		{"_em_ *b* #h [l](u) <b> `c` ~s~ a|b a&b \\", "＿em＿ ∗b∗ ＃h ［l］(u) ‹b› ˋcˋ ～s～ a｜b a＆b ＼"},
		{"line1\n\n# line2\r\n@13800000000", "line1 ＃ line2 ＠13800000000"},
	}
	for _, tt := range tests {
		if got := dingtalk.Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var moreRe = regexp.MustCompile(`and (\d+) more alerts? `)

func TestSplitting(t *testing.T) {
	tests := []struct {
		name        string
		items       []alert.Item
		maxMessages int
		wantParts   int
		wantMore    string
	}{
		{name: "fits in one", items: notifytest.ManyItems(20, 200), wantParts: 1},
		{name: "split by bytes", items: notifytest.ManyItems(30, 2000), wantParts: 4},
		{name: "multibyte text", items: func() []alert.Item {
			its := notifytest.ManyItems(12, 10)
			for i := range its {
				its[i].Summary = strings.Repeat("阅读率下降", 300) // 4500 bytes
			}
			return its
		}(), wantParts: 3},
		{name: "capped with n more", items: notifytest.ManyItems(100, 2000), maxMessages: 2, wantParts: 2,
			wantMore: "more alerts not shown (message limit reached)"},
		{name: "huge summary cut", items: func() []alert.Item {
			its := notifytest.ManyItems(1, 10)
			its[0].Summary = strings.Repeat("数", 30000)
			return its
		}(), wantParts: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := notifytest.NewDingTalk(t, secret)
			n := newNotifier(t, fake, func(c *dingtalk.Config) {
				c.MaxMessages = tt.maxMessages
				c.AtMobiles = []string{"13800000000"}
			})
			d := notifytest.SampleDigest()
			d.Items = tt.items
			if err := n.Notify(context.Background(), d); err != nil {
				t.Fatalf("%v (problems %v)", err, fake.Problems())
			}
			msgs := fake.Messages()
			if len(msgs) != tt.wantParts {
				t.Fatalf("%d messages, want %d", len(msgs), tt.wantParts)
			}
			shown := 0
			for i, m := range msgs {
				if len(m.Text) > dingtalk.MaxTextBytes {
					t.Errorf("message %d: %d bytes", i, len(m.Text))
				}
				if !strings.Contains(m.Text, "\uFFFD") && !isValidUTF8(m.Text) {
					t.Errorf("message %d not valid UTF-8", i)
				}
				if tt.wantParts > 1 && !strings.HasSuffix(m.Title, fmt.Sprintf("(part %d/%d)", i+1, tt.wantParts)) {
					t.Errorf("title %q", m.Title)
				}
				if (i == 0) != (len(m.AtMobiles) > 0) {
					t.Errorf("message %d: at %v (mentions belong to the first part only)", i, m.AtMobiles)
				}
				shown += strings.Count(m.Text, "🟠 **Warning**")
			}
			last := msgs[len(msgs)-1].Text
			more := 0
			if m := moreRe.FindStringSubmatch(last); m != nil {
				more, _ = strconv.Atoi(m[1])
			}
			if shown+more != len(tt.items) {
				t.Errorf("%d shown + %d more != %d", shown, more, len(tt.items))
			}
			if tt.wantMore != "" && !strings.Contains(last, tt.wantMore) {
				t.Errorf("last message lacks %q", tt.wantMore)
			}
			if tt.name == "huge summary cut" && !strings.Contains(msgs[0].Text, "数…") {
				t.Errorf("cut not marked with …")
			}
		})
	}
}

func isValidUTF8(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		script    func(*notifytest.DingTalk)
		retryable bool
		after     time.Duration
		want      []string
	}{
		{name: "130101 rate limited", script: func(d *notifytest.DingTalk) { d.RateLimitNext(1) },
			retryable: true, after: dingtalk.RateLimitWait, want: []string{"130101", "send too fast"}},
		{name: "310000 permanent with hint", script: func(d *notifytest.DingTalk) { d.BadSignNext(1) },
			want: []string{"310000", "sign not match", "check the robot's secret (sign), its security keywords and its IP allow-list"}},
		{name: "other errcode permanent", script: func(d *notifytest.DingTalk) { d.ErrcodeNext(1, 300001, "token is not exist") },
			want: []string{"errcode 300001: token is not exist"}},
		{name: "system busy retryable", script: func(d *notifytest.DingTalk) { d.ErrcodeNext(1, -1, "系统繁忙") },
			retryable: true, want: []string{"系统繁忙"}},
		{name: "5xx retryable", script: func(d *notifytest.DingTalk) { d.FailNext(1, 502, "bad gateway") },
			retryable: true, want: []string{"HTTP 502: bad gateway"}},
		{name: "4xx permanent", script: func(d *notifytest.DingTalk) { d.FailNext(1, 403, "forbidden") },
			want: []string{"HTTP 403: forbidden"}},
		{name: "429 retry-after", script: func(d *notifytest.DingTalk) {
			d.Script(1, notifytest.Response{Status: 429, Header: map[string]string{"Retry-After": "9"}})
		}, retryable: true, after: 9 * time.Second, want: []string{"HTTP 429"}},
		{name: "not JSON", script: func(d *notifytest.DingTalk) { d.FailNext(1, 200, "<html>portal</html>") },
			want: []string{"unexpected reply"}},
		{name: "timeout retryable", script: func(d *notifytest.DingTalk) { d.HangNext(1, 3*time.Second) },
			retryable: true},
		{name: "echoed secrets scrubbed", script: func(d *notifytest.DingTalk) {
			d.ErrcodeNext(1, 400, "bad request "+d.WebhookURL+" secret "+secret)
		}, want: []string{"errcode 400: bad request"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := notifytest.NewDingTalk(t, secret)
			n := newNotifier(t, fake, func(c *dingtalk.Config) {
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
			if err := n.Notify(context.Background(), notifytest.SampleDigest()); err != nil {
				t.Fatalf("second attempt: %v", err)
			}
		})
	}
}

func TestSendRetries130101(t *testing.T) {
	fake := notifytest.NewDingTalk(t, secret)
	n := newNotifier(t, fake, nil)
	fake.RateLimitNext(2)
	var waits []time.Duration
	err := notify.Send(context.Background(), n, notifytest.SampleDigest(), func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(waits) != 2 || waits[0] != time.Minute || waits[1] != time.Minute {
		t.Fatalf("waits %v", waits)
	}
	if len(fake.Messages()) != 1 {
		t.Fatalf("%d messages", len(fake.Messages()))
	}
	// a run budget too short for the wait gives up with the reason
	fake.RateLimitNext(1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = notify.Send(ctx, n, notifytest.SampleDigest(), nil)
	if err == nil || !strings.Contains(err.Error(), "no time left") || !strings.Contains(err.Error(), "130101") {
		t.Fatalf("err = %v", err)
	}
}

func TestRetrySendsOnlyMissingParts(t *testing.T) {
	fake := notifytest.NewDingTalk(t, secret)
	n := newNotifier(t, fake, nil)
	d := notifytest.SampleDigest()
	d.Items = notifytest.ManyItems(30, 2000) // 4 parts
	fake.Script(2, notifytest.Response{})
	fake.FailNext(1, 500, "oops")
	if err := notify.Send(context.Background(), n, d, func(context.Context, time.Duration) error { return nil }); err != nil {
		t.Fatal(err)
	}
	msgs := fake.Messages()
	if len(msgs) != 4 {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, m := range msgs {
		if !strings.HasSuffix(m.Title, fmt.Sprintf("(part %d/4)", i+1)) {
			t.Errorf("message %d: %q", i, m.Title)
		}
	}
}

func TestPacingAndFakeRateLimit(t *testing.T) {
	fake := notifytest.NewDingTalk(t, secret)
	n := newNotifier(t, fake, func(c *dingtalk.Config) { c.MinInterval = 50 * time.Millisecond })
	d := notifytest.SampleDigest()
	d.Items = notifytest.ManyItems(30, 2000) // 4 parts
	start := time.Now()
	if err := n.Notify(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Fatalf("4 messages in %v", el)
	}
	if dingtalk.DefaultMinInterval*20 < time.Minute {
		t.Fatal("default pacing exceeds 20 messages a minute")
	}
	// the fake enforces 20/minute like the robot
	fast := newNotifier(t, fake, nil)
	var err error
	for i := 0; i < 20 && err == nil; i++ {
		err = fast.Notify(context.Background(), notifytest.SampleDigest())
	}
	if ok, _ := notify.IsRetryable(err); !ok || !strings.Contains(err.Error(), "130101") {
		t.Fatalf("err = %v", err)
	}
}

func TestRedirectToOtherHostRefused(t *testing.T) {
	other := notifytest.NewDingTalk(t, "")
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.Server.URL+"/robot/send?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	n, err := dingtalk.New(dingtalk.Config{WebhookURL: redirector.URL + "/robot/send?access_token=SECRETTOKENX", Secret: secret, MinInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	err = n.Notify(context.Background(), notifytest.SampleDigest())
	if err == nil || other.Requests() != 0 {
		t.Fatalf("err = %v, other host got %d requests", err, other.Requests())
	}
	if strings.Contains(err.Error(), "SECRETTOKENX") || strings.Contains(err.Error(), url.QueryEscape(secret)) {
		t.Fatalf("leak: %v", err)
	}
}

func TestRenderPlainText(t *testing.T) {
	out := dingtalk.PlainText(dingtalk.Render(notifytest.SampleDigest(), nil, dingtalk.Mentions{}, 0))
	if !strings.Contains(out, "1100AB01") || !strings.Contains(out, "1100AB02") {
		t.Fatal(out)
	}
}
