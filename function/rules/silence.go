package rules

import (
	"path"
	"time"
)

// Silenced reports whether a silence mutes the result at time at: every glob
// the silence gives (rule, template, language, button) matches, and at is
// before its until. reason is the silence's reason (or a default naming its
// expiry).
func (s *Set) Silenced(r *Result, at time.Time) (reason string, ok bool) {
	sl := s.Silence(r, at)
	if sl == nil {
		return "", false
	}
	return sl.Why(), true
}

// Why is the summary's word for an alert sl mutes: its reason and until when.
func (sl *Silence) Why() string {
	reason := sl.Reason
	if reason == "" {
		reason = "silenced"
	}
	return reason + " (until " + sl.Until.Format(time.RFC3339) + ")"
}

// Silence is the first silence in force at at that mutes r, nil when none.
func (s *Set) Silence(r *Result, at time.Time) *Silence {
	if r == nil || r.Rule == nil {
		return nil
	}
	for i := range s.Silences {
		sl := &s.Silences[i]
		if !at.Before(sl.Until) {
			continue
		}
		if !globOK(sl.Rule, r.Rule.Name) || !globOK(sl.Template, r.Key.Template) ||
			!globOK(sl.Language, r.Key.Language) || !globOK(sl.Button, r.Button) {
			continue
		}
		return sl
	}
	return nil
}

func globOK(glob, s string) bool {
	if glob == "" {
		return true
	}
	ok, _ := path.Match(glob, s)
	return ok
}
