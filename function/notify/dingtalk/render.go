package dingtalk

import (
	"strings"
	"unicode"

	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/locale"
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

func icon(l *notify.Line) string {
	if l.Kind == notify.KindResolved {
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

func bold(s string) string { return "**" + s + "**" }

func escLine(s string) string { return esc(s, 300) }

// lineText renders one alert as two markdown paragraphs: what happened, then
// the trend, notes, rule and actions as a quote.
func lineText(l *notify.Line) string {
	first := icon(l) + " " + bold(l.Label) + " · " + l.ButtonLead(escLine)
	if l.Custom != "" {
		first += esc(l.Custom, 4000)
	} else {
		first += notify.MarkStrong(l.Text, "**", "**")
	}
	meta := l.Notes(escLine, func(a notify.Action) string { return "[" + esc(a.Label, 75) + "](" + linkURL(a.URL) + ")" })
	// a quote sets the notes apart (DingTalk takes no HTML colours from a
	// robot that must not pass HTML through)
	return first + "\n\n> " + strings.Join(meta, " · ")
}

// linkURL keeps a link's URL from closing the (url) syntax.
func linkURL(u string) string {
	return strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(u)
}

// groupText renders one template's alerts under its heading.
func groupText(g *notify.Group) string {
	parts := []string{"#### " + g.Heading(func(s string) string { return esc(s, 200) }, func(s string) string { return s })}
	for i := range g.Lines {
		parts = append(parts, lineText(&g.Lines[i]))
	}
	return strings.Join(parts, "\n\n")
}

type piece struct {
	text string
	unit notify.Unit
}

func healthPieces(m *notify.Message) []piece {
	var out []piece
	for i, h := range m.Health {
		t := "- " + esc(h, 1000)
		if i == 0 {
			t = "#### ⚠️ " + m.HealthTitle + "\n\n" + t
		}
		out = append(out, piece{text: t, unit: notify.Unit{Problems: 1}})
	}
	return out
}

// Render lays d out as robot messages in cat's locale (English when nil),
// each text at most MaxTextBytes: at most maxMessages (≤ 0: the default).
// The first message mentions m when something fires or the monitor is
// unhealthy. It does not filter resolved items.
func Render(d *notify.Digest, cat *locale.Catalog, m Mentions, maxMessages int) []Payload {
	if maxMessages <= 0 {
		maxMessages = DefaultMaxMessages
	}
	msg := notify.Compose(d, cat)
	title := esc(msg.Push, 100)
	mention := ""
	if !m.empty() && (hasFiring(msg) || len(msg.Health) > 0) {
		mention = m.line()
	}
	header := func(label string) string {
		s := "### " + msg.Title + label
		if msg.Period != "" {
			s += "\n\n" + msg.Period
		}
		return s
	}
	// room for the units of one message: the longest header, the mention
	// line, the "n more" footer and the blank lines between them
	reserve := len(header(msg.PartLabel(99, 99))) + len(mention) + len(msg.MoreText(1<<30, 1<<30)) + 16
	budget := MaxTextBytes - reserve

	var pieces []piece
	if msg.Hello != "" {
		pieces = append(pieces, piece{text: "👋 " + msg.Hello})
	}
	pieces = append(pieces, healthPieces(msg)...)
	for i := range msg.Groups {
		g := &msg.Groups[i]
		pieces = append(pieces, piece{text: groupText(g), unit: notify.Unit{Items: len(g.Lines)}})
	}
	if len(msg.Silenced) > 0 {
		lines := []string{"#### 🔕 " + msg.SilencedTitle}
		for _, s := range msg.Silenced {
			lines = append(lines, "- "+esc(s, 500))
		}
		pieces = append(pieces, piece{text: strings.Join(lines, "\n\n")})
	}
	for i := range pieces {
		if len(pieces[i].text) > budget {
			pieces[i].text = notify.TruncateBytes(pieces[i].text, budget)
		}
		pieces[i].unit.Size = len(pieces[i].text) + 2
	}
	parts, moreItems, moreProblems := notify.Split(pieces, func(p piece) notify.Unit { return p.unit }, budget, maxMessages)

	var out []Payload
	for i, p := range parts {
		label := msg.PartLabel(i+1, len(parts))
		blocks := []string{header(label)}
		for _, pc := range p {
			blocks = append(blocks, pc.text)
		}
		if i == len(parts)-1 {
			if more := msg.MoreText(moreItems, moreProblems); more != "" {
				blocks = append(blocks, more)
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

func hasFiring(m *notify.Message) bool {
	for _, g := range m.Groups {
		for _, l := range g.Lines {
			if l.Kind != notify.KindResolved {
				return true
			}
		}
	}
	return false
}

// PlainText renders payloads for a terminal (dry runs): the title that
// phones show, then the markdown.
func PlainText(ps []Payload) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("[title] " + p.Markdown.Title + "\n")
		b.WriteString(p.Markdown.Text)
		if !strings.HasSuffix(p.Markdown.Text, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}
