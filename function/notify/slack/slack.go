// Package slack delivers digests to Slack as Block Kit messages, through an
// incoming webhook or a bot token (chat.postMessage), with slack-go.
//
// Every piece of data (template codes, button texts, summaries, error
// messages) is escaped (&, <, >) and sent with verbatim text objects, so
// "<!channel>", "<@U123>" or "<https://evil|click>" in a template's button
// text shows literally and pings no one. Messages respect Slack's limits (50
// blocks, 3000 characters per section): a long digest is split into parts
// "(part 2/3)", and past MaxMessages the last part says how many alerts were
// left out. Messages go at most one per MinInterval (1s by default).
package slack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/cams-alert/cams-alert/function/webhook"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/locale"
)

// Slack's limits.
const (
	MaxBlocks      = 50
	MaxSectionText = 3000
	MaxHeaderText  = 150
	MaxContextText = 3000
)

// Defaults.
const (
	DefaultMinInterval = time.Second
	DefaultMaxMessages = 10
)

// Config configures one Slack channel from a receiver.Channel, which has
// already checked it: exactly one of WebhookURL and BotToken (with Channel)
// is set, the URL is https (or loopback http) and the token has no spaces.
type Config struct {
	// Name is the channel's name in the rules (e.g. "ops-slack").
	Name string
	// WebhookURL is an incoming webhook, https://hooks.slack.com/services/….
	WebhookURL string
	// BotToken (xoxb-…) and Channel (an id like C0123 or #name) post with
	// chat.postMessage.
	BotToken string
	Channel  string
	// SendResolved: when false, resolved alerts are left out of the
	// channel's messages.
	SendResolved bool
	// HTTPClient is copied; its Timeout defaults to notify.DefaultTimeout and
	// redirects to other hosts are refused.
	HTTPClient *http.Client
	// MinInterval spaces messages (Slack allows about 1/s): default 1s,
	// negative for none.
	MinInterval time.Duration
	// APIURL is the Web API base for BotToken (default
	// "https://slack.com/api/"); tests point it at a local server.
	APIURL string
	// MaxMessages caps the messages one digest becomes (default 10); the
	// last one then says how many alerts were not shown.
	MaxMessages int
	// Locale is the language of the channel's messages (receiver.English or
	// receiver.Chinese), the channel's own or the run's default.
	Locale string
}

// Notifier posts digests to one Slack channel.
type Notifier struct {
	name         string
	webhookURL   string
	channel      string
	redacted     string
	secrets      []string
	sendResolved bool
	maxMessages  int
	cat          *locale.Catalog
	client       *http.Client
	api          *slackgo.Client
	pacer        notify.Pacer
	progress     notify.Progress
	mu           sync.Mutex
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns c's notifier. It trusts the receiver's checks of the
// channel; only the API URL (a test setting, not channel configuration) is
// checked here. Errors never contain the webhook URL's secret path or the
// token.
func New(c Config) (*Notifier, error) {
	b, cat, err := notify.Basics{Name: c.Name, MaxMessages: c.MaxMessages, MinInterval: c.MinInterval, Locale: c.Locale}.
		Resolve(notify.Basics{Name: "slack", MaxMessages: DefaultMaxMessages, MinInterval: DefaultMinInterval})
	if err != nil {
		return nil, err
	}
	n := &Notifier{name: b.Name, sendResolved: c.SendResolved, maxMessages: b.MaxMessages, cat: cat}
	n.pacer.Interval = b.MinInterval
	client := notify.HTTPClient(c.HTTPClient)
	base := client.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	tr := &transport{base: base}
	client.Transport = tr
	n.client = client
	if c.WebhookURL != "" {
		n.webhookURL = c.WebhookURL
		n.redacted = webhook.Redact(c.WebhookURL)
		n.secrets = notify.URLSecrets(c.WebhookURL)
		return n, nil
	}
	apiURL := c.APIURL
	if apiURL == "" {
		apiURL = slackgo.APIURL
	}
	if err := webhook.Check(apiURL); err != nil {
		return nil, fmt.Errorf("slack channel %s: API URL: %w", n.name, err)
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	tr.token = c.BotToken
	n.channel = c.Channel
	n.redacted = webhook.Redact(apiURL) + " chat.postMessage"
	n.secrets = []string{c.BotToken}
	n.api = slackgo.New(c.BotToken, slackgo.OptionHTTPClient(client), slackgo.OptionAPIURL(apiURL))
	return n, nil
}

// Name is the channel's name in the rules.
func (n *Notifier) Name() string { return n.name }

// Preview renders d as the channel would receive it (its locale, its
// send_resolved, its message splits), as text for a terminal, each message
// followed by a link that opens it in Slack's Block Kit Builder.
func (n *Notifier) Preview(d *notify.Digest) string {
	src := d.For(n.sendResolved)
	if src == nil {
		return "(nothing to send)\n"
	}
	var b strings.Builder
	for _, m := range Render(src, n.cat, n.maxMessages) {
		b.WriteString(PlainText([]*slackgo.WebhookMessage{m}))
		b.WriteString("[Block Kit Builder] " + BuilderURL(m) + "\n")
	}
	return b.String()
}

// Notify posts d as one or more messages, paced at MinInterval. A retry of
// the same digest (notify.Send) resends only the parts not yet accepted.
func (n *Notifier) Notify(ctx context.Context, d *notify.Digest) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	render := func(src *notify.Digest) []*slackgo.WebhookMessage { return Render(src, n.cat, n.maxMessages) }
	return notify.Post(ctx, &n.progress, &n.pacer, d, n.sendResolved, render,
		func(ctx context.Context, m *slackgo.WebhookMessage, _ []byte) error { return n.post(ctx, m) })
}

func (n *Notifier) post(ctx context.Context, m *slackgo.WebhookMessage) error {
	c := &capture{}
	cctx := context.WithValue(ctx, captureKey{}, c)
	var err error
	if n.api != nil {
		_, _, err = n.api.PostMessageContext(cctx, n.channel,
			slackgo.MsgOptionText(m.Text, false),
			slackgo.MsgOptionBlocks(m.Blocks.BlockSet...),
			slackgo.MsgOptionParse(false),
			slackgo.MsgOptionLinkNames(false),
			slackgo.MsgOptionDisableLinkUnfurl(),
			slackgo.MsgOptionDisableMediaUnfurl(),
		)
	} else {
		err = slackgo.PostWebhookCustomHTTPContext(cctx, n.webhookURL, n.client, m)
	}
	if err == nil {
		return nil
	}
	return n.classify(ctx, err, c)
}

// retryableAPIErrors are Web API error codes worth another attempt.
var retryableAPIErrors = map[string]bool{
	"ratelimited": true, "rate_limited": true, "internal_error": true, "fatal_error": true,
	"service_unavailable": true, "request_timeout": true,
}

// classify turns a slack-go error into a notify error: retryable or not,
// with the platform's answer visible and no secret in it.
func (n *Notifier) classify(ctx context.Context, err error, c *capture) error {
	prefix := "slack " + n.name + " (" + n.redacted + ")"
	var (
		rl   *slackgo.RateLimitedError
		sce  slackgo.StatusCodeError
		ser  slackgo.SlackErrorResponse
		uerr *url.Error
	)
	switch {
	case errors.As(err, &rl):
		return notify.Retryable(n.errorf(nil, "%s: rate limited (HTTP 429), retry after %s", prefix, rl.RetryAfter), rl.RetryAfter)
	case c.status == http.StatusTooManyRequests:
		after := notify.ParseRetryAfter(c.header.Get("Retry-After"))
		return notify.Retryable(n.errorf(nil, "%s: rate limited (HTTP 429)%s", prefix, notify.BodyText(c.body)), after)
	case c.status >= 300 && c.status < 400:
		// HTTPClient follows redirects only to the same host: this one was
		// refused so that the webhook's token goes nowhere else.
		return n.errorf(nil, "%s: HTTP %d: refused to follow a redirect to another host (or more than 3)", prefix, c.status)
	case errors.As(err, &sce) || (c.status != 0 && c.status != http.StatusOK):
		status := c.status
		if status == 0 {
			status = sce.Code
		}
		e := n.errorf(nil, "%s: HTTP %d%s", prefix, status, notify.BodyText(c.body))
		if status >= 500 || status == http.StatusRequestTimeout {
			return notify.Retryable(e, 0)
		}
		return e
	case errors.As(err, &ser):
		msg := ser.Err
		if len(ser.ResponseMetadata.Messages) > 0 {
			msg += " (" + strings.Join(ser.ResponseMetadata.Messages, "; ") + ")"
		}
		e := n.errorf(nil, "%s: Slack API error: %s", prefix, msg)
		if retryableAPIErrors[ser.Err] {
			return notify.Retryable(e, 0)
		}
		return e
	case ctx.Err() != nil:
		return n.errorf(ctx.Err(), "%s: %v", prefix, ctx.Err())
	case errors.As(err, &uerr):
		return notify.Retryable(n.errorf(nil, "%s: %v", prefix, uerr.Err), 0)
	default:
		return n.errorf(nil, "%s: %v", prefix, err)
	}
}

// errorf formats an error with every secret scrubbed; cause (optional, never
// carrying secrets) stays reachable with errors.Is.
func (n *Notifier) errorf(cause error, format string, args ...any) error {
	return notify.SafeError(notify.Scrub(fmt.Sprintf(format, args...), n.secrets...), cause)
}

// capture keeps what slack-go drops: the status, headers and (for errors)
// body of the response to one request.
type capture struct {
	status int
	header http.Header
	body   []byte
}

type captureKey struct{}

// transport records responses into the request's capture and, for a bot
// token, sends it as "Authorization: Bearer" (slack-go puts it in the form).
type transport struct {
	base  http.RoundTripper
	token string
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.token != "" && req.Header.Get("Authorization") == "" {
		req = req.Clone(req.Context())
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	c, ok := req.Context().Value(captureKey{}).(*capture)
	if !ok {
		return resp, nil
	}
	c.status = resp.StatusCode
	c.header = resp.Header.Clone()
	c.body = nil
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		c.body = b
		resp.Body = io.NopCloser(bytes.NewReader(b))
	}
	return resp, nil
}
