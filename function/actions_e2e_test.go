package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"

	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/silence"
)

const (
	e2eActionSecret  = "e2eACTIONsecret-0123456789abcdef-xyz"
	e2eSigningSecret = "e2eSLACKsigning0123456789abcdef"
)

// slackClick posts one signed block_actions click to the gateway, as Slack
// posts to the Interactivity Request URL.
func slackClick(t *testing.T, gw, responseURL, value string) int {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{
		"type": "block_actions", "team": map[string]any{"id": "T0E2E"},
		"user":         map[string]any{"id": "U0BOB", "username": "bob", "name": "bob"},
		"response_url": responseURL, "trigger_id": "9.9.9",
		"actions": []map[string]any{{"type": "button", "action_id": "silence-1d", "block_id": "b",
			"value": value, "action_ts": "1764000000.000001"}},
	})
	body := url.Values{"payload": {string(payload)}}.Encode()
	ts := time.Now().Unix()
	m := hmac.New(sha256.New, []byte(e2eSigningSecret))
	fmt.Fprintf(m, "v0:%d:%s", ts, body)
	req, _ := http.NewRequest(http.MethodPost, gw+"/slack/actions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", "v0="+hex.EncodeToString(m.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// dingTalkLink opens a silence link, then confirms it as its page does.
func dingTalkLink(t *testing.T, link string) (get, post int) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), `name="token"`) {
		t.Errorf("the link's page has no form: %s", page)
	}
	u, _ := url.Parse(link)
	resp, err = http.PostForm(u.Scheme+"://"+u.Host+u.Path, url.Values{"token": {u.Query().Get("token")}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return 200, resp.StatusCode
}

// slackButton finds, in the Slack digests, the silence button of an alert
// for d and returns its value.
func slackButton(t *testing.T, r *rig, rule, tmpl string, d time.Duration) string {
	t.Helper()
	var found []string
	for _, m := range r.slack.Messages() {
		var msg struct {
			Blocks []struct {
				Type     string `json:"type"`
				Elements []struct {
					Type     string `json:"type"`
					ActionID string `json:"action_id"`
					Value    string `json:"value"`
				} `json:"elements"`
			} `json:"blocks"`
		}
		if err := json.Unmarshal(m.Raw, &msg); err != nil {
			t.Fatal(err)
		}
		for _, b := range msg.Blocks {
			for _, e := range b.Elements {
				if b.Type != "actions" || e.Type != "button" || !strings.HasPrefix(e.ActionID, "silence") {
					continue
				}
				req, err := silence.ParseValue(e.Value)
				if err != nil {
					t.Fatalf("button %s: value %v", e.ActionID, err)
				}
				found = append(found, req.Rule+" "+req.Template+" "+req.For.String())
				if req.Rule == rule && req.Template == tmpl && req.For == d {
					return e.Value
				}
			}
		}
	}
	t.Fatalf("no Slack silence button for %s %s %v among %v", rule, tmpl, d, found)
	return ""
}

// dingTalkSilenceLink finds, in the DingTalk digests, the silence link of an
// alert for d.
func dingTalkSilenceLink(t *testing.T, r *rig, base, rule, tmpl string, d time.Duration) string {
	t.Helper()
	re := regexp.MustCompile(`\((` + regexp.QuoteMeta(base) + `/silence\?token=[^)\s]+)\)`)
	var found []string
	for _, m := range r.ding.Messages() {
		for _, sub := range re.FindAllStringSubmatch(m.Text, -1) {
			u, _ := url.Parse(sub[1])
			req, _, err := silence.Verify(e2eActionSecret, u.Query().Get("token"), time.Now())
			if err != nil {
				t.Fatalf("a DingTalk link's token: %v", err)
			}
			found = append(found, req.Rule+" "+req.Template+" "+req.For.String())
			if req.Rule == rule && req.Template == tmpl && req.For == d {
				return sub[1]
			}
		}
	}
	t.Fatalf("no DingTalk silence link for %s %s %v among %v", rule, tmpl, d, found)
	return ""
}

// TestActionsEndToEnd: under the FC runtime API emulator, a timer run
// notifies with silence buttons and links; a Slack click and a DingTalk link (HTTP trigger events) silence
// two alerts; the next timer run does not notify those two and notifies the
// rest, and its summary says who silenced them.
func TestActionsEndToEnd(t *testing.T) {
	r := newRig(t)
	r.fast(t)
	e := startFCEmu(t, r.app())
	gw := e.gateway(t)
	r.ding.LinkPrefix = gw.URL + "/silence?token="
	r.setenv("ACTION_URL", gw.URL)
	r.setenv("ACTION_SECRET", e2eActionSecret)
	r.setenv("SLACK_SIGNING_SECRET", e2eSigningSecret)
	r.addSecret(e2eActionSecret)
	r.addSecret(e2eSigningSecret)
	creds := [3]string{rigAccessKeyID, rigAccessKeySecret, rigSecurityToken}
	at, _ := time.Parse(time.RFC3339, sampleAt)

	sum, res := e.timer(t, at, creds)
	if !res.ok || len(sum["alerts"].([]any)) < len(wantFiring) {
		t.Fatalf("first timer run: ok %v, %s", res.ok, res.body)
	}
	r.checkDelivered(t)
	calls := r.cams.Count("GetChatappTemplateMetric", "")

	// The digests carry the silence controls: Slack buttons, DingTalk links.
	// Slack: silence read-rate-drop on 1100SHOP0001 for a day.
	value := slackButton(t, r, "read-rate-drop", "1100SHOP0001", 24*time.Hour)
	if code := slackClick(t, gw.URL, "", value); code != 200 {
		t.Fatalf("Slack click: %d", code)
	}
	// DingTalk: silence dead-url-button on 1100FLASH0002 for 7 days.
	link := dingTalkSilenceLink(t, r, gw.URL, "dead-url-button", "1100FLASH0002", 7*24*time.Hour)
	if get, post := dingTalkLink(t, link); get != 200 || post != 200 {
		t.Fatalf("DingTalk link: GET %d, POST %d", get, post)
	}
	if n := r.cams.Count("GetChatappTemplateMetric", ""); n != calls {
		t.Errorf("HTTP events called the CAMS API %d times: they must never run a cycle", n-calls)
	}

	// A new ledger (as on a fresh deployment) would notify every alert
	// again; the silences under STATE_DIR/silences stay.
	if err := os.Remove(filepath.Join(r.state, ledger.FileName)); err != nil {
		t.Fatal(err)
	}
	slackBefore, dingBefore := len(r.slack.Messages()), len(r.ding.Messages())
	sum, res = e.timer(t, at, creds)
	if !res.ok {
		t.Fatalf("second timer run failed: %s", res.body)
	}
	silenced := map[string]string{}
	for _, a := range sum["alerts"].([]any) {
		a := a.(map[string]any)
		if s, _ := a["silenced"].(string); s != "" {
			silenced[fmt.Sprint(a["rule"], " ", a["template"])] = s
		}
	}
	if !strings.Contains(silenced["read-rate-drop 1100SHOP0001"], "@bob") ||
		!strings.Contains(silenced["dead-url-button 1100FLASH0002"], "DingTalk link") || len(silenced) != 2 {
		t.Errorf("silenced in the summary: %v; want the two, naming who", silenced)
	}
	// The digests sent anyway end with a "Silenced" note naming the two,
	// who silenced them and until when; no alert line names them.
	var sent, held strings.Builder
	for _, m := range r.slack.Messages()[slackBefore:] {
		alerts, note, _ := strings.Cut(m.BlockText(), ":no_bell: *Silenced*")
		sent.WriteString(alerts)
		held.WriteString(note)
	}
	for _, m := range r.ding.Messages()[dingBefore:] {
		alerts, note, _ := strings.Cut(m.Text, "#### 🔕 Silenced")
		sent.WriteString(alerts)
		held.WriteString(note)
	}
	for _, tmpl := range []string{"1100SHOP0001", "1100FLASH0002"} {
		if strings.Contains(sent.String(), tmpl) {
			t.Errorf("the second run notified silenced %s", tmpl)
		}
	}
	for _, want := range []string{"1100SHOP0001", "read-rate-drop", "@bob", "1100FLASH0002", "dead-url-button", "DingTalk link", "until "} {
		if !strings.Contains(held.String(), want) {
			t.Errorf("the Silenced notes do not say %q:\n%s", want, held.String())
		}
	}
	for _, tmpl := range []string{"1100DLV0006", "1100WEEK0003"} {
		if !strings.Contains(sent.String(), tmpl) {
			t.Errorf("the second run did not notify %s", tmpl)
		}
	}
	r.checkDelivered(t)

	// Eight days later (by the wall clock silences are judged by) both
	// silences have ended: a run of the same trigger notifies the two again.
	later := r.app()
	later.tune.now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
	emuApp.Store(later)
	if err := os.Remove(filepath.Join(r.state, ledger.FileName)); err != nil {
		t.Fatal(err)
	}
	slackBefore = len(r.slack.Messages())
	if sum, res = e.timer(t, at, creds); !res.ok {
		t.Fatalf("third timer run failed: %s", res.body)
	}
	for _, a := range sum["alerts"].([]any) {
		if s, _ := a.(map[string]any)["silenced"].(string); s != "" {
			t.Errorf("still silenced after the silences ended: %v", a)
		}
	}
	sent.Reset()
	for _, m := range r.slack.Messages()[slackBefore:] {
		sent.WriteString(m.BlockText())
	}
	for _, tmpl := range []string{"1100SHOP0001", "1100FLASH0002"} {
		if !strings.Contains(sent.String(), tmpl) {
			t.Errorf("the third run did not notify %s once its silence ended", tmpl)
		}
	}
}

// TestBinaryServesActions: the built binary under FC (FC_RUNTIME_API set,
// the process's own environment) answers HTTP trigger events while a run
// holds the ledger lock: the DingTalk page, its POST, an unknown path; and
// runs no cycle for them.
func TestBinaryServesActions(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	r := newRig(t)
	r.setenv("ACTION_URL", "https://alerts.example.com")
	r.setenv("ACTION_SECRET", e2eActionSecret)
	r.addSecret(e2eActionSecret)
	e, addr := newFCEmu()
	cmd := exec.Command(bin)
	cmd.Env = append(r.environ(), "FC_RUNTIME_API="+addr)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	select {
	case <-e.ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("the binary never polled the runtime API: %s", stderr.String())
	}
	tok := silence.Request{Rule: "zero-clicks", Template: "1100AB", Language: "en", TemplateName: "Promo",
		For: 24 * time.Hour}.Sign(e2eActionSecret, time.Now())
	serve := func(method, path string, query map[string]string, body string) events.HTTPTriggerResponse {
		t.Helper()
		ev := events.HTTPTriggerEvent{RawPath: &path, QueryParameters: &query, Body: &body,
			Headers: &map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}
		ev.TriggerContext.Http.Method = &method
		payload, _ := json.Marshal(ev)
		res, err := e.invoke(t.Context(), payload, [3]string{})
		if err != nil || !res.ok {
			t.Fatalf("%s %s: %v %s\n%s", method, path, err, res.body, stderr.String())
		}
		var resp events.HTTPTriggerResponse
		if err := json.Unmarshal(res.body, &resp); err != nil {
			t.Fatalf("%s %s: not an HTTPTriggerResponse: %s", method, path, res.body)
		}
		return resp
	}
	// A run holds the ledger lock: a click does not wait for it.
	unlock, err := ledger.Lock(r.state)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if resp := serve("GET", "/silence", map[string]string{"token": tok}, ""); resp.StatusCode != 200 || !strings.Contains(resp.Body, "Promo") {
		t.Errorf("GET /silence: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := serve("POST", "/silence", nil, url.Values{"token": {tok}}.Encode()); resp.StatusCode != 200 {
		t.Errorf("POST /silence: %d %s", resp.StatusCode, resp.Body)
	}
	if resp := serve("GET", "/admin", nil, ""); resp.StatusCode != 404 {
		t.Errorf("GET /admin: %d, want 404", resp.StatusCode)
	}
	all, err := (&silence.Store{StateDir: r.state}).All()
	if err != nil || len(all) != 1 || all[0].Match.Template != "1100AB" {
		t.Errorf("silences stored: %+v, %v; want the one", all, err)
	}
	if n := r.cams.Count("ListChatappTemplate", "") + r.cams.Count("GetChatappTemplateMetric", ""); n != 0 {
		t.Errorf("HTTP events made %d CAMS calls", n)
	}
	r.checkNoSecrets(t, "the binary's output", stderr.String())
}
