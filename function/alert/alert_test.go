package alert

import (
	"math"
	"sort"
	"testing"
)

func TestSeverityRank(t *testing.T) {
	for _, c := range []struct {
		severity string
		want     int
	}{{"critical", 0}, {"warning", 1}, {"info", 2}, {"", 3}, {"CRITICAL", 3}, {"page", 3}} {
		if got := SeverityRank(c.severity); got != c.want {
			t.Errorf("SeverityRank(%q) = %d, want %d", c.severity, got, c.want)
		}
	}
	got := []string{"info", "bogus", "critical", "warning", "critical"}
	sort.SliceStable(got, func(i, j int) bool { return SeverityRank(got[i]) < SeverityRank(got[j]) })
	want := []string{"critical", "critical", "warning", "info", "bogus"}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sorted by rank: %v, want %v", got, want)
		}
	}
}

func TestChange(t *testing.T) {
	for _, c := range []struct {
		name string
		it   Item
		want float64
		ok   bool
	}{
		{"a drop", Item{Value: 0.3, Baseline: 0.6, HasBaseline: true}, -0.5, true},
		{"a rise", Item{Value: 150, Baseline: 100, HasBaseline: true}, 0.5, true},
		{"to zero", Item{Value: 0, Baseline: 99, HasBaseline: true}, -1, true},
		{"no change", Item{Value: 7, Baseline: 7, HasBaseline: true}, 0, true},
		{"no baseline", Item{Value: 0.3, Baseline: 0.6}, 0, false},
		{"a zero baseline", Item{Value: 5, HasBaseline: true}, 0, false},
	} {
		got, ok := c.it.Change()
		if ok != c.ok || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: Change() = %v, %v; want %v, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// TestKey: the key names the alert across runs; the button is part of it only
// when the rule watches one, and no two distinct alerts share a key.
func TestKey(t *testing.T) {
	items := []Item{
		{Rule: "read-rate-drop", Template: "T1", Language: "en"},
		{Rule: "read-rate-drop", Template: "T1", Language: "es"},
		{Rule: "read-rate-drop", Template: "T2", Language: "en"},
		{Rule: "zero-clicks", Template: "T1", Language: "en"},
		{Rule: "zero-clicks", Template: "T1", Language: "en", Button: "Shop now"},
		{Rule: "zero-clicks", Template: "T1", Language: "en", Button: "type:url_button"},
	}
	wants := []string{
		"read-rate-drop|T1|en", "read-rate-drop|T1|es", "read-rate-drop|T2|en",
		"zero-clicks|T1|en", "zero-clicks|T1|en|Shop now", "zero-clicks|T1|en|type:url_button",
	}
	seen := map[string]bool{}
	for i, it := range items {
		k := it.Key()
		if k != wants[i] {
			t.Errorf("Key() = %q, want %q", k, wants[i])
		}
		if seen[k] {
			t.Errorf("two alerts share the key %q", k)
		}
		seen[k] = true
	}
	// State, value and severity change between runs; the key must not.
	a := Item{Rule: "r", Template: "T", Language: "en", State: Firing, Value: 1, Severity: "critical"}
	b := Item{Rule: "r", Template: "T", Language: "en", State: Resolved, Value: 2, Severity: "warning"}
	if a.Key() != b.Key() {
		t.Errorf("the key changed with state/value/severity: %q vs %q", a.Key(), b.Key())
	}
}
