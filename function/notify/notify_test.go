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

func TestTruncate(t *testing.T) {
	for i, tt := range []struct{ got, want string }{
		{TruncateRunes("héllo wörld", 5), "héll…"},
		{TruncateRunes("abc", 5), "abc"},
		{TruncateBytes("日本語テキスト", 10), "日本…"},
	} {
		if tt.got != tt.want {
			t.Errorf("%d: got %q, want %q", i, tt.got, tt.want)
		}
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
