package ruletest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParseSeries(t *testing.T) {
	const G = Gap
	for _, tc := range []struct {
		in   string
		want []int64
	}{
		{"600", []int64{600}},
		{"0", []int64{0}},
		{"600x3", []int64{600, 600, 600}},
		{"600x7 100 600", []int64{600, 600, 600, 600, 600, 600, 600, 100, 600}},
		{"_", []int64{G}},
		{"_x3 5", []int64{G, G, G, 5}},
		{"100+10x5", []int64{100, 110, 120, 130, 140}},
		{"30-10x4", []int64{30, 20, 10, 0}},
		{"(1 _)x2 3", []int64{1, G, 1, G, 3}},
		{"((1)x2 _)x2", []int64{1, 1, G, 1, 1, G}},
		{"(5)", []int64{5}},
		{"  1,2 ,3\t4 ", []int64{1, 2, 3, 4}},
		{"1X2", []int64{1, 1}},
	} {
		got, err := ParseSeries(tc.in)
		if err != nil {
			t.Errorf("ParseSeries(%q): %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSeries(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseSeriesErrors(t *testing.T) {
	for _, tc := range []struct {
		in, msg string
		pos     int
	}{
		{"", "empty series", 0},
		{"   ", "empty series", 0},
		{"600y7", `unexpected "y7" after a value`, 3},
		{"600x", "want a repeat count", 3},
		{"600x0", "at least 1", 3},
		{"1.5", "whole numbers", 0},
		{"-5", "negative value", 0},
		{"abc", `unexpected "abc"`, 0},
		{"100+10", "needs a count", 0},
		{"100+x5", "want a step", 4},
		{"10-5x4", "goes below 0 at its 4th value", 0},
		{"(1 2", "unclosed group", 0},
		{"1 2)", "no group to close", 3},
		{"()x3", "empty group", 0},
		{"1x100001", "more than 100000 periods", 0},
		{"(1x1000)x1000", "more than 100000 periods", 0},
		{"99999999999999999999", "too large", 0},
		{"((((((((((1))))))))))", "nested more than 8 deep", 8},
		{"1__", "after a value", 1},
		{"5(1)", `after a value`, 1},
	} {
		_, err := ParseSeries(tc.in)
		var se *SeriesError
		if !errors.As(err, &se) {
			t.Errorf("ParseSeries(%q): err %v, want a *SeriesError", tc.in, err)
			continue
		}
		if !strings.Contains(se.Msg, tc.msg) || se.Pos != tc.pos {
			t.Errorf("ParseSeries(%q) = %q at %d, want %q at %d", tc.in, se.Msg, se.Pos, tc.msg, tc.pos)
		}
	}
}

// FuzzSeries: no input panics; every rejection is a *SeriesError naming the
// problem at a position inside the text; every accepted series is non-empty,
// bounded, and made of counts and gaps only.
func FuzzSeries(f *testing.F) {
	for _, s := range []string{"600x7 100 600", "_x3", "100+10x5", "(900x5 _x2)x4", "10-5x3", "1,2,3", "((1)x2)x3", "(", ")", "1x", "+", "x9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		vals, err := ParseSeries(s)
		if err != nil {
			var se *SeriesError
			if !errors.As(err, &se) || se.Msg == "" || se.Pos < 0 || se.Pos > len(s) {
				t.Fatalf("ParseSeries(%q): bad error %#v", s, err)
			}
			return
		}
		if len(vals) == 0 || len(vals) > MaxPeriods {
			t.Fatalf("ParseSeries(%q): %d periods", s, len(vals))
		}
		for _, v := range vals {
			if v != Gap && (v < 0 || v > MaxValue) {
				t.Fatalf("ParseSeries(%q): value %d", s, v)
			}
		}
	})
}
