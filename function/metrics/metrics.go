// Package metrics is the data model every later stage reads: per template and
// language, a series of periods keyed by the API's own bucket boundaries.
package metrics

import (
	"fmt"
	"sort"
	"time"
)

// Granularity is the API's bucket size.
type Granularity string

const (
	Daily    Granularity = "DAILY"
	HalfHour Granularity = "HALF_HOUR"
)

// Step is the nominal length of one bucket.
func (g Granularity) Step() time.Duration {
	if g == HalfHour {
		return 30 * time.Minute
	}
	return 24 * time.Hour
}

// Valid reports whether g is one the API accepts.
func (g Granularity) Valid() bool { return g == Daily || g == HalfHour }

// Button types as the API spells them.
const (
	QuickReply  = "quick_reply_button"
	URLButton   = "url_button"
	PhoneButton = "phone_number_button"
)

// Button is the click count of one button in one period.
type Button struct {
	Type  string `json:"type"`
	Text  string `json:"text"`
	Count int64  `json:"count"`
}

// Period is one bucket of one series.
type Period struct {
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Sent      int64     `json:"sent"`
	Delivered int64     `json:"delivered"`
	Read      int64     `json:"read"`
	Clicks    int64     `json:"clicks"` // sum of all buttons
	Buttons   []Button  `json:"buttons,omitempty"`
}

// Metric names, as rules name them (docs/rules.md, "Rule fields").
const (
	Sent         = "sent"
	Delivered    = "delivered"
	Read         = "read"
	Clicks       = "clicks"
	DeliveryRate = "delivery_rate"
	ReadRate     = "read_rate"
	ClickRate    = "click_rate"
)

// Names lists every metric, counts first.
var Names = []string{Sent, Delivered, Read, Clicks, DeliveryRate, ReadRate, ClickRate}

// labels are the metrics' English names for people, as the messages write
// them (the notify/locale "en" catalog must agree).
var labels = map[string]string{
	Sent: "sends", Delivered: "deliveries", Read: "reads", Clicks: "clicks",
	DeliveryRate: "delivery rate", ReadRate: "read rate", ClickRate: "click rate",
}

// Label is metric's English name for people ("read rate"); an unknown
// metric keeps its id.
func Label(metric string) string {
	if l, ok := labels[metric]; ok {
		return l
	}
	return metric
}

// IsRate reports whether the metric is a fraction in [0,1].
func IsRate(metric string) bool {
	return metric == DeliveryRate || metric == ReadRate || metric == ClickRate
}

// Known reports whether metric is one of Names.
func Known(metric string) bool {
	for _, n := range Names {
		if n == metric {
			return true
		}
	}
	return false
}

// ButtonClicks returns the clicks of the buttons that match sel: a button text
// ("Shop now") or "type:url_button". ok is false when no button in the period
// matches, which callers must tell apart from zero clicks on a present button.
func (p *Period) ButtonClicks(sel string) (n int64, ok bool) {
	typ, isType := ButtonType(sel)
	for _, b := range p.Buttons {
		if (isType && b.Type == typ) || (!isType && b.Text == sel) {
			n += b.Count
			ok = true
		}
	}
	return n, ok
}

// ButtonType splits a "type:url_button" selector.
func ButtonType(sel string) (string, bool) {
	const prefix = "type:"
	if len(sel) > len(prefix) && sel[:len(prefix)] == prefix {
		return sel[len(prefix):], true
	}
	return "", false
}

// Value returns a metric of the period, optionally for one button (clicks and
// click_rate only). ok is false when the value is undefined: a rate whose
// denominator is 0, or a button that the period does not have.
func (p *Period) Value(metric, button string) (v float64, ok bool) {
	clicks := p.Clicks
	if button != "" && (metric == Clicks || metric == ClickRate) {
		n, found := p.ButtonClicks(button)
		if !found {
			if p.Delivered == 0 {
				return 0, false
			}
			// A button missing from a period that delivered messages
			// was not clicked: the API omits zero-count buttons.
			n = 0
		}
		clicks = n
	}
	switch metric {
	case Sent:
		return float64(p.Sent), true
	case Delivered:
		return float64(p.Delivered), true
	case Read:
		return float64(p.Read), true
	case Clicks:
		return float64(clicks), true
	case DeliveryRate:
		return ratio(p.Delivered, p.Sent)
	case ReadRate:
		return ratio(p.Read, p.Delivered)
	case ClickRate:
		return ratio(clicks, p.Delivered)
	}
	return 0, false
}

// Denominator returns the count a rate is taken over (sent for
// delivery_rate, delivered otherwise) and the numerator, for statistical tests.
func (p *Period) Denominator(metric, button string) (num, den int64, ok bool) {
	switch metric {
	case DeliveryRate:
		return p.Delivered, p.Sent, p.Sent > 0
	case ReadRate:
		return p.Read, p.Delivered, p.Delivered > 0
	case ClickRate:
		c := p.Clicks
		if button != "" {
			c, _ = p.ButtonClicks(button)
		}
		return c, p.Delivered, p.Delivered > 0
	}
	return 0, 0, false
}

func ratio(a, b int64) (float64, bool) {
	if b <= 0 {
		return 0, false
	}
	return float64(a) / float64(b), true
}

// Key names one series.
type Key struct {
	Template string `json:"template"`
	Language string `json:"language"`
}

func (k Key) String() string { return k.Template + "/" + k.Language }

// Series is the history of one template in one language at one granularity,
// oldest period first, one period per distinct Start.
type Series struct {
	Key
	// TemplateName is the template's name (ListChatappTemplate), "" when
	// unknown: messages show it beside the code.
	TemplateName string      `json:"template_name,omitempty"`
	Granularity  Granularity `json:"granularity"`
	Periods      []Period    `json:"periods"`
}

// Normalize sorts periods by Start and merges duplicate buckets (same Start)
// by keeping the one with the larger sent count: the API may repeat a bucket
// when a query window straddles it, and the later copy is the more complete.
func (s *Series) Normalize() {
	sort.SliceStable(s.Periods, func(i, j int) bool { return s.Periods[i].Start.Before(s.Periods[j].Start) })
	out := s.Periods[:0]
	for _, p := range s.Periods {
		if n := len(out); n > 0 && out[n-1].Start.Equal(p.Start) {
			if p.Sent >= out[n-1].Sent {
				out[n-1] = p
			}
			continue
		}
		out = append(out, p)
	}
	s.Periods = out
}

// Index returns the index of the period that starts at t, or -1.
func (s *Series) Index(start time.Time) int {
	i := sort.Search(len(s.Periods), func(i int) bool { return !s.Periods[i].Start.Before(start) })
	if i < len(s.Periods) && s.Periods[i].Start.Equal(start) {
		return i
	}
	return -1
}

// Upto returns the number of periods that end at or before t, i.e. the
// periods a run evaluating at t may see.
func (s *Series) Upto(t time.Time) int {
	return sort.Search(len(s.Periods), func(i int) bool { return s.Periods[i].End.After(t) })
}

// Window is one evaluated period.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

func (w Window) String() string {
	return fmt.Sprintf("%s–%s", w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339))
}

// Grid is the bucket layout of a granularity. Learned from the data, it is
// buckets of Step length whose starts are Offset past a multiple of Step since
// the Unix epoch (never assumed: a DAILY bucket starts at whatever midnight the
// API uses). Without data it follows the wall clock of Loc instead: local
// midnights for DAILY, local :00 and :30 for HALF_HOUR. A zone's offset is not
// fixed (daylight saving; Asia/Singapore was UTC+7:30 in 1970), so no single
// Offset can stand for it.
type Grid struct {
	Step   time.Duration
	Offset time.Duration
	// Loc, when set, puts the boundaries on Loc's wall clock; Offset is
	// then unused.
	Loc *time.Location
}

// GridFor learns the grid of granularity g from the series' buckets: the most
// common Start offset (ties go to the smaller). With no data it falls back to
// the wall clock of loc (UTC when nil).
func GridFor(g Granularity, loc *time.Location, series ...*Series) Grid {
	step := g.Step()
	counts := map[time.Duration]int{}
	best, bestN := time.Duration(-1), 0
	for _, s := range series {
		for i := range s.Periods {
			off := offset(s.Periods[i].Start, step)
			counts[off]++
			if c := counts[off]; c > bestN || (c == bestN && off < best) {
				best, bestN = off, c
			}
		}
	}
	if bestN == 0 {
		if loc == nil {
			loc = time.UTC
		}
		return Grid{Step: step, Loc: loc}
	}
	return Grid{Step: step, Offset: best}
}

func offset(t time.Time, step time.Duration) time.Duration {
	ms := t.UnixMilli() % step.Milliseconds()
	if ms < 0 {
		ms += step.Milliseconds()
	}
	return time.Duration(ms) * time.Millisecond
}

// Latest returns the latest complete bucket that ends at or before at.
func (g Grid) Latest(at time.Time) Window {
	if g.Loc != nil {
		end := g.localFloor(at)
		return Window{Start: g.localBack(end, 1), End: end}
	}
	end := g.floor(at)
	return Window{Start: end.Add(-g.Step), End: end}
}

// Back returns the window n buckets before w.
func (g Grid) Back(w Window, n int) Window {
	if g.Loc != nil {
		return Window{Start: g.localBack(w.Start, n), End: g.localBack(w.End, n)}
	}
	d := time.Duration(n) * g.Step
	return Window{Start: w.Start.Add(-d), End: w.End.Add(-d)}
}

func (g Grid) floor(t time.Time) time.Time {
	ms := t.UnixMilli() - g.Offset.Milliseconds()
	step := g.Step.Milliseconds()
	q := ms / step
	if ms < 0 && ms%step != 0 {
		q--
	}
	return time.UnixMilli(q*step + g.Offset.Milliseconds()).UTC()
}

// localFloor is the last boundary at or before t on Loc's wall clock.
func (g Grid) localFloor(t time.Time) time.Time {
	if g.Step < 24*time.Hour {
		// The local half hours are those of t's own offset: a zone with a
		// +5:45 offset has them at :15 and :45 UTC.
		_, off := t.In(g.Loc).Zone()
		shift := time.Duration(off) * time.Second
		return Grid{Step: g.Step, Offset: offset(time.Unix(0, 0).Add(-shift), g.Step)}.floor(t)
	}
	return dayStart(t.In(g.Loc), 0)
}

// localBack moves the boundary b back n buckets on Loc's wall clock.
func (g Grid) localBack(b time.Time, n int) time.Time {
	if g.Step < 24*time.Hour {
		return b.Add(-time.Duration(n) * g.Step)
	}
	return dayStart(b.In(g.Loc), -n)
}

// dayStart is the first instant of the local day that comes days after d's
// date, in d's zone. Where a zone skips midnight (America/Santiago jumps from
// 00:00 to 01:00), that day starts at the jump.
func dayStart(d time.Time, days int) time.Time {
	y, m, dd := d.Date()
	start := time.Date(y, m, dd+days, 0, 0, 0, 0, d.Location())
	want := time.Date(y, m, dd+days, 0, 0, 0, 0, time.UTC)
	if sy, sm, sd := start.Date(); time.Date(sy, sm, sd, 0, 0, 0, 0, time.UTC).Before(want) {
		_, start = start.ZoneBounds()
	}
	return start.UTC()
}
