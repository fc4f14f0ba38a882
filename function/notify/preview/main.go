// Command preview renders the sample digests (notifytest.Scenarios) the way
// people see them, so that a change to messages is looked at, not only
// diffed: Slack's Block Kit payload as an HTML approximation of the client
// (header, mrkdwn sections, context, dividers, proportional font) and
// DingTalk's markdown through a CommonMark renderer, each in every locale,
// written to OUT/*.html and, when Chromium is installed, screenshot at phone
// width (390 px) and desktop width (1280 px) to OUT/*-phone.png and
// OUT/*-desktop.png.
//
//	go run ./function/notify/preview -out dist/preview
package main

import (
	"bytes"
	"flag"
	"fmt"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	slackgo "github.com/slack-go/slack"
	"github.com/yuin/goldmark"
	gmhtml "github.com/yuin/goldmark/renderer/html"

	"github.com/cams-alert/cams-alert/function/notify/dingtalk"
	"github.com/cams-alert/cams-alert/function/notify/locale"
	"github.com/cams-alert/cams-alert/function/notify/notifytest"
	"github.com/cams-alert/cams-alert/function/notify/slack"
)

func main() {
	out := flag.String("out", "dist/preview", "directory for the HTML pages and screenshots")
	browser := flag.String("chromium", "chromium", "headless Chromium to screenshot with (\"\" for HTML only)")
	only := flag.String("only", "", "render only scenarios whose file name contains this")
	flag.Parse()
	if err := run(*out, *browser, *only); err != nil {
		fmt.Fprintln(os.Stderr, "preview:", err)
		os.Exit(1)
	}
}

func run(out, browser, only string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if browser != "" {
		if _, err := exec.LookPath(browser); err != nil {
			fmt.Fprintf(os.Stderr, "preview: %s not found: writing HTML only (apt-get install chromium fonts-noto-cjk fonts-noto-color-emoji)\n", browser)
			browser = ""
		}
	}
	for _, tag := range locale.Tags {
		c := locale.Get(tag)
		for _, sc := range notifytest.Scenarios() {
			pages := map[string]string{
				"slack-" + tag + "-" + sc.Name:    slackPage(slack.Render(sc.Digest, c, 0)),
				"dingtalk-" + tag + "-" + sc.Name: dingPage(dingtalk.Render(sc.Digest, c, dingtalk.Mentions{Mobiles: []string{"13800138000"}}, 0)),
			}
			for name, page := range pages {
				if only != "" && !strings.Contains(name, only) {
					continue
				}
				if err := write(out, name, page, browser); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func write(dir, name, page, browser string) error {
	file := filepath.Join(dir, name+".html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		return err
	}
	if browser == "" {
		return nil
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	for _, w := range []struct {
		suffix string
		width  int
	}{{"phone", 390}, {"desktop", 1280}} {
		png, _ := filepath.Abs(filepath.Join(dir, name+"-"+w.suffix+".png"))
		if err := screenshot(browser, "file://"+abs, png, w.width); err != nil {
			return fmt.Errorf("%s %s: %w", browser, name, err)
		}
	}
	return nil
}

// screenshot runs headless Chromium, again when it crashes (it does, now
// and then, in containers).
func screenshot(browser, url, png string, width int) error {
	var err error
	for range 3 {
		cmd := exec.Command(browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
			"--screenshot="+png, fmt.Sprintf("--window-size=%d,%d", width, 1100), url)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err = cmd.Run(); err == nil {
			return nil
		}
		err = fmt.Errorf("%w: %s", err, lastLine(stderr.String()))
	}
	return err
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

const pageHead = `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<style>
body{margin:0;background:#f4f4f4;font-family:%s;color:#1d1c1d;-webkit-font-smoothing:antialiased}
.push{margin:10px;padding:10px 12px;border-radius:14px;background:#e9e9ee;font-size:14px;line-height:1.35}
.push b{display:block;font-size:12px;color:#666;margin-bottom:2px}
.msg{background:#fff;margin:10px;padding:12px 16px;border-radius:8px;box-shadow:0 1px 2px rgba(0,0,0,.15)}
%s
</style></head><body>`

// Slack: Lato (proportional) falling back to the system sans, 15px mrkdwn.
const slackCSS = `.who{font-weight:900;font-size:15px}.who span{font-weight:400;color:#616061;font-size:12px;margin-left:6px}
.hd{font-size:18px;font-weight:900;margin:6px 0}.ctx{font-size:12px;color:#616061;margin:4px 0;white-space:pre-wrap;word-wrap:break-word}
.sec{font-size:15px;line-height:1.47;margin:8px 0;white-space:pre-wrap;word-wrap:break-word}
hr{border:0;border-top:1px solid #ddd;margin:10px 0}a{color:#1264a3;text-decoration:none}`

var slackEmoji = strings.NewReplacer(":red_circle:", "🔴", ":large_orange_circle:", "🟠", ":large_blue_circle:", "🔵",
	":white_check_mark:", "✅", ":warning:", "⚠️", ":wave:", "👋", ":no_bell:", "🔕")

var (
	// Slack makes *…* bold at word boundaries only: after a space, an
	// opening bracket or a zero-width space (which Chinese text needs).
	slackBold = regexp.MustCompile(`(^|[\s(\x{200B}])\*([^*\n]+)\*`)
	slackLink = regexp.MustCompile(`&lt;([^|&]+)\|([^&]+)&gt;|<([^|>]+)\|([^>]+)>`)
)

// mrkdwn approximates Slack's rendering of a mrkdwn text: the text is
// already entity-escaped (&amp; &lt; &gt;), so only the markup is turned into
// HTML.
func mrkdwn(s string) string {
	s = slackEmoji.Replace(s)
	s = slackLink.ReplaceAllString(s, `<a href="$1$3">$2$4</a>`)
	return slackBold.ReplaceAllString(s, "$1<b>$2</b>")
}

func slackPage(msgs []*slackgo.WebhookMessage) string {
	var b strings.Builder
	fmt.Fprintf(&b, pageHead, `Lato,"Helvetica Neue",Arial,"Noto Sans CJK SC",sans-serif`, slackCSS)
	if len(msgs) > 0 {
		fmt.Fprintf(&b, `<div class="push"><b>Slack · #marketing-alerts</b>%s</div>`, mrkdwn(msgs[0].Text))
	}
	for _, m := range msgs {
		b.WriteString(`<div class="msg"><div class="who">cams-alert<span>APP 09:00</span></div>`)
		for _, bl := range m.Blocks.BlockSet {
			switch x := bl.(type) {
			case *slackgo.HeaderBlock:
				fmt.Fprintf(&b, `<div class="hd">%s</div>`, html.EscapeString(x.Text.Text))
			case *slackgo.ContextBlock:
				for _, e := range x.ContextElements.Elements {
					if t, ok := e.(*slackgo.TextBlockObject); ok {
						fmt.Fprintf(&b, `<div class="ctx">%s</div>`, mrkdwn(t.Text))
					}
				}
			case *slackgo.DividerBlock:
				b.WriteString("<hr>")
			case *slackgo.SectionBlock:
				if x.Text != nil {
					fmt.Fprintf(&b, `<div class="sec">%s</div>`, mrkdwn(x.Text.Text))
				}
			}
		}
		b.WriteString(`</div>`)
	}
	b.WriteString("</body></html>")
	return b.String()
}

// DingTalk: the system sans (PingFang on phones), 14px markdown; quotes in
// grey behind a bar, as the client shows them.
const dingCSS = `.msg{font-size:14px;line-height:1.6}.msg h3{font-size:17px;margin:4px 0 8px}.msg h4{font-size:15px;margin:14px 0 4px}
.msg p{margin:6px 0}.msg ul{padding-left:20px;margin:6px 0}
.msg blockquote{margin:2px 0 10px;padding:0 0 0 8px;border-left:3px solid #e0e0e0;color:#8c8c8c;font-size:13px}`

var md = goldmark.New(goldmark.WithRendererOptions(gmhtml.WithUnsafe()))

func dingPage(ps []dingtalk.Payload) string {
	var b strings.Builder
	fmt.Fprintf(&b, pageHead, `"PingFang SC","Noto Sans CJK SC","Helvetica Neue",Arial,sans-serif`, dingCSS)
	if len(ps) > 0 {
		fmt.Fprintf(&b, `<div class="push"><b>钉钉 · 营销告警群</b>%s</div>`, htmlEscape(ps[0].Markdown.Title))
	}
	for _, p := range ps {
		var out bytes.Buffer
		if err := md.Convert([]byte(p.Markdown.Text), &out); err != nil {
			out.WriteString(htmlEscape(err.Error()))
		}
		fmt.Fprintf(&b, `<div class="msg">%s</div>`, out.String())
	}
	b.WriteString("</body></html>")
	return b.String()
}

func htmlEscape(s string) string { return html.EscapeString(s) }
