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
)

func TestRender(t *testing.T) {
	loc, _ := time.LoadLocation("Asia/Shanghai")
	start := time.Date(2026, 11, 23, 0, 0, 0, 0, loc)
	d := &notify.Digest{Title: "cams-alert: 1 firing, 1 resolved", PeriodStart: start, PeriodEnd: start.AddDate(0, 0, 1), Location: loc,
		Items: []alert.Item{
			{Rule: "zero-clicks", Template: "T2", Language: "es", Button: "Shop now", Severity: "warning", State: alert.Resolved,
				Metric: "clicks", Value: 37, Baseline: 41.5, HasBaseline: true, Volume: 18230, Duration: 50 * time.Hour},
			{Rule: "read-rate-drop", Template: "T1", Language: "en", Severity: "critical", State: alert.Firing, Metric: "read_rate",
				IsRate: true, Value: 0.081, Baseline: 0.612, HasBaseline: true, Volume: 12480, Trend: "▇▇▁", Since: start},
		},
		Health: []alert.Problem{{Template: "T9", Code: "Ram.PermissionDeny", Message: "denied"}, {Code: "NoData", Message: "none"}},
	}
	var buf bytes.Buffer
	if err := New("ops", &buf, &sync.Mutex{}).Notify(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"would send to ops: cams-alert: 1 firing, 1 resolved",
		"period 2026-11-23 00:00 CST → 2026-11-24 00:00 CST",
		"read_rate 8.1% · baseline 61.2% · change -86.8% · volume 12,480 · trend ▇▇▁",
		`T2 (es) button "Shop now"`, "lasted 2d2h",
		"! T9: Ram.PermissionDeny denied", "! monitor: NoData none",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Most severe first, whatever the input order.
	if strings.Index(out, "[CRITICAL]") > strings.Index(out, "[WARNING]") {
		t.Errorf("critical is not first:\n%s", out)
	}
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		rate bool
		want string
	}{{0.1234, true, "12.3%"}, {1234567, false, "1,234,567"}, {-1500, false, "-1,500"}, {0, false, "0"}} {
		if got := Format(tc.v, tc.rate); got != tc.want {
			t.Errorf("Format(%v, %v) = %q, want %q", tc.v, tc.rate, got, tc.want)
		}
	}
}
