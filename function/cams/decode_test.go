package cams

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

const fixtures = "../../testdata/cams"

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeAPIExample(t *testing.T) {
	body := mustRead(t, filepath.Join(fixtures, "api-example", "GetChatappTemplateMetric.json"))
	got, err := Decode(body, metrics.Daily)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Periods) != 1 {
		t.Fatalf("got %d series", len(got))
	}
	s := got[0]
	if s.Template != "1100***************" || s.Language != "en" || s.Granularity != metrics.Daily {
		t.Fatalf("key %+v %s", s.Key, s.Granularity)
	}
	p := s.Periods[0]
	start := time.UnixMilli(1673919240001).UTC()
	want := metrics.Period{Start: start, End: start.Add(24 * time.Hour), Sent: 10, Delivered: 6, Read: 3, Clicks: 20,
		Buttons: []metrics.Button{{Type: metrics.QuickReply, Text: "reply", Count: 20}}}
	if !p.Start.Equal(want.Start) || !p.End.Equal(want.End) || p.Sent != 10 || p.Delivered != 6 || p.Read != 3 ||
		p.Clicks != 20 || len(p.Buttons) != 1 || p.Buttons[0] != want.Buttons[0] {
		t.Fatalf("period %+v, want %+v", p, want)
	}
}

func TestDecode(t *testing.T) {
	const t0 = 1790784000000 // 2026-10-01T00:00:00+08:00
	day := int64(86400000)
	wrap := func(data string) string {
		return `{"RequestId":"R1\n","Code":"OK","Message":"None","AccessDeniedDetail":"None","Data":` + data + `}`
	}
	type want struct {
		series  int
		periods []int // per series
		sent    []int64
		clicks  []int64
		lang    string
		end     time.Duration // End - Start of the first period
		errHas  []string      // substrings of the error; none = no error
		apiCode string        // the error is an *APIError with this Code
		dropped int           // buckets dropped for their span, in a *Warning
	}
	tests := []struct {
		name string
		body string
		g    metrics.Granularity
		want want
	}{
		{name: "numbers as strings, null and None",
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":"` + itoa(t0) + `","End":null,"SentCount":"12","DeliveredCount":" 10 ","ReadCount":"None","Cliented":null}]`),
			want: want{series: 1, periods: []int{1}, sent: []int64{12}, clicks: []int64{0}, lang: "en", end: 24 * time.Hour}},
		{name: "missing counts are zero, missing language is unknown",
			body: wrap(`[{"TemplateCode":"T1","Start":` + itoa(t0) + `}]`),
			want: want{series: 1, periods: []int{1}, sent: []int64{0}, clicks: []int64{0}, lang: UnknownLanguage, end: 24 * time.Hour}},
		{name: "half hour End fallback",
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"End":` + itoa(t0) + `,"SentCount":5}]`),
			g:    metrics.HalfHour,
			want: want{series: 1, periods: []int{1}, sent: []int64{5}, clicks: []int64{0}, lang: "en", end: 30 * time.Minute}},
		{name: "a 40-day bucket in a DAILY answer is dropped",
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"End":` + itoa(t0+40*day) + `}]`),
			want: want{series: 0, dropped: 1, errHas: []string{"Response.SpanMismatch", "960h0m0s"}}},
		{name: "half-hour buckets in a DAILY answer are dropped, daily ones kept",
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"End":` + itoa(t0+day) + `,"SentCount":900},
				{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0+day) + `,"End":` + itoa(t0+day+1800000) + `,"SentCount":3},
				{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0+day+1800000) + `,"End":` + itoa(t0+day+3600000) + `,"SentCount":4}]`),
			want: want{series: 1, periods: []int{1}, sent: []int64{900}, clicks: []int64{0}, lang: "en", end: 24 * time.Hour,
				dropped: 2, errHas: []string{"2 buckets dropped", "30m0s long, not DAILY"}}},
		{name: "a DAILY bucket in a HALF_HOUR answer is dropped",
			g: metrics.HalfHour,
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"End":` + itoa(t0+day) + `},
				{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"End":` + itoa(t0+1800000) + `,"SentCount":2}]`),
			want: want{series: 1, periods: []int{1}, sent: []int64{2}, clicks: []int64{0}, lang: "en", end: 30 * time.Minute, dropped: 1}},
		{name: "a day of 23 or 25 hours, or an End a millisecond short, is a DAILY bucket",
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"End":` + itoa(t0+day+3600000) + `,"SentCount":1},
				{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0+day) + `,"End":` + itoa(t0+2*day-3600000) + `},
				{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0+2*day) + `,"End":` + itoa(t0+3*day-1) + `}]`),
			want: want{series: 1, periods: []int{3}, sent: []int64{1}, clicks: []int64{0}, lang: "en", end: 24 * time.Hour}},
		{name: "integral floats accepted",
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `.0,"SentCount":1.2e3,"DeliveredCount":"900.0"}]`),
			want: want{series: 1, periods: []int{1}, sent: []int64{1200}, clicks: []int64{0}, lang: "en", end: 24 * time.Hour}},
		{name: "duplicate buckets merged, larger sent wins",
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"SentCount":100},
				{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0+day) + `,"SentCount":7},
				{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"SentCount":150}]`),
			want: want{series: 1, periods: []int{2}, sent: []int64{150}, clicks: []int64{0}, lang: "en", end: 24 * time.Hour}},
		{name: "clicks are the sum of Cliented, one button per entry",
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"SentCount":10,"Cliented":[
				{"Type":"quick_reply_button","ButtonContent":"Yes","Count":3},{"Type":"url_button","ButtonContent":"Go","Count":"4"},null,
				{"Type":"quick_reply_button","ButtonContent":"Yes","Count":1}]}]`),
			want: want{series: 1, periods: []int{1}, sent: []int64{10}, clicks: []int64{8}, lang: "en", end: 24 * time.Hour}},
		{name: "Cliented as a lone object",
			body: wrap(`[{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"Cliented":{"Type":"url_button","ButtonContent":"Go","Count":2}}]`),
			want: want{series: 1, periods: []int{1}, sent: []int64{0}, clicks: []int64{2}, lang: "en", end: 24 * time.Hour}},
		{name: "two languages, sorted",
			body: wrap(`[{"TemplateCode":"T1","Language":"id","Start":` + itoa(t0) + `,"SentCount":1},{"TemplateCode":"T1","Language":"en","Start":` + itoa(t0) + `,"SentCount":2}]`),
			want: want{series: 2, periods: []int{1, 1}, sent: []int64{2, 1}, clicks: []int64{0, 0}, lang: "en", end: 24 * time.Hour}},
		{name: "negative count rejects the bucket, keeps the rest",
			body: wrap(`[{"TemplateCode":"T9","Language":"en","Start":` + itoa(t0) + `,"SentCount":-5},{"TemplateCode":"T9","Language":"en","Start":` + itoa(t0+day) + `,"SentCount":5}]`),
			want: want{series: 1, periods: []int{1}, sent: []int64{5}, clicks: []int64{0}, lang: "en", end: 24 * time.Hour,
				errHas: []string{"template T9/en", "SentCount is negative (-5)", "2026-09-30T16:00:00Z"}}},
		{name: "negative click count rejects the bucket",
			body: wrap(`[{"TemplateCode":"T9","Language":"en","Start":` + itoa(t0) + `,"Cliented":[{"Count":-1}]}]`),
			want: want{series: 0, errHas: []string{"T9", "Cliented[0].Count is negative"}}},
		{name: "non-integer count rejected",
			body: wrap(`[{"TemplateCode":"T9","Start":` + itoa(t0) + `,"ReadCount":"12.5"}]`),
			want: want{series: 0, errHas: []string{"T9", "ReadCount", "not an integer"}}},
		{name: "garbage count rejected",
			body: wrap(`[{"TemplateCode":"T9","Start":` + itoa(t0) + `,"ReadCount":"lots"}]`),
			want: want{series: 0, errHas: []string{"not a number"}}},
		{name: "missing Start rejected",
			body: wrap(`[{"TemplateCode":"T9","Language":"en","SentCount":1}]`),
			want: want{series: 0, errHas: []string{"T9", "no Start"}}},
		{name: "Start in seconds rejected as implausible",
			body: wrap(`[{"TemplateCode":"T9","Start":1790784000}]`),
			want: want{series: 0, errHas: []string{"not a plausible time"}}},
		{name: "more than 32 buttons rejects the bucket",
			body: wrap(`[{"TemplateCode":"T9","Start":` + itoa(t0) + `,"Cliented":[` + strings.Repeat(`{"Count":1},`, 32) + `{"Count":1}]}]`),
			want: want{series: 0, errHas: []string{"Cliented has 33 buttons"}}},
		{name: "clicks overflow rejected",
			body: wrap(`[{"TemplateCode":"T9","Start":` + itoa(t0) + `,"Cliented":[{"Count":9223372036854775807},{"Count":1}]}]`),
			want: want{series: 0, errHas: []string{"overflow"}}},
		{name: "Data item not an object",
			body: wrap(`[42, "x", null]`),
			want: want{series: 0, errHas: []string{"not an object"}}},
		{name: "Data null", body: wrap(`null`), want: want{series: 0}},
		{name: "Data missing", body: `{"Code":"OK","RequestId":"x"}`, want: want{series: 0}},
		{name: "Data not an array", body: wrap(`{"a":1}`), want: want{series: 0, errHas: []string{"Data is not an array"}}},
		{name: "error Code on a 200", body: `{"RequestId":"x","Code":"Product.Unsubscript","Message":"You have not subscribed"}`,
			want: want{apiCode: "Product.Unsubscript", errHas: []string{"Product.Unsubscript", "You have not subscribed"}}},
		{name: "no Code at all", body: `{"Data":[]}`, want: want{apiCode: CodeInvalidResponse}},
		{name: "not JSON", body: `<html>502 Bad Gateway</html>`, want: want{apiCode: CodeInvalidResponse}},
		{name: "empty", body: ``, want: want{apiCode: CodeInvalidResponse}},
		{name: "truncated JSON", body: `{"Code":"OK","Data":[{"Start":`, want: want{apiCode: CodeInvalidResponse}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := tc.g
			if g == "" {
				g = metrics.Daily
			}
			got, err := Decode([]byte(tc.body), g)
			w := tc.want
			if w.apiCode != "" {
				var ae *APIError
				if !errors.As(err, &ae) || ae.Code != w.apiCode {
					t.Fatalf("err = %v, want APIError %s", err, w.apiCode)
				}
			} else if len(w.errHas) == 0 && w.dropped == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var warn *Warning
			if errors.As(err, &warn) != (w.dropped > 0) || (warn != nil && (warn.Count != w.dropped || warn.Code != CodeSpanMismatch)) {
				t.Fatalf("warning %+v, want %d dropped", warn, w.dropped)
			}
			if w.dropped > 0 && !IsWarning(err) {
				t.Fatalf("IsWarning(%v) = false: only buckets were dropped", err)
			}
			for _, sub := range w.errHas {
				if err == nil || !strings.Contains(err.Error(), sub) {
					t.Errorf("error %v does not contain %q", err, sub)
				}
			}
			if len(got) != w.series {
				t.Fatalf("%d series, want %d", len(got), w.series)
			}
			for i, s := range got {
				if len(s.Periods) != w.periods[i] {
					t.Errorf("series %d: %d periods, want %d", i, len(s.Periods), w.periods[i])
				}
				if s.Periods[0].Sent != w.sent[i] || s.Periods[0].Clicks != w.clicks[i] {
					t.Errorf("series %d: first period %+v, want sent %d clicks %d", i, s.Periods[0], w.sent[i], w.clicks[i])
				}
			}
			if w.series > 0 {
				if got[0].Language != w.lang {
					t.Errorf("language %q, want %q", got[0].Language, w.lang)
				}
				if d := got[0].Periods[0].End.Sub(got[0].Periods[0].Start); d != w.end {
					t.Errorf("End - Start = %v, want %v", d, w.end)
				}
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestBucketErrorsAreJoined(t *testing.T) {
	body := `{"Code":"OK","Data":[{"TemplateCode":"A","Start":1},{"TemplateCode":"B","Start":2}]}`
	_, err := Decode([]byte(body), metrics.Daily)
	var be *BucketError
	if !errors.As(err, &be) {
		t.Fatalf("err %v is not a *BucketError", err)
	}
	if !strings.Contains(err.Error(), "template A") || !strings.Contains(err.Error(), "template B") {
		t.Fatalf("error does not name both templates: %v", err)
	}
}

// FuzzDecode: no input panics Decode, and whatever it returns is sane.
func FuzzDecode(f *testing.F) {
	// Small seeds only: the fuzzer minimizes every new input, which is slow
	// on the 20 KB recordings (Decode itself is checked on them elsewhere).
	for _, p := range []string{"api-example/GetChatappTemplateMetric.json", "1100AB0003.json"} {
		if b, err := os.ReadFile(filepath.Join(fixtures, p)); err == nil {
			f.Add(b, false)
		}
	}
	f.Add([]byte(`{"Code":"OK","Data":[{"Start":"1790784000000","SentCount":"-1","Cliented":[{"Count":"None"}]}]}`), true)
	f.Add([]byte(`{"Code":"OK","Data":[{"Start":1790784000000,"End":1,"Cliented":{"Count":1e400}}]}`), false)
	f.Add([]byte(`{"Code":"OK","Data":[null,{},[],{"Start":null}]}`), true)
	f.Add([]byte(`{"Code":7,"RequestId":{"a":1},"Message":[1]}`), false)
	f.Fuzz(func(t *testing.T, body []byte, half bool) {
		g := metrics.Daily
		if half {
			g = metrics.HalfHour
		}
		var series []*metrics.Series
		bounded(t, len(body), func() { series, _ = Decode(body, g) })
		for _, s := range series {
			if s == nil {
				t.Fatal("nil series")
			}
			for i, p := range s.Periods {
				if !p.End.After(p.Start) {
					t.Fatalf("period %d: End %v not after Start %v", i, p.End, p.Start)
				}
				if i > 0 && !p.Start.After(s.Periods[i-1].Start) {
					t.Fatalf("periods not strictly increasing at %d", i)
				}
				if p.Sent < 0 || p.Delivered < 0 || p.Read < 0 || p.Clicks < 0 {
					t.Fatalf("negative count in %+v", p)
				}
				var sum int64
				for _, b := range p.Buttons {
					if b.Count < 0 {
						t.Fatalf("negative button %+v", b)
					}
					sum += b.Count
				}
				if sum != p.Clicks {
					t.Fatalf("clicks %d != sum of buttons %d", p.Clicks, sum)
				}
			}
		}
	})
}

func TestMaxBuckets(t *testing.T) {
	for _, tc := range []struct {
		name string
		q    Query
		want int
	}{
		{"no window", Query{}, DefaultMaxBuckets},
		{"10 days: the floor", Query{Start: day0, End: day0.AddDate(0, 0, 10)}, 1000},
		{"60 days", Query{Start: day0, End: day0.AddDate(0, 0, 60)}, 63 * 32},
		{"half hours over 7 days", Query{Granularity: metrics.HalfHour, Start: day0, End: day0.AddDate(0, 0, 7)}, (7*48 + 3) * 32},
		{"half hours over 60 days: the ceiling", Query{Granularity: metrics.HalfHour, Start: day0, End: day0.AddDate(0, 0, 60)}, DefaultMaxBuckets},
	} {
		if got := MaxBuckets(tc.q); got != tc.want {
			t.Errorf("%s: MaxBuckets = %d, want %d", tc.name, got, tc.want)
		}
	}
}
