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

// envelope is the part every CAMS response shares.
type envelope struct {
	Code      flexString `json:"Code"`
	Message   flexString `json:"Message"`
	RequestID flexString `json:"RequestId"`

	Data json.RawMessage `json:"Data"`

	ListTemplate json.RawMessage `json:"ListTemplate"`
	Total        flexInt         `json:"Total"`
}

// parseEnvelope reads a response body. A body that is not a JSON object is a
// CodeInvalidResponse error; a Code other than "OK" is that code's error.
func parseEnvelope(body []byte, status int) (*envelope, *APIError) {
	var env envelope
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, &APIError{Code: CodeInvalidResponse, HTTPStatus: status,
			Message: fmt.Sprintf("response is not a JSON object (%d bytes)", len(body))}
	}
	if err := json.Unmarshal(trimmed, &env); err != nil {
		return nil, &APIError{Code: CodeInvalidResponse, HTTPStatus: status,
			Message: "response is not valid JSON: " + truncate(err.Error(), 200)}
	}
	if code := string(env.Code); code != "OK" {
		if code == "" {
			code = CodeInvalidResponse
			env.Message = "response has no Code"
		}
		if status == 0 {
			status = statusForCode(code)
		}
		return nil, &APIError{Code: code, Message: truncate(env.Message.orNone(), 500),
			RequestID: string(env.RequestID), HTTPStatus: status}
	}
	return &env, nil
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
// null, "None" and missing counts (read as 0), an End that is missing, at or
// before Start (the documentation's own example) or more than one bucket
// after Start (End becomes Start + g.Step()), a null
// Cliented, duplicate buckets (merged by metrics.Series.Normalize), and a
// RequestId with a trailing newline. A bucket it cannot trust, one with a
// missing or implausible Start, a negative or non-integer count, or clicks
// that overflow, is rejected rather than clamped: Decode then returns the
// series of the remaining buckets together with an error (errors.Join of
// *BucketError values) naming each rejected bucket's template. A body whose
// Code is not "OK" returns an *APIError and no series. Decode never panics.
func Decode(body []byte, g metrics.Granularity) ([]*metrics.Series, error) {
	env, ae := parseEnvelope(body, 0)
	if ae != nil {
		ae.API = APIMetric
		return nil, ae
	}
	return decodeData(env.Data, g, "")
}

// decodeData decodes the Data array. When template is set it names every
// series (the API answered for that template, whatever the item says: the
// documentation masks it as "1100***").
func decodeData(data json.RawMessage, g metrics.Granularity, template string) ([]*metrics.Series, error) {
	if !g.Valid() {
		g = metrics.Daily
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || string(data) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(data, &items); err != nil {
		return nil, &BucketError{Template: template, Index: -1, Reason: "Data is not an array"}
	}
	bySeries := map[metrics.Key]*metrics.Series{}
	var errs []error
	for i, raw := range items {
		p, key, err := decodeBucket(raw, g, template, i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s := bySeries[key]
		if s == nil {
			s = &metrics.Series{Key: key, Granularity: g}
			bySeries[key] = s
		}
		s.Periods = append(s.Periods, p)
	}
	out := make([]*metrics.Series, 0, len(bySeries))
	for _, s := range bySeries {
		s.Normalize()
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Template != out[j].Template {
			return out[i].Template < out[j].Template
		}
		return out[i].Language < out[j].Language
	})
	return out, errors.Join(errs...)
}

func decodeBucket(raw json.RawMessage, g metrics.Granularity, template string, i int) (metrics.Period, metrics.Key, error) {
	var b rawBucket
	fail := func(key metrics.Key, start time.Time, format string, args ...any) (metrics.Period, metrics.Key, error) {
		return metrics.Period{}, key, &BucketError{Template: key.Template, Language: key.Language, Index: i,
			Start: start, Reason: fmt.Sprintf(format, args...)}
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fail(metrics.Key{Template: template}, time.Time{}, "not an object")
	}
	if err := json.Unmarshal(trimmed, &b); err != nil {
		return fail(metrics.Key{Template: template}, time.Time{}, "malformed: %s", truncate(err.Error(), 120))
	}
	key := metrics.Key{Template: template, Language: b.Language.orNone()}
	if key.Template == "" {
		key.Template = b.TemplateCode.orNone()
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
	p := metrics.Period{Start: start}
	if b.End.set && b.End.bad == "" && b.End.v > b.Start.v && b.End.v-b.Start.v <= g.Step().Milliseconds() {
		p.End = time.UnixMilli(b.End.v).UTC()
	} else { // missing, before Start (the documented example) or longer than a bucket
		p.End = start.Add(g.Step())
	}
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
	cl := bytes.TrimSpace(b.Cliented)
	if len(cl) == 0 || string(cl) == "null" {
		return p, key, nil
	}
	var buttons []json.RawMessage
	if err := json.Unmarshal(cl, &buttons); err != nil {
		// A lone object instead of an array.
		if len(cl) > 0 && cl[0] == '{' {
			buttons = []json.RawMessage{cl}
		} else if s := strings.Trim(string(cl), `"`); strings.EqualFold(s, "none") || s == "" {
			return p, key, nil
		} else {
			return fail(key, start, "Cliented is not a list")
		}
	}
	for j, rb := range buttons {
		if t := bytes.TrimSpace(rb); string(t) == "null" {
			continue
		}
		var btn rawButton
		if err := json.Unmarshal(rb, &btn); err != nil {
			return fail(key, start, "Cliented[%d] is malformed", j)
		}
		if btn.Count.bad != "" {
			return fail(key, start, "Cliented[%d].Count %s", j, btn.Count.bad)
		}
		if btn.Count.v < 0 {
			return fail(key, start, "Cliented[%d].Count is negative (%d)", j, btn.Count.v)
		}
		if p.Clicks > math.MaxInt64-btn.Count.v {
			return fail(key, start, "clicks overflow")
		}
		p.Clicks += btn.Count.v
		p.Buttons = append(p.Buttons, metrics.Button{Type: btn.Type.orNone(), Text: string(btn.ButtonContent), Count: btn.Count.v})
	}
	return p, key, nil
}

// decodeTemplates reads a ListChatappTemplate page: its templates (all of
// them, unfiltered) and the Total the API reports.
func decodeTemplates(env *envelope) ([]Template, int64, error) {
	var items []json.RawMessage
	lt := bytes.TrimSpace(env.ListTemplate)
	if len(lt) > 0 && string(lt) != "null" {
		if err := json.Unmarshal(lt, &items); err != nil {
			return nil, 0, &APIError{Code: CodeInvalidResponse, Message: "ListTemplate is not an array"}
		}
	}
	out := make([]Template, 0, len(items))
	for _, raw := range items {
		var it struct {
			TemplateCode flexString `json:"TemplateCode"`
			TemplateName flexString `json:"TemplateName"`
			Language     flexString `json:"Language"`
			Category     flexString `json:"Category"`
			AuditStatus  flexString `json:"AuditStatus"`
			TemplateType flexString `json:"TemplateType"`
		}
		if err := json.Unmarshal(raw, &it); err != nil {
			continue
		}
		out = append(out, Template{Code: string(it.TemplateCode), Name: string(it.TemplateName),
			Language: it.Language.orNone(), Category: string(it.Category), AuditStatus: string(it.AuditStatus),
			Type: string(it.TemplateType)})
	}
	total := int64(-1)
	if env.Total.set && env.Total.bad == "" {
		total = env.Total.v
	}
	return out, total, nil
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
