package pause

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestFor(t *testing.T) {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name string
		ctx  context.Context
		d    time.Duration
		want error
	}{
		{"waits out a short pause", context.Background(), time.Millisecond, nil},
		{"no pause", context.Background(), 0, nil},
		{"negative pause", context.Background(), -time.Second, nil},
		{"a done context ends a long pause", done, time.Hour, context.Canceled},
		{"a done context is reported without a pause", done, 0, context.Canceled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := For(tc.ctx, tc.d); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Errorf("For(%v) = %v, want %v", tc.d, err, tc.want)
			}
		})
	}
}

// A context cancelled during the pause ends it then, not at its end.
func TestForStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- For(ctx, time.Hour) }()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("For = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("For did not return after its context was cancelled")
	}
}
