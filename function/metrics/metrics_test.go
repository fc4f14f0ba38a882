package metrics

import (
	"math"
	"testing"
	"time"
)

func TestGranularity(t *testing.T) {
	for _, c := range []struct {
		g     Granularity
		step  time.Duration
		valid bool
	}{
		{Daily, 24 * time.Hour, true},
		{HalfHour, 30 * time.Minute, true},
		{"HOURLY", 24 * time.Hour, false},
		{"daily", 24 * time.Hour, false},
	} {
		if c.g.Step() != c.step || c.g.Valid() != c.valid {
			t.Errorf("%q: step %s valid %v, want %s %v", c.g, c.g.Step(), c.g.Valid(), c.step, c.valid)
		}
	}
}

func TestMetricNames(t *testing.T) {
	for _, c := range []struct {
		name        string
		known, rate bool
	}{
		{Sent, true, false}, {Delivered, true, false}, {Read, true, false}, {Clicks, true, false},
		{DeliveryRate, true, true}, {ReadRate, true, true}, {ClickRate, true, true},
		{"open_rate", false, false}, {"", false, false},
	} {
		if Known(c.name) != c.known || IsRate(c.name) != c.rate {
			t.Errorf("%q: known %v rate %v, want %v %v", c.name, Known(c.name), IsRate(c.name), c.known, c.rate)
		}
	}
}

func TestButtonType(t *testing.T) {
	for _, c := range []struct {
		sel, typ string
		ok       bool
	}{
		{"type:url_button", URLButton, true},
		{"type:", "", false},
		{"Shop now", "", false},
		{"types:url_button", "", false},
	} {
		if typ, ok := ButtonType(c.sel); typ != c.typ || ok != c.ok {
			t.Errorf("ButtonType(%q) = %q, %v; want %q, %v", c.sel, typ, ok, c.typ, c.ok)
		}
	}
}

// TestValue: counts are always defined; a rate needs its denominator; a
// button missing from a period that delivered was not clicked, but is
// undefined when nothing was delivered.
func TestValue(t *testing.T) {
	p := Period{Sent: 1000, Delivered: 800, Read: 400, Clicks: 50, Buttons: []Button{
		{Type: URLButton, Text: "Shop now", Count: 30},
		{Type: QuickReply, Text: "Stop", Count: 15},
		{Type: URLButton, Text: "Details", Count: 5},
	}}
	empty := Period{}
	sentOnly := Period{Sent: 10}
	cases := []struct {
		name   string
		p      Period
		metric string
		button string
		want   float64
		ok     bool
	}{
		{"sent", p, Sent, "", 1000, true},
		{"delivered", p, Delivered, "", 800, true},
		{"read", p, Read, "", 400, true},
		{"clicks", p, Clicks, "", 50, true},
		{"delivery rate", p, DeliveryRate, "", 0.8, true},
		{"read rate", p, ReadRate, "", 0.5, true},
		{"click rate", p, ClickRate, "", 50.0 / 800, true},
		{"one button's clicks", p, Clicks, "Shop now", 30, true},
		{"a button type sums its buttons", p, Clicks, "type:url_button", 35, true},
		{"one button's click rate", p, ClickRate, "Stop", 15.0 / 800, true},
		{"a missing button on a delivering period is 0", p, Clicks, "Buy", 0, true},
		{"a button only selects clicks", p, ReadRate, "Shop now", 0.5, true},
		{"rates of an empty period are undefined", empty, ReadRate, "", 0, false},
		{"delivery rate needs sent", empty, DeliveryRate, "", 0, false},
		{"counts of an empty period are 0", empty, Sent, "", 0, true},
		{"read rate with nothing delivered", sentOnly, ReadRate, "", 0, false},
		{"a missing button with nothing delivered", sentOnly, Clicks, "Buy", 0, false},
		{"an unknown metric", p, "open_rate", "", 0, false},
	}
	for _, c := range cases {
		got, ok := c.p.Value(c.metric, c.button)
		if ok != c.ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: Value(%q, %q) = %v, %v; want %v, %v", c.name, c.metric, c.button, got, ok, c.want, c.ok)
		}
	}
}

func TestDenominator(t *testing.T) {
	p := Period{Sent: 1000, Delivered: 800, Read: 400, Clicks: 50, Buttons: []Button{{Type: URLButton, Text: "Shop now", Count: 30}}}
	for _, c := range []struct {
		metric, button string
		num, den       int64
		ok             bool
	}{
		{DeliveryRate, "", 800, 1000, true},
		{ReadRate, "", 400, 800, true},
		{ClickRate, "", 50, 800, true},
		{ClickRate, "Shop now", 30, 800, true},
		{ClickRate, "Buy", 0, 800, true},
		{Clicks, "", 0, 0, false},
	} {
		num, den, ok := p.Denominator(c.metric, c.button)
		if num != c.num || den != c.den || ok != c.ok {
			t.Errorf("Denominator(%q, %q) = %d/%d %v; want %d/%d %v", c.metric, c.button, num, den, ok, c.num, c.den, c.ok)
		}
	}
	if _, _, ok := (&Period{}).Denominator(ReadRate, ""); ok {
		t.Error("read rate of an empty period has a denominator")
	}
}

// TestSeries: Normalize sorts and keeps the fuller copy of a repeated bucket;
// Index and Upto find periods by start and by end.
func TestSeries(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 16, 0, 0, 0, time.UTC) }
	per := func(d int, sent int64) Period { return Period{Start: day(d), End: day(d + 1), Sent: sent} }
	s := Series{Periods: []Period{per(3, 30), per(1, 10), per(2, 5), per(2, 20), per(2, 7)}}
	s.Normalize()
	want := []int64{10, 20, 30}
	if len(s.Periods) != len(want) {
		t.Fatalf("Normalize: %d periods, want %d", len(s.Periods), len(want))
	}
	for i, p := range s.Periods {
		if p.Sent != want[i] || !p.Start.Equal(day(i+1)) {
			t.Errorf("period %d: start %s sent %d, want %s %d", i, p.Start, p.Sent, day(i+1), want[i])
		}
	}
	for _, c := range []struct {
		start time.Time
		want  int
	}{{day(1), 0}, {day(3), 2}, {day(4), -1}, {day(2).Add(time.Hour), -1}} {
		if got := s.Index(c.start); got != c.want {
			t.Errorf("Index(%s) = %d, want %d", c.start, got, c.want)
		}
	}
	for _, c := range []struct {
		at   time.Time
		want int
	}{{day(1), 0}, {day(2).Add(-time.Millisecond), 0}, {day(2), 1}, {day(4), 3}, {day(9), 3}} {
		if got := s.Upto(c.at); got != c.want {
			t.Errorf("Upto(%s) = %d, want %d", c.at, got, c.want)
		}
	}
	if k := (Key{Template: "T1", Language: "en"}); k.String() != "T1/en" {
		t.Errorf("Key.String() = %q", k.String())
	}
}

func TestLabel(t *testing.T) {
	for _, tc := range []struct{ metric, want string }{
		{ReadRate, "read rate"}, {Sent, "sends"}, {Clicks, "clicks"}, {"expr", "expr"}, {"", ""},
	} {
		if got := Label(tc.metric); got != tc.want {
			t.Errorf("Label(%q) = %q, want %q", tc.metric, got, tc.want)
		}
	}
}
