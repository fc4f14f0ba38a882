package notifytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DingTalk fakes a custom robot (POST /robot/send?access_token=…). It checks
// the access token, the signature (when it has a secret: HMAC-SHA256 of
// timestamp+"\n"+secret, timestamp within an hour), msgtype markdown, a
// non-empty title and a text of at most 20000 bytes, and 20 messages a
// minute (errcode 130101 beyond). It also rejects text that would mention
// someone not listed in at.atMobiles / at.atUserIds ("@13800000000" in data),
// a listed mention missing from the text, isAtAll, and raw markdown links or
// HTML ("](", "<"). Rejections answer {"errcode":…,"errmsg":…} like the
// robot and are listed by Problems.
type DingTalk struct {
	Server *httptest.Server
	// WebhookURL is …/robot/send?access_token=AccessToken.
	WebhookURL  string
	AccessToken string
	Secret      string
	// PerMinute is the robot's rate limit (default 20; negative: none).
	PerMinute int
	// LinkPrefix, when set, is the start of the only markdown links a text
	// may hold (the product's own, such as its silence links); any other
	// "](" is still rejected. Set it before the first message.
	LinkPrefix string

	script
	mu       sync.Mutex
	msgs     []DingTalkMessage
	problems []string
	sent     []time.Time
}

// DingTalkMessage is one accepted message.
type DingTalkMessage struct {
	Title     string
	Text      string
	AtMobiles []string
	AtUserIDs []string
	IsAtAll   bool
	Timestamp int64 // the signed timestamp, ms (0 without a secret)
	Raw       []byte
}

// Mentioned lists who the message really mentions: listed in the at field
// and written "@x" in the text.
func (m DingTalkMessage) Mentioned() []string {
	var out []string
	for _, x := range append(append([]string(nil), m.AtMobiles...), m.AtUserIDs...) {
		if strings.Contains(m.Text, "@"+x) {
			out = append(out, x)
		}
	}
	return out
}

// NewDingTalk starts a fake robot closed at the end of t; secret "" turns
// signing off.
func NewDingTalk(t testing.TB, secret string) *DingTalk {
	d := &DingTalk{
		AccessToken: "dingACCESStoken0123456789secret",
		Secret:      secret,
		PerMinute:   20,
	}
	d.Server = httptest.NewServer(http.HandlerFunc(d.handle))
	t.Cleanup(d.Server.Close)
	d.WebhookURL = d.Server.URL + "/robot/send?access_token=" + d.AccessToken
	return d
}

// Script queues n scripted responses.
func (d *DingTalk) Script(n int, r Response) { d.add(n, r) }

// FailNext answers the next n requests with an HTTP status and body.
func (d *DingTalk) FailNext(n, status int, body string) {
	d.add(n, Response{Status: status, Body: body})
}

// ErrcodeNext answers the next n requests HTTP 200 {"errcode":code,"errmsg":msg}.
func (d *DingTalk) ErrcodeNext(n, code int, msg string) {
	b, _ := json.Marshal(map[string]any{"errcode": code, "errmsg": msg})
	d.add(n, Response{Status: http.StatusOK, Body: string(b),
		Header: map[string]string{"Content-Type": "application/json"}})
}

// RateLimitNext answers the next n requests with errcode 130101.
func (d *DingTalk) RateLimitNext(n int) {
	d.ErrcodeNext(n, 130101, "send too fast, exceed 20 times per minute")
}

// BadSignNext answers the next n requests with errcode 310000.
func (d *DingTalk) BadSignNext(n int) {
	d.ErrcodeNext(n, 310000, "sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]")
}

// HangNext holds the next n requests for d before handling them normally.
func (d *DingTalk) HangNext(n int, dur time.Duration) { d.add(n, Response{Delay: dur}) }

// Requests counts requests received, scripted ones included.
func (d *DingTalk) Requests() int { return d.count() }

// Messages returns the accepted messages, oldest first.
func (d *DingTalk) Messages() []DingTalkMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]DingTalkMessage(nil), d.msgs...)
}

// Problems lists why payloads were rejected.
func (d *DingTalk) Problems() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.problems...)
}

type dingPayload struct {
	MsgType  string `json:"msgtype"`
	Markdown *struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At struct {
		AtMobiles []string `json:"atMobiles"`
		AtUserIDs []string `json:"atUserIds"`
		IsAtAll   bool     `json:"isAtAll"`
	} `json:"at"`
}

var (
	mentionRe = regexp.MustCompile(`@([0-9+][0-9-]{2,})`)
	atWordRe  = regexp.MustCompile(`@([A-Za-z0-9_.$-]+)`)
)

func (d *DingTalk) handle(w http.ResponseWriter, r *http.Request) {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if sr, ok := d.next(); ok && serve(w, r, sr) {
		return
	}
	reply := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg})
	}
	reject := func(code int, msg string) {
		d.mu.Lock()
		d.problems = append(d.problems, msg)
		d.mu.Unlock()
		reply(code, msg)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/robot/send" {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "not found")
		return
	}
	ts, code, msg := d.verify(r.URL.Query())
	if code != 0 {
		reject(code, msg)
		return
	}
	if readErr != nil {
		reject(400, "read error")
		return
	}
	var p dingPayload
	if err := json.Unmarshal(body, &p); err != nil {
		reject(43004, "invalid JSON: "+err.Error())
		return
	}
	if p.MsgType != "markdown" || p.Markdown == nil {
		reject(40035, "msgtype must be markdown with a markdown object")
		return
	}
	if strings.TrimSpace(p.Markdown.Title) == "" || strings.TrimSpace(p.Markdown.Text) == "" {
		reject(40035, "markdown title and text are required")
		return
	}
	if n := len(p.Markdown.Text); n > 20000 {
		reject(460101, fmt.Sprintf("message too long: %d bytes > 20000", n))
		return
	}
	if probs := checkDing(p, d.LinkPrefix); len(probs) > 0 {
		reject(499999, "notifytest: "+strings.Join(probs, "; "))
		return
	}
	d.mu.Lock()
	now := time.Now()
	recent := d.sent[:0]
	for _, t := range d.sent {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	d.sent = recent
	limit := d.PerMinute
	if limit == 0 {
		limit = 20
	}
	if limit > 0 && len(d.sent) >= limit {
		d.problems = append(d.problems, "rate limited: more than 20 messages a minute")
		d.mu.Unlock()
		reply(130101, "send too fast, exceed 20 times per minute")
		return
	}
	d.sent = append(d.sent, now)
	d.msgs = append(d.msgs, DingTalkMessage{
		Title: p.Markdown.Title, Text: p.Markdown.Text,
		AtMobiles: p.At.AtMobiles, AtUserIDs: p.At.AtUserIDs, IsAtAll: p.At.IsAtAll,
		Timestamp: ts, Raw: body,
	})
	d.mu.Unlock()
	reply(0, "ok")
}

// verify checks the robot's access token and, with a secret, the signed
// timestamp, as DingTalk does. It returns the timestamp (0 without a
// secret), or the code and message DingTalk rejects the request with.
func (d *DingTalk) verify(q url.Values) (ts int64, code int, msg string) {
	if q.Get("access_token") != d.AccessToken {
		return 0, 300001, "token is not exist"
	}
	if d.Secret == "" {
		return 0, 0, ""
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil {
		return 0, 310000, "sign not match: bad or missing timestamp"
	}
	if age := time.Since(time.UnixMilli(ts)); age > time.Hour || age < -time.Hour {
		return 0, 310000, "sign not match: timestamp more than 1 hour off"
	}
	mac := hmac.New(sha256.New, []byte(d.Secret))
	fmt.Fprintf(mac, "%d\n%s", ts, d.Secret)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(q.Get("sign")), []byte(want)) {
		return 0, 310000, "sign not match"
	}
	return ts, 0, ""
}

// checkDing lists unsafe text: mentions of people not in the at field, at
// field entries missing from the text, @all, markdown links (but those to
// linkPrefix) and HTML.
func checkDing(p dingPayload, linkPrefix string) []string {
	var probs []string
	text := p.Markdown.Text
	if p.At.IsAtAll {
		probs = append(probs, "isAtAll is set")
	}
	for _, m := range mentionRe.FindAllStringSubmatch(text, -1) {
		if !slices.Contains(p.At.AtMobiles, m[1]) {
			probs = append(probs, "text mentions unlisted number @"+m[1])
		}
	}
	for _, m := range atWordRe.FindAllStringSubmatch(text, -1) {
		if mentionRe.MatchString(m[0]) {
			continue
		}
		if !slices.Contains(p.At.AtUserIDs, m[1]) {
			probs = append(probs, "text mentions unlisted user @"+m[1])
		}
	}
	for _, x := range append(append([]string(nil), p.At.AtMobiles...), p.At.AtUserIDs...) {
		if !strings.Contains(text, "@"+x) {
			probs = append(probs, "at lists "+x+" but the text lacks @"+x)
		}
	}
	if n := strings.Count(text, "]("); n > 0 && (linkPrefix == "" || n != strings.Count(text, "]("+linkPrefix)) {
		probs = append(probs, "raw markdown link in text")
	}
	if strings.Contains(text, "<") {
		probs = append(probs, "raw HTML in text")
	}
	if strings.Contains(p.Markdown.Title, "@") || strings.Contains(p.Markdown.Title, "\n") {
		probs = append(probs, "title contains @ or a new line")
	}
	return probs
}
