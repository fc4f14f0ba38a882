// Package notify delivers digests to chat channels. Each integration lives in
// its own subpackage (notify/slack, notify/dingtalk) behind the one small
// Notifier interface, in the manner of Alertmanager's notify package.
package notify

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/pause"
)

// Notifier sends one digest to one channel. It splits the digest into as
// many platform messages as the platform's limits need, and returns an error
// if any part was not accepted. Implementations wrap errors that are worth
// retrying with Retryable.
type Notifier interface {
	// Name is the channel's name in the rules (e.g. "ops-slack").
	Name() string
	// Notify delivers d. It must not log or return secrets.
	Notify(ctx context.Context, d *Digest) error
}

// Digest is everything one channel hears in one run.
type Digest struct {
	PeriodStart time.Time
	PeriodEnd   time.Time
	// Location renders times for the reader (TIMEZONE).
	Location *time.Location
	// Items are sorted most severe and highest volume first (see Sort).
	Items []alert.Item
	// Health lists monitor problems; a digest may carry only these.
	Health []alert.Problem
	// Learning, on a channel's first message, says how many templates are
	// watched and from when the rules can judge them. A digest may carry
	// only this.
	Learning *Learning
	// Silenced lists the alerts of this channel held back by a silence in
	// this run. It never makes a digest on its own: it rides along.
	Silenced []alert.Silenced
	// Actions, when set, gives the links or buttons shown beside an alert
	// (e.g. silence it).
	Actions func(it *alert.Item) []Action
}

// Sort orders items most severe first, then firing before resolved, then
// highest volume first, then by template for a stable order.
func (d *Digest) Sort() {
	items := d.Items
	less := func(a, b *alert.Item) bool {
		if ra, rb := alert.SeverityRank(a.Severity), alert.SeverityRank(b.Severity); ra != rb {
			return ra < rb
		}
		if a.State != b.State {
			return a.State == alert.Firing
		}
		if a.Volume != b.Volume {
			return a.Volume > b.Volume
		}
		if a.Template != b.Template {
			return a.Template < b.Template
		}
		if a.Language != b.Language {
			return a.Language < b.Language
		}
		return a.Rule < b.Rule
	}
	// insertion sort keeps this dependency-free and stable; digests are small.
	for i := 1; i < len(items); i++ {
		for j := i; j > 0 && less(&items[j], &items[j-1]); j-- {
			items[j], items[j-1] = items[j-1], items[j]
		}
	}
}

// retryable marks an error worth retrying, optionally after a delay the
// platform asked for.
type retryable struct {
	err   error
	after time.Duration
}

func (e *retryable) Error() string { return e.err.Error() }
func (e *retryable) Unwrap() error { return e.err }

// Retryable wraps err as worth retrying after at least the given delay (0:
// the caller's backoff decides).
func Retryable(err error, after time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryable{err: err, after: after}
}

// IsRetryable reports whether err is worth retrying and how long the platform
// asked to wait.
func IsRetryable(err error) (bool, time.Duration) {
	var r *retryable
	if errors.As(err, &r) {
		return true, r.after
	}
	return false, 0
}

const (
	maxAttempts       = 5  // for errors retried on our own backoff
	maxWaitedAttempts = 15 // for rate limits, with the platform's delay
)

// Send delivers d through n, retrying retryable errors with exponential
// backoff (or the platform's requested delay) until ctx is done. It returns
// the last error when it gives up.
func Send(ctx context.Context, n Notifier, d *Digest, sleep func(context.Context, time.Duration) error) error {
	if sleep == nil {
		sleep = pause.For
	}
	backoff := time.Second
	for attempt := 1; ; attempt++ {
		err := n.Notify(ctx, d)
		if err == nil {
			return nil
		}
		ok, after := IsRetryable(err)
		// Our own backoff gives up after a few attempts; a wait the platform
		// asked for (Retry-After, DingTalk's 130101) is bounded by the
		// deadline instead, since the block can outlast five tries.
		if !ok || attempt >= maxAttempts && after == 0 || attempt >= maxWaitedAttempts {
			return fmt.Errorf("channel %s: %w", n.Name(), err)
		}
		wait := backoff
		if after > wait {
			wait = after
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
			return fmt.Errorf("channel %s: no time left to retry: %w", n.Name(), err)
		}
		if serr := sleep(ctx, wait); serr != nil {
			return fmt.Errorf("channel %s: %w", n.Name(), err)
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}
