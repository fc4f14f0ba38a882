package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify/locale"
)

var day = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func one(it alert.Item) *Digest {
	return &Digest{PeriodStart: day, PeriodEnd: day.AddDate(0, 0, 1), Items: []alert.Item{it}}
}

// Each line is true for its state: what is wrong while firing, since when
// in a reminder, the value that resolved it once resolved, never the firing
// claim again; the metric's words, never its id.
func TestLineTrueForState(t *testing.T) {
	zero := alert.Item{Rule: "zero-clicks", Template: "T", Language: "en", Severity: "warning", Condition: "zero",
		Metric: "clicks", Value: 0, Baseline: 57.4, HasBaseline: true, Volume: 1368, Since: day}
	stopped := alert.Item{Rule: "stopped", Template: "T", Language: "en", Severity: "critical", Condition: "absent",
		Metric: "sent", Value: 0, Baseline: 1498, HasBaseline: true, Volume: 1498, Since: day}
	drop := alert.Item{Rule: "drop", Template: "T", Language: "en", Severity: "critical", Condition: "drop",
		Metric: "read_rate", IsRate: true, Value: 0.2461, Baseline: 0.6182, HasBaseline: true, Volume: 1368, Since: day}
	state := func(it alert.Item, st string, repeat bool, v float64) alert.Item {
		it.State, it.Repeat = st, repeat
		if repeat {
			it.Since = day.AddDate(0, 0, -2)
		}
		if st == alert.Resolved {
			it.Value, it.Duration = v, 48*time.Hour
		}
		return it
	}
	for _, tc := range []struct {
		name, tag string
		it        alert.Item
		want      string
		never     []string
	}{
		{"zero firing", "en", state(zero, alert.Firing, false, 0), "0 clicks, usually 57 · 1,368 delivered", nil},
		{"zero reminder", "en", state(zero, alert.Firing, true, 0), "no clicks since Sat 21 Nov, usually 57 · 1,368 delivered", nil},
		{"zero resolved", "en", state(zero, alert.Resolved, false, 59), "59 clicks again, usually 57 · 1,368 delivered", []string{"0 clicks"}},
		{"zero resolved zh", "zh-CN", state(zero, alert.Resolved, false, 59), "点击量已恢复至 59，平时 57 · 送达 1,368 条", []string{"为 0"}},
		{"stopped firing", "en", state(stopped, alert.Firing, false, 0), "no messages sent, usually 1,498 sent", []string{"sent 0", "volume"}},
		{"stopped reminder", "zh-CN", state(stopped, alert.Firing, true, 0), "自 11月21日 周六 起未发送任何消息，平时发送 1,498 条", nil},
		{"stopped resolved", "en", state(stopped, alert.Resolved, false, 1394), "sending again, 1,394 sent, usually 1,498 sent", []string{"no messages"}},
		{"drop firing", "en", state(drop, alert.Firing, false, 0), "read rate fell to 24.6%, usually 61.8% (-60%) · 1,368 delivered", []string{"read_rate"}},
		{"drop reminder", "en", state(drop, alert.Firing, true, 0), "read rate low since Sat 21 Nov, now 24.6%, usually 61.8% (-60%) · 1,368 delivered", nil},
		{"drop resolved", "en", state(drop, alert.Resolved, false, 0.5813), "read rate back to 58.1%, usually 61.8% · 1,368 delivered", []string{"fell", "-60%"}},
		{"drop firing zh", "zh-CN", state(drop, alert.Firing, false, 0), "阅读率降至 24.6%，平时 61.8%（-60%） · 送达 1,368 条", []string{"read"}},
		{"above firing", "en", alert.Item{Condition: "above", Metric: "sent", Value: 5000, Threshold: 4000, Volume: 5000, Severity: "info"},
			"sends 5,000, above the 4,000 limit · 5,000 sent", nil},
		{"old ledger item without condition", "en", alert.Item{Metric: "read_rate", IsRate: true, Value: 0.1, Baseline: 0.5, HasBaseline: true, Volume: 10},
			"read rate 10.0%, usually 50.0% (-80%) · 10 delivered", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Compose(one(tc.it), locale.Get(tc.tag))
			l := m.Groups[0].Lines[0]
			got := StripStrong(l.Text)
			if got != tc.want {
				t.Errorf("line %q, want %q", got, tc.want)
			}
			for _, n := range tc.never {
				if strings.Contains(got, n) || strings.Contains(l.Trend, n) {
					t.Errorf("line %q says %q", got, n)
				}
			}
		})
	}
}

// The push text names the most severe alert's template and what happened; a
// digest of resolutions alone names the first resolved template.
func TestPush(t *testing.T) {
	a := alert.Item{Rule: "r", Template: "T1", TemplateName: "Spring sale", Language: "en", Severity: "warning",
		State: alert.Firing, Condition: "drop", Metric: "click_rate", IsRate: true, Value: 0.01, Baseline: 0.02, HasBaseline: true, Volume: 5}
	b := a
	b.Template, b.TemplateName, b.Severity, b.Metric, b.Value, b.Baseline = "T2", "", "critical", "read_rate", 0.2, 0.6
	res := a
	res.State, res.Value = alert.Resolved, 0.02
	health := &Digest{Health: []alert.Problem{{Template: "T9", Code: "X"}}}
	for _, tc := range []struct {
		name string
		d    *Digest
		tag  string
		want string
	}{
		{"most severe first", &Digest{Items: []alert.Item{a, b}}, "en", "T2 (en): read rate fell to 20.0% (+1 more)"},
		{"named", &Digest{Items: []alert.Item{a}}, "en", "Spring sale (en): click rate fell to 1.0%"},
		{"resolved only", &Digest{Items: []alert.Item{res}}, "zh-CN", "Spring sale (en)：点击率已恢复至 2.0%"},
		{"health", health, "en", "Monitor health: 1 problem"},
		{"learning", &Digest{Learning: &Learning{Templates: 3}}, "zh-CN", "cams-alert 已开始监控 3 个模板"},
	} {
		if got := Compose(tc.d, locale.Get(tc.tag)).Push; got != tc.want {
			t.Errorf("%s: push %q, want %q", tc.name, got, tc.want)
		}
	}
}

// Alerts of one template (code and language) share one heading, the group
// with the most severe alert first; the name stands beside the code.
func TestGroups(t *testing.T) {
	mk := func(tpl, lang, sev, name string, vol int64) alert.Item {
		return alert.Item{Rule: sev, Template: tpl, TemplateName: name, Language: lang, Severity: sev, State: alert.Firing, Volume: vol}
	}
	d := &Digest{Items: []alert.Item{mk("A", "en", "info", "", 900), mk("B", "en", "warning", "Promo", 10),
		mk("A", "en", "critical", "Launch", 5), mk("A", "es", "warning", "Launch", 5)}}
	m := Compose(d, nil)
	var got []string
	id := func(s string) string { return s }
	for _, g := range m.Groups {
		got = append(got, fmt.Sprintf("%s:%d", g.Heading(id, func(s string) string { return "*" + s + "*" }), len(g.Lines)))
	}
	want := "*Launch* · A · en:2 | *Promo* · B · en:1 | *Launch* · A · es:1"
	if strings.Join(got, " | ") != want {
		t.Errorf("groups %q, want %q", strings.Join(got, " | "), want)
	}
}

func TestLearningNote(t *testing.T) {
	for _, tc := range []struct {
		l    Learning
		tag  string
		want string
	}{
		{Learning{Templates: 12, From: day.AddDate(0, 0, 7)}, "en", "Watching 12 templates. The rules can judge them from Mon 30 Nov; until then no alert can fire."},
		{Learning{Templates: 12, From: day.AddDate(0, 0, 7)}, "zh-CN", "已开始监控 12 个模板，规则将于 11月30日 周一 起开始判断；在此之前不会发出告警。"},
		{Learning{Templates: 1, From: day}, "en", "Watching 1 template; the rules can judge it now."},
		{Learning{Templates: 2}, "en", "Watching 2 templates. The rules are still learning what is usual; no alert can fire before they have enough history."},
	} {
		d := &Digest{PeriodStart: day, PeriodEnd: day.AddDate(0, 0, 1), Learning: &tc.l}
		if got := Compose(d, locale.Get(tc.tag)).Hello; got != tc.want {
			t.Errorf("%+v %s: %q, want %q", tc.l, tc.tag, got, tc.want)
		}
	}
}

func TestSplit(t *testing.T) {
	sizes := []int{3, 3, 3, 5, 1}
	unit := func(n int) Unit { return Unit{Size: n, Items: 1} }
	for _, tc := range []struct {
		budget, max int
		want        string
		more        int
	}{
		{6, 0, "[3 3] [3] [5 1]", 0},
		{6, 2, "[3 3] [3]", 2},
		{4, 0, "[3] [3] [3] [5] [1]", 0},
		{100, 1, "[3 3 3 5 1]", 0},
	} {
		parts, more, _ := Split(sizes, unit, tc.budget, tc.max)
		if got := fmt.Sprint(parts); got != "["+tc.want+"]" || more != tc.more {
			t.Errorf("budget %d max %d: %s (+%d), want [%s] (+%d)", tc.budget, tc.max, got, more, tc.want, tc.more)
		}
	}
	if parts, _, _ := Split([]int(nil), unit, 5, 3); len(parts) != 1 {
		t.Errorf("no pieces: %d parts, want 1 (empty)", len(parts))
	}
}

// A retry of a digest resends only the parts that were not delivered, and
// the error names the part and stays retryable.
func TestDeliverResumes(t *testing.T) {
	var p Progress
	d := &Digest{}
	parts := [][]byte{[]byte("1"), []byte("2"), []byte("3")}
	var sent []int
	fail := true
	post := func(_ context.Context, i int) error {
		if i == 1 && fail {
			fail = false
			return Retryable(errors.New("HTTP 503"), time.Second)
		}
		sent = append(sent, i)
		return nil
	}
	err := p.Deliver(context.Background(), &Pacer{}, d, parts, post)
	if ok, after := IsRetryable(err); !ok || after != time.Second || !strings.Contains(err.Error(), "part 2/3 (parts 1-1 delivered): HTTP 503") {
		t.Fatalf("err = %v (retryable %v after %v)", err, ok, after)
	}
	if err := p.Deliver(context.Background(), &Pacer{}, d, parts, post); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sent) != "[0 1 2]" {
		t.Errorf("sent %v, want [0 1 2]", sent)
	}
}

// A health line is true for what happened: a warning says the template was
// checked, an error that it was not; a fold line counts the rest in the
// channel's own words.
func TestProblemText(t *testing.T) {
	warn := alert.Problem{Template: "1100B", TemplateName: "burst", Code: "Response.SpanMismatch", Message: "3 buckets dropped", Warning: true}
	denied := alert.Problem{Template: "1100A", Code: "Ram.PermissionDeny", Message: "denied"}
	cases := []struct {
		tag  string
		p    alert.Problem
		want string
	}{
		{"en", warn, "template burst · 1100B was checked, with a warning: Response.SpanMismatch — 3 buckets dropped"},
		{"zh-CN", warn, "模板 burst · 1100B 已检查，但有警告：Response.SpanMismatch — 3 buckets dropped"},
		{"en", denied, "template 1100A could not be checked: Ram.PermissionDeny — denied"},
		{"zh-CN", denied, "模板 1100A 未能检查：Ram.PermissionDeny — denied"},
		{"en", alert.Problem{Code: "Unchecked", More: 2490},
			"and 2490 more templates not checked for the same reason (Unchecked; all are listed in the run summary's errors)"},
		{"en", alert.Problem{Code: "Response.SpanMismatch", More: 1, Warning: true},
			"and 1 more template checked with the same warning (Response.SpanMismatch; all are listed in the run summary's errors)"},
		{"zh-CN", alert.Problem{Code: "Unchecked", More: 5},
			"另有 5 个模板因同样原因（Unchecked）未能检查，完整列表见运行摘要的 errors"},
		{"zh-CN", alert.Problem{Code: "Response.SpanMismatch", More: 5, Warning: true},
			"另有 5 个模板已检查，但有同样的警告（Response.SpanMismatch），完整列表见运行摘要的 errors"},
	}
	for _, tc := range cases {
		if got := ProblemText(locale.Get(tc.tag), tc.p); got != tc.want {
			t.Errorf("%s %+v:\n got %q\nwant %q", tc.tag, tc.p, got, tc.want)
		}
	}
}
