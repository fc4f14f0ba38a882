package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// env is an environment of exactly these variables: the process's own
// never leaks in, and tests run in parallel.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	// Empty means unset: both get the defaults.
	for _, e := range []map[string]string{nil, {"CAMS_QPS": "", "TIMEZONE": "", "MESSAGE_LOCALE": " "}} {
		c, err := Load(env(e))
		if err != nil {
			t.Fatal(err)
		}
		if c.Endpoint != DefaultEndpoint || c.Region != "ap-southeast-1" || c.QPS != 40 ||
			c.RulesPath != "rules" || c.StateDir != ".state" || c.Location.String() != "Asia/Shanghai" ||
			c.MessageLocale != "en" || c.ActionURL != "" {
			t.Errorf("defaults: %+v", c)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	const secret = "hooks-secret-T0KEN-123"
	const longSecret = "action-SECRET-0123456789abcdef-0123456789"
	cases := []struct {
		name string
		env  map[string]string
		want []string // substrings of the error
	}{
		{"qps not a number", map[string]string{"CAMS_QPS": "fast"}, []string{"CAMS_QPS", `"fast"`, "int"}},
		{"qps over the API limit", map[string]string{"CAMS_QPS": "51"}, []string{"CAMS_QPS", "between 1 and 50"}},
		{"qps zero", map[string]string{"CAMS_QPS": "0"}, []string{"CAMS_QPS"}},
		{"plain http endpoint", map[string]string{"CAMS_ENDPOINT": "http://cams.example.com"}, []string{"CAMS_ENDPOINT", "https"}},
		{"bad scheme", map[string]string{"CAMS_ENDPOINT": "ftp://x.example.com"}, []string{"CAMS_ENDPOINT", "scheme"}},
		{"endpoint with a path", map[string]string{"CAMS_ENDPOINT": "http://127.0.0.1:9000/" + secret},
			[]string{"CAMS_ENDPOINT", "without a path", "http://127.0.0.1:9000/…"}},
		{"replay directory missing", map[string]string{"CAMS_ENDPOINT": "file:///nonexistent/recordings"},
			[]string{"CAMS_ENDPOINT", `"/nonexistent/recordings" does not exist`}},
		{"unknown zone", map[string]string{"TIMEZONE": "Mars/Olympus"}, []string{"TIMEZONE", "Mars/Olympus"}},
		{"empty template item", map[string]string{"CAMS_TEMPLATES": "A,,B"}, []string{"CAMS_TEMPLATES", "item 2"}},
		{"slack webhook over http", map[string]string{"SLACK_WEBHOOK_URL": "http://hooks.slack.com/services/" + secret},
			[]string{"SLACK_WEBHOOK_URL", "https", "hooks.slack.com/services/…"}},
		{"bot token without channel", map[string]string{"SLACK_BOT_TOKEN": secret}, []string{"SLACK_CHANNEL"}},
		{"ding secret without url", map[string]string{"DINGTALK_SECRET": secret}, []string{"DINGTALK_SECRET", "DINGTALK_WEBHOOK_URL"}},
		{"lookback negative", map[string]string{"CAMS_LOOKBACK_DAYS": "-1"}, []string{"CAMS_LOOKBACK_DAYS"}},
		{"two problems at once", map[string]string{"CAMS_QPS": "99", "TIMEZONE": "Nowhere"}, []string{"CAMS_QPS", "TIMEZONE"}},
		{"unknown locale", map[string]string{"MESSAGE_LOCALE": "fr"}, []string{"MESSAGE_LOCALE", "en, zh-CN", `"fr"`}},
		{"locale in the wrong case", map[string]string{"MESSAGE_LOCALE": "zh-cn"}, []string{"MESSAGE_LOCALE"}},
		{"action url over http", map[string]string{"ACTION_URL": "http://actions.example.com/a", "ACTION_SECRET": longSecret},
			[]string{"ACTION_URL", "https"}},
		{"action url not a url", map[string]string{"ACTION_URL": "actions", "ACTION_SECRET": longSecret}, []string{"ACTION_URL", "https URL"}},
		{"action url with a password", map[string]string{"ACTION_URL": "https://u:" + secret + "@actions.example.com/", "ACTION_SECRET": longSecret},
			[]string{"ACTION_URL", "password"}},
		{"action url without its secret", map[string]string{"ACTION_URL": "https://actions.example.com/a"}, []string{"ACTION_SECRET", "required"}},
		{"action secret too short", map[string]string{"ACTION_URL": "https://actions.example.com/a", "ACTION_SECRET": secret},
			[]string{"ACTION_SECRET", "at least 32"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(tc.env))
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), longSecret) {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
}

func TestVariablesListsEveryField(t *testing.T) {
	t.Parallel()
	vars := Variables()
	if len(vars) != 22 {
		t.Errorf("Variables() = %d names %v, want 22", len(vars), vars)
	}
	for _, s := range Secrets {
		found := false
		for _, v := range vars {
			found = found || v == s
		}
		if !found {
			t.Errorf("secret %s is not a config variable", s)
		}
	}
}

// A value pasted with a stray space or a trailing newline is read without it.
func TestLoadTrimsValues(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{"CAMS_QPS": " 5 ", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/x\n"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.QPS != 5 || c.SlackWebhookURL != "https://hooks.slack.com/services/T0/B0/x" {
		t.Errorf("QPS %d, webhook %q", c.QPS, c.SlackWebhookURL)
	}
}

// The action settings others build on: accepted as given, the secrets
// kept exactly (never trimmed inside), loopback http allowed for tests.
func TestLoadActions(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef0123456789abcdef"
	cases := []map[string]string{
		{"ACTION_URL": "https://actions.example.com/cams-alert", "ACTION_SECRET": secret, "MESSAGE_LOCALE": "zh-CN",
			"SLACK_SIGNING_SECRET": "slack-signing"},
		{"ACTION_URL": "http://127.0.0.1:8080/action", "ACTION_SECRET": secret + "x"},
	}
	for _, m := range cases {
		c, err := Load(env(m))
		if err != nil {
			t.Fatalf("%v: %v", m["ACTION_URL"], err)
		}
		if c.ActionURL != m["ACTION_URL"] || c.ActionSecret != m["ACTION_SECRET"] ||
			c.SlackSigningSecret != m["SLACK_SIGNING_SECRET"] || m["MESSAGE_LOCALE"] != "" && c.MessageLocale != m["MESSAGE_LOCALE"] {
			t.Errorf("got %+v", c)
		}
	}
}

// Load reads nothing but its lookup: the process's environment stays as
// it was (validate and tests depend on it).
func TestLoadLeavesTheEnvironment(t *testing.T) {
	t.Setenv("CAMS_QPS", " 7 ")
	if _, err := Load(env(map[string]string{"CAMS_QPS": " 5 "})); err != nil {
		t.Fatal(err)
	}
	if v, _ := os.LookupEnv("CAMS_QPS"); v != " 7 " {
		t.Errorf("CAMS_QPS = %q: Load changed the environment", v)
	}
}

func TestDefaultRulesPath(t *testing.T) {
	f, _ := reflect.TypeFor[Raw]().FieldByName("RulesPath")
	if got := f.Tag.Get("default"); got != DefaultRulesPath {
		t.Errorf("RULES_PATH default %q, DefaultRulesPath %q", got, DefaultRulesPath)
	}
}
