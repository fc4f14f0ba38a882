package cams

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manual clock; its sleep advances it.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	slept  []time.Duration
	cancel bool // sleep fails as if ctx ended
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cancel {
		return context.Canceled
	}
	c.slept = append(c.slept, d)
	c.t = c.t.Add(d)
	return nil
}

func TestLimiterPacing(t *testing.T) {
	for _, tc := range []struct {
		qps  int
		want time.Duration // spacing between reservations made at one instant
	}{
		{qps: 10, want: 100 * time.Millisecond},
		{qps: 40, want: 25 * time.Millisecond},
		{qps: 1, want: time.Second},
		{qps: 0, want: time.Second}, // clamped to 1
	} {
		clk := newFakeClock()
		l := newLimiter(tc.qps, clk.now, clk.sleep)
		for i := 0; i < 5; i++ {
			got := l.reserve()
			want := time.Duration(i) * tc.want
			if diff := got - want; diff < -time.Microsecond || diff > time.Microsecond {
				t.Errorf("qps %d: reservation %d waits %v, want %v", tc.qps, i, got, want)
			}
		}
	}
}

func TestLimiterRefillCapsAtBurst(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(10, clk.now, clk.sleep)
	if d := l.reserve(); d != 0 {
		t.Fatalf("first call waits %v", d)
	}
	clk.advance(time.Hour) // idle for long: only one token accumulates
	if d := l.reserve(); d != 0 {
		t.Fatalf("after idle, first call waits %v", d)
	}
	if d := l.reserve(); d < 99*time.Millisecond || d > 101*time.Millisecond {
		t.Fatalf("second call after idle waits %v, want 100ms (burst 1)", d)
	}
}

func TestLimiterWaitSleepsAndHonoursContext(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(10, clk.now, clk.sleep)
	ctx := context.Background()
	start := clk.now()
	for i := 0; i < 11; i++ {
		if err := l.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk.now().Sub(start); got < 999*time.Millisecond || got > 1001*time.Millisecond {
		t.Fatalf("11 calls at 10 qps took %v of fake time, want 1s", got)
	}

	// A deadline before our turn: fail at once without sleeping, and give
	// the token back.
	l.reserve() // someone else took the next slot
	dctx, cancel := context.WithDeadline(ctx, clk.now().Add(50*time.Millisecond))
	defer cancel()
	n := len(clk.slept)
	if err := l.Wait(dctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait with short deadline = %v", err)
	}
	if len(clk.slept) != n {
		t.Fatal("Wait slept although the deadline came first")
	}
	clk.advance(200 * time.Millisecond)
	if d := l.reserve(); d != 0 {
		t.Fatalf("token not given back: next call waits %v", d)
	}

	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	if err := l.Wait(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with canceled ctx = %v", err)
	}
	clk.cancel = true
	l.reserve() // the next slot is taken: Wait must sleep
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait interrupted while sleeping = %v", err)
	}
}

func TestLimiterAdaptive(t *testing.T) {
	clk := newFakeClock()
	l := newLimiter(40, clk.now, clk.sleep)
	steps := []struct {
		name    string
		advance time.Duration
		throttl bool
		want    float64
	}{
		{"budget", 0, false, 40},
		{"throttled halves", 0, true, 20},
		{"volley within a second counts once", 300 * time.Millisecond, true, 20},
		// 1.3s after the first halving: one recovery step (+4) then halved.
		{"after cooldown halves again", time.Second, true, 12},
		{"recovers additively, 4/s (budget/10)", time.Second, false, 16},
		{"keeps recovering", 2 * time.Second, false, 24},
		{"not beyond the budget", time.Minute, false, 40},
	}
	for _, s := range steps {
		clk.advance(s.advance)
		if s.throttl {
			l.Throttled()
		}
		if got := l.Rate(); got != s.want {
			t.Fatalf("%s: rate %v, want %v", s.name, got, s.want)
		}
	}
	// Floor of 1 call per second.
	l2 := newLimiter(3, clk.now, clk.sleep)
	for i := 0; i < 6; i++ {
		l2.Throttled()
		if r := l2.Rate(); r < 1 {
			t.Fatalf("rate fell to %v", r)
		}
		clk.advance(1100 * time.Millisecond)
	}
	l1 := newLimiter(1, clk.now, clk.sleep)
	l1.Throttled()
	if r := l1.Rate(); r != 1 {
		t.Fatalf("rate at floor = %v, want 1", r)
	}
	// While throttled the spacing follows the lower rate.
	l3 := newLimiter(10, clk.now, clk.sleep)
	l3.Throttled()
	l3.reserve()
	if d := l3.reserve(); d < 399*time.Millisecond || d > 401*time.Millisecond {
		// tokens drained to 0 by Throttled; two calls at 5/s: 200ms, 400ms
		t.Fatalf("after throttling, second call waits %v, want 400ms", d)
	}
}

// TestLimiterConcurrent checks the limiter under real goroutines (run with
// -race). It asserts only a lower bound on wall time, which cannot flake.
func TestLimiterConcurrent(t *testing.T) {
	l := NewLimiter(50)
	var wg sync.WaitGroup
	start := time.Now()
	const n = 26
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if el := time.Since(start); el < 450*time.Millisecond {
		t.Fatalf("%d calls at 50 qps took %v, want >= 500ms", n, el)
	}
}
