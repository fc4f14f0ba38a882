package config

import (
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// childVar marks the test binary run as a child by TestEnvconfigAgreesWithLookup.
const childVar = "CAMS_ALERT_CONFIG_CHILD"

// outcome is what one fill of Raw leads to, comparable across processes.
type outcome struct {
	Raw    Raw
	Config *Config
	Zone   string
	Err    string
}

func outcomeOf(r Raw) outcome {
	o := outcome{Raw: r}
	c, err := r.Parse()
	if err != nil {
		o.Err = err.Error()
		return o
	}
	o.Config, o.Zone = c, c.Location.String()
	c.Location = nil
	return o
}

// TestEnvconfigChild is the child's side: it reads its own environment
// with envconfig (FromEnvironment's fill) and prints the outcome.
func TestEnvconfigChild(t *testing.T) {
	if os.Getenv(childVar) == "" {
		t.Skip("run by TestEnvconfigAgreesWithLookup")
	}
	r, err := readEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(outcomeOf(r))
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.Write(append([]byte("\nOUTCOME "), append(b, '\n')...))
}

// Production reads the environment with envconfig, tests through a lookup
// function: both fills must lead to the same configuration, the same
// defaults and the same errors. Each case runs the test binary again with
// exactly that environment (nothing else set, so the parent's environment
// cannot leak in, and no test changes its own).
func TestEnvconfigAgreesWithLookup(t *testing.T) {
	t.Parallel()
	const secret = "0123456789abcdef0123456789abcdef"
	cases := map[string]map[string]string{ // the name says whether it loads
		"nothing set": {},
		"empty means unset": {"CAMS_QPS": "", "TIMEZONE": "", "MESSAGE_LOCALE": " ", "RULES_PATH": "",
			"CAMS_ENDPOINT": ""},
		"every variable": {"ALIBABA_CLOUD_ACCESS_KEY_ID": "id", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "key",
			"ALIBABA_CLOUD_SECURITY_TOKEN": "sts", "CAMS_ENDPOINT": "http://127.0.0.1:9000", "CAMS_REGION": "cn-x",
			"CAMS_QPS": " 7 ", "CAMS_CUST_SPACE_ID": "space", "CAMS_ISV_CODE": "isv", "CAMS_TEMPLATES": "A, B",
			"CAMS_LOOKBACK_DAYS": "30", "RULES_PATH": "r.yaml", "STATE_DIR": "/tmp/s",
			"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_CHANNEL": "#c", "DINGTALK_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=t",
			"DINGTALK_SECRET": "SEC1", "TIMEZONE": "Europe/London", "MESSAGE_LOCALE": "zh-CN",
			"ACTION_URL": "https://a.example.com/x", "ACTION_SECRET": secret, "SLACK_SIGNING_SECRET": "sig\n"},
		"bad values":   {"CAMS_QPS": "fast", "CAMS_LOOKBACK_DAYS": "x"},
		"failed check": {"CAMS_QPS": "99", "TIMEZONE": "Nowhere", "CAMS_TEMPLATES": "A,,B"},
	}
	for name, vars := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(os.Args[0], "-test.run=^TestEnvconfigChild$", "-test.count=1")
			cmd.Env = []string{childVar + "=1"}
			for k, v := range vars {
				cmd.Env = append(cmd.Env, k+"="+v)
			}
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			var fromEnv outcome
			if err := json.Unmarshal(lastOutcome(t, out), &fromEnv); err != nil {
				t.Fatal(err)
			}
			fromLookup := outcomeOf(RawFrom(env(vars)))
			// Through JSON as well, so that both sides are compared alike.
			b, _ := json.Marshal(fromLookup)
			var want outcome
			_ = json.Unmarshal(b, &want)
			if !reflect.DeepEqual(fromEnv, want) {
				t.Errorf("envconfig and lookup disagree:\n envconfig %+v\n lookup    %+v", fromEnv, want)
			}
			// Both failing alike, or both loading the defaults alike, must
			// be what the case is about.
			if wantErr := strings.HasPrefix(name, "bad") || strings.HasPrefix(name, "failed"); (fromEnv.Err != "") != wantErr {
				t.Errorf("error %q, want one: %v", fromEnv.Err, wantErr)
			}
		})
	}
}

func lastOutcome(t *testing.T, out []byte) []byte {
	t.Helper()
	_, rest, ok := strings.Cut(string(out), "\nOUTCOME ")
	if !ok {
		t.Fatalf("child printed no outcome:\n%s", out)
	}
	line, _, _ := strings.Cut(rest, "\n")
	return []byte(line)
}

// Parse fills Config field by field from Raw by name: a variable added to
// one and not the other would be read and dropped, or never read.
func TestRawMatchesConfig(t *testing.T) {
	t.Parallel()
	raw, cfg := reflect.TypeFor[Raw](), reflect.TypeFor[Config]()
	for i := range raw.NumField() {
		f := raw.Field(i)
		if f.Tag.Get("envconfig") == "" || f.Type.Kind() != reflect.String {
			t.Errorf("Raw.%s: want a string with an envconfig tag", f.Name)
		}
		if _, ok := cfg.FieldByName(f.Name); !ok {
			t.Errorf("Raw.%s has no Config field", f.Name)
		}
	}
	for i := range cfg.NumField() {
		if name := cfg.Field(i).Name; name != "Location" {
			if _, ok := raw.FieldByName(name); !ok {
				t.Errorf("Config.%s is read from no variable", name)
			}
		}
	}
}
