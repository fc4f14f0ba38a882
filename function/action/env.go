package action

import (
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/webhook"
)

// Env is the part of the configuration the actions read. It is read here,
// not in package config, until config carries these variables.
type Env struct {
	ActionURL          string `envconfig:"ACTION_URL"`
	ActionSecret       string `envconfig:"ACTION_SECRET"`
	SlackSigningSecret string `envconfig:"SLACK_SIGNING_SECRET"`
	MessageLocale      string `envconfig:"MESSAGE_LOCALE" default:"en"`
	StateDir           string `envconfig:"STATE_DIR" default:".state"`
	Timezone           string `envconfig:"TIMEZONE" default:"Asia/Shanghai"`
}

// Secrets are the variables of Env whose values are never shown.
var Secrets = []string{"ACTION_SECRET", "SLACK_SIGNING_SECRET"}

// Variables lists the variables Env reads.
func Variables() []string {
	t := reflect.TypeFor[Env]()
	var names []string
	for i := range t.NumField() {
		names = append(names, t.Field(i).Tag.Get("envconfig"))
	}
	return names
}

// MinSecret is the shortest ACTION_SECRET accepted.
const MinSecret = 32

// LoadEnv reads and checks Env through lookup (os.LookupEnv in
// production). As in package config, an empty value counts as unset and
// surrounding spaces are dropped. Errors never contain a secret's value.
func LoadEnv(lookup func(string) (string, bool)) (*Env, error) {
	e := Env{MessageLocale: "en", StateDir: ".state", Timezone: "Asia/Shanghai"}
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"ACTION_URL", &e.ActionURL}, {"ACTION_SECRET", &e.ActionSecret}, {"SLACK_SIGNING_SECRET", &e.SlackSigningSecret},
		{"MESSAGE_LOCALE", &e.MessageLocale}, {"STATE_DIR", &e.StateDir}, {"TIMEZONE", &e.Timezone},
	} {
		if v, ok := lookup(f.name); ok && strings.TrimSpace(v) != "" {
			*f.dst = strings.TrimSpace(v)
		}
	}
	return &e, e.Check()
}

// Check reports every problem at once.
func (e *Env) Check() error {
	var errs []error
	if e.ActionURL != "" {
		if err := CheckURL(e.ActionURL); err != nil {
			errs = append(errs, err)
		}
		if e.ActionSecret == "" {
			errs = append(errs, errors.New("ACTION_SECRET: required with ACTION_URL (at least 32 characters; `openssl rand -hex 32` makes one)"))
		}
	}
	if e.ActionSecret != "" && len(e.ActionSecret) < MinSecret {
		errs = append(errs, fmt.Errorf("ACTION_SECRET: want at least %d characters, got %d (`openssl rand -hex 32` makes one)", MinSecret, len(e.ActionSecret)))
	}
	if e.MessageLocale != "en" && e.MessageLocale != "zh-CN" {
		errs = append(errs, fmt.Errorf("MESSAGE_LOCALE: want en or zh-CN, got %q", e.MessageLocale))
	}
	if _, err := time.LoadLocation(e.Timezone); err != nil {
		errs = append(errs, fmt.Errorf("TIMEZONE: %q is not a time zone", e.Timezone))
	}
	return errors.Join(errs...)
}

// CheckURL checks ACTION_URL: https (http only on loopback hosts, for
// tests), no query, fragment or user.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("ACTION_URL: want a URL such as https://alerts.example.com")
	}
	if err := webhook.Check(raw); err != nil {
		return fmt.Errorf("ACTION_URL: must use https (http only for loopback test servers), got %s://%s", u.Scheme, u.Host)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("ACTION_URL: want scheme://host[/path] without a query, fragment or user, got %s://%s%s", u.Scheme, u.Host, u.EscapedPath())
	}
	return nil
}

// Config is the handler's configuration from e.
func (e *Env) Config() Config {
	loc, err := time.LoadLocation(e.Timezone)
	if err != nil {
		loc = time.UTC
	}
	return Config{ActionURL: e.ActionURL, ActionSecret: e.ActionSecret, SlackSigningSecret: e.SlackSigningSecret,
		Locale: e.MessageLocale, StateDir: e.StateDir, Location: loc}
}
