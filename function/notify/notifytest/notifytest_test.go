package notifytest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/notify/dingtalk"
	"github.com/cams-alert/cams-alert/function/notify/notifytest"
)

func post(t *testing.T, u, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func section(text string) string {
	b, _ := json.Marshal(text)
	return `{"type":"section","text":{"type":"mrkdwn","text":` + string(b) + `}}`
}

func TestSlackFakeValidates(t *testing.T) {
	many := make([]string, 51)
	for i := range many {
		many[i] = section("x")
	}
	tests := []struct {
		name   string
		body   string
		status int
		reply  string
	}{
		{"ok", `{"text":"hi","blocks":[` + section("a &amp; b &lt;!channel&gt;") + `]}`, 200, "ok"},
		{"not json", `{`, 400, "invalid_payload"},
		{"51 blocks", `{"blocks":[` + strings.Join(many, ",") + `]}`, 400, "invalid_blocks"},
		{"section too long", `{"blocks":[` + section(strings.Repeat("x", 3001)) + `]}`, 400, "invalid_blocks"},
		{"unknown block", `{"blocks":[{"type":"bogus"}]}`, 400, "invalid_blocks"},
		{"raw channel mention", `{"blocks":[` + section("hey <!channel>") + `]}`, 400, "invalid_blocks"},
		{"raw link in text", `{"text":"<https://evil|click>"}`, 400, "invalid_blocks"},
		{"bare ampersand", `{"blocks":[` + section("a & b") + `]}`, 400, "invalid_blocks"},
		{"header not plain", `{"blocks":[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]}`, 400, "invalid_blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := notifytest.NewSlack(t)
			status, reply := post(t, s.WebhookURL, "application/json", tt.body, nil)
			if status != tt.status || reply != tt.reply {
				t.Fatalf("got %d %q, want %d %q (problems %v)", status, reply, tt.status, tt.reply, s.Problems())
			}
			if (status == 200) != (len(s.Messages()) == 1) || (status == 200) != (len(s.Problems()) == 0) {
				t.Fatalf("messages %d problems %v", len(s.Messages()), s.Problems())
			}
		})
	}
	s := notifytest.NewSlack(t)
	if status, _ := post(t, strings.Replace(s.WebhookURL, s.WebhookToken, "wrong", 1), "application/json", `{"text":"x"}`, nil); status != 403 {
		t.Errorf("wrong token: %d", status)
	}
	form := url.Values{"channel": {"C1"}, "text": {"hi"}}.Encode()
	if _, reply := post(t, s.APIURL+"chat.postMessage", "application/x-www-form-urlencoded", form, nil); !strings.Contains(reply, "not_authed") {
		t.Errorf("no bearer: %s", reply)
	}
	if _, reply := post(t, s.APIURL+"chat.postMessage", "application/x-www-form-urlencoded", form,
		map[string]string{"Authorization": "Bearer " + s.BotToken}); !strings.Contains(reply, `"ok":true`) {
		t.Errorf("bearer: %s", reply)
	}
	s.RateLimitNext(1, 5)
	req, _ := http.NewRequest(http.MethodPost, s.WebhookURL, strings.NewReader(`{"text":"x"}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "5" {
		t.Errorf("scripted 429: %d %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestDingTalkFakeValidates(t *testing.T) {
	const secret = "SECfake"
	good := func(text string, mobiles ...string) string {
		b, _ := json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": "t", "text": text},
			"at": map[string]any{"atMobiles": mobiles}})
		return string(b)
	}
	now := time.Now().UnixMilli()
	signed := func(d *notifytest.DingTalk, ts int64, sec string) string {
		return d.WebhookURL + "&timestamp=" + strconv.FormatInt(ts, 10) + "&sign=" + url.QueryEscape(dingtalk.Sign(sec, ts))
	}
	tests := []struct {
		name    string
		url     func(*notifytest.DingTalk) string
		body    string
		errcode int
	}{
		{"ok", func(d *notifytest.DingTalk) string { return signed(d, now, secret) }, good("hi\n\n@13800000000", "13800000000"), 0},
		{"bad sign", func(d *notifytest.DingTalk) string { return signed(d, now, "other") }, good("hi"), 310000},
		{"old timestamp", func(d *notifytest.DingTalk) string { return signed(d, now-2*3600*1000, secret) }, good("hi"), 310000},
		{"no sign", func(d *notifytest.DingTalk) string { return d.WebhookURL }, good("hi"), 310000},
		{"bad token", func(d *notifytest.DingTalk) string {
			return strings.Replace(signed(d, now, secret), d.AccessToken, "nope", 1)
		}, good("hi"), 300001},
		{"text msgtype", func(d *notifytest.DingTalk) string { return signed(d, now, secret) }, `{"msgtype":"text","text":{"content":"x"}}`, 40035},
		{"too long", func(d *notifytest.DingTalk) string { return signed(d, now, secret) }, good(strings.Repeat("数", 6667)), 460101},
		{"unlisted mention", func(d *notifytest.DingTalk) string { return signed(d, now, secret) }, good("call @13900000000"), 499999},
		{"listed but not in text", func(d *notifytest.DingTalk) string { return signed(d, now, secret) }, good("hi", "13800000000"), 499999},
		{"raw link", func(d *notifytest.DingTalk) string { return signed(d, now, secret) }, good("[x](https://evil)"), 499999},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := notifytest.NewDingTalk(t, secret)
			_, reply := post(t, tt.url(d), "application/json", tt.body, nil)
			var r struct{ Errcode int }
			_ = json.Unmarshal([]byte(reply), &r)
			if r.Errcode != tt.errcode {
				t.Fatalf("reply %s, want errcode %d", reply, tt.errcode)
			}
			if (r.Errcode == 0) != (len(d.Messages()) == 1) {
				t.Fatalf("messages %d", len(d.Messages()))
			}
		})
	}
	d := notifytest.NewDingTalk(t, "")
	for i := range 21 {
		_, reply := post(t, d.WebhookURL, "application/json", good(fmt.Sprint("m", i)), nil)
		if want := i == 20; strings.Contains(reply, "130101") != want {
			t.Fatalf("message %d: %s", i, reply)
		}
	}
}
