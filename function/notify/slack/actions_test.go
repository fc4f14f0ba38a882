package slack

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/notify"
	"github.com/cams-alert/cams-alert/function/notify/notifytest"
)

// TestSilenceButtons: actions with a value become Block Kit buttons in an
// actions block under the firing line, not links in its notes; a digest of
// many alerts with buttons still fits Slack's block limit.
func TestSilenceButtons(t *testing.T) {
	d := notifytest.SampleDigest()
	d.Actions = func(it *alert.Item) []notify.Action {
		if it.State != alert.Firing {
			return nil
		}
		return []notify.Action{{Label: "Silence 1 day", ID: "silence-1d", Value: "v1|" + it.Template},
			{Label: "Silence 7 days", ID: "silence-7d", Value: "v7|" + it.Template}}
	}
	msgs := Render(d, nil, 0)
	raw, _ := json.Marshal(msgs)
	var got struct {
		Blocks []struct {
			Type     string           `json:"type"`
			Elements []map[string]any `json:"elements"`
		} `json:"blocks"`
	}
	buttons, firing := 0, 0
	for _, m := range msgs {
		b, _ := json.Marshal(m)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if len(got.Blocks) > MaxBlocks {
			t.Errorf("%d blocks, Slack allows %d", len(got.Blocks), MaxBlocks)
		}
		for _, bl := range got.Blocks {
			if bl.Type != "actions" {
				continue
			}
			for _, e := range bl.Elements {
				if e["type"] != "button" || !strings.HasPrefix(e["action_id"].(string), "silence-") || !strings.HasPrefix(e["value"].(string), "v") {
					t.Errorf("element %v", e)
				}
				buttons++
			}
		}
	}
	for _, it := range d.Items {
		if it.State == alert.Firing {
			firing++
		}
	}
	if firing == 0 || buttons != 2*firing {
		t.Errorf("%d buttons for %d firing alerts, want 2 each", buttons, firing)
	}
	if strings.Contains(string(raw), "<|") || strings.Contains(string(raw), "Silence 1 day>") {
		t.Error("a button action was also rendered as a link")
	}
}
