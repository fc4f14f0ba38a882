package slack

import (
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
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
func emoji(l notify.Line) string {
	if !l.Firing {
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

// itemText renders one alert as a section's mrkdwn (≤ MaxSectionText).
func itemText(it *alert.Item, d *notify.Digest) string {
	l := notify.Describe(it, d.Location)
	var b strings.Builder
	state := strings.ToUpper(l.State)
	fmt.Fprintf(&b, "%s *%s · %s* · *%s*", emoji(l), esc(strings.ToUpper(l.Severity), 20), esc(state, 40), esc(l.Template, 200))
	if l.Language != "" {
		b.WriteString(" · " + esc(l.Language, 40))
	}
	if l.Button != "" {
		b.WriteString(" · button “" + esc(l.Button, 200) + "”")
	}
	b.WriteString("\n" + esc(l.Metric, 60) + " *" + l.Value + "*")
	if l.Baseline != "" {
		b.WriteString(" · baseline " + l.Baseline)
		if l.Change != "" {
			b.WriteString(" (" + l.Change + ")")
		}
	}
	b.WriteString(" · volume " + l.Volume)
	var meta []string
	if l.Trend != "" {
		meta = append(meta, "trend "+esc(l.Trend, 60))
	}
	meta = append(meta, "rule "+esc(l.Rule, 100))
	if l.StateDetail != "" {
		meta = append(meta, l.StateDetail)
	}
	b.WriteString("\n" + strings.Join(meta, " · "))
	head := b.String()
	if s := strings.TrimSpace(l.Summary); s != "" {
		// the summary gets what the head leaves of the section
		room := MaxSectionText - units(head) - 2
		sum := Escape(strings.Join(strings.Fields(s), " "))
		return head + "\n>" + cut(sum, room)
	}
	return cut(head, MaxSectionText)
}

// unit is one section block and what it stands for.
type unit struct {
	text     string
	items    int
	problems int
}

func healthUnits(ps []alert.Problem) []unit {
	if len(ps) == 0 {
		return nil
	}
	var out []unit
	cur := unit{text: ":warning: *Monitor health*"}
	for _, p := range ps {
		// Cut after escaping: an entity can be 5 units for 1, so a line cut
		// before it could still push the section past Slack's limit.
		line := "• " + cut(Escape(strings.Join(strings.Fields(notify.ProblemText(p)), " ")), 1000)
		if units(cur.text)+1+units(line) > MaxSectionText {
			out = append(out, cur)
			cur = unit{text: ":warning: *Monitor health* (continued)"}
		}
		cur.text += "\n" + line
		cur.problems++
	}
	return append(out, cur)
}

// Render lays d out as Slack messages: at most maxMessages (≤ 0: the
// default), each with at most MaxBlocks blocks. Data is escaped. It does not
// filter resolved items.
func Render(d *notify.Digest, maxMessages int) []*slackgo.WebhookMessage {
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

	us := healthUnits(dd.Health)
	for i := range dd.Items {
		us = append(us, unit{text: itemText(&dd.Items[i], &dd), items: 1})
	}
	// header + context, and room for the "n more" footer
	per := MaxBlocks - 3
	var parts [][]unit
	for len(us) > 0 {
		k := min(per, len(us))
		parts = append(parts, us[:k])
		us = us[k:]
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
	if len(parts) == 0 {
		parts = [][]unit{nil}
	}

	f, r := dd.Counts()
	var ctx []string
	if p := notify.FormatPeriod(dd.PeriodStart, dd.PeriodEnd, dd.Location); p != "" {
		ctx = append(ctx, "*Period* "+Escape(p))
	}
	if f > 0 {
		ctx = append(ctx, fmt.Sprintf("%d firing", f))
	}
	if r > 0 {
		ctx = append(ctx, fmt.Sprintf("%d resolved", r))
	}
	if n := len(dd.Health); n > 0 {
		ctx = append(ctx, fmt.Sprintf("%d health problem%s", n, map[bool]string{true: "", false: "s"}[n == 1]))
	}
	ctxText := strings.Join(ctx, " · ")

	var out []*slackgo.WebhookMessage
	for i, p := range parts {
		label := notify.PartLabel(i+1, len(parts))
		head := cut(esc(title, MaxHeaderText), MaxHeaderText-units(label)) + label
		blocks := []slackgo.Block{
			slackgo.NewHeaderBlock(slackgo.NewTextBlockObject(slackgo.PlainTextType, head, true, false)),
		}
		if ctxText != "" {
			blocks = append(blocks, slackgo.NewContextBlock("", slackgo.NewTextBlockObject(slackgo.MarkdownType, cut(ctxText, MaxContextText), false, true)))
		}
		for _, u := range p {
			blocks = append(blocks, slackgo.NewSectionBlock(slackgo.NewTextBlockObject(slackgo.MarkdownType, u.text, false, true), nil, nil))
		}
		if i == len(parts)-1 {
			if more := notify.MoreText(moreItems, moreProblems); more != "" {
				blocks = append(blocks, slackgo.NewContextBlock("", slackgo.NewTextBlockObject(slackgo.MarkdownType, Escape(more), false, true)))
			}
		}
		no := false
		out = append(out, &slackgo.WebhookMessage{
			Text:        head,
			Blocks:      &slackgo.Blocks{BlockSet: blocks},
			Parse:       "none",
			UnfurlLinks: &no,
			UnfurlMedia: &no,
		})
	}
	return out
}

// PlainText renders messages as plain text for a terminal (dry runs): the
// header, context and sections of each message, entities decoded.
func PlainText(msgs []*slackgo.WebhookMessage) string {
	var b strings.Builder
	unesc := strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")
	for i, m := range msgs {
		if i > 0 {
			b.WriteString("\n")
		}
		for _, bl := range m.Blocks.BlockSet {
			switch x := bl.(type) {
			case *slackgo.HeaderBlock:
				b.WriteString(unesc.Replace(x.Text.Text) + "\n")
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
