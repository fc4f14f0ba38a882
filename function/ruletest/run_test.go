package ruletest

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRunFiles(t *testing.T) {
	for _, tc := range []struct {
		file           string
		passed, failed int
		want           []string // substrings of the output, in order
		not            []string
	}{
		{file: "pass_test.yaml", passed: 2, want: []string{"ok    testdata/files/pass_test.yaml (2 tests)"}},
		{file: "fail_test.yaml", passed: 1, failed: 1, want: []string{
			"FAIL  testdata/files/fail_test.yaml:8: expects the wrong day",
			"testdata/files/fail_test.yaml:12: at day 7 (Sun 8 Nov 2026):",
			"expected:",
			"- {rule: read-rate-drop, template: T1, state: firing}",
			"got: no alerts",
			"testdata/files/fail_test.yaml:13: at day 8 (Mon 9 Nov 2026):",
			"expected: no alerts",
			"+ {rule: read-rate-drop, template: T1, language: en, state: firing} value 0.1053 baseline 0.6316 since day 8",
		}, not: []string{"passes"}},
		{file: "bad_test.yaml", passed: 1, failed: 4, want: []string{
			`bad_test.yaml:5:40: unknown field "dleivered" in series (did you mean "delivered"?)`,
			`bad_test.yaml:10:51: series T1/en: delivered has 8 periods but sent has 9`,
			`bad_test.yaml:15:40: sent: unexpected "y" after a value`,
			`bad_test.yaml:17:55: unknown field "stat" in alert (did you mean "state"?)`,
			`bad_test.yaml:25:51: series T1/en: period 2: sent is _ (no data) but delivered is 950`,
			`bad_test.yaml:26:51: series T2/en: period 2: clicks is 6 but its buttons add up to 5`,
		}},
		{file: "badrules_test.yaml", failed: 1, want: []string{
			"FAIL  testdata/files/badrules_test.yaml",
			"rule_files do not load",
			"missing.yaml:1:1: cannot read rules",
		}},
		{file: "nonexistent_test.yaml", failed: 1, want: []string{"FAIL  testdata/files/nonexistent_test.yaml: open"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var out strings.Builder
			rep := RunFiles([]string{filepath.Join("testdata/files", tc.file)}, &out, Options{})
			if rep.Passed != tc.passed || rep.Failed != tc.failed {
				t.Errorf("passed %d failed %d, want %d %d\n%s", rep.Passed, rep.Failed, tc.passed, tc.failed, out.String())
			}
			rest := out.String()
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Errorf("output lacks (in order) %q:\n%s", w, out.String())
					break
				}
				rest = rest[i+len(w):]
			}
			for _, n := range tc.not {
				if strings.Contains(out.String(), n) {
					t.Errorf("output has %q:\n%s", n, out.String())
				}
			}
		})
	}
}

// TestParseErrors: problems in a test file are reported at file:line:col.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"yaml syntax", "rule_files: [a\ntests: x", "x_test.yaml:2:1: invalid YAML: ',' or ']' must be specified"},
		{"not a mapping", "- 1", "x_test.yaml:1:1: top level: want a mapping"},
		{"unknown top field", "rule_files: [r.yaml]\ntest: []", `x_test.yaml:2:1: unknown field "test" at top level (did you mean "tests"?)`},
		{"no rule files", "tests: []", "x_test.yaml:1:1: missing rule_files"},
		{"empty", "", "x_test.yaml:1:1: empty test file"},
		{"tests not a list", "rule_files: [r.yaml]\ntests: {}", "x_test.yaml:2:8: tests: want a list of tests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ParseBytes("x_test.yaml", []byte(tc.src))
			if len(f.Diags) == 0 || !strings.Contains(f.Diags.Error(), tc.want) {
				t.Errorf("diags %v, want %q", f.Diags, tc.want)
			}
		})
	}
}

func TestParseTestErrors(t *testing.T) {
	head := "rule_files: [r.yaml]\ntests:\n  - name: t\n"
	for _, tc := range []struct {
		name, src, want string
	}{
		{"missing series", "    expect: [{at: day 1, alerts: []}]\n", "x_test.yaml:3:5: test \"t\": missing series"},
		{"missing sent", "    series: [{template: T}]\n    expect: [{at: day 1, alerts: []}]\n", "x_test.yaml:4:14: series T/en: missing sent"},
		{"duplicate series", "    series: [{template: T, sent: '1'}, {template: T, sent: '2'}]\n    expect: [{at: day 1, alerts: []}]\n", "series T/en given twice"},
		{"at beyond the series", "    series: [{template: T, sent: '1x3'}]\n    expect: [{at: day 4, alerts: []}]\n", `x_test.yaml:5:19: at "day 4": the series have only 3 periods`},
		{"at zero", "    series: [{template: T, sent: '1x3'}]\n    expect: [{at: day 0, alerts: []}]\n", "periods count from 1"},
		{"day at HALF_HOUR", "    granularity: HALF_HOUR\n    series: [{template: T, sent: '1x3'}]\n    expect: [{at: day 1, alerts: []}]\n", `"day N" is for DAILY tests`},
		{"bad state", "    series: [{template: T, sent: '1x3'}]\n    expect: [{at: day 1, alerts: [{state: fired}]}]\n", `state "fired": want firing or resolved`},
		{"bad value", "    series: [{template: T, sent: '1x3'}]\n    expect: [{at: day 1, alerts: [{value: lots}]}]\n", `value "lots": want a number`},
		{"bad start", "    start: monday\n    series: [{template: T, sent: '1x3'}]\n    expect: [{at: day 1, alerts: []}]\n", `start "monday": want an RFC 3339 time`},
		{"missing alerts", "    series: [{template: T, sent: '1x3'}]\n    expect: [{at: day 1}]\n", "write alerts: [] for none"},
		{"series a number", "    series: [{template: T, sent: [1, 2]}]\n    expect: [{at: day 1, alerts: []}]\n", `sent: want a series such as "1000x7 _ 900", got a list`},
		{"plain notation column", "    series: [{template: T, sent: 1x3 4z}]\n    expect: [{at: day 1, alerts: []}]\n", `x_test.yaml:4:39: sent: unexpected "z" after a value`},
		{"button without text", "    series: [{template: T, sent: '1', buttons: {'url:': '1'}}]\n    expect: [{at: day 1, alerts: []}]\n", `buttons: "url:" has no button text`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ParseBytes("x_test.yaml", []byte(head+tc.src))
			if len(f.Diags) > 0 {
				t.Fatalf("file diags: %v", f.Diags)
			}
			if len(f.Tests) != 1 {
				t.Fatalf("%d tests", len(f.Tests))
			}
			d := f.Tests[0].Diags
			if len(d) == 0 || !strings.Contains(d.Error(), tc.want) {
				t.Errorf("diags %q, want %q", d.Error(), tc.want)
			}
		})
	}
}

func TestSeriesBuild(t *testing.T) {
	src := `rule_files: [r.yaml]
tests:
  - name: t
    start: "2026-11-02T00:00:00+08:00"
    series:
      - {template: T, language: id, sent: "10 _ 12", delivered: "9 _ 11", read: "5 _ 6",
         buttons: {"url:Shop now": "2 _ _", "Yes": "1 _ 3", "phone:Call": "0 _ 1"}}
    expect:
      - {at: "day 3", alerts: []}
`
	f := ParseBytes("x_test.yaml", []byte(src))
	if len(f.Diags) > 0 || len(f.Tests) != 1 || len(f.Tests[0].Diags) > 0 {
		t.Fatalf("diags %v %v", f.Diags, f.Tests)
	}
	tt := f.Tests[0]
	if tt.Periods != 3 || len(tt.Series) != 1 {
		t.Fatalf("periods %d series %d", tt.Periods, len(tt.Series))
	}
	s := tt.Series[0]
	if s.Key.Template != "T" || s.Key.Language != "id" || len(s.Periods) != 2 {
		t.Fatalf("series %+v", s)
	}
	p0, p1 := s.Periods[0], s.Periods[1]
	if p0.Sent != 10 || p0.Delivered != 9 || p0.Read != 5 || p0.Clicks != 3 || len(p0.Buttons) != 3 {
		t.Errorf("period 1: %+v", p0)
	}
	if p0.Buttons[0].Type != "url_button" || p0.Buttons[0].Text != "Shop now" || p0.Buttons[1].Type != "quick_reply_button" || p0.Buttons[2].Type != "phone_number_button" {
		t.Errorf("buttons: %+v", p0.Buttons)
	}
	if !p1.Start.Equal(tt.Start.AddDate(0, 0, 2)) || p1.Clicks != 4 || len(p1.Buttons) != 2 {
		t.Errorf("period 3: %+v (the URL button is left out, as the API does)", p1)
	}
}

func TestApprox(t *testing.T) {
	for _, tc := range []struct {
		s    string
		x    float64
		want bool
	}{
		{"0.63", 0.6316, true}, {"0.63", 0.636, false}, {"63%", 0.6316, true}, {"63.2%", 0.6316, true},
		{"63.2%", 0.6306, false}, {"1,200", 1200.4, true}, {"1200", 1201, false}, {"0", 0, true},
	} {
		a, err := parseApprox(tc.s)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.match(tc.x); got != tc.want {
			t.Errorf("%q matches %v = %v", tc.s, tc.x, got)
		}
	}
}

// TestParseHostile: test files get the rule files' limits (yamldiag).
func TestParseHostile(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"100,000 nested [", "rule_files: [r.yaml]\ntests: " + strings.Repeat("[", 100_000), "x_test.yaml:2:72: nested more than 64 levels deep"},
		{"too big", "rule_files: [r.yaml]\n" + strings.Repeat("# padding padding padding padding padding\n", 30_000), "x_test.yaml:1:1: file is 1260021 bytes, more than the 262144 bytes a file may have"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := ParseBytes("x_test.yaml", []byte(tc.src))
			if got := f.Diags.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
