package cams

import (
	"context"
	"math"
	"sync"
	"time"
)

// Limiter is a token bucket shared by every goroutine that calls one API
// through a Client. It paces calls at its current rate (burst 1, so calls are
// spread evenly over each second rather than bunched at its start). The rate
// adapts: Throttled halves it (floor 1 per second, at most once per second so
// that a volley of throttled in-flight calls counts once), and every second
// without throttling it grows back by a tenth of the budget (at least 1) until
// it reaches the budget again.
type Limiter struct {
	mu       sync.Mutex
	budget   float64 // configured calls per second
	rate     float64 // current calls per second
	step     float64 // additive recovery per second
	tokens   float64 // may go negative: calls reserved for the future
	last     time.Time
	adjusted time.Time // last rate change (halving or recovery)
	throttle time.Time // last halving

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

const (
	limiterBurst    = 1.0
	recoverInterval = time.Second
	halvingCooldown = time.Second
)

// NewLimiter returns a limiter at qps calls per second (minimum 1).
func NewLimiter(qps int) *Limiter {
	return newLimiter(qps, time.Now, sleepCtx)
}

func newLimiter(qps int, now func() time.Time, sleep func(context.Context, time.Duration) error) *Limiter {
	if qps < 1 {
		qps = 1
	}
	b := float64(qps)
	t := now()
	return &Limiter{budget: b, rate: b, step: math.Max(1, b/10), tokens: limiterBurst,
		last: t, adjusted: t, now: now, sleep: sleep}
}

// advance refills tokens and recovers the rate up to t. Callers hold mu.
func (l *Limiter) advance(t time.Time) {
	if t.Before(l.last) {
		t = l.last // a clock that went back refills nothing
	}
	// Recover the rate in whole intervals, refilling tokens at the rate
	// that was in force during each part of the elapsed time.
	for l.rate < l.budget && !t.Before(l.adjusted.Add(recoverInterval)) {
		next := l.adjusted.Add(recoverInterval)
		if next.After(l.last) {
			l.tokens = math.Min(limiterBurst, l.tokens+next.Sub(l.last).Seconds()*l.rate)
			l.last = next
		}
		l.rate = math.Min(l.budget, l.rate+l.step)
		l.adjusted = next
	}
	if l.rate >= l.budget {
		l.adjusted = t
	}
	l.tokens = math.Min(limiterBurst, l.tokens+t.Sub(l.last).Seconds()*l.rate)
	l.last = t
}

// reserve takes one token and returns how long the caller must wait before
// using it.
func (l *Limiter) reserve() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(l.now())
	l.tokens--
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(math.Ceil(-l.tokens / l.rate * float64(time.Second)))
}

// cancel gives back a token that a caller reserved but will not use.
func (l *Limiter) cancel() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokens = math.Min(limiterBurst, l.tokens+1)
}

// Wait blocks until a call may be made. It returns ctx's error at once when
// ctx is done, or when ctx's deadline comes before the call's turn.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d := l.reserve()
	if d <= 0 {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok && l.now().Add(d).After(dl) {
		l.cancel()
		return context.DeadlineExceeded
	}
	if err := l.sleep(ctx, d); err != nil {
		l.cancel()
		return err
	}
	return nil
}

// Throttled tells the limiter that the API refused a call for flow control.
func (l *Limiter) Throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.advance(t)
	if !l.throttle.IsZero() && t.Sub(l.throttle) < halvingCooldown {
		return
	}
	l.throttle = t
	l.rate = math.Max(1, l.rate/2)
	l.adjusted = t
	if l.tokens > 0 {
		l.tokens = 0
	}
}

// Rate returns the current rate in calls per second.
func (l *Limiter) Rate() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(l.now())
	return l.rate
}

// Budget returns the configured rate.
func (l *Limiter) Budget() float64 { return l.budget }

func sleepCtx(ctx context.Context, d time.Duration) error {
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
