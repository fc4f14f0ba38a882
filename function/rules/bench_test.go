package rules

import (
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

const benchRules = `rules:
  - {name: read-drop, metric: read_rate, condition: drop, by: 30%, baseline: 7d, min_delivered: 200}
  - {name: read-drop-sig, metric: read_rate, condition: drop, by: 20%, baseline: 7d, confidence: 0.99}
  - {name: click-rise, metric: click_rate, condition: rise, by: 0.05, baseline: 7d, baseline_stat: median}
  - {name: low-delivery, metric: delivery_rate, condition: below, threshold: 0.8, min_sent: 100}
  - {name: high-sent, metric: sent, condition: above, threshold: 50000, for: 2}
  - {name: zero-clicks, metric: clicks, condition: zero, min_delivered: 100, min_expected: 10}
  - {name: zero-shop, metric: clicks, condition: zero, button: "Shop now"}
  - {name: stopped, condition: absent}
  - {name: custom, expr: "clicks == 0 && delivered >= 100"}
  - {name: en-only, metric: read_rate, condition: below, threshold: 0.1, match: {languages: [en]}}
`

// benchSeries builds n series of 30 daily periods: daily senders, weekday
// senders and burst senders, some with a collapse on the last day.
func benchSeries(n int) []*metrics.Series {
	rng := rand.New(rand.NewSource(1))
	langs := []string{"en", "es", "pt_BR", "id"}
	out := make([]*metrics.Series, n)
	for i := range out {
		s := &metrics.Series{Key: metrics.Key{Template: fmt.Sprintf("T%05d", i), Language: langs[i%len(langs)]}, Granularity: metrics.Daily}
		kind := i % 3
		for d := 0; d < 30; d++ {
			if kind == 1 && d%7 >= 5 || kind == 2 && rng.Intn(3) != 0 {
				continue
			}
			w := dayWindow(d)
			sent := int64(500 + rng.Intn(5000))
			del := sent * int64(90+rng.Intn(10)) / 100
			read := del * int64(50+rng.Intn(20)) / 100
			clicks := del * int64(2+rng.Intn(5)) / 100
			if d == 29 && i%10 == 0 {
				read, clicks = read/4, 0
			}
			s.Periods = append(s.Periods, metrics.Period{
				Start: w.Start, End: w.End, Sent: sent, Delivered: del, Read: read, Clicks: clicks,
				Buttons: []metrics.Button{{Type: metrics.QuickReply, Text: "Shop now", Count: clicks}},
			})
		}
		out[i] = s
	}
	return out
}

// BenchmarkEvaluate times whole sets (10,000 series x 10 rules) and reports
// the fastest and the median of evalRounds sets per iteration: on a shared
// machine one set can be slowed by other processes, the fastest cannot be
// sped up by them.
func BenchmarkEvaluate(b *testing.B) {
	const evalRounds = 5
	set := mustLoad(b, benchRules)
	series := benchSeries(10000)
	w := dayWindow(29)
	b.ReportAllocs()
	b.ResetTimer()
	results := 0
	var times []time.Duration
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for b.Loop() {
		for range evalRounds {
			start := time.Now()
			results = 0
			for _, s := range series {
				results += len(set.Evaluate(s, w))
			}
			times = append(times, time.Since(start))
		}
	}
	runtime.ReadMemStats(&after)
	slices.Sort(times)
	best, median := times[0], times[len(times)/2]
	evals := float64(len(series)) * float64(len(set.Rules))
	b.ReportMetric(evals/best.Seconds(), "evaluations/s")
	b.ReportMetric(float64(best.Microseconds())/1000, "ms/set")
	b.ReportMetric(float64(median.Microseconds())/1000, "ms/set-median")
	b.ReportMetric(float64(results), "results")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(len(times)), "allocs/set")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(len(times)), "B/set")
}
