package monitor

import (
	"context"
	"testing"
	"time"
)

// TestChannelContext: a channel waiting out a rate limit keeps
// ChannelReserve for each channel that may follow it, and never gets less
// than one reserve itself (or what is left, when that is less).
func TestChannelContext(t *testing.T) {
	tests := []struct {
		name     string
		left     time.Duration // until the run's deadline; 0: no deadline
		later    int
		want     time.Duration // 0: no deadline
		tolerant time.Duration
	}{
		{"no deadline", 0, 3, 0, 0},
		{"last channel gets all that is left", 10 * time.Minute, 0, 10 * time.Minute, time.Second},
		{"two channels follow: 40s kept for them", 10 * time.Minute, 2, 10*time.Minute - 2*ChannelReserve, time.Second},
		{"many follow: still one reserve for this one", time.Minute, 10, ChannelReserve, time.Second},
		{"less than a reserve left: all of it", 5 * time.Second, 3, 5 * time.Second, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := context.Background()
			if tc.left > 0 {
				var cancel context.CancelFunc
				parent, cancel = context.WithTimeout(parent, tc.left)
				defer cancel()
			}
			ctx, cancel := channelContext(parent, tc.later)
			defer cancel()
			dl, ok := ctx.Deadline()
			if tc.want == 0 {
				if ok {
					t.Fatalf("deadline in %v, want none", time.Until(dl))
				}
				return
			}
			if got := time.Until(dl); !ok || got > tc.want || got < tc.want-tc.tolerant {
				t.Fatalf("deadline in %v, want %v", got, tc.want)
			}
		})
	}
}
