// Package console renders a digest as plain text for a terminal: what
// `run --dry-run` prints instead of posting.
package console

import (
	"context"
	"io"
	"strings"
	"sync"

	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/locale"
)

// Notifier writes digests to W under a "would send to NAME" heading.
type Notifier struct {
	Channel string
	W       io.Writer
	// Preview, when set, renders a digest as the channel's platform will
	// show it (its markup, locale and message splits); by default Render's
	// plain text.
	Preview func(d *notify.Digest) string
	// Locale is the language of the default rendering.
	Locale *locale.Catalog
	mu     *sync.Mutex
}

// New returns a console notifier standing in for channel. Notifiers that
// share a writer should share mu so their digests do not interleave.
func New(channel string, w io.Writer, mu *sync.Mutex) *Notifier {
	if mu == nil {
		mu = &sync.Mutex{}
	}
	return &Notifier{Channel: channel, W: w, mu: mu}
}

// Name implements notify.Notifier.
func (n *Notifier) Name() string { return n.Channel }

// Notify implements notify.Notifier.
func (n *Notifier) Notify(_ context.Context, d *notify.Digest) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	rule := strings.Repeat("─", 72)
	body := ""
	if n.Preview != nil {
		body = n.Preview(d)
	} else {
		body = Render(d, n.Locale)
	}
	_, err := io.WriteString(n.W, rule+"\n▶ would send to "+n.Channel+"\n"+rule+"\n"+body)
	return err
}

// Render formats d as plain text in cat's locale (English when nil): the
// same message model Slack and DingTalk render, without markup.
func Render(d *notify.Digest, cat *locale.Catalog) string {
	m := notify.Compose(d, cat)
	var b strings.Builder
	line := func(s string) { b.WriteString(s + "\n") }
	line("[push] " + m.Push)
	line(m.Title)
	if m.Period != "" {
		line(m.Period)
	}
	if m.Hello != "" {
		line(m.Hello)
	}
	if len(m.Health) > 0 {
		line("! " + m.HealthTitle)
		for _, h := range m.Health {
			line("  ! " + h)
		}
	}
	plain := func(s string) string { return s }
	for gi := range m.Groups {
		g := &m.Groups[gi]
		line("")
		line(g.Heading(plain, plain))
		for li := range g.Lines {
			line("  " + lineText(&g.Lines[li]))
		}
	}
	if len(m.Silenced) > 0 {
		line("")
		line("~ " + m.SilencedTitle)
		for _, s := range m.Silenced {
			line("  ~ " + s)
		}
	}
	if len(d.Items) == 0 && len(d.Health) == 0 && d.Learning == nil {
		line("(nothing to send)")
	}
	return b.String()
}

func lineText(l *notify.Line) string {
	plain := func(s string) string { return s }
	first := "[" + l.Label + "] " + l.ButtonLead(plain)
	if l.Custom != "" {
		first += l.Custom
	} else {
		first += notify.StripStrong(l.Text)
	}
	meta := l.Notes(plain, func(a notify.Action) string { return a.Label + " " + a.URL })
	return first + "\n      " + strings.Join(meta, " · ")
}
