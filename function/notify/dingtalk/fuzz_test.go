package dingtalk_test

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/dingtalk"
)

// fuzzDigest builds a digest whose data (template codes, languages, button
// texts, rule names, summaries, template names, health messages) is the fuzzer's:
// items alerts, each string repeated repeat times (very long texts).
func fuzzDigest(template, language, button, summary, problem string, items uint8, repeat uint16) *notify.Digest {
	rep := func(s string) string {
		n := int(repeat%300) + 1
		if len(s)*n > 40000 {
			n = max(1, 40000/max(len(s), 1))
		}
		return strings.Repeat(s, n)
	}
	template, button, summary, problem = rep(template), rep(button), rep(summary), rep(problem)
	loc := time.FixedZone("CST", 8*3600)
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, loc)
	d := &notify.Digest{PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 1), Location: loc}
	sev := []string{"critical", "warning", "info", language}
	for i := range int(items % 130) {
		it := alert.Item{Rule: language + "-rule", Template: template, TemplateName: summary, Language: language, Button: button,
			Severity: sev[i%len(sev)], State: alert.Firing, Metric: "read_rate", IsRate: true,
			Value: float64(i) / 100, Baseline: 0.6, HasBaseline: i%2 == 0, Volume: int64(i) * 1000,
			Trend: "▇▆" + language, Summary: summary, Since: start.Add(-time.Duration(i) * time.Hour)}
		if i%3 == 1 {
			it.State, it.Duration = alert.Resolved, time.Duration(i)*time.Hour
		}
		if i%5 == 4 {
			it.Repeat = true
		}
		d.Items = append(d.Items, it)
	}
	for i := range int(items % 7) {
		p := alert.Problem{Code: language, Message: problem}
		if i%2 == 0 {
			p.Template = template
		} else {
			p.Channel = button
		}
		d.Health = append(d.Health, p)
	}
	return d
}

var (
	// what the robot reads as mentions: "@" + a number, or "@" + a user id
	mentionRe = regexp.MustCompile(`@([0-9+][0-9-]{2,})`)
	atWordRe  = regexp.MustCompile(`@([A-Za-z0-9_.$-]+)`)
)

// The configured people a fuzzed digest may mention, and nobody else.
var (
	fuzzMobiles = []string{"13900000001"}
	fuzzUserIDs = []string{"ops-lead"}
)

// FuzzRender: on any data (arbitrary Unicode, control characters, very long
// texts, markdown, HTML, @mentions) Render does not panic, keeps every
// message within 20000 bytes, mentions only the configured people (in the
// first message, both in the text and the at field, never @all), and lets no
// data open a link, an HTML tag, a heading or a new line.
func FuzzRender(f *testing.F) {
	f.Add("1100@13800138000", "en @all", "[click](https://evil.example) <a href=x>", "@13800138000 ＠13800000000 @ops-lead **b** # h\n\n### x",
		"denied @everyone", uint8(3), uint16(0))
	f.Add("1100AB", "en", "Shop now", "read rate 8%", "Ram.PermissionDeny", uint8(1), uint16(0))
	f.Add("\x00\x1b[31m\u202e\u2028T", "\r\n", "\t\v\f", "line\nbreak\u0085next\u2029", "\xff\xfe", uint8(9), uint16(3))
	f.Add("`code`", "~~s~~", "| a | b |", "> quote\n- list\n1. x", "\\*", uint8(129), uint16(299))
	f.Add("数据", "zh-CN", "立即购买🛒", "阅读率下降", "无权限", uint8(60), uint16(250))
	f.Add("_x_", "a_b", "__init__", "@_x", "@+8613800138000", uint8(5), uint16(1))
	f.Fuzz(func(t *testing.T, template, language, button, summary, problem string, items uint8, repeat uint16) {
		d := fuzzDigest(template, language, button, summary, problem, items, repeat)
		ps := dingtalk.Render(d, nil, dingtalk.Mentions{Mobiles: fuzzMobiles, UserIDs: fuzzUserIDs}, 0)
		if d.Empty() {
			return
		}
		if len(ps) == 0 || len(ps) > dingtalk.DefaultMaxMessages {
			t.Fatalf("%d messages for %d items and %d problems", len(ps), len(d.Items), len(d.Health))
		}
		valid := utf8.ValidString(template + language + button + summary + problem)
		f, _ := d.Counts()
		for i, p := range ps {
			if _, err := json.Marshal(p); err != nil {
				t.Fatalf("message %d does not marshal: %v", i, err)
			}
			text := p.Markdown.Text
			if n := len(text); n > dingtalk.MaxTextBytes {
				t.Fatalf("message %d: %d bytes > %d", i, n, dingtalk.MaxTextBytes)
			}
			if valid && !utf8.ValidString(text) {
				t.Fatalf("message %d: a cut split a character", i)
			}
			if p.At.IsAtAll {
				t.Fatalf("message %d mentions everyone", i)
			}
			if strings.Contains(p.Markdown.Title, "@") || strings.Contains(p.Markdown.Title, "\n") {
				t.Fatalf("message %d: title %q holds @ or a new line", i, p.Markdown.Title)
			}
			for _, m := range mentionRe.FindAllStringSubmatch(text, -1) {
				if !slices.Contains(p.At.AtMobiles, m[1]) {
					t.Fatalf("message %d mentions unlisted @%s", i, m[1])
				}
			}
			for _, m := range atWordRe.FindAllStringSubmatch(text, -1) {
				if !mentionRe.MatchString(m[0]) && !slices.Contains(p.At.AtUserIDs, m[1]) {
					t.Fatalf("message %d mentions unlisted @%s", i, m[1])
				}
			}
			wantAt := i == 0 && (f > 0 || len(d.Health) > 0)
			if wantAt != (len(p.At.AtMobiles) > 0) || wantAt != (len(p.At.AtUserIDs) > 0) {
				t.Fatalf("message %d: at %+v (want the configured people in the first message only)", i, p.At)
			}
			for _, x := range append(slices.Clone(p.At.AtMobiles), p.At.AtUserIDs...) {
				if !strings.Contains(text, "@"+x) {
					t.Fatalf("message %d: at lists %s but the text lacks @%s", i, x, x)
				}
			}
			for _, bad := range []string{"](", "<", "\r"} {
				if strings.Contains(text, bad) {
					t.Fatalf("message %d holds %q from data", i, bad)
				}
			}
			for _, line := range strings.Split(text, "\n") {
				if strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "### ") && !strings.HasPrefix(line, "#### ") {
					t.Fatalf("message %d: a heading the renderer did not write: %q", i, line)
				}
			}
		}
	})
}
