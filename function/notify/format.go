package notify

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cams-alert/cams-alert/function/alert"
)

// This file holds the text helpers every integration shares, so that Slack
// and DingTalk say the same thing in their own markup. Everything here returns
// plain, unescaped text: each integration escapes data for its markup.

// Line is one alert line broken into plain-text pieces. Template, Language,
// Button, Rule and Summary are data (they come from the API or the rules) and
// must be escaped by the renderer; the other fields are generated here.
type Line struct {
	Template string
	Language string
	Button   string
	Rule     string
	Summary  string

	Severity string // "critical", "warning", "info"
	Firing   bool   // false: resolved
	Repeat   bool   // a reminder for an alert still firing
	// State is "firing", "firing (reminder)" or "resolved".
	State string
	// StateDetail says since when it fires, or how long it lasted:
	// "since 2026-05-09 08:00 (1d 2h)", "lasted 1d 2h".
	StateDetail string

	Metric   string // human name, "read rate"
	Value    string // "8.0%" or "12,345"
	Baseline string // "" without a baseline
	Change   string // "-86.7%", "" without a baseline, "new" from a 0 baseline
	Volume   string // "950 delivered"
	Trend    string // sparkline, may be ""
}

// Describe renders it as plain-text pieces; times are shown in loc (UTC when nil).
func Describe(it *alert.Item, loc *time.Location) Line {
	if loc == nil {
		loc = time.UTC
	}
	l := Line{
		Template: it.Template,
		Language: it.Language,
		Button:   it.Button,
		Rule:     it.Rule,
		Summary:  it.Summary,
		Severity: it.Severity,
		Firing:   it.State != alert.Resolved,
		Repeat:   it.Repeat && it.State != alert.Resolved,
		Metric:   MetricName(it.Metric),
		Value:    FormatValue(it.Value, it.IsRate),
		Trend:    it.Trend,
	}
	if l.Severity == "" {
		l.Severity = "warning"
	}
	switch {
	case !l.Firing:
		l.State = alert.Resolved
		if it.Duration > 0 {
			l.StateDetail = "lasted " + FormatDuration(it.Duration)
		}
	case l.Repeat:
		l.State = "firing (reminder)"
	default:
		l.State = alert.Firing
	}
	if l.Firing && !it.Since.IsZero() {
		l.StateDetail = "since " + it.Since.In(loc).Format("2006-01-02 15:04")
		if it.Duration > 0 {
			l.StateDetail += " (" + FormatDuration(it.Duration) + ")"
		}
	}
	if it.HasBaseline {
		l.Baseline = FormatValue(it.Baseline, it.IsRate)
		if c, ok := it.Change(); ok {
			l.Change = FormatChange(c)
		} else if it.Value != 0 {
			l.Change = "new"
		} else {
			l.Change = "±0%"
		}
	}
	unit := "delivered"
	if it.Metric == "delivery_rate" || it.Metric == "sent" {
		unit = "sent"
	}
	l.Volume = FormatCount(it.Volume) + " " + unit
	return l
}

// Subject is "TEMPLATE · LANGUAGE · button “TEXT”" in plain text.
func (l Line) Subject() string {
	s := l.Template
	if l.Language != "" {
		s += " · " + l.Language
	}
	if l.Button != "" {
		s += " · button “" + l.Button + "”"
	}
	return s
}

// Numbers is "read rate 8.0% · baseline 60.0% (-86.7%) · volume 950 delivered"
// in plain text (it contains no data).
func (l Line) Numbers() string {
	s := l.Metric + " " + l.Value
	if l.Baseline != "" {
		s += " · baseline " + l.Baseline
		if l.Change != "" {
			s += " (" + l.Change + ")"
		}
	}
	return s + " · volume " + l.Volume
}

// MetricName turns a metric id into words: "read_rate" → "read rate"; an
// empty id (an expr rule) is "value".
func MetricName(m string) string {
	if m == "" {
		return "value"
	}
	return strings.ReplaceAll(m, "_", " ")
}

// FormatValue renders a rate (fraction 0–1) as a percentage and anything else
// as a count with thousands separators.
func FormatValue(v float64, isRate bool) string {
	if isRate {
		return FormatPercent(v)
	}
	return FormatNumber(v)
}

// FormatPercent renders a fraction as a percentage: 0.0812 → "8.1%",
// 0.0025 → "0.25%".
func FormatPercent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	p := f * 100
	prec := 1
	if a := math.Abs(p); a != 0 && a < 1 {
		prec = 2
	}
	return trimZeros(strconv.FormatFloat(p, 'f', prec, 64), prec > 1) + "%"
}

// FormatChange renders a relative change with its sign: -0.867 → "-86.7%".
func FormatChange(c float64) string {
	s := FormatPercent(c)
	if c > 0 {
		s = "+" + s
	}
	return s
}

// FormatNumber renders a count: integers (and anything ≥ 100) with thousands
// separators, small fractions (a baseline mean) with up to 2 decimals.
func FormatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if v == math.Trunc(v) || math.Abs(v) >= 100 {
		return FormatCount(int64(math.Round(v)))
	}
	return trimZeros(strconv.FormatFloat(v, 'f', 2, 64), true)
}

func trimZeros(s string, trim bool) string {
	if !trim || !strings.Contains(s, ".") {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// FormatCount renders n with thousands separators: 1234567 → "1,234,567".
func FormatCount(n int64) string {
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	s := strconv.FormatUint(u, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// FormatDuration renders d coarsely for people: "45m", "5h", "2d 3h", "<1m".
func FormatDuration(d time.Duration) string {
	if d < time.Minute {
		return "<1m"
	}
	days := int64(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	hours := int64(d / time.Hour)
	d -= time.Duration(hours) * time.Hour
	mins := int64(d / time.Minute)
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%dd", days))
	}
	if hours > 0 {
		parts = append(parts, fmt.Sprintf("%dh", hours))
	}
	if mins > 0 && days == 0 {
		parts = append(parts, fmt.Sprintf("%dm", mins))
	}
	return strings.Join(parts, " ")
}

// FormatPeriod renders the evaluated period in loc (UTC when nil):
// "2026-05-10 00:00 – 2026-05-11 00:00 (Asia/Shanghai)", or
// "2026-05-10 10:00–10:30 (Asia/Shanghai)" within one day.
func FormatPeriod(start, end time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	if start.IsZero() && end.IsZero() {
		return ""
	}
	s, e := start.In(loc), end.In(loc)
	const day, clock = "2006-01-02 15:04", "15:04"
	var out string
	switch {
	case start.IsZero():
		out = "until " + e.Format(day)
	case end.IsZero():
		out = "from " + s.Format(day)
	case s.Format("2006-01-02") == e.Format("2006-01-02"):
		out = s.Format(day) + "–" + e.Format(clock)
	default:
		out = s.Format(day) + " – " + e.Format(day)
	}
	return out + " (" + loc.String() + ")"
}

// Counts returns how many items fire and how many resolved.
func (d *Digest) Counts() (firing, resolved int) {
	for i := range d.Items {
		if d.Items[i].State == alert.Resolved {
			resolved++
		} else {
			firing++
		}
	}
	return firing, resolved
}

// DefaultTitle is the title used when d.Title is empty:
// "cams-alert: 2 firing, 1 resolved" or "cams-alert: monitor health".
func (d *Digest) DefaultTitle() string {
	f, r := d.Counts()
	var parts []string
	if f > 0 {
		parts = append(parts, fmt.Sprintf("%d firing", f))
	}
	if r > 0 {
		parts = append(parts, fmt.Sprintf("%d resolved", r))
	}
	if len(parts) == 0 {
		if len(d.Health) > 0 {
			return "cams-alert: monitor health"
		}
		return "cams-alert"
	}
	return "cams-alert: " + strings.Join(parts, ", ")
}

// Empty reports whether d has nothing to say (no items, no health problems).
func (d *Digest) Empty() bool { return len(d.Items) == 0 && len(d.Health) == 0 }

// WithoutResolved returns a shallow copy of d without resolved items (for a
// channel configured not to hear about resolutions).
func (d *Digest) WithoutResolved() *Digest {
	c := *d
	c.Items = nil
	for _, it := range d.Items {
		if it.State != alert.Resolved {
			c.Items = append(c.Items, it)
		}
	}
	return &c
}

// ProblemText renders a health problem in plain text, e.g.
// "template 1100AB not checked: Ram.PermissionDeny — no permission" or
// "channel ops-ding unreachable: 310000 — sign not match".
func ProblemText(p alert.Problem) string {
	var s string
	switch {
	case p.Template != "":
		s = "template " + p.Template + " not checked"
	case p.Channel != "":
		s = "channel " + p.Channel + " unreachable"
	default:
		s = "monitor problem"
	}
	if p.Code != "" {
		s += ": " + p.Code
		if p.Message != "" {
			s += " — " + p.Message
		}
	} else if p.Message != "" {
		s += ": " + p.Message
	}
	return s
}

// MoreText says what a capped digest left out, e.g.
// "… and 12 more alerts and 1 more health problem not shown (message limit reached)".
func MoreText(items, problems int) string {
	var parts []string
	if items > 0 {
		parts = append(parts, plural(items, "more alert", "more alerts"))
	}
	if problems > 0 {
		parts = append(parts, plural(problems, "more health problem", "more health problems"))
	}
	if len(parts) == 0 {
		return ""
	}
	return "… and " + strings.Join(parts, " and ") + " not shown (message limit reached)"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// PartLabel is " (part 2/3)" when a digest spans several messages, else "".
func PartLabel(i, n int) string {
	if n <= 1 {
		return ""
	}
	return fmt.Sprintf(" (part %d/%d)", i, n)
}

// TruncateRunes cuts s to at most max runes on a rune boundary, ending it
// with "…" when it cut.
func TruncateRunes(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	i, n := 0, 0
	for j := range s {
		if n == max-1 {
			i = j
			break
		}
		n++
	}
	return s[:i] + "…"
}

// TruncateBytes cuts s to at most max bytes (UTF-8) on a rune boundary,
// ending it with "…" when it cut.
func TruncateBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ell = "…"
	if max < len(ell) {
		return ""
	}
	cut := max - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// Scrub replaces every occurrence of each secret (longer than 3 bytes) in s
// with "…": a last line of defence for error messages.
func Scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) > 3 {
			s = strings.ReplaceAll(s, sec, "…")
		}
	}
	return s
}

// URLSecrets lists the parts of a webhook URL that must never be shown: the
// URL itself, its path below the first segment and those path segments and
// query values of 8 bytes or more, its query, and user info.
func URLSecrets(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	if u.User != nil {
		out = append(out, u.User.String())
	}
	// short path segments ("send" in /robot/send) are words, not secrets;
	// tokens and Slack's T…/B… ids are longer
	long := func(s string) bool { return len(s) >= 8 }
	p := strings.TrimPrefix(u.Path, "/")
	if _, rest, ok := strings.Cut(p, "/"); ok && long(rest) {
		out = append(out, rest)
		for _, seg := range strings.Split(rest, "/") {
			if long(seg) {
				out = append(out, seg)
			}
		}
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
		for _, vs := range u.Query() {
			for _, v := range vs {
				if long(v) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}
