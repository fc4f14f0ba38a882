package silence

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Request is what a chat action asks for: silence exactly this alert for
// this long (For 0: DefaultFor). Messages carry it in a Slack button's value (Value) or in a
// DingTalk link's signed token (Sign).
type Request struct {
	Rule         string        `json:"r"`
	Template     string        `json:"t"`
	Language     string        `json:"l,omitempty"`
	Button       string        `json:"b,omitempty"`
	TemplateName string        `json:"n,omitempty"` // shown on the confirmation page
	For          time.Duration `json:"-"`
}

// wire is a Request as encoded, with its duration in seconds and, for a
// token, when it was issued and when it expires (Unix seconds).
type wire struct {
	Request
	Seconds int64 `json:"d,omitempty"` // 0: the default length
	Issued  int64 `json:"i,omitempty"`
	Expires int64 `json:"x,omitempty"`
}

// DefaultFor is a silence's length when the action names none.
const DefaultFor = 24 * time.Hour

// TokenTTL is how long a DingTalk link stays usable after its message.
const TokenTTL = 7 * 24 * time.Hour

// maxEncoded bounds what is decoded: Slack allows 2000 characters in a
// button's value, and a link must stay short.
const maxEncoded = 1900

var (
	// ErrBadToken: the token or value was altered, truncated or is not
	// one of ours.
	ErrBadToken = errors.New("the silence link is not valid")
	// ErrExpiredToken: the token's time is up.
	ErrExpiredToken = errors.New("the silence link has expired")
)

const valuePrefix = "s1."

var b64 = base64.RawURLEncoding.Strict()

// Match is the silence that matches exactly the alert.
func (r Request) Match() Match {
	return Match{Rule: globLiteral(r.Rule), Template: globLiteral(r.Template),
		Language: globLiteral(r.Language), Button: globLiteral(r.Button)}
}

// Value encodes r for a Slack button or overflow option. It is not signed:
// Slack signs the request that carries it back.
func (r Request) Value() string {
	b, _ := json.Marshal(wire{Request: r, Seconds: int64(r.For / time.Second)})
	return valuePrefix + b64.EncodeToString(b)
}

// ParseValue decodes a Slack action's value.
func ParseValue(v string) (Request, error) {
	p, ok := strings.CutPrefix(v, valuePrefix)
	if !ok || len(v) > maxEncoded {
		return Request{}, ErrBadToken
	}
	w, err := decode(p)
	if err != nil {
		return Request{}, err
	}
	return w.Request, nil
}

// Sign makes the token of a DingTalk link for r, issued at issued and
// valid for TokenTTL, signed with HMAC-SHA256 under secret.
func (r Request) Sign(secret string, issued time.Time) string {
	b, _ := json.Marshal(wire{Request: r, Seconds: int64(r.For / time.Second),
		Issued: issued.Unix(), Expires: issued.Add(TokenTTL).Unix()})
	p := b64.EncodeToString(b)
	return p + "." + b64.EncodeToString(mac(secret, p))
}

// Verify checks a token at time now and returns what it asks for and
// when it expires. Any change to the token gives ErrBadToken; the
// signature is compared in constant time.
func Verify(secret, token string, now time.Time) (Request, time.Time, error) {
	if len(token) > maxEncoded {
		return Request{}, time.Time{}, ErrBadToken
	}
	p, s, ok := strings.Cut(token, ".")
	if !ok {
		return Request{}, time.Time{}, ErrBadToken
	}
	sig, err := b64.DecodeString(s)
	if err != nil || !hmac.Equal(sig, mac(secret, p)) {
		return Request{}, time.Time{}, ErrBadToken
	}
	w, err := decode(p)
	if err != nil || w.Expires == 0 || w.Expires-w.Issued > int64(TokenTTL/time.Second) {
		return Request{}, time.Time{}, ErrBadToken
	}
	exp := time.Unix(w.Expires, 0)
	if !now.Before(exp) {
		return Request{}, exp, ErrExpiredToken
	}
	return w.Request, exp, nil
}

func mac(secret, payload string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte("cams-alert silence token v1\x00"))
	h.Write([]byte(payload))
	return h.Sum(nil)
}

func decode(p string) (wire, error) {
	b, err := b64.DecodeString(p)
	var w wire
	if err == nil {
		err = strictJSON(b, &w)
	}
	if err != nil || w.Rule == "" || w.Template == "" || len(w.Rule)+len(w.Template)+len(w.Language)+len(w.Button) > 4*maxField {
		return wire{}, ErrBadToken
	}
	w.For = time.Duration(w.Seconds) * time.Second
	if w.For == 0 {
		w.For = DefaultFor
	}
	if w.Seconds < 0 || w.For > MaxDuration {
		return wire{}, ErrBadToken
	}
	return w, nil
}

// globLiteral escapes s so that, as a glob, it matches only itself: a
// template code or button text may hold *, ? or [.
func globLiteral(s string) string {
	if !strings.ContainsAny(s, `*?[\`) {
		return s
	}
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// String is how a request reads in a page or log line (no secret in it).
func (r Request) String() string {
	s := r.Rule + " · " + r.Template
	if r.Language != "" {
		s += " (" + r.Language + ")"
	}
	if r.Button != "" {
		s += " · button " + fmt.Sprintf("%q", r.Button)
	}
	return s
}
