package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/config"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/monitor"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/console"
	"github.com/cams-alert/cams-alert/function/notify/dingtalk"
	"github.com/cams-alert/cams-alert/function/notify/locale"
	"github.com/cams-alert/cams-alert/function/notify/slack"
	"github.com/cams-alert/cams-alert/function/receiver"
	"github.com/cams-alert/cams-alert/function/rules"
	"github.com/cams-alert/cams-alert/function/silence"
)

// lookupEnv reads a ${VAR} of the rules the way config reads its own
// variables: without stray whitespace, and empty as unset.
func (a *app) lookupEnv(name string) (string, bool) {
	lookup := a.lookup
	if lookup == nil {
		lookup = os.LookupEnv
	}
	v, ok := lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

// config reads the configuration: from the process's environment with
// envconfig, or from the app's lookup (tests, each with its own).
func (a *app) config() (*config.Config, error) {
	if a.lookup == nil {
		return config.FromEnvironment()
	}
	return config.Load(a.lookup)
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
// environment's. The defaults (see defaultChannels) take the rules that
// name no channel and the monitor-health message. A dry run swaps every
// notifier for a console.
func (a *app) channels(cfg *config.Config, set *rules.Set, dryRun bool, dry func(string) *console.Notifier) (map[string]monitor.Channel, []string, error) {
	recv, defaults, err := receivers(cfg, set)
	if err != nil {
		return nil, nil, err
	}
	// Redirects to another host are refused: a webhook's token must not
	// follow a redirect anywhere else.
	timeout := webhookTimeout
	if a.tune.webhookTimeout > 0 {
		timeout = a.tune.webhookTimeout
	}
	client := notify.HTTPClient(&http.Client{Timeout: timeout})
	// The monitor decides which resolutions are due (per rule and channel);
	// the notifiers render whatever they are handed.
	out := map[string]monitor.Channel{}
	offers := &silence.Offers{ActionURL: cfg.ActionURL, Secret: cfg.ActionSecret,
		SlackEnabled: cfg.SlackSigningSecret != "", Issued: time.Now(), Preview: dryRun}
	var errs []error
	for name, c := range recv {
		n, err := a.notifier(c, client, cfg.MessageLocale)
		if err != nil {
			errs = append(errs, fmt.Errorf("channel %s: %w", name, err))
			continue
		}
		if dryRun {
			// shown as the platform will show it
			c := dry(name)
			if p, ok := n.(interface{ Preview(*notify.Digest) string }); ok {
				c.Preview = p.Preview
			}
			n = c
		}
		out[name] = monitor.Channel{Notifier: n, SendResolved: c.SendResolved, Actions: silenceActions(c, offers, cfg.MessageLocale)}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	if len(out) == 0 {
		if !dryRun {
			return nil, nil, errNoChannel
		}
		// A dry run with nowhere to send still shows what would go out.
		term := dry("terminal")
		term.Locale = locale.Get(cfg.MessageLocale)
		out["terminal"] = monitor.Channel{Notifier: term}
		defaults = []string{"terminal"}
	}
	return out, defaults, nil
}

// notifier makes the notifier of a validated channel; a channel that names
// no locale speaks MESSAGE_LOCALE's.
func (a *app) notifier(c *receiver.Channel, client *http.Client, defaultLocale string) (notify.Notifier, error) {
	locale := c.LocaleOr(defaultLocale)
	switch c.Type {
	case receiver.Slack:
		return slack.New(slack.Config{Name: c.Name, WebhookURL: c.WebhookURL, BotToken: c.BotToken,
			Channel: c.SlackChannel, HTTPClient: client, SendResolved: true, MinInterval: a.tune.minInterval, Locale: locale})
	case receiver.DingTalk:
		return dingtalk.New(dingtalk.Config{Name: c.Name, WebhookURL: c.WebhookURL, Secret: c.Secret,
			AtMobiles: c.AtMobiles, AtUserIDs: c.AtUserIDs, HTTPClient: client, SendResolved: true,
			MinInterval: a.tune.minInterval, Locale: locale})
	}
	return nil, fmt.Errorf("unknown type %q", c.Type)
}

// receivers lists the channels a run may send to, validated: those the
// rules declare, and those the environment configures (SLACK_*, DINGTALK_*,
// named "slack" and "dingtalk" unless a rule file took the name), with the
// default channels.
func receivers(cfg *config.Config, set *rules.Set) (map[string]*receiver.Channel, []string, error) {
	recv := make(map[string]*receiver.Channel, len(set.Channels)+2)
	for name, c := range set.Channels {
		recv[name] = c
	}
	var env []string
	var errs []error
	for _, c := range envReceivers(cfg) {
		env = append(env, c.Name)
		if _, taken := recv[c.Name]; taken {
			continue
		}
		if err := c.Validate(); err != nil {
			errs = append(errs, err)
			continue
		}
		recv[c.Name] = c
	}
	return recv, defaultChannels(env, set), errors.Join(errs...)
}

// envReceivers are the channels the environment configures.
func envReceivers(cfg *config.Config) []*receiver.Channel {
	var out []*receiver.Channel
	if cfg.SlackWebhookURL != "" || cfg.SlackBotToken != "" {
		out = append(out, &receiver.Channel{Name: envSlack, Type: receiver.Slack, WebhookURL: cfg.SlackWebhookURL,
			BotToken: cfg.SlackBotToken, SlackChannel: cfg.SlackChannel})
	}
	if cfg.DingTalkWebhookURL != "" {
		out = append(out, &receiver.Channel{Name: envDingTalk, Type: receiver.DingTalk,
			WebhookURL: cfg.DingTalkWebhookURL, Secret: cfg.DingTalkSecret})
	}
	return out
}

// defaultChannels take the rules that name no channel (neither the rule nor
// the files' defaults give notify) and the monitor-health message: the
// environment's channels when it configures any, so that declaring a
// channel in a rule file never silently takes the shipped rules away from
// SLACK_WEBHOOK_URL; else the files' defaults.notify; else every channel the
// files declare.
func defaultChannels(env []string, set *rules.Set) []string {
	switch {
	case len(env) > 0:
		return env
	case set.Defaults.NotifySet:
		return set.Defaults.Notify
	}
	names := slices.Clone(set.ChannelOrder)
	sort.Strings(names)
	return names
}

// routeWarnings names each rule whose alerts reach no channel: its notify
// list is empty, or it takes the defaults and there are none. With no
// channel at all, errNoChannel says so once instead.
func routeWarnings(set *rules.Set, chans map[string]monitor.Channel, defaults []string) rules.Diagnostics {
	if len(chans) == 0 {
		return nil
	}
	var ds rules.Diagnostics
	for _, r := range set.Rules {
		if slices.ContainsFunc(r.Channels(defaults), func(n string) bool { _, ok := chans[n]; return ok }) {
			continue
		}
		why := "its notify list is empty"
		if !r.NotifySet {
			why = "it takes the default channels and there are none"
		}
		ds = append(ds, rules.Diagnostic{File: r.File, Line: r.Line, Col: max(r.Col, 1), Warning: true,
			Msg: fmt.Sprintf("rule %s: its alerts reach no channel (%s); they show only in the run summary", r.Name, why)})
	}
	return ds
}

// evaluate is the monitor's evaluator: the rules' results, and the rules
// whose expression failed at run time as rule failures, so that a rule that
// cannot be evaluated is an error of the run, not an alert that never fires.
func evaluate(set *rules.Set) func(*metrics.Series, metrics.Window) ([]rules.Result, []monitor.RuleFailure) {
	return func(s *metrics.Series, w metrics.Window) ([]rules.Result, []monitor.RuleFailure) {
		res, errs := set.EvaluateAll(s, w)
		var fails []monitor.RuleFailure
		for _, e := range errs {
			fails = append(fails, monitor.RuleFailure{Rule: e.Rule.Name, Err: e.Err})
		}
		return res, fails
	}
}
