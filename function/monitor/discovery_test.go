package monitor

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams"
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
