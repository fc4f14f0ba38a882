package rules

import "testing"

// A series with too little history for a rule is learning, until the period
// from which every rule can judge it.
func TestLearning(t *testing.T) {
	s := mustLoad(t, `rules:
  - {name: drop, metric: read_rate, condition: drop, by: 30%, baseline: 14}
  - {name: stopped, condition: absent}
  - {name: low, metric: read_rate, condition: below, threshold: 0.1}
  - {name: other, metric: read_rate, condition: drop, by: 30%, baseline: 28, match: {templates: [OTHER]}}
`)
	send := row{1000, 1000, 600, 10}
	for _, tc := range []struct {
		name     string
		rows     []row
		at       int
		learning bool
		from     int // day index of the first judged period
	}{
		{"first day", rep(send, 1), 0, true, 7},  // drop needs 7 sending days, none yet
		{"three days", rep(send, 4), 3, true, 7}, // 3 before day 3: 4 more to go
		{"a week", rep(send, 8), 7, false, 0},    // 7 before day 7: drop and absent can judge
		{"days without sends do not count", cat(rep(send, 3), []row{gap, gap}, rep(send, 3)), 7, true, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			learning, from := s.Learning(daily(tc.rows), dayWindow(tc.at))
			if learning != tc.learning {
				t.Fatalf("learning %v, want %v", learning, tc.learning)
			}
			if want := dayWindow(tc.from).Start; learning && !from.Equal(want) {
				t.Errorf("from %v, want %v", from, want)
			}
		})
	}
	if l, _ := s.Learning(nil, dayWindow(0)); l {
		t.Error("a nil series is learning")
	}
}
