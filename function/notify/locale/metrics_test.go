package locale

import (
	"testing"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// The rules' default summaries (backtest, quality, the run summary) name
// metrics in English as the English messages do: one vocabulary.
func TestMetricNamesAgreeWithRules(t *testing.T) {
	en := Get("en")
	for _, m := range metrics.Names {
		if got, want := metrics.Label(m), en.T("metric."+m); got != want {
			t.Errorf("%s: metrics.Label %q, English messages %q", m, got, want)
		}
	}
}
