package monitor

import (
	"context"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/rules"
)

// noList is a source whose ListChatappTemplate fails.
type noList struct{ cams.Source }

func (noList) ListTemplates(context.Context) ([]cams.Template, error) {
	return nil, &cams.APIError{API: cams.APITemplates, Code: "Throttling.User", Message: "slow down"}
}

// The alert lines messages are written from carry the template's name,
// also when the templates to check are configured; when the names cannot be
// listed, the configured templates are still checked (a warning) and shown
// by code.
func TestTemplateNames(t *testing.T) {
	set, err := rules.Load("../../rules", nil)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, loc)
	replay := &cams.Replay{Dir: "../../testdata/sample"}
	for _, tc := range []struct {
		name      string
		src       cams.Source
		templates []string
		want      string
		errors    int
	}{
		{"discovered", replay, nil, "black_friday_shop_now", 0},
		{"configured", replay, []string{"1100SHOP0001"}, "black_friday_shop_now", 0},
		{"configured, names not listed", noList{replay}, []string{"1100SHOP0001"}, "", 1},
		{"discovery fails", noList{replay}, nil, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := Evaluate(context.Background(), &Deps{Source: tc.src, Rules: set, Location: loc, Templates: tc.templates},
				Options{At: at})
			if len(ev.Errors) != tc.errors || tc.errors > 0 && tc.templates != nil && !ev.Errors[0].Warning {
				t.Fatalf("errors %+v, want %d", ev.Errors, tc.errors)
			}
			found := false
			for _, r := range ev.Results {
				r := r
				if r.Key.Template == "1100SHOP0001" {
					found = true
					if r.TemplateName != tc.want || Item(&r).TemplateName != tc.want {
						t.Errorf("%s: name %q, want %q", r.Rule.Name, r.TemplateName, tc.want)
					}
				}
			}
			if found != (tc.errors == 0 || tc.templates != nil) {
				t.Errorf("1100SHOP0001 alerts found %v", found)
			}
		})
	}
}

// The template-languages that some rule cannot judge yet are counted, with
// when they all can be judged; a month of history leaves none learning.
func TestLearningCount(t *testing.T) {
	set, err := rules.Load("../../rules", nil)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	replay := &cams.Replay{Dir: "../../testdata/sample"}
	for _, tc := range []struct {
		at       time.Time
		learning int
	}{
		{time.Date(2026, 10, 28, 9, 0, 0, 0, loc), 8}, // three days in: every series
		{time.Date(2026, 11, 24, 9, 0, 0, 0, loc), 0},
	} {
		ev := Evaluate(context.Background(), &Deps{Source: replay, Rules: set, Location: loc}, Options{At: tc.at})
		if ev.Learning != tc.learning {
			t.Errorf("%v: learning %d, want %d", tc.at, ev.Learning, tc.learning)
		}
		if tc.learning > 0 && !ev.LearningFrom.After(ev.Period.End) {
			t.Errorf("%v: learning until %v, not after the period %v", tc.at, ev.LearningFrom, ev.Period)
		}
		if sum := newSummary(ev); sum.Learning != tc.learning {
			t.Errorf("summary learning %d", sum.Learning)
		}
	}
}
