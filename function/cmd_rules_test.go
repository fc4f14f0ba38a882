package main

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCmdTestShippedRules runs `test` with no arguments from the repository
// root, as `make test` does: the shipped rules' own tests must pass.
func TestCmdTestShippedRules(t *testing.T) {
	t.Chdir("..")
	var out, errb strings.Builder
	code := cmdTest(nil, &out, &errb)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	if code != exitOK || !strings.HasSuffix(last, " passed, 0 failed") {
		t.Fatalf("exit %d, last line %q\n%s%s", code, last, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "ok    testdata/rules/marketing_test.yaml") {
		t.Errorf("marketing_test.yaml not run:\n%s", out.String())
	}
}

func TestCmdTestFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		args  []string
		code  int
		last  string
		wants []string
	}{
		{"a directory: its *_test.yaml files", []string{"../testdata/rules"}, exitOK, "45 passed, 0 failed",
			[]string{"ok    ../testdata/rules/marketing_test.yaml", "ok    ../testdata/rules/spec_example_test.yaml"}},
		{"a directory without tests", []string{"config"}, exitFailed, "", []string{"test: no *_test.yaml files in directory config"}},
		{"failing expectation", []string{"ruletest/testdata/files/fail_test.yaml"}, exitFailed, "1 passed, 1 failed",
			[]string{"FAIL  ruletest/testdata/files/fail_test.yaml:8: expects the wrong day", "- {rule: read-rate-drop, template: T1, state: firing}", "got: no alerts"}},
		{"bad file", []string{"ruletest/testdata/files/bad_test.yaml"}, exitFailed, "1 passed, 4 failed",
			[]string{`bad_test.yaml:5:40: unknown field "dleivered"`}},
		{"passing, verbose", []string{"-v", "ruletest/testdata/files/pass_test.yaml"}, exitOK, "2 passed, 0 failed",
			[]string{"ok    ruletest/testdata/files/pass_test.yaml:3: read rate collapse fires once, then resolves"}},
		{"missing file", []string{"nope_test.yaml"}, exitFailed, "0 passed, 1 failed", []string{"FAIL  nope_test.yaml: open"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb strings.Builder
			code := cmdTest(tc.args, &out, &errb)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if code != tc.code || lines[len(lines)-1] != tc.last {
				t.Errorf("exit %d, last line %q; want %d, %q\n%s", code, lines[len(lines)-1], tc.code, tc.last, out.String())
			}
			for _, w := range tc.wants {
				if !strings.Contains(out.String()+errb.String(), w) {
					t.Errorf("output lacks %q:\n%s%s", w, out.String(), errb.String())
				}
			}
		})
	}
	var out, errb strings.Builder
	if code := cmdTest([]string{"-bogus"}, &out, &errb); code != exitConfig {
		t.Errorf("bad flag: exit %d", code)
	}
}

// envApp is the CLI with exactly the variables of env.
func envApp(env map[string]string) *app {
	return &app{lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
}

// replayEnv is the environment of a backtest over the bundled sample.
func replayEnv(t *testing.T) map[string]string {
	t.Helper()
	abs, err := filepath.Abs("../testdata/sample")
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"CAMS_ENDPOINT": "file://" + abs, "RULES_PATH": "../rules",
		"STATE_DIR": filepath.Join(t.TempDir(), "state"), "TIMEZONE": "Asia/Shanghai"}
}

func TestCmdBacktestSample(t *testing.T) {
	t.Parallel()
	env := replayEnv(t)
	var out, errb strings.Builder
	code := envApp(env).cmdBacktest(context.Background(), []string{"--days", "14", "--at", "2026-11-24T09:00:00+08:00"}, &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	for _, want := range []string{
		"backtest: 14 DAILY periods, Tue 10 Nov → Mon 23 Nov (Asia/Shanghai)",
		"1100SHOP0001  en", "1100DLV0006  id", "1100FLASH0002  en    type:url_button", "1100WEEK0003  en",
		"zero-clicks (warning, clicks zero): no alerts",
		"4 episodes: 4 still firing, 0 resolved · 7 templates, 0 not fetched",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, quiet := range []string{"1100BURST0004", "1100TINY0005"} {
		if strings.Contains(out.String(), quiet) {
			t.Errorf("%s alerted:\n%s", quiet, out.String())
		}
	}
	if _, err := os.Stat(env["STATE_DIR"]); !os.IsNotExist(err) {
		t.Errorf("backtest touched STATE_DIR: %v", err)
	}

	out.Reset()
	code = envApp(env).cmdBacktest(context.Background(), []string{"--days", "14", "--at", "2026-11-24T09:00:00+08:00", "--json"}, &out, &errb)
	var rep struct {
		Episodes []struct {
			Rule, Template string
			StillFiring    bool `json:"still_firing"`
		}
	}
	if code != exitOK || json.Unmarshal([]byte(out.String()), &rep) != nil || len(rep.Episodes) != 4 {
		t.Errorf("--json: exit %d, %d episodes\n%s", code, len(rep.Episodes), out.String())
	}
}

func TestCmdBacktestExitCodes(t *testing.T) {
	t.Parallel()
	at := "2026-11-24T09:00:00+08:00"
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no --days", nil, []string{"--at", at}, exitConfig, "--days N is required"},
		{"bad --at", nil, []string{"--days", "3", "--at", "tomorrow"}, exitConfig, "RFC 3339"},
		{"bad rules", map[string]string{"RULES_PATH": "../testdata/rules/invalid/errors.yaml"}, []string{"--days", "3", "--at", at}, exitConfig, "errors.yaml:"},
		{"bad config", map[string]string{"CAMS_QPS": "500"}, []string{"--days", "3", "--at", at}, exitConfig, "CAMS_QPS"},
		{"template not fetched", map[string]string{"CAMS_TEMPLATES": "1100SHOP0001,1100NOPE0009"}, []string{"--days", "3", "--at", at}, exitFailed, "not checked: 1100NOPE0009"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := replayEnv(t)
			maps.Copy(env, tc.env)
			var out, errb strings.Builder
			code := envApp(env).cmdBacktest(context.Background(), tc.args, &out, &errb)
			if code != tc.code || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d (want %d), stderr lacks %q:\n%s\n%s", code, tc.code, tc.want, errb.String(), out.String())
			}
		})
	}
}

// TestCmdValidate: warnings do not fail validate but are printed at their
// position; a bad variable does not hide the rules' own problems.
func TestCmdValidate(t *testing.T) {
	t.Parallel()
	rulesFile := filepath.Join("..", "testdata", "rules", "spec_example.yaml")
	broken := filepath.Join(t.TempDir(), "broken.yaml")
	if err := os.WriteFile(broken, []byte("rules:\n  - {name: a, metric: read_rat, condition: below, threshold: 0.1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		env   map[string]string
		code  int
		wants []string
	}{
		{"the documented example: ok with warnings",
			map[string]string{"RULES_PATH": rulesFile, "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x",
				"DINGTALK_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=x", "DINGTALK_SECRET": "SECx"},
			exitOK, []string{rulesFile + ":21:5: warning: rule read-rate-drop: threshold is not used by condition drop; ignored",
				"ok: 2 rules, 4 channels", "3 ignored fields"}},
		{"bad variable and bad rules: both reported",
			map[string]string{"RULES_PATH": broken, "CAMS_QPS": "100"},
			exitConfig, []string{"CAMS_QPS: must be between 1 and 50", broken + `:2:23: rule a: unknown metric "read_rat"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errb strings.Builder
			code := envApp(tc.env).cmdValidate(nil, &out, &errb)
			all := out.String() + errb.String()
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, all)
			}
			for _, w := range tc.wants {
				if !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
		})
	}
}
