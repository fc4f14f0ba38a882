package silence

import (
	"errors"
	"testing"
	"time"
)

// FuzzToken: any token or button value is refused with ErrBadToken (or
// ErrExpiredToken), never a panic; one that verifies names an alert and a
// length within the limits.
func FuzzToken(f *testing.F) {
	f.Add(req.Sign(secret, t0))
	f.Add(req.Value())
	f.Add("")
	f.Add("e30.AAAA")
	f.Fuzz(func(t *testing.T, tok string) {
		r, _, err := Verify(secret, tok, t0.Add(time.Hour))
		if err != nil && !errors.Is(err, ErrBadToken) && !errors.Is(err, ErrExpiredToken) {
			t.Fatalf("Verify: unexpected error %v", err)
		}
		if err == nil && (r.Rule == "" || r.Template == "" || r.For <= 0 || r.For > MaxDuration) {
			t.Fatalf("Verify accepted %+v", r)
		}
		if v, err := ParseValue(tok); err == nil && (v.Rule == "" || v.Template == "" || v.For <= 0) {
			t.Fatalf("ParseValue accepted %+v", v)
		} else if err != nil && !errors.Is(err, ErrBadToken) {
			t.Fatalf("ParseValue: unexpected error %v", err)
		}
	})
}
