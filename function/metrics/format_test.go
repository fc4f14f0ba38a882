package metrics

import (
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	change := func(v, b float64) string {
		s, ok := Change(v, b)
		if !ok {
			return "none"
		}
		return s
	}
	for _, tc := range []struct{ got, want string }{
		{Format(ReadRate, 0.6182), "61.8%"},
		{Format(ReadRate, 0.9914), "99.1%"},
		{Format(ClickRate, 0.0025), "0.25%"},
		{Format(ClickRate, 0.00001), "0%"},
		{Format(ReadRate, 0), "0%"},
		{Format(ReadRate, math.NaN()), "n/a"},
		{Format(Clicks, 41.5), "42"},
		{Format(Clicks, 4.5), "4.5"},
		{Format(Clicks, 4.0), "4"},
		{Format(Sent, 1498), "1,498"},
		{Format(Sent, -1234567), "-1,234,567"},
		{change(0.081, 0.612), "-87%"},
		{change(0.9906, 0.9914), "-0.1%"},
		{change(1.042, 1), "+4.2%"},
		{change(1.00001, 1), "±0%"},
		{change(1, 0), "none"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
