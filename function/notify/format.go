package notify

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/cams-alert/cams-alert/function/alert"
)

// This file holds the text helpers every integration shares, so that Slack
// and DingTalk say the same thing in their own markup. Everything here returns
// plain, unescaped text: each integration escapes data for its markup.

// Counts returns how many items fire and how many resolved.
func (d *Digest) Counts() (firing, resolved int) {
	for i := range d.Items {
		if d.Items[i].State == alert.Resolved {
			resolved++
		} else {
			firing++
		}
	}
	return firing, resolved
}

// Empty reports whether d has nothing to say (no items, no health problems,
// no learning note).
func (d *Digest) Empty() bool { return len(d.Items) == 0 && len(d.Health) == 0 && d.Learning == nil }

// For is what a channel hears of d: without resolved items unless
// sendResolved, and nil when that leaves nothing to say.
func (d *Digest) For(sendResolved bool) *Digest {
	if d == nil {
		return nil
	}
	src := d
	if !sendResolved {
		src = d.WithoutResolved()
	}
	if src.Empty() {
		return nil
	}
	return src
}

// WithoutResolved returns a shallow copy of d without resolved items (for a
// channel configured not to hear about resolutions).
func (d *Digest) WithoutResolved() *Digest {
	c := *d
	c.Items = nil
	for _, it := range d.Items {
		if it.State != alert.Resolved {
			c.Items = append(c.Items, it)
		}
	}
	return &c
}

// TruncateRunes cuts s to at most max runes on a rune boundary, ending it
// with "…" when it cut.
func TruncateRunes(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	i, n := 0, 0
	for j := range s {
		if n == max-1 {
			i = j
			break
		}
		n++
	}
	return s[:i] + "…"
}

// TruncateBytes cuts s to at most max bytes (UTF-8) on a rune boundary,
// ending it with "…" when it cut.
func TruncateBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ell = "…"
	if max < len(ell) {
		return ""
	}
	cut := max - len(ell)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ell
}

// Scrub replaces every occurrence of each secret (longer than 3 bytes) in s
// with "…": a last line of defence for error messages.
func Scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) > 3 {
			s = strings.ReplaceAll(s, sec, "…")
		}
	}
	return s
}

// URLSecrets lists the parts of a webhook URL that must never be shown: the
// URL itself, its path below the first segment and those path segments and
// query values of 8 bytes or more, its query, and user info.
func URLSecrets(raw string) []string {
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	if u.User != nil {
		out = append(out, u.User.String())
	}
	// short path segments ("send" in /robot/send) are words, not secrets;
	// tokens and Slack's T…/B… ids are longer
	long := func(s string) bool { return len(s) >= 8 }
	p := strings.TrimPrefix(u.Path, "/")
	if _, rest, ok := strings.Cut(p, "/"); ok && long(rest) {
		out = append(out, rest)
		for _, seg := range strings.Split(rest, "/") {
			if long(seg) {
				out = append(out, seg)
			}
		}
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
		for _, vs := range u.Query() {
			for _, v := range vs {
				if long(v) {
					out = append(out, v)
				}
			}
		}
	}
	return out
}
