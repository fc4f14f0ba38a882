package ruletest

import (
	"fmt"
	"strconv"
)

// Gap marks a period with no data in a parsed series: the bucket is absent.
const Gap int64 = -1

// Limits of the series notation, so that a typo such as "1x99999999" is an
// error rather than a memory blow-up.
const (
	MaxPeriods  = 100_000           // periods in one series
	MaxValue    = 1_000_000_000_000 // largest count
	maxNesting  = 8                 // nested ( ) groups
	maxNumDigit = 15
)

// SeriesError is a rejected series: Msg names the problem, Pos is the byte
// offset in the text where it was found.
type SeriesError struct {
	Pos int
	Msg string
}

func (e *SeriesError) Error() string { return e.Msg }

// ParseSeries expands the series notation into one value per period, oldest
// first; Gap marks a period with no data. The notation is a list of items
// separated by spaces (or commas):
//
//	600        one period with 600
//	600x7      600 in 7 periods
//	_          a period with no data (the bucket is absent); _x3 is three
//	100+10x5   a ramp: 100 110 120 130 140 (100-10x5 ramps down)
//	(900x5 _x2)x4
//	           a group repeated: four weeks of a weekday sender
//
// Counts are whole numbers from 0 to 10^12.
func ParseSeries(s string) ([]int64, error) {
	p := &parser{s: s}
	out, err := p.list(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.s) { // a stray ')'
		return nil, p.errf(p.pos, "unexpected %q: no group to close", string(p.s[p.pos]))
	}
	if len(out) == 0 {
		return nil, &SeriesError{Pos: 0, Msg: "empty series: give one value per period, such as \"1000x7\" (_ is a period with no data)"}
	}
	return out, nil
}

type parser struct {
	s   string
	pos int
}

func (p *parser) errf(pos int, format string, args ...any) error {
	return &SeriesError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func isSep(c byte) bool { return c == ' ' || c == '\t' || c == ',' || c == '\n' || c == '\r' }
func isDigit(c byte) bool {
	return c >= '0' && c <= '9'
}

func (p *parser) skipSep() {
	for p.pos < len(p.s) && isSep(p.s[p.pos]) {
		p.pos++
	}
}

// list parses items until the end of the text or a ')'.
func (p *parser) list(depth int) ([]int64, error) {
	var out []int64
	for {
		p.skipSep()
		if p.pos >= len(p.s) || p.s[p.pos] == ')' {
			return out, nil
		}
		vals, err := p.item(depth)
		if err != nil {
			return nil, err
		}
		if len(out)+len(vals) > MaxPeriods {
			return nil, p.errf(p.pos, "more than %d periods", MaxPeriods)
		}
		out = append(out, vals...)
		if p.pos < len(p.s) && !isSep(p.s[p.pos]) && p.s[p.pos] != ')' {
			return nil, p.errf(p.pos, "unexpected %s after a value: separate values with spaces", p.tok(p.pos))
		}
	}
}

// tok quotes the token starting at pos, for messages.
func (p *parser) tok(pos int) string {
	end := pos
	for end < len(p.s) && !isSep(p.s[end]) && end-pos < 20 {
		end++
	}
	if end == pos {
		end = min(pos+1, len(p.s))
	}
	return strconv.Quote(p.s[pos:end])
}

// item parses one atom and its optional xN repeat.
func (p *parser) item(depth int) ([]int64, error) {
	start := p.pos
	base, step, ramp, err := p.atom(depth)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.s) && (p.s[p.pos] == '.') {
		return nil, p.errf(start, "%s: counts are whole numbers", p.tok(start))
	}
	count, hasCount, err := p.repeat(start)
	if err != nil {
		return nil, err
	}
	if ramp && !hasCount {
		return nil, p.errf(start, "ramp %q needs a count: %sxN", p.s[start:p.pos], p.s[start:p.pos])
	}
	if count > MaxPeriods || int64(len(base))*count > MaxPeriods {
		return nil, p.errf(start, "%q: more than %d periods", p.s[start:p.pos], MaxPeriods)
	}
	if ramp {
		return p.ramp(start, base[0], step, count)
	}
	out := make([]int64, 0, int64(len(base))*count)
	for range count {
		out = append(out, base...)
	}
	return out, nil
}

// atom parses a count (600), a ramp's start and step (100+10), a gap (_) or
// a group ((600 _)).
func (p *parser) atom(depth int) (base []int64, step int64, ramp bool, err error) {
	start := p.pos
	switch c := p.s[p.pos]; {
	case c == '_':
		p.pos++
		return []int64{Gap}, 0, false, nil
	case c == '(':
		base, err = p.group(depth)
		return base, 0, false, err
	case isDigit(c):
		n, err := p.number()
		if err != nil {
			return nil, 0, false, err
		}
		if p.pos >= len(p.s) || (p.s[p.pos] != '+' && p.s[p.pos] != '-') {
			return []int64{n}, 0, false, nil
		}
		sign := int64(1)
		if p.s[p.pos] == '-' {
			sign = -1
		}
		p.pos++
		if p.pos >= len(p.s) || !isDigit(p.s[p.pos]) {
			return nil, 0, false, p.errf(p.pos, "ramp %q: want a step after %q, such as 100+10x5", p.s[start:p.pos], p.s[p.pos-1:p.pos])
		}
		d, err := p.number()
		return []int64{n}, sign * d, true, err
	case c == '-':
		return nil, 0, false, p.errf(start, "negative value %s: counts are 0 or more", p.tok(start))
	}
	return nil, 0, false, p.errf(start, "unexpected %s: want a count (600), a repeat (600x7), a gap (_), a ramp (100+10x5) or a group ((600 _)x3)", p.tok(start))
}

func (p *parser) group(depth int) ([]int64, error) {
	start := p.pos
	if depth >= maxNesting {
		return nil, p.errf(start, "groups nested more than %d deep", maxNesting)
	}
	p.pos++
	inner, err := p.list(depth + 1)
	if err != nil {
		return nil, err
	}
	if p.pos >= len(p.s) {
		return nil, p.errf(start, "unclosed group: \"(\" without \")\"")
	}
	p.pos++ // ')'
	if len(inner) == 0 {
		return nil, p.errf(start, "empty group \"()\"")
	}
	return inner, nil
}

// repeat parses an optional xN (or *N) after an atom that began at start.
func (p *parser) repeat(start int) (count int64, given bool, err error) {
	if p.pos >= len(p.s) || (p.s[p.pos] != 'x' && p.s[p.pos] != 'X' && p.s[p.pos] != '*') {
		return 1, false, nil
	}
	xpos := p.pos
	p.pos++
	if p.pos >= len(p.s) || !isDigit(p.s[p.pos]) {
		return 0, false, p.errf(xpos, "%q: want a repeat count after %q, such as 600x7", p.s[start:p.pos], p.s[xpos:xpos+1])
	}
	n, err := p.number()
	if err != nil {
		return 0, false, err
	}
	if n < 1 {
		return 0, false, p.errf(xpos, "%q: the repeat count must be at least 1", p.s[start:p.pos])
	}
	return n, true, nil
}

func (p *parser) ramp(start int, first, step, count int64) ([]int64, error) {
	out := make([]int64, 0, count)
	for i := range count {
		v := first + step*i
		if v < 0 {
			return nil, p.errf(start, "ramp %q goes below 0 at its %s value", p.s[start:p.pos], ordinal(i+1))
		}
		if v > MaxValue {
			return nil, p.errf(start, "ramp %q goes above %d", p.s[start:p.pos], int64(MaxValue))
		}
		out = append(out, v)
	}
	return out, nil
}

// number reads a run of digits.
func (p *parser) number() (int64, error) {
	start := p.pos
	for p.pos < len(p.s) && isDigit(p.s[p.pos]) {
		p.pos++
	}
	lit := p.s[start:p.pos]
	if len(lit) > maxNumDigit {
		return 0, p.errf(start, "%q is too large (at most %d)", lit, int64(MaxValue))
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil || n > MaxValue {
		return 0, p.errf(start, "%q is too large (at most %d)", lit, int64(MaxValue))
	}
	return n, nil
}

func ordinal(n int64) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return strconv.FormatInt(n, 10) + suffix
}
