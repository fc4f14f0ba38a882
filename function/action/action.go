// Package action answers the function's HTTP trigger: Slack's interactivity
// requests (POST /slack/actions) and the DingTalk silence links (GET and
// POST /silence). Each valid action stores a silence (package silence); an
// HTTP event never runs a monitoring cycle and never takes the ledger lock.
// See docs/actions.md.
package action

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/cams-alert/cams-alert/function/silence"
)

// MaxBody is the largest request body accepted (413 above it). Slack's
// interactivity payloads are a few KB.
const MaxBody = 64 << 10

// Paths, relative to ACTION_URL's path.
const (
	PathSlack   = "/slack/actions"
	PathSilence = "/silence"
)

// Config is what the handler needs.
type Config struct {
	ActionURL          string // the public base URL; its path prefixes the routes
	ActionSecret       string // signs and checks the DingTalk links
	SlackSigningSecret string // checks Slack's requests
	Locale             string // en | zh-CN: the language of the confirmation page
	StateDir           string
	Location           *time.Location // how times are shown
	// Client posts the "Silenced by" update to Slack's response_url; nil: a
	// client that refuses redirects. Its time is bounded by SlackBudget.
	Client *http.Client
	Log    *slog.Logger
	Now    func() time.Time // nil: time.Now
}

// SlackBudget is how long a Slack action may take in all: Slack wants its
// answer within 3 s, and the update to the clicker must not delay it.
const SlackBudget = 2500 * time.Millisecond

// Handler serves HTTP trigger events.
type Handler struct {
	cfg    Config
	store  *silence.Store
	prefix string
}

// New checks cfg and returns its handler.
func New(cfg Config) (*Handler, error) {
	h := &Handler{cfg: cfg, store: &silence.Store{StateDir: cfg.StateDir}}
	if cfg.ActionURL != "" {
		u, err := url.Parse(cfg.ActionURL)
		if err != nil || u.Host == "" {
			return nil, errors.New("ACTION_URL: want a URL such as https://alerts.example.com")
		}
		h.prefix = strings.TrimSuffix(u.Path, "/")
	}
	if h.cfg.Now == nil {
		h.cfg.Now = time.Now
	}
	if h.cfg.Log == nil {
		h.cfg.Log = slog.New(slog.DiscardHandler)
	}
	if h.cfg.Location == nil {
		h.cfg.Location = time.UTC
	}
	if h.cfg.Client == nil {
		h.cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	return h, nil
}

// IsHTTP tells an HTTP trigger event from a timer event by its JSON: FC
// hands both to the same handler. An HTTP event has rawPath and
// requestContext.http; a timer event has triggerTime.
func IsHTTP(raw []byte) bool {
	var probe struct {
		RawPath        *string `json:"rawPath"`
		RequestContext *struct {
			HTTP json.RawMessage `json:"http"`
		} `json:"requestContext"`
	}
	if json.Unmarshal(raw, &probe) != nil {
		return false
	}
	return probe.RawPath != nil && probe.RequestContext != nil &&
		len(probe.RequestContext.HTTP) > 0 && string(probe.RequestContext.HTTP) != "null"
}

// request is an HTTP trigger event, normalised.
type request struct {
	method string
	path   string // relative to ACTION_URL's path
	header http.Header
	query  url.Values
	body   []byte
}

// Serve answers one HTTP trigger event.
func (h *Handler) Serve(ctx context.Context, ev *events.HTTPTriggerEvent) *events.HTTPTriggerResponse {
	r, resp := h.parse(ev)
	if resp == nil {
		resp = h.route(ctx, r)
	}
	// Never the query: it holds the token.
	h.cfg.Log.Info("action", "method", r.method, "path", r.path, "status", resp.StatusCode)
	return resp
}

func (h *Handler) parse(ev *events.HTTPTriggerEvent) (*request, *events.HTTPTriggerResponse) {
	r := &request{header: http.Header{}, query: url.Values{}}
	if ev.TriggerContext.Http.Method != nil {
		r.method = strings.ToUpper(*ev.TriggerContext.Http.Method)
	}
	raw := ""
	if ev.RawPath != nil {
		raw = *ev.RawPath
	}
	p, ok := strings.CutPrefix(raw, h.prefix)
	if !ok || (p != "" && !strings.HasPrefix(p, "/")) {
		p = "" // outside ACTION_URL's path: 404
	}
	r.path = p
	if ev.Headers != nil {
		for k, v := range *ev.Headers {
			r.header.Set(k, v)
		}
	}
	if ev.QueryParameters != nil {
		for k, v := range *ev.QueryParameters {
			r.query.Set(k, v)
		}
	}
	if ev.Body == nil {
		return r, nil
	}
	body := *ev.Body
	if len(body) > 2*MaxBody { // checked before decoding: never decode a huge body
		return r, text(http.StatusRequestEntityTooLarge, "request body too large")
	}
	if ev.IsBase64Encoded != nil && *ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return r, text(http.StatusBadRequest, "request body: bad base64")
		}
		r.body = b
	} else {
		r.body = []byte(body)
	}
	if len(r.body) > MaxBody {
		return r, text(http.StatusRequestEntityTooLarge, "request body too large")
	}
	return r, nil
}

func (h *Handler) route(ctx context.Context, r *request) *events.HTTPTriggerResponse {
	switch r.path {
	case PathSlack:
		if r.method != http.MethodPost {
			return notAllowed("POST")
		}
		if h.cfg.SlackSigningSecret == "" {
			return text(http.StatusNotFound, "not found")
		}
		return h.slack(ctx, r)
	case PathSilence:
		if h.cfg.ActionSecret == "" {
			return text(http.StatusNotFound, "not found")
		}
		switch r.method {
		case http.MethodGet:
			return h.confirmPage(r)
		case http.MethodPost:
			return h.confirm(r)
		}
		return notAllowed("GET, POST")
	}
	return text(http.StatusNotFound, "not found")
}

func text(code int, msg string) *events.HTTPTriggerResponse {
	return &events.HTTPTriggerResponse{StatusCode: code, Body: msg + "\n",
		Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8",
			"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}}
}

func notAllowed(allow string) *events.HTTPTriggerResponse {
	r := text(http.StatusMethodNotAllowed, "method not allowed")
	r.Headers["Allow"] = allow
	return r
}

// forHuman writes a duration the way people say it: 1 day, 7 days, 36h.
func forHuman(d time.Duration, zh bool) string {
	if d%(24*time.Hour) == 0 {
		n := int(d / (24 * time.Hour))
		switch {
		case zh:
			return fmt.Sprintf("%d 天", n)
		case n == 1:
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	}
	if zh {
		return fmt.Sprintf("%.0f 小时", d.Hours())
	}
	return d.String()
}
