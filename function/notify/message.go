package notify

import (
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/notify/locale"
)

// This file turns a digest into the one message model every platform
// renders: alerts grouped per template under a heading that names it, one
// line per alert that is true for its state, in the channel's locale. Slack,
// DingTalk and the console differ only in markup.
//
// Text that the product writes (Line.Text, Trend, Meta, Title, Period,
// Hello) holds only catalog words and numbers, and can go out unescaped; it
// marks emphasis with Strong. Anything that holds data (template names and
// codes, button texts, rule names, summaries, API errors) is kept apart and
// escaped by the renderer.

// Strong brackets emphasis in generated text; renderers swap it for markup
// (Slack *…*, DingTalk **…**) or drop it (StripStrong).
const (
	StrongOpen  = "\x02"
	StrongClose = "\x03"
)

// StripStrong removes the emphasis marks.
func StripStrong(s string) string {
	return strings.NewReplacer(StrongOpen, "", StrongClose, "").Replace(s)
}

// MarkStrong swaps the emphasis marks for open and close.
func MarkStrong(s, open, close string) string {
	return strings.NewReplacer(StrongOpen, open, StrongClose, close).Replace(s)
}

func strong(s string) string { return StrongOpen + s + StrongClose }

// Action is a per-alert action shown beside its line: a Slack button or a
// DingTalk link (e.g. "Silence 24 h").
type Action struct {
	Label string
	URL   string
	// Value, when set, makes the action a Slack Block Kit button whose
	// click Slack posts to the app (action_id ID, value Value) instead of
	// a link; notes leave it out.
	ID, Value string
}

// Learning is what a channel's first message says about the history the
// rules still need.
type Learning struct {
	// Templates is how many templates are watched.
	Templates int
	// From is when the rules can judge every watched template; zero when
	// unknown.
	From time.Time
}

// Kinds of line.
const (
	KindFiring   = "firing"
	KindReminder = "reminder"
	KindResolved = "resolved"
)

// Line is one alert, said once.
type Line struct {
	Item     *alert.Item
	Severity string // critical, warning, info
	Kind     string // KindFiring, KindReminder, KindResolved
	// Label is "Critical", "Warning, still firing" or "Resolved".
	Label string
	// Head is what happened ("read rate fell to 8.1%"); Text is Head with
	// what it is compared to and the volume behind it.
	Head string
	Text string
	// Custom is the summary the rule's author wrote (data), said instead of
	// Text.
	Custom string
	// Trend is the last values, oldest first: "61.2% → 60.4% → 8.1%".
	Trend string
	// Meta is generated notes: "lasted 2 days".
	Meta []string
	// Actions are links or buttons for this alert (none by default).
	Actions []Action

	cat *locale.Catalog
}

// ButtonLabel is `URL button “Shop now”` with the text escaped by esc; "" for
// an alert without a button.
func (l *Line) ButtonLabel(esc func(string) string) string {
	it := l.Item
	text := it.ButtonText
	if text == "" {
		text = it.Button
	}
	if text == "" {
		return ""
	}
	key := "button"
	if typ, ok := metrics.ButtonType(it.Button); ok && l.cat.Has("button."+typ) {
		key = "button." + typ
	}
	return l.cat.T(key, "text", esc(text))
}

// Notes are what goes under the line: the trend, notes such as how long it
// lasted, the rule (its name escaped by esc) and the actions, each made a
// link by link.
func (l *Line) Notes(esc func(string) string, link func(Action) string) []string {
	var out []string
	if l.Trend != "" {
		out = append(out, l.Trend)
	}
	out = append(out, l.Meta...)
	out = append(out, l.RuleLabel(esc))
	for _, a := range l.Actions {
		if a.Value == "" {
			out = append(out, link(a))
		}
	}
	return out
}

// Locale is the tag of the line's locale.
func (l *Line) Locale() string { return l.cat.Tag }

// ButtonLead is the button label followed by the locale's separator
// (`URL button “Shop now”: `), to put before what happened; "" without a
// button.
func (l *Line) ButtonLead(esc func(string) string) string {
	if b := l.ButtonLabel(esc); b != "" {
		return b + l.cat.T("sep.detail")
	}
	return ""
}

// RuleLabel is "rule NAME" with the name escaped by esc.
func (l *Line) RuleLabel(esc func(string) string) string {
	return l.cat.T("meta.rule", "rule", esc(l.Item.Rule))
}

// Group is the alerts of one template (code and language).
type Group struct {
	Template     string
	TemplateName string
	Language     string
	Lines        []Line
}

// Heading names the template: bold(name) · code · language, or bold(code) ·
// language when the name is unknown. esc escapes data; bold emphasises.
func (g *Group) Heading(esc, bold func(string) string) string {
	parts := []string{}
	if g.TemplateName != "" && g.TemplateName != g.Template {
		parts = append(parts, bold(esc(g.TemplateName)), esc(g.Template))
	} else {
		parts = append(parts, bold(esc(g.Template)))
	}
	if g.Language != "" {
		parts = append(parts, esc(g.Language))
	}
	return strings.Join(parts, " · ")
}

// Message is a digest composed for one locale.
type Message struct {
	Cat *locale.Catalog
	// Push is what phones and chat lists show: the most severe alert's
	// template and what happened. It holds data: escape it whole.
	Push string
	// Title heads the message ("cams-alert · 2 alerts, 1 resolved").
	Title string
	// Period is "Period: Sun 10 May (Asia/Shanghai)".
	Period string
	// Hello is the learning note of a channel's first message.
	Hello string
	// HealthTitle heads Health; Health lines hold data: escape each whole.
	HealthTitle string
	Health      []string
	Groups      []Group
	// SilencedTitle heads Silenced; Silenced lines hold data: escape each
	// whole.
	SilencedTitle string
	Silenced      []string
}

// Compose builds the message of d in the locale of c (English when nil).
// It does not filter resolved items.
func Compose(d *Digest, c *locale.Catalog) *Message {
	if c == nil {
		c = locale.Get(locale.Default)
	}
	dd := *d
	dd.Items = append([]alert.Item(nil), d.Items...)
	dd.Sort()
	cp := composer{d: &dd, c: c, loc: dd.Location}
	if cp.loc == nil {
		cp.loc = time.UTC
	}
	m := &Message{Cat: c, HealthTitle: c.T("health.title")}
	m.Groups = cp.groups()
	for _, p := range dd.Health {
		m.Health = append(m.Health, ProblemText(c, p))
	}
	m.SilencedTitle = c.T("silenced.title")
	for i := range dd.Silenced {
		m.Silenced = append(m.Silenced, cp.silenced(&dd.Silenced[i]))
	}
	m.Period = cp.period()
	m.Hello = cp.hello()
	m.Title = cp.title()
	m.Push = cp.push(m)
	return m
}

type composer struct {
	d   *Digest
	c   *locale.Catalog
	loc *time.Location
}

func (cp *composer) groups() []Group {
	var out []Group
	index := map[[2]string]int{}
	for i := range cp.d.Items {
		it := &cp.d.Items[i]
		k := [2]string{it.Template, it.Language}
		gi, ok := index[k]
		if !ok {
			gi = len(out)
			index[k] = gi
			out = append(out, Group{Template: it.Template, Language: it.Language})
		}
		g := &out[gi]
		if g.TemplateName == "" {
			g.TemplateName = it.TemplateName
		}
		g.Lines = append(g.Lines, cp.line(it))
	}
	return out
}

// clock reports whether periods are shorter than a day, so that times of
// day matter.
func (cp *composer) clock() bool {
	d := cp.d
	return !d.PeriodStart.IsZero() && !d.PeriodEnd.IsZero() && d.PeriodEnd.Sub(d.PeriodStart) < 24*time.Hour
}

func (cp *composer) when(t time.Time) string {
	if cp.clock() {
		return cp.c.DateTime(t.In(cp.loc))
	}
	return cp.c.Date(t.In(cp.loc))
}

func (cp *composer) line(it *alert.Item) Line {
	c := cp.c
	l := Line{Item: it, Severity: it.Severity, cat: c}
	if !c.Has("severity." + l.Severity) {
		// rules allow only known severities; an old ledger entry may not
		l.Severity = "warning"
	}
	sev := c.T("severity." + l.Severity)
	switch {
	case it.State == alert.Resolved:
		l.Kind, l.Label = KindResolved, c.T("state.resolved")
	case it.Repeat:
		l.Kind, l.Label = KindReminder, c.T("state.reminder", "severity", sev)
	default:
		l.Kind, l.Label = KindFiring, sev
	}
	l.Head, l.Text = cp.sentence(it, l.Kind)
	if it.CustomSummary && strings.TrimSpace(it.Summary) != "" {
		l.Custom = it.Summary
	}
	l.Trend = cp.trend(it)
	switch {
	case l.Kind == KindResolved && it.Duration > 0:
		l.Meta = append(l.Meta, c.T("meta.lasted", "duration", c.Duration(it.Duration)))
	case l.Kind == KindFiring && !it.Since.IsZero() && it.Since.Before(cp.d.PeriodStart):
		l.Meta = append(l.Meta, c.T("meta.since", "since", cp.when(it.Since)))
	}
	if cp.d.Actions != nil {
		l.Actions = cp.d.Actions(it)
	}
	return l
}

// sentence says what the alert is in its state: the head, and the full
// text with what the value is compared with and the volume behind it.
func (cp *composer) sentence(it *alert.Item, kind string) (head, text string) {
	c := cp.c
	format := func(v float64) string {
		if it.IsRate {
			return metrics.Percent(v)
		}
		return metrics.Count(v)
	}
	metric := cp.metricName(it.Metric)
	args := []string{"metric", metric, "value", strong(format(it.Value)),
		"threshold", format(it.Threshold), "since", cp.when(it.Since)}
	cond := it.Condition
	key := map[string]string{KindFiring: "fire.", KindReminder: "remind.", KindResolved: "res."}[kind] + cond
	switch {
	case kind == KindResolved && (cond == "drop" || cond == "rise" || cond == "above" || cond == "below"):
		key = "res.level"
	case !c.Has(key) && kind == KindResolved:
		key = "res.level"
	case !c.Has(key):
		key = map[string]string{KindFiring: "fire.expr", KindReminder: "remind.expr"}[kind]
	}
	head = c.T(key, args...)
	text = head
	if t := cp.tail(it, kind, format); t != "" {
		text += c.T("sep.clause") + t
	}
	if cond != "absent" {
		unit := "volume.delivered"
		if it.Metric == metrics.Sent || it.Metric == metrics.DeliveryRate {
			unit = "volume.sent"
		}
		text += " · " + c.T(unit, "n", metrics.Thousands(it.Volume))
	}
	return head, text
}

// tail is what the value is compared with: the usual level (and the change
// while it fires), or the usual sends of a template that stopped.
func (cp *composer) tail(it *alert.Item, kind string, format func(float64) string) string {
	c := cp.c
	if !it.HasBaseline {
		return ""
	}
	switch it.Condition {
	case "absent":
		return c.T("tail.absent", "baseline", metrics.Count(it.Baseline))
	case "above", "below":
		if kind != KindResolved {
			return "" // the threshold is the comparison
		}
	}
	ch, ok := metrics.Change(it.Value, it.Baseline)
	if kind == KindResolved || it.Condition == "zero" || !ok {
		return c.T("tail.usual.plain", "baseline", format(it.Baseline))
	}
	return c.T("tail.usual", "baseline", format(it.Baseline), "change", ch)
}

// trendLen is how many recent values a line shows: enough to see a fall,
// short enough for a phone.
const trendLen = 4

func (cp *composer) trend(it *alert.Item) string {
	vals := it.Recent
	if len(vals) < 2 {
		return ""
	}
	if len(vals) > trendLen {
		vals = vals[len(vals)-trendLen:]
	}
	s := make([]string, len(vals))
	for i, v := range vals {
		if it.IsRate {
			s[i] = metrics.Percent(v)
		} else {
			s[i] = metrics.Count(v)
		}
	}
	return cp.c.T("meta.trend", "values", strings.Join(s, " → "))
}

func (cp *composer) period() string {
	d, c := cp.d, cp.c
	if d.PeriodStart.IsZero() || d.PeriodEnd.IsZero() {
		return ""
	}
	s, e := d.PeriodStart.In(cp.loc), d.PeriodEnd.In(cp.loc)
	var when string
	switch {
	case e.Sub(s) == 24*time.Hour && s.Hour() == 0 && s.Minute() == 0:
		when = c.Date(s)
	case cp.clock() && s.YearDay() == e.Add(-time.Nanosecond).YearDay():
		when = c.Date(s) + " " + s.Format("15:04") + "–" + e.Format("15:04")
	default:
		when = c.T("period.range", "from", c.DateTime(s), "to", c.DateTime(e))
	}
	return c.T("period", "when", when, "zone", c.Zone(cp.loc))
}

func (cp *composer) hello() string {
	l := cp.d.Learning
	if l == nil {
		return ""
	}
	c := cp.c
	switch {
	case l.From.IsZero():
		return c.N("learning.unknown", l.Templates)
	case !l.From.After(cp.d.PeriodEnd):
		return c.N("learning.ready", l.Templates)
	}
	return c.N("learning.from", l.Templates, "date", c.Date(l.From.In(cp.loc)))
}

func (cp *composer) title() string {
	c := cp.c
	var firing, reminders, resolved int
	for i := range cp.d.Items {
		it := &cp.d.Items[i]
		switch {
		case it.State == alert.Resolved:
			resolved++
		case it.Repeat:
			reminders++
		default:
			firing++
		}
	}
	var parts []string
	for _, p := range []struct {
		key string
		n   int
	}{{"head.alerts", firing}, {"head.reminders", reminders}, {"head.resolved", resolved}, {"head.health", len(cp.d.Health)}} {
		if p.n > 0 {
			parts = append(parts, c.N(p.key, p.n))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, c.T("head.hello"))
	}
	return c.T("head", "counts", strings.Join(parts, c.T("sep.list")))
}

// push names the most severe alert's template and what happened; a digest
// of resolutions alone names the first resolved template.
func (cp *composer) push(m *Message) string {
	c := cp.c
	var first *Line
	var group *Group
	n := 0
	for gi := range m.Groups {
		for li := range m.Groups[gi].Lines {
			n++
			if first == nil {
				first, group = &m.Groups[gi].Lines[li], &m.Groups[gi]
			}
		}
	}
	switch {
	case first != nil:
		name := group.TemplateName
		if name == "" {
			name = group.Template
		}
		if group.Language != "" {
			name += " (" + group.Language + ")"
		}
		s := c.T("push.line", "template", name, "what", StripStrong(first.Head))
		if n > 1 {
			s = c.T("push.more", "text", s, "n", metrics.Thousands(int64(n-1)))
		}
		return s
	case len(m.Health) > 0:
		return c.N("push.health", len(m.Health))
	case cp.d.Learning != nil:
		return c.N("learning.push", cp.d.Learning.Templates)
	}
	return c.T("product")
}

// silenced renders one held-back alert: template · code · language, the
// rule and its metric, the silence's reason (who) and until when.
func (cp *composer) silenced(s *alert.Silenced) string {
	it := &s.Item
	g := Group{Template: it.Template, TemplateName: it.TemplateName, Language: it.Language}
	plain := func(s string) string { return s }
	return cp.c.T("silenced.line", "alert", g.Heading(plain, plain), "rule", it.Rule,
		"metric", cp.metricName(it.Metric), "reason", s.Reason, "until", cp.c.DateTime(s.Until.In(cp.loc)))
}

// metricName is the metric's words, or its id made readable when the
// catalog has none.
func (cp *composer) metricName(id string) string {
	if !cp.c.Has("metric." + id) {
		return strings.ReplaceAll(id, "_", " ")
	}
	return cp.c.T("metric." + id)
}

// ProblemText renders a health problem in c's words, e.g. "template
// spring_sale · 1100AB could not be checked: Ram.PermissionDeny — no
// permission". The name comes first as in the alert headings; the code and
// message are the API's own and stay as they are.
func ProblemText(c *locale.Catalog, p alert.Problem) string {
	var s string
	switch {
	case p.More > 0:
		key := "health.more"
		if p.Warning {
			key = "health.more.warning"
		}
		return c.N(key, p.More, "code", p.Code)
	case p.Template != "":
		tmpl := p.Template
		if p.TemplateName != "" {
			tmpl = p.TemplateName + " · " + tmpl
		}
		key := "health.template"
		if p.Warning {
			key = "health.warning"
		}
		s = c.T(key, "template", tmpl)
	case p.Channel != "":
		s = c.T("health.channel", "channel", p.Channel)
	default:
		s = c.T("health.other")
	}
	sep := c.T("sep.detail")
	if p.Code != "" {
		s += sep + p.Code
		if p.Message != "" {
			s += " — " + p.Message
		}
	} else if p.Message != "" {
		s += sep + p.Message
	}
	return s
}

// MoreText says what a capped digest left out, or "" when nothing was.
func (m *Message) MoreText(items, problems int) string {
	c := m.Cat
	var parts []string
	if items > 0 {
		parts = append(parts, c.N("more.alerts", items))
	}
	if problems > 0 {
		parts = append(parts, c.N("more.problems", problems))
	}
	if len(parts) == 0 {
		return ""
	}
	return c.T("more", "what", strings.Join(parts, c.T("more.and")))
}

// PartLabel is " (part 2/3)" when a digest spans several messages, else "".
func (m *Message) PartLabel(i, n int) string {
	if n <= 1 {
		return ""
	}
	return m.Cat.T("part", "i", metrics.Thousands(int64(i)), "n", metrics.Thousands(int64(n)))
}
