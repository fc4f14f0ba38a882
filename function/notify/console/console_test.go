package console

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/locale"
)

func TestRender(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, loc)
	d := &notify.Digest{PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 1), Location: loc,
		Items: []alert.Item{
			{Rule: "zero-clicks", Template: "T2", Language: "es", Button: "Shop now", Severity: "warning", State: alert.Resolved,
				Condition: "zero", Metric: "clicks", Value: 37, Baseline: 41.5, HasBaseline: true, Volume: 18230, Duration: 50 * time.Hour},
			{Rule: "read-rate-drop", Template: "T1", TemplateName: "Spring sale", Language: "en", Severity: "critical", State: alert.Firing,
				Condition: "drop", Metric: "read_rate", IsRate: true, Value: 0.081, Baseline: 0.612, HasBaseline: true, Volume: 12480,
				Recent: []float64{0.6, 0.61, 0.081}, Since: start},
		},
		Health: []alert.Problem{{Template: "T9", Code: "Ram.PermissionDeny", Message: "denied"}, {Code: "NoData", Message: "none"},
			{Template: "T8", TemplateName: "summer_sale", Code: "Throttling.User", Message: "slow down"}},
	}
	for _, tc := range []struct {
		tag  string
		want []string
	}{
		{"en", []string{
			"[push] Spring sale (en): read rate fell to 8.1% (+1 more)",
			"cams-alert · 1 alert, 1 resolved, 3 monitor problems",
			"Period: Mon 23 Nov (Asia/Shanghai)",
			"Spring sale · T1 · en\n  [Critical] read rate fell to 8.1%, usually 61.2% (-87%) · 12,480 delivered",
			"Trend 60.0% → 61.0% → 8.1% · rule read-rate-drop",
			"[Resolved] button “Shop now”: 37 clicks again, usually 42 · 18,230 delivered",
			"lasted 2 days 2 hours",
			"! template T9 could not be checked: Ram.PermissionDeny — denied", "! monitor problem: NoData — none",
			"! template summer_sale · T8 could not be checked: Throttling.User — slow down",
		}},
		{"zh-CN", []string{
			"[push] Spring sale (en)：阅读率降至 8.1%（另有 1 条）",
			"统计周期：11月23日 周一（北京时间）",
			"[严重] 阅读率降至 8.1%，平时 61.2%（-87%） · 送达 12,480 条",
			"[已恢复] 按钮“Shop now”：点击量已恢复至 37，平时 42",
			"持续 2 天 2 小时",
			"! 模板 T9 未能检查：Ram.PermissionDeny — denied",
			"! 模板 summer_sale · T8 未能检查：Throttling.User — slow down",
		}},
	} {
		var buf bytes.Buffer
		n := New("ops", &buf, &sync.Mutex{})
		n.Locale = locale.Get(tc.tag)
		if err := n.Notify(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		if !strings.Contains(out, "would send to ops") {
			t.Errorf("%s: no channel heading:\n%s", tc.tag, out)
		}
		for _, want := range tc.want {
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", tc.tag, want, out)
			}
		}
		// Most severe first, whatever the input order.
		if strings.Index(out, "T1") > strings.Index(out, "T2") {
			t.Errorf("%s: critical is not first:\n%s", tc.tag, out)
		}
	}
}

// A preview renders the digest as the platform will instead.
func TestPreview(t *testing.T) {
	var buf bytes.Buffer
	n := New("ops", &buf, nil)
	n.Preview = func(*notify.Digest) string { return "as the platform shows it\n" }
	if err := n.Notify(context.Background(), &notify.Digest{}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(buf.String(), "as the platform shows it\n") {
		t.Errorf("preview not used:\n%s", buf.String())
	}
}
