// Package receiver is the one schema and policy for where alerts go: a
// channel's type, its Slack webhook or bot token and channel, its DingTalk
// robot URL, signing secret and mentions, its message locale. Channels are
// declared in rule files (Decode, with positioned errors) or made from the
// environment (Channel.Validate); either way they are checked here once, and
// the notifiers trust what they are given.
package receiver

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/cams-alert/cams-alert/function/webhook"
)

// Type is a channel's platform.
type Type string

// Channel types.
const (
	Slack    Type = "slack"
	DingTalk Type = "dingtalk"
)

// Types lists the channel types in the order messages name them.
var Types = []Type{Slack, DingTalk}

// Message locales.
const (
	English = "en"
	Chinese = "zh-CN"
)

// Locales lists the locales a channel may ask for.
var Locales = []string{English, Chinese}

// Channel is a named, validated destination. Its secret fields (WebhookURL,
// BotToken, Secret) hold expanded values: never log them; String redacts
// them.
type Channel struct {
	Name string
	Type Type
	// WebhookURL is the incoming webhook (Slack) or robot URL (DingTalk).
	WebhookURL string
	// BotToken and SlackChannel: Slack chat.postMessage instead of a webhook.
	BotToken     string
	SlackChannel string
	// Secret signs DingTalk requests.
	Secret    string
	AtMobiles []string
	AtUserIDs []string
	// SendResolved, when set, overrides the rules' send_resolved for this
	// channel (false: this channel never hears resolutions).
	SendResolved *bool
	// Locale is the language of the channel's messages: English or Chinese;
	// "" means the run's default (MESSAGE_LOCALE).
	Locale string
	// File and Line say where a rule file declared the channel (empty for
	// one made from the environment).
	File string
	Line int
}

// String describes the channel without any secret.
func (c *Channel) String() string {
	if c == nil {
		return "<nil channel>"
	}
	return fmt.Sprintf("%s (%s)", c.Name, c.Type)
}

// GoString keeps %#v from printing secrets too.
func (c *Channel) GoString() string { return c.String() }

// LocaleOr is the channel's locale, or def when it names none.
func (c *Channel) LocaleOr(def string) string {
	if c.Locale != "" {
		return c.Locale
	}
	if def == "" {
		return English
	}
	return def
}

// problem is one thing wrong with a channel: the field (and list item, from
// 1) it is about, and a message that never echoes a value.
type problem struct {
	field string
	item  int
	msg   string
}

// Validate checks a channel made in code (from the environment) with the
// policy Decode applies to declared ones.
func (c *Channel) Validate() error {
	var errs []error
	for _, p := range c.problems(nil, nil) {
		errs = append(errs, fmt.Errorf("channel %s: %s", c.Name, p.text()))
	}
	return errors.Join(errs...)
}

func (p problem) text() string {
	if p.field == "" {
		return p.msg
	}
	if p.item > 0 {
		return fmt.Sprintf("%s: item %d %s", p.field, p.item, p.msg)
	}
	return p.field + " " + p.msg
}

// problems lists what is wrong. given says which fields were written (nil:
// the non-empty ones), so that an empty ${VAR} is "empty", not "missing";
// the values of bad fields are not checked (their problem is known).
func (c *Channel) problems(given, bad map[string]bool) []problem {
	if given == nil {
		given = c.nonEmpty()
	}
	has := func(f string) bool { return given[f] && !bad[f] }
	var ps []problem
	switch c.Type {
	case Slack:
		ps = c.slackProblems(given, has)
	case DingTalk:
		ps = c.dingTalkProblems(given, has)
	default:
		return []problem{{msg: fmt.Sprintf("unknown type %q (want slack or dingtalk)", c.Type)}}
	}
	if has("webhook_url") {
		if msg := checkURL(c.WebhookURL); msg != "" {
			ps = append(ps, problem{field: "webhook_url", msg: msg})
		}
	}
	if has("locale") && c.Locale != English && c.Locale != Chinese {
		ps = append(ps, problem{field: "locale", msg: fmt.Sprintf("%q is not a locale (want en or zh-CN)", c.Locale)})
	}
	return ps
}

func (c *Channel) nonEmpty() map[string]bool {
	return map[string]bool{"webhook_url": c.WebhookURL != "", "bot_token": c.BotToken != "",
		"channel": c.SlackChannel != "", "secret": c.Secret != "", "locale": c.Locale != "",
		"at_mobiles": true, "at_user_ids": true}
}

func (c *Channel) slackProblems(given map[string]bool, has func(string) bool) []problem {
	hook, tok, ch := given["webhook_url"], given["bot_token"], given["channel"]
	var ps []problem
	switch {
	case hook && (tok || ch):
		ps = append(ps, problem{msg: "give either webhook_url or bot_token + channel, not both"})
	case !hook && !tok && !ch:
		ps = append(ps, problem{msg: "slack needs webhook_url, or bot_token and channel"})
	case !hook && tok && !ch:
		ps = append(ps, problem{msg: "bot_token needs channel"})
	case !hook && ch && !tok:
		ps = append(ps, problem{msg: "channel needs bot_token"})
	}
	if has("bot_token") && c.BotToken == "" {
		ps = append(ps, problem{field: "bot_token", msg: "is empty"})
	} else if has("bot_token") && strings.ContainsAny(c.BotToken, " \t\r\n") {
		ps = append(ps, problem{field: "bot_token", msg: "contains white space"})
	}
	if has("channel") && c.SlackChannel == "" {
		ps = append(ps, problem{field: "channel", msg: "is empty"})
	}
	return ps
}

var (
	mobileRE = regexp.MustCompile(`^\+?[0-9][0-9-]{2,24}$`)
	userIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.$-]{0,63}$`)
)

func (c *Channel) dingTalkProblems(given map[string]bool, has func(string) bool) []problem {
	var ps []problem
	if !given["webhook_url"] {
		ps = append(ps, problem{msg: "dingtalk needs webhook_url"})
	} else if u, err := url.Parse(c.WebhookURL); has("webhook_url") && err == nil && checkURL(c.WebhookURL) == "" && u.Query().Get("access_token") == "" {
		ps = append(ps, problem{field: "webhook_url", msg: "has no access_token"})
	}
	// The values are not echoed: they may come from a ${VAR}.
	for i, m := range c.AtMobiles {
		if !has("at_mobiles") {
			break
		}
		if !mobileRE.MatchString(m) {
			ps = append(ps, problem{field: "at_mobiles", item: i + 1, msg: "is not a phone number (digits, optionally +country-)"})
		}
	}
	for i, id := range c.AtUserIDs {
		if !has("at_user_ids") {
			break
		}
		if !userIDRE.MatchString(id) {
			ps = append(ps, problem{field: "at_user_ids", item: i + 1, msg: "is not a user id"})
		}
	}
	return ps
}

// checkURL returns "" or what is wrong, never echoing the URL: https, or
// http on a loopback host (webhook.IsLoopback), as tests use.
func checkURL(s string) string {
	if s == "" {
		return "is empty"
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "is not a valid URL"
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return ""
	case "http":
		if webhook.IsLoopback(u.Hostname()) {
			return ""
		}
		return "must use https (http is allowed only for loopback hosts)"
	default:
		return "must be an https URL"
	}
}
