package rules

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Budgets no input may exceed while loading: validate must answer within a
// second, and a run has 512 MB in all.
const (
	fuzzTimeBudget  = time.Second
	fuzzAllocBudget = 128 << 20
)

// withinBudget runs load and fails the test when it took longer or
// allocated more than the budgets allow.
func withinBudget(t *testing.T, load func() (*Set, error)) (*Set, error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	s, err := load()
	took := time.Since(start)
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > fuzzAllocBudget {
		t.Fatalf("loading allocated %d MB (budget %d MB)", alloc>>20, fuzzAllocBudget>>20)
	}
	if took > fuzzTimeBudget {
		t.Fatalf("loading took %v (budget %v)", took, fuzzTimeBudget)
	}
	return s, err
}

// FuzzLoad: no input panics, every rejection is a Diagnostic with file and
// line, and whatever loads can be evaluated.
func FuzzLoad(f *testing.F) {
	for _, pat := range []string{"../../testdata/rules/*.yaml", "../../testdata/rules/*/*.yaml"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(benchRules))
	f.Add([]byte("rules:\n  - &a {name: x, condition: absent}\n  - <<: *a\n    name: y\n"))
	f.Add([]byte("channels: {a: {type: slack, webhook_url: \"${A}${B\"}}\n"))
	for _, h := range hostileInputs() {
		if len(h.yaml) < 64<<10 {
			f.Add([]byte(h.yaml))
		}
	}
	env := envOf(map[string]string{"A": "https://127.0.0.1/x", "B": "y"})
	ser := daily(cat(rep(row{1000, 900, 500, 20}, 10), []row{gap, {1000, 0, 0, 0}, {1000, 900, 10, 0}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := withinBudget(t, func() (*Set, error) { return LoadBytes("fuzz.yaml", data, env) })
		if err != nil {
			var ds Diagnostics
			if !errors.As(err, &ds) || len(ds) == 0 {
				t.Fatalf("error is not Diagnostics: %T %v", err, err)
			}
			for _, d := range ds {
				if d.File != "fuzz.yaml" || d.Line < 1 || d.Col < 1 || d.Msg == "" {
					t.Fatalf("bad diagnostic %+v", d)
				}
			}
			return
		}
		for i := 0; i < 13; i++ {
			for _, r := range s.Evaluate(ser, dayWindow(i)) {
				s.Silenced(&r, day0)
			}
		}
		s.Lookback("DAILY")
	})
}
