package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cams-alert/cams-alert/function/monitor"
)

// TestRuleFailsAtRunTime: an expression that passes validate but fails on
// every period (a modulo by zero) is an error of the run naming the rule
// (summary errors, stderr, exit 1), not a rule that silently never fires.
func TestRuleFailsAtRunTime(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.fast(t)
	dir := t.TempDir()
	src := "rules:\n  - {name: broken-expr, expr: \"sent % (sent - sent) == 0\"}\n"
	if err := os.WriteFile(filepath.Join(dir, "rules.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r.setenv("RULES_PATH", dir)
	if code, _, stderr := r.runRaw(t, "validate"); code != exitOK {
		t.Fatalf("validate exit %d: %s", code, stderr)
	}
	code, sum, stderr := r.run(t, "--at", sampleAt)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	var found *monitor.Error
	for i, e := range sum.Errors {
		if e.Code == monitor.CodeRuleFailed && e.Rule == "broken-expr" {
			found = &sum.Errors[i]
		}
	}
	if found == nil || !strings.Contains(found.Message, "integer divide by zero") {
		t.Errorf("summary errors %+v lack the rule's failure", sum.Errors)
	}
	if !strings.Contains(stderr, "broken-expr") {
		t.Errorf("stderr does not name the rule:\n%s", stderr)
	}
}
