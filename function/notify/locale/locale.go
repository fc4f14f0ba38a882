// Package locale holds every word the product writes in a message, in each
// language a channel can ask for (en, zh-CN), with the dates, durations and
// time-zone names written the way each language writes them. Data (template
// names and codes, button texts, rule names, numbers) never passes through
// here.
//
// Texts use named placeholders ({metric}, {value}) so that each language
// orders the sentence its own way. No text contains a character that is
// markup in Slack or DingTalk, so renderers need not escape the product's
// own words (a test holds every catalog to that).
package locale

import (
	"fmt"
	"strings"
	"time"
)

// Tags of the supported locales.
const (
	EN   = "en"
	ZhCN = "zh-CN"
)

// Default is the locale used when none is configured.
const Default = EN

// Tags lists the supported locales.
var Tags = []string{EN, ZhCN}

// Catalog is one locale's words.
type Catalog struct {
	Tag   string
	msgs  map[string]string
	zones map[string]string
	date  func(t time.Time) string
	dur   func(days, hours, mins int64) string
}

var catalogs = map[string]*Catalog{
	EN:   {Tag: EN, msgs: en, zones: nil, date: enDate, dur: enDuration},
	ZhCN: {Tag: ZhCN, msgs: zh, zones: zhZones, date: zhDate, dur: zhDuration},
}

// Lookup returns the catalog of tag ("" is Default). Tags are matched
// case-insensitively, with "_" for "-" and "zh" for zh-CN.
func Lookup(tag string) (*Catalog, error) {
	t := strings.ReplaceAll(strings.TrimSpace(tag), "_", "-")
	switch {
	case t == "":
		return catalogs[Default], nil
	case strings.EqualFold(t, EN) || strings.HasPrefix(strings.ToLower(t), "en-"):
		return catalogs[EN], nil
	case strings.EqualFold(t, ZhCN) || strings.EqualFold(t, "zh") || strings.EqualFold(t, "zh-Hans"):
		return catalogs[ZhCN], nil
	}
	return nil, fmt.Errorf("locale %q is not supported (use %s)", tag, strings.Join(Tags, " or "))
}

// Get returns the catalog of tag, or Default's for an unsupported tag
// (configuration is checked with Lookup before anything is rendered).
func Get(tag string) *Catalog {
	c, err := Lookup(tag)
	if err != nil {
		return catalogs[Default]
	}
	return c
}

// T returns the text of key with its {name} placeholders filled from pairs
// ("name", value, …). A key missing from the catalog falls back to English,
// then to the key itself, so that a gap shows instead of breaking a message.
func (c *Catalog) T(key string, pairs ...string) string {
	s, ok := c.msgs[key]
	if !ok {
		if s, ok = en[key]; !ok {
			return key
		}
	}
	if len(pairs) < 2 {
		return s
	}
	old := make([]string, 0, len(pairs))
	for i := 0; i+1 < len(pairs); i += 2 {
		old = append(old, "{"+pairs[i]+"}", pairs[i+1])
	}
	return strings.NewReplacer(old...).Replace(s)
}

// N is T for a count: key+".one" when n is 1 and the locale has it, with
// {n} set to n.
func (c *Catalog) N(key string, n int, pairs ...string) string {
	k := key
	if n == 1 {
		if _, ok := c.msgs[key+".one"]; ok {
			k = key + ".one"
		}
	}
	return c.T(k, append([]string{"n", fmt.Sprint(n)}, pairs...)...)
}

// Has reports whether the catalog has key.
func (c *Catalog) Has(key string) bool { _, ok := c.msgs[key]; return ok }

// Date renders a day: "Mon 23 Nov" / "11月23日 周一".
func (c *Catalog) Date(t time.Time) string { return c.date(t) }

// DateTime renders a day and a time of day: "Mon 23 Nov 08:00" /
// "11月23日 周一 08:00".
func (c *Catalog) DateTime(t time.Time) string { return c.date(t) + " " + t.Format("15:04") }

// Duration renders d coarsely: "2 days 3 hours", "45 min" / "2 天 3 小时",
// "45 分钟".
func (c *Catalog) Duration(d time.Duration) string {
	if d < time.Minute {
		d = time.Minute
	}
	days := int64(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	hours := int64(d / time.Hour)
	d -= time.Duration(hours) * time.Hour
	mins := int64(d / time.Minute)
	if days > 0 {
		mins = 0 // minutes do not matter once it is days
	}
	return c.dur(days, hours, mins)
}

// Zone names loc for readers: "Asia/Shanghai" / "北京时间".
func (c *Catalog) Zone(loc *time.Location) string {
	name := "UTC"
	if loc != nil {
		name = loc.String()
	}
	if z, ok := c.zones[name]; ok {
		return z
	}
	if c.zones != nil {
		return c.T("zone.other", "zone", name)
	}
	return name
}

var (
	enWeekdays = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	zhWeekdays = [7]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}
)

func enDate(t time.Time) string {
	return enWeekdays[t.Weekday()] + " " + t.Format("2 Jan")
}

func zhDate(t time.Time) string {
	return fmt.Sprintf("%d月%d日 %s", t.Month(), t.Day(), zhWeekdays[t.Weekday()])
}

func enDuration(days, hours, mins int64) string {
	var parts []string
	add := func(n int64, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	add(days, "day", "days")
	add(hours, "hour", "hours")
	add(mins, "min", "min")
	return strings.Join(parts, " ")
}

func zhDuration(days, hours, mins int64) string {
	var parts []string
	if days > 0 {
		parts = append(parts, fmt.Sprintf("%d 天", days))
	}
	if hours > 0 {
		parts = append(parts, fmt.Sprintf("%d 小时", hours))
	}
	if mins > 0 {
		parts = append(parts, fmt.Sprintf("%d 分钟", mins))
	}
	return strings.Join(parts, " ")
}
