// Package config reads the function's settings from the environment
// (docs/configuration.md).
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // FC's go1 runtime image may lack a zoneinfo database

	"github.com/kelseyhightower/envconfig"

	"github.com/cams-alert/cams-alert/function/webhook"
)

// DefaultEndpoint is the only CAMS region's endpoint.
const DefaultEndpoint = "https://cams.ap-southeast-1.aliyuncs.com"

// DefaultRulesPath is RULES_PATH's default (the struct tag's, checked by a
// test), for callers that need it when the configuration did not load.
const DefaultRulesPath = "rules"

// Raw is the environment as the function reads it: one string per
// variable, as set. The envconfig tags are the variable names (s.yaml must
// set exactly these, checked by a test), the default tags what an unset or
// empty variable means. FromEnvironment fills it with envconfig, Load from a
// lookup function; Parse, shared by both, does everything else.
type Raw struct {
	AccessKeyID     string `envconfig:"ALIBABA_CLOUD_ACCESS_KEY_ID"`
	AccessKeySecret string `envconfig:"ALIBABA_CLOUD_ACCESS_KEY_SECRET"`
	SecurityToken   string `envconfig:"ALIBABA_CLOUD_SECURITY_TOKEN"`

	Endpoint     string `envconfig:"CAMS_ENDPOINT" default:"https://cams.ap-southeast-1.aliyuncs.com"`
	Region       string `envconfig:"CAMS_REGION" default:"ap-southeast-1"`
	QPS          string `envconfig:"CAMS_QPS" default:"40"`
	CustSpaceID  string `envconfig:"CAMS_CUST_SPACE_ID"`
	IsvCode      string `envconfig:"CAMS_ISV_CODE"`
	Templates    string `envconfig:"CAMS_TEMPLATES"`
	LookbackDays string `envconfig:"CAMS_LOOKBACK_DAYS"`

	RulesPath string `envconfig:"RULES_PATH" default:"rules"` // DefaultRulesPath
	StateDir  string `envconfig:"STATE_DIR" default:".state"`

	SlackWebhookURL    string `envconfig:"SLACK_WEBHOOK_URL"`
	SlackBotToken      string `envconfig:"SLACK_BOT_TOKEN"`
	SlackChannel       string `envconfig:"SLACK_CHANNEL"`
	DingTalkWebhookURL string `envconfig:"DINGTALK_WEBHOOK_URL"`
	DingTalkSecret     string `envconfig:"DINGTALK_SECRET"`

	Timezone      string `envconfig:"TIMEZONE" default:"Asia/Shanghai"`
	MessageLocale string `envconfig:"MESSAGE_LOCALE" default:"en"`

	ActionURL          string `envconfig:"ACTION_URL"`
	ActionSecret       string `envconfig:"ACTION_SECRET"`
	SlackSigningSecret string `envconfig:"SLACK_SIGNING_SECRET"`
}

// Config is the configuration, parsed and checked: each field is the Raw
// field of the same name.
type Config struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string

	// Endpoint is the API's URL. A file:// URL replays recorded API
	// responses from that directory instead (no credentials, no network).
	Endpoint     string
	Region       string
	QPS          int
	CustSpaceID  string
	IsvCode      string
	Templates    []string
	LookbackDays int // 0: what the rules need

	RulesPath string
	StateDir  string

	SlackWebhookURL    string
	SlackBotToken      string
	SlackChannel       string
	DingTalkWebhookURL string
	DingTalkSecret     string

	Timezone string

	// MessageLocale is the language of the messages: en or zh-CN.
	MessageLocale string
	// ActionURL is where chat buttons post their actions (unset: messages
	// carry no actions); ActionSecret signs them.
	ActionURL    string
	ActionSecret string
	// SlackSigningSecret checks that an action came from Slack.
	SlackSigningSecret string

	// Location is Timezone, loaded.
	Location *time.Location
}

// Variables lists the names of every variable Config reads, in order.
func Variables() []string {
	t := reflect.TypeFor[Raw]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		names = append(names, t.Field(i).Tag.Get("envconfig"))
	}
	return names
}

// Secrets lists the variables whose values must never be printed.
var Secrets = []string{
	"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
	"SLACK_WEBHOOK_URL", "SLACK_BOT_TOKEN", "DINGTALK_WEBHOOK_URL", "DINGTALK_SECRET",
	"ACTION_SECRET", "SLACK_SIGNING_SECRET",
}

// Locales are the values MESSAGE_LOCALE takes.
var Locales = []string{"en", "zh-CN"}

// MinActionSecret is the shortest ACTION_SECRET accepted: it signs action
// tokens, and a short one can be guessed.
const MinActionSecret = 32

// FromEnvironment reads and checks the configuration from the process's
// environment, with envconfig.
func FromEnvironment() (*Config, error) {
	r, err := readEnvironment()
	if err != nil {
		return nil, err
	}
	return r.Parse()
}

// readEnvironment is FromEnvironment's fill of Raw. Every field is a
// string: envconfig cannot fail on a value, only on a spec it does not take,
// which a test rules out.
func readEnvironment() (Raw, error) {
	var r Raw
	if err := envconfig.Process("", &r); err != nil {
		return Raw{}, fmt.Errorf("configuration: %w", err)
	}
	return r, nil
}

// Load reads and checks the configuration from lookup: FromEnvironment for
// callers that must not touch the process's environment (tests run in
// parallel, each with its own).
func Load(lookup func(string) (string, bool)) (*Config, error) {
	return RawFrom(lookup).Parse()
}

// RawFrom fills Raw from lookup as envconfig fills it from the environment:
// each variable as set, an unset one by its default.
func RawFrom(lookup func(string) (string, bool)) Raw {
	var r Raw
	v := reflect.ValueOf(&r).Elem()
	t := v.Type()
	for i := range t.NumField() {
		val, ok := lookup(t.Field(i).Tag.Get("envconfig"))
		if !ok {
			val = t.Field(i).Tag.Get("default")
		}
		v.Field(i).SetString(val)
	}
	return r
}

// Parse checks the variables and turns them into a Config. An empty
// variable means "not set": s.yaml and shells pass empty values for options
// left out, and those get the defaults. A value pasted with a stray space or
// newline is read without it. Every problem is reported at once; an error
// never contains a secret's value.
func (r Raw) Parse() (*Config, error) {
	var c Config
	rv, cv := reflect.ValueOf(r), reflect.ValueOf(&c).Elem()
	t := rv.Type()
	var errs []error
	for i := range t.NumField() {
		f := t.Field(i)
		raw := strings.TrimSpace(rv.Field(i).String())
		if raw == "" {
			raw = f.Tag.Get("default")
		}
		target := cv.FieldByName(f.Name)
		if err := set(target, raw); err != nil {
			errs = append(errs, fmt.Errorf("%s: cannot read %q as %s", f.Tag.Get("envconfig"), raw, target.Type()))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

// set stores raw in a field of one of the kinds Config uses.
func set(f reflect.Value, raw string) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(raw)
	case reflect.Int:
		if raw == "" {
			return nil
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			return err
		}
		f.SetInt(int64(n))
	case reflect.Slice: // []string, comma-separated
		if raw != "" {
			f.Set(reflect.ValueOf(strings.Split(raw, ",")))
		}
	default:
		return fmt.Errorf("unsupported kind %s", f.Kind())
	}
	return nil
}

func (c *Config) check() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	if c.QPS < 1 || c.QPS > 50 {
		bad("CAMS_QPS", "must be between 1 and 50 (the API allows 50 per account), got %d", c.QPS)
	}
	if c.LookbackDays < 0 || c.LookbackDays > 400 {
		bad("CAMS_LOOKBACK_DAYS", "must be between 0 (automatic) and 400, got %d", c.LookbackDays)
	}
	if msg := checkEndpoint(c.Endpoint); msg != "" {
		bad("CAMS_ENDPOINT", "%s", msg)
	}
	if strings.TrimSpace(c.Region) == "" {
		bad("CAMS_REGION", "must not be empty")
	}
	for i, t := range c.Templates {
		c.Templates[i] = strings.TrimSpace(t)
		if c.Templates[i] == "" {
			bad("CAMS_TEMPLATES", "item %d is empty (a stray comma?)", i+1)
		}
	}
	if c.RulesPath == "" {
		bad("RULES_PATH", "must not be empty")
	}
	if c.StateDir == "" {
		bad("STATE_DIR", "must not be empty")
	}
	if c.SlackWebhookURL != "" {
		if err := webhook.Check(c.SlackWebhookURL); err != nil {
			bad("SLACK_WEBHOOK_URL", "%v", err)
		}
		if c.SlackBotToken != "" {
			bad("SLACK_BOT_TOKEN", "set either SLACK_WEBHOOK_URL or SLACK_BOT_TOKEN, not both")
		}
	}
	if (c.SlackBotToken == "") != (c.SlackChannel == "") {
		bad("SLACK_CHANNEL", "SLACK_BOT_TOKEN and SLACK_CHANNEL go together")
	}
	if c.DingTalkWebhookURL != "" {
		if err := webhook.Check(c.DingTalkWebhookURL); err != nil {
			bad("DINGTALK_WEBHOOK_URL", "%v", err)
		}
	} else if c.DingTalkSecret != "" {
		bad("DINGTALK_SECRET", "is set but DINGTALK_WEBHOOK_URL is not")
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		bad("TIMEZONE", "unknown time zone %q", c.Timezone)
	}
	c.Location = loc
	if !slices.Contains(Locales, c.MessageLocale) {
		bad("MESSAGE_LOCALE", "must be one of %s, got %q", strings.Join(Locales, ", "), c.MessageLocale)
	}
	errs = append(errs, c.checkActions()...)
	return errors.Join(errs...)
}

// checkEndpoint says what is wrong with CAMS_ENDPOINT ("" when nothing).
func checkEndpoint(endpoint string) string {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil || u.Host == "" && u.Scheme != "file":
		// not echoed: a mistyped value may hold a token
		return "must be a URL such as " + DefaultEndpoint + " or file://DIR"
	case u.Scheme == "http" && !webhook.IsLoopback(u.Hostname()):
		return "must use https (http is allowed only for loopback test servers), got http://" + u.Host
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "file":
		return fmt.Sprintf("scheme must be https, http (loopback) or file, got %q", u.Scheme)
	case u.Scheme != "file" && (strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.User != nil):
		// The SDK signs requests to a host, not to a path under it.
		return fmt.Sprintf("must be scheme://host[:port] only, without a path, query or user, got %s://%s%s", u.Scheme, u.Host, redactPath(u.Path))
	case u.Scheme == "file":
		if st, err := os.Stat(u.Host + u.Path); err != nil || !st.IsDir() {
			return fmt.Sprintf("replay directory %q does not exist or is not a directory", u.Host+u.Path)
		}
	}
	return ""
}

// checkActions checks the action settings. Secrets are never echoed, not
// even their length.
func (c *Config) checkActions() []error {
	var errs []error
	if c.ActionURL != "" {
		u, err := url.Parse(c.ActionURL)
		switch {
		case err != nil || u.Host == "":
			errs = append(errs, errors.New("ACTION_URL: must be an https URL such as https://example.com/cams-alert/action"))
		case u.User != nil:
			errs = append(errs, errors.New("ACTION_URL: must not carry a user or password"))
		case u.Scheme == "http" && webhook.IsLoopback(u.Hostname()):
		case u.Scheme != "https":
			errs = append(errs, fmt.Errorf("ACTION_URL: must use https (http is allowed only for loopback test servers), got %s://%s", u.Scheme, u.Host))
		}
		if c.ActionSecret == "" {
			errs = append(errs, errors.New("ACTION_SECRET: is required with ACTION_URL (it signs the actions)"))
		}
	}
	if c.ActionSecret != "" && len(c.ActionSecret) < MinActionSecret {
		errs = append(errs, fmt.Errorf("ACTION_SECRET: must be at least %d characters", MinActionSecret))
	}
	return errs
}

// redactPath shows that an endpoint had a path without echoing it: a path
// may carry a token.
func redactPath(p string) string {
	if strings.Trim(p, "/") == "" {
		return ""
	}
	return "/…"
}
