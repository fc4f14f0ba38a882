package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aliyun/fc-runtime-go-sdk/events"
)

// TestDispatch: the FC entry point tells the two kinds of event apart; an
// HTTP event is answered with an HTTPTriggerResponse and runs no cycle, and
// bad action settings answer 500 without echoing a secret.
func TestDispatch(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.setenv("ACTION_URL", "https://alerts.example.com")
	r.setenv("SLACK_SIGNING_SECRET", e2eSigningSecret)
	a := r.app()
	r.addSecret(e2eSigningSecret)
	httpEvent := `{"version":"v1","rawPath":"/nowhere","headers":{},"queryParameters":{},"body":"","isBase64Encoded":false,"requestContext":{"http":{"method":"GET","path":"/nowhere"}}}`
	for _, tc := range []struct {
		name, payload string
		status        int
		wantErr       string
	}{
		{"ACTION_SECRET missing", httpEvent, 500, ""},
		{"not an event", `[1,2]`, 0, "neither a timer event nor an HTTP trigger event"},
		{"bad triggerTime", `{"triggerTime":"yesterday"}`, 0, "not RFC 3339"},
	} {
		out, err := a.dispatch(context.Background(), []byte(tc.payload))
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s: err %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		resp, ok := out.(*events.HTTPTriggerResponse)
		if err != nil || !ok || resp.StatusCode != tc.status {
			t.Errorf("%s: %#v, %v; want an HTTPTriggerResponse %d", tc.name, out, err, tc.status)
			continue
		}
		r.checkNoSecrets(t, tc.name, resp.Body)
	}
	r.setenv("ACTION_SECRET", e2eActionSecret)
	out, err := a.dispatch(context.Background(), []byte(httpEvent))
	if resp, ok := out.(*events.HTTPTriggerResponse); err != nil || !ok || resp.StatusCode != 404 {
		t.Errorf("unknown path: %#v, %v; want 404", out, err)
	}
	if n := r.cams.Count("ListChatappTemplate", "") + r.cams.Count("GetChatappTemplateMetric", ""); n != 0 {
		t.Errorf("HTTP events made %d CAMS calls: they must never run a cycle", n)
	}
}

// TestDryRunShowsNoToken: a dry run shows where the silence links go, with
// a placeholder instead of a signed token (a token is a secret).
func TestDryRunShowsNoToken(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	r.setenv("ACTION_URL", "https://alerts.example.com")
	r.setenv("ACTION_SECRET", e2eActionSecret)
	r.addSecret(e2eActionSecret)
	_, stdout, stderr := r.runRaw(t, "run", "--dry-run", "--at", sampleAt)
	out := stdout + stderr
	if !strings.Contains(out, "https://alerts.example.com/silence?token=TOKEN") {
		t.Errorf("the dry run shows no silence link:\n%s", out)
	}
	if n := strings.Count(out, "silence?token="); n != strings.Count(out, "silence?token=TOKEN") {
		t.Errorf("the dry run shows a real token")
	}
}
