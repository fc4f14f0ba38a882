package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/cams"
)

// withBuckets is the sample recording of template with extra Data items,
// each a bucket of span long in the evaluated day (23 Nov, Asia/Shanghai)
// that was read by nobody and clicked by nobody: taken as a day, it is a
// read-rate collapse.
func withBuckets(t *testing.T, template string, span time.Duration, n int) []byte {
	t.Helper()
	body, err := os.ReadFile("../testdata/sample/" + template + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(body, &rec); err != nil {
		t.Fatal(err)
	}
	data, _ := rec["Data"].([]any)
	last, _ := data[len(data)-1].(map[string]any)
	day := time.Date(2026, 11, 23, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	for i := range n {
		// From midnight: a short bucket in the last day before the query's
		// end could be that day clipped by the query, and is kept.
		start := day.Add(time.Duration(i) * span)
		data = append(data, map[string]any{
			"TemplateCode": template, "Language": last["Language"],
			"Start": start.UnixMilli(), "End": start.Add(span).UnixMilli(),
			"SentCount": 2000, "DeliveredCount": 1900, "ReadCount": 0,
			"Cliented": []map[string]any{{"Type": "url_button", "ButtonContent": "Shop now", "Count": 0}},
		})
	}
	rec["Data"] = data
	out, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSpanMismatchIsAWarning: a DAILY answer with HALF_HOUR buckets in it.
// The buckets are dropped (no false alert), the rest of the template is
// evaluated (it counts as checked), and the drop is reported in the summary
// and in the health message, without failing the run.
func TestSpanMismatchIsAWarning(t *testing.T) {
	t.Parallel()
	const tmpl = "1100BURST0004"

	t.Run("control: the same numbers as a day fire", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		if err := r.cams.SetRecorded(tmpl, withBuckets(t, tmpl, 24*time.Hour, 1)); err != nil {
			t.Fatal(err)
		}
		_, sum, stderr := r.run(t, "--at", sampleAt)
		if got := firing(sum); !slices.ContainsFunc(got, func(f string) bool { return strings.Contains(f, tmpl) }) {
			t.Fatalf("a day read by nobody fired nothing for %s (firing %q): the test below would prove nothing\n%s", tmpl, got, stderr)
		}
	})

	t.Run("half-hour buckets in a daily answer", func(t *testing.T) {
		t.Parallel()
		r := newRig(t)
		if err := r.cams.SetRecorded(tmpl, withBuckets(t, tmpl, 30*time.Minute, 3)); err != nil {
			t.Fatal(err)
		}
		code, sum, stderr := r.run(t, "--at", sampleAt)
		if code != exitOK {
			t.Errorf("exit %d, want %d: the template was checked, the dropped buckets are a warning\n%s", code, exitOK, stderr)
		}
		want := slices.Clone(wantFiring)
		slices.Sort(want)
		if got := firing(sum); !slices.Equal(got, want) {
			t.Errorf("firing:\n got %q\nwant %q (no false alert from the dropped buckets)", got, want)
		}
		if sum.Templates != 7 {
			t.Errorf("templates checked = %d, want 7 (the warned template is checked)", sum.Templates)
		}
		if len(sum.Errors) != 1 {
			t.Fatalf("errors = %+v, want the one warning", sum.Errors)
		}
		e := sum.Errors[0]
		if e.Template != tmpl || e.Code != cams.CodeSpanMismatch || !e.Warning || !strings.Contains(e.Message, "3 buckets") {
			t.Errorf("error = %+v, want a %s warning for %s that counts 3 buckets", e, cams.CodeSpanMismatch, tmpl)
		}
		if !strings.Contains(stderr, cams.CodeSpanMismatch) {
			t.Errorf("stderr does not log the warning:\n%s", stderr)
		}
		for where, text := range map[string]string{"slack": r.slackText(), "dingtalk": r.dingText()} {
			if !strings.Contains(text, cams.CodeSpanMismatch) || !strings.Contains(text, tmpl) {
				t.Errorf("%s health message lacks the warning:\n%s", where, text)
			}
		}
		if sum.Notifications.Pending != 0 || sum.Notifications.HealthPending != 0 {
			t.Errorf("notifications = %+v, want everything delivered", sum.Notifications)
		}
	})
}
