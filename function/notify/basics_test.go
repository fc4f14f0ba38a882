package notify

import (
	"strings"
	"testing"
	"time"
)

func TestBasicsResolve(t *testing.T) {
	def := Basics{Name: "slack", MaxMessages: 10, MinInterval: time.Second}
	cases := []struct {
		name    string
		in      Basics
		want    Basics
		wantErr string
	}{
		{"unset takes the platform's defaults", Basics{}, Basics{Name: "slack", MaxMessages: 10, MinInterval: time.Second}, ""},
		{"set values stay", Basics{Name: "ops", MaxMessages: 3, MinInterval: 5 * time.Second, Locale: "zh-CN"},
			Basics{Name: "ops", MaxMessages: 3, MinInterval: 5 * time.Second, Locale: "zh-CN"}, ""},
		{"a negative interval means none", Basics{MinInterval: -1, MaxMessages: -4},
			Basics{Name: "slack", MaxMessages: 10, MinInterval: -1}, ""},
		{"an unknown locale names platform and channel", Basics{Name: "ops", Locale: "fr"}, Basics{}, "slack channel ops: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, cat, err := tc.in.Resolve(def)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to start %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || cat == nil {
				t.Fatalf("err = %v, catalog %v", err, cat)
			}
			if got != tc.want {
				t.Errorf("Resolve(%+v) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}
