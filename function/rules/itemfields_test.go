package rules

import (
	"slices"
	"testing"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// The fields messages are written from: the button's text as the API
// reports it (also for a type selector), the condition, the numbers behind
// the trend, and whether the summary is the author's own.
func TestItemMessageFields(t *testing.T) {
	s := mustLoad(t, `rules:
  - {name: by-type, metric: clicks, condition: zero, button: "type:url_button", for: 1}
  - {name: by-text, metric: clicks, condition: zero, button: "Shop now", summary: "{{.ButtonText}} on {{.TemplateName}} got no clicks ({{.State}})"}
`)
	shop := metrics.Button{Type: metrics.URLButton, Text: "Shop now", Count: 40}
	ser := daily(cat(rep(row{1000, 1000, 600, 40}, 7), []row{{1000, 1000, 600, 0}}), shop)
	ser.TemplateName = "Spring sale"
	last := len(ser.Periods) - 1
	ser.Periods[last].Buttons = nil
	res := s.Evaluate(ser, dayWindow(last))
	if len(res) != 2 {
		t.Fatalf("%d results, want 2", len(res))
	}
	for _, tc := range []struct {
		rule, button, text, summary string
		custom                      bool
	}{
		{"by-type", "type:url_button", "Shop now", "", false},
		{"by-text", "Shop now", "Shop now", "Shop now on Spring sale got no clicks (firing)", true},
	} {
		i := slices.IndexFunc(res, func(r Result) bool { return r.Rule.Name == tc.rule })
		if i < 0 {
			t.Fatalf("%s did not fire", tc.rule)
		}
		it := res[i].Item()
		if it.Button != tc.button || it.ButtonText != tc.text || it.Condition != Zero || it.CustomSummary != tc.custom {
			t.Errorf("%s: button %q text %q condition %q custom %v", tc.rule, it.Button, it.ButtonText, it.Condition, it.CustomSummary)
		}
		if tc.summary != "" && it.Summary != tc.summary {
			t.Errorf("%s: summary %q, want %q", tc.rule, it.Summary, tc.summary)
		}
		if n := len(it.Recent); n < 2 || it.Recent[n-1] != 0 || it.Recent[0] != 40 {
			t.Errorf("%s: recent %v", tc.rule, it.Recent)
		}
	}
}
