package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/slack"
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

func units(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// FuzzRender: on any data (arbitrary Unicode, control characters, very long
// texts, Slack control sequences) Render does not panic, stays within
// Slack's limits (50 blocks a message, 150 characters a header, 3000 a
// section or context text), never lets data open a mention, a link or a
// command (no "<" at all: the renderer itself never writes one), and writes
// "&" only as an entity.
func FuzzRender(f *testing.F) {
	f.Add("1100<!channel>0001", "en<@U123>", "<!channel> <!here> <@U123> <https://evil.example|click>",
		"{{.Template}} <!subteam^S123> &amp; &lt; <#C123> <tel:123|call>", "denied <!everyone>", uint8(3), uint16(0))
	f.Add("1100AB", "en", "Shop now", "read rate 8%", "Ram.PermissionDeny", uint8(1), uint16(0))
	f.Add("\x00\x1b[31m\u202e\u2028T", "\r\n", "\t\v\f", "line\nbreak\u0085next\u2029", "\xff\xfe", uint8(9), uint16(3))
	f.Add("&", "<", ">", "&&<<>>", "<", uint8(129), uint16(299))
	f.Add("数据", "zh-CN", "立即购买🛒", "阅读率下降", "无权限", uint8(60), uint16(250))
	f.Add("T", "en", "B", "", "", uint8(0), uint16(0))
	// A health line of over 1,000 characters that escaping quadruples.
	f.Add("T", "en", "B", "", "<<<<", uint8(1), uint16(299))
	f.Fuzz(func(t *testing.T, template, language, button, summary, problem string, items uint8, repeat uint16) {
		d := fuzzDigest(template, language, button, summary, problem, items, repeat)
		msgs := slack.Render(d, nil, 0)
		if d.Empty() {
			return
		}
		if len(msgs) == 0 || len(msgs) > slack.DefaultMaxMessages {
			t.Fatalf("%d messages for %d items and %d problems", len(msgs), len(d.Items), len(d.Health))
		}
		for i, m := range msgs {
			raw, err := json.Marshal(m)
			if err != nil {
				t.Fatalf("message %d does not marshal: %v", i, err)
			}
			var p struct {
				Text   string `json:"text"`
				Blocks []struct {
					Type     string `json:"type"`
					Text     *struct{ Type, Text string }
					Elements []struct{ Type, Text string }
				} `json:"blocks"`
			}
			if err := json.Unmarshal(raw, &p); err != nil {
				t.Fatal(err)
			}
			if len(p.Blocks) > slack.MaxBlocks {
				t.Fatalf("message %d: %d blocks > %d", i, len(p.Blocks), slack.MaxBlocks)
			}
			check := func(where, s string, limit int) {
				if n := units(s); n > limit {
					t.Fatalf("message %d %s: %d characters > %d", i, where, n, limit)
				}
				if j := strings.IndexByte(s, '<'); j >= 0 {
					t.Fatalf("message %d %s: unescaped %q", i, where, s[j:min(len(s), j+20)])
				}
				for j := 0; j < len(s); j++ {
					if s[j] == '&' && !strings.HasPrefix(s[j:], "&amp;") && !strings.HasPrefix(s[j:], "&lt;") && !strings.HasPrefix(s[j:], "&gt;") {
						t.Fatalf("message %d %s: bare & in %q", i, where, s[j:min(len(s), j+20)])
					}
				}
			}
			check("text", p.Text, slack.MaxHeaderText)
			for j, b := range p.Blocks {
				switch b.Type {
				case "header":
					check("header", b.Text.Text, slack.MaxHeaderText)
				case "section":
					if b.Text == nil || strings.TrimSpace(b.Text.Text) == "" {
						t.Fatalf("message %d block %d: empty section", i, j)
					}
					check("section", b.Text.Text, slack.MaxSectionText)
				case "context":
					for _, e := range b.Elements {
						check("context", e.Text, slack.MaxContextText)
					}
				}
			}
		}
	})
}
