package main

import (
	"strings"
	"testing"
)

// TestMessagesEndToEnd: what the channels show for the bundled sample,
// through the fake Slack and signed DingTalk servers, in each locale: the
// templates' names beside their codes, the button's text although the rule
// selects it by type, a push text that names the most severe alert's
// template and what happened, and the first message's learning note.
func TestMessagesEndToEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		locale          string
		push            string
		slack, dingtalk []string
	}{
		{"en", "flash_sale_id (id): delivery rate fell to 47.6% (+3 more)",
			[]string{"*black_friday_shop_now* · 1100SHOP0001 · en", ":red_circle: *Critical* · read rate fell to *24.6%*, usually 61.7% (-60%) · 4,078 delivered",
				"URL button “Shop now”: *0* clicks", "Watching 7 templates; the rules can judge them now."},
			[]string{"#### flash_sale_48h · 1100FLASH0002 · en", "🟠 **Warning** · no messages sent, usually 1,498 sent"}},
		{"zh-CN", "flash_sale_id (id)：送达率降至 47.6%（另有 3 条）",
			[]string{"cams-alert · 4 条告警", "统计周期：11月23日 周一（北京时间）", "链接按钮“Shop now”：点击量为 \u200b*0*\u200b"},
			[]string{"🔴 **严重** · 阅读率降至 **24.6%**，平时 61.7%（-60%） · 送达 4,078 条", "> 走势 62.5% → 62.5% → 61.5% → 24.6% · 规则 read-rate-drop",
				"已开始监控 7 个模板，规则现已可以判断。"}},
	} {
		t.Run(tc.locale, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.setenv("MESSAGE_LOCALE", tc.locale)
			if code, _, stderr := r.run(t, "--at", sampleAt); code != exitOK {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			sm, dm := r.slack.Messages(), r.ding.Messages()
			if len(sm) != 1 || len(dm) != 1 {
				t.Fatalf("%d slack and %d dingtalk messages, want one digest each", len(sm), len(dm))
			}
			if sm[0].Text != tc.push || dm[0].Title != tc.push {
				t.Errorf("push texts %q (slack), %q (dingtalk), want %q", sm[0].Text, dm[0].Title, tc.push)
			}
			for _, w := range tc.slack {
				if !strings.Contains(sm[0].BlockText(), w) {
					t.Errorf("slack lacks %q:\n%s", w, sm[0].BlockText())
				}
			}
			for _, w := range tc.dingtalk {
				if !strings.Contains(dm[0].Text, w) {
					t.Errorf("dingtalk lacks %q:\n%s", w, dm[0].Text)
				}
			}
			for _, never := range []string{"read_rate", "click_rate", "type:url_button", "▁", "█"} {
				if strings.Contains(sm[0].BlockText()+dm[0].Text, never) {
					t.Errorf("a message shows %q", never)
				}
			}
			// the greeting is said once
			r.run(t, "--at", "2026-11-24T10:00:00+08:00")
			if strings.Count(r.slackText(), "Watching")+strings.Count(r.dingText(), "已开始监控") > 1 {
				t.Errorf("greeted twice")
			}
		})
	}
}
