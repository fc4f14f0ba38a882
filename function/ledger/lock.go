package ledger

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// LockFileName is the lock file inside the state directory.
const LockFileName = "ledger.lock"

// StaleAfter is the age after which a lock is considered left behind by a
// dead instance (FC kills instances without running cleanup) and is taken
// over. A run must finish well within it: keep the function timeout below
// it. A lock whose holder provably died (same host, boot and PID namespace,
// and its process is gone: a killed `run`) is taken over at once. The deployment also sets instanceConcurrency: 1 in s.yaml, so a single
// instance never runs two invocations at once; this lock covers two
// instances (a timer run and an FC retry, or a manual `run` against the
// same NAS/OSS mount).
const StaleAfter = 15 * time.Minute

// lockInfo is the lock file's content.
type lockInfo struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host,omitempty"`
	Created time.Time `json:"created"`
	Token   string    `json:"token"`
	// Boot and PIDNS (Linux boot id and PID namespace) say whether PID can
	// be checked from here: a holder in our boot and PID namespace whose
	// process is gone died without unlocking (killed, OOM), and its lock is
	// taken over at once instead of after StaleAfter.
	Boot  string `json:"boot,omitempty"`
	PIDNS string `json:"pidns,omitempty"`
}

// LockedError is returned by Lock when another run holds a fresh lock.
type LockedError struct {
	Path string
	PID  int
	Host string
	// Since is when the holder took the lock (the lock file's time when
	// its content is unreadable).
	Since time.Time
}

func (e *LockedError) Error() string {
	holder := "another run"
	if e.PID != 0 {
		holder = fmt.Sprintf("pid %d", e.PID)
		if e.Host != "" {
			holder += " on " + e.Host
		}
	}
	return fmt.Sprintf("ledger %s is locked by %s since %s (taken over after %s if that run died)",
		e.Path, holder, e.Since.UTC().Format(time.RFC3339), StaleAfter)
}

// Lock takes the ledger lock in dir (creating dir if needed): a lock file
// created with O_EXCL holding pid, host, time and a random token. A second
// locker gets a *LockedError, unless the lock is older than StaleAfter, in
// which case it is taken over. The returned unlock removes the lock file if
// it is still ours; it is idempotent.
func Lock(dir string) (unlock func(), err error) { return Options{}.Lock(dir) }

// Lock is the package's Lock, judging lock ages by o's clock.
func (o Options) Lock(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ledger lock: state dir: %w", err)
	}
	path := filepath.Join(dir, LockFileName)
	host, _ := os.Hostname()
	var tok [8]byte
	rand.Read(tok[:])
	me := lockInfo{PID: os.Getpid(), Host: host, Token: hex.EncodeToString(tok[:])}
	me.Boot, me.PIDNS = processScope()

	for attempt := 0; attempt < 3; attempt++ {
		me.Created = o.now().UTC()
		data, _ := json.Marshal(me)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			_, werr := f.Write(data)
			if werr == nil {
				werr = f.Sync()
			}
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("ledger lock %s: %w", path, werr)
			}
			var once sync.Once
			return func() { once.Do(func() { release(path, data) }) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("ledger lock %s: %w", path, err)
		}
		held, info, since, err := readLock(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("ledger lock %s: %w", path, err)
		}
		if o.now().Sub(since) < StaleAfter && !o.holderDead(info, me) {
			return nil, &LockedError{Path: path, PID: info.PID, Host: info.Host, Since: since}
		}
		// Stale: move it to a name of our own, then check that what we
		// moved is the lock we judged stale and not a fresh one that
		// another run wrote in between (put that one back).
		aside := path + ".stale-" + me.Token
		if err := os.Rename(path, aside); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return nil, fmt.Errorf("ledger lock %s: take over stale lock: %w", path, err)
		}
		moved, _ := os.ReadFile(aside)
		if !bytes.Equal(moved, held) {
			os.Rename(aside, path)
			return nil, &LockedError{Path: path, PID: info.PID, Host: info.Host, Since: since}
		}
		os.Remove(aside)
	}
	return nil, fmt.Errorf("ledger lock %s: could not take the lock (contended)", path)
}

// readLock returns the lock's raw content, its parsed info and when it was
// taken: the content's time, or the file's mtime when the content is
// unreadable (a holder that died between create and write).
func readLock(path string) ([]byte, lockInfo, time.Time, error) {
	var info lockInfo
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, info, time.Time{}, err
	}
	if json.Unmarshal(data, &info) == nil && !info.Created.IsZero() {
		return data, info, info.Created, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, info, time.Time{}, err
	}
	return data, lockInfo{}, st.ModTime(), nil
}

// release removes the lock file if it still holds our content (after
// StaleAfter another run may have taken it over; that lock is not ours).
func release(path string, mine []byte) {
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(data, mine) {
		return
	}
	os.Remove(path)
}

// processScope identifies where a PID means something: the boot and the PID
// namespace (empty where /proc has neither: then only age makes a lock stale).
func processScope() (boot, pidns string) {
	if b, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		boot = string(bytes.TrimSpace(b))
	}
	if ns, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		pidns = ns
	}
	if boot == "" || pidns == "" {
		return "", ""
	}
	return boot, pidns
}

// holderDead reports whether the lock's holder is a process of this host,
// boot and PID namespace that no longer exists. Anything uncertain (another
// host or namespace, an old lock without scope, a PID reused by another
// process) counts as alive.
func (o Options) holderDead(holder, me lockInfo) bool {
	if holder.PID <= 0 || holder.PID == me.PID || holder.Boot == "" || holder.PIDNS == "" ||
		holder.Host != me.Host || holder.Boot != me.Boot || holder.PIDNS != me.PIDNS {
		return false
	}
	if o.ProcessAlive != nil {
		return !o.ProcessAlive(holder.PID)
	}
	return !processAlive(holder.PID)
}

func processAlive(pid int) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return err == nil || errors.Is(err, syscall.EPERM)
}
