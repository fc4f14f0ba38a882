package notifytest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// Slack fakes an incoming webhook (POST /services/T…/B…/token) and the Web
// API's chat.postMessage (POST /api/chat.postMessage with
// "Authorization: Bearer BotToken"). It checks what Slack checks (valid
// JSON, at most 50 blocks, known block types, header ≤ 150 and section text
// ≤ 3000 characters, context ≤ 10 elements) and also rejects any text
// containing "<" or a bare "&": notifiers escape all data, so an unescaped
// "<!channel>" is a bug. Rejected payloads answer like Slack (webhook: 400
// "invalid_blocks"; API: {"ok":false,"error":"invalid_blocks"}) and are
// listed by Problems.
type Slack struct {
	Server *httptest.Server
	// WebhookURL is the incoming webhook; its last path segment is a
	// recognisable secret (WebhookToken).
	WebhookURL   string
	WebhookToken string
	// APIURL is the Web API base for slack.OptionAPIURL ("…/api/").
	APIURL   string
	BotToken string

	script
	mu       sync.Mutex
	msgs     []SlackMessage
	problems []string
}

// SlackMessage is one accepted message.
type SlackMessage struct {
	Via     string // "webhook" or "chat.postMessage"
	Channel string
	Text    string
	Blocks  []SlackBlock
	Raw     []byte
}

// SlackBlock is a decoded block (the fields cams-alert uses).
type SlackBlock struct {
	Type     string           `json:"type"`
	BlockID  string           `json:"block_id,omitempty"`
	Text     *SlackText       `json:"text,omitempty"`
	Fields   []SlackText      `json:"fields,omitempty"`
	Elements []map[string]any `json:"elements,omitempty"`
}

// SlackText is a text object.
type SlackText struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Emoji    *bool  `json:"emoji,omitempty"`
	Verbatim bool   `json:"verbatim,omitempty"`
}

// Texts lists the message's texts in order: top-level text, then each
// block's text, fields and context elements.
func (m SlackMessage) Texts() []string {
	var out []string
	if m.Text != "" {
		out = append(out, m.Text)
	}
	for _, b := range m.Blocks {
		out = append(out, b.texts()...)
	}
	return out
}

// BlockText is every block's text joined by new lines (no top-level text).
func (m SlackMessage) BlockText() string {
	var out []string
	for _, b := range m.Blocks {
		out = append(out, b.texts()...)
	}
	return strings.Join(out, "\n")
}

func (b SlackBlock) texts() []string {
	var out []string
	if b.Text != nil {
		out = append(out, b.Text.Text)
	}
	for _, f := range b.Fields {
		out = append(out, f.Text)
	}
	for _, e := range b.Elements {
		if t, ok := e["text"].(string); ok {
			out = append(out, t)
		}
	}
	return out
}

// NewSlack starts a fake Slack closed at the end of t.
func NewSlack(t testing.TB) *Slack {
	s := &Slack{
		WebhookToken: "hooksecretTOKEN0123456789abcd",
		BotToken:     "xoxb-000000000-botsecretTOKEN9876",
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	t.Cleanup(s.Server.Close)
	s.WebhookURL = s.Server.URL + "/services/T0000TEST/B0000TEST/" + s.WebhookToken
	s.APIURL = s.Server.URL + "/api/"
	return s
}

// Script queues n scripted responses.
func (s *Slack) Script(n int, r Response) { s.add(n, r) }

// FailNext answers the next n requests with status and body (e.g. 400
// "invalid_blocks", 404 "channel_not_found", 500).
func (s *Slack) FailNext(n, status int, body string) {
	s.add(n, Response{Status: status, Body: body})
}

// RateLimitNext answers the next n requests 429 with Retry-After seconds.
func (s *Slack) RateLimitNext(n, retryAfter int) {
	s.add(n, Response{Status: http.StatusTooManyRequests, Body: "rate_limited",
		Header: map[string]string{"Retry-After": strconv.Itoa(retryAfter)}})
}

// HangNext holds the next n requests for d (longer than the client's
// timeout) before handling them normally.
func (s *Slack) HangNext(n int, d time.Duration) { s.add(n, Response{Delay: d}) }

// Requests counts requests received, scripted ones included.
func (s *Slack) Requests() int { return s.count() }

// Messages returns the accepted messages, oldest first.
func (s *Slack) Messages() []SlackMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SlackMessage(nil), s.msgs...)
}

// Problems lists why payloads were rejected.
func (s *Slack) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.problems...)
}

func (s *Slack) problem(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, p)
}

func (s *Slack) handle(w http.ResponseWriter, r *http.Request) {
	// read the body first: then a client that gives up during a scripted
	// delay cancels the request's context
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if sr, ok := s.next(); ok && serve(w, r, sr) {
		return
	}
	if err != nil {
		http.Error(w, "bad_request", http.StatusBadRequest)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/services/T0000TEST/B0000TEST/"+s.WebhookToken:
		s.webhook(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/api/chat.postMessage":
		s.postMessage(w, r, body)
	case strings.HasPrefix(r.URL.Path, "/services/"):
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "invalid_token")
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "no_service")
	}
}

type slackPayload struct {
	Channel string       `json:"channel"`
	Text    string       `json:"text"`
	Blocks  []SlackBlock `json:"blocks"`
}

func (s *Slack) webhook(w http.ResponseWriter, body []byte) {
	var p slackPayload
	if err := json.Unmarshal(body, &p); err != nil {
		s.problem("invalid JSON: " + err.Error())
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "invalid_payload")
		return
	}
	if probs := checkSlack(p); len(probs) > 0 {
		for _, pr := range probs {
			s.problem(pr)
		}
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, "invalid_blocks")
		return
	}
	s.record(SlackMessage{Via: "webhook", Text: p.Text, Blocks: p.Blocks, Raw: body})
	_, _ = io.WriteString(w, "ok")
}

func (s *Slack) postMessage(w http.ResponseWriter, r *http.Request, body []byte) {
	reply := func(v map[string]any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	if r.Header.Get("Authorization") != "Bearer "+s.BotToken {
		reply(map[string]any{"ok": false, "error": "not_authed"})
		return
	}
	var p slackPayload
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		if err := json.Unmarshal(body, &p); err != nil {
			reply(map[string]any{"ok": false, "error": "invalid_json"})
			return
		}
	} else {
		v, err := url.ParseQuery(string(body))
		if err != nil {
			reply(map[string]any{"ok": false, "error": "invalid_form_data"})
			return
		}
		if tok := v.Get("token"); tok != "" && tok != s.BotToken {
			reply(map[string]any{"ok": false, "error": "invalid_auth"})
			return
		}
		p.Channel, p.Text = v.Get("channel"), v.Get("text")
		if b := v.Get("blocks"); b != "" {
			if err := json.Unmarshal([]byte(b), &p.Blocks); err != nil {
				s.problem("invalid blocks JSON: " + err.Error())
				reply(map[string]any{"ok": false, "error": "invalid_blocks_format"})
				return
			}
		}
	}
	if p.Channel == "" {
		reply(map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	if probs := checkSlack(p); len(probs) > 0 {
		for _, pr := range probs {
			s.problem(pr)
		}
		reply(map[string]any{"ok": false, "error": "invalid_blocks",
			"response_metadata": map[string]any{"messages": probs}})
		return
	}
	s.record(SlackMessage{Via: "chat.postMessage", Channel: p.Channel, Text: p.Text, Blocks: p.Blocks, Raw: body})
	reply(map[string]any{"ok": true, "channel": p.Channel, "ts": fmt.Sprintf("%d.000100", time.Now().Unix())})
}

func (s *Slack) record(m SlackMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
}

var knownBlocks = map[string]bool{
	"header": true, "section": true, "context": true, "divider": true, "actions": true,
	"image": true, "rich_text": true, "input": true, "file": true, "video": true,
	"markdown": true, "table": true, "context_actions": true,
}

// SlackLength counts characters as Slack's limits do (UTF-16 code units; a
// conservative reading).
func SlackLength(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// checkSlack lists what Slack would reject in p, plus unescaped data.
func checkSlack(p slackPayload) []string {
	var probs []string
	if p.Text == "" && len(p.Blocks) == 0 {
		probs = append(probs, "no_text: neither text nor blocks")
	}
	if len(p.Blocks) > 50 {
		probs = append(probs, fmt.Sprintf("too many blocks: %d > 50", len(p.Blocks)))
	}
	probs = append(probs, checkEscaped("text", p.Text)...)
	ids := map[string]bool{}
	for i, b := range p.Blocks {
		where := fmt.Sprintf("blocks[%d] (%s)", i, b.Type)
		if !knownBlocks[b.Type] {
			probs = append(probs, where+": unknown block type")
			continue
		}
		if b.BlockID != "" {
			if ids[b.BlockID] || len(b.BlockID) > 255 {
				probs = append(probs, where+": bad or duplicate block_id")
			}
			ids[b.BlockID] = true
		}
		checkText := func(what string, t *SlackText, maxLen int, plainOnly bool) {
			if t == nil {
				probs = append(probs, where+": missing "+what)
				return
			}
			if t.Type != "plain_text" && t.Type != "mrkdwn" {
				probs = append(probs, where+": "+what+": bad text type "+strconv.Quote(t.Type))
			}
			if plainOnly && t.Type != "plain_text" {
				probs = append(probs, where+": "+what+" must be plain_text")
			}
			if t.Type == "mrkdwn" && t.Emoji != nil {
				probs = append(probs, where+": "+what+": emoji is only for plain_text")
			}
			if t.Text == "" {
				probs = append(probs, where+": "+what+": empty text")
			}
			if n := SlackLength(t.Text); n > maxLen {
				probs = append(probs, fmt.Sprintf("%s: %s: %d characters > %d", where, what, n, maxLen))
			}
			probs = append(probs, checkEscaped(where+": "+what, t.Text)...)
		}
		switch b.Type {
		case "header":
			checkText("text", b.Text, 150, true)
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				probs = append(probs, where+": needs text or fields")
			}
			if b.Text != nil {
				checkText("text", b.Text, 3000, false)
			}
			if len(b.Fields) > 10 {
				probs = append(probs, where+": more than 10 fields")
			}
			for j := range b.Fields {
				checkText(fmt.Sprintf("fields[%d]", j), &b.Fields[j], 2000, false)
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				probs = append(probs, fmt.Sprintf("%s: %d elements (1-10)", where, len(b.Elements)))
			}
			for j, e := range b.Elements {
				typ, _ := e["type"].(string)
				if typ == "image" {
					continue
				}
				txt, _ := e["text"].(string)
				t := &SlackText{Type: typ, Text: txt}
				if _, ok := e["emoji"]; ok {
					em := true
					t.Emoji = &em
				}
				checkText(fmt.Sprintf("elements[%d]", j), t, 3000, false)
			}
		}
	}
	return probs
}

// checkEscaped rejects "<" anywhere (cams-alert never sends a mention or a
// link: any "<" is unescaped data) and "&" that does not start &amp; &lt; &gt;.
func checkEscaped(where, s string) []string {
	var probs []string
	if i := strings.IndexByte(s, '<'); i >= 0 {
		probs = append(probs, fmt.Sprintf("%s: unescaped control sequence %q", where, snippet(s[i:])))
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '&' {
			continue
		}
		rest := s[i:]
		if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
			probs = append(probs, fmt.Sprintf("%s: unescaped & in %q", where, snippet(rest)))
			break
		}
	}
	return probs
}

func snippet(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	return s
}
