package monitor

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/cams/camstest"
)

// evalServer serves n sim templates.
func evalServer(t *testing.T, n int, opts ...camstest.Option) (*camstest.Server, []string) {
	t.Helper()
	srv := camstest.New(t, opts...)
	ds := simData(n)
	srv.SetSeries(ds.Series...)
	return srv, codesOf(ds)
}

func evaluate(t *testing.T, ctx context.Context, src cams.Source, codes []string, workers int, opt Options) *Evaluation {
	t.Helper()
	if opt.At.IsZero() {
		opt.At = simAt
	}
	ev := Evaluate(ctx, &Deps{Source: src, Rules: loadRules(t), Templates: codes, Location: simLoc, Workers: workers}, opt)
	return ev
}

// sequential is the reference: one template after the other.
func sequential(t *testing.T, n int) *Evaluation {
	t.Helper()
	srv, codes := evalServer(t, n)
	c := newClient(t, srv, 50, cams.NewLimiter(100000))
	defer c.Close()
	return evaluate(t, context.Background(), c, codes, 1, Options{})
}

func sameEvaluation(t *testing.T, got, want *Evaluation) {
	t.Helper()
	if got.Templates != want.Templates || got.Empty != want.Empty || got.Period != want.Period {
		t.Errorf("templates %d empty %d period %v; sequentially %d %d %v",
			got.Templates, got.Empty, got.Period, want.Templates, want.Empty, want.Period)
	}
	if len(got.Results) != len(want.Results) {
		t.Fatalf("%d results, sequentially %d", len(got.Results), len(want.Results))
	}
	for i := range got.Results {
		if !reflect.DeepEqual(got.Results[i], want.Results[i]) {
			t.Fatalf("result %d:\n got %+v\nwant %+v", i, got.Results[i], want.Results[i])
		}
	}
}

func TestEvaluateConcurrentSameAsSequential(t *testing.T) {
	const n = 300
	want := sequential(t, n)
	if len(want.Results) == 0 || want.Templates != n || len(want.Errors) != 0 {
		t.Fatalf("reference run: %d results, %d templates, errors %v", len(want.Results), want.Templates, want.Errors)
	}
	srv, codes := evalServer(t, n)
	c := newClient(t, srv, 50, cams.NewLimiter(100000))
	defer c.Close()
	got := evaluate(t, context.Background(), c, codes, 64, Options{})
	if len(got.Errors) != 0 {
		t.Fatalf("errors: %v", got.Errors)
	}
	sameEvaluation(t, got, want)
}

func TestEvaluateLosesNoTemplateUnderThrottling(t *testing.T) {
	const n = 200
	want := sequential(t, n)
	srv, codes := evalServer(t, n, camstest.WithThrottle(0.2), camstest.WithSeed(3))
	// 200 per second: fast, and throttling (not the pace) is what is tested.
	lim := cams.NewLimiter(200)
	c := newClient(t, srv, 50, lim)
	defer c.Close()
	got := evaluate(t, context.Background(), c, codes, 32, Options{})
	if len(got.Errors) != 0 {
		t.Fatalf("%d templates lost to throttling, e.g. %v", len(got.Errors), got.Errors[0])
	}
	if srv.Throttled() < n/10 {
		t.Fatalf("server throttled only %d calls", srv.Throttled())
	}
	calls, retries := c.Stats()
	// Beside the n metric calls, the names are listed (50 templates a page).
	pages := int64((n + 49) / 50)
	if retries != srv.Throttled() || calls != int64(n)+pages+retries {
		t.Fatalf("calls %d retries %d, server throttled %d", calls, retries, srv.Throttled())
	}
	// Scattered throttles are retried at the budget, not backed off from.
	if r := lim.Rate(); r < 100 {
		t.Errorf("limiter at %.0f/s after 20%% random throttling, budget 200", r)
	}
	sameEvaluation(t, got, want)
}

func TestEvaluateBudgetReportsUnchecked(t *testing.T) {
	const n = 120
	// 20 calls a second, 50 ms each: 120 templates need 6 s. The run has
	// 1.5 s, 0.5 s of which is kept back for delivery: about 20 get checked.
	srv, codes := evalServer(t, n, camstest.WithLatency(50*time.Millisecond))
	c := newClient(t, srv, 20, nil)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	ev := evaluate(t, ctx, c, codes, 40, Options{Reserve: 500 * time.Millisecond})
	el := time.Since(start)
	if el > 1200*time.Millisecond {
		t.Errorf("fetching took %v: it should stop at the deadline less the reserve (1s)", el)
	}
	if ev.Templates == 0 || ev.Templates >= n {
		t.Fatalf("%d of %d templates checked", ev.Templates, n)
	}
	seen := map[string]bool{}
	for _, e := range ev.Errors {
		if e.Code != Unchecked {
			t.Errorf("error %v: want code %s", e, Unchecked)
		}
		if seen[e.Template] {
			t.Errorf("template %s reported twice", e.Template)
		}
		seen[e.Template] = true
	}
	if ev.Templates+len(ev.Errors) != n {
		t.Fatalf("%d checked + %d unchecked != %d templates: some were dropped", ev.Templates, len(ev.Errors), n)
	}
	// Every template the server answered was counted as checked, and no
	// unchecked one was answered.
	answered := map[string]bool{}
	for _, r := range srv.Log() {
		answered[r.Template] = true
	}
	for code := range seen {
		if answered[code] && !inFlightAtDeadline(srv, code, start.Add(time.Second)) {
			t.Errorf("template %s was fetched but reported unchecked", code)
		}
	}
}

// inFlightAtDeadline reports whether code's request reached the server
// within a call's latency of the fetch deadline (it may have been cut off).
func inFlightAtDeadline(srv *camstest.Server, code string, deadline time.Time) bool {
	for _, r := range srv.Log() {
		if r.Template == code && r.Time.After(deadline.Add(-100*time.Millisecond)) {
			return true
		}
	}
	return false
}

func TestEvaluateCallsInFlightAtTheDeadlineAreUnchecked(t *testing.T) {
	// Every call takes 3 s; the fetch budget is 0.5 s.
	srv, codes := evalServer(t, 5, camstest.WithLatency(3*time.Second))
	c := newClient(t, srv, 50, nil)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	ev := evaluate(t, ctx, c, codes, 8, Options{Reserve: 500 * time.Millisecond})
	if el := time.Since(start); el > 800*time.Millisecond {
		t.Errorf("Evaluate took %v, fetch budget 0.5s", el)
	}
	if ev.Templates != 0 || len(ev.Errors) != 5 {
		t.Fatalf("%d checked, errors %v", ev.Templates, ev.Errors)
	}
	for _, e := range ev.Errors {
		if e.Code != Unchecked {
			t.Errorf("error %v: want code %s", e, Unchecked)
		}
	}
}

func TestEvaluateCanceledReportsTheRest(t *testing.T) {
	srv, codes := evalServer(t, 50, camstest.WithLatency(20*time.Millisecond))
	c := newClient(t, srv, 20, nil)
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	ev := evaluate(t, ctx, c, codes, 10, Options{Reserve: time.Second})
	if ev.Templates+len(ev.Errors) != 50 || len(ev.Errors) == 0 {
		t.Fatalf("%d checked, %d errors", ev.Templates, len(ev.Errors))
	}
	for _, e := range ev.Errors {
		if e.Code != Unchecked {
			t.Errorf("error %v: want code %s", e, Unchecked)
		}
	}
}

func TestEvaluatePermanentErrorsAreNotUnchecked(t *testing.T) {
	srv, codes := evalServer(t, 10)
	srv.Fail(codes[3], 400, "Ram.PermissionDeny", "You are not authorized to perform the operation.")
	c := newClient(t, srv, 50, nil)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ev := evaluate(t, ctx, c, codes, 4, Options{Reserve: time.Second})
	if ev.Templates != 9 || len(ev.Errors) != 1 || ev.Errors[0].Code != cams.CodePermissionDenied || ev.Errors[0].Template != codes[3] {
		t.Fatalf("%d checked, errors %v", ev.Templates, ev.Errors)
	}
}

// TestEvaluateBacksOffWhenThrottlingIsTheRule: the account's real limit is
// far below CAMS_QPS (another caller uses it up): most calls are throttled,
// so the limiter backs off, and every template is still checked.
func TestEvaluateBacksOffWhenThrottlingIsTheRule(t *testing.T) {
	const n = 24
	srv, codes := evalServer(t, n, camstest.WithQPS(8))
	c := newClient(t, srv, 40, nil)
	defer c.Close()
	lowest := 40.0
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				lowest = min(lowest, c.Limiter().Rate())
			}
		}
	}()
	ev := evaluate(t, context.Background(), c, codes, 80, Options{})
	close(done)
	<-sampled
	if ev.Templates != n || len(ev.Errors) != 0 {
		t.Fatalf("%d of %d checked, errors %v", ev.Templates, n, ev.Errors)
	}
	t.Logf("lowest rate %.1f/s, %d calls throttled", lowest, srv.Throttled())
	if lowest > 20 {
		t.Errorf("limiter stayed at %.0f/s or more against a server allowing 8/s", lowest)
	}
	// Backing off keeps the refused calls to a fraction of a pace that
	// ignored the throttling (40/s against 8/s: 4 refused per success).
	if th := srv.Throttled(); th > 2*n {
		t.Errorf("%d calls throttled for %d templates", th, n)
	}
}
