package notify_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cams-alert/cams-alert/function/notify/console"
	"github.com/cams-alert/cams-alert/function/notify/dingtalk"
	"github.com/cams-alert/cams-alert/function/notify/locale"
	"github.com/cams-alert/cams-alert/function/notify/notifytest"
	"github.com/cams-alert/cams-alert/function/notify/slack"
)

var update = flag.Bool("update", false, "rewrite testdata/messages/*.golden from the current rendering (review the diff)")

// goldenDir holds one readable file per platform x locale x state, reviewed
// by eye: any change in what a channel would see fails here until the files
// are rewritten with -update and the diff is read.
var goldenDir = filepath.Join("..", "..", "testdata", "messages")

// Renderings are what each platform shows, in plain text: Slack's push text
// and blocks, DingTalk's title and markdown, the console's dry-run text.
var renderings = map[string]func(sc notifytest.Scenario, c *locale.Catalog) string{
	"slack": func(sc notifytest.Scenario, c *locale.Catalog) string {
		return slack.PlainText(slack.Render(sc.Digest, c, 0))
	},
	"dingtalk": func(sc notifytest.Scenario, c *locale.Catalog) string {
		m := dingtalk.Mentions{Mobiles: []string{"13800138000"}}
		return dingtalk.PlainText(dingtalk.Render(sc.Digest, c, m, 0))
	},
	"console": func(sc notifytest.Scenario, c *locale.Catalog) string {
		return console.Render(sc.Digest, c)
	},
}

func TestGoldenMessages(t *testing.T) {
	seen := map[string]bool{}
	for platform, render := range renderings {
		for _, tag := range locale.Tags {
			for _, sc := range notifytest.Scenarios() {
				name := platform + "-" + tag + "-" + sc.Name + ".golden"
				seen[name] = true
				got := render(sc, locale.Get(tag))
				path := filepath.Join(goldenDir, name)
				if *update {
					if err := os.MkdirAll(goldenDir, 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Errorf("%s: %v (run go test ./function/notify -run Golden -update, then review)", name, err)
					continue
				}
				if got != string(want) {
					t.Errorf("%s changed; review and rewrite with -update:\n--- want\n%s\n--- got\n%s", name, want, got)
				}
			}
		}
	}
	// a golden file no rendering writes any more is stale
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.golden"))
	for _, f := range files {
		if !seen[filepath.Base(f)] && !strings.HasPrefix(filepath.Base(f), "_") {
			t.Errorf("%s: no rendering writes it; delete it", f)
		}
	}
}
