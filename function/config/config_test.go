package config

import (
	"reflect"
	"strings"
	"testing"
)

// clearEnv blanks every variable so the host's environment cannot leak in.
func clearEnv(t *testing.T) {
	for _, v := range Variables() {
		t.Setenv(v, "")
	}
}

func TestLoadDefaults(t *testing.T) {
	clearEnv(t)
	// t.Setenv("X", "") leaves X set (to empty), which envconfig treats as
	// a value; defaults apply only to unset variables, so unset them here.
	for _, v := range []string{"CAMS_ENDPOINT", "CAMS_REGION", "CAMS_QPS", "RULES_PATH", "STATE_DIR", "TIMEZONE"} {
		unset(t, v)
	}
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Endpoint != DefaultEndpoint || c.Region != "ap-southeast-1" || c.QPS != 40 ||
		c.RulesPath != "rules" || c.StateDir != ".state" || c.Location.String() != "Asia/Shanghai" {
		t.Errorf("defaults: %+v", c)
	}
}

func TestLoadErrors(t *testing.T) {
	const secret = "hooks-secret-T0KEN-123"
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
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			unset(t, "CAMS_ENDPOINT")
			unset(t, "CAMS_QPS")
			unset(t, "TIMEZONE")
			unset(t, "CAMS_REGION")
			unset(t, "RULES_PATH")
			unset(t, "STATE_DIR")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load()
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
}

func TestVariablesListsEveryField(t *testing.T) {
	vars := Variables()
	if len(vars) != 18 {
		t.Errorf("Variables() = %d names %v, want 18", len(vars), vars)
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
	clearEnv(t)
	for _, v := range []string{"CAMS_ENDPOINT", "CAMS_REGION", "RULES_PATH", "STATE_DIR", "TIMEZONE"} {
		unset(t, v)
	}
	t.Setenv("CAMS_QPS", " 5 ")
	t.Setenv("SLACK_WEBHOOK_URL", "https://hooks.slack.com/services/T0/B0/x\n")
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.QPS != 5 || c.SlackWebhookURL != "https://hooks.slack.com/services/T0/B0/x" {
		t.Errorf("QPS %d, webhook %q", c.QPS, c.SlackWebhookURL)
	}
}

func TestDefaultRulesPath(t *testing.T) {
	f, _ := reflect.TypeFor[Config]().FieldByName("RulesPath")
	if got := f.Tag.Get("default"); got != DefaultRulesPath {
		t.Errorf("RULES_PATH default %q, DefaultRulesPath %q", got, DefaultRulesPath)
	}
}
