package monitor

// Benchmarks of the fetch and evaluate stage (`make bench`):
//
//   - BenchmarkFetchRate: 2,000 templates against camstest enforcing 50 QPS
//     with 40 ms per call, CAMS_QPS=50, with and without 20% of calls
//     throttled at random. ok/qps is successful template fetches per second
//     ÷ 50, req/qps is requests per second ÷ 50 (throttled ones included),
//     ok/ceiling is ok/qps ÷ the share of calls the server lets through
//     (1, or 0.8 with 20% throttled at random whatever the pace), lost is
//     templates not checked, min-limit/qps the lowest the adaptive limiter
//     went.
//   - BenchmarkEvaluateMemory: peak heap in use during Evaluate over 1,000
//     and 10,000 sim-generated templates (server in a separate process, so
//     that only the function's own memory is measured).

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/cams/camstest"
	"github.com/cams-alert/cams-alert/function/rules"
	"github.com/cams-alert/cams-alert/function/sim"
)

const (
	benchQPS     = 50 // the API's limit, and CAMS_QPS
	benchLatency = 40 * time.Millisecond
	benchRateN   = 2000 // templates of the rate benchmark
)

// BenchmarkFetchRate measures the fetch rate against the API's limit.
func BenchmarkFetchRate(b *testing.B) {
	for _, tc := range []struct {
		name     string
		throttle float64
	}{
		{"throttle=0", 0},
		{"throttle=20%", 0.2},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				r := runRate(b, benchRateN, tc.throttle)
				b.ReportMetric(r.ok/benchQPS, "ok/qps")
				// With a share of calls throttled at random whatever the
				// pace, at most (1-share)·50 fetches a second can succeed.
				b.ReportMetric(r.ok/benchQPS/(1-tc.throttle), "ok/ceiling")
				b.ReportMetric(r.req/benchQPS, "req/qps")
				b.ReportMetric(float64(r.lost), "lost")
				b.ReportMetric(r.throttledShare*100, "throttled-%")
				b.ReportMetric(float64(r.retries), "retries")
				b.ReportMetric(r.elapsed.Seconds(), "s/run")
				b.ReportMetric(r.minRate/benchQPS, "min-limit/qps")
				b.ReportMetric(r.meanRate/benchQPS, "mean-limit/qps")
			}
		})
	}
}

type rateResult struct {
	ok, req        float64 // per second
	lost           int
	throttledShare float64
	retries        int64
	elapsed        time.Duration
	// The limiter's lowest and mean rate over the run.
	minRate, meanRate float64
}

func runRate(b *testing.B, n int, throttle float64) rateResult {
	b.Helper()
	srv := camstest.New(b, camstest.WithQPS(benchQPS), camstest.WithLatency(benchLatency),
		camstest.WithThrottle(throttle), camstest.WithSeed(7))
	ds := simData(n)
	srv.SetSeries(ds.Series...)
	codes := codesOf(ds)
	ds = nil
	set := loadRules(b)
	c := newClient(b, srv, benchQPS, nil)
	d := &Deps{Source: c, Rules: set, Templates: codes, Location: simLoc, Workers: 2 * benchQPS}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The limiter's rate, sampled: how far it backed off, and for how long.
	var minRate, rateSum, rateN float64 = benchQPS, 0, 0
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r := c.Limiter().Rate()
				minRate, rateSum, rateN = min(minRate, r), rateSum+r, rateN+1
			}
		}
	}()
	start := time.Now()
	ev := Evaluate(ctx, d, Options{At: simAt, Reserve: 30 * time.Second})
	el := time.Since(start)
	close(stop)
	<-sampled
	for _, e := range ev.Errors {
		b.Errorf("template lost: %s", e)
	}
	if ev.Templates != n {
		b.Errorf("checked %d of %d templates", ev.Templates, n)
	}
	req := srv.Requests()
	return rateResult{
		ok: float64(ev.Templates) / el.Seconds(), req: float64(req) / el.Seconds(),
		lost: n - ev.Templates, throttledShare: float64(srv.Throttled()) / float64(max(1, req)),
		retries: ev.Retries, elapsed: el, minRate: minRate, meanRate: rateSum / max(1, rateN),
	}
}

// BenchmarkEvaluateMemory measures peak heap in use during Evaluate at 1,000
// and 10,000 templates, and what Evaluate keeps (its results). The two are
// compared at equal work: one run of 10,000 templates against ten runs of
// 1,000, each side's figure being the highest heap in use it reached. (A
// peak is an extreme: a run ten times longer goes through ten times more
// garbage collection cycles, and so meets a higher one by chance alone. At
// equal work, only a dependence on the number of templates in one run
// separates the two.) heap-cycle-10k/1k compares the median over cycles of
// each cycle's peak instead: a steadier view of the same question.
func BenchmarkEvaluateMemory(b *testing.B) {
	const small, large = 1000, 10000
	servers := map[int]string{}
	codes := map[int][]string{}
	for _, n := range []int{small, large} {
		servers[n] = startServerProcess(b, n)
		codes[n] = codesOf(simData(n))
	}
	for b.Loop() {
		var runs []memResult
		for i := range large / small {
			if i == large/small/2 {
				runs = append(runs, runMemory(b, servers[large], codes[large]))
			}
			runs = append(runs, runMemory(b, servers[small], codes[small]))
		}
		var peak, cycle, rss, lost = map[int]float64{}, map[int][]float64{}, 0.0, 0
		var retained, perSecond float64
		for _, r := range runs {
			peak[r.n] = max(peak[r.n], r.peak)
			cycle[r.n] = append(cycle[r.n], r.typical)
			rss = max(rss, r.rss)
			lost += r.lost
			if r.n == large {
				retained, perSecond = r.retainedPerTemplate, r.perSecond
			}
		}
		b.ReportMetric(peak[small]/(1<<20), "heap-1k-MiB")
		b.ReportMetric(peak[large]/(1<<20), "heap-10k-MiB")
		b.ReportMetric(max(peak[small], peak[large])/(1<<20), "heap-max-MiB")
		b.ReportMetric(peak[large]/peak[small], "heap-10k/1k")
		b.ReportMetric(median(cycle[large])/median(cycle[small]), "heap-cycle-10k/1k")
		b.ReportMetric(rss/(1<<20), "rss-max-MiB")
		b.ReportMetric(retained, "retained-B/template")
		b.ReportMetric(perSecond, "templates/s")
		b.ReportMetric(float64(lost), "lost")
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

type memResult struct {
	n                   int
	peak, rss           float64 // bytes
	typical             float64 // median over GC cycles of the cycle's peak heap in use
	retainedPerTemplate float64 // heap kept after Evaluate (its results), per template
	perSecond           float64
	lost                int
}

// runMemory evaluates codes served by the camstest process at url.
func runMemory(b testing.TB, url string, codes []string) memResult {
	b.Helper()
	n := len(codes)
	set := loadRules(b)
	// The API's limit would make 10,000 templates take 200 s: the client is
	// paced far above it (the server enforces nothing), with the workers
	// of CAMS_QPS=50 (all of them in flight at once: a worst case).
	c := newClient(b, url, benchQPS, cams.NewLimiter(1_000_000))
	defer c.Close()
	d := &Deps{Source: c, Rules: set, Templates: codes, Location: simLoc, Workers: 2 * benchQPS}

	debug.FreeOSMemory() // what came before is garbage now: give it back
	before := heapInUse()
	gcBefore := readUint("/gc/cycles/total:gc-cycles")
	camstest.ResetPeakRSS()
	// The sampler keeps the highest heap in use of the whole run, and of
	// each garbage collection cycle (the heap a cycle grows to before the
	// next collection).
	var peak, peakLive uint64
	var cyclePeaks []float64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(500 * time.Microsecond)
		defer t.Stop()
		cycle, cyclePeak := readUint("/gc/cycles/total:gc-cycles"), uint64(0)
		for {
			h := heapInUse()
			peak = max(peak, h)
			peakLive = max(peakLive, readUint("/gc/heap/live:bytes"))
			if c := readUint("/gc/cycles/total:gc-cycles"); c != cycle {
				if cyclePeak > 0 {
					cyclePeaks = append(cyclePeaks, float64(cyclePeak))
				}
				cycle, cyclePeak = c, 0
			}
			cyclePeak = max(cyclePeak, h)
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	start := time.Now()
	ev := Evaluate(context.Background(), d, Options{At: simAt})
	el := time.Since(start)
	close(stop)
	wg.Wait()
	for _, e := range ev.Errors {
		b.Errorf("template lost: %s", e)
	}
	rss := camstest.PeakRSS()
	c.Close() // its connection pool is not Evaluate's: measure what Evaluate kept
	runtime.GC()
	runtime.GC()
	after := heapInUse()
	runtime.KeepAlive(ev)
	retained := float64(after) - float64(before)
	typical := 0.0
	if len(cyclePeaks) > 0 {
		typical = median(cyclePeaks)
	}
	b.Logf("%5d templates: %3d results, peak heap in use %.1f MiB (median cycle %.1f MiB), peak live heap %.1f MiB, "+
		"peak RSS %.1f MiB, retained %.0f B/template, %d GCs, %.1fs",
		n, len(ev.Results), float64(peak)/(1<<20), typical/(1<<20), float64(peakLive)/(1<<20), rss/(1<<20),
		retained/float64(n), readUint("/gc/cycles/total:gc-cycles")-gcBefore, el.Seconds())
	return memResult{n: n, peak: float64(peak), typical: typical, rss: rss, retainedPerTemplate: retained / float64(n),
		perSecond: float64(n) / el.Seconds(), lost: n - ev.Templates}
}

var heapSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
}

// heapInUse is runtime.MemStats.HeapInuse, read without stopping the world.
func heapInUse() uint64 {
	s := make([]metrics.Sample, len(heapSamples))
	copy(s, heapSamples)
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}

func readUint(name string) uint64 {
	s := []metrics.Sample{{Name: name}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// serverProcessEnv makes the test binary a camstest server for
// BenchmarkEvaluateMemory (the helper-process pattern): its value is the
// number of sim templates to serve.
const serverProcessEnv = "CAMS_ALERT_BENCH_SERVER"

// TestBenchServerProcess is not a test: it is the server process of
// BenchmarkEvaluateMemory, and skips unless started by it.
func TestBenchServerProcess(t *testing.T) {
	v := os.Getenv(serverProcessEnv)
	if v == "" {
		t.Skip("helper process of BenchmarkEvaluateMemory")
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatal(err)
	}
	srv := camstest.New(t)
	srv.SetSeries(simData(n).Series...)
	fmt.Println(srv.URL())
	_, _ = io.Copy(io.Discard, os.Stdin) // serve until the benchmark closes stdin
}

func startServerProcess(b testing.TB, n int) string { return startServerProcessT(b, n) }

func startServerProcessT(b testing.TB, n int) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchServerProcess$", "-test.bench=^$", "-test.count=1")
	cmd.Env = append(os.Environ(), serverProcessEnv+"="+strconv.Itoa(n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		b.Fatalf("server process: %q, %v", line, err)
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	return strings.TrimSpace(line)
}

// Shared by the benchmarks and evaluate_test.go.

var (
	simLoc   = mustLoc("Asia/Shanghai")
	simStart = time.Date(2026, 10, 1, 0, 0, 0, 0, simLoc)
	simDays  = 40
	// simAt evaluates the last generated day.
	simAt = simStart.AddDate(0, 0, simDays).Add(9 * time.Hour)
)

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return l
}

func simData(n int) *sim.Dataset {
	return sim.Generate(1, sim.Options{Templates: n, Days: simDays, Start: simStart, IncidentShare: 0.05})
}

func codesOf(ds *sim.Dataset) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ds.Series {
		if !seen[s.Template] {
			seen[s.Template] = true
			out = append(out, s.Template)
		}
	}
	return out
}

func loadRules(tb testing.TB) *rules.Set {
	tb.Helper()
	set, err := rules.Load("../../rules", nil)
	if err != nil {
		tb.Fatal(err)
	}
	set.Location = simLoc
	return set
}

// newClient is a cams.Client for a camstest server (a *camstest.Server or
// its URL).
func newClient(tb testing.TB, srv any, qps int, lim *cams.Limiter) *cams.Client {
	tb.Helper()
	url, ok := srv.(string)
	if s, isSrv := srv.(*camstest.Server); isSrv {
		url, ok = s.URL(), true
	}
	if !ok {
		tb.Fatalf("newClient: %T", srv)
	}
	c, err := cams.New(cams.Options{Endpoint: url, AccessKeyID: camstest.AccessKeyID,
		AccessKeySecret: camstest.AccessKeySecret, QPS: qps, Limiter: lim})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
