package main

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

// silencesApp is the CLI with STATE_DIR=state and the wall clock *now.
func silencesApp(state string, now *time.Time) *app {
	a := &app{lookup: func(k string) (string, bool) {
		if k == "STATE_DIR" {
			return state, true
		}
		return "", false
	}}
	if now != nil {
		a.tune.now = func() time.Time { return *now }
	}
	return a
}

func runSilences(t *testing.T, a *app, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := a.cli(t.Context(), append([]string{"silences"}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// TestSilencesCLI: add, list (text and --json with exactly the documented
// fields), expire; expired silences are not listed.
func TestSilencesCLI(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a := silencesApp(t.TempDir(), &now)

	out, stderr, code := runSilences(t, a, "add", "--rule", "zero-clicks", "--template", "1100AB*", "--button", "Shop now",
		"--for", "7d", "--reason", "campaign paused")
	if code != 0 {
		t.Fatalf("add: exit %d: %s", code, stderr)
	}
	id := strings.Fields(out)[0]
	if _, _, code := runSilences(t, a, "add", "--rule", "r", "--template", "T", "--for", "1h", "--reason", "short"); code != 0 {
		t.Fatal("second add failed")
	}
	out, _, code = runSilences(t, a, "list", "--json")
	if code != 0 {
		t.Fatalf("list --json: exit %d", code)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 2 {
		t.Fatalf("list --json: %v, %d items: %s", err, len(list), out)
	}
	var keys []string
	for k := range list[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"created_at", "created_by", "id", "match", "reason", "until"}; !reflect.DeepEqual(keys, want) {
		t.Errorf("list --json fields %v, want %v", keys, want)
	}
	first := list[0]
	if first["id"] != id {
		first = list[1]
	}
	if first["id"] != id || first["until"] != "2026-12-08T09:00:00Z" || first["reason"] != "campaign paused" ||
		!reflect.DeepEqual(first["match"], map[string]any{"rule": "zero-clicks", "template": "1100AB*", "button": "Shop now"}) {
		t.Errorf("first silence %v", first)
	}
	if by, _ := first["created_by"].(string); !strings.HasPrefix(by, "cli ") {
		t.Errorf("created_by %q", by)
	}
	if out, _, _ := runSilences(t, a, "list"); !strings.Contains(out, id) || !strings.Contains(out, "template=1100AB*") {
		t.Errorf("list: %s", out)
	}
	if _, stderr, code := runSilences(t, a, "expire", id); code != 0 {
		t.Fatalf("expire: exit %d: %s", code, stderr)
	}
	now = now.Add(2 * time.Hour) // the 1h one has run out too
	out, _, _ = runSilences(t, a, "list", "--json")
	if strings.TrimSpace(out) != "[]" {
		t.Errorf("list --json after expiry: %s, want []", out)
	}
}

func TestSilencesCLIErrors(t *testing.T) {
	t.Parallel()
	a := silencesApp(t.TempDir(), nil)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"add", "--rule", "r", "--for", "1d", "--reason", "x"}, 2, "--template"},
		{[]string{"add", "--rule", "r", "--template", "T", "--for", "soon", "--reason", "x"}, 2, "--for"},
		{[]string{"add", "--rule", "r", "--template", "T", "--for", "1d"}, 2, "--reason"},
		{[]string{"add", "--rule", "r", "--template", "[", "--for", "1d", "--reason", "x"}, 2, "glob"},
		{[]string{"expire", "0123456789abcdef"}, 1, "no such silence"},
		{[]string{"expire", "../x"}, 1, "16 hex digits"},
		{[]string{"expire"}, 2, "one silence ID"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{nil, 2, "usage"},
	} {
		_, stderr, code := runSilences(t, a, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("silences %v: exit %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
