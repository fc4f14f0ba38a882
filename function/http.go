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
	"github.com/cams-alert/cams-alert/function/config"
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
	cfg, err := config.Load(a.lookup)
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
