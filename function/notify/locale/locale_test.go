package locale

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// Every locale says everything English says, with the same placeholders, and
// no text carries a character that is markup in Slack or DingTalk.
func TestCatalogsComplete(t *testing.T) {
	for _, tag := range Tags {
		c := Get(tag)
		for k, s := range en {
			if strings.HasSuffix(k, ".one") {
				continue // English plurals; other locales may not need them
			}
			got, ok := c.msgs[k]
			if !ok {
				t.Errorf("%s: missing %q", tag, k)
				continue
			}
			want := placeholder.FindAllString(s, -1)
			have := placeholder.FindAllString(got, -1)
			slices.Sort(want)
			slices.Sort(have)
			if !slices.Equal(slices.Compact(want), slices.Compact(have)) {
				t.Errorf("%s %q: placeholders %v, English has %v", tag, k, have, want)
			}
		}
		for k, s := range c.msgs {
			if _, ok := en[k]; !ok {
				t.Errorf("%s: %q is not in the English catalog", tag, k)
			}
			if strings.ContainsAny(s, "*_`[]<>&#~|@\\\n") {
				t.Errorf("%s %q: %q contains markup", tag, k, s)
			}
		}
	}
}

func TestWords(t *testing.T) {
	sh, _ := time.LoadLocation("Asia/Shanghai")
	day := time.Date(2026, 11, 23, 8, 0, 0, 0, sh)
	zh, en := Get("zh-CN"), Get("en")
	for _, tc := range []struct{ got, want string }{
		{zh.Date(day), "11月23日 周一"},
		{en.Date(day), "Mon 23 Nov"},
		{zh.DateTime(day), "11月23日 周一 08:00"},
		{en.Duration(50 * time.Hour), "2 days 2 hours"},
		{en.Duration(45 * time.Minute), "45 min"},
		{en.Duration(25 * time.Hour), "1 day 1 hour"},
		{zh.Duration(50 * time.Hour), "2 天 2 小时"},
		{zh.Duration(90 * time.Minute), "1 小时 30 分钟"},
		{zh.Zone(sh), "北京时间"},
		{en.Zone(sh), "Asia/Shanghai"},
		{zh.Zone(time.FixedZone("X", 0)), "X 时间"},
		{en.N("head.alerts", 1), "1 alert"},
		{en.N("head.alerts", 3), "3 alerts"},
		{zh.N("head.alerts", 1), "1 条告警"},
		{zh.T("fire.drop", "metric", zh.T("metric.read_rate"), "value", "8.1%"), "阅读率降至 8.1%"},
		{en.T("no.such.key"), "no.such.key"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{{"", EN, true}, {"en", EN, true}, {"en-GB", EN, true}, {"zh-CN", ZhCN, true}, {"zh_cn", ZhCN, true}, {"zh", ZhCN, true}, {"fr", "", false}} {
		c, err := Lookup(tc.in)
		if (err == nil) != tc.ok || err == nil && c.Tag != tc.want {
			t.Errorf("Lookup(%q) = %v, %v", tc.in, c, err)
		}
	}
}
