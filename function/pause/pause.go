// Package pause waits without outliving its context: the API limiter and
// retries (cams) and the channels' pacing and retries (notify) all stop
// waiting as soon as the run's deadline or cancellation says so.
package pause

import (
	"context"
	"time"
)

// For waits d, or less if ctx is done first: then it returns ctx's error. A
// d of zero or less does not wait but still reports a done ctx, so that a
// caller looping on For stops.
func For(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
