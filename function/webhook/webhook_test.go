package webhook

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://hooks.slack.com/services/T000/B000/XXXXSECRET", "https://hooks.slack.com/services/…"},
		{"https://oapi.dingtalk.com/robot/send?access_token=SECRET", "https://oapi.dingtalk.com/robot/…"},
		{"https://user:pw@example.com/a?b=c", "https://example.com/…"},
		{"https://example.com/SECRET", "https://example.com/…"},
		{"https://example.com/a/", "https://example.com/a"},
		{"https://example.com", "https://example.com"},
		{"::bad", "(invalid URL)"},
		{"https://example.com?token=SECRET", "https://example.com/?…"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(Redact(tt.in), "SECRET") {
			t.Errorf("Redact(%q) leaks", tt.in)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, ok := range []string{"https://hooks.slack.com/services/a", "http://127.0.0.1:8080/x", "http://127.9.9.9/x", "http://[::1]:1/x", "http://localhost:9/x"} {
		if err := Check(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://hooks.slack.com/services/SECRETX", "ftp://h/x", "hooks.slack.com/x", "http://10.0.0.1/SECRETX", "http://localhost.evil.com/SECRETX", "http://128.0.0.1/SECRETX"} {
		err := Check(bad)
		if err == nil {
			t.Errorf("%s accepted", bad)
		} else if strings.Contains(err.Error(), "SECRETX") {
			t.Errorf("error leaks the URL: %v", err)
		}
	}
}
