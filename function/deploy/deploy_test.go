package deploy

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cams-alert/cams-alert/function/config"
	"github.com/cams-alert/cams-alert/function/ledger"
)

// providedByFC are variables config.Config reads that s.yaml must NOT set: FC
// sets them itself from the function role's STS credentials (and the handler
// reads the role's credentials from each invocation's context). Setting them
// in s.yaml would at best be overwritten and at worst store a long-lived
// AccessKey in the function's configuration.
var providedByFC = []string{
	"ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
}

// TestEnvironmentMatchesConfig: s.yaml sets every variable config.Config
// reads (but the FC-provided credentials) and nothing else.
func TestEnvironmentMatchesConfig(t *testing.T) {
	env := envVars(t, loadSYAML(t).props)
	want := map[string]bool{}
	for _, name := range config.Variables() {
		want[name] = !slices.Contains(providedByFC, name)
	}
	for _, name := range config.Variables() {
		_, set := env[name]
		switch {
		case want[name] && !set:
			t.Errorf("s.yaml environmentVariables lacks %s, which the function reads (config.Config)", name)
		case !want[name] && set:
			t.Errorf("s.yaml environmentVariables sets %s: FC provides it from the function role; remove it", name)
		}
	}
	for name := range env {
		if _, read := want[name]; !read {
			t.Errorf("s.yaml environmentVariables sets %s, which the function does not read (not in config.Config)", name)
		}
		if strings.HasPrefix(name, "FC_") {
			t.Errorf("%s: the FC_ prefix is reserved by Function Compute", name)
		}
	}
}

// TestEnvironmentValues: a value is either a literal or ${env('SAME_NAME'…)},
// so users set exactly the variables the CLI reads; secrets are never
// literals and default to empty, since Slack and DingTalk are each
// optional.
func TestEnvironmentValues(t *testing.T) {
	env := envVars(t, loadSYAML(t).props)
	for name, v := range env {
		m := envRef.FindStringSubmatch(v)
		if m == nil {
			if strings.Contains(v, "${") {
				t.Errorf("%s: %q: use a literal or ${env('%s', 'default')}", name, v, name)
			}
			if slices.Contains(config.Secrets, name) {
				t.Errorf("%s is a secret: set it with ${env('%s', '')}, never a literal in s.yaml", name, name)
			}
			continue
		}
		if m[1] != name {
			t.Errorf("%s reads env('%s'): read the variable of the same name", name, m[1])
		}
		if slices.Contains(config.Secrets, name) && (m[2] == "" || m[3] != "") {
			t.Errorf("%s: a secret defaults to empty: ${env('%s', '')}", name, name)
		}
	}
}

// TestRenderedConfigLoads: the values s.yaml gives the function (defaults, plus
// dummy secrets) pass the function's own configuration checks.
func TestRenderedConfigLoads(t *testing.T) {
	env := envVars(t, staticProps(t))
	loadConfig(t, env)
	size := 0
	for k, v := range env {
		size += len(k) + len(v)
	}
	if size > 2048 {
		t.Errorf("environment variables take %d bytes with dummy values; FC allows 4 KB in all and real webhook URLs and template lists need room", size)
	}
}

// loadConfig runs config.Load with exactly env (and the FC-provided
// credentials empty).
func loadConfig(t *testing.T, env map[string]string) *config.Config {
	t.Helper()
	c, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("config.Load with s.yaml's values: %v", err)
	}
	return c
}

func TestFunctionShape(t *testing.T) {
	p := staticProps(t)
	for key, want := range map[string]any{
		"region": "ap-southeast-1", "runtime": "go1", "handler": "main", "code": "./dist/code.zip",
		"logConfig": "auto", "instanceConcurrency": 1,
	} {
		if !reflect.DeepEqual(p[key], want) {
			t.Errorf("props.%s = %#v, want %#v", key, p[key], want)
		}
	}
	if role, _ := p["role"].(string); role == "" {
		t.Error("props.role is empty: the function needs its own role (deploy/ram-policy.json)")
	}
	// A click (the http trigger) must run while a timer run holds the one
	// instance it may use; more would only allow overlapping timer runs.
	if rc := asMap(p["concurrencyConfig"])["reservedConcurrency"]; rc != 2 {
		t.Errorf("concurrencyConfig.reservedConcurrency = %v, want 2 (a timer run and a click)", rc)
	}
	timeout, _ := p["timeout"].(int)
	if timeout < 120 {
		t.Errorf("timeout = %v s: 2,000 templates at 40 QPS alone take ~50 s", p["timeout"])
	}
	if d := time.Duration(timeout) * time.Second; d >= ledger.StaleAfter {
		t.Errorf("timeout %v is not below ledger.StaleAfter %v: a live run's lock could be taken over", d, ledger.StaleAfter)
	}
	if mem, _ := p["memorySize"].(int); mem < 256 {
		t.Errorf("memorySize = %v MB, want at least 256", p["memorySize"])
	}
	async := asMap(p["asyncInvokeConfig"])
	if async["maxAsyncRetryAttempts"] != 3 {
		t.Errorf("asyncInvokeConfig.maxAsyncRetryAttempts = %v, want 3 (the ledger makes retries safe)", async["maxAsyncRetryAttempts"])
	}
	if age, _ := async["maxAsyncEventAgeInSeconds"].(int); age < 600 || age > 86400 {
		t.Errorf("asyncInvokeConfig.maxAsyncEventAgeInSeconds = %v, want 600..86400 (a retry must not outlive the next day's run)", async["maxAsyncEventAgeInSeconds"])
	}
}

// TestStateOnOSS: STATE_DIR is on a writable OSS mount, under the prefix the
// RAM policy grants.
func TestStateOnOSS(t *testing.T) {
	p := staticProps(t)
	mounts, _ := asMap(p["ossMountConfig"])["mountPoints"].([]any)
	if len(mounts) != 1 {
		t.Fatalf("ossMountConfig.mountPoints: want one mount (the state bucket), got %d", len(mounts))
	}
	m := asMap(mounts[0])
	dir, _ := m["mountDir"].(string)
	state := envVars(t, p)["STATE_DIR"]
	if dir == "" || (state != dir && !strings.HasPrefix(state, strings.TrimSuffix(dir, "/")+"/")) {
		t.Errorf("STATE_DIR %q is not on the OSS mount %q: the ledger would not survive the instance", state, dir)
	}
	if m["readOnly"] == true {
		t.Error("the state mount is read-only")
	}
	if m["bucketName"] != dummy["STATE_BUCKET"] {
		t.Errorf("bucketName renders as %v: want it from STATE_BUCKET", m["bucketName"])
	}
	if ep, _ := m["endpoint"].(string); ep != "http://oss-ap-southeast-1-internal.aliyuncs.com" {
		t.Errorf("endpoint %q: use the region's internal endpoint (no traffic fees, no public egress)", ep)
	}
	prefix := strings.Trim(fmt.Sprint(m["bucketPath"]), "/")
	if prefix == "" {
		t.Fatal("bucketPath mounts the whole bucket: mount a prefix, the policy grants only that")
	}
	if got := policyPrefix(t); got != prefix {
		t.Errorf("deploy/ram-policy.json grants prefix %q, s.yaml mounts %q", got, prefix)
	}
}

// TestTimer: one enabled timer trigger with a valid CRON_TZ expression of six
// fields, seconds first, firing at most every half hour.
func TestTimer(t *testing.T) {
	p := staticProps(t)
	triggers, _ := p["triggers"].([]any)
	var crons []string
	for _, tr := range triggers {
		tr := asMap(tr)
		if tr["triggerType"] == "http" {
			continue // TestHTTPTrigger
		}
		if tr["triggerType"] != "timer" {
			t.Errorf("trigger %v: only a timer and an http trigger are expected", tr["triggerName"])
			continue
		}
		cfg := asMap(tr["triggerConfig"])
		if cfg["enable"] != true {
			t.Errorf("timer %v is not enabled", tr["triggerName"])
		}
		s, _ := cfg["cronExpression"].(string)
		crons = append(crons, s)
	}
	if len(crons) != 1 {
		t.Fatalf("want one timer trigger, got %d", len(crons))
	}
	perDay, err := checkCron(crons[0])
	if err != nil {
		t.Fatalf("cronExpression %q: %v", crons[0], err)
	}
	if perDay > 48 {
		t.Errorf("cronExpression %q fires %d times a day; the finest period is half an hour", crons[0], perDay)
	}
}

// TestHTTPTrigger: one http trigger for the chat actions, anonymous (Slack's
// signature and the signed links authenticate), GET and POST only.
func TestHTTPTrigger(t *testing.T) {
	p := staticProps(t)
	triggers, _ := p["triggers"].([]any)
	var http []map[string]any
	for _, tr := range triggers {
		if tr := asMap(tr); tr["triggerType"] == "http" {
			http = append(http, tr)
		}
	}
	if len(http) != 1 {
		t.Fatalf("want one http trigger (Slack actions, DingTalk links), got %d", len(http))
	}
	cfg := asMap(http[0]["triggerConfig"])
	if cfg["authType"] != "anonymous" {
		t.Errorf("http trigger authType %v: Slack and browsers cannot sign FC requests; want anonymous", cfg["authType"])
	}
	methods, _ := cfg["methods"].([]any)
	if fmt.Sprint(methods) != "[GET POST]" {
		t.Errorf("http trigger methods %v, want [GET POST]", methods)
	}
	if cfg["disableURLInternet"] == true {
		t.Error("http trigger: disableURLInternet hides it from Slack")
	}
}

// checkCron validates "CRON_TZ=Zone S M H DoM Mon DoW" (FC's format) and
// returns how many times a day it fires on the days it fires.
func checkCron(s string) (int, error) {
	tz, rest, ok := strings.Cut(s, " ")
	zone, found := strings.CutPrefix(tz, "CRON_TZ=")
	if !ok || !found || zone == "" {
		return 0, fmt.Errorf("must start with CRON_TZ=Area/City (FC reads a bare expression as UTC)")
	}
	if _, err := time.LoadLocation(zone); err != nil {
		return 0, fmt.Errorf("CRON_TZ: %v", err)
	}
	fields := strings.Fields(rest)
	if len(fields) != 6 {
		return 0, fmt.Errorf("%d fields, want 6: seconds minutes hours day-of-month month day-of-week", len(fields))
	}
	names := map[int][]string{
		4: {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"},
		5: {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"},
	}
	bounds := [6][2]int{{0, 59}, {0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 6}}
	label := [6]string{"seconds", "minutes", "hours", "day-of-month", "month", "day-of-week"}
	count := [6]int{}
	for i, f := range fields {
		n, err := cronField(f, bounds[i][0], bounds[i][1], names[i], i >= 3)
		if err != nil {
			return 0, fmt.Errorf("%s field %q: %v", label[i], f, err)
		}
		count[i] = n
	}
	return count[0] * count[1] * count[2], nil
}

// cronField parses a comma list of *, ?, N, N-M, each with an optional /STEP,
// and returns how many values it selects.
func cronField(f string, lo, hi int, names []string, question bool) (int, error) {
	num := func(s string) (int, error) {
		for i, n := range names {
			if strings.EqualFold(s, n) {
				return lo + i, nil
			}
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			return 0, fmt.Errorf("%q is not in %d-%d", s, lo, hi)
		}
		return n, nil
	}
	set := map[int]bool{}
	for _, item := range strings.Split(f, ",") {
		rng, stepStr, hasStep := strings.Cut(item, "/")
		step := 1
		if hasStep {
			var err error
			if step, err = strconv.Atoi(stepStr); err != nil || step < 1 {
				return 0, fmt.Errorf("bad step %q", stepStr)
			}
		}
		a, b := lo, hi
		switch {
		case rng == "*":
		case rng == "?":
			if !question {
				return 0, fmt.Errorf("? is allowed only in day-of-month and day-of-week")
			}
		case strings.Contains(rng, "-"):
			x, y, _ := strings.Cut(rng, "-")
			var err error
			if a, err = num(x); err != nil {
				return 0, err
			}
			if b, err = num(y); err != nil {
				return 0, err
			}
			if a > b {
				return 0, fmt.Errorf("range %s runs backwards", rng)
			}
		default:
			n, err := num(rng)
			if err != nil {
				return 0, err
			}
			a = n
			if !hasStep {
				b = n
			}
		}
		for v := a; v <= b; v += step {
			set[v] = true
		}
	}
	return len(set), nil
}

// policy is a RAM policy document.
type policy struct {
	Version   string
	Statement []struct {
		Effect    string
		Action    stringList
		Resource  stringList
		Condition map[string]map[string]stringList
		Principal struct{ Service stringList }
	}
}

// stringList is a RAM string-or-list field.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*l = []string{one}
		return nil
	}
	return json.Unmarshal(b, (*[]string)(l))
}

const bucketPlaceholder = "STATE_BUCKET"

func loadPolicy(t *testing.T, name string) policy {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p policy
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("deploy/%s: %v", name, err)
	}
	if p.Version != "1" {
		t.Errorf("deploy/%s: Version %q, want \"1\"", name, p.Version)
	}
	return p
}

// TestRAMPolicy: the function role gets the two CAMS reads, log writes, and
// object access under the state prefix only.
func TestRAMPolicy(t *testing.T) {
	p := loadPolicy(t, "ram-policy.json")
	prefix := policyPrefix(t)
	want := map[string]bool{
		"cams:GetChatappTemplateMetric": true, "cams:ListChatappTemplate": true,
		"log:PostLogStoreLogs": true,
		"oss:GetObject":        true, "oss:PutObject": true, "oss:DeleteObject": true, "oss:ListObjects": true,
		// What FC's read-write OSS mount needs besides, for multipart
		// uploads it starts (ossfs) and abandons.
		"oss:ListParts": true, "oss:AbortMultipartUpload": true,
	}
	got := map[string]bool{}
	for _, st := range p.Statement {
		if st.Effect != "Allow" {
			t.Errorf("unexpected Effect %q", st.Effect)
		}
		for _, a := range st.Action {
			got[a] = true
			if strings.Contains(a, "*") {
				t.Errorf("wildcard action %q", a)
			}
			if !want[a] {
				t.Errorf("action %q is more than the function needs", a)
			}
			service, _, _ := strings.Cut(a, ":")
			for _, r := range st.Resource {
				switch service {
				case "cams":
					// CAMS has no resource-level authorisation: "*" is the only form.
				case "log":
					if !strings.HasPrefix(r, "acs:log:ap-southeast-1:*:project/") || !strings.Contains(r, "/logstore/") {
						t.Errorf("%s on %q: want the region's FC log project/logstore", a, r)
					}
				case "oss":
					bucket := "acs:oss:*:*:" + bucketPlaceholder
					switch {
					case a == "oss:ListObjects":
						if r != bucket {
							t.Errorf("%s on %q, want %q", a, r, bucket)
						}
						prefixes := st.Condition["StringLike"]["oss:Prefix"]
						if len(prefixes) == 0 {
							t.Errorf("%s is not limited by an oss:Prefix condition", a)
						}
						for _, pf := range prefixes {
							if pf != prefix && !strings.HasPrefix(pf, prefix+"/") {
								t.Errorf("%s: prefix condition %q is outside %s/", a, pf, prefix)
							}
						}
					case r != bucket+"/"+prefix+"/*":
						t.Errorf("%s on %q, want only %s/%s/*", a, r, bucket, prefix)
					}
				}
				if r == "*" && service != "cams" {
					t.Errorf("%s on every resource", a)
				}
			}
		}
	}
	for a := range want {
		if !got[a] {
			t.Errorf("the policy lacks %s", a)
		}
	}
}

func TestRAMTrustPolicy(t *testing.T) {
	p := loadPolicy(t, "ram-trust-policy.json")
	if len(p.Statement) != 1 || !slices.Equal(p.Statement[0].Action, stringList{"sts:AssumeRole"}) ||
		!slices.Equal(p.Statement[0].Principal.Service, stringList{"fc.aliyuncs.com"}) {
		t.Errorf("deploy/ram-trust-policy.json: want one statement letting fc.aliyuncs.com assume the role")
	}
}

// policyPrefix is the object prefix deploy/ram-policy.json grants, from its
// object-level OSS resource.
func policyPrefix(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "ram-policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatal(err)
	}
	for _, st := range p.Statement {
		for _, r := range st.Resource {
			if rest, ok := strings.CutPrefix(r, "acs:oss:*:*:"+bucketPlaceholder+"/"); ok {
				return strings.TrimSuffix(path.Clean(rest), "/*")
			}
		}
	}
	t.Fatal("deploy/ram-policy.json grants no object prefix")
	return ""
}

// schemaPath is the fc3 component's JSON schema for props: the copy kept in
// deploy/ (a clean clone has it), or wherever CAMS_ALERT_FC3_SCHEMA says.
func schemaPath() string {
	if p := os.Getenv("CAMS_ALERT_FC3_SCHEMA"); p != "" {
		return p
	}
	return filepath.Join(repoRoot, "deploy", "fc3-schema.json")
}

// fc3SchemaSHA256 is the SHA-256 of deploy/fc3-schema.json as copied from the
// team's reference (the fc3 component's schema for props). Updating the copy
// means updating this line too, on purpose: `sha256sum deploy/fc3-schema.json`.
const fc3SchemaSHA256 = "898f3c98627525d28323fe8bd575c64c8d91c2324b1ad448882e5a9487b7ed15"

// TestSchemaCopyCurrent: deploy/fc3-schema.json is the copy recorded above,
// byte for byte, so a clean clone (CI) validates s.yaml against a known
// schema; and where the team's reference sits beside the clone, the copy is
// that file.
func TestSchemaCopyCurrent(t *testing.T) {
	own, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "fc3-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%x", sha256.Sum256(own)); got != fc3SchemaSHA256 {
		t.Errorf("deploy/fc3-schema.json has SHA-256 %s, not the recorded copy's %s: restore it, or record the new copy in fc3SchemaSHA256", got, fc3SchemaSHA256)
	}
	ref, err := os.ReadFile(filepath.Join(repoRoot, "..", "shared", "reference", "fc3-schema.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return // a clone without the team's reference beside it: the checksum above is the check
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ref, own) {
		t.Error("deploy/fc3-schema.json differs from ../shared/reference/fc3-schema.json: copy it again and record its SHA-256")
	}
}

func fc3Schema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaPath())
	if err != nil {
		t.Fatalf("fc3 schema: %v", err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("fc3 schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	const url = "file:///fc3-schema.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		t.Fatalf("fc3 schema: %v", err)
	}
	return sch
}

// validateProps validates props against the schema, as JSON.
func validateProps(t *testing.T, sch *jsonschema.Schema, props map[string]any) {
	t.Helper()
	b, err := json.Marshal(props)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("props do not match the fc3 schema:\n%v", err)
	}
}

// TestSchemaStatic validates s.yaml's props, rendered here with dummy values.
func TestSchemaStatic(t *testing.T) {
	validateProps(t, fc3Schema(t), staticProps(t))
}

// TestSchemaCatchesMistakes shows the validator is really applied.
func TestSchemaCatchesMistakes(t *testing.T) {
	sch := fc3Schema(t)
	p := staticProps(t)
	p["runtime"] = "go1.x"
	p["timeout"] = 0
	b, _ := json.Marshal(p)
	inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err := sch.Validate(inst); err == nil {
		t.Error("a bad runtime and timeout passed the fc3 schema")
	}
}

// TestPreview checks the real rendering: `s preview -o json` output that
// `make deploy-check` writes and names in CAMS_ALERT_PREVIEW.
func TestPreview(t *testing.T) {
	file := os.Getenv("CAMS_ALERT_PREVIEW")
	if file == "" {
		t.Skip("CAMS_ALERT_PREVIEW is not set: `make deploy-check` renders s.yaml with `s preview` and checks it here")
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s is not the JSON of `s preview -o json`: %v", file, err)
	}
	if bytes.Contains(data, []byte("${")) {
		t.Errorf("%s: unrendered expressions remain", file)
	}
	props := fc3Props(t, doc)
	validateProps(t, fc3Schema(t), props)

	// The offline checks render s.yaml themselves: they must agree with s
	// (rendered from the same environment, before loadConfig changes it).
	s := loadSYAML(t)
	mine, err := render(s.raw, os.Getenv)
	if err != nil {
		t.Fatalf("s.yaml: %v", err)
	}
	if got, want := normalize(t, props), normalize(t, fc3Props(t, mine)); !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("s preview and the tests' rendering differ:\ns preview:\n%s\ntests:\n%s", g, w)
	}

	env := envVars(t, props)
	for _, name := range config.Secrets {
		v, set := env[name]
		if !set {
			continue
		}
		if given := os.Getenv(name); !strings.Contains(given, "DUMMY") || v != given {
			t.Errorf("%s rendered as %q; deploy-check passes a DUMMY value in $%s, which must come through", name, v, name)
		}
	}
	// The preview sets both Slack modes (to see both rendered); the function
	// takes one.
	env["SLACK_BOT_TOKEN"], env["SLACK_CHANNEL"] = "", ""
	loadConfig(t, env)

}
