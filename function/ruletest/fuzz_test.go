package ruletest

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/rules"
)

// FuzzFile: no test file panics the parser or the runner; every problem is
// a diagnostic with a line and a column.
func FuzzFile(f *testing.F) {
	for _, pat := range []string{"../../testdata/rules/*_test.yaml", "testdata/files/*_test.yaml"} {
		files, _ := filepath.Glob(pat)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	set, err := rules.LoadFiles([]string{"testdata/files/rules.yaml"}, Env)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("rule_files: [r.yaml]\ntests: " + strings.Repeat("[", 100_000)))
	f.Add([]byte("rule_files: [r.yaml]\ntests:\n  - &t {name: a}\n  - &l [*t, *t, *t, *t, *t, *t, *t, *t]\n  - [*l, *l, *l, *l, *l, *l, *l, *l]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		file := ParseBytes("fuzz_test.yaml", data)
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		// validate's budgets: a second, and far less than a run's 512 MB
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 128<<20 || took > time.Second {
			t.Fatalf("parsing took %v and %d MB", took, alloc>>20)
		}
		check := func(ds rules.Diagnostics) {
			for _, d := range ds {
				if d.File != "fuzz_test.yaml" || d.Line < 1 || d.Col < 1 || d.Msg == "" {
					t.Fatalf("bad diagnostic %+v", d)
				}
			}
		}
		check(file.Diags)
		for _, tt := range file.Tests {
			check(tt.Diags)
			if len(tt.Diags) == 0 && tt.Periods <= 400 {
				tt.run(set)
			}
		}
	})
}
