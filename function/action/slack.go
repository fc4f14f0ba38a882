package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/slack-go/slack"

	"github.com/cams-alert/cams-alert/function/silence"
	"github.com/cams-alert/cams-alert/function/webhook"
)

// slack handles POST /slack/actions: Slack's signature (checked by
// slack-go, 5-minute window), then the click.
func (h *Handler) slack(ctx context.Context, r *request) *events.HTTPTriggerResponse {
	start := h.cfg.Now()
	sv, err := slack.NewSecretsVerifier(r.header, h.cfg.SlackSigningSecret)
	if err == nil {
		_, _ = sv.Write(r.body)
		err = sv.Ensure()
	}
	if err != nil {
		// slack-go's errors name no secret; the signature is not logged.
		h.cfg.Log.Warn("slack action refused", "reason", err.Error())
		return text(http.StatusUnauthorized, "invalid request signature")
	}
	form, err := url.ParseQuery(string(r.body))
	if err != nil || form.Get("payload") == "" {
		return text(http.StatusBadRequest, "want a form with a payload field")
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		return text(http.StatusBadRequest, "payload: not Slack's interaction JSON")
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		return text(http.StatusOK, "ignored")
	}
	act, value := silenceAction(&cb)
	if act == nil {
		return text(http.StatusOK, "ignored")
	}
	req, err := silence.ParseValue(value)
	if err != nil {
		return text(http.StatusBadRequest, "the action's value is not a silence")
	}
	who := slackUser(&cb.User)
	s := &silence.Silence{Match: req.Match(), Until: start.Add(req.For).UTC(), CreatedAt: start.UTC(),
		CreatedBy: who, Reason: "silenced from Slack"}
	// One click is one (team, user, action_ts, value): Slack's retries of
	// it carry the same, so they find the silence already stored.
	key := strings.Join([]string{"slack", cb.Team.ID, cb.User.ID, act.ActionTs, act.ActionID, value}, "\x00")
	stored, created, err := h.store.Create(s, key)
	if err != nil {
		h.cfg.Log.Error("slack action: storing the silence failed", "alert", req.String(), "err", err)
		return text(http.StatusInternalServerError, "could not store the silence")
	}
	h.cfg.Log.Info("silenced", "alert", req.String(), "by", who, "until", stored.Until, "new", created)
	h.tellClicker(ctx, start, cb.ResponseURL, req, stored)
	return text(http.StatusOK, "ok")
}

// silenceAction finds the first silence element of the callback and the
// value it chose (a button's value or an overflow option's).
func silenceAction(cb *slack.InteractionCallback) (*slack.BlockAction, string) {
	for _, a := range cb.ActionCallback.BlockActions {
		if a == nil || !strings.HasPrefix(a.ActionID, silence.ActionPrefix) {
			continue
		}
		if a.Value != "" {
			return a, a.Value
		}
		if a.SelectedOption.Value != "" {
			return a, a.SelectedOption.Value
		}
	}
	return nil, ""
}

func slackUser(u *slack.User) string {
	name := u.Name
	if name == "" {
		name = u.Username
	}
	if name == "" {
		name = u.ID
	}
	return fmt.Sprintf("@%s (Slack %s)", name, u.ID)
}

// tellClicker posts "Silenced by @name until …" to the response_url, only
// to the clicker, within what is left of SlackBudget. A failure is logged
// and the click still succeeds: the silence is stored.
func (h *Handler) tellClicker(ctx context.Context, start time.Time, responseURL string, req silence.Request, s *silence.Silence) {
	if responseURL == "" {
		return
	}
	if err := webhook.Check(responseURL); err != nil {
		h.cfg.Log.Warn("slack action: response_url refused", "err", err)
		return
	}
	left := SlackBudget - h.cfg.Now().Sub(start)
	if left <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, left)
	defer cancel()
	name := strings.SplitN(s.CreatedBy, " ", 2)[0]
	text := fmt.Sprintf("Silenced by %s until %s: %s", name,
		s.Until.In(h.cfg.Location).Format("Mon 2 Jan 15:04 MST"), slackEscape(req.String()))
	if h.cfg.Locale == "zh-CN" {
		text = fmt.Sprintf("已由 %s 静默至 %s：%s", name,
			s.Until.In(h.cfg.Location).Format("1月2日 15:04 MST"), slackEscape(req.String()))
	}
	msg := &slack.WebhookMessage{ResponseType: "ephemeral", ReplaceOriginal: false, Text: text}
	if err := slack.PostWebhookCustomHTTPContext(ctx, responseURL, h.cfg.Client, msg); err != nil {
		h.cfg.Log.Warn("slack action: updating the clicker's view failed", "err", withoutURL(err))
	}
}

// slackEscape keeps a template's code or button text from being read as
// Slack markup (<!channel> must not ping anyone).
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// withoutURL is err without the URL a *url.Error quotes: a response_url
// is a credential for the message.
func withoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Op + ": " + ue.Err.Error()
	}
	return err.Error()
}
