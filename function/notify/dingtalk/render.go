package dingtalk

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
)

// Escape neutralises data for DingTalk markdown: it joins lines, and swaps
// the characters that could start markup for look-alikes: "@" (mentions) →
// "＠", "*" → "∗", "#" → "＃", "[" "]" → "［" "］", "<" ">" → "‹" "›", "`" →
// "ˋ", "~" → "～", "|" → "｜", "&" → "＆", "\" → "＼", and "_" at a word
// boundary → "＿" (inside a word, as in order_update, it stays).
func Escape(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	word := func(i int) bool {
		return i >= 0 && i < len(rs) && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]))
	}
	for i, r := range rs {
		switch r {
		case '@':
			b.WriteRune('＠')
		case '*':
			b.WriteRune('∗')
		case '#':
			b.WriteRune('＃')
		case '[':
			b.WriteRune('［')
		case ']':
			b.WriteRune('］')
		case '<':
			b.WriteRune('‹')
		case '>':
			b.WriteRune('›')
		case '`':
			b.WriteRune('ˋ')
		case '~':
			b.WriteRune('～')
		case '|':
			b.WriteRune('｜')
		case '&':
			b.WriteRune('＆')
		case '\\':
			b.WriteRune('＼')
		case '_':
			if word(i-1) && word(i+1) {
				b.WriteRune('_')
			} else {
				b.WriteRune('＿')
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// esc escapes data cut to max runes.
func esc(s string, max int) string { return Escape(notify.TruncateRunes(s, max)) }

// Mentions are the configured people a digest mentions.
type Mentions struct {
	Mobiles []string
	UserIDs []string
}

func (m Mentions) empty() bool { return len(m.Mobiles) == 0 && len(m.UserIDs) == 0 }

// line is the text "@138… @user" that must accompany the at field.
func (m Mentions) line() string {
	var parts []string
	for _, x := range m.Mobiles {
		parts = append(parts, "@"+x)
	}
	for _, x := range m.UserIDs {
		parts = append(parts, "@"+x)
	}
	return strings.Join(parts, " ")
}

func icon(l notify.Line) string {
	if !l.Firing {
		return "✅"
	}
	switch l.Severity {
	case "critical":
		return "🔴"
	case "warning":
		return "🟠"
	default:
		return "🔵"
	}
}

// itemText renders one alert as markdown paragraphs (blank lines between).
func itemText(it *alert.Item, d *notify.Digest) string {
	l := notify.Describe(it, d.Location)
	head := fmt.Sprintf("#### %s %s · %s · %s", icon(l), esc(strings.ToUpper(l.Severity), 20), esc(strings.ToUpper(l.State), 40), esc(l.Template, 200))
	if l.Language != "" {
		head += " · " + esc(l.Language, 40)
	}
	if l.Button != "" {
		head += " · button “" + esc(l.Button, 200) + "”"
	}
	nums := esc(l.Metric, 60) + " **" + l.Value + "**"
	if l.Baseline != "" {
		nums += " · baseline " + l.Baseline
		if l.Change != "" {
			nums += " (" + l.Change + ")"
		}
	}
	nums += " · volume " + l.Volume
	var meta []string
	if l.Trend != "" {
		meta = append(meta, "trend "+esc(l.Trend, 60))
	}
	meta = append(meta, "rule "+esc(l.Rule, 100))
	if l.StateDetail != "" {
		meta = append(meta, l.StateDetail)
	}
	parts := []string{head, nums, strings.Join(meta, " · ")}
	if s := strings.TrimSpace(l.Summary); s != "" {
		parts = append(parts, "> "+esc(s, 4000))
	}
	return strings.Join(parts, "\n\n")
}

type unit struct {
	text     string
	items    int
	problems int
}

const healthHead = "#### ⚠️ Monitor health"

func healthUnits(ps []alert.Problem) []unit {
	var out []unit
	for i, p := range ps {
		t := "- " + esc(notify.ProblemText(p), 1000)
		if i == 0 {
			t = healthHead + "\n\n" + t
		}
		out = append(out, unit{text: t, problems: 1})
	}
	return out
}

// Render lays d out as robot messages, each text at most MaxTextBytes: at
// most maxMessages (≤ 0: the default). The first message mentions m when
// something fires or the monitor is unhealthy. It does not filter resolved
// items.
func Render(d *notify.Digest, m Mentions, maxMessages int) []Payload {
	if maxMessages <= 0 {
		maxMessages = DefaultMaxMessages
	}
	dd := *d
	dd.Items = append([]alert.Item(nil), d.Items...)
	dd.Sort()
	title := dd.Title
	if strings.TrimSpace(title) == "" {
		title = dd.DefaultTitle()
	}
	title = esc(title, 100)

	f, r := dd.Counts()
	var info []string
	if p := notify.FormatPeriod(dd.PeriodStart, dd.PeriodEnd, dd.Location); p != "" {
		info = append(info, "**Period** "+Escape(p))
	}
	if f > 0 {
		info = append(info, fmt.Sprintf("%d firing", f))
	}
	if r > 0 {
		info = append(info, fmt.Sprintf("%d resolved", r))
	}
	if n := len(dd.Health); n == 1 {
		info = append(info, "1 health problem")
	} else if n > 1 {
		info = append(info, fmt.Sprintf("%d health problems", n))
	}
	infoText := strings.Join(info, " · ")

	mention := ""
	if !m.empty() && (f > 0 || len(dd.Health) > 0) {
		mention = m.line()
	}
	header := func(label string) string {
		s := "### " + title + label
		if infoText != "" {
			s += "\n\n" + infoText
		}
		return s
	}
	// room for the units of one message: the longest header, the mention
	// line, the "n more" footer and the blank lines between them
	reserve := len(header(notify.PartLabel(99, 99))) + len(mention) + len(notify.MoreText(1<<30, 1<<30)) + 16
	budget := MaxTextBytes - reserve

	us := healthUnits(dd.Health)
	for i := range dd.Items {
		us = append(us, unit{text: itemText(&dd.Items[i], &dd), items: 1})
	}
	var parts [][]unit
	var cur []unit
	size := 0
	for _, u := range us {
		if len(u.text) > budget {
			u.text = notify.TruncateBytes(u.text, budget)
		}
		if len(cur) > 0 && size+2+len(u.text) > budget {
			parts = append(parts, cur)
			cur, size = nil, 0
		}
		cur = append(cur, u)
		size += 2 + len(u.text)
	}
	if len(cur) > 0 || len(parts) == 0 {
		parts = append(parts, cur)
	}
	moreItems, moreProblems := 0, 0
	if len(parts) > maxMessages {
		for _, p := range parts[maxMessages:] {
			for _, u := range p {
				moreItems += u.items
				moreProblems += u.problems
			}
		}
		parts = parts[:maxMessages]
	}

	var out []Payload
	for i, p := range parts {
		label := notify.PartLabel(i+1, len(parts))
		blocks := []string{header(label)}
		for _, u := range p {
			blocks = append(blocks, u.text)
		}
		if i == len(parts)-1 {
			if more := notify.MoreText(moreItems, moreProblems); more != "" {
				blocks = append(blocks, "*"+more+"*")
			}
		}
		pl := Payload{MsgType: "markdown", Markdown: Markdown{Title: title + label}}
		if i == 0 && mention != "" {
			blocks = append(blocks, mention)
			pl.At = At{AtMobiles: m.Mobiles, AtUserIDs: m.UserIDs}
		}
		text := strings.Join(blocks, "\n\n")
		if len(text) > MaxTextBytes { // cannot happen with the budget above; never exceed the limit
			text = notify.TruncateBytes(text, MaxTextBytes)
		}
		pl.Markdown.Text = text
		out = append(out, pl)
	}
	return out
}

// PlainText renders payloads for a terminal (dry runs).
func PlainText(ps []Payload) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p.Markdown.Text)
		if !strings.HasSuffix(p.Markdown.Text, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}
