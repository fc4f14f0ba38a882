package notify

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cams-alert/cams-alert/function/alert"
)

// Post is the send loop both chat platforms share: what the channel hears
// of the digest, encoded, posted in order, and on a retry only the parts
// not yet accepted.
func TestPost(t *testing.T) {
	type msg struct{ N int }
	firing := alert.Item{Rule: "r", Template: "T1", State: alert.Firing}
	resolved := alert.Item{Rule: "r", Template: "T2", State: alert.Resolved}
	render := func(d *Digest) []msg {
		out := make([]msg, len(d.Items)+1)
		for i := range out {
			out[i].N = i + 1
		}
		return out
	}
	cases := []struct {
		name         string
		d            *Digest
		sendResolved bool
		failAt       int // the first attempt fails at this message (0: none)
		want         []string
	}{
		{"nil digest", nil, true, 0, nil},
		{"only resolved, channel does not hear them", &Digest{Items: []alert.Item{resolved}}, false, 0, nil},
		{"only resolved, channel hears them", &Digest{Items: []alert.Item{resolved}}, true, 0, []string{`{"N":1}`, `{"N":2}`}},
		{"a retry resends only what failed", &Digest{Items: []alert.Item{firing, resolved}}, true, 2,
			[]string{`{"N":1}`, `{"N":2}`, `{"N":3}`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Progress
			var got []string
			fail := tc.failAt
			post := func(_ context.Context, m msg, body []byte) error {
				if m.N == fail {
					fail = 0
					return errors.New("boom")
				}
				got = append(got, string(body))
				return nil
			}
			err := Post(context.Background(), &p, &Pacer{}, tc.d, tc.sendResolved, render, post)
			if tc.failAt > 0 {
				if err == nil {
					t.Fatal("first attempt: want the failed part's error")
				}
				err = Post(context.Background(), &p, &Pacer{}, tc.d, tc.sendResolved, render, post)
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("posted %q, want %q", got, tc.want)
			}
		})
	}
}
