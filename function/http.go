package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/cams-alert/cams-alert/function/action"
	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/receiver"
	"github.com/cams-alert/cams-alert/function/silence"
)

// dispatch is the FC entry point. FC hands timer and HTTP trigger events to
// the same handler through the same runtime API; the event's JSON tells
// them apart. An HTTP event (a chat action) never runs a monitoring cycle.
func (a *app) dispatch(ctx context.Context, payload []byte) (any, error) {
	if action.IsHTTP(payload) {
		return a.serveAction(ctx, payload), nil
	}
	var ev events.TimerEvent
	if len(bytes.TrimSpace(payload)) > 0 {
		if err := json.Unmarshal(payload, &ev); err != nil {
			return nil, errors.New("event: neither a timer event nor an HTTP trigger event")
		}
	}
	sum, err := a.handle(ctx, ev)
	if sum == nil {
		return nil, err
	}
	return sum, err
}

// serveAction answers one HTTP trigger event. Its configuration is read per
// invocation, like a run's, so a redeploy's new secret holds at once.
func (a *app) serveAction(ctx context.Context, payload []byte) *events.HTTPTriggerResponse {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	var ev events.HTTPTriggerEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return &events.HTTPTriggerResponse{StatusCode: http.StatusBadRequest, Body: "bad event\n"}
	}
	cfg, err := a.config()
	var h *action.Handler
	if err == nil {
		h, err = action.New(action.Config{ActionURL: cfg.ActionURL, ActionSecret: cfg.ActionSecret,
			SlackSigningSecret: cfg.SlackSigningSecret, Locale: cfg.MessageLocale, StateDir: cfg.StateDir,
			Location: cfg.Location, Log: log})
	}
	if err != nil {
		// Configuration errors never hold a secret's value.
		log.Error("actions: bad configuration", "err", err)
		return &events.HTTPTriggerResponse{StatusCode: http.StatusInternalServerError, Body: "the function's action settings are not valid: see its log\n"}
	}
	return h.Serve(ctx, &ev)
}

// silenceActions are the silence buttons (Slack) or links (DingTalk) a
// channel's messages carry beside each firing alert, in the channel's
// locale; nil when the function cannot receive them (see docs/actions.md).
func silenceActions(c *receiver.Channel, o *silence.Offers, defaultLocale string) func(*alert.Item) []notify.Action {
	loc := c.LocaleOr(defaultLocale)
	var offer func(it *alert.Item) []silence.Offer
	switch c.Type {
	case receiver.Slack:
		offer = func(it *alert.Item) []silence.Offer { return o.Slack(it, loc) }
	case receiver.DingTalk:
		offer = func(it *alert.Item) []silence.Offer { return o.DingTalk(it, it.TemplateName, loc) }
	default:
		return nil
	}
	return func(it *alert.Item) []notify.Action {
		var out []notify.Action
		for _, of := range offer(it) {
			out = append(out, notify.Action{Label: of.Label, URL: of.URL, ID: of.ActionID, Value: of.Value})
		}
		return out
	}
}
