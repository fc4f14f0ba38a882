package notifytest

import (
	"fmt"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
)

// SampleDigest is a two-alert digest (a critical read-rate drop firing and a
// resolved zero-clicks warning) for one day in Asia/Shanghai.
func SampleDigest() *notify.Digest {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		loc = time.FixedZone("UTC+8", 8*3600)
	}
	start := time.Date(2026, 5, 10, 0, 0, 0, 0, loc)
	return &notify.Digest{
		Title:       "cams-alert: 1 firing, 1 resolved",
		PeriodStart: start,
		PeriodEnd:   start.AddDate(0, 0, 1),
		Location:    loc,
		Items: []alert.Item{
			{
				Rule: "zero-clicks", Template: "1100AB02", Language: "es", Button: "Ver oferta",
				Severity: "warning", State: alert.Resolved, Metric: "clicks",
				Value: 37, Baseline: 41.5, HasBaseline: true, Volume: 18230, Trend: "▅▆▁▁▅",
				Summary:  "1100AB02 (es): button “Ver oferta” is clicked again",
				Since:    start.AddDate(0, 0, -2),
				Duration: 48 * time.Hour,
			},
			{
				Rule: "read-rate-drop", Template: "1100AB01", Language: "en",
				Severity: "critical", State: alert.Firing, Metric: "read_rate", IsRate: true,
				Value: 0.081, Baseline: 0.612, HasBaseline: true, Volume: 12480, Trend: "▇▇▆▇▇▇▁",
				Summary: "1100AB01 (en): read rate 8.1%, was 61.2%",
				Since:   start,
			},
		},
	}
}

// ManyItems returns n firing items whose summaries are summaryLen bytes
// long, named T0000… in order of decreasing volume (so the digest's order is
// the index order).
func ManyItems(n, summaryLen int) []alert.Item {
	out := make([]alert.Item, n)
	for i := range out {
		sum := fmt.Sprintf("summary %04d ", i)
		for len(sum) < summaryLen {
			sum += "x"
		}
		out[i] = alert.Item{
			Rule: "clicks-drop", Template: fmt.Sprintf("T%04d", i), Language: "en",
			Severity: "warning", State: alert.Firing, Metric: "clicks",
			Value: 10, Baseline: 100, HasBaseline: true, Volume: int64(1000000 - i),
			Summary: sum[:summaryLen],
		}
	}
	return out
}
