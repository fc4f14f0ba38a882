package rules

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

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
	env := envOf(map[string]string{"A": "https://127.0.0.1/x", "B": "y"})
	ser := daily(cat(rep(row{1000, 900, 500, 20}, 10), []row{gap, {1000, 0, 0, 0}, {1000, 900, 10, 0}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := LoadBytes("fuzz.yaml", data, env)
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
