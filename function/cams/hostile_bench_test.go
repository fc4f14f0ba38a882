package cams

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams/camstest"
)

// hostileCase is one hostile answer, served for every template of a run.
type hostileCase struct {
	name      string
	templates int // fetched at once, each by its own worker
	handler   func(tb testing.TB) camstest.Handler
	times     int    // answers of the handler per template (<0: all)
	code      string // the expected error code ("" = success after a retry)
	token     bool   // the server requires (and echoes) an STS token
	days      int    // the query's window (0: 10 days)
}

var hostileCases = []hostileCase{
	{name: "body=1GB-declared", templates: 1, times: -1, code: CodeTooLarge,
		handler: func(testing.TB) camstest.Handler { return camstest.HugeBody(1<<30, true) }},
	{name: "body=1GB-chunked", templates: 1, times: -1, code: CodeTooLarge,
		handler: func(testing.TB) camstest.Handler { return camstest.HugeBody(1<<30, false) }},
	{name: "buckets=1M", templates: 1, times: -1, code: CodeTooManyBuckets,
		handler: func(testing.TB) camstest.Handler { return camstest.ManyBuckets("T0", 1_000_000, 1, day0) }},
	// A window of four years allows the most buckets (46,848): the
	// decoder's worst case. The body limit stops it first, after about
	// 40,000 buckets (8 MiB).
	{name: "buckets=1M-4y-window", templates: 1, times: -1, code: CodeTooLarge, days: 4 * 365,
		handler: func(testing.TB) camstest.Handler { return camstest.ManyBuckets("T0", 1_000_000, 1, day0) }},
	// Buckets with 32 buttons each (WhatsApp allows 10; more rejects the
	// bucket), in the widest window: the cap on button counts stops them.
	{name: "buttons=32-per-bucket", templates: 1, times: -1, code: CodeTooManyBuckets, days: 4 * 365,
		handler: func(testing.TB) camstest.Handler { return camstest.ManyBuckets("T0", 1_000_000, 32, day0) }},
	{name: "buttons=32-minimal", templates: 1, times: -1, code: CodeTooManyBuckets, days: 4 * 365,
		handler: func(testing.TB) camstest.Handler { return minimalButtons }},
	{name: "buttons=32-minimal-x40", templates: 40, times: -1, code: CodeTooManyBuckets,
		handler: func(testing.TB) camstest.Handler { return minimalButtons }},
	{name: "buttons=1k-per-bucket", templates: 1, times: -1, code: CodeInvalidData,
		handler: func(testing.TB) camstest.Handler { return camstest.ManyBuckets("T0", 10, 1000, day0) }},
	{name: "dropped-mid-body", templates: 1, times: 1,
		handler: func(testing.TB) camstest.Handler {
			b := goodBody()
			return camstest.DropMidBody(b, len(b)/2, true)
		}},
	{name: "echoed-token", templates: 1, times: -1, code: "Echo.tok=[redacted] key=[redacted]", token: true,
		handler: func(testing.TB) camstest.Handler { return camstest.Echo(400) }},
	// A whole run's workers meeting 1 GB bodies at once: the body-read
	// slots bound what is held, whatever the concurrency.
	{name: "body=1GB-chunked-x40", templates: 40, times: -1, code: CodeTooLarge,
		handler: func(testing.TB) camstest.Handler { return camstest.HugeBody(1<<30, false) }},
	{name: "buckets=1M-x40", templates: 40, times: -1, code: CodeTooManyBuckets,
		handler: func(testing.TB) camstest.Handler { return camstest.ManyBuckets("T", 1_000_000, 1, day0) }},
}

// minimalButtons answers buckets of 32 buttons written as tightly as JSON
// allows: the most button counts a body can hold. The cap on button counts
// (two per bucket the window allows) stops it first.
func minimalButtons(w http.ResponseWriter, _ url.Values) {
	w.WriteHeader(200)
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	bw.WriteString(`{"Code":"OK","Data":[`)
	cl := strings.TrimSuffix(strings.Repeat(`{"Count":1},`, 32), ",")
	for i := 0; i < 1_000_000; i++ {
		if _, err := fmt.Fprintf(bw, `{"Start":%d,"Cliented":[%s]},`, day0.UnixMilli()+int64(i)*86_400_000, cl); err != nil {
			return
		}
	}
}

type hostileResult struct {
	peakHeap, peakRSS float64 // bytes
	elapsed           time.Duration
	requests          int64
	errs              []error
}

// runHostile fetches tc.templates templates at once from a server that
// answers each with tc's handler, and measures the highest heap in use
// (sampled every 200 µs) and the process's peak RSS (VmHWM, reset first).
func runHostile(tb testing.TB, tc hostileCase) hostileResult {
	opts := []camstest.Option{}
	keyID, secret, token := camstest.AccessKeyID, camstest.AccessKeySecret, ""
	if tc.token {
		keyID, secret, token = stsKeyID, stsSecret, stsToken
		opts = append(opts, camstest.WithCredentials(keyID, secret), camstest.WithSecurityToken(token))
	}
	srv := camstest.New(tb, opts...)
	codes := make([]string, tc.templates)
	for i := range codes {
		codes[i] = fmt.Sprintf("T%d", i)
		srv.SetMetrics(codes[i], buckets("en", 5, 100)...)
		srv.Handle(codes[i], tc.times, tc.handler(tb))
	}
	c, err := New(Options{Endpoint: srv.URL(), AccessKeyID: keyID, AccessKeySecret: secret, SecurityToken: token,
		QPS: 50, MaxRetries: 1, ReadTimeout: 10 * time.Second, Limiter: NewLimiter(1_000_000)})
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	c.sleep = func(ctx context.Context, d time.Duration) error { return ctx.Err() }

	debug.FreeOSMemory()
	camstest.ResetPeakRSS()
	var peak uint64
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			peak = max(peak, heapInUse())
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	start := time.Now()
	res := hostileResult{errs: make([]error, len(codes))}
	var wg sync.WaitGroup
	for i, code := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q := query(code)
			if tc.days > 0 {
				q.Start = q.End.AddDate(0, 0, -tc.days)
			}
			_, res.errs[i] = c.Metrics(context.Background(), q)
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	close(stop)
	sampler.Wait()
	res.peakHeap, res.peakRSS, res.requests = float64(peak), camstest.PeakRSS(), srv.Requests()
	return res
}

var heapSamples = []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}

func heapInUse() uint64 {
	s := make([]rtmetrics.Sample, len(heapSamples))
	copy(s, heapSamples)
	rtmetrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

func (tc hostileCase) check(tb testing.TB, r hostileResult) {
	tb.Helper()
	for i, err := range r.errs {
		if tc.code == "" {
			if err != nil {
				tb.Fatalf("template %d: %v", i, err)
			}
			continue
		}
		if ae := asAPIErrorTB(tb, err); !strings.HasPrefix(ae.Code, tc.code) {
			tb.Fatalf("template %d: %v, want %s", i, err, tc.code)
		}
		for _, secret := range []string{stsToken, stsKeyID, stsSecret, camstest.AccessKeySecret} {
			if msg := fmt.Sprintf("%v %#v", err, err); strings.Contains(msg, secret) {
				tb.Fatalf("template %d: error leaks a secret: %s", i, msg)
			}
		}
	}
}

func asAPIErrorTB(tb testing.TB, err error) *APIError {
	tb.Helper()
	ae, ok := err.(*APIError)
	if !ok {
		tb.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	return ae
}

// BenchmarkHostile: peak heap, peak RSS and time of each hostile answer (a
// 1 GB body, a million buckets, a connection dropped mid-body, a server
// echoing the STS token), for one template and for 40 at once.
func BenchmarkHostile(b *testing.B) {
	for _, tc := range hostileCases {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				r := runHostile(b, tc)
				tc.check(b, r)
				b.ReportMetric(r.peakHeap/(1<<20), "peak-heap-MiB")
				b.ReportMetric(r.peakRSS/(1<<20), "peak-rss-MiB")
				b.ReportMetric(float64(r.elapsed.Microseconds())/1000, "ms")
				b.ReportMetric(float64(r.requests), "requests")
			}
		})
	}
}

// TestHostileMemory: no hostile answer, even met by 40 workers at once,
// makes the heap grow past 128 MiB (FC gives the function 512 MB).
func TestHostileMemory(t *testing.T) {
	const limit = 128 << 20
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			r := runHostile(t, tc)
			tc.check(t, r)
			if r.peakHeap > limit {
				t.Fatalf("peak heap %.0f MiB > %d MiB", r.peakHeap/(1<<20), limit>>20)
			}
		})
	}
}
