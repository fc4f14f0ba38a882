package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cams-alert/cams-alert/function/silence"
)

// chromium finds Debian's chromium. Without it the browser test is skipped
// on a workstation and fails in CI (CI=true), where .ci/run installs it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing: CI must run the browser test (.ci/run installs Debian's chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); CI runs this test")
	return ""
}

// TestBrowserConfirmationPage: the DingTalk link in a real headless
// browser, through the FC HTTP trigger's event format: the page shows the
// alert, its template name and the duration; its button stores the silence,
// which `silences list` then shows.
func TestBrowserConfirmationPage(t *testing.T) {
	exe := chromium(t)
	const secret = "browser-test-ACTION-SECRET-0123456789abcdef"
	env := map[string]string{"STATE_DIR": t.TempDir(), "ACTION_SECRET": secret, "MESSAGE_LOCALE": "en",
		"TIMEZONE": "Asia/Shanghai", "RULES_PATH": "../rules"}
	a := &app{lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	e := startFCEmu(t, a)
	gw := e.gateway(t)
	env["ACTION_URL"] = gw.URL // set before the first event: the function reads it per invocation

	req := silence.Request{Rule: "zero-clicks", Template: "1100AB01", Language: "en", Button: "Shop now",
		TemplateName: "Black Friday promo", For: 7 * 24 * time.Hour}
	link := gw.URL + "/silence?token=" + req.Sign(secret, time.Now())

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe),
		chromedp.NoSandbox, chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	text := func(id string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("reading #%s: %v", id, err)
		}
		return v
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.ID("confirm")))
	if err != nil {
		t.Fatalf("opening the link: %v", err)
	}
	if resp.Status != 200 || !strings.HasPrefix(resp.MimeType, "text/html") {
		t.Errorf("the link answers %d %s, want a 200 HTML page", resp.Status, resp.MimeType)
	}
	tmpl, duration, button := text("template"), text("duration"), text("confirm")
	if !strings.Contains(tmpl, "Black Friday promo") || !strings.Contains(tmpl, "1100AB01") ||
		duration != "7 days" || button != "Silence this alert" {
		t.Errorf("the page shows template %q, duration %q, button %q", tmpl, duration, button)
	}
	if out, _, _ := runSilences(t, a, "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Fatalf("opening the link stored a silence: %s", out)
	}

	resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("confirm")))
	if err != nil {
		t.Fatalf("confirming: %v", err)
	}
	if done := text("title"); resp.Status != 200 || done != "Silenced" {
		t.Errorf("after the click: %d, the page says %q; want 200 and Silenced", resp.Status, done)
	}
	out, stderr, code := runSilences(t, a, "list", "--json")
	var list []silence.Silence
	if err := json.Unmarshal([]byte(out), &list); err != nil || code != 0 || len(list) != 1 {
		t.Fatalf("silences list --json: exit %d, %v: %s %s", code, err, out, stderr)
	}
	s := list[0]
	if !s.Matches(req.Rule, req.Template, req.Language, req.Button) || s.Matches(req.Rule, "1100AB02", req.Language, req.Button) {
		t.Errorf("the silence %+v does not match exactly the alert", s.Match)
	}
	if !strings.HasPrefix(s.CreatedBy, "DingTalk link") {
		t.Errorf("created_by %q: want the link named", s.CreatedBy)
	}
}
