package main

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/config"
	"github.com/cams-alert/cams-alert/function/monitor"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/console"
	"github.com/cams-alert/cams-alert/function/notify/dingtalk"
	"github.com/cams-alert/cams-alert/function/notify/slack"
	"github.com/cams-alert/cams-alert/function/rules"
)

// lookupEnv reads a ${VAR} of the rules the way config reads its own
// variables: without stray whitespace, and empty as unset.
func (a *app) lookupEnv(name string) (string, bool) {
	v, ok := a.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// webhookTimeout bounds one request to a chat platform.
const webhookTimeout = 15 * time.Second

// Names of the channels made from SLACK_* and DINGTALK_* variables.
const (
	envSlack    = "slack"
	envDingTalk = "dingtalk"
)

// errNoChannel: a real run with nowhere to send is a configuration error.
var errNoChannel = errors.New("no channel to notify: set SLACK_WEBHOOK_URL (or SLACK_BOT_TOKEN and SLACK_CHANNEL) or DINGTALK_WEBHOOK_URL, or declare channels in the rules")

// channels builds a notifier per channel: the rules' channels plus the
// default ones from the environment. Defaults take rules that name no channel
// and the monitor-health message: the environment's channels when set, else
// the rules' `defaults.notify`. A dry run swaps every notifier for a console.
func (a *app) channels(cfg *config.Config, set *rules.Set, dryRun bool, dry func(string) *console.Notifier) (map[string]monitor.Channel, []string, error) {
	// The monitor decides which resolutions are due (per rule and channel);
	// the notifiers render whatever they are handed.
	out := map[string]monitor.Channel{}
	var defaults []string
	// Redirects to another host are refused: a webhook's token must not
	// follow a redirect anywhere else.
	timeout := webhookTimeout
	if a.tune.webhookTimeout > 0 {
		timeout = a.tune.webhookTimeout
	}
	client := notify.HTTPClient(&http.Client{Timeout: timeout})
	add := func(name string, n notify.Notifier, err error, sendResolved *bool) error {
		if err != nil {
			return fmt.Errorf("channel %s: %w", name, err)
		}
		if dryRun {
			n = dry(name)
		}
		out[name] = monitor.Channel{Notifier: n, SendResolved: sendResolved}
		return nil
	}
	var errs []error
	for name, c := range set.Channels {
		var n notify.Notifier
		var err error
		switch c.Type {
		case "slack":
			n, err = slack.New(slack.Config{Name: name, WebhookURL: c.WebhookURL, BotToken: c.BotToken,
				Channel: c.SlackChannel, HTTPClient: client, SendResolved: true, MinInterval: a.tune.minInterval})
		case "dingtalk":
			n, err = dingtalk.New(dingtalk.Config{Name: name, WebhookURL: c.WebhookURL, Secret: c.Secret,
				AtMobiles: c.AtMobiles, AtUserIDs: c.AtUserIDs, HTTPClient: client, SendResolved: true, MinInterval: a.tune.minInterval})
		default:
			err = fmt.Errorf("unknown type %q", c.Type)
		}
		if e := add(name, n, err, c.SendResolved); e != nil {
			errs = append(errs, e)
		}
	}
	if cfg.SlackWebhookURL != "" || cfg.SlackBotToken != "" {
		if _, taken := out[envSlack]; !taken {
			n, err := slack.New(slack.Config{Name: envSlack, WebhookURL: cfg.SlackWebhookURL,
				BotToken: cfg.SlackBotToken, Channel: cfg.SlackChannel, HTTPClient: client, SendResolved: true, MinInterval: a.tune.minInterval})
			if e := add(envSlack, n, err, nil); e != nil {
				errs = append(errs, e)
			}
		}
		defaults = append(defaults, envSlack)
	}
	if cfg.DingTalkWebhookURL != "" {
		if _, taken := out[envDingTalk]; !taken {
			n, err := dingtalk.New(dingtalk.Config{Name: envDingTalk, WebhookURL: cfg.DingTalkWebhookURL,
				Secret: cfg.DingTalkSecret, HTTPClient: client, SendResolved: true, MinInterval: a.tune.minInterval})
			if e := add(envDingTalk, n, err, nil); e != nil {
				errs = append(errs, e)
			}
		}
		defaults = append(defaults, envDingTalk)
	}
	if len(defaults) == 0 {
		defaults = append(defaults, set.Defaults.Notify...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if len(out) == 0 {
		if !dryRun {
			return nil, nil, errNoChannel
		}
		// A dry run with nowhere to send still shows what would go out.
		out["terminal"] = monitor.Channel{Notifier: dry("terminal")}
		defaults = []string{"terminal"}
	}
	if len(defaults) == 0 {
		names := make([]string, 0, len(out))
		for n := range out {
			names = append(names, n)
		}
		sort.Strings(names)
		defaults = names
	}
	return out, defaults, nil
}
