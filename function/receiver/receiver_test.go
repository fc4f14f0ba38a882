package receiver

import (
	"strings"
	"testing"

	"github.com/cams-alert/cams-alert/function/yamldiag"
)

// TestValidate: a channel made in code (from the environment) gets the
// policy declared ones get; errors never carry a secret. These are the cases
// slack.New and dingtalk.New checked before the receiver did.
func TestValidate(t *testing.T) {
	const secret = "SECRETTOKENVALUE"
	tests := []struct {
		name string
		c    Channel
		want string
	}{
		{"slack nothing", Channel{Type: Slack}, "slack needs webhook_url, or bot_token and channel"},
		{"slack both", Channel{Type: Slack, WebhookURL: "https://hooks.slack.com/services/T/B/" + secret, BotToken: "xoxb-" + secret}, "not both"},
		{"slack http", Channel{Type: Slack, WebhookURL: "http://hooks.slack.com/services/T/B/" + secret}, "https"},
		{"slack not a url", Channel{Type: Slack, WebhookURL: "hooks.slack.com/services/T/B/" + secret}, "is not a valid URL"},
		{"slack bot without channel", Channel{Type: Slack, BotToken: "xoxb-" + secret}, "bot_token needs channel"},
		{"slack token with space", Channel{Type: Slack, BotToken: "xoxb-" + secret + " x", SlackChannel: "C1"}, "bot_token contains white space"},
		{"dingtalk no url", Channel{Type: DingTalk}, "dingtalk needs webhook_url"},
		{"dingtalk http", Channel{Type: DingTalk, WebhookURL: "http://oapi.dingtalk.com/robot/send?access_token=" + secret}, "https"},
		{"dingtalk no token", Channel{Type: DingTalk, WebhookURL: "https://oapi.dingtalk.com/robot/send"}, "no access_token"},
		{"dingtalk bad mobile", Channel{Type: DingTalk, WebhookURL: "https://oapi.dingtalk.com/robot/send?access_token=" + secret, AtMobiles: []string{"138 **x**"}}, "at_mobiles: item 1 is not a phone number"},
		{"dingtalk bad user id", Channel{Type: DingTalk, WebhookURL: "https://oapi.dingtalk.com/robot/send?access_token=" + secret, AtUserIDs: []string{"a b"}}, "at_user_ids: item 1 is not a user id"},
		{"bad locale", Channel{Type: Slack, WebhookURL: "https://hooks.slack.com/services/T/B/x", Locale: "fr"}, `locale "fr" is not a locale (want en or zh-CN)`},
		{"unknown type", Channel{Type: "pager"}, `unknown type "pager"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Name = "x"
			err := tt.c.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("error leaks the secret: %v", err)
			}
		})
	}
	for _, c := range []Channel{
		{Type: Slack, WebhookURL: "https://hooks.slack.com/services/T/B/x"},
		{Type: Slack, WebhookURL: "http://127.0.0.1:1/services/T/B/x", Locale: Chinese},
		{Type: Slack, WebhookURL: "http://[::1]:8/a/b"},
		{Type: Slack, BotToken: "xoxb-1", SlackChannel: "C1", Locale: English},
		{Type: DingTalk, WebhookURL: "https://oapi.dingtalk.com/robot/send?access_token=x", AtMobiles: []string{"+86-13800000000"}, AtUserIDs: []string{"u_1"}},
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%+v: %v", c.Type, err)
		}
	}
}

func TestLocaleOr(t *testing.T) {
	for _, tc := range []struct{ own, def, want string }{
		{"", "", English}, {"", Chinese, Chinese}, {English, Chinese, English}, {Chinese, "", Chinese},
	} {
		c := Channel{Locale: tc.own}
		if got := c.LocaleOr(tc.def); got != tc.want {
			t.Errorf("LocaleOr(%q) with %q = %q, want %q", tc.def, tc.own, got, tc.want)
		}
	}
}

// TestDecode: a declared channel's problems are reported at their place,
// once, without the value.
func TestDecode(t *testing.T) {
	env := map[string]string{"HOOK": "https://oapi.dingtalk.com/robot/send?access_token=SECRETTOK", "BARE": "https://oapi.dingtalk.com/robot/send",
		"SLACK_TOKEN": "xoxb-SECRET TOKEN", "TEAM": "#team"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	for _, tc := range []struct{ name, yaml, want string }{
		{"ok with locale", "{type: dingtalk, webhook_url: \"${HOOK}\", locale: zh-CN}", ""},
		{"bad locale", "{type: slack, webhook_url: \"https://hooks.slack.com/x\", locale: zh}", `f.yaml:1:65: channel c: locale "zh" is not a locale (want en or zh-CN)`},
		{"locale not a string", "{type: slack, webhook_url: \"https://hooks.slack.com/x\", locale: [en]}", "f.yaml:1:65: channel c: locale: want a string, got a list"},
		{"robot URL without access_token", "{type: dingtalk, webhook_url: \"${BARE}\"}", "f.yaml:1:31: channel c: webhook_url has no access_token"},
		{"token with a space", "{type: slack, bot_token: \"${SLACK_TOKEN}\", channel: \"${TEAM}\"}", "f.yaml:1:26: channel c: bot_token contains white space"},
		{"secret into a shown field", "{type: slack, bot_token: x, channel: \"${SLACK_TOKEN}\"}", "f.yaml:1:38: channel c: channel: ${SLACK_TOKEN} looks like a secret, which only webhook_url, bot_token and secret may take"},
		{"field of the other type", "{type: slack, webhook_url: \"https://hooks.slack.com/x\", at_mobiles: []}", "f.yaml:1:57: channel c: field at_mobiles is not used by slack channels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, ds := yamldiag.Parse("f.yaml", []byte(tc.yaml), yamldiag.DefaultLimits)
			if ds != nil {
				t.Fatal(ds)
			}
			rep := &yamldiag.Reporter{File: "f.yaml"}
			c := Decode(rep, "c", root, root, lookup)
			got := rep.Errs.Error()
			if got != tc.want || (c == nil) != (tc.want != "") {
				t.Errorf("got %q (channel %v), want %q", got, c, tc.want)
			}
			if strings.Contains(got, "SECRET") {
				t.Errorf("leak: %s", got)
			}
			if c != nil && tc.name == "ok with locale" && c.LocaleOr(English) != Chinese {
				t.Errorf("locale %q", c.Locale)
			}
		})
	}
}
