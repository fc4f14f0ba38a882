package rules

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// hostileInputs are small rule files that used to take the process down
// (CPU, memory, stack) or fail only at run time. Each must be refused at
// load with a positioned diagnostic. The benchmarks below give their cost.
func hostileInputs() []struct{ name, yaml, want string } {
	// merge keys that merge lists of merges: 50^4 pairs from 2 KB
	var fan strings.Builder
	fan.WriteString("rules:\n  - &a0 {name: a, condition: absent, severity: info, for: 1, repeat_every: 1h, send_resolved: true}\n")
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(&fan, "  - &a%d {<<: [%s]}\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 50), ", "))
	}
	fmt.Fprintf(&fan, "  - {<<: [%s], name: b}\n", strings.TrimSuffix(strings.Repeat("*a3, ", 50), ", "))
	// a billion laughs as a list of rules
	laughs := "rules:\n  - &r {name: a, condition: absent}\n  - &l1 [" + strings.TrimSuffix(strings.Repeat("*r, ", 100), ", ") + "]\n" +
		"  - &l2 [" + strings.TrimSuffix(strings.Repeat("*l1, ", 100), ", ") + "]\n" +
		"  - [" + strings.TrimSuffix(strings.Repeat("*l2, ", 100), ", ") + "]\n"
	return []struct{ name, yaml, want string }{
		{"merge-key fan-out", fan.String(), "f.yaml:5:25: aliases and merge keys expand the document to more than 100000 nodes"},
		{"alias fan-out", laughs, "f.yaml:5:11: aliases and merge keys expand the document to more than 100000 nodes"},
		{"100,000 nested [", "rules: " + strings.Repeat("[", 100_000), "f.yaml:1:72: nested more than 64 levels deep"},
		{"50,000 nested {", "rules:\n  - " + strings.Repeat("{a: ", 50_000), "f.yaml:2:261: nested more than 64 levels deep"},
		{"deep block nesting", "rules:\n" + deepBlock(100), "f.yaml:65:129: nested more than 64 levels deep"},
		{"200 KB expression", "rules:\n  - {name: a, expr: \"" + strings.Repeat("sent+", 40_000) + "1 > 0\"}\n", "f.yaml:2:21: rule a: expr: expression is 200005 bytes, more than the 4096 allowed"},
		{"1 MB expression", "rules:\n  - {name: a, expr: \"" + strings.Repeat("sent+", 200_000) + "1 > 0\"}\n", "f.yaml:1:1: file is 1000036 bytes, more than the 262144 bytes a file may have"},
		{"deep expression", "rules:\n  - {name: a, expr: \"" + strings.Repeat("(", 1000) + "sent" + strings.Repeat(")", 1000) + " > 0\"}\n", "f.yaml:2:21: rule a: expr: nested more than 64 levels deep (expression column 65)"},
		{"huge range", "rules:\n  - {name: a, expr: \"len(map(1..100000000, # * sent)) > 0\"}\n", "f.yaml:2:21: rule a: expr: range 1..100000000 has more than 1000 values (expression column 10)"},
		{"range to a variable", "rules:\n  - {name: a, expr: \"len(1..sent) > 0\"}\n", "f.yaml:2:21: rule a: expr: a range needs constant bounds, like 1..7 (expression column 6)"},
		{"repeat", "rules:\n  - {name: a, expr: \"len(repeat('x', sent * 1000000)) > 0\"}\n", "f.yaml:2:21: rule a: expr: repeat is not allowed in a rule expression (expression column 5)"},
		{"nested printf", "rules:\n  - {name: a, condition: absent, summary: '" + nestedPrintf(30) + "'}\n", `f.yaml:2:43: rule a: summary: 1:203: <printf "%s%s" $a $a>: error calling printf: printf: arguments longer than 2000 bytes`},
		{"wide printf", "rules:\n  - {name: a, condition: absent, summary: '{{printf \"%0999999999d\" 1}}'}\n", "f.yaml:2:43: rule a: summary: 1:2: <printf \"%0999999999d\" 1>: error calling printf: printf: width or precision 0999999999 is more than 2000"},
		{"star printf", "rules:\n  - {name: a, condition: absent, summary: '{{printf \"%*d\" 999999999 1}}'}\n", "f.yaml:2:43: rule a: summary: 1:2: <printf \"%*d\" 999999999 1>: error calling printf: printf: '*' widths are not allowed"},
		{"nested js", "rules:\n  - {name: a, condition: absent, summary: '" + "{{" + strings.Repeat("js (", 12) + "print \"\\\\\"" + strings.Repeat(")", 12) + "}}'}\n", "f.yaml:2:43: rule a: summary: 1:6: <js (js (js (js (js (js (js (js (js (js (js (print \"\\\\\")))))))))))>: error calling js: js: result longer than 2000 bytes"},
		{"long summary", "rules:\n  - {name: a, condition: absent, summary: '" + strings.Repeat("x", 5000) + "'}\n", "f.yaml:2:43: rule a: summary: summary is 5000 bytes, more than the 4000 allowed"},
	}
}

// nestedPrintf doubles a string n times through a variable: 30 steps are
// 300 bytes of template and, unbounded, 16 GB.
func nestedPrintf(n int) string {
	s := `{{$a := "xxxxxxxxxxxxxxxx"}}`
	for range n {
		s += `{{$a = printf "%s%s" $a $a}}`
	}
	return s + "{{$a}}"
}

func deepBlock(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", 2*i+2) + "- \n")
	}
	return b.String()
}

// TestHostileInputs: every hostile file is refused, at a position, without
// anything else breaking.
func TestHostileInputs(t *testing.T) {
	for _, tc := range hostileInputs() {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadBytes("f.yaml", []byte(tc.yaml), envOf(nil))
			var ds Diagnostics
			if !errors.As(err, &ds) || len(ds) == 0 {
				t.Fatalf("error %T %v, want Diagnostics", err, err)
			}
			if got := ds.Error(); !strings.Contains(got, tc.want) {
				t.Errorf("got  %.300s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestHostileFiles: only regular files of at most Limits.MaxBytes are read;
// a device or a FIFO is refused at once (reading /dev/zero never ends,
// opening a FIFO waits for a writer).
func TestHostileFiles(t *testing.T) {
	dir := t.TempDir()
	fifoDir := filepath.Join(dir, "fifo")
	bigDir := filepath.Join(dir, "big")
	for _, d := range []string{fifoDir, bigDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(fifoDir, "rules.yaml"), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	big := "rules:\n" + strings.Repeat("  # padding padding padding padding padding padding padding\n", 40_000)
	if err := os.WriteFile(filepath.Join(bigDir, "rules.yaml"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{"/dev/zero", "/dev/zero:1:1: not a regular file (a device): only plain files are read"},
		{fifoDir, fifoDir + "/rules.yaml:1:1: not a regular file (a FIFO): only plain files are read"},
		{bigDir, fmt.Sprintf("%s/rules.yaml:1:1: file is %d bytes, more than the 262144 bytes a file may have", bigDir, len(big))},
	} {
		_, err := Load(tc.path, envOf(nil))
		if err == nil || err.Error() != tc.want {
			t.Errorf("Load(%s) = %v\nwant %s", tc.path, err, tc.want)
		}
	}
}

// TestAtMobilesPositioned: a bad mention is a load error at the item, with
// one prefix and on one line (it used to surface at run time from the
// DingTalk notifier, unpositioned and prefixed twice).
func TestAtMobilesPositioned(t *testing.T) {
	src := "channels:\n  d:\n    type: dingtalk\n    webhook_url: https://oapi.dingtalk.com/robot/send?access_token=${TOK}\n" +
		"    at_mobiles: [\"13800000000\", \"${PHONE}\", \"call me\"]\n    at_user_ids: [\"ok_1\", \"not ok\"]\n"
	_, err := LoadBytes("f.yaml", []byte(src), envOf(map[string]string{"TOK": "tok", "PHONE": "+86-13900000000"}))
	want := "f.yaml:5:45: channel d: at_mobiles: item 3 is not a phone number (digits, optionally +country-)\n" +
		"f.yaml:6:27: channel d: at_user_ids: item 2 is not a user id"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// TestExprRuntimeError: an expression that fails when it runs is reported
// per rule and series, not silently never fired; a division by zero is an
// undefined period, not a failure.
func TestExprRuntimeError(t *testing.T) {
	s, err := LoadBytes("f.yaml", []byte("rules:\n  - {name: mod, expr: \"sent % (sent - sent) == 0\"}\n  - {name: div, expr: \"sent / (sent - sent) > 1\"}\n"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	ser := daily(rep(row{1000, 900, 500, 20}, 3))
	res, errs := s.EvaluateAll(ser, dayWindow(2))
	if len(res) != 0 || len(errs) != 1 {
		t.Fatalf("results %v errors %v, want one error", res, errs)
	}
	e := errs[0]
	if e.Rule.Name != "mod" || e.Key != ser.Key.String() || !strings.Contains(e.Error(), "rule mod (f.yaml:2): expr failed on T1/en: ") {
		t.Errorf("error %q (rule %s, key %s)", e, e.Rule.Name, e.Key)
	}
	if len(s.Evaluate(ser, dayWindow(2))) != 0 {
		t.Error("Evaluate fired")
	}
	_ = metrics.Daily
}

// BenchmarkHostile gives each hostile input's cost to load (time, bytes).
func BenchmarkHostile(b *testing.B) {
	for _, tc := range hostileInputs() {
		b.Run(strings.ReplaceAll(tc.name, " ", "_"), func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := LoadBytes("f.yaml", []byte(tc.yaml), envOf(nil)); err == nil {
					b.Fatal("loaded")
				}
			}
		})
	}
}

// TestManyProblemsCapped: a file of thousands of broken items lists the
// first problems and how many more, not every one.
func TestManyProblemsCapped(t *testing.T) {
	_, err := LoadBytes("f.yaml", []byte("rules: ["+strings.TrimSuffix(strings.Repeat("1, ", 5000), ", ")+"]\n"), envOf(nil))
	var ds Diagnostics
	if !errors.As(err, &ds) || len(ds) != MaxDiagnostics {
		t.Fatalf("%d diagnostics, want %d", len(ds), MaxDiagnostics)
	}
	if want := "f.yaml:1:306: and 4901 more problems (only the first 99 are listed)"; ds[len(ds)-1].String() != want {
		t.Errorf("last %q, want %q", ds[len(ds)-1], want)
	}
}
