package cams

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/cams-alert/cams-alert/function/metrics"
)

func TestReplayMetrics(t *testing.T) {
	r := &Replay{Dir: fixtures}
	ctx := context.Background()
	tests := []struct {
		name    string
		q       Query
		series  int
		periods int
		code    string // error code
	}{
		{name: "window of a week, two languages",
			q:      Query{Template: "1100AB0001", Start: day0.AddDate(0, 0, 5), End: day0.AddDate(0, 0, 12)},
			series: 2, periods: 7},
		{name: "all history", q: Query{Template: "1100AB0001", Start: day0.AddDate(0, 0, -60), End: day0.AddDate(0, 0, 60)},
			series: 2, periods: 30},
		{name: "one language", q: Query{Template: "1100AB0001", Language: "id", Start: day0, End: day0.AddDate(0, 0, 3)},
			series: 1, periods: 3},
		{name: "weekday campaign with string numbers and a duplicate bucket",
			q:      Query{Template: "1100AB0002", Start: day0, End: day0.AddDate(0, 0, 30)},
			series: 1, periods: 22},
		{name: "outside the recording", q: Query{Template: "1100AB0001", Start: day0.AddDate(1, 0, 0), End: day0.AddDate(1, 0, 7)}},
		{name: "recorded permission error", q: Query{Template: "1100AB0003", Start: day0, End: day0.AddDate(0, 0, 1)},
			code: CodePermissionDenied},
		{name: "no recording", q: Query{Template: "1100ZZ", Start: day0, End: day0.AddDate(0, 0, 1)}, code: CodeNoRecording},
		{name: "path traversal refused", q: Query{Template: "../cams/1100AB0001", Start: day0, End: day0.AddDate(0, 0, 1)},
			code: "InvalidTemplateCode"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := r.Metrics(ctx, tc.q)
			if tc.code != "" {
				ae := asAPIError(t, err)
				if ae.Code != tc.code || ae.Retryable() || ae.Template != tc.q.Template {
					t.Fatalf("error %v (%s)", ae, ae.Code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.series {
				t.Fatalf("%d series, want %d", len(got), tc.series)
			}
			for _, s := range got {
				if len(s.Periods) != tc.periods || s.Template != tc.q.Template || s.Granularity != metrics.Daily {
					t.Fatalf("%s: %d periods, want %d", s.Key, len(s.Periods), tc.periods)
				}
				for _, p := range s.Periods {
					if p.Start.Before(tc.q.Start) || !p.Start.Before(tc.q.End) || p.End.Sub(p.Start).Hours() != 24 {
						t.Fatalf("period %v–%v outside the query", p.Start, p.End)
					}
				}
			}
		})
	}
	// The duplicate bucket of 1100AB0002 kept the larger count.
	got, _ := r.Metrics(ctx, Query{Template: "1100AB0002", Start: day0, End: day0.AddDate(0, 0, 30)})
	for i := 1; i < len(got[0].Periods); i++ {
		if !got[0].Periods[i].Start.After(got[0].Periods[i-1].Start) {
			t.Fatal("duplicate not merged")
		}
	}
	if calls, retries := r.Stats(); calls != int64(len(tests))+1 || retries != 0 {
		t.Fatalf("stats %d %d", calls, retries)
	}
}

func TestReplayListTemplates(t *testing.T) {
	ctx := context.Background()
	got, err := (&Replay{Dir: fixtures}).ListTemplates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, tp := range got {
		codes = append(codes, tp.Code)
	}
	// templates.json: pass and APPROVED MARKETING ones; not UTILITY, auditing, fail.
	if want := "[1100AB0001 1100AB0002 1100AB0003]"; fmtList(codes) != want {
		t.Fatalf("templates %v, want %s", codes, want)
	}

	dir := t.TempDir()
	for _, name := range []string{"B2.json", "A1.json", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(`{"Code":"OK","Data":[]}`), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err = (&Replay{Dir: dir}).ListTemplates(ctx)
	if err != nil || len(got) != 2 || got[0].Code != "A1" || got[1].Code != "B2" || !got[0].Monitored() {
		t.Fatalf("without templates.json: %+v %v", got, err)
	}

	if err := os.WriteFile(filepath.Join(dir, TemplatesFile), []byte(`{"Code":"Ram.PermissionDeny","Message":"no"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = (&Replay{Dir: dir}).ListTemplates(ctx)
	if ae := asAPIError(t, err); ae.Code != CodePermissionDenied || ae.API != APITemplates || ae.HTTPStatus != 400 {
		t.Fatalf("recorded list error: %v", ae)
	}
}

func fmtList(s []string) string {
	out := "["
	for i, v := range s {
		if i > 0 {
			out += " "
		}
		out += v
	}
	return out + "]"
}
