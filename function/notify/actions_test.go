package notify_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/dingtalk"
	"github.com/cams-alert/cams-alert/function/notify/notifytest"
	"github.com/cams-alert/cams-alert/function/notify/slack"
)

// Per-alert actions (the seam for silencing from the chat) show under their
// alert's line: a Slack link, a DingTalk link; a URL cannot close the link
// syntax, and a label is data.
func TestActionsShowUnderTheirLine(t *testing.T) {
	d := notifytest.SampleDigest()
	d.Actions = func(it *alert.Item) []notify.Action {
		if it.State == alert.Resolved {
			return nil
		}
		return []notify.Action{{Label: "Silence <24 h>", URL: "https://act.example/s?t=a|b>c (x)"}}
	}
	b, err := json.Marshal(slack.Render(d, nil, 0)[0])
	if err != nil {
		t.Fatal(err)
	}
	var m notifytest.SlackMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	text := m.BlockText()
	if want := "Trend 62.0% → 61.0% → 8.1% · rule read-rate-drop · <https://act.example/s?t=a%7Cb%3Ec%20(x)|Silence &lt;24 h&gt;>"; !strings.Contains(text, want) {
		t.Errorf("slack lacks the action %s:\n%s", want, text)
	}
	if strings.Count(text, "act.example") != 1 {
		t.Errorf("the action is not on the firing alert alone:\n%s", text)
	}
	text = dingtalk.Render(d, nil, dingtalk.Mentions{}, 0)[0].Markdown.Text
	if want := "[Silence ‹24 h›](https://act.example/s?t=a|b>c%20%28x%29)"; !strings.Contains(text, want) {
		t.Errorf("dingtalk text lacks %s:\n%s", want, text)
	}
}
