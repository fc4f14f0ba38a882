// Package silence keeps the silences made from the chat and the command line:
// one file per silence under STATE_DIR/silences/, so that a click during a
// run never rewrites a file the run reads, and never takes the ledger lock.
// Expiring a silence early adds a second file beside it; nothing is edited
// in place. See docs/actions.md.
package silence

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/rules"
)

// Dir is the folder under STATE_DIR that holds the silences.
const Dir = "silences"

// PruneAfter is how long an expired silence is kept (for `silences list`
// history and for who-did-what questions) before a run deletes it.
const PruneAfter = 30 * 24 * time.Hour

// Match selects alerts: each field is a glob (path.Match syntax, as in the
// rules' silences); empty matches anything.
type Match struct {
	Rule     string `json:"rule,omitempty"`
	Template string `json:"template,omitempty"`
	Language string `json:"language,omitempty"`
	Button   string `json:"button,omitempty"`
}

// Silence is one stored silence. Its JSON form is what `silences list
// --json` prints.
type Silence struct {
	ID        string    `json:"id"`
	Match     Match     `json:"match"`
	Until     time.Time `json:"until"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`

	// Expired is when `silences expire` ended it early (zero: never). It is
	// read from the expiry record beside the silence, not from its file.
	Expired time.Time `json:"-"`
}

// End is when the silence stops holding: its until, or an earlier expiry.
func (s *Silence) End() time.Time {
	if !s.Expired.IsZero() && s.Expired.Before(s.Until) {
		return s.Expired
	}
	return s.Until
}

// Active reports whether the silence holds at wall-clock time now.
func (s *Silence) Active(now time.Time) bool {
	return now.Before(s.End())
}

// Matches reports whether the silence's globs all match the alert.
func (s *Silence) Matches(rule, template, language, button string) bool {
	return glob(s.Match.Rule, rule) && glob(s.Match.Template, template) &&
		glob(s.Match.Language, language) && glob(s.Match.Button, button)
}

// Why is what a run's summary says about an alert it silenced: the reason
// and who silenced it (the rules' silence check adds until when).
func (s *Silence) Why() string {
	reason := s.Reason
	if reason == "" {
		reason = "silenced"
	}
	return reason + " by " + s.CreatedBy
}

// ForRules turns stored silences into the rules' form, so that a run merges
// them with the rules' own silences: same globs, until their end.
func ForRules(list []Silence) []rules.Silence {
	out := make([]rules.Silence, 0, len(list))
	for i := range list {
		s := &list[i]
		out = append(out, rules.Silence{Rule: s.Match.Rule, Template: s.Match.Template, Language: s.Match.Language,
			Button: s.Match.Button, Until: s.End(), Reason: s.Why(), File: filepath.Join(Dir, s.ID+silenceExt)})
	}
	return out
}

func glob(g, s string) bool {
	if g == "" {
		return true
	}
	ok, _ := path.Match(g, s)
	return ok
}

// Limits on what a silence may hold: a file is small, and a silence that
// matches everything is refused.
const (
	maxField  = 256
	maxReason = 512
	// MaxDuration bounds a silence made from the chat or the command line:
	// a forgotten silence must come back on its own.
	MaxDuration = 90 * 24 * time.Hour
)

// Check reports what is wrong with a silence about to be stored.
func (s *Silence) Check() error {
	var errs []error
	m := s.Match
	if m.Rule == "" && m.Template == "" && m.Language == "" && m.Button == "" {
		errs = append(errs, errors.New("match is empty: it would silence every alert"))
	}
	for _, f := range []struct{ name, v string }{
		{"rule", m.Rule}, {"template", m.Template}, {"language", m.Language}, {"button", m.Button},
	} {
		if len(f.v) > maxField {
			errs = append(errs, fmt.Errorf("match %s: longer than %d bytes", f.name, maxField))
		} else if _, err := path.Match(f.v, ""); err != nil {
			errs = append(errs, fmt.Errorf("match %s: %q is not a valid glob", f.name, f.v))
		}
	}
	if len(s.Reason) > maxReason {
		errs = append(errs, fmt.Errorf("reason: longer than %d bytes", maxReason))
	}
	if strings.TrimSpace(s.CreatedBy) == "" {
		errs = append(errs, errors.New("created_by is empty: a silence says who made it"))
	}
	if s.Until.IsZero() || s.CreatedAt.IsZero() {
		errs = append(errs, errors.New("until and created_at are required"))
	} else if d := s.Until.Sub(s.CreatedAt); d <= 0 || d > MaxDuration+time.Minute {
		errs = append(errs, fmt.Errorf("duration %v: want more than 0 and at most %v", d, MaxDuration))
	}
	return errors.Join(errs...)
}

// ParseDuration reads a silence's length: a Go duration (36h, 90m) or whole
// days (1d, 7d), as people write them.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok && n != "" && strings.Trim(n, "0123456789") == "" {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || days > 3650 {
			return 0, fmt.Errorf("duration %q: want a number of days such as 7d", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("duration %q: want a duration such as 24h, 90m or 7d", s)
		}
	}
	if d <= 0 || d > MaxDuration {
		return 0, fmt.Errorf("duration %q: want more than 0 and at most %dd", s, int(MaxDuration.Hours()/24))
	}
	return d, nil
}
