package camstest

import (
	"os"
	"strconv"
	"strings"
)

// PeakRSS is this process's peak resident set (VmHWM) in bytes, 0 where the
// kernel does not say. The memory benchmarks report it beside the Go heap:
// it is what FC's memory limit sees.
func PeakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb * 1024
		}
	}
	return 0
}

// ResetPeakRSS starts a new peak for PeakRSS, where Linux allows it.
func ResetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }
