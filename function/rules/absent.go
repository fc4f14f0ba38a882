package rules

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/metrics"
)

// Absent detection (see docs/rules.md, "absent"): the sending pattern is learned from
// the rule's baseline window of calendar periods ending at the series' last
// send before the evaluated period. A period without a send is "expected"
// when either
//
//   - the gap since the last send is clearly longer than the series' usual
//     gaps: the gap this missing period implies (from the last send to the
//     next period at the earliest) exceeds gapThreshold (below); or
//   - the series is regular (its strong slots hold at least 90% of its sends)
//     and the period's slot (weekday at DAILY, time of day at HALF_HOUR) is
//     strong: it had a send in at least 90% of its (at least 3) occurrences
//     since the first send in the window.
//
// The pattern needs at least minAbsentSends sends in the window and a mean
// sent (over the sending periods) of at least min_sent; otherwise the series
// is not evaluated.
const (
	minAbsentSends  = 4
	gapSDs          = 4.0
	regularVarShare = 0.15
	minRegularGaps  = 7
	gapAlpha        = 0.001
)

const (
	minSlotSamples   = 3
	slotShare        = 0.9
	gapFactor        = 1.5
	maxSlots         = 48
	dailySlots       = 7
	halfHourDaySlots = 48
)

// pattern is what a series' history says about its sends.
type pattern struct {
	ok        bool
	last      int // index of the last send
	lastCal   int64
	firstCal  int64
	sends     int
	meanSent  float64
	maxGap    int64
	slots     int
	slotSends [maxSlots]int
	// gap statistics between consecutive sends
	gaps         int
	gapSum, gap2 float64
	strong       [maxSlots]bool
	regular      bool // the strong slots hold at least 90% of the sends
	gapThreshold float64
}

func calIndex(t time.Time, step time.Duration) int64 {
	ms, st := t.UnixMilli(), step.Milliseconds()
	q := ms / st
	if ms%st != 0 && ms < 0 {
		q--
	}
	return q
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// learn builds the pattern from the window of `window` calendar periods
// ending at the last send before index `before`.
func learn(ps []metrics.Period, before int, window int, step time.Duration, slots int) pattern {
	var pt pattern
	pt.slots = slots
	pt.last = -1
	for k := before - 1; k >= 0; k-- {
		if ps[k].Sent > 0 {
			pt.last = k
			break
		}
	}
	if pt.last < 0 {
		return pt
	}
	pt.lastCal = calIndex(ps[pt.last].Start, step)
	from := pt.lastCal - int64(window) + 1
	var sum float64
	prev := int64(-1 << 62)
	for k := pt.last; k >= 0; k-- {
		p := &ps[k]
		c := calIndex(p.Start, step)
		if c < from {
			break
		}
		if p.Sent <= 0 {
			continue
		}
		if prev != -1<<62 {
			g := prev - c
			if g > pt.maxGap {
				pt.maxGap = g
			}
			pt.gaps++
			pt.gapSum += float64(g)
			pt.gap2 += float64(g * g)
		}
		prev = c
		pt.firstCal = c
		pt.sends++
		sum += float64(p.Sent)
		pt.slotSends[mod(c, int64(slots))]++
	}
	if pt.sends > 0 {
		pt.meanSent = sum / float64(pt.sends)
	}
	pt.ok = pt.sends >= minAbsentSends && pt.maxGap > 0
	if !pt.ok {
		return pt
	}
	pt.gapThreshold = gapThreshold(pt.gaps, pt.gapSum, pt.gap2, pt.maxGap, pt.sends, int64(window))
	strongSends := 0
	for sl := 0; sl < slots; sl++ {
		if pt.strongSlot(int64(sl)) {
			pt.strong[sl] = true
			strongSends += pt.slotSends[sl]
		}
	}
	pt.regular = float64(strongSends) >= slotShare*float64(pt.sends)
	return pt
}

// slotSamples counts the periods of slot s between the first and last send.
func (pt *pattern) slotSamples(s int64) int64 {
	n := pt.lastCal - pt.firstCal + 1
	sl := int64(pt.slots)
	full := n / sl
	rem := n % sl
	// the rem extra periods are the slots firstCal, firstCal+1, ...
	if mod(s-pt.firstCal, sl) < rem {
		full++
	}
	return full
}

func (pt *pattern) strongSlot(s int64) bool {
	n := pt.slotSamples(s)
	if n < minSlotSamples {
		return false
	}
	return float64(pt.slotSends[s]) >= slotShare*float64(n)-1e-9
}

// expects reports whether a period at calendar index c (after the last send)
// should have had a send.
func (pt *pattern) expects(c int64) bool {
	if c <= pt.lastCal {
		return false
	}
	// With no send at c, the gap from the last send to the next one is at
	// least c+1 - lastCal.
	gap := c + 1 - pt.lastCal
	if float64(gap) > pt.gapThreshold {
		return true
	}
	return pt.regular && pt.strong[mod(c, int64(pt.slots))]
}

func slotsFor(g metrics.Granularity) int {
	if g == metrics.HalfHour {
		return halfHourDaySlots
	}
	return dailySlots
}

// absent decides an absent rule at window w; lo is the first period at or
// after w.Start, cur the period at w.Start or -1.
func (ev *evaluator) absent(s *Set, series *metrics.Series, g metrics.Granularity, w metrics.Window, lo, cur int, res *Result) bool {
	r := ev.r
	ps := ev.ps
	step := g.Step()
	c := calIndex(w.Start, step)
	sentNow := cur >= 0 && ps[cur].Sent > 0
	// The pattern before w (for a send at w: before the gap that ended).
	pt := learn(ps, lo, r.Baseline, step, slotsFor(g))
	if !pt.ok || pt.meanSent < float64(r.MinSent) {
		return false
	}
	// hold counts consecutive expected-but-missing periods ending at c.
	var end int64
	if sentNow {
		end = c - 1
	} else {
		end = c
	}
	if end <= pt.lastCal || !pt.expects(end) {
		return false
	}
	first := end
	for first-1 > pt.lastCal && pt.expects(first-1) {
		first--
	}
	run := end - first + 1
	if run < int64(r.For) {
		return false
	}
	firedCal := first + int64(r.For) - 1
	res.Since = w.Start.Add(time.Duration(firedCal-c) * step)
	if sentNow {
		res.State = alert.Resolved
		res.Duration = w.Start.Sub(res.Since)
		res.Value = float64(ps[cur].Sent)
	} else {
		res.State = alert.Firing
	}
	res.Baseline, res.HasBaseline = pt.meanSent, true
	res.Volume = int64(pt.meanSent + 0.5)
	res.Detail = describe(&pt, ps, g, step, s.loc())
	res.Recent = ev.absentTrend(pt.last, cur)
	res.Trend = sparkline(res.Recent)
	return true
}

func (s *Set) loc() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// absentTrend is sent over the last sending periods, ending with the
// evaluated period's count (0 when missing).
func (ev *evaluator) absentTrend(last, cur int) []float64 {
	var buf [trendLen]float64
	n := 0
	if cur >= 0 {
		buf[trendLen-1] = float64(ev.ps[cur].Sent)
	}
	n++
	for k := last; k >= 0 && n < trendLen; k-- {
		if ev.ps[k].Sent > 0 {
			buf[trendLen-1-n] = float64(ev.ps[k].Sent)
			n++
		}
	}
	return append([]float64(nil), buf[trendLen-n:]...)
}

var weekdayShort = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// describe explains the learned pattern: "sends every weekday; none since
// Tue 24 Nov (usually 1,200 sent)".
func describe(pt *pattern, ps []metrics.Period, g metrics.Granularity, step time.Duration, loc *time.Location) string {
	last := ps[pt.last].Start
	mid := func(t time.Time) time.Time { return t.Add(step / 2).In(loc) }
	var b strings.Builder
	if g == metrics.HalfHour {
		b.WriteString(describeShare(pt, "half-hours"))
		fmt.Fprintf(&b, "; none since %s", mid(last).Add(-step/2).Format("Mon 2 Jan 15:04"))
	} else {
		var days [7]bool
		nd := 0
		for sl := int64(0); sl < dailySlots; sl++ {
			if pt.regular && pt.strong[sl] {
				// the weekday of slot sl: a period of that slot near the last send
				t := last.Add(time.Duration(mod(sl-pt.lastCal, dailySlots)) * step)
				days[mid(t).Weekday()] = true
				nd++
			}
		}
		switch {
		case nd == 7:
			b.WriteString("sends every day")
		case nd == 5 && !days[0] && !days[6]:
			b.WriteString("sends every weekday")
		case nd > 0:
			var names []string
			for d := 1; d <= 7; d++ {
				if days[d%7] {
					names = append(names, weekdayShort[d%7])
				}
			}
			b.WriteString("sends every " + strings.Join(names, ", "))
		default:
			b.WriteString(describeShare(pt, "days"))
		}
		fmt.Fprintf(&b, "; none since %s", mid(last).Format("Mon 2 Jan"))
	}
	fmt.Fprintf(&b, " (usually %s sent)", num(float64(int64(pt.meanSent+0.5))))
	return b.String()
}

func describeShare(pt *pattern, unit string) string {
	span := pt.lastCal - pt.firstCal + 1
	share := float64(pt.sends) / float64(span)
	return fmt.Sprintf("sends on %s of %s, gaps up to %d", percent(share), unit, pt.maxGap)
}

// gapThreshold is the gap (in periods) beyond which a missing send is
// alarming, never less than 1.5 × the longest gap seen:
//
//   - a regular sender (at least 4 gaps whose variance is under a quarter of
//     a random sender's at the same rate) is judged by its own spread:
//     mean gap + 4 sd (every 3rd day like clockwork: after 5 days);
//   - any other sender is modelled as random, sending on a share p of
//     periods, whose gap reaches g with probability (1-p)^(g-1): the alarm
//     is the gap such a sender reaches on fewer than 0.1% of its periods
//     (p = 1/3: 16 days; p = 0.9: 4 days).
func gapThreshold(gaps int, sum, sum2 float64, maxGap int64, sends int, span int64) float64 {
	n := float64(gaps)
	mean := sum / n
	v := math.Max(0, sum2/n-mean*mean)
	geoVar := math.Max(0, mean*(mean-1)) // variance of a geometric gap with this mean
	var t float64
	p := math.Min(float64(sends)/float64(span), 1)
	if (gaps >= minRegularGaps && v <= regularVarShare*geoVar+1e-9) || p >= 1 {
		t = mean + gapSDs*math.Sqrt(v)
	} else {
		t = 1 + math.Log(gapAlpha/p)/math.Log(1-p)
	}
	return math.Max(t, gapFactor*float64(maxGap))
}
