package monitor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/metrics"
	"github.com/cams-alert/cams-alert/function/rules"
)

// A budget that runs out while the templates are still being listed must say
// so plainly and still name the period the run judged.
func TestBudgetExhaustedDuringDiscovery(t *testing.T) {
	set, err := rules.Load("../../rules", nil)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, loc)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	ev := Evaluate(ctx, &Deps{Source: &cams.Replay{Dir: "../../testdata/sample"}, Rules: set, Location: loc},
		Options{At: at})
	if len(ev.Errors) != 1 || ev.Errors[0].Code != Unchecked {
		t.Fatalf("errors = %+v, want one %s", ev.Errors, Unchecked)
	}
	if msg := ev.Errors[0].Message; !strings.Contains(msg, "ListChatappTemplate") || !strings.Contains(msg, "budget") {
		t.Errorf("message %q does not say the listing ran out of budget", msg)
	}
	want := time.Date(2026, 11, 23, 0, 0, 0, 0, loc)
	if !ev.Period.Start.Equal(want) || !ev.Period.End.Equal(want.AddDate(0, 0, 1)) {
		t.Errorf("period = %v – %v, want the day of %v", ev.Period.Start, ev.Period.End, want)
	}
}

// Discover names the templates it returns, configured ones too; a replay
// without templates.json knows no names, and says nothing about it.
func TestDiscoverNames(t *testing.T) {
	bare := t.TempDir()
	body, err := os.ReadFile("../../testdata/sample/1100SHOP0001.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bare, "1100SHOP0001.json"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name       string
		dir        string
		configured []string
		wantCount  int
		wantName   string // of 1100SHOP0001 in en
	}{
		{"discovered", "../../testdata/sample", nil, 7, "black_friday_shop_now"},
		{"configured", "../../testdata/sample", []string{"1100SHOP0001"}, 1, "black_friday_shop_now"},
		{"no names recorded", bare, nil, 1, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, names, err := Discover(context.Background(), &cams.Replay{Dir: tc.dir}, tc.configured)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.wantCount {
				t.Errorf("%d templates, want %d", len(got), tc.wantCount)
			}
			k := metrics.Key{Template: "1100SHOP0001", Language: "en"}
			if n := names.Name(k); n != tc.wantName {
				t.Errorf("name %q, want %q", n, tc.wantName)
			}
		})
	}
}
