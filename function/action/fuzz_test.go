package action

import (
	"testing"
)

// FuzzServe: any method, path, query token, body and headers get an answer
// from the known set, never a panic, and only a signed request or a valid
// token stores anything.
func FuzzServe(f *testing.F) {
	f.Add("POST", "/slack/actions", "", "payload=%7B%7D", "v0=00", "1", false)
	f.Add("GET", "/silence", "e30.AAAA", "", "", "", false)
	f.Add("POST", "/silence", "", "token=e30.AAAA", "", "", true)
	f.Fuzz(func(t *testing.T, method, path, token, body, sig, ts string, b64 bool) {
		r := newRig(t, "https://alerts.example.com")
		ev := event(method, path, map[string]string{"X-Slack-Signature": sig, "X-Slack-Request-Timestamp": ts},
			map[string]string{"token": token}, body, b64)
		resp := r.serve(ev)
		switch resp.StatusCode {
		case 200, 400, 401, 403, 404, 405, 413:
		default:
			t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
		}
		if n := len(r.silences(t)); n != 0 {
			t.Fatalf("%s %s stored %d silences without a valid signature or token", method, path, n)
		}
	})
}
