package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
)

var (
	t0     = time.Date(2026, 5, 14, 16, 0, 0, 0, time.UTC) // a DAILY period start (00:00 +08:00)
	shang  = time.FixedZone("CST", 8*3600)
	nowRun = time.Date(2026, 5, 15, 1, 30, 0, 0, time.UTC)
)

func item(rule, tmpl string) *alert.Item {
	return &alert.Item{Rule: rule, Template: tmpl, Language: "en", Severity: "critical", State: alert.Firing,
		Metric: "read_rate", IsRate: true, Value: 0.1, Baseline: 0.6, HasBaseline: true, Volume: 950,
		Trend: "▇▇▆▁", Summary: tmpl + " read rate <10%> & falling", Since: t0}
}

func mustOpen(t testing.TB, dir string) *Ledger {
	t.Helper()
	l, err := Open(dir, nowRun)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func mustSave(t testing.TB, l *Ledger) {
	t.Helper()
	if err := l.Save(); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

// canon renders entries as JSON: compares times by instant and offset, not
// by *Location pointer.
func canon(t testing.TB, es []Entry) string {
	t.Helper()
	b, err := json.Marshal(es)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func noTemps(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir)
	if l.Len() != 0 {
		t.Fatalf("new ledger has %d entries", l.Len())
	}
	a := item("read-rate-drop", "T1")
	b := item("zero-clicks", "T2")
	b.Button = "Shop now"
	l.MarkSent(a.Key(), "ops-slack", t0, Firing, nowRun)
	l.MarkSent(a.Key(), "ops-ding", t0.In(shang), Firing, nowRun.Add(time.Second))
	l.MarkPending(Entry{Alert: b.Key(), Channel: "ops-ding", Period: t0, Transition: Firing,
		LastTried: nowRun, LastError: "dingtalk: errcode 130101 (throttled)", Item: b})
	l.MarkSent(a.Key(), "ops-slack", t0.AddDate(0, 0, -1), Resolved, nowRun.Add(-24*time.Hour))
	l.MarkSent("health", "ops-slack", t0, Health, nowRun)
	l.MarkSent(a.Key(), "ops-slack", t0.AddDate(0, 0, 1), Repeat, nowRun.Add(24*time.Hour))
	want := canon(t, l.Entries())
	mustSave(t, l)

	data, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte(`{"version":1,"entries":[`+"\n")) {
		t.Errorf("file starts %q", data[:min(40, len(data))])
	}
	if n := bytes.Count(data, []byte("\n")); n != 6+2 {
		t.Errorf("want one entry per line (8 newlines), got %d:\n%s", n, data)
	}

	r := mustOpen(t, dir)
	if got := canon(t, r.Entries()); got != want {
		t.Errorf("round trip:\n got %s\nwant %s", got, want)
	}
	if !r.Sent(a.Key(), "ops-ding", t0, Firing) {
		t.Error("same instant in another zone must be the same period")
	}
	if r.Sent(b.Key(), "ops-ding", t0, Firing) {
		t.Error("pending entry reported as sent")
	}
	if _, ok := r.Get(a.Key(), "ops-slack", t0, Resolved); ok {
		t.Error("Get found a notification that was never recorded")
	}
	// Saving the reloaded ledger unchanged writes the same bytes.
	r.dirty = true
	mustSave(t, r)
	again, _ := os.ReadFile(filepath.Join(dir, FileName))
	if !bytes.Equal(again, data) {
		t.Errorf("re-save differs:\n%s\n---\n%s", data, again)
	}
	noTemps(t, dir)
}

func TestOpenCreatesDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "state")
	l := mustOpen(t, dir)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("dir not created: %v", err)
	}
	// Nothing changed: Save writes nothing.
	mustSave(t, l)
	if _, err := os.Stat(filepath.Join(dir, FileName)); !os.IsNotExist(err) {
		t.Errorf("clean Save wrote a file: %v", err)
	}
}

func TestOpenCorrupt(t *testing.T) {
	valid := func() []byte {
		dir := t.TempDir()
		l := mustOpen(t, dir)
		for i := range 5 {
			l.MarkPending(Entry{Alert: fmt.Sprintf("r|T%d|en", i), Channel: "c", Period: t0, Transition: Firing, Item: item("r", "T")})
		}
		mustSave(t, l)
		data, _ := os.ReadFile(filepath.Join(dir, FileName))
		return data
	}()
	tests := []struct {
		name string
		data []byte
		want string // in the error
	}{
		{"bad json", []byte(`{"version":1,"entries":[{]}`), "invalid character"},
		{"truncated", valid[:len(valid)/2], "unexpected end"},
		{"truncated at entry boundary", valid[:bytes.LastIndex(valid, []byte("\n]}"))], "unexpected end"},
		{"empty file", nil, "empty file"},
		{"nul bytes (lost write)", make([]byte, 512), "invalid character"},
		{"unknown version", []byte(`{"version":2,"entries":[]}`), "unknown version 2"},
		{"no version", []byte(`{"entries":[]}`), "unknown version 0"},
		{"not an object", []byte(`[1,2,3]`), "cannot unmarshal"},
		{"trailing garbage", append(append([]byte{}, valid...), "}{"...), "invalid character"},
		{"two files concatenated", append(append([]byte{}, valid...), valid...), "invalid character"},
		{"unknown status", []byte(`{"version":1,"entries":[{"alert":"a","channel":"c","period":"2026-05-14T16:00:00Z","transition":"firing","status":"maybe"}]}`), `unknown status "maybe"`},
		{"no alert", []byte(`{"version":1,"entries":[{"channel":"c","period":"2026-05-14T16:00:00Z","transition":"firing","status":"sent"}]}`), "no alert"},
		{"no period", []byte(`{"version":1,"entries":[{"alert":"a","channel":"c","transition":"firing","status":"sent"}]}`), "no period"},
		{"bad time", []byte(`{"version":1,"entries":[{"alert":"a","channel":"c","period":"yesterday","transition":"firing","status":"sent"}]}`), "cannot parse"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			l, err := Open(dir, nowRun)
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("want *CorruptError, got %v", err)
			}
			if l == nil {
				t.Fatal("no usable ledger returned with the CorruptError")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), ce.KeptAs) {
				t.Errorf("error %q should contain %q and the kept path", err, tc.want)
			}
			if ce.Path != path || ce.KeptAs != path+".corrupt-20260515T013000Z" {
				t.Errorf("Path=%s KeptAs=%s", ce.Path, ce.KeptAs)
			}
			kept, err := os.ReadFile(ce.KeptAs)
			if err != nil || !bytes.Equal(kept, tc.data) {
				t.Errorf("kept file does not hold the original bytes: %v", err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("corrupt ledger.json still in place: %v", err)
			}
			if l.Len() != 0 {
				t.Errorf("corrupt ledger loaded %d entries", l.Len())
			}
			// The fresh ledger works.
			l.MarkSent("a", "c", t0, Firing, nowRun)
			mustSave(t, l)
			if r := mustOpen(t, dir); !r.Sent("a", "c", t0, Firing) {
				t.Error("ledger after corruption does not persist")
			}
		})
	}
}

func TestOpenCorruptTwiceKeepsBoth(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	var kept []string
	for i, data := range []string{"first{", "second{"} {
		os.WriteFile(path, []byte(data), 0o600)
		_, err := Open(dir, nowRun) // same second both times
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("%d: %v", i, err)
		}
		kept = append(kept, ce.KeptAs)
		if b, _ := os.ReadFile(ce.KeptAs); string(b) != data {
			t.Errorf("%d: kept %q want %q", i, b, data)
		}
	}
	if kept[0] == kept[1] || kept[1] != kept[0]+"-2" {
		t.Errorf("kept names %q", kept)
	}
}

func isRoot() bool { return os.Geteuid() == 0 }

// chmodBlocks reports whether a read-only chmod really blocks writes here
// (not as root, not on some file systems).
func chmodBlocks(t *testing.T) bool {
	d := t.TempDir()
	os.Chmod(d, 0o500)
	defer os.Chmod(d, 0o700)
	f, err := os.Create(filepath.Join(d, "x"))
	if err == nil {
		f.Close()
		return false
	}
	return true
}

func TestOpenPlainErrors(t *testing.T) {
	t.Run("parent is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		os.WriteFile(f, []byte("x"), 0o600)
		l, err := Open(filepath.Join(f, "state"), nowRun)
		var ce *CorruptError
		if err == nil || errors.As(err, &ce) || l != nil {
			t.Fatalf("want a plain error and no ledger, got %v, %v", l, err)
		}
	})
	t.Run("ledger.json is a directory", func(t *testing.T) {
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, FileName), 0o700)
		l, err := Open(dir, nowRun)
		var ce *CorruptError
		if err == nil || errors.As(err, &ce) || l != nil {
			t.Fatalf("want a plain error, got %v", err)
		}
	})
	t.Run("not writable (injected)", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version":1,"entries":[]}`), 0o600)
		ro := Options{CreateTemp: func(string, string) (*os.File, error) { return nil, errors.New("read-only file system") }}
		l, err := ro.Open(dir, nowRun)
		if err == nil || l != nil || !strings.Contains(err.Error(), dir) {
			t.Fatalf("want a plain error naming the dir, got %v", err)
		}
	})
	t.Run("read-only dir (chmod)", func(t *testing.T) {
		if isRoot() || !chmodBlocks(t) {
			t.Skip("chmod does not block writes here (root?); covered by the injected case")
		}
		dir := t.TempDir()
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
		if _, err := Open(dir, nowRun); err == nil {
			t.Fatal("Open of a read-only dir succeeded")
		}
	})
	t.Run("unreadable file (chmod)", func(t *testing.T) {
		if isRoot() || !chmodBlocks(t) {
			t.Skip("chmod does not block reads here (root?)")
		}
		dir := t.TempDir()
		p := filepath.Join(dir, FileName)
		os.WriteFile(p, []byte(`{"version":1,"entries":[]}`), 0o000)
		l, err := Open(dir, nowRun)
		var ce *CorruptError
		if err == nil || errors.As(err, &ce) || l != nil {
			t.Fatalf("want a plain error, got %v", err)
		}
		if _, err := os.Stat(p); err != nil {
			t.Error("unreadable ledger must not be moved aside")
		}
	})
}

// readOnlyTemp creates a real temp file but hands back a read-only handle:
// Write fails the way a full disk would.
func readOnlyTemp(dir, pattern string) (*os.File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	name := f.Name()
	f.Close()
	return os.Open(name)
}

func TestSaveFailureLeavesOldFile(t *testing.T) {
	tests := []struct {
		name   string
		inject func(t *testing.T, dir string, l *Ledger) (restore func())
	}{
		{"cannot create temp (read-only / full)", func(_ *testing.T, _ string, l *Ledger) func() {
			l.opts.CreateTemp = func(string, string) (*os.File, error) {
				return nil, errors.New("no space left on device")
			}
			return func() { l.opts = Options{} }
		}},
		{"write fails", func(_ *testing.T, _ string, l *Ledger) func() {
			l.opts.CreateTemp = readOnlyTemp
			return func() { l.opts = Options{} }
		}},
		{"rename fails", func(_ *testing.T, _ string, l *Ledger) func() {
			l.opts.Rename = func(string, string) error { return errors.New("input/output error") }
			return func() { l.opts = Options{} }
		}},
		{"dir made read-only (chmod)", func(t *testing.T, dir string, _ *Ledger) func() {
			if isRoot() || !chmodBlocks(t) {
				t.Skip("chmod does not block writes here (root?); covered by the injected cases")
			}
			os.Chmod(dir, 0o500)
			return func() { os.Chmod(dir, 0o700) }
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			l := mustOpen(t, dir)
			l.MarkSent("old", "c", t0, Firing, nowRun)
			mustSave(t, l)
			before, _ := os.ReadFile(path)

			l.MarkSent("new", "c", t0, Firing, nowRun)
			restore := tc.inject(t, dir, l)
			err := l.Save()
			restore()
			if err == nil {
				t.Fatal("Save succeeded despite the failure")
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name %s", err, path)
			}
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Errorf("ledger.json changed by a failed save")
			}
			noTemps(t, dir)
			r := mustOpen(t, dir)
			if !r.Sent("old", "c", t0, Firing) || r.Sent("new", "c", t0, Firing) {
				t.Error("reopen after failed save should show the old state")
			}
			// The change stays in memory; the next Save writes it.
			mustSave(t, l)
			if r := mustOpen(t, dir); !r.Sent("new", "c", t0, Firing) {
				t.Error("retry Save lost the change")
			}
		})
	}
}

func TestPendingSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	it := item("read-rate-drop", "T1")
	e := Entry{Alert: it.Key(), Channel: "ops-slack", Period: t0, Transition: Firing, Item: it,
		LastTried: nowRun, LastError: "slack: 500"}
	l := mustOpen(t, dir)
	l.MarkPending(e)
	it.Value = 42 // the ledger keeps its own copy
	mustSave(t, l)

	// Next run, a later period: the payload is there to re-send.
	next := nowRun.Add(24 * time.Hour)
	l2, err := Open(dir, next)
	if err != nil {
		t.Fatal(err)
	}
	p := l2.Pending()
	if len(p) != 1 {
		t.Fatalf("pending: %v", p)
	}
	got := p[0]
	if got.Item == nil || got.Item.Key() != e.Alert || got.Item.Value != 0.1 || got.Item.Summary != it.Summary ||
		!got.Item.Since.Equal(t0) || got.Item.Trend != "▇▇▆▁" {
		t.Errorf("payload not preserved: %+v", got.Item)
	}
	if got.Attempts != 1 || !got.FirstTried.Equal(nowRun) || got.LastError != "slack: 500" || got.Status != StatusPending {
		t.Errorf("entry: %+v", got)
	}
	// Fails again (no payload given: the stored one is kept).
	l2.MarkPending(Entry{Alert: e.Alert, Channel: e.Channel, Period: e.Period, Transition: e.Transition,
		LastTried: next, LastError: "slack: timeout"})
	got, _ = l2.Get(e.Alert, e.Channel, e.Period, e.Transition)
	if got.Attempts != 2 || !got.FirstTried.Equal(nowRun) || !got.LastTried.Equal(next) ||
		got.LastError != "slack: timeout" || got.Item == nil {
		t.Errorf("second attempt: %+v", got)
	}
	// Mutating a returned copy does not touch the ledger.
	got.Item.Value = 99
	if again, _ := l2.Get(e.Alert, e.Channel, e.Period, e.Transition); again.Item.Value != 0.1 {
		t.Error("Get returned a shared payload")
	}
}

func TestMarkPendingDefaultsAndNonFinite(t *testing.T) {
	l := mustOpen(t, t.TempDir())
	it := item("r", "T")
	it.Value, it.Baseline = math.NaN(), math.Inf(1)
	l.MarkPending(Entry{Alert: it.Key(), Channel: "c", Period: t0, Transition: Firing, Item: it})
	got, _ := l.Get(it.Key(), "c", t0, Firing)
	if !got.LastTried.Equal(nowRun) || !got.FirstTried.Equal(nowRun) {
		t.Errorf("zero LastTried should default to the run's now: %+v", got)
	}
	mustSave(t, l) // NaN would make json.Marshal fail
}

func TestMarkSentAfterPending(t *testing.T) {
	dir := t.TempDir()
	it := item("r", "T1")
	k := it.Key()
	l := mustOpen(t, dir)
	l.MarkPending(Entry{Alert: k, Channel: "c", Period: t0, Transition: Firing, Item: it, LastTried: nowRun, LastError: "boom"})
	mustSave(t, l)

	l = mustOpen(t, dir)
	sentAt := nowRun.Add(time.Hour)
	l.MarkSent(k, "c", t0, Firing, sentAt)
	mustSave(t, l)

	l = mustOpen(t, dir)
	got, ok := l.Get(k, "c", t0, Firing)
	if !ok || got.Status != StatusSent || !l.Sent(k, "c", t0, Firing) {
		t.Fatalf("not sent: %+v", got)
	}
	if got.Attempts != 2 || !got.FirstTried.Equal(nowRun) || !got.SentAt.Equal(sentAt) || got.LastError != "" || got.Item != nil {
		t.Errorf("sent entry: %+v", got)
	}
	if p := l.Pending(); len(p) != 0 {
		t.Errorf("still pending: %v", p)
	}
	// Sent is final: a late failure report or a second MarkSent changes nothing.
	l.MarkPending(Entry{Alert: k, Channel: "c", Period: t0, Transition: Firing, LastError: "late"})
	l.MarkSent(k, "c", t0, Firing, sentAt.Add(time.Hour))
	if again, _ := l.Get(k, "c", t0, Firing); canon(t, []Entry{again}) != canon(t, []Entry{got}) {
		t.Errorf("sent entry changed: %+v", again)
	}
}

func TestPendingSorted(t *testing.T) {
	l := mustOpen(t, t.TempDir())
	add := func(a, c string, days int, tr string) {
		l.MarkPending(Entry{Alert: a, Channel: c, Period: t0.AddDate(0, 0, days), Transition: tr})
	}
	add("b", "x", 1, Firing)
	add("a", "y", 1, Firing)
	add("a", "x", 1, Resolved)
	add("a", "x", 1, Firing)
	add("z", "z", 0, Firing)
	l.MarkSent("0", "0", t0, Firing, nowRun)
	var got []string
	for _, e := range l.Pending() {
		got = append(got, fmt.Sprintf("%s/%s/%d/%s", e.Alert, e.Channel, e.Period.Sub(t0)/(24*time.Hour), e.Transition))
	}
	want := "z/z/0/firing a/x/1/firing a/x/1/resolved a/y/1/firing b/x/1/firing"
	if strings.Join(got, " ") != want {
		t.Errorf("Pending order:\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}

func TestPrune(t *testing.T) {
	day := 24 * time.Hour
	cut := nowRun.Add(-30 * day)
	tests := []struct {
		name      string
		e         Entry
		kept      bool
		abandoned bool
	}{
		{"old sent", Entry{Period: cut.Add(-2 * day), SentAt: cut.Add(-day), Status: StatusSent}, false, false},
		{"old period, recently sent (rerun of an old period)", Entry{Period: cut.Add(-2 * day), SentAt: cut.Add(day), Status: StatusSent}, true, false},
		{"recent sent", Entry{Period: nowRun.Add(-day), SentAt: nowRun, Status: StatusSent}, true, false},
		{"pending 6 days", Entry{Period: nowRun.Add(-7 * day), FirstTried: nowRun.Add(-6 * day), Status: StatusPending}, true, false},
		{"pending 8 days", Entry{Period: nowRun.Add(-9 * day), FirstTried: nowRun.Add(-8 * day), Status: StatusPending}, false, true},
		{"pending, very old period but first tried today", Entry{Period: cut.Add(-day), FirstTried: nowRun, Status: StatusPending}, true, false},
	}
	l := mustOpen(t, t.TempDir())
	for i, tc := range tests {
		e := tc.e
		e.Alert, e.Channel, e.Transition = fmt.Sprintf("a%d", i), "c", Firing
		l.entries[e.key()] = &e
	}
	r := l.Prune(cut)
	var wantSent, wantAbandoned int
	for i, tc := range tests {
		_, ok := l.Get(fmt.Sprintf("a%d", i), "c", tc.e.Period, Firing)
		if ok != tc.kept {
			t.Errorf("%s: kept=%v want %v", tc.name, ok, tc.kept)
		}
		if !tc.kept && !tc.abandoned {
			wantSent++
		}
		if tc.abandoned {
			wantAbandoned++
		}
	}
	if r.Sent != wantSent || len(r.Abandoned) != wantAbandoned {
		t.Errorf("Prune = %+v, want %d sent, %d abandoned", r, wantSent, wantAbandoned)
	}
	if len(r.Abandoned) == 1 && r.Abandoned[0].Alert != "a4" {
		t.Errorf("abandoned %+v", r.Abandoned)
	}
	// A custom PendingMaxAge.
	l.PendingMaxAge = 12 * time.Hour
	if r := l.Prune(cut); len(r.Abandoned) != 1 || r.Abandoned[0].Alert != "a3" {
		t.Errorf("PendingMaxAge 12h: %+v", r)
	}
	if r := l.Prune(cut); r.Sent != 0 || len(r.Abandoned) != 0 {
		t.Errorf("second prune dropped more: %+v", r)
	}
}

func TestDrop(t *testing.T) {
	l := mustOpen(t, t.TempDir())
	l.MarkPending(Entry{Alert: "a", Channel: "gone", Period: t0, Transition: Firing})
	if !l.Drop("a", "gone", t0, Firing) || l.Drop("a", "gone", t0, Firing) || l.Len() != 0 {
		t.Error("Drop")
	}
}

func TestDuplicateEntriesMerge(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), []byte(`{"version":1,"entries":[
{"alert":"a","channel":"c","period":"2026-05-15T00:00:00+08:00","transition":"firing","status":"sent","attempts":1,"sent_at":"2026-05-15T01:00:00Z"},
{"alert":"a","channel":"c","period":"2026-05-14T16:00:00Z","transition":"firing","status":"pending","attempts":3,"last_tried":"2026-05-16T01:00:00Z"}
]}`), 0o600)
	l := mustOpen(t, dir)
	if l.Len() != 1 || !l.Sent("a", "c", t0, Firing) {
		t.Errorf("duplicates: sent should win: %+v", l.Entries())
	}
}

func TestOpenReadOnly(t *testing.T) {
	t.Run("missing dir is empty and not created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nope")
		l, err := OpenReadOnly(dir)
		if err != nil || l.Len() != 0 {
			t.Fatal(l, err)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Error("OpenReadOnly created the dir")
		}
		l.MarkSent("a", "c", t0, Firing, nowRun)
		if err := l.Save(); !errors.Is(err, ErrReadOnly) {
			t.Errorf("Save = %v", err)
		}
	})
	t.Run("corrupt is reported, not moved", func(t *testing.T) {
		dir := t.TempDir()
		p := filepath.Join(dir, FileName)
		os.WriteFile(p, []byte("{"), 0o600)
		l, err := OpenReadOnly(dir)
		var ce *CorruptError
		if !errors.As(err, &ce) || ce.KeptAs != "" || l == nil {
			t.Fatalf("got %v", err)
		}
		if b, _ := os.ReadFile(p); string(b) != "{" {
			t.Error("file touched")
		}
	})
	t.Run("reads entries", func(t *testing.T) {
		dir := t.TempDir()
		w := mustOpen(t, dir)
		w.MarkSent("a", "c", t0, Firing, nowRun)
		mustSave(t, w)
		l, err := OpenReadOnly(dir)
		if err != nil || !l.Sent("a", "c", t0, Firing) {
			t.Fatal(err)
		}
	})
}

func TestOpenRemovesOldTemps(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, tempPrefix+"123")
	fresh := filepath.Join(dir, tempPrefix+"456")
	os.WriteFile(old, []byte("half"), 0o600)
	os.WriteFile(fresh, []byte("half"), 0o600)
	os.Chtimes(old, nowRun.Add(-time.Hour), nowRun.Add(-time.Hour))
	os.Chtimes(fresh, nowRun, nowRun)
	mustOpen(t, dir)
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Error("old temp file left")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Error("fresh temp file (maybe another writer's) removed")
	}
}

func TestConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	l := mustOpen(t, dir)
	var wg sync.WaitGroup
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				ch := fmt.Sprintf("c%d", c)
				l.MarkPending(Entry{Alert: fmt.Sprint(i), Channel: ch, Period: t0, Transition: Firing})
				l.MarkSent(fmt.Sprint(i), ch, t0, Firing, nowRun)
				l.Sent(fmt.Sprint(i), ch, t0, Firing)
				l.Entries()
				if i%10 == 0 {
					if err := l.Save(); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	mustSave(t, l)
	if r := mustOpen(t, dir); r.Len() != 200 || len(r.Pending()) != 0 {
		t.Errorf("got %d entries, %d pending", r.Len(), len(r.Pending()))
	}
}

// TestCrashBetweenPostAndSave simulates runs that die at every point of the
// send protocol and counts deliveries: each notification is delivered at
// least once and at most twice (the one in flight when the crash hit).
func TestCrashBetweenPostAndSave(t *testing.T) {
	type note struct{ alert, channel string }
	notes := []note{{"r|T1|en", "slack"}, {"r|T2|en", "slack"}, {"r|T1|en", "ding"}, {"r|T3|en", "ding"}}

	// run sends what the ledger says is due, following the documented
	// protocol: write-ahead pending + Save, POST, MarkSent + Save. It
	// "crashes" (returns without saving) after crashAfterPost deliveries.
	var later Options // a clock past the dead run's lock, once there is one
	run := func(t *testing.T, dir string, now time.Time, delivered map[note]int, crashAfterPost int) {
		unlock, err := later.Lock(dir)
		if err != nil {
			t.Fatal(err)
		}
		l := mustOpen(t, dir)
		posts := 0
		for _, n := range notes {
			if l.Sent(n.alert, n.channel, t0, Firing) {
				continue
			}
			l.MarkPending(Entry{Alert: n.alert, Channel: n.channel, Period: t0, Transition: Firing, LastTried: now,
				Item: &alert.Item{Rule: "r", Template: strings.Split(n.alert, "|")[1], Language: "en"}})
			mustSave(t, l)
			delivered[n]++ // the POST succeeded
			posts++
			if posts == crashAfterPost {
				return // instance killed: no MarkSent, no Save, no unlock
			}
			l.MarkSent(n.alert, n.channel, t0, Firing, now)
			mustSave(t, l)
		}
		unlock()
	}
	for crash := 0; crash <= len(notes); crash++ {
		t.Run(fmt.Sprintf("crash after post %d", crash), func(t *testing.T) {
			later = Options{}
			dir := t.TempDir()
			delivered := map[note]int{}
			run(t, dir, nowRun, delivered, crash)
			if crash > 0 {
				// The dead run's entry is pending, payload and all.
				l := mustOpen(t, dir)
				p := l.Pending()
				if len(p) != 1 || p[0].Alert != notes[crash-1].alert || p[0].Item == nil {
					t.Fatalf("after crash: pending %+v", p)
				}
				// The dead instance's lock blocks a retry until it is stale.
				if _, err := Lock(dir); err == nil {
					t.Fatal("lock of the dead run not held")
				}
				later = Options{Clock: func() time.Time { return time.Now().Add(StaleAfter + time.Minute) }}
			}
			// FC retry / manual rerun of the same period, then another.
			run(t, dir, nowRun.Add(time.Hour), delivered, 0)
			run(t, dir, nowRun.Add(2*time.Hour), delivered, 0)
			for i, n := range notes {
				want := 1
				if i == crash-1 {
					want = 2 // the single message in flight at the crash
				}
				if delivered[n] != want {
					t.Errorf("%v delivered %d times, want %d", n, delivered[n], want)
				}
			}
			if l := mustOpen(t, dir); len(l.Pending()) != 0 || l.Len() != len(notes) {
				t.Errorf("final ledger: %+v", l.Entries())
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	f.Add([]byte(`{"version":1,"entries":[]}`))
	f.Add([]byte(`{"version":1,"entries":[{"alert":"a","channel":"c","period":"2026-05-14T16:00:00Z","transition":"firing","status":"sent","sent_at":"2026-05-15T01:00:00+08:00"}]}`))
	f.Add([]byte(`{"version":1,"entries":[{"alert":"a","channel":"c","period":"2026-05-14T16:00:00Z","transition":"firing","status":"pending","attempts":2,"item":{"rule":"r","value":1e308,"duration":5}}]}`))
	f.Add([]byte(`{"version":1,"entries":[{"alert":"a","channel":"c","period":"2026-05-14T16:00:00Z","transition":"x","status":"sent"},{"alert":"a","channel":"c","period":"2026-05-15T00:00:00+08:00","transition":"x","status":"pending"}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":1,"entries":[`))
	f.Add([]byte(``))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, FileName)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, nowRun)
		if l == nil {
			t.Fatalf("no ledger: %v", err)
		}
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("not a CorruptError: %v", err)
			}
			if kept, rerr := os.ReadFile(ce.KeptAs); rerr != nil || !bytes.Equal(kept, data) {
				t.Fatalf("kept file lost the bytes: %v", rerr)
			}
			if l.Len() != 0 {
				t.Fatal("corrupt ledger not empty")
			}
			return
		}
		// Parsed: saving and reopening gives the same entries.
		want := canon(t, l.Entries())
		l.Pending()
		l.dirty = true
		if err := l.Save(); err != nil {
			t.Fatalf("Save of a parsed ledger: %v", err)
		}
		r, err := Open(dir, nowRun)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if got := canon(t, r.Entries()); got != want {
			t.Fatalf("round trip:\n got %s\nwant %s", got, want)
		}
	})
}

// BenchmarkSave measures one Save of a 10,000-entry ledger after one
// change: what a run pays after each delivery (encode + write + 2 fsyncs).
// BenchmarkSave/encode is the CPU part alone.
func BenchmarkSave(b *testing.B) {
	dir := b.TempDir()
	l := mustOpen(b, dir)
	for i := range 10000 {
		it := item("read-rate-drop", fmt.Sprintf("T%05d", i))
		k := it.Key()
		p := t0.AddDate(0, 0, -(i % 30))
		if i%100 == 0 {
			l.MarkPending(Entry{Alert: k, Channel: "ops-slack", Period: p, Transition: Firing, Item: it, LastError: "slack: 500"})
		} else {
			l.MarkSent(k, "ops-slack", p, Firing, nowRun)
		}
	}
	mustSave(b, l)
	st, _ := os.Stat(filepath.Join(dir, FileName))
	b.Run("save", func(b *testing.B) {
		pend := item("read-rate-drop", "T00000")
		for b.Loop() {
			// One change per Save (another failed attempt), size constant.
			l.MarkPending(Entry{Alert: pend.Key(), Channel: "ops-slack", Period: t0, Transition: Firing, LastError: "slack: 500"})
			if err := l.Save(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(st.Size()), "file-bytes")
	})
	b.Run("encode", func(b *testing.B) {
		for b.Loop() {
			if _, err := l.encode(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// A memory ledger keeps what it is told and saves without touching a disk.
func TestNewMemory(t *testing.T) {
	l := NewMemory(nowRun)
	l.MarkPending(Entry{Alert: "r|T|en", Channel: "c", Period: t0, Transition: Firing})
	l.MarkSent("r|T|en", "c", t0, Firing, nowRun)
	if err := l.Save(); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if !l.Sent("r|T|en", "c", t0, Firing) || l.Len() != 1 || l.Path() != "" {
		t.Errorf("sent %v, len %d, path %q", l.Sent("r|T|en", "c", t0, Firing), l.Len(), l.Path())
	}
}
