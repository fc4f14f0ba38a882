// Package console renders a digest as plain text for a terminal: what
// `run --dry-run` prints instead of posting.
package console

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
)

// Notifier writes digests to W under a "would send to NAME" heading.
type Notifier struct {
	Channel string
	W       io.Writer
	mu      *sync.Mutex
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
	_, err := io.WriteString(n.W, Render(n.Channel, d))
	return err
}

// Render formats d as the terminal shows it.
func Render(channel string, d *notify.Digest) string {
	d.Sort()
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	var b strings.Builder
	rule := strings.Repeat("─", 72)
	fmt.Fprintf(&b, "%s\n▶ would send to %s: %s\n  period %s → %s\n%s\n", rule, channel, d.Title,
		d.PeriodStart.In(loc).Format("2006-01-02 15:04 MST"), d.PeriodEnd.In(loc).Format("2006-01-02 15:04 MST"), rule)
	for i := range d.Items {
		it := &d.Items[i]
		state := strings.ToUpper(it.State)
		if it.Repeat {
			state += " (still firing)"
		}
		target := it.Template + " (" + it.Language + ")"
		if it.Button != "" {
			target += " button " + fmt.Sprintf("%q", it.Button)
		}
		fmt.Fprintf(&b, "[%s] %s %s — rule %s\n", strings.ToUpper(it.Severity), state, target, it.Rule)
		fmt.Fprintf(&b, "    %s\n", it.Summary)
		line := "    " + it.Metric + " " + Format(it.Value, it.IsRate)
		if it.HasBaseline {
			line += " · baseline " + Format(it.Baseline, it.IsRate)
			if c, ok := it.Change(); ok {
				line += fmt.Sprintf(" · change %+.1f%%", c*100)
			}
		}
		line += fmt.Sprintf(" · volume %s", Count(it.Volume))
		if it.Trend != "" {
			line += " · trend " + it.Trend
		}
		b.WriteString(line + "\n")
		switch {
		case it.State == alert.Resolved && it.Duration > 0:
			fmt.Fprintf(&b, "    lasted %s\n", Duration(it.Duration))
		case it.State == alert.Firing && !it.Since.IsZero():
			fmt.Fprintf(&b, "    firing since %s\n", it.Since.In(loc).Format("Mon 2 Jan 15:04"))
		}
	}
	if len(d.Health) > 0 {
		b.WriteString("Monitor health:\n")
		for _, p := range d.Health {
			who := p.Template
			if p.Channel != "" {
				who = "channel " + p.Channel
			}
			if who == "" {
				who = "monitor"
			}
			fmt.Fprintf(&b, "  ! %s: %s %s\n", who, p.Code, p.Message)
		}
	}
	if len(d.Items) == 0 && len(d.Health) == 0 {
		b.WriteString("(nothing to send)\n")
	}
	return b.String()
}

// Format renders a metric value: rates as percentages, counts as integers.
func Format(v float64, isRate bool) string {
	if isRate {
		return fmt.Sprintf("%.1f%%", v*100)
	}
	return Count(int64(v))
}

// Count renders n with thousands separators.
func Count(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Duration renders a lifetime in days/hours, the units alerts last.
func Duration(d time.Duration) string {
	if d >= 24*time.Hour {
		days := d / (24 * time.Hour)
		if h := (d % (24 * time.Hour)) / time.Hour; h > 0 {
			return fmt.Sprintf("%dd%dh", days, h)
		}
		return fmt.Sprintf("%dd", days)
	}
	return d.Round(time.Minute).String()
}
