package notify

import (
	"context"
	"encoding/json"
	"fmt"
)

// Unit measures one indivisible piece of a rendered message (a group of
// alerts, a health section): its size in the platform's measure (blocks,
// bytes) and how many alerts and problems it shows.
type Unit struct {
	Size     int
	Items    int
	Problems int
}

// Split packs pieces, in order, into parts whose sizes add up to at most
// budget (a piece larger than budget goes alone). At most max parts are kept
// (max ≤ 0: all); moreItems and moreProblems count what the dropped parts
// would have shown, for the "n more not shown" footer. There is always at
// least one part.
func Split[T any](pieces []T, unit func(T) Unit, budget, max int) (parts [][]T, moreItems, moreProblems int) {
	var cur []T
	size := 0
	for _, p := range pieces {
		u := unit(p)
		if len(cur) > 0 && size+u.Size > budget {
			parts = append(parts, cur)
			cur, size = nil, 0
		}
		cur = append(cur, p)
		size += u.Size
	}
	if len(cur) > 0 || len(parts) == 0 {
		parts = append(parts, cur)
	}
	if max > 0 && len(parts) > max {
		for _, part := range parts[max:] {
			for _, p := range part {
				u := unit(p)
				moreItems += u.Items
				moreProblems += u.Problems
			}
		}
		parts = parts[:max]
	}
	return parts, moreItems, moreProblems
}

// Deliver posts the rendered parts of d in order, paced, skipping the parts
// an earlier attempt at the same digest delivered (see Progress), so that a
// retry never repeats what the channel already shows. post sends part i; its
// errors must be free of secrets. An error names the part that failed and
// stays retryable when post's was.
func (p *Progress) Deliver(ctx context.Context, pacer *Pacer, d *Digest, parts [][]byte, post func(ctx context.Context, i int) error) error {
	p.Begin(d, parts)
	for i := range parts {
		if p.Done(i) {
			continue
		}
		err := pacer.Wait(ctx)
		if err == nil {
			err = post(ctx, i)
		}
		if err != nil {
			return partError(i, len(parts), err)
		}
		p.Mark(i)
	}
	return nil
}

// Post renders and delivers what d holds for a channel: nothing when
// nothing in d is for it (see Digest.For with sendResolved), else each
// message of render's encoded as JSON (the parts Progress tells apart) and
// posted in order through Deliver. post gets a message and its encoding.
func Post[M any](ctx context.Context, p *Progress, pacer *Pacer, d *Digest, sendResolved bool,
	render func(*Digest) []M, post func(ctx context.Context, m M, body []byte) error) error {
	src := d.For(sendResolved)
	if src == nil {
		return nil
	}
	msgs := render(src)
	bodies := make([][]byte, len(msgs))
	for i, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode message %d: %w", i+1, err)
		}
		bodies[i] = b
	}
	return p.Deliver(ctx, pacer, d, bodies, func(ctx context.Context, i int) error {
		return post(ctx, msgs[i], bodies[i])
	})
}

// partError says which part of a multi-part digest failed and which were
// delivered; it unwraps to err, so retryability and causes survive.
func partError(i, total int, err error) error {
	if total <= 1 {
		return err
	}
	msg := fmt.Sprintf("part %d/%d", i+1, total)
	if i > 0 {
		msg += fmt.Sprintf(" (parts 1-%d delivered)", i)
	}
	return fmt.Errorf("%s: %w", msg, err)
}
