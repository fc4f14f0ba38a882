package slack

import (
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/locale"
)

// Escape makes data safe in Slack text: &, < and > become entities, so no
// data can open a mention (<!channel>, <@U123>), a link or a date token.
func Escape(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// esc escapes data and flattens it to one line, cut to max characters first
// (so that the cut never splits an entity).
func esc(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	return Escape(notify.TruncateRunes(s, max))
}

// units counts text the way Slack counts characters (UTF-16 code units).
func units(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
		if r == utf8.RuneError {
			n++
		}
	}
	return n
}

// cut shortens escaped text to at most max UTF-16 units on a rune boundary,
// never inside an entity, ending with "…".
func cut(s string, max int) string {
	if units(s) <= max {
		return s
	}
	n, end := 0, 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 1 {
			w = 1
		}
		if n+w > max-1 {
			end = i
			break
		}
		n += w
		_, size := utf8.DecodeRuneInString(s[i:]) // an invalid byte is 1 byte, not RuneLen(RuneError)
		end = i + size
	}
	s = s[:end]
	if amp := strings.LastIndexByte(s, '&'); amp >= 0 && amp >= len(s)-5 && !strings.Contains(s[amp:], ";") {
		s = s[:amp]
	}
	return s + "…"
}

// emoji for a line.
func emoji(l *notify.Line) string {
	if l.Kind == notify.KindResolved {
		return ":white_check_mark:"
	}
	switch l.Severity {
	case "critical":
		return ":red_circle:"
	case "warning":
		return ":large_orange_circle:"
	default:
		return ":large_blue_circle:"
	}
}

func bold(s string) string { return "*" + s + "*" }

func escLine(s string) string { return esc(s, 300) }

// lineText renders what happened to one alert; metaText its trend, notes,
// rule and actions, which go below it in small grey type.
func lineText(l *notify.Line) string {
	first := emoji(l) + " " + bold(l.Label) + " · " + l.ButtonLead(escLine)
	if l.Custom != "" {
		return first + esc(l.Custom, 1000)
	}
	// Slack takes *…* as bold only at word boundaries, which Chinese text
	// has none of: a zero-width space makes one.
	open, close := "*", "*"
	if l.Locale() != locale.EN {
		open, close = "\u200b*", "*\u200b"
	}
	return first + notify.MarkStrong(l.Text, open, close)
}

func metaText(l *notify.Line) string {
	return strings.Join(l.Notes(escLine, func(a notify.Action) string {
		return "<" + actionURL(a.URL) + "|" + esc(a.Label, 75) + ">"
	}), " · ")
}

// buttons is the actions block of a line's button actions (nil: none).
// Slack posts a click to the app's Interactivity Request URL.
func buttons(l *notify.Line) slackgo.Block {
	var els []slackgo.BlockElement
	for _, a := range l.Actions {
		if a.Value != "" && len(els) < 5 {
			els = append(els, slackgo.NewButtonBlockElement(a.ID, a.Value,
				slackgo.NewTextBlockObject(slackgo.PlainTextType, notify.TruncateRunes(a.Label, 75), false, false)))
		}
	}
	if len(els) == 0 {
		return nil
	}
	return slackgo.NewActionBlock("", els...)
}

// actionURL keeps a link's URL from closing the <url|label> syntax.
func actionURL(u string) string {
	return strings.NewReplacer("|", "%7C", ">", "%3E", "<", "%3C", " ", "%20").Replace(u)
}

// piece is one indivisible run of blocks and what it shows.
type piece struct {
	blocks []slackgo.Block
	unit   notify.Unit
}

func section(text string) slackgo.Block {
	return slackgo.NewSectionBlock(slackgo.NewTextBlockObject(slackgo.MarkdownType, text, false, true), nil, nil)
}

func contextBlock(text string) slackgo.Block {
	return slackgo.NewContextBlock("", slackgo.NewTextBlockObject(slackgo.MarkdownType, cut(text, MaxContextText), false, true))
}

// groupAlerts is how many alerts of one template go under one heading before
// it repeats: 2 blocks each (3 with silence buttons) keeps a piece well
// within a message.
const groupAlerts = 10

// groupPieces renders one template's alerts: a divider, the heading over the
// first alert, and per alert a section (what happened) and a context (trend,
// rule). A long group continues under its heading again.
func groupPieces(g *notify.Group) []piece {
	head := g.Heading(func(s string) string { return esc(s, 200) }, bold)
	var out []piece
	for i := range g.Lines {
		if i%groupAlerts == 0 {
			out = append(out, piece{blocks: []slackgo.Block{slackgo.NewDividerBlock()}})
		}
		cur := &out[len(out)-1]
		text := lineText(&g.Lines[i])
		if i%groupAlerts == 0 {
			text = head + "\n" + text
		}
		cur.blocks = append(cur.blocks, section(cut(text, MaxSectionText)), contextBlock(metaText(&g.Lines[i])))
		if b := buttons(&g.Lines[i]); b != nil {
			cur.blocks = append(cur.blocks, b)
		}
		cur.unit.Items++
	}
	return out
}

func healthPieces(m *notify.Message) []piece {
	if len(m.Health) == 0 {
		return nil
	}
	head := ":warning: " + bold(m.HealthTitle)
	var out []piece
	cur := piece{}
	text := head
	for _, h := range m.Health {
		// Cut after escaping: an entity can be 5 units for 1, so a line cut
		// before it could still push the section past Slack's limit.
		line := "• " + cut(Escape(strings.Join(strings.Fields(h), " ")), 1000)
		if units(text)+1+units(line) > MaxSectionText {
			cur.blocks = []slackgo.Block{section(text)}
			out = append(out, cur)
			cur, text = piece{}, head
		}
		text += "\n" + line
		cur.unit.Problems++
	}
	cur.blocks = []slackgo.Block{section(text)}
	return append(out, cur)
}

// silencedPiece is the small "Silenced" note after the alerts: one context
// block, the least prominent, within Slack's limit.
func silencedPiece(m *notify.Message) (piece, bool) {
	if len(m.Silenced) == 0 {
		return piece{}, false
	}
	text := ":no_bell: " + bold(m.SilencedTitle)
	for _, s := range m.Silenced {
		line := "• " + cut(Escape(strings.Join(strings.Fields(s), " ")), 500)
		if units(text)+1+units(line) > MaxContextText {
			break
		}
		text += "\n" + line
	}
	// a divider, as between templates: the note is about none of them
	return piece{blocks: []slackgo.Block{slackgo.NewDividerBlock(), contextBlock(text)}}, true
}

// Render lays d out as Slack messages in cat's locale (English when nil): at
// most maxMessages (≤ 0: the default), each with at most MaxBlocks blocks.
// Data is escaped. It does not filter resolved items.
func Render(d *notify.Digest, cat *locale.Catalog, maxMessages int) []*slackgo.WebhookMessage {
	if maxMessages <= 0 {
		maxMessages = DefaultMaxMessages
	}
	m := notify.Compose(d, cat)
	var pieces []piece
	if m.Hello != "" {
		pieces = append(pieces, piece{blocks: []slackgo.Block{section(":wave: " + m.Hello)}})
	}
	pieces = append(pieces, healthPieces(m)...)
	for i := range m.Groups {
		pieces = append(pieces, groupPieces(&m.Groups[i])...)
	}
	if p, ok := silencedPiece(m); ok {
		pieces = append(pieces, p)
	}
	for i := range pieces {
		pieces[i].unit.Size = len(pieces[i].blocks)
	}
	// header + context, and room for the "n more" footer
	parts, moreItems, moreProblems := notify.Split(pieces, func(p piece) notify.Unit { return p.unit }, MaxBlocks-3, maxMessages)
	// phones show the first line or two; the fuzz tests hold it to a header's length
	push := esc(m.Push, MaxHeaderText)
	var out []*slackgo.WebhookMessage
	for i, p := range parts {
		label := m.PartLabel(i+1, len(parts))
		head := cut(m.Title, MaxHeaderText-units(label)) + label
		blocks := []slackgo.Block{
			slackgo.NewHeaderBlock(slackgo.NewTextBlockObject(slackgo.PlainTextType, head, true, false)),
		}
		if m.Period != "" {
			blocks = append(blocks, contextBlock(m.Period))
		}
		for _, pc := range p {
			blocks = append(blocks, pc.blocks...)
		}
		if i == len(parts)-1 {
			if more := m.MoreText(moreItems, moreProblems); more != "" {
				blocks = append(blocks, contextBlock(more))
			}
		}
		no := false
		out = append(out, &slackgo.WebhookMessage{
			Text:        cut(push, MaxHeaderText-units(label)) + label,
			Blocks:      &slackgo.Blocks{BlockSet: blocks},
			Parse:       "none",
			UnfurlLinks: &no,
			UnfurlMedia: &no,
		})
	}
	return out
}

// PlainText renders messages as plain text for a terminal (dry runs): the
// push text, then the header, context and sections of each message, entities
// decoded.
func PlainText(msgs []*slackgo.WebhookMessage) string {
	var b strings.Builder
	// entities decoded; zero-width spaces (bold marks in Chinese) are
	// invisible anyway
	unesc := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "\u200b", "")
	for i, m := range msgs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString("[push] " + unesc.Replace(m.Text) + "\n")
		for _, bl := range m.Blocks.BlockSet {
			switch x := bl.(type) {
			case *slackgo.HeaderBlock:
				b.WriteString(unesc.Replace(x.Text.Text) + "\n")
			case *slackgo.DividerBlock:
				b.WriteString("---\n")
			case *slackgo.ContextBlock:
				for _, e := range x.ContextElements.Elements {
					if t, ok := e.(*slackgo.TextBlockObject); ok {
						b.WriteString(unesc.Replace(t.Text) + "\n")
					}
				}
			case *slackgo.SectionBlock:
				if x.Text != nil {
					b.WriteString(unesc.Replace(x.Text.Text) + "\n")
				}
			}
		}
	}
	return b.String()
}

// BuilderURL is a link that opens msg in Slack's Block Kit Builder, the
// payload in the URL's fragment (which browsers do not send to the server):
// to see a message in Slack's own renderer before anything is sent.
func BuilderURL(msg *slackgo.WebhookMessage) string {
	b, err := json.Marshal(struct {
		Blocks []slackgo.Block `json:"blocks"`
	}{msg.Blocks.BlockSet})
	if err != nil {
		return ""
	}
	return "https://app.slack.com/block-kit-builder/#" + url.PathEscape(string(b))
}
