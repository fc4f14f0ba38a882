package metrics

import (
	"math"
	"strconv"
	"strings"
)

// The one rounding rule of each kind of number, used by every message, summary
// and report, so that one baseline never shows as 99.14 in one place and 99
// in another.

// Format renders v in metric's unit: a percentage for rates, a count
// otherwise.
func Format(metric string, v float64) string {
	if IsRate(metric) {
		return Percent(v)
	}
	return Count(v)
}

// Percent renders a fraction as a percentage with one decimal, two below 1%
// (click rates live there): 0.6182 → "61.8%", 0.0025 → "0.25%", 0 → "0%".
func Percent(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "n/a"
	}
	p := f * 100
	prec := 1
	if a := math.Abs(p); a < 1 {
		prec = 2
	}
	s := strconv.FormatFloat(p, 'f', prec, 64)
	if z, err := strconv.ParseFloat(s, 64); err == nil && z == 0 {
		return "0%"
	}
	return s + "%"
}

// Count renders a count with thousands separators. A fractional count (a
// baseline mean) keeps one decimal below 10 (4.5 clicks) and is rounded to a
// whole number above: 41.5 → "42", 1234.4 → "1,234".
func Count(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	if math.Abs(v) < 10 && v != math.Trunc(v) {
		s := strconv.FormatFloat(v, 'f', 1, 64)
		return strings.TrimSuffix(s, ".0")
	}
	return Thousands(int64(math.Round(v)))
}

// Thousands renders n with thousands separators: 1234567 → "1,234,567".
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Change renders the relative change of value against baseline with its
// sign: whole percents from 10% on, one decimal below (-87%, -4.2%, +0.1%),
// "±0%" when it rounds to nothing. ok is false without a usable baseline.
func Change(value, baseline float64) (s string, ok bool) {
	if baseline == 0 || math.IsNaN(baseline) || math.IsNaN(value) || math.IsInf(value, 0) || math.IsInf(baseline, 0) {
		return "", false
	}
	c := (value - baseline) / baseline * 100
	prec := 0
	if math.Abs(c) < 10 {
		prec = 1
	}
	s = strconv.FormatFloat(c, 'f', prec, 64)
	if z, _ := strconv.ParseFloat(s, 64); z == 0 {
		return "±0%", true
	}
	if c > 0 {
		s = "+" + s
	}
	return s + "%", true
}
