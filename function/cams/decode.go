package cams

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// Bucket timestamps outside [2000-01-01, 2100-01-01) are rejected: the API
// speaks milliseconds, and anything else is garbage.
var (
	minStartMs = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	maxStartMs = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
)

// UnknownLanguage keys the series of buckets that carry no Language.
const UnknownLanguage = "unknown"

// flexInt is a JSON integer the way the API (and its documentation) actually
// writes them: 12, "12", 12.0, null, "None" or "".
type flexInt struct {
	v   int64
	set bool
	bad string // why the value is not an integer
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	*f = flexInt{}
	s := string(bytes.TrimSpace(b))
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			f.bad = "not a string"
			return nil
		}
		s = strings.TrimSpace(str)
		switch strings.ToLower(s) {
		case "", "none", "null", "nil", "n/a":
			return nil
		}
	} else if s == "" || s == "true" || s == "false" || s[0] == '{' || s[0] == '[' {
		f.bad = fmt.Sprintf("%.20s is not a number", s)
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		f.v, f.set = n, true
		return nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		f.bad = fmt.Sprintf("%q is not a number", truncate(s, 20))
		return nil
	}
	if x != math.Trunc(x) || x >= 9.2e18 || x <= -9.2e18 {
		f.bad = fmt.Sprintf("%q is not an integer", truncate(s, 20))
		return nil
	}
	f.v, f.set = int64(x), true
	return nil
}

// flexString accepts a string, a number or null.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		*f = ""
		return nil
	}
	switch x := v.(type) {
	case string:
		*f = flexString(strings.TrimSpace(x))
	case json.Number:
		*f = flexString(x.String())
	case float64:
		*f = flexString(strconv.FormatFloat(x, 'f', -1, 64))
	case bool:
		*f = flexString(strconv.FormatBool(x))
	default:
		*f = ""
	}
	return nil
}

func (f flexString) orNone() string {
	s := string(f)
	if strings.EqualFold(s, "none") || strings.EqualFold(s, "null") {
		return ""
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

type rawButton struct {
	Type          flexString `json:"Type"`
	ButtonContent flexString `json:"ButtonContent"`
	Count         flexInt    `json:"Count"`
}

type rawBucket struct {
	TemplateCode   flexString      `json:"TemplateCode"`
	Language       flexString      `json:"Language"`
	Start          flexInt         `json:"Start"`
	End            flexInt         `json:"End"`
	SentCount      flexInt         `json:"SentCount"`
	DeliveredCount flexInt         `json:"DeliveredCount"`
	ReadCount      flexInt         `json:"ReadCount"`
	Cliented       json.RawMessage `json:"Cliented"`
}

// BucketError is one bucket Decode rejected.
type BucketError struct {
	Template string
	Language string
	Index    int       // position in Data
	Start    time.Time // zero when Start itself is the problem
	Reason   string
}

func (e *BucketError) Error() string {
	where := fmt.Sprintf("bucket #%d", e.Index)
	if !e.Start.IsZero() {
		where += " starting " + e.Start.UTC().Format(time.RFC3339)
	}
	tmpl := e.Template
	if tmpl == "" {
		tmpl = "?"
	}
	if e.Language != "" {
		tmpl += "/" + e.Language
	}
	return fmt.Sprintf("template %s: %s rejected: %s", tmpl, where, e.Reason)
}

// Decode reads a GetChatappTemplateMetric response body into one normalized
// series per template and language, sorted by template then language.
//
// It takes the API as it is, not as documented: numbers written as strings,
// null, "None" and missing counts (read as 0), an End that is missing or at
// or before Start (the documentation's own example: End becomes Start +
// g.Step()), a null Cliented, duplicate buckets (merged by
// metrics.Series.Normalize), and a RequestId with a trailing newline. A
// bucket it cannot trust, one with a missing or implausible Start, a
// negative or non-integer count, or clicks that overflow, is rejected rather
// than clamped: Decode then returns the series of the remaining buckets
// together with an error (errors.Join of *BucketError values) naming each
// rejected bucket's template. A bucket whose span is not one of g (a
// HALF_HOUR bucket in a DAILY answer) is dropped and counted in a *Warning
// (joined to the error, if any). A body whose Code is not "OK" returns an
// *APIError and no series. Decode never panics.
func Decode(body []byte, g metrics.Granularity) ([]*metrics.Series, error) {
	sink := newMetricSink(g, "", Query{}, nil)
	env, ae := parseEnvelope(body, 0, sink)
	if ae != nil {
		ae.API = APIMetric
		return nil, ae
	}
	series, derr := sink.result(env)
	if w := sink.warning(); w != nil {
		return series, errors.Join(derr, w)
	}
	return series, derr
}

// metricSink builds series from Data's buckets as they are read.
type metricSink struct {
	g        metrics.Granularity
	template string // names every series when set (see newMetricSink)
	from, to time.Time
	max      int // buckets accepted; past it the read fails
	scrub    func(string) string

	n        int
	buttons  int // button counts kept
	bySeries map[metrics.Key]*metrics.Series
	errs     []error
	rejected int // rejected buckets, named or not
	dropped  int // buckets of another granularity
	span     time.Duration
}

// newMetricSink decodes the answer to q. When template is set it names every
// series (the API answered for that template, whatever the item says: the
// documentation masks it as "1100***"). q's window tells a bucket that it cut
// short (the first or last) from one of another granularity; the number of
// buckets is capped from it too (no window: DefaultMaxBuckets).
func newMetricSink(g metrics.Granularity, template string, q Query, scrub func(string) string) *metricSink {
	if !g.Valid() {
		g = metrics.Daily
	}
	if scrub == nil {
		scrub = func(s string) string { return s }
	}
	return &metricSink{g: g, template: template, from: q.Start, to: q.End, max: MaxBuckets(q.withGranularity(g)),
		scrub: scrub, bySeries: map[metrics.Key]*metrics.Series{}}
}

// DefaultMaxBuckets caps the buckets of an answer whose window is unknown.
const DefaultMaxBuckets = 50000

// maxLanguages is how many languages of one template the bucket cap allows
// for: a template has a handful.
const maxLanguages = 32

// MaxBuckets is the most buckets an answer to q may hold: every period of the
// window (and two more at its edges) in 32 languages, at least 1,000, at
// most DefaultMaxBuckets.
func MaxBuckets(q Query) int {
	if q.Start.IsZero() || !q.End.After(q.Start) {
		return DefaultMaxBuckets
	}
	g := q.Granularity
	if !g.Valid() {
		g = metrics.Daily
	}
	periods := int64(q.End.Sub(q.Start)/g.Step()) + 3
	return int(min(max(periods*maxLanguages, 1000), DefaultMaxBuckets))
}

func (q Query) withGranularity(g metrics.Granularity) Query { q.Granularity = g; return q }

func (m *metricSink) item(field string, raw json.RawMessage) error {
	if field != "Data" {
		return nil
	}
	i := m.n
	m.n++
	if m.n > m.max {
		return &APIError{Code: CodeTooManyBuckets, Message: fmt.Sprintf("more than %d buckets in one answer", m.max)}
	}
	p, key, spanKnown, err := decodeBucket(raw, m.g, m.template, i, m.scrub)
	if err != nil {
		m.rejected++
		if len(m.errs) < maxKeptErrors {
			m.errs = append(m.errs, err)
		}
		return nil
	}
	if spanKnown && !m.spanFits(p) {
		if m.dropped++; m.span == 0 {
			m.span = p.End.Sub(p.Start)
		}
		return nil
	}
	if p.End.Sub(p.Start) > m.g.Step() {
		p.End = p.Start.Add(m.g.Step()) // a long DAILY bucket (a 25-hour day)
	}
	s := m.bySeries[key]
	if s == nil {
		s = &metrics.Series{Key: key, Granularity: m.g}
		m.bySeries[key] = s
	}
	if m.buttons += len(p.Buttons); m.buttons > maxButtonsPerBucket*m.max {
		return &APIError{Code: CodeTooManyBuckets, Message: fmt.Sprintf("more than %d button counts in one answer",
			maxButtonsPerBucket*m.max)}
	}
	s.Periods = append(s.Periods, p)
	return nil
}

// maxButtonsPerBucket is the button counts an answer may hold per bucket it
// may hold, on average: a template has at most 10 buttons, and most
// buckets have clicks on a few.
const maxButtonsPerBucket = 2

// spanFits reports whether a bucket spans one period of the granularity,
// give or take a 24th of it (an End one millisecond short, a day of a
// daylight-saving change). A shorter bucket fits only where the query's
// window explains it: cut by the window's start, or starting within the
// window's last period (the period still in progress, which no rule judges:
// the evaluated period ends a period before the window does at the latest).
func (m *metricSink) spanFits(p metrics.Period) bool {
	step, span := m.g.Step(), p.End.Sub(p.Start)
	tol := step / 24
	switch {
	case span > step+tol:
		return false
	case span >= step-tol:
		return true
	}
	return (!m.from.IsZero() && !p.Start.After(m.from)) || (!m.to.IsZero() && p.Start.After(m.to.Add(-step)))
}

// result returns the series, sorted, and the rejected buckets' errors.
func (m *metricSink) result(env *envelope) ([]*metrics.Series, error) {
	if env.dataNotArray {
		return nil, &BucketError{Template: m.template, Index: -1, Reason: "Data is not an array"}
	}
	out := make([]*metrics.Series, 0, len(m.bySeries))
	for _, s := range m.bySeries {
		s.Normalize()
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Template != out[j].Template {
			return out[i].Template < out[j].Template
		}
		return out[i].Language < out[j].Language
	})
	errs := m.errs
	if more := m.rejected - len(m.errs); more > 0 {
		errs = append(errs, fmt.Errorf("and %d more buckets rejected", more))
	}
	return out, errors.Join(errs...)
}

// warning reports the buckets dropped for their span, nil when none.
func (m *metricSink) warning() *Warning {
	if m.dropped == 0 {
		return nil
	}
	return &Warning{API: APIMetric, Template: m.template, Code: CodeSpanMismatch, Count: m.dropped,
		Message: fmt.Sprintf("%d %s dropped: %s long, not %s buckets", m.dropped, plural(m.dropped, "bucket"),
			m.span, m.g)}
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// maxButtonText caps a button text kept from the API (WhatsApp's own limit
// is 25 characters); maxButtons the buttons of a bucket (WhatsApp allows 10):
// a bucket with more is garbage, and would cost memory.
const (
	maxButtonText = 200
	maxButtons    = 32
)

func decodeBucket(raw json.RawMessage, g metrics.Granularity, template string, i int,
	scrub func(string) string) (p metrics.Period, key metrics.Key, spanKnown bool, err error) {
	var b rawBucket
	fail := func(key metrics.Key, start time.Time, format string, args ...any) (metrics.Period, metrics.Key, bool, error) {
		return metrics.Period{}, key, false, &BucketError{Template: key.Template, Language: key.Language, Index: i,
			Start: start, Reason: fmt.Sprintf(format, args...)}
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fail(metrics.Key{Template: template}, time.Time{}, "not an object")
	}
	if err := json.Unmarshal(trimmed, &b); err != nil {
		return fail(metrics.Key{Template: template}, time.Time{}, "malformed: %s", truncate(err.Error(), 120))
	}
	key = metrics.Key{Template: template, Language: scrub(truncate(b.Language.orNone(), 64))}
	if key.Template == "" {
		key.Template = scrub(truncate(b.TemplateCode.orNone(), 128))
	}
	if key.Language == "" {
		key.Language = UnknownLanguage
	}
	switch {
	case b.Start.bad != "":
		return fail(key, time.Time{}, "Start %s", b.Start.bad)
	case !b.Start.set:
		return fail(key, time.Time{}, "no Start")
	case b.Start.v < minStartMs || b.Start.v >= maxStartMs:
		return fail(key, time.Time{}, "Start %d ms is not a plausible time", b.Start.v)
	}
	start := time.UnixMilli(b.Start.v).UTC()
	p = metrics.Period{Start: start, End: start.Add(g.Step())}
	if b.End.set && b.End.bad == "" && b.End.v > b.Start.v && b.End.v < maxStartMs {
		p.End, spanKnown = time.UnixMilli(b.End.v).UTC(), true
	} // else missing, or before Start (the documented example): one bucket
	for _, c := range []struct {
		name string
		f    flexInt
		dst  *int64
	}{{"SentCount", b.SentCount, &p.Sent}, {"DeliveredCount", b.DeliveredCount, &p.Delivered}, {"ReadCount", b.ReadCount, &p.Read}} {
		if c.f.bad != "" {
			return fail(key, start, "%s %s", c.name, c.f.bad)
		}
		if c.f.v < 0 {
			return fail(key, start, "%s is negative (%d)", c.name, c.f.v)
		}
		*c.dst = c.f.v
	}
	if msg := decodeButtons(&p, b.Cliented, scrub); msg != "" {
		return fail(key, start, "%s", msg)
	}
	return p, key, spanKnown, nil
}

// decodeButtons adds a bucket's Cliented to p; it returns why the bucket is
// rejected, or "".
func decodeButtons(p *metrics.Period, cliented json.RawMessage, scrub func(string) string) string {
	cl := bytes.TrimSpace(cliented)
	if len(cl) == 0 || string(cl) == "null" {
		return ""
	}
	var buttons []json.RawMessage
	if err := json.Unmarshal(cl, &buttons); err != nil {
		// A lone object instead of an array.
		if cl[0] == '{' {
			buttons = []json.RawMessage{cl}
		} else if s := strings.Trim(string(cl), `"`); strings.EqualFold(s, "none") || s == "" {
			return ""
		} else {
			return "Cliented is not a list"
		}
	}
	if len(buttons) > maxButtons {
		return fmt.Sprintf("Cliented has %d buttons (a template has at most 10)", len(buttons))
	}
	p.Buttons = make([]metrics.Button, 0, len(buttons))
	for j, rb := range buttons {
		if t := bytes.TrimSpace(rb); string(t) == "null" {
			continue
		}
		var btn rawButton
		if err := json.Unmarshal(rb, &btn); err != nil {
			return fmt.Sprintf("Cliented[%d] is malformed", j)
		}
		if btn.Count.bad != "" {
			return fmt.Sprintf("Cliented[%d].Count %s", j, btn.Count.bad)
		}
		if btn.Count.v < 0 {
			return fmt.Sprintf("Cliented[%d].Count is negative (%d)", j, btn.Count.v)
		}
		if p.Clicks > math.MaxInt64-btn.Count.v {
			return "clicks overflow"
		}
		p.Clicks += btn.Count.v
		p.Buttons = append(p.Buttons, metrics.Button{Type: scrub(truncate(btn.Type.orNone(), 64)),
			Text: scrub(truncate(string(btn.ButtonContent), maxButtonText)), Count: btn.Count.v})
	}
	return ""
}

// templateSink collects a ListChatappTemplate page: its templates (all of
// them, unfiltered).
type templateSink struct {
	max   int
	scrub func(string) string
	out   []Template
}

// maxPageItems caps the templates of one page (50 are asked for).
const maxPageItems = 1000

func (t *templateSink) item(field string, raw json.RawMessage) error {
	if field != "ListTemplate" {
		return nil
	}
	if len(t.out) >= t.max {
		return &APIError{Code: CodeTooLarge, Message: fmt.Sprintf("more than %d templates in one page", t.max)}
	}
	var it struct {
		TemplateCode flexString `json:"TemplateCode"`
		TemplateName flexString `json:"TemplateName"`
		Language     flexString `json:"Language"`
		Category     flexString `json:"Category"`
		AuditStatus  flexString `json:"AuditStatus"`
		TemplateType flexString `json:"TemplateType"`
	}
	if err := json.Unmarshal(raw, &it); err != nil {
		return nil
	}
	sc := func(f flexString, n int) string { return t.scrub(truncate(string(f), n)) }
	t.out = append(t.out, Template{Code: sc(it.TemplateCode, 128), Name: sc(it.TemplateName, 512),
		Language: t.scrub(truncate(it.Language.orNone(), 64)), Category: sc(it.Category, 64),
		AuditStatus: sc(it.AuditStatus, 64), Type: sc(it.TemplateType, 64)})
	return nil
}

func newTemplateSink(scrub func(string) string) *templateSink {
	if scrub == nil {
		scrub = func(s string) string { return s }
	}
	return &templateSink{max: maxPageItems, scrub: scrub}
}

// page returns the templates read and the Total the API reports (-1: none).
func (t *templateSink) page(env *envelope) ([]Template, int64, error) {
	if env.listNotArray {
		return nil, 0, &APIError{Code: CodeInvalidResponse, Message: "ListTemplate is not an array"}
	}
	total := int64(-1)
	if env.Total.set && env.Total.bad == "" {
		total = env.Total.v
	}
	return t.out, total, nil
}

// Monitored reports whether a template is one cams-alert watches: approved
// ("pass" or "approved", any case), MARKETING, WhatsApp (an empty type counts
// as WhatsApp, the API's default).
func (t Template) Monitored() bool {
	st := strings.ToLower(strings.TrimSpace(t.AuditStatus))
	typ := strings.TrimSpace(t.Type)
	return t.Code != "" && (st == "pass" || st == "approved") &&
		strings.EqualFold(strings.TrimSpace(t.Category), "MARKETING") &&
		(typ == "" || strings.EqualFold(typ, "WHATSAPP"))
}
