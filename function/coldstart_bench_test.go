package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams/camstest"
)

// coldStartRuns is how many fresh processes BenchmarkColdStart starts.
const coldStartRuns = 7

// BenchmarkColdStart builds dist/main the way `make build` does
// (linux/amd64, CGO off, -trimpath -ldflags "-s -w"), reports its size, and
// times a fresh process from its start to the first API request it makes
// (config, rules, client: everything before fetching), against camstest
// serving the bundled sample.
func BenchmarkColdStart(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "main")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		var firsts []time.Duration
		for range coldStartRuns {
			firsts = append(firsts, coldStart(b, bin))
		}
		sort.Slice(firsts, func(i, j int) bool { return firsts[i] < firsts[j] })
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(ms(firsts[len(firsts)/2]), "first-request-ms")
		b.ReportMetric(ms(firsts[len(firsts)-1]), "first-request-max-ms")
		b.ReportMetric(float64(fi.Size())/(1<<20), "binary-MiB")
		b.ReportMetric(float64(fi.Size())/1e6, "binary-MB")
	}
}

// coldStart runs `main run --dry-run --json` once and returns the time from
// starting the process to the first request the server received.
func coldStart(b *testing.B, bin string) time.Duration {
	b.Helper()
	srv := camstest.New(b)
	defer srv.Close()
	if err := srv.LoadDir("../testdata/sample"); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--dry-run", "--json", "--at", "2026-11-24T09:00:00+08:00")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + b.TempDir(),
		"ALIBABA_CLOUD_ACCESS_KEY_ID=" + camstest.AccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + camstest.AccessKeySecret,
		"CAMS_ENDPOINT=" + srv.URL(),
		"RULES_PATH=../rules",
		"STATE_DIR=" + b.TempDir(),
		"TIMEZONE=Asia/Shanghai",
	}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() > 1 {
			b.Fatalf("run: %v\n%s", err, out)
		}
	}
	log := srv.Log()
	if len(log) == 0 {
		b.Fatalf("the binary made no API request\n%s", out)
	}
	return log[0].Time.Sub(start)
}
