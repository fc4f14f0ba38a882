package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cams-alert/cams-alert/function/notify/notifytest"
)

// TestRoutingKeepsEnvChannels: declaring a channel in a rule file does not
// take the shipped rules away from SLACK_WEBHOOK_URL. Rules that name no
// channel go to the environment's channels unless the files' defaults.notify
// says otherwise; a rule with notify: [] reaches nothing, and validate says
// so. Before, one declared DingTalk channel took every such rule.
func TestRoutingKeepsEnvChannels(t *testing.T) {
	t.Parallel()
	shipped, err := os.ReadFile("../rules/marketing.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		extra      string // a second rule file
		slack, own bool   // who hears the firing alerts
		warn       string // validate's warning ("" for none)
	}{
		{name: "declared channel, no defaults: env keeps the rules",
			extra: "channels:\n  team-ding: {type: dingtalk, webhook_url: \"${TEAM_DING}\", secret: \"${TEAM_DING_SECRET}\"}\n",
			slack: true},
		{name: "defaults.notify routes to the declared channel",
			extra: "channels:\n  team-ding: {type: dingtalk, webhook_url: \"${TEAM_DING}\", secret: \"${TEAM_DING_SECRET}\"}\ndefaults:\n  notify: [team-ding]\n",
			own:   true},
		{name: "notify: [] reaches nothing and validate warns",
			extra: "defaults:\n  notify: []\n",
			warn:  "rule read-rate-drop: its alerts reach no channel (its notify list is empty)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.fast(t)
			own := notifytest.NewDingTalk(t, "SECteamDing0123")
			r.addSecret(own.AccessToken)
			r.addSecret("SECteamDing0123")
			dir := t.TempDir()
			for name, data := range map[string][]byte{"marketing.yaml": shipped, "routing.yaml": []byte(tc.extra)} {
				if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r.setenv("RULES_PATH", dir)
			r.setenv("DINGTALK_WEBHOOK_URL", "")
			r.setenv("DINGTALK_SECRET", "")
			r.setenv("TEAM_DING", own.WebhookURL)
			r.setenv("TEAM_DING_SECRET", "SECteamDing0123")

			code, stdout, stderr := r.runRaw(t, "validate")
			if code != exitOK || !strings.Contains(stdout, "ok:") {
				t.Fatalf("validate exit %d\n%s%s", code, stdout, stderr)
			}
			if tc.warn == "" && strings.Contains(stderr, "reach no channel") {
				t.Errorf("validate warns:\n%s", stderr)
			}
			if tc.warn != "" && !strings.Contains(stderr, tc.warn) {
				t.Errorf("validate lacks %q:\n%s", tc.warn, stderr)
			}

			code, sum, stderr := r.run(t, "--at", sampleAt)
			if code != exitOK && code != exitFailed {
				t.Fatalf("run exit %d\n%s", code, stderr)
			}
			if len(sum.Alerts) == 0 {
				t.Fatal("the sample raised no alerts")
			}
			// (a channel that hears no alert still gets its first message,
			// the greeting: what matters is whether the alerts reach it)
			if got := strings.Contains(r.slackText(), "1100SHOP0001"); got != tc.slack {
				t.Errorf("SLACK_WEBHOOK_URL heard the alerts: %v, want %v", got, tc.slack)
			}
			ownText := ""
			for _, m := range own.Messages() {
				ownText += m.Text
			}
			if got := strings.Contains(ownText, "1100SHOP0001"); got != tc.own {
				t.Errorf("the declared channel heard the alerts: %v, want %v", got, tc.own)
			}
		})
	}
}
