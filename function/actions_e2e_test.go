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
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestActionsEndToEnd: under the FC runtime API emulator, a timer run
// notifies; a Slack click and a DingTalk link (HTTP trigger events) silence
// two alerts; the next timer run does not notify those two and notifies the
// rest, and its summary says who silenced them.
func TestActionsEndToEnd(t *testing.T) {
	r := newRig(t)
	r.fast(t)
	e := startFCEmu(t, r.app())
	gw := e.gateway(t)
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

	// Slack: silence read-rate-drop on 1100SHOP0001 for a day.
	shop := silence.Request{Rule: "read-rate-drop", Template: "1100SHOP0001", Language: "en", For: 24 * time.Hour}
	if code := slackClick(t, gw.URL, "", shop.Value()); code != 200 {
		t.Fatalf("Slack click: %d", code)
	}
	// DingTalk: silence dead-url-button on 1100FLASH0002 for 7 days.
	flash := silence.Request{Rule: "dead-url-button", Template: "1100FLASH0002", Language: "en",
		Button: "type:url_button", For: 7 * 24 * time.Hour}
	link := gw.URL + "/silence?token=" + flash.Sign(e2eActionSecret, time.Now())
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
	var sent strings.Builder
	for _, m := range r.slack.Messages()[slackBefore:] {
		sent.WriteString(m.BlockText())
	}
	for _, m := range r.ding.Messages()[dingBefore:] {
		sent.WriteString(m.Text)
	}
	for _, tmpl := range []string{"1100SHOP0001", "1100FLASH0002"} {
		if strings.Contains(sent.String(), tmpl) {
			t.Errorf("the second run notified silenced %s", tmpl)
		}
	}
	for _, tmpl := range []string{"1100DLV0006", "1100WEEK0003"} {
		if !strings.Contains(sent.String(), tmpl) {
			t.Errorf("the second run did not notify %s", tmpl)
		}
	}
	r.checkDelivered(t)
}
