package notify

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
)

type fakeNotifier struct {
	errs  []error
	calls int
}

func (f *fakeNotifier) Name() string { return "fake" }
func (f *fakeNotifier) Notify(context.Context, *Digest) error {
	f.calls++
	if len(f.errs) == 0 {
		return nil
	}
	e := f.errs[0]
	f.errs = f.errs[1:]
	return e
}

func TestSend(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		errs      []error
		deadline  time.Duration
		wantErr   string
		wantCalls int
		wantWaits []time.Duration
	}{
		{name: "ok", wantCalls: 1},
		{name: "permanent stops at once", errs: []error{boom}, wantErr: "channel fake: boom", wantCalls: 1},
		{name: "retry-after respected", errs: []error{Retryable(boom, 7*time.Second)}, wantCalls: 2,
			wantWaits: []time.Duration{7 * time.Second}},
		{name: "exponential backoff", errs: []error{Retryable(boom, 0), Retryable(boom, 0), Retryable(boom, 0)}, wantCalls: 4,
			wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{name: "gives up after 5 attempts", errs: []error{Retryable(boom, 0), Retryable(boom, 0), Retryable(boom, 0), Retryable(boom, 0), Retryable(boom, 0), nil},
			wantErr: "boom", wantCalls: 5, wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{name: "waits the platform asks for go on past 5 attempts", errs: slices.Repeat([]error{Retryable(boom, time.Minute)}, 6), wantCalls: 7,
			wantWaits: slices.Repeat([]time.Duration{time.Minute}, 6)},
		{name: "and give up after 15", errs: slices.Repeat([]error{Retryable(boom, time.Minute)}, 16),
			wantErr: "boom", wantCalls: 15, wantWaits: slices.Repeat([]time.Duration{time.Minute}, 14)},
		{name: "backoff is capped at 30s", errs: slices.Repeat([]error{Retryable(boom, time.Millisecond)}, 7), wantCalls: 8,
			wantWaits: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}},
		{name: "no time left for the wait", errs: []error{Retryable(boom, time.Hour)}, deadline: time.Minute,
			wantErr: "no time left to retry", wantCalls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			f := &fakeNotifier{errs: tt.errs}
			var waits []time.Duration
			err := Send(ctx, f, &Digest{}, func(_ context.Context, d time.Duration) error {
				waits = append(waits, d)
				return nil
			})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if f.calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", f.calls, tt.wantCalls)
			}
			if len(waits) != len(tt.wantWaits) {
				t.Fatalf("waits = %v, want %v", waits, tt.wantWaits)
			}
			for i := range waits {
				if waits[i] != tt.wantWaits[i] {
					t.Errorf("waits = %v, want %v", waits, tt.wantWaits)
				}
			}
		})
	}
}

func TestSendStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f := &fakeNotifier{errs: []error{Retryable(errors.New("down"), 0)}}
	err := Send(ctx, f, &Digest{}, nil)
	if err == nil || f.calls != 1 {
		t.Fatalf("err = %v, calls = %d", err, f.calls)
	}
}

func TestIsRetryable(t *testing.T) {
	e := Retryable(errors.New("x"), 3*time.Second)
	if ok, d := IsRetryable(e); !ok || d != 3*time.Second {
		t.Fatalf("IsRetryable = %v %v", ok, d)
	}
	if ok, _ := IsRetryable(errors.New("x")); ok {
		t.Fatal("plain error retryable")
	}
	if Retryable(nil, 0) != nil {
		t.Fatal("Retryable(nil) != nil")
	}
}

func TestDigestSort(t *testing.T) {
	d := &Digest{Items: []alert.Item{
		{Template: "I1", Severity: "info", State: alert.Firing, Volume: 9000},
		{Template: "W-res", Severity: "warning", State: alert.Resolved, Volume: 9000},
		{Template: "W-small", Severity: "warning", State: alert.Firing, Volume: 10},
		{Template: "C1", Severity: "critical", State: alert.Resolved, Volume: 5},
		{Template: "W-big", Severity: "warning", State: alert.Firing, Volume: 500},
		{Template: "C2", Severity: "critical", State: alert.Firing, Volume: 1},
		{Template: "X", Severity: "bogus", State: alert.Firing, Volume: 99999},
		{Template: "W-b", Severity: "warning", State: alert.Firing, Volume: 10},
	}}
	d.Sort()
	var got []string
	for _, it := range d.Items {
		got = append(got, it.Template)
	}
	want := "C2 C1 W-big W-b W-small W-res I1 X"
	if strings.Join(got, " ") != want {
		t.Fatalf("order = %v, want %v", got, want)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{FormatValue(0.0812, true), "8.1%"},
		{FormatValue(0.0025, true), "0.25%"},
		{FormatValue(0, true), "0.0%"},
		{FormatValue(1, true), "100.0%"},
		{FormatValue(1234567, false), "1,234,567"},
		{FormatValue(999, false), "999"},
		{FormatValue(41.5, false), "41.5"},
		{FormatValue(1234.56, false), "1,235"},
		{FormatCount(-12345), "-12,345"},
		{FormatChange(-0.8676), "-86.8%"},
		{FormatChange(0.5), "+50.0%"},
		{FormatDuration(30 * time.Second), "<1m"},
		{FormatDuration(90 * time.Minute), "1h 30m"},
		{FormatDuration(51 * time.Hour), "2d 3h"},
		{FormatDuration(48 * time.Hour), "2d"},
		{MetricName("read_rate"), "read rate"},
		{MoreText(3, 1), "… and 3 more alerts and 1 more health problem not shown (message limit reached)"},
		{PartLabel(2, 3), " (part 2/3)"},
		{PartLabel(1, 1), ""},
		{TruncateRunes("héllo wörld", 5), "héll…"},
		{TruncateRunes("abc", 5), "abc"},
		{TruncateBytes("日本語テキスト", 10), "日本…"},
		{ProblemText(alert.Problem{Template: "T1", Code: "Ram.PermissionDeny", Message: "denied"}), "template T1 not checked: Ram.PermissionDeny — denied"},
		{ProblemText(alert.Problem{Channel: "ops-ding", Code: "310000", Message: "sign"}), "channel ops-ding unreachable: 310000 — sign"},
	}
	for i, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
	}
	loc := time.FixedZone("UTC+8", 8*3600)
	s := time.Date(2026, 5, 10, 0, 0, 0, 0, loc)
	if got := FormatPeriod(s, s.AddDate(0, 0, 1), loc); got != "2026-05-10 00:00 – 2026-05-11 00:00 (UTC+8)" {
		t.Errorf("period = %q", got)
	}
	if got := FormatPeriod(s.UTC(), s.Add(30*time.Minute).UTC(), loc); got != "2026-05-10 00:00–00:30 (UTC+8)" {
		t.Errorf("period = %q", got)
	}
}

func TestDescribe(t *testing.T) {
	loc := time.UTC
	since := time.Date(2026, 5, 9, 0, 0, 0, 0, loc)
	l := Describe(&alert.Item{Rule: "r", Template: "T", Language: "en", Button: "Buy", Severity: "critical",
		State: alert.Firing, Repeat: true, Metric: "click_rate", IsRate: true, Value: 0.01, Baseline: 0.04,
		HasBaseline: true, Volume: 12345, Since: since}, loc)
	if l.State != "firing (reminder)" || l.Change != "-75.0%" || l.Volume != "12,345 delivered" ||
		l.StateDetail != "since 2026-05-09 00:00" || l.Subject() != "T · en · button “Buy”" {
		t.Fatalf("line = %+v", l)
	}
	if got := l.Numbers(); got != "click rate 1.0% · baseline 4.0% (-75.0%) · volume 12,345 delivered" {
		t.Fatalf("numbers = %q", got)
	}
	r := Describe(&alert.Item{State: alert.Resolved, Metric: "sent", Value: 0, Duration: 26 * time.Hour}, loc)
	if r.State != "resolved" || r.StateDetail != "lasted 1d 2h" || r.Volume != "0 sent" || r.Baseline != "" {
		t.Fatalf("resolved line = %+v", r)
	}
}

func TestScrub(t *testing.T) {
	msg := Scrub("post https://x/services/T/B/tok1234567890: tok1234567890 failed", URLSecrets("https://x/services/T/B/tok1234567890")...)
	if strings.Contains(msg, "tok1234567890") {
		t.Fatalf("Scrub left the token: %q", msg)
	}
}

func TestPacer(t *testing.T) {
	p := &Pacer{Interval: 40 * time.Millisecond}
	start := time.Now()
	for range 3 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 80*time.Millisecond {
		t.Fatalf("3 paced waits took %v, want ≥ 80ms", el)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx); err == nil {
		t.Fatal("Wait ignored a cancelled context")
	}
}

func TestProgress(t *testing.T) {
	var p Progress
	d := &Digest{}
	parts := [][]byte{[]byte("a"), []byte("b")}
	p.Begin(d, parts)
	p.Mark(0)
	p.Begin(d, parts)
	if !p.Done(0) || p.Done(1) {
		t.Fatal("resume lost progress")
	}
	p.Begin(&Digest{}, parts)
	if p.Done(0) {
		t.Fatal("another digest inherited progress")
	}
	p.Begin(d, [][]byte{[]byte("a"), []byte("c")})
	if p.Done(0) {
		t.Fatal("changed content inherited progress")
	}
}
