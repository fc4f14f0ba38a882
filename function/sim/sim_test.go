package sim

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

var start = time.Date(2026, 10, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

func TestGenerateIsDeterministic(t *testing.T) {
	a := Generate(42, Options{Templates: 50, Days: 30, Start: start, IncidentShare: 0.3})
	b := Generate(42, Options{Templates: 50, Days: 30, Start: start, IncidentShare: 0.3})
	c := Generate(43, Options{Templates: 50, Days: 30, Start: start, IncidentShare: 0.3})
	ra, _ := Response(a.Series...)
	rb, _ := Response(b.Series...)
	rc, _ := Response(c.Series...)
	if !bytes.Equal(ra, rb) {
		t.Error("same seed, different data")
	}
	if bytes.Equal(ra, rc) {
		t.Error("different seeds, same data")
	}
}

func TestPatterns(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		spec       Spec
		sendingMin int
		sendingMax int
	}{
		{Spec{Code: "D", Pattern: Daily, Volume: 100, DeliveryRate: 1, ReadRate: 0.5}, 28, 28},
		{Spec{Code: "W", Pattern: Weekdays, Volume: 100, DeliveryRate: 1, ReadRate: 0.5}, 20, 20},
		{Spec{Code: "S", Pattern: Daily, Volume: 100, DeliveryRate: 1, ReadRate: 0.5,
			Incident: &Incident{Kind: SendsStopped, Day: 20}}, 20, 20},
	}
	for _, tc := range cases {
		s := Simulate(r, &tc.spec, start, 28)
		if n := len(s.Periods); n < tc.sendingMin || n > tc.sendingMax {
			t.Errorf("%s: %d sending days, want %d–%d", tc.spec.Code, n, tc.sendingMin, tc.sendingMax)
		}
		for _, p := range s.Periods {
			if tc.spec.Pattern == Weekdays {
				if wd := p.Start.In(start.Location()).Weekday(); wd == time.Saturday || wd == time.Sunday {
					t.Errorf("weekday sender sent on %s", wd)
				}
			}
			if p.End.Sub(p.Start) != 24*time.Hour {
				t.Errorf("bucket of %s", p.End.Sub(p.Start))
			}
		}
	}
}

func TestIncidentsChangeTheRightMetric(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	base := Spec{Code: "T", Pattern: Daily, Volume: 20000, DeliveryRate: 0.95, ReadRate: 0.6,
		Buttons: []ButtonSpec{{Type: metrics.URLButton, Text: "Shop now", Rate: 0.1}, {Type: metrics.QuickReply, Text: "No", Rate: 0.05}}}
	for _, tc := range []struct {
		kind   string
		metric string
		button string
		ratio  float64 // incident day value / normal day value, roughly
	}{
		{ReadCollapse, metrics.ReadRate, "", 0.4},
		{DeliveryCollapse, metrics.DeliveryRate, "", 0.5},
		{ClickDeath, metrics.Clicks, "", 0},
		{DeadURLButton, metrics.Clicks, "Shop now", 0},
	} {
		spec := base
		spec.Incident = &Incident{Kind: tc.kind, Day: 10}
		s := Simulate(r, &spec, start, 11)
		before, _ := s.Periods[9].Value(tc.metric, tc.button)
		after, _ := s.Periods[10].Value(tc.metric, tc.button)
		if got := after / before; math.Abs(got-tc.ratio) > 0.05 {
			t.Errorf("%s: %s went %.3f → %.3f (×%.2f), want ×%.2f", tc.kind, tc.metric, before, after, got, tc.ratio)
		}
	}
}

func TestBinomialMoments(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int64{20, 50, 1000, 50000} {
		const p, draws = 0.3, 4000
		var sum, sq float64
		for range draws {
			k := float64(Binomial(r, n, p))
			sum += k
			sq += k * k
		}
		mean := sum / draws
		sd := math.Sqrt(sq/draws - mean*mean)
		wantMean, wantSD := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
		if math.Abs(mean-wantMean) > 4*wantSD/math.Sqrt(draws) || math.Abs(sd-wantSD)/wantSD > 0.1 {
			t.Errorf("n=%d: mean %.2f sd %.2f, want %.2f and %.2f", n, mean, sd, wantMean, wantSD)
		}
	}
}

func TestOverdispersion(t *testing.T) {
	mon := time.Date(2026, 10, 5, 0, 0, 0, 0, start.Location()) // a Monday
	for _, tc := range []struct {
		name               string
		jitter, weekend    float64
		minSD, maxSD       float64 // relative sd of the weekday read rates
		minRatio, maxRatio float64 // weekend over weekday mean read rate
	}{
		{"binomial", 0, 0, 0, 0.02, 0.97, 1.03},
		{"real", 0.15, 0.15, 0.06, 0.12, 0.80, 0.90},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &Spec{Code: "D", Pattern: Daily, Volume: 40000, DeliveryRate: 1, ReadRate: 0.5,
				Buttons:    []ButtonSpec{{Type: metrics.URLButton, Text: "Go", Rate: 0.05}},
				ReadJitter: tc.jitter, ClickJitter: tc.jitter, WeekendRead: tc.weekend}
			s := Simulate(rand.New(rand.NewPCG(3, 4)), spec, mon, 140)
			var wk, we []float64
			for _, p := range s.Periods {
				r := float64(p.Read) / float64(p.Delivered)
				if wd := p.Start.In(mon.Location()).Weekday(); wd == time.Saturday || wd == time.Sunday {
					we = append(we, r)
				} else {
					wk = append(wk, r)
				}
			}
			mwk, sd := meanSD(wk)
			mwe, _ := meanSD(we)
			if rel := sd / mwk; rel < tc.minSD || rel > tc.maxSD {
				t.Errorf("weekday read rate moves by %.3f (relative sd), want %.2f..%.2f", rel, tc.minSD, tc.maxSD)
			}
			if ratio := mwe / mwk; ratio < tc.minRatio || ratio > tc.maxRatio {
				t.Errorf("weekend / weekday read rate %.3f, want %.2f..%.2f", ratio, tc.minRatio, tc.maxRatio)
			}
		})
	}
}

func meanSD(v []float64) (mean, sd float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(v)-1))
}
