package ledger

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLockContention(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(dir)
	var le *LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second Lock: want *LockedError, got %v", err)
	}
	if le.PID != os.Getpid() || le.Path != filepath.Join(dir, LockFileName) || time.Since(le.Since) > time.Minute {
		t.Errorf("LockedError %+v", le)
	}
	if msg := err.Error(); !strings.Contains(msg, "locked by pid") || !strings.Contains(msg, le.Path) {
		t.Errorf("unclear message: %s", msg)
	}
	unlock()
	unlock() // idempotent
	u2, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	u2()
	if _, err := os.Stat(filepath.Join(dir, LockFileName)); !os.IsNotExist(err) {
		t.Error("lock file left after unlock")
	}
}

func TestLockStale(t *testing.T) {
	old := time.Now().Add(-StaleAfter - time.Minute)
	tests := []struct {
		name    string
		content string
		mtime   time.Time
		taken   bool
	}{
		{"stale by content", `{"pid":999999,"host":"dead","created":"` + old.UTC().Format(time.RFC3339) + `","token":"x"}`, time.Now(), true},
		{"fresh by content", `{"pid":999999,"host":"alive","created":"` + time.Now().UTC().Format(time.RFC3339) + `","token":"x"}`, old, false},
		{"garbage, old mtime (died mid-write)", ``, old, true},
		{"garbage, fresh mtime", `{"pi`, time.Now(), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, LockFileName)
			os.WriteFile(p, []byte(tc.content), 0o644)
			os.Chtimes(p, tc.mtime, tc.mtime)
			unlock, err := Lock(dir)
			if tc.taken {
				if err != nil {
					t.Fatalf("stale lock not taken over: %v", err)
				}
				b, _ := os.ReadFile(p)
				if !strings.Contains(string(b), `"pid":`) || strings.Contains(string(b), "999999") {
					t.Errorf("lock file now %s", b)
				}
				unlock()
				ents, _ := os.ReadDir(dir)
				if len(ents) != 0 {
					t.Errorf("left %v", ents)
				}
				return
			}
			var le *LockedError
			if !errors.As(err, &le) {
				t.Fatalf("fresh lock: want *LockedError, got %v", err)
			}
		})
	}
}

// A run that outlives StaleAfter and is taken over must not remove the new
// holder's lock when it finally unlocks.
func TestUnlockAfterTakeover(t *testing.T) {
	dir := t.TempDir()
	slow, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	later := Options{Clock: func() time.Time { return time.Now().Add(StaleAfter + time.Minute) }}
	next, err := later.Lock(dir)
	if err != nil {
		t.Fatalf("takeover: %v", err)
	}
	slow()
	if _, err := Lock(dir); err == nil {
		t.Fatal("slow run's unlock removed the new holder's lock")
	}
	next()
	if u, err := Lock(dir); err != nil {
		t.Fatal(err)
	} else {
		u()
	}
}

func TestLockPlainErrors(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, []byte("x"), 0o600)
	_, err := Lock(filepath.Join(f, "state"))
	var le *LockedError
	if err == nil || errors.As(err, &le) {
		t.Fatalf("want a plain error, got %v", err)
	}
}

// A run killed mid-delivery leaves its lock behind; when its process is
// provably gone (same host, boot and PID namespace) the next run takes the
// lock at once instead of waiting StaleAfter. A live holder, or one whose
// PID cannot be checked from here, still blocks.
func TestLockDeadHolder(t *testing.T) {
	boot, ns := processScope()
	if boot == "" {
		t.Skip("no /proc boot id or PID namespace here")
	}
	host, _ := os.Hostname()
	now := time.Now().UTC().Format(time.RFC3339)
	lock := func(pid int, host, boot, ns string) string {
		return `{"pid":` + strconv.Itoa(pid) + `,"host":"` + host + `","created":"` + now +
			`","token":"x","boot":"` + boot + `","pidns":"` + ns + `"}`
	}
	alive := map[int]bool{4242: true}
	fake := Options{ProcessAlive: func(pid int) bool { return alive[pid] }}
	tests := []struct {
		name    string
		content string
		taken   bool
	}{
		{"dead here", lock(4343, host, boot, ns), true},
		{"alive here", lock(4242, host, boot, ns), false},
		{"other host", lock(4343, host+"-other", boot, ns), false},
		{"other boot", lock(4343, host, "other-boot", ns), false},
		{"other pid namespace", lock(4343, host, boot, "pid:[1]"), false},
		{"no scope (old lock)", `{"pid":4343,"host":"` + host + `","created":"` + now + `","token":"x"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, LockFileName), []byte(tc.content), 0o644)
			unlock, err := fake.Lock(dir)
			if !tc.taken {
				var le *LockedError
				if !errors.As(err, &le) || le.PID != 4242 && le.PID != 4343 {
					t.Fatalf("want *LockedError naming the holder, got %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("dead holder's lock not taken over: %v", err)
			}
			unlock()
		})
	}
	// The real check: a child that has exited and been reaped is dead.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("cannot run true:", err)
	}
	if processAlive(cmd.Process.Pid) {
		t.Errorf("reaped child %d reported alive", cmd.Process.Pid)
	}
	if !processAlive(os.Getpid()) {
		t.Error("this process reported dead")
	}
}
