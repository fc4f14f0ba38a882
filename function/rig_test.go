package main

// The end-to-end rig shared by e2e_test.go and faults_test.go: a camstest
// CAMS server (optionally behind a fault-injecting proxy), notifytest Slack
// and DingTalk servers, a STATE_DIR, the environment, and the CLI run
// in-process. Every credential is a recognisable secret, and every run checks
// that none of them shows in stdout, stderr, the summary, the messages the
// fakes received (accepted or rejected) or the ledger.

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams/camstest"
	"github.com/cams-alert/cams-alert/function/config"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/monitor"
	"github.com/cams-alert/cams-alert/function/notify/notifytest"
)

// Recognisable secrets: any of them in any output is a leak.
const (
	rigAccessKeyID     = "LTAI5tRIGkeyIDsecret7781"
	rigAccessKeySecret = "RIGakSECRETvalue-3c9f0a71"
	rigSecurityToken   = "CAIS-RIGstsTOKENsecret-55e2b8d4"
	rigDingSecret      = "SECdingRobotSecret0123456789"
)

type rig struct {
	cams  *camstest.Server
	slack *notifytest.Slack
	ding  *notifytest.DingTalk
	state string
	// env is the whole environment the CLI sees; tune its test knobs.
	env  map[string]string
	tune tuning
	// secrets are recognisable values that must never be printed.
	secrets []string
}

type rigOptions struct {
	noSample bool
}

// rigOption configures newRig.
type rigOption func(*rigOptions)

// withoutSample starts the CAMS server empty instead of with testdata/sample.
func withoutSample() rigOption { return func(o *rigOptions) { o.noSample = true } }

func newRig(t *testing.T, opts ...rigOption) *rig {
	t.Helper()
	var o rigOptions
	for _, f := range opts {
		f(&o)
	}
	r := &rig{
		cams: camstest.New(t, camstest.WithCredentials(rigAccessKeyID, rigAccessKeySecret),
			camstest.WithSecurityToken(rigSecurityToken)),
		slack: notifytest.NewSlack(t),
		ding:  notifytest.NewDingTalk(t, rigDingSecret),
		state: t.TempDir(),
	}
	if !o.noSample {
		if err := r.cams.LoadDir("../testdata/sample"); err != nil {
			t.Fatal(err)
		}
	}
	r.env = map[string]string{
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     rigAccessKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": rigAccessKeySecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN":    rigSecurityToken,
		"CAMS_ENDPOINT":                   r.cams.URL(),
		"RULES_PATH":                      "../rules",
		"STATE_DIR":                       r.state,
		"SLACK_WEBHOOK_URL":               r.slack.WebhookURL,
		"DINGTALK_WEBHOOK_URL":            r.ding.WebhookURL,
		"DINGTALK_SECRET":                 rigDingSecret,
		"TIMEZONE":                        "Asia/Shanghai",
	}
	r.secrets = []string{rigAccessKeyID, rigAccessKeySecret, rigSecurityToken,
		r.slack.WebhookToken, r.ding.AccessToken, rigDingSecret,
		url.QueryEscape(rigAccessKeySecret), url.QueryEscape(rigSecurityToken)}
	return r
}

// fast makes delivery retries and pacing take milliseconds (the waits are
// still taken, scaled down 100 times), for the duration of the test.
func (r *rig) fast(t *testing.T) {
	t.Helper()
	r.tune.minInterval = 10 * time.Millisecond
	r.tune.sleep = func(ctx context.Context, d time.Duration) error {
		tm := time.NewTimer(d / 100)
		defer tm.Stop()
		select {
		case <-tm.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// tuneLedger makes the ledger's file-system calls go through o.
func (r *rig) tuneLedger(o ledger.Options) { r.tune.ledger = o }

// setenv sets one variable of the CLI's environment (not the process's:
// tests run in parallel).
func (r *rig) setenv(name, value string) { r.env[name] = value }

// environ is the environment of the binary run as a child process: the
// process's own without any variable the CLI reads, then the rig's.
func (r *rig) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(config.Variables(), name) {
			out = append(out, kv)
		}
	}
	for k, v := range r.env {
		out = append(out, k+"="+v)
	}
	return out
}

// app is the CLI as a run sees it: the rig's environment and knobs.
func (r *rig) app() *app {
	env := r.env
	return &app{lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }, tune: r.tune}
}

// addSecret registers one more value that must never be printed.
func (r *rig) addSecret(s string) { r.secrets = append(r.secrets, s) }

// run runs the CLI in-process and decodes the --json summary.
func (r *rig) run(t *testing.T, args ...string) (int, *monitor.Summary, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := r.app().cli(context.Background(), append([]string{"run", "--json"}, args...), &stdout, &stderr)
	r.checkNoSecrets(t, "stdout and stderr", stdout.String()+stderr.String())
	r.checkDelivered(t)
	var sum monitor.Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("stdout is not one JSON summary: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	return code, &sum, stderr.String()
}

// runRaw runs the CLI in-process with exactly args.
func (r *rig) runRaw(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	code = r.app().cli(context.Background(), args, &o, &e)
	r.checkNoSecrets(t, "stdout and stderr", o.String()+e.String())
	r.checkDelivered(t)
	return code, o.String(), e.String()
}

func (r *rig) checkNoSecrets(t *testing.T, where, out string) {
	t.Helper()
	for _, s := range r.secrets {
		if s != "" && strings.Contains(out, s) {
			t.Errorf("%s leaks secret %q", where, s[:6]+"…")
		}
	}
}

// checkDelivered looks for secrets in everything the fakes received (raw
// bodies, accepted or not, and why they were rejected) and in STATE_DIR.
func (r *rig) checkDelivered(t *testing.T) {
	t.Helper()
	for _, m := range r.slack.Messages() {
		r.checkNoSecrets(t, "a Slack message", string(m.Raw))
	}
	for _, m := range r.ding.Messages() {
		r.checkNoSecrets(t, "a DingTalk message", string(m.Raw))
	}
	r.checkNoSecrets(t, "Slack's rejections", strings.Join(r.slack.Problems(), "\n"))
	r.checkNoSecrets(t, "DingTalk's rejections", strings.Join(r.ding.Problems(), "\n"))
	_ = filepath.WalkDir(r.state, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil {
			r.checkNoSecrets(t, "ledger file "+d.Name(), string(b))
		}
		return nil
	})
}

// slackText is the text of every accepted Slack message.
func (r *rig) slackText() string {
	var b strings.Builder
	for _, m := range r.slack.Messages() {
		b.WriteString(m.BlockText())
		b.WriteString("\n")
	}
	return b.String()
}

// dingText is the text of every accepted DingTalk message.
func (r *rig) dingText() string {
	var b strings.Builder
	for _, m := range r.ding.Messages() {
		b.WriteString(m.Text)
		b.WriteString("\n")
	}
	return b.String()
}

// camsFault decides what the proxy does with the n-th (from 1) call for a
// template ("" for ListChatappTemplate): delay it, or reset the connection.
type camsFault func(template string, n int) (delay time.Duration, reset bool)

// proxy puts a fault-injecting reverse proxy in front of the CAMS server and
// points CAMS_ENDPOINT at it. Returns how many connections it reset.
func (r *rig) proxy(t *testing.T, fault camsFault) func() int {
	t.Helper()
	target, _ := url.Parse(r.cams.URL())
	rp := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	calls := map[string]int{}
	resets := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		tmpl := req.URL.Query().Get("TemplateCode")
		mu.Lock()
		calls[tmpl]++
		n := calls[tmpl]
		mu.Unlock()
		delay, reset := fault(tmpl, n)
		if delay > 0 {
			tm := time.NewTimer(delay)
			select {
			case <-tm.C:
			case <-req.Context().Done():
				tm.Stop()
				return
			}
		}
		if reset {
			mu.Lock()
			resets++
			mu.Unlock()
			hj, ok := w.(http.Hijacker)
			if !ok {
				panic("proxy: cannot hijack")
			}
			conn, _, err := hj.Hijack()
			if err != nil {
				return
			}
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			conn.Close()
			return
		}
		rp.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.setenv("CAMS_ENDPOINT", srv.URL)
	return func() int { mu.Lock(); defer mu.Unlock(); return resets }
}
