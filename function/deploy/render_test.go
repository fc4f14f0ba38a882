package deploy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

// dummy are the values the static checks render s.yaml with: the required
// deploy input and every secret, recognisable and shaped like real values so
// that config.Load accepts them. The Makefile's deploy-check passes its own
// (also marked DUMMY) to `s preview`.
var dummy = map[string]string{
	"STATE_BUCKET":         "dummy-state-bucket",
	"SLACK_WEBHOOK_URL":    "https://hooks.slack.invalid/services/TDUMMY/BDUMMY/DUMMY",
	"DINGTALK_WEBHOOK_URL": "https://oapi.dingtalk.invalid/robot/send?access_token=DUMMY",
	"DINGTALK_SECRET":      "SECDUMMY",
	"ACTION_URL":           "https://actions.example.invalid",
	"ACTION_SECRET":        "DUMMY-action-secret-0123456789abcdef",
	"SLACK_SIGNING_SECRET": "DUMMYslackSigningSecret0123",
}

// sYAML is s.yaml as written (before rendering).
type sYAML struct {
	Edition   string                    `yaml:"edition"`
	Resources map[string]map[string]any `yaml:"resources"`
	raw       map[string]any            // the whole document
	props     map[string]any            // the fc3 resource's props, unrendered
}

func loadSYAML(t *testing.T) *sYAML {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "s.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var s sYAML
	if err := yaml.Unmarshal(data, &s); err != nil {
		t.Fatalf("s.yaml: %v", err)
	}
	if err := yaml.Unmarshal(data, &s.raw); err != nil {
		t.Fatalf("s.yaml: %v", err)
	}
	var fc3 []string
	for name, r := range s.Resources {
		if r["component"] == "fc3" {
			fc3 = append(fc3, name)
		}
	}
	if len(fc3) != 1 {
		t.Fatalf("s.yaml: want exactly one fc3 resource, found %v", fc3)
	}
	props, ok := s.Resources[fc3[0]]["props"].(map[string]any)
	if !ok {
		t.Fatalf("s.yaml: resource %s has no props", fc3[0])
	}
	s.props = props
	return &s
}

// expr matches the Serverless Devs 3 expressions s.yaml may use:
// ${vars.NAME}, ${env('NAME')} and ${env('NAME', 'default')}.
var expr = regexp.MustCompile(`\$\{\s*(?:vars\.([A-Za-z0-9_]+)|env\(\s*'([A-Za-z0-9_]+)'\s*(?:,\s*'([^']*)'\s*)?\))\s*\}`)

// envRef is a whole-value ${env('NAME'[, 'default'])}.
var envRef = regexp.MustCompile(`^\$\{\s*env\(\s*'([A-Za-z0-9_]+)'\s*(,\s*'([^']*)'\s*)?\)\s*\}$`)

// render resolves s.yaml's expressions the way `s preview` does, for the
// subset this project uses: env(NAME) is lookup(NAME), or the default when
// that is empty (s treats an empty variable as unset), or an error when there
// is no default. Anything else that looks like an expression is an error, so
// s.yaml cannot grow a construct these checks would pass unrendered; the
// preview check compares this rendering with the real one.
func render(doc map[string]any, lookup func(string) string) (map[string]any, error) {
	vars := map[string]any{}
	for k, v := range asMap(doc["vars"]) {
		r, err := renderValue(v, nil, lookup)
		if err != nil {
			return nil, fmt.Errorf("vars.%s: %w", k, err)
		}
		vars[k] = r
	}
	out, err := renderValue(doc, vars, lookup)
	if err != nil {
		return nil, err
	}
	return out.(map[string]any), nil
}

func renderValue(v any, vars map[string]any, lookup func(string) string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			r, err := renderValue(x, vars, lookup)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			r, err := renderValue(x, vars, lookup)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = r
		}
		return out, nil
	case string:
		var rerr error
		s := expr.ReplaceAllStringFunc(v, func(m string) string {
			g := expr.FindStringSubmatch(m)
			switch {
			case g[1] != "":
				if vars == nil {
					rerr = fmt.Errorf("%s: vars may not refer to vars", m)
					return ""
				}
				x, ok := vars[g[1]]
				if !ok {
					rerr = fmt.Errorf("%s: no such var", m)
				}
				return fmt.Sprint(x)
			default:
				if val := lookup(g[2]); val != "" {
					return val
				}
				if !strings.Contains(m, ",") {
					rerr = fmt.Errorf("%s: %s is required and not set", m, g[2])
				}
				return g[3]
			}
		})
		if rerr != nil {
			return nil, rerr
		}
		if strings.Contains(s, "${") {
			return nil, fmt.Errorf("%q: expression these checks do not know", v)
		}
		return s, nil
	default:
		return v, nil
	}
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// fc3Props returns the props of the one fc3 resource of a (rendered) document.
func fc3Props(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	for _, r := range asMap(doc["resources"]) {
		if asMap(r)["component"] == "fc3" {
			return asMap(asMap(r)["props"])
		}
	}
	t.Fatal("no fc3 resource")
	return nil
}

// normalize gives v the shape encoding/json would (float64 numbers), so that
// YAML- and JSON-decoded documents compare equal.
func normalize(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// dummyLookup resolves env() for the static checks: dummies for the secrets
// and the required inputs, defaults for the rest (never the developer's own
// environment, so the checks give the same answer everywhere).
func dummyLookup(name string) string { return dummy[name] }

// staticProps is s.yaml's fc3 props rendered with dummyLookup.
func staticProps(t *testing.T) map[string]any {
	t.Helper()
	s := loadSYAML(t)
	doc, err := render(s.raw, dummyLookup)
	if err != nil {
		t.Fatalf("s.yaml: %v", err)
	}
	return fc3Props(t, doc)
}

func envVars(t *testing.T, props map[string]any) map[string]string {
	t.Helper()
	raw, ok := props["environmentVariables"].(map[string]any)
	if !ok {
		t.Fatal("props.environmentVariables is missing")
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			t.Errorf("environmentVariables.%s: %v is a %T; FC takes strings (quote it)", k, v, v)
		}
		out[k] = s
	}
	return out
}
