// Package dingtalk delivers digests to a DingTalk custom robot as signed
// markdown messages.
//
// Data (template codes, button texts, summaries, error messages) is
// neutralised so that it cannot break out of the markdown (links, headings,
// emphasis, HTML, new lines) or mention anyone: "@" in data becomes the
// full-width "＠". Only the configured AtMobiles / AtUserIDs are mentioned,
// both in the text and in the "at" field, in the first message of a digest
// that has firing alerts or health problems. Messages stay under 20000 bytes;
// a long digest is split into parts "(part 2/3)", and past MaxMessages the
// last part says how many alerts were left out. Messages go at most one per
// MinInterval (3s by default: the robot allows 20 a minute).
package dingtalk

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/locale"
	"github.com/cams-alert/cams-alert/function/webhook"
)

// DingTalk's limits and reply codes.
const (
	MaxTextBytes = 20000

	ErrcodeOK          = 0
	ErrcodeRateLimited = 130101 // more than 20 messages a minute: blocked for 10 minutes
	ErrcodeBadSign     = 310000 // bad signature, missing keyword or IP not allowed
	ErrcodeSystemBusy  = -1
)

// Defaults.
const (
	DefaultMinInterval = 3 * time.Second
	DefaultMaxMessages = 5
	// RateLimitWait is how long a 130101 reply asks the caller to wait before
	// a retry (the block lasts 10 minutes; the run's budget decides).
	RateLimitWait = time.Minute
)

// Config configures one DingTalk robot from a receiver.Channel, which has
// already checked it.
type Config struct {
	// Name is the channel's name in the rules (e.g. "ops-ding").
	Name string
	// WebhookURL is https://oapi.dingtalk.com/robot/send?access_token=….
	WebhookURL string
	// Secret signs each request (the robot's "加签" security setting).
	Secret string
	// AtMobiles and AtUserIDs are mentioned when something fires.
	AtMobiles []string
	AtUserIDs []string
	// SendResolved: when false, resolved alerts are left out.
	SendResolved bool
	// HTTPClient is copied; its Timeout defaults to notify.DefaultTimeout and
	// redirects to other hosts are refused.
	HTTPClient *http.Client
	// MinInterval spaces messages: default 3s (20 a minute), negative for none.
	MinInterval time.Duration
	// MaxMessages caps the messages one digest becomes (default 5).
	MaxMessages int
	// Locale is the language of the channel's messages (receiver.English or
	// receiver.Chinese), the channel's own or the run's default.
	Locale string
}

// Notifier posts digests to one DingTalk robot.
type Notifier struct {
	name         string
	webhookURL   *url.URL
	secret       string
	atMobiles    []string
	atUserIDs    []string
	sendResolved bool
	maxMessages  int
	cat          *locale.Catalog
	redacted     string
	secrets      []string
	client       *http.Client
	pacer        notify.Pacer
	progress     notify.Progress
	mu           sync.Mutex
	now          func() time.Time
}

var _ notify.Notifier = (*Notifier)(nil)

// New returns c's notifier. It trusts the receiver's checks of the channel
// (https robot URL with an access_token, phone numbers and user ids that
// are well formed). Errors never contain the access token or the secret.
func New(c Config) (*Notifier, error) {
	b, cat, err := notify.Basics{Name: c.Name, MaxMessages: c.MaxMessages, MinInterval: c.MinInterval, Locale: c.Locale}.
		Resolve(notify.Basics{Name: "dingtalk", MaxMessages: DefaultMaxMessages, MinInterval: DefaultMinInterval})
	if err != nil {
		return nil, err
	}
	n := &Notifier{name: b.Name, secret: c.Secret, sendResolved: c.SendResolved, maxMessages: b.MaxMessages, cat: cat, now: time.Now}
	n.pacer.Interval = b.MinInterval
	u, err := url.Parse(c.WebhookURL)
	if err != nil {
		// receiver.Channel checked it: only a Config built by hand gets here
		return nil, fmt.Errorf("dingtalk channel %s: webhook URL %s is not a URL", n.name, webhook.Redact(c.WebhookURL))
	}
	n.webhookURL = u
	n.redacted = webhook.Redact(c.WebhookURL)
	n.secrets = append(notify.URLSecrets(c.WebhookURL), c.Secret)
	n.atMobiles, n.atUserIDs = c.AtMobiles, c.AtUserIDs
	n.client = notify.HTTPClient(c.HTTPClient)
	return n, nil
}

// Name is the channel's name in the rules.
func (n *Notifier) Name() string { return n.name }

// Payload is the robot's JSON message.
type Payload struct {
	MsgType  string   `json:"msgtype"`
	Markdown Markdown `json:"markdown"`
	At       At       `json:"at"`
}

// Markdown is a markdown message's content.
type Markdown struct {
	Title string `json:"title"`
	Text  string `json:"text"`
}

// At lists who a message mentions.
type At struct {
	AtMobiles []string `json:"atMobiles,omitempty"`
	AtUserIDs []string `json:"atUserIds,omitempty"`
	IsAtAll   bool     `json:"isAtAll"`
}

// Preview renders d as the robot would post it (its locale, send_resolved,
// mentions and message splits), as text for a terminal.
func (n *Notifier) Preview(d *notify.Digest) string {
	src := d.For(n.sendResolved)
	if src == nil {
		return "(nothing to send)\n"
	}
	return PlainText(Render(src, n.cat, Mentions{Mobiles: n.atMobiles, UserIDs: n.atUserIDs}, n.maxMessages))
}

// Notify posts d as one or more messages, paced at MinInterval. A retry of
// the same digest (notify.Send) resends only the parts not yet accepted.
func (n *Notifier) Notify(ctx context.Context, d *notify.Digest) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	render := func(src *notify.Digest) []Payload {
		return Render(src, n.cat, Mentions{Mobiles: n.atMobiles, UserIDs: n.atUserIDs}, n.maxMessages)
	}
	return notify.Post(ctx, &n.progress, &n.pacer, d, n.sendResolved, render,
		func(ctx context.Context, _ Payload, body []byte) error { return n.post(ctx, body) })
}

// Sign returns the robot's signature for a timestamp in milliseconds:
// base64(HMAC-SHA256(key=secret, timestamp+"\n"+secret)), not yet URL-encoded.
func Sign(secret string, timestampMs int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "%d\n%s", timestampMs, secret)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type reply struct {
	Errcode *int   `json:"errcode"`
	Errmsg  string `json:"errmsg"`
}

func (n *Notifier) post(ctx context.Context, body []byte) error {
	u := *n.webhookURL
	secrets := n.secrets
	if n.secret != "" {
		ts := n.now().UnixMilli()
		sign := Sign(n.secret, ts)
		q := u.Query()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", sign)
		u.RawQuery = q.Encode()
		secrets = append(append([]string(nil), secrets...), sign, url.QueryEscape(sign), u.RawQuery, u.String())
	}
	prefix := "dingtalk " + n.name + " (" + n.redacted + ")"
	errorf := func(cause error, format string, args ...any) error {
		return notify.SafeError(notify.Scrub(prefix+": "+fmt.Sprintf(format, args...), secrets...), cause)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return errorf(nil, "building the request failed")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	resp, err := n.client.Do(req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return errorf(cerr, "%v", cerr)
		}
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return notify.Retryable(errorf(nil, "%v", err), 0)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		after := notify.ParseRetryAfter(resp.Header.Get("Retry-After"))
		if after == 0 {
			after = RateLimitWait
		}
		return notify.Retryable(errorf(nil, "rate limited (HTTP 429)%s", notify.BodyText(raw)), after)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout:
		return notify.Retryable(errorf(nil, "HTTP %d%s", resp.StatusCode, notify.BodyText(raw)), 0)
	case resp.StatusCode != http.StatusOK:
		return errorf(nil, "HTTP %d%s", resp.StatusCode, notify.BodyText(raw))
	}
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil || r.Errcode == nil {
		return errorf(nil, "unexpected reply%s", notify.BodyText(raw))
	}
	msg := strings.Join(strings.Fields(r.Errmsg), " ")
	switch *r.Errcode {
	case ErrcodeOK:
		return nil
	case ErrcodeRateLimited:
		return notify.Retryable(errorf(nil, "rate limited (errcode 130101: %s): the robot takes 20 messages a minute, then blocks for 10 minutes", msg), RateLimitWait)
	case ErrcodeBadSign:
		return errorf(nil, "message rejected (errcode 310000: %s): check the robot's secret (sign), its security keywords and its IP allow-list", msg)
	case ErrcodeSystemBusy:
		return notify.Retryable(errorf(nil, "errcode -1: %s", msg), 0)
	default:
		return errorf(nil, "errcode %d: %s", *r.Errcode, msg)
	}
}
