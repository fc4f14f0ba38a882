package deploy

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSummary runs the Makefile's bench summary on recorded benchmark
// output: it passes when every target is met, and fails (non-zero exit) on a
// missed target, on a figure missing from the output and on a failed
// benchmark, so that `make bench` cannot print MISS and succeed.
func TestBenchSummary(t *testing.T) {
	for _, tool := range []string{"make", "awk"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	cases := []struct {
		file string
		ok   bool
		want []string
	}{
		{"ok.txt", true, []string{"ok   dist/main 15.20 MB < 20 MB"}},
		{"miss.txt", false, []string{"MISS rule evaluation", "1 target(s) missed"}},
		{"absent.txt", false, []string{"not in the output: ColdStart first-request-ms ColdStart binary-MB", "2 target(s) missed"}},
		{"failed.txt", false, []string{"a benchmark failed"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			out, err := filepath.Abs(filepath.Join("testdata", "bench", c.file))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("make", "-s", "--no-print-directory", "-C", repoRoot, "bench-summary", "BENCH_OUT="+out)
			b, err := cmd.CombinedOutput()
			if _, exit := err.(*exec.ExitError); err != nil && !exit {
				t.Fatal(err)
			}
			if (err == nil) != c.ok {
				t.Errorf("make bench-summary on %s: error %v, want success %v\n%s", c.file, err, c.ok, b)
			}
			for _, w := range c.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("output lacks %q:\n%s", w, b)
				}
			}
		})
	}
}
