// Package sim generates synthetic WhatsApp campaign traffic, deterministic
// from a seed: daily, weekday-only and burst senders, binomial counts, one to
// three buttons, and labelled incidents. It is a test tool (the bundled
// sample, `make quality`, benchmarks) and is not linked into dist/main.
package sim

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// Pattern is how a template is sent.
type Pattern string

const (
	Daily    Pattern = "daily"    // every day, quieter weekends
	Weekdays Pattern = "weekdays" // Monday to Friday only
	Burst    Pattern = "burst"    // campaign days, about one in three
)

// Incident kinds.
const (
	ReadCollapse     = "read-collapse"
	DeliveryCollapse = "delivery-collapse"
	ClickDeath       = "click-death"
	DeadURLButton    = "dead-url-button"
	SendsStopped     = "sends-stopped"
)

// ButtonSpec is one button and its clicks per read message.
type ButtonSpec struct {
	Type string
	Text string
	Rate float64
}

// Incident is a labelled fault starting on Day (index into the days). It
// lasts until the day before Until, or to the end of the data when Until is 0.
type Incident struct {
	Kind  string
	Day   int
	Until int
}

// Active reports whether the incident is in effect on day d.
func (in *Incident) Active(d int) bool {
	return in != nil && d >= in.Day && (in.Until == 0 || d < in.Until)
}

// Spec describes one template in one language.
type Spec struct {
	Code, Language string
	Pattern        Pattern
	Volume         int // messages sent on a sending day
	DeliveryRate   float64
	ReadRate       float64
	Buttons        []ButtonSpec
	Incident       *Incident
	// BurstDays are the sending days of a burst sender (indices).
	BurstDays map[int]bool
	// Drift is the day-to-day drift of the rates: each sending day draws
	// one factor exp(Drift·N(0,1)) for the delivery rate, one for the read
	// rate and one for the buttons' rates (0: none, constant rates).
	Drift float64
	// Real campaigns are overdispersed: each send reaches another audience
	// segment. ReadJitter and ClickJitter multiply the read probability and
	// the buttons' click probabilities by a factor drawn uniformly from
	// [1-j, 1+j] on each sending day (0.15: ±15%), on top of Drift.
	ReadJitter, ClickJitter float64
	// WeekendRead lowers the read probability on Saturdays and Sundays by
	// this fraction (0.15: read rates 15% lower at weekends).
	WeekendRead float64
}

// Dataset is a generated set of series, DAILY buckets.
type Dataset struct {
	Start  time.Time // start of the first bucket
	Days   int
	Specs  []*Spec
	Series []*metrics.Series
}

// Sends reports whether spec sends on day d (before any incident).
func (s *Spec) Sends(start time.Time, d int) bool {
	wd := start.AddDate(0, 0, d).Add(12 * time.Hour).Weekday()
	switch s.Pattern {
	case Weekdays:
		return wd != time.Saturday && wd != time.Sunday
	case Burst:
		return s.BurstDays[d]
	}
	return true
}

// Simulate draws one series for spec over days starting at start (a bucket
// boundary), with binomial counts.
func Simulate(r *rand.Rand, spec *Spec, start time.Time, days int) *metrics.Series {
	s := &metrics.Series{Key: metrics.Key{Template: spec.Code, Language: spec.Language}, Granularity: metrics.Daily}
	for d := range days {
		if !spec.Sends(start, d) {
			continue
		}
		inc := ""
		if spec.Incident.Active(d) {
			inc = spec.Incident.Kind
		}
		if inc == SendsStopped {
			continue
		}
		wd := start.AddDate(0, 0, d).Add(12 * time.Hour).Weekday()
		vol := float64(spec.Volume) * (0.85 + 0.3*r.Float64())
		if spec.Pattern == Daily && (wd == time.Saturday || wd == time.Sunday) {
			vol *= 0.6
		}
		sent := int64(math.Max(1, math.Round(vol)))
		dr, rr := spec.DeliveryRate, spec.ReadRate
		cf := 1.0
		if spec.Drift > 0 {
			dr = min(1, dr*math.Exp(spec.Drift*r.NormFloat64()))
			rr = min(1, rr*math.Exp(spec.Drift*r.NormFloat64()))
			cf = math.Exp(spec.Drift * r.NormFloat64())
		}
		rr, cf = spec.overdisperse(r, wd, rr, cf)
		switch inc {
		case DeliveryCollapse:
			dr *= 0.5
		case ReadCollapse:
			rr *= 0.4
		}
		delivered := Binomial(r, sent, dr)
		read := Binomial(r, delivered, rr)
		p := metrics.Period{Start: start.AddDate(0, 0, d), End: start.AddDate(0, 0, d+1),
			Sent: sent, Delivered: delivered, Read: read}
		for i, b := range spec.Buttons {
			rate := min(1, b.Rate*cf)
			if inc == ClickDeath || (inc == DeadURLButton && i == 0) {
				rate = 0
			}
			c := Binomial(r, read, rate)
			p.Buttons = append(p.Buttons, metrics.Button{Type: b.Type, Text: b.Text, Count: c})
			p.Clicks += c
		}
		s.Periods = append(s.Periods, p)
	}
	return s
}

// overdisperse applies the spec's day-to-day jitter and weekend effect to the
// read probability rr and the click factor cf. It draws nothing when the spec
// has none, so the binomial profile's data stays as it was.
func (s *Spec) overdisperse(r *rand.Rand, wd time.Weekday, rr, cf float64) (float64, float64) {
	if s.ReadJitter > 0 {
		rr *= 1 + s.ReadJitter*(2*r.Float64()-1)
	}
	if s.ClickJitter > 0 {
		cf *= 1 + s.ClickJitter*(2*r.Float64()-1)
	}
	if wd == time.Saturday || wd == time.Sunday {
		rr *= 1 - s.WeekendRead
	}
	return min(1, rr), cf
}

// Binomial draws from Binomial(n, p): exactly for small n, by the normal
// approximation above that (its error is far below the noise that matters).
func Binomial(r *rand.Rand, n int64, p float64) int64 {
	if n <= 0 || p <= 0 {
		return 0
	}
	if p >= 1 {
		return n
	}
	if n < 64 {
		var k int64
		for range n {
			if r.Float64() < p {
				k++
			}
		}
		return k
	}
	mean := float64(n) * p
	sd := math.Sqrt(mean * (1 - p))
	k := int64(math.Round(mean + sd*r.NormFloat64()))
	return max(0, min(n, k))
}

// Options shape a generated dataset.
type Options struct {
	Templates int
	Days      int
	Start     time.Time
	// IncidentShare is the fraction of templates given an incident in the
	// last few days.
	IncidentShare float64
	// IncidentWindow is how many of the last days an incident may start in
	// (0: the last 5 days).
	IncidentWindow int
	// IncidentMinDays and IncidentMaxDays bound how long an incident lasts,
	// drawn uniformly (0: it lasts to the end of the data).
	IncidentMinDays, IncidentMaxDays int
	// Drift, ReadJitter, ClickJitter and WeekendRead set every spec's
	// fields of the same name (see Spec).
	Drift, ReadJitter, ClickJitter, WeekendRead float64
}

var buttonTexts = []ButtonSpec{
	{Type: metrics.URLButton, Text: "Shop now"},
	{Type: metrics.QuickReply, Text: "Stop promotions"},
	{Type: metrics.PhoneButton, Text: "Call us"},
}

var kinds = []string{ReadCollapse, DeliveryCollapse, ClickDeath, DeadURLButton, SendsStopped}

// Generate draws a dataset deterministically from seed.
func Generate(seed uint64, o Options) *Dataset {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ds := &Dataset{Start: o.Start, Days: o.Days}
	langs := []string{"en", "es", "pt_BR", "id"}
	for i := range o.Templates {
		spec := &Spec{
			Code:         fmt.Sprintf("1100%08d", 1000+i),
			Language:     langs[r.IntN(len(langs))],
			Pattern:      []Pattern{Daily, Daily, Weekdays, Burst}[r.IntN(4)],
			Volume:       int(math.Round(math.Exp(math.Log(20) + r.Float64()*(math.Log(50000)-math.Log(20))))),
			DeliveryRate: 0.88 + 0.1*r.Float64(),
			ReadRate:     0.35 + 0.45*r.Float64(),
		}
		nb := 1 + r.IntN(3)
		base := math.Exp(math.Log(0.01) + r.Float64()*(math.Log(0.15)-math.Log(0.01)))
		for b := range nb {
			bs := buttonTexts[b]
			bs.Rate = base / float64(b+1)
			spec.Buttons = append(spec.Buttons, bs)
		}
		if spec.Pattern == Burst {
			spec.BurstDays = map[int]bool{}
			for d := 0; d < o.Days; d += 2 + r.IntN(3) {
				spec.BurstDays[d] = true
			}
		}
		spec.Drift, spec.ReadJitter, spec.ClickJitter, spec.WeekendRead = o.Drift, o.ReadJitter, o.ClickJitter, o.WeekendRead
		if r.Float64() < o.IncidentShare {
			win := 5
			if o.IncidentWindow > 0 {
				win = min(o.IncidentWindow, o.Days)
			}
			spec.Incident = &Incident{Kind: kinds[r.IntN(len(kinds))], Day: o.Days - 1 - r.IntN(win)}
			if o.IncidentMaxDays > 0 {
				lo := max(1, o.IncidentMinDays)
				spec.Incident.Until = spec.Incident.Day + lo + r.IntN(max(1, o.IncidentMaxDays-lo+1))
			}
		}
		ds.Specs = append(ds.Specs, spec)
		ds.Series = append(ds.Series, Simulate(r, spec, o.Start, o.Days))
	}
	return ds
}

// Response renders series as a GetChatappTemplateMetric response body, the
// exact JSON the API returns, for replay.
func Response(series ...*metrics.Series) ([]byte, error) {
	type cliented struct {
		Type          string `json:"Type"`
		ButtonContent string `json:"ButtonContent"`
		Count         int64  `json:"Count"`
	}
	type datum struct {
		TemplateCode   string     `json:"TemplateCode"`
		Language       string     `json:"Language"`
		Start          int64      `json:"Start"`
		End            int64      `json:"End"`
		SentCount      int64      `json:"SentCount"`
		DeliveredCount int64      `json:"DeliveredCount"`
		ReadCount      int64      `json:"ReadCount"`
		Cliented       []cliented `json:"Cliented"`
	}
	body := struct {
		RequestID string  `json:"RequestId"`
		Code      string  `json:"Code"`
		Message   string  `json:"Message"`
		Data      []datum `json:"Data"`
	}{RequestID: "00000000-0000-0000-0000-000000000000", Code: "OK", Message: "None", Data: []datum{}}
	for _, s := range series {
		for _, p := range s.Periods {
			d := datum{TemplateCode: s.Template, Language: s.Language, Start: p.Start.UnixMilli(), End: p.End.UnixMilli(),
				SentCount: p.Sent, DeliveredCount: p.Delivered, ReadCount: p.Read, Cliented: []cliented{}}
			for _, b := range p.Buttons {
				d.Cliented = append(d.Cliented, cliented{Type: b.Type, ButtonContent: b.Text, Count: b.Count})
			}
			body.Data = append(body.Data, d)
		}
	}
	return json.MarshalIndent(body, "", " ")
}
