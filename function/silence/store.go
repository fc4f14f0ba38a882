package silence

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Store is the silences folder of one state directory.
type Store struct {
	StateDir string
}

// idRE is the form of every id the store makes; `silences expire` refuses
// anything else, so an id can never name a path outside the folder.
var idRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

const (
	silenceExt = ".json"
	expiredExt = ".expired"
	tmpPrefix  = ".tmp-"
	// maxFile bounds what is read from one file: a silence is a few
	// hundred bytes, and a stray huge file must not cost a run its memory.
	maxFile = 64 << 10
)

// expiry is the record `silences expire` adds beside a silence.
type expiry struct {
	ID        string    `json:"id"`
	ExpiredAt time.Time `json:"expired_at"`
	By        string    `json:"by"`
}

func (st *Store) dir() string { return filepath.Join(st.StateDir, Dir) }

// KeyID is the id a silence created with an idempotency key gets: the same
// key always names the same file.
func KeyID(key string) string {
	sum := sha256.Sum256([]byte("cams-alert silence\x00" + key))
	return hex.EncodeToString(sum[:8])
}

func randomID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("silence id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Create stores s. With a key (a Slack action, a link's token), creating
// again with the same key returns the silence already stored and created
// false: a retried delivery leaves one silence. Without a key every call
// makes a new silence. s.ID is set.
func (st *Store) Create(s *Silence, key string) (stored *Silence, created bool, err error) {
	if err := s.Check(); err != nil {
		return nil, false, fmt.Errorf("silence: %w", err)
	}
	if key != "" {
		s.ID = KeyID(key)
	} else if s.ID, err = randomID(); err != nil {
		return nil, false, err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, false, fmt.Errorf("silence: %w", err)
	}
	final := filepath.Join(st.dir(), s.ID+silenceExt)
	switch err := st.publish(final, append(b, '\n')); {
	case errors.Is(err, fs.ErrExist):
		old, rerr := readSilence(final)
		if rerr != nil {
			return nil, false, rerr
		}
		return old, false, nil
	case err != nil:
		return nil, false, err
	}
	return s, true, nil
}

// Expire ends silence id at now by adding an expiry record beside it. An
// already expired silence keeps its first expiry.
func (st *Store) Expire(id, by string, now time.Time) (*Silence, error) {
	if !idRE.MatchString(id) {
		return nil, fmt.Errorf("silence id %q: want 16 hex digits as `silences list` shows", id)
	}
	s, err := readSilence(filepath.Join(st.dir(), id+silenceExt))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("silence %s: no such silence", id)
	}
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(expiry{ID: id, ExpiredAt: now.UTC(), By: by})
	err = st.publish(filepath.Join(st.dir(), id+expiredExt), append(b, '\n'))
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, err
	}
	if err := st.readExpiry(s); err != nil {
		return nil, err
	}
	return s, nil
}

// publish writes b to a temporary file and links it to final, so final
// appears whole or not at all and an existing final is never replaced
// (fs.ErrExist).
func (st *Store) publish(final string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return fmt.Errorf("silences folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(final), tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("silence: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("silence: writing %s: %w", filepath.Base(final), err)
	}
	return link(tmp.Name(), final)
}

// link makes final from tmp without replacing an existing final. Mounts
// without hard links (OSS through ossfs) get a rename after an existence
// check: two creates racing there both write the same key's silence, so
// whichever lands is the one silence.
func link(tmp, final string) error {
	err := os.Link(tmp, final)
	var le *os.LinkError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return fs.ErrExist
	case errors.As(err, &le) && noLinks(le.Err):
		if _, serr := os.Lstat(final); serr == nil {
			return fs.ErrExist
		}
		if err := os.Rename(tmp, final); err != nil {
			return fmt.Errorf("silence: %w", err)
		}
		return nil
	}
	return fmt.Errorf("silence: %w", err)
}

func noLinks(err error) bool {
	return errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTSUP) ||
		errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.EXDEV)
}

// All reads every stored silence, expired ones included, oldest first. A
// file that cannot be read is reported by name in the error; the others are
// still returned, so one bad file does not lift every silence.
func (st *Store) All() ([]Silence, error) {
	entries, err := os.ReadDir(st.dir())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("silences folder: %w", err)
	}
	var out []Silence
	var errs []error
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), silenceExt)
		if !ok || !idRE.MatchString(id) {
			continue // temporary files and expiry records
		}
		s, err := readSilence(filepath.Join(st.dir(), e.Name()))
		if err == nil {
			err = st.readExpiry(s)
		}
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) { // pruned meanwhile
				errs = append(errs, err)
			}
			continue
		}
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out, errors.Join(errs...)
}

// Active reads the silences that hold at wall-clock time now.
func (st *Store) Active(now time.Time) ([]Silence, error) {
	all, err := st.All()
	active := all[:0]
	for _, s := range all {
		if s.Active(now) {
			active = append(active, s)
		}
	}
	return active, err
}

// Prune deletes the silences that ended more than PruneAfter before now,
// with their expiry records, and returns how many it deleted.
func (st *Store) Prune(now time.Time) (int, error) {
	all, err := st.All()
	n := 0
	var errs []error
	for _, s := range all {
		if now.Sub(s.End()) <= PruneAfter {
			continue
		}
		base := filepath.Join(st.dir(), s.ID)
		if rerr := os.Remove(base + silenceExt); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("pruning silence %s: %w", s.ID, rerr))
			continue
		}
		if rerr := os.Remove(base + expiredExt); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("pruning silence %s: %w", s.ID, rerr))
		}
		n++
	}
	return n, errors.Join(append([]error{err}, errs...)...)
}

func readLimited(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFile {
		return nil, fmt.Errorf("larger than %d bytes", maxFile)
	}
	return b, nil
}

func readSilence(name string) (*Silence, error) {
	b, err := readLimited(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var s Silence
	if err == nil {
		err = strictJSON(b, &s)
	}
	if err == nil && s.ID+silenceExt != filepath.Base(name) {
		err = fmt.Errorf("id %q does not match the file name", s.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("silence file %s: %w", name, err)
	}
	return &s, nil
}

// readExpiry adds the expiry record of s, if there is one.
func (st *Store) readExpiry(s *Silence) error {
	name := filepath.Join(st.dir(), s.ID+expiredExt)
	b, err := readLimited(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var e expiry
	if err == nil {
		err = strictJSON(b, &e)
	}
	if err == nil && (e.ID != s.ID || e.ExpiredAt.IsZero()) {
		err = errors.New("not an expiry record of this silence")
	}
	if err != nil {
		return fmt.Errorf("silence expiry file %s: %w", name, err)
	}
	s.Expired = e.ExpiredAt
	return nil
}

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("not a silence record: %w", err)
	}
	return nil
}
