package action

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/cams-alert/cams-alert/function/silence"
)

// The DingTalk links open a confirmation page: a GET changes nothing,
// because link previewers and scanners open links; only the page's POST
// creates the silence.

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>
body{font-family:-apple-system,system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;padding:1.2em;background:#f5f6f7;color:#1f2329}
main{max-width:28em;margin:auto;background:#fff;border-radius:10px;padding:1.2em 1.4em;box-shadow:0 1px 3px #0002}
h1{font-size:1.25em;margin:0 0 .8em}
dl{margin:0 0 1.2em}dt{color:#646a73;font-size:.85em;margin-top:.6em}dd{margin:0;font-size:1.05em;word-break:break-all}
button{width:100%;font-size:1.1em;padding:.8em;border:0;border-radius:8px;background:#d83931;color:#fff}
p{line-height:1.5}
</style></head>
<body><main>
<h1 id="title">{{.Title}}</h1>
{{if .Message}}<p id="message">{{.Message}}</p>{{end}}
{{if .Req}}<dl>
<dt>{{.L.Template}}</dt><dd id="template">{{if .Req.TemplateName}}{{.Req.TemplateName}} · {{end}}{{.Req.Template}}{{if .Req.Language}} ({{.Req.Language}}){{end}}</dd>
<dt>{{.L.Rule}}</dt><dd id="rule">{{.Req.Rule}}</dd>
{{if .Req.Button}}<dt>{{.L.Button}}</dt><dd id="button">{{.Req.Button}}</dd>{{end}}
<dt>{{.L.For}}</dt><dd id="duration">{{.For}}</dd>
{{if .Until}}<dt>{{.L.Until}}</dt><dd id="until">{{.Until}}</dd>{{end}}
</dl>{{end}}
{{if .Token}}<form method="post" action="silence">
<input type="hidden" name="token" value="{{.Token}}">
<button type="submit" id="confirm">{{.L.Confirm}}</button>
</form>{{end}}
</main></body></html>
`))

// words is the page's text in one locale.
type words struct {
	Confirm, Template, Rule, Button, For, Until string
	Ask, Done, Bad, Expired, Failed             string
}

var locales = map[string]words{
	"en": {Confirm: "Silence this alert", Template: "Template", Rule: "Alert rule", Button: "Button",
		For: "For", Until: "Until", Ask: "Silence this alert?", Done: "Silenced",
		Bad:     "This link is not valid. Open the link from the alert message again.",
		Expired: "This link has expired. Use the link in a newer alert message.",
		Failed:  "The silence could not be saved. Try again in a minute."},
	"zh-CN": {Confirm: "静默此告警", Template: "模板", Rule: "告警规则", Button: "按钮",
		For: "时长", Until: "截止", Ask: "静默此告警？", Done: "已静默",
		Bad:     "此链接无效。请从告警消息中重新打开链接。",
		Expired: "此链接已过期。请使用较新告警消息中的链接。",
		Failed:  "静默未能保存，请稍后再试。"},
}

type pageData struct {
	Lang, Title, Message, For, Until, Token string
	Req                                     *silence.Request
	L                                       words
}

func (h *Handler) words() (string, words) {
	if h.cfg.Locale == "zh-CN" {
		return "zh-CN", locales["zh-CN"]
	}
	return "en", locales["en"]
}

func (h *Handler) html(code int, d pageData) *events.HTTPTriggerResponse {
	d.Lang, d.L = h.words()
	var b bytes.Buffer
	if err := page.Execute(&b, d); err != nil {
		return text(http.StatusInternalServerError, "page: "+err.Error())
	}
	return &events.HTTPTriggerResponse{StatusCode: code, Body: b.String(), Headers: map[string]string{
		"Content-Type":  "text/html; charset=utf-8",
		"Cache-Control": "no-store",
		// The token is in the page's URL: no referrer carries it anywhere.
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
	}}
}

// refused is the 403 page of a bad or expired token.
func (h *Handler) refused(err error) *events.HTTPTriggerResponse {
	_, l := h.words()
	msg := l.Bad
	if errors.Is(err, silence.ErrExpiredToken) {
		msg = l.Expired
	}
	return h.html(http.StatusForbidden, pageData{Title: "403", Message: msg})
}

// confirmPage answers GET /silence?token=…: what the link would silence,
// and one button. Nothing is stored.
func (h *Handler) confirmPage(r *request) *events.HTTPTriggerResponse {
	tok := r.query.Get("token")
	req, _, err := silence.Verify(h.cfg.ActionSecret, tok, h.cfg.Now())
	if err != nil {
		return h.refused(err)
	}
	_, l := h.words()
	return h.html(http.StatusOK, pageData{Title: l.Ask, Req: &req, For: forHuman(req.For, h.cfg.Locale == "zh-CN"), Token: tok})
}

// confirm answers the page's POST: the token in form field token.
func (h *Handler) confirm(r *request) *events.HTTPTriggerResponse {
	form, err := url.ParseQuery(string(r.body))
	if err != nil {
		return text(http.StatusBadRequest, "want a form")
	}
	tok := form.Get("token")
	now := h.cfg.Now()
	req, exp, err := silence.Verify(h.cfg.ActionSecret, tok, now)
	if err != nil {
		return h.refused(err)
	}
	who := linkName(tok, exp)
	s := &silence.Silence{Match: req.Match(), Until: now.Add(req.For).UTC(), CreatedAt: now.UTC(),
		CreatedBy: who, Reason: "silenced from DingTalk"}
	stored, created, err := h.store.Create(s, "dingtalk\x00"+tok)
	_, l := h.words()
	if err != nil {
		h.cfg.Log.Error("dingtalk link: storing the silence failed", "alert", req.String(), "err", err)
		return h.html(http.StatusInternalServerError, pageData{Title: "500", Message: l.Failed})
	}
	h.cfg.Log.Info("silenced", "alert", req.String(), "by", who, "until", stored.Until, "new", created)
	return h.html(http.StatusOK, pageData{Title: l.Done, Req: &req, For: forHuman(req.For, h.cfg.Locale == "zh-CN"),
		Until: stored.Until.In(h.cfg.Location).Format("2006-01-02 15:04 MST")})
}

// linkName names the link a silence came from without revealing it: its
// digest's first hex digits, and when it was sent (expiry less the TTL).
func linkName(tok string, exp time.Time) string {
	sum := sha256.Sum256([]byte(tok))
	return "DingTalk link " + hex.EncodeToString(sum[:4]) + " (sent " +
		exp.Add(-silence.TokenTTL).UTC().Format("2006-01-02 15:04Z") + ")"
}
