// Package webhook is the one policy for chat webhook URLs, shared by the
// configuration, the rules loader and the notifiers: https only (http just for
// loopback test servers), and never shown with their secrets.
package webhook

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Redact shows a URL without its secrets: scheme, host and first path
// segment (when more path follows), e.g. "https://hooks.slack.com/services/…"
// or "https://oapi.dingtalk.com/robot/…". Query strings, user info and the
// rest of the path are never shown.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	s := u.Scheme + "://" + u.Host
	p := strings.TrimPrefix(u.EscapedPath(), "/")
	if p == "" {
		if u.RawQuery != "" {
			return s + "/?…"
		}
		return s
	}
	// the first segment is shown only when more path follows it: a lone
	// segment may itself be the secret
	first, rest, more := strings.Cut(p, "/")
	if !more {
		return s + "/…"
	}
	s += "/" + first
	if rest != "" || u.RawQuery != "" {
		s += "/…"
	}
	return s
}

// Check returns an error unless raw is an absolute https URL, or an
// http(s) URL on a loopback host (127.0.0.0/8, ::1, localhost) as tests use.
// The error never contains the URL's secrets.
func Check(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("webhook URL %s is not a URL: want an absolute https:// URL", Redact(raw))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("webhook URL %s must use https (http only for loopback hosts)", Redact(raw))
	default:
		return fmt.Errorf("webhook URL %s must use https", Redact(raw))
	}
}

// IsLoopback reports whether host is localhost, 127.0.0.0/8 or ::1.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
