package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// TestHostileRulesPath: a RULES_PATH that is a device, holds a FIFO, or is a
// file nested 100,000 brackets deep is refused at its position with exit 2,
// by validate and by run, without hanging or running out of memory.
func TestHostileRulesPath(t *testing.T) {
	t.Parallel()
	fifoDir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifoDir, "rules.yaml"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	deep := filepath.Join(t.TempDir(), "deep.yaml")
	if err := os.WriteFile(deep, []byte("rules: "+strings.Repeat("[", 100_000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero:1:1: not a regular file (a device): only plain files are read"},
		{fifoDir, filepath.Join(fifoDir, "rules.yaml") + ":1:1: not a regular file (a FIFO): only plain files are read"},
		{deep, deep + ":1:72: nested more than 64 levels deep"},
	} {
		for _, cmd := range []string{"validate", "run"} {
			r := newRig(t)
			r.setenv("RULES_PATH", tc.path)
			code, _, stderr := r.runRaw(t, cmd)
			if code != exitConfig || !strings.Contains(stderr, tc.want) {
				t.Errorf("%s with RULES_PATH=%s: exit %d, want %d and %q\n%s", cmd, tc.path, code, exitConfig, tc.want, stderr)
			}
		}
	}
}
