package silence

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func newSilence(rule string, d time.Duration) *Silence {
	return &Silence{Match: Match{Rule: rule, Template: "T1", Language: "en"}, Until: t0.Add(d),
		Reason: "campaign paused", CreatedBy: "slack:U1 (ana)", CreatedAt: t0}
}

func TestCreateIdempotentByKey(t *testing.T) {
	st := &Store{StateDir: t.TempDir()}
	a, created, err := st.Create(newSilence("r1", time.Hour), "slack:T1:U1:1700000000.1")
	if err != nil || !created {
		t.Fatalf("first create: created %v, err %v", created, err)
	}
	b, created, err := st.Create(newSilence("r1", 2*time.Hour), "slack:T1:U1:1700000000.1")
	if err != nil || created {
		t.Fatalf("second create with the same key: created %v, err %v", created, err)
	}
	if b.ID != a.ID || !b.Until.Equal(a.Until) {
		t.Errorf("second create returned %+v, want the first %+v", b, a)
	}
	c, created, err := st.Create(newSilence("r1", time.Hour), "")
	if err != nil || !created || c.ID == a.ID {
		t.Fatalf("create without key: created %v, id %s, err %v", created, c.ID, err)
	}
	all, err := st.All()
	if err != nil || len(all) != 2 {
		t.Fatalf("All: %d silences, err %v; want 2", len(all), err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(st.StateDir, Dir, tmpPrefix+"*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

// TestConcurrentCreates: creates racing on one key leave one silence; creates
// on distinct keys all land, none torn.
func TestConcurrentCreates(t *testing.T) {
	st := &Store{StateDir: t.TempDir()}
	const n = 24
	var wg sync.WaitGroup
	createdCount := make(chan bool, 2*n)
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, c, err := st.Create(newSilence("same", time.Hour), "one key")
			createdCount <- c
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, _, err := st.Create(newSilence(fmt.Sprintf("r%d", i), time.Hour), fmt.Sprintf("key %d", i))
			errs <- err
		}()
	}
	wg.Wait()
	close(createdCount)
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	created := 0
	for c := range createdCount {
		if c {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d creates with one key reported created, want 1", created)
	}
	all, err := st.All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n+1 {
		t.Errorf("%d silences stored, want %d", len(all), n+1)
	}
}

func TestActiveExpirePrune(t *testing.T) {
	st := &Store{StateDir: t.TempDir()}
	short, _, _ := st.Create(newSilence("short", time.Hour), "a")
	long, _, _ := st.Create(newSilence("long", 48*time.Hour), "b")
	ended, _, _ := st.Create(newSilence("ended", 48*time.Hour), "c")
	if _, err := st.Expire(ended.ID, "cli:ops", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// A second expiry keeps the first.
	if s, err := st.Expire(ended.ID, "cli:ops", t0.Add(time.Hour)); err != nil || !s.Expired.Equal(t0.Add(time.Minute)) {
		t.Fatalf("second expire: %v, expired %v", err, s.Expired)
	}
	for _, tc := range []struct {
		at   time.Time
		want []string
	}{
		{t0, []string{short.ID, long.ID, ended.ID}},
		{t0.Add(2 * time.Minute), []string{short.ID, long.ID}},
		{t0.Add(time.Hour), []string{long.ID}},
		{t0.Add(48 * time.Hour), nil},
	} {
		act, err := st.Active(tc.at)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range act {
			got = append(got, s.ID)
		}
		slices.Sort(tc.want)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("Active(%v) = %v, want %v", tc.at, got, tc.want)
		}
	}
	// ended stopped at t0+1m, short at t0+1h, long at t0+48h.
	if n, err := st.Prune(t0.Add(time.Hour + PruneAfter)); err != nil || n != 1 {
		t.Fatalf("Prune: %d, %v; want 1 (only the early-expired one is 30 days old)", n, err)
	}
	if _, err := os.Stat(filepath.Join(st.StateDir, Dir, ended.ID+expiredExt)); !os.IsNotExist(err) {
		t.Errorf("the expiry record of a pruned silence is still there: %v", err)
	}
	if n, _ := st.Prune(t0.Add(49*time.Hour + PruneAfter)); n != 2 {
		t.Errorf("second prune: %d, want 2", n)
	}
}

func TestExpireBadID(t *testing.T) {
	st := &Store{StateDir: t.TempDir()}
	for _, id := range []string{"", "../../etc/passwd", "0123456789abcdeF", "0123456789abcdef"} {
		if _, err := st.Expire(id, "cli", t0); err == nil {
			t.Errorf("Expire(%q) succeeded", id)
		}
	}
}

func TestBadFilesNamed(t *testing.T) {
	st := &Store{StateDir: t.TempDir()}
	good, _, _ := st.Create(newSilence("good", time.Hour), "g")
	dir := filepath.Join(st.StateDir, Dir)
	for name, body := range map[string]string{
		"00000000000000aa.json": "{not json",
		"00000000000000bb.json": `{"id":"00000000000000bb","surprise":1}`,
		"00000000000000cc.json": `{"id":"0000000000000099"}`,
		"notes.txt":             "ignored",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	all, err := st.All()
	if len(all) != 1 || all[0].ID != good.ID {
		t.Errorf("All kept %d silences, want the good one", len(all))
	}
	for _, name := range []string{"00000000000000aa.json", "00000000000000bb.json", "00000000000000cc.json"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Silence)
		want string
	}{
		{"empty match", func(s *Silence) { s.Match = Match{} }, "match is empty"},
		{"bad glob", func(s *Silence) { s.Match.Template = "[" }, "not a valid glob"},
		{"no author", func(s *Silence) { s.CreatedBy = " " }, "created_by"},
		{"until before created", func(s *Silence) { s.Until = t0.Add(-time.Hour) }, "duration"},
		{"too long", func(s *Silence) { s.Until = t0.Add(MaxDuration + time.Hour) }, "duration"},
		{"ok", func(*Silence) {}, ""},
	} {
		s := newSilence("r", time.Hour)
		tc.edit(s)
		err := s.Check()
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check() = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestMatchesAndWhy(t *testing.T) {
	s := newSilence("zero-*", time.Hour)
	s.Match.Language = ""
	for _, tc := range []struct {
		rule, tmpl, lang, button string
		want                     bool
	}{
		{"zero-clicks", "T1", "en", "", true},
		{"zero-clicks", "T1", "es", "Shop", true},
		{"read-rate-drop", "T1", "en", "", false},
		{"zero-clicks", "T2", "en", "", false},
	} {
		if got := s.Matches(tc.rule, tc.tmpl, tc.lang, tc.button); got != tc.want {
			t.Errorf("Matches(%s,%s,%s,%s) = %v", tc.rule, tc.tmpl, tc.lang, tc.button, got)
		}
	}
	if w := s.Why(); w != "campaign paused by slack:U1 (ana)" {
		t.Errorf("Why() = %q: want the reason and who", w)
	}
	rs := ForRules([]Silence{*s})
	if len(rs) != 1 || rs[0].Rule != "zero-*" || rs[0].Template != "T1" || rs[0].Language != "" ||
		!rs[0].Until.Equal(s.Until) || rs[0].Reason != s.Why() {
		t.Errorf("ForRules = %+v", rs)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"24h", 24 * time.Hour, true}, {"7d", 7 * 24 * time.Hour, true}, {"90m", 90 * time.Minute, true},
		{"1d", 24 * time.Hour, true}, {"0d", 0, false}, {"-1h", 0, false}, {"91d", 0, false},
		{"d", 0, false}, {"1.5d", 0, false}, {"soon", 0, false}, {"", 0, false},
	} {
		got, err := ParseDuration(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, got, err)
		}
	}
}
