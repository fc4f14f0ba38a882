package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cams-alert/cams-alert/function/pause"
)

// DefaultTimeout bounds one HTTP request to a chat platform.
const DefaultTimeout = 10 * time.Second

// HTTPClient returns a copy of base (a new client when nil) that has a
// timeout (DefaultTimeout when base has none) and follows at most 3
// redirects, never to another scheme or host: a webhook's secret must not be
// carried anywhere else.
func HTTPClient(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	c.CheckRedirect = SameHostRedirects
	return c
}

// SameHostRedirects is an http.Client CheckRedirect that refuses redirects to
// another scheme or host, and more than 3 of them.
func SameHostRedirects(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 {
		return errors.New("stopped after 3 redirects")
	}
	orig := via[0].URL
	if req.URL.Scheme != orig.Scheme || !strings.EqualFold(req.URL.Host, orig.Host) {
		return errors.New("refusing to follow a redirect to another host")
	}
	return nil
}

// Pacer spaces messages at least Interval apart (a platform's rate limit,
// enforced client-side). The zero Pacer does not wait. Safe for concurrent use.
type Pacer struct {
	Interval time.Duration

	mu   sync.Mutex
	next time.Time
}

// Wait blocks until the next message may go, or ctx is done, and reserves
// that slot.
func (p *Pacer) Wait(ctx context.Context) error {
	if p == nil || p.Interval <= 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.Interval)
	p.mu.Unlock()
	if d := time.Until(at); d > 0 {
		if err := pause.For(ctx, d); err != nil {
			// give the slot back so a cancelled wait does not delay others
			p.mu.Lock()
			if p.next.Equal(at.Add(p.Interval)) {
				p.next = at
			}
			p.mu.Unlock()
			return err
		}
	}
	return ctx.Err()
}

// Progress remembers which parts of one digest a notifier has delivered, so
// that a retry of the same digest (Send calls Notify again after a retryable
// error) sends only the parts that were not accepted, instead of repeating
// the ones the channel already shows. Safe for concurrent use.
type Progress struct {
	mu   sync.Mutex
	key  [sha256.Size]byte
	done map[int]bool
}

// Begin starts (or resumes, when d and its rendered parts are unchanged)
// tracking the delivery of parts.
func (p *Progress) Begin(d *Digest, parts [][]byte) {
	h := sha256.New()
	fmt.Fprintf(h, "%p\x00%d\x00", d, len(parts))
	for _, b := range parts {
		fmt.Fprintf(h, "%d\x00", len(b))
		h.Write(b)
	}
	var key [sha256.Size]byte
	copy(key[:], h.Sum(nil))
	p.mu.Lock()
	defer p.mu.Unlock()
	if key != p.key || p.done == nil {
		p.key = key
		p.done = map[int]bool{}
	}
}

// Done reports whether part i was delivered.
func (p *Progress) Done(i int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done[i]
}

// Mark records part i as delivered.
func (p *Progress) Mark(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done == nil {
		p.done = map[int]bool{}
	}
	p.done[i] = true
}

// SafeError is an error whose text (already scrubbed of secrets) is msg,
// with cause (which must carry no secret) reachable by errors.Is and As.
func SafeError(msg string, cause error) error { return &safeError{msg: msg, cause: cause} }

type safeError struct {
	msg   string
	cause error
}

func (e *safeError) Error() string { return e.msg }
func (e *safeError) Unwrap() error { return e.cause }

// BodyText renders a platform's response body for an error, flattened and
// cut: ": invalid_blocks", or "" for an empty body.
func BodyText(b []byte) string {
	s := strings.TrimSpace(string(bytes.ToValidUTF8(b, []byte("?"))))
	if s == "" {
		return ""
	}
	return ": " + TruncateRunes(strings.Join(strings.Fields(s), " "), 300)
}

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP date; 0
// when absent or unreadable.
func ParseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
