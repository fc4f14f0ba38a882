package monitor

import (
	"context"
	"time"
)

// Run is one cycle at evaluation time at: fetch and evaluate until a
// reserve before ctx's deadline, then decide and deliver with the rest.
func Run(ctx context.Context, d *Deps, dl *Delivery, at time.Time) (*Summary, error) {
	reserve := 30 * time.Second
	if deadline, ok := ctx.Deadline(); ok {
		reserve = min(reserve, time.Until(deadline)/4)
	}
	ev := Evaluate(ctx, d, Options{At: at, Reserve: reserve})
	// Delivery may use the rest of the run's deadline (a DingTalk 130101
	// asks for a minute's wait), less a margin to save the ledger and return
	// before FC stops the instance; and it gets the reserve even when
	// fetching used up the budget.
	deliverFor := max(reserve, 10*time.Second)
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		deliverFor = max(deliverFor, left-min(5*time.Second, left/10))
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deliverFor)
	defer cancel()
	return Deliver(dctx, ev, dl, time.Now())
}
