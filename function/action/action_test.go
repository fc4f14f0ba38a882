package action

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/cams-alert/cams-alert/function/silence"
)

const (
	testSigning = "8f742231b10e8888abcd99yyyzzz85a5"
	testSecret  = "action-secret-0123456789abcdef0123456789"
)

var alert = silence.Request{Rule: "zero-clicks", Template: "1100AB", Language: "en", Button: "Shop now",
	TemplateName: "Black Friday promo", For: 7 * 24 * time.Hour}

// rig is a handler on a temporary state directory, its log captured.
type rig struct {
	h     *Handler
	state string
	mu    sync.Mutex
	log   bytes.Buffer
	now   time.Time
}

func (r *rig) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.Write(p)
}

func newRig(t *testing.T, actionURL string) *rig {
	t.Helper()
	r := &rig{state: t.TempDir(), now: time.Now()}
	h, err := New(Config{ActionURL: actionURL, ActionSecret: testSecret, SlackSigningSecret: testSigning,
		StateDir: r.state, Log: slog.New(slog.NewTextHandler(r, nil)), Now: func() time.Time { return r.now }})
	if err != nil {
		t.Fatal(err)
	}
	r.h = h
	return r
}

func (r *rig) silences(t *testing.T) []silence.Silence {
	t.Helper()
	all, err := (&silence.Store{StateDir: r.state}).All()
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func (r *rig) serve(ev *events.HTTPTriggerEvent) *events.HTTPTriggerResponse {
	return r.h.Serve(context.Background(), ev)
}

func ptr[T any](v T) *T { return &v }

// event is an HTTP trigger event as FC 3.0 sends it: header names
// capitalised, the query parsed.
func event(method, rawPath string, headers map[string]string, query map[string]string, body string, b64 bool) *events.HTTPTriggerEvent {
	ev := &events.HTTPTriggerEvent{Version: ptr("v1"), RawPath: ptr(rawPath), Headers: &headers,
		QueryParameters: &query, Body: ptr(body), IsBase64Encoded: ptr(b64)}
	ev.TriggerContext.Http.Method = ptr(method)
	ev.TriggerContext.Http.Path = ptr(rawPath)
	return ev
}

// slackSign signs like Slack: v0=hex(HMAC-SHA256(secret, "v0:ts:body")).
func slackSign(secret string, ts int64, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "v0:%d:%s", ts, body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// clickBody is a block_actions payload for one click on a silence button.
func clickBody(t *testing.T, responseURL, value, actionTs string) string {
	t.Helper()
	return payloadBody(t, responseURL, map[string]any{"type": "button", "action_id": "silence-7d", "block_id": "b1",
		"value": value, "action_ts": actionTs, "text": map[string]any{"type": "plain_text", "text": "Silence 7 days"}})
}

// payloadBody is a block_actions payload with one action.
func payloadBody(t *testing.T, responseURL string, action map[string]any) string {
	t.Helper()
	p := map[string]any{
		"type": "block_actions", "team": map[string]any{"id": "T0TEAM"},
		"user":       map[string]any{"id": "U0ANA", "username": "ana", "name": "ana", "team_id": "T0TEAM"},
		"api_app_id": "A0APP", "trigger_id": "1.2.3", "response_url": responseURL,
		"container": map[string]any{"type": "message", "message_ts": "1700000000.000100", "channel_id": "C0"},
		"channel":   map[string]any{"id": "C0", "name": "ops"},
		"actions":   []map[string]any{action},
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"payload": {string(b)}}.Encode()
}

func slackEvent(ts int64, sig, body string, extra map[string]string) *events.HTTPTriggerEvent {
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"X-Slack-Request-Timestamp": strconv.FormatInt(ts, 10), "X-Slack-Signature": sig}
	for k, v := range extra {
		h[k] = v
	}
	return event("POST", "/slack/actions", h, nil, body, false)
}

func TestIsHTTP(t *testing.T) {
	for _, tc := range []struct {
		name, raw string
		want      bool
	}{
		{"timer", `{"triggerTime":"2026-11-24T01:00:00Z","triggerName":"daily","payload":""}`, false},
		{"http", `{"version":"v1","rawPath":"/silence","headers":{},"requestContext":{"http":{"method":"GET"}},"body":""}`, true},
		{"rawPath only", `{"rawPath":"/silence"}`, false},
		{"null http", `{"rawPath":"/","requestContext":{"http":null}}`, false},
		{"not json", `hello`, false},
		{"empty", `{}`, false},
	} {
		if got := IsHTTP([]byte(tc.raw)); got != tc.want {
			t.Errorf("%s: IsHTTP = %v", tc.name, got)
		}
	}
}

func TestRoutes(t *testing.T) {
	r := newRig(t, "https://alerts.example.com/hooks/cams")
	big := strings.Repeat("a", MaxBody+1)
	for _, tc := range []struct {
		name               string
		method, path, body string
		b64                bool
		want               int
		allow              string
	}{
		{"unknown path", "GET", "/hooks/cams/admin", "", false, 404, ""},
		{"outside the prefix", "GET", "/silence", "", false, 404, ""},
		{"prefix look-alike", "GET", "/hooks/camsx/silence", "", false, 404, ""},
		{"root", "GET", "/hooks/cams", "", false, 404, ""},
		{"slack GET", "GET", "/hooks/cams/slack/actions", "", false, 405, "POST"},
		{"silence PUT", "PUT", "/hooks/cams/silence", "", false, 405, "GET, POST"},
		{"silence DELETE", "DELETE", "/hooks/cams/silence", "", false, 405, "GET, POST"},
		{"too big", "POST", "/hooks/cams/slack/actions", big, false, 413, ""},
		{"too big base64", "POST", "/hooks/cams/silence", base64.StdEncoding.EncodeToString([]byte(big)), true, 413, ""},
		{"huge", "POST", "/hooks/cams/silence", strings.Repeat("a", 3*MaxBody), false, 413, ""},
		{"bad base64", "POST", "/hooks/cams/silence", "%%%", true, 400, ""},
		{"unsigned slack", "POST", "/hooks/cams/slack/actions", "payload=x", false, 401, ""},
		{"no token", "GET", "/hooks/cams/silence", "", false, 403, ""},
	} {
		resp := r.serve(event(tc.method, tc.path, nil, nil, tc.body, tc.b64))
		if resp.StatusCode != tc.want || resp.Headers["Allow"] != tc.allow {
			t.Errorf("%s: %d (Allow %q), want %d (Allow %q)", tc.name, resp.StatusCode, resp.Headers["Allow"], tc.want, tc.allow)
		}
	}
	if n := len(r.silences(t)); n != 0 {
		t.Errorf("%d silences stored by refused requests", n)
	}
}

// TestNotConfigured: without SLACK_SIGNING_SECRET or ACTION_SECRET the
// routes do not exist.
func TestNotConfigured(t *testing.T) {
	h, err := New(Config{StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/slack/actions", "/silence"} {
		if resp := h.Serve(context.Background(), event("POST", p, nil, nil, "", false)); resp.StatusCode != 404 {
			t.Errorf("%s without its secret: %d, want 404", p, resp.StatusCode)
		}
	}
}

type eventT = events.HTTPTriggerEvent
