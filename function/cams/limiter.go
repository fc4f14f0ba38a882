package cams

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/cams-alert/cams-alert/function/pause"
)

// Limiter is a token bucket shared by every goroutine that calls one API
// through a Client. It paces calls at its current rate (burst 1, so calls are
// spread evenly over each second rather than bunched at its start).
//
// The rate adapts to the API's flow control. Throttled halves it (floor 1 per
// second, at most once per second so that a volley of throttled in-flight
// calls counts once) when throttling is what most recent calls get: at least
// half of the calls of about the last second (a lone call that is throttled
// is half of one). Scattered throttles among calls that mostly succeed, which
// an API shared with other callers or a gateway that sheds load at random
// produces, do not slow it down: backing off would not make them go away, it
// would only lose the budget (the throttled calls are retried, paced by the
// limiter like any other). Every second without a halving the rate grows back
// by a tenth of the budget (at least 1) until it reaches the budget again.
// A halving also cancels the turns already handed out at the old rate: the
// callers waiting for them take a new turn at the new rate, so that the back
// off takes effect at once however many callers are queued.
type Limiter struct {
	mu       sync.Mutex
	budget   float64 // configured calls per second
	rate     float64 // current calls per second
	step     float64 // additive recovery per second
	tokens   float64 // may go negative: calls reserved for the future
	last     time.Time
	adjusted time.Time // last rate change (halving or recovery)
	throttle time.Time // last halving
	epoch    uint64    // halvings so far; a turn taken in an older epoch is void

	// Calls made and throttled over about the last second, decayed
	// exponentially (time constant shareWindow) from counted.
	calls, throttles float64
	counted          time.Time

	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

const (
	limiterBurst    = 1.0
	recoverInterval = time.Second
	halvingCooldown = time.Second
	// throttleShare is the share of recent calls that must be throttled
	// before the rate is halved; shareWindow is how recent.
	throttleShare = 0.5
	shareWindow   = time.Second
)

// NewLimiter returns a limiter at qps calls per second (minimum 1).
func NewLimiter(qps int) *Limiter {
	return newLimiter(qps, time.Now, pause.For)
}

func newLimiter(qps int, now func() time.Time, sleep func(context.Context, time.Duration) error) *Limiter {
	if qps < 1 {
		qps = 1
	}
	b := float64(qps)
	t := now()
	return &Limiter{budget: b, rate: b, step: math.Max(1, b/10), tokens: limiterBurst,
		last: t, adjusted: t, counted: t, now: now, sleep: sleep}
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

// decay ages the recent call and throttle counts to t. Callers hold mu.
func (l *Limiter) decay(t time.Time) {
	if dt := t.Sub(l.counted); dt > 0 {
		f := math.Exp(-dt.Seconds() / shareWindow.Seconds())
		l.calls *= f
		l.throttles *= f
		l.counted = t
	}
}

// reserve takes one token and returns how long the caller must wait before
// using it.
func (l *Limiter) reserve() time.Duration {
	d, _ := l.turn()
	return d
}

// turn takes one token and returns how long the caller must wait before
// using it, and the epoch the turn belongs to.
func (l *Limiter) turn() (time.Duration, uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.advance(l.now())
	l.tokens--
	if l.tokens >= 0 {
		return 0, l.epoch
	}
	return time.Duration(math.Ceil(-l.tokens / l.rate * float64(time.Second))), l.epoch
}

// cancel gives back a token that a caller reserved in epoch but will not use
// (a halving since then already voided it).
func (l *Limiter) cancel(epoch uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if epoch == l.epoch {
		l.tokens = math.Min(limiterBurst, l.tokens+1)
	}
}

// granted counts a call made in epoch, and reports false when a halving
// voided its turn while the caller waited.
func (l *Limiter) granted(epoch uint64) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if epoch != l.epoch {
		return false
	}
	l.decay(l.now())
	l.calls++
	return true
}

// Wait blocks until a call may be made. It returns ctx's error at once when
// ctx is done, or when ctx's deadline comes before the call's turn.
func (l *Limiter) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		d, epoch := l.turn()
		if d > 0 {
			if dl, ok := ctx.Deadline(); ok && l.now().Add(d).After(dl) {
				l.cancel(epoch)
				return context.DeadlineExceeded
			}
			if err := l.sleep(ctx, d); err != nil {
				l.cancel(epoch)
				return err
			}
		}
		if l.granted(epoch) {
			return nil
		}
		// The rate was halved while we waited: take a turn at the new rate.
	}
}

// Throttled tells the limiter that the API refused a call for flow control.
// It halves the rate when throttling has become the rule rather than the
// exception (see Limiter).
func (l *Limiter) Throttled() {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.advance(t)
	l.decay(t)
	l.throttles++
	// Of the recent calls (at least the throttled ones, plus one unknown:
	// a lone throttled call is half of what we know), how many were
	// throttled.
	if l.throttles < throttleShare*(math.Max(l.calls, l.throttles)+1) {
		return
	}
	if !l.throttle.IsZero() && t.Sub(l.throttle) < halvingCooldown {
		return
	}
	l.throttle = t
	l.rate = math.Max(1, l.rate/2)
	l.adjusted = t
	// Turns handed out at the old rate are void: their callers take new
	// ones, spaced at the new rate.
	l.tokens = 0
	l.epoch++
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
