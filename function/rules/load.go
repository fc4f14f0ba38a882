package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/webhook"
	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"gopkg.in/yaml.v3"
)

// Load reads the rules at path: a YAML file, or a directory whose *.yaml and
// *.yml files (not recursive; files named *_test.yaml / *_test.yml are rule
// unit tests and skipped) are all loaded in name order and merged:
//
//   - channels, silences and rules are merged; a channel or rule name given
//     twice (in any files) is an error;
//   - defaults are merged field by field over all files and apply to every
//     rule in every file; the same default set to two different values is an
//     error. This lets one file hold channels and defaults and others rules.
//
// ${VAR} in channel fields is expanded with lookupEnv (os.LookupEnv when
// nil). On any problem Load returns Diagnostics listing every problem in
// every file, and a nil Set.
func Load(path string, lookupEnv func(string) (string, bool)) (*Set, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	files, diag := listFiles(path)
	if diag != nil {
		return nil, Diagnostics{*diag}
	}
	l := newLoader(lookupEnv)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			l.diags = append(l.diags, Diagnostic{File: f, Line: 1, Col: 1, Msg: "cannot read file: " + errText(err)})
			continue
		}
		l.loadFile(f, data)
	}
	return l.finish()
}

// LoadBytes loads one file's content as if read from name (tests, fuzzing,
// rule unit tests).
func LoadBytes(name string, data []byte, lookupEnv func(string) (string, bool)) (*Set, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	l := newLoader(lookupEnv)
	l.loadFile(name, data)
	return l.finish()
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func listFiles(p string) ([]string, *Diagnostic) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, &Diagnostic{File: p, Line: 1, Col: 1, Msg: "cannot read rules: " + errText(err)}
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return nil, &Diagnostic{File: p, Line: 1, Col: 1, Msg: "cannot read rules directory: " + errText(err)}
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(name, ".") {
			continue
		}
		if strings.HasSuffix(strings.TrimSuffix(name, ext), "_test") {
			continue
		}
		files = append(files, filepath.Join(p, name))
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, &Diagnostic{File: p, Line: 1, Col: 1, Msg: "no *.yaml or *.yml rule files in directory"}
	}
	return files, nil
}

type loader struct {
	lookupEnv func(string) (string, bool)
	diags     Diagnostics
	warns     Diagnostics
	// brokenChannels are declared but did not load (their problem is
	// reported where they are declared).
	brokenChannels map[string]bool
	file           string
	set            *Set

	defaultsAt map[string]string // default field → "file:line" where set
	ruleAt     map[string]string // rule name → "file:line"
	notifyRefs []notifyRef
	rules      []*pendingRule
}

type notifyRef struct {
	label string
	file  string
	node  *yaml.Node
	name  string
}

type pendingRule struct {
	r                                          *Rule
	notifySet, severitySet, repeatSet, sendSet bool
}

func newLoader(lookupEnv func(string) (string, bool)) *loader {
	return &loader{
		lookupEnv:      lookupEnv,
		brokenChannels: map[string]bool{},
		set: &Set{
			Channels: map[string]*Channel{},
			Defaults: Defaults{
				Severity:     "warning",
				RepeatEvery:  24 * time.Hour,
				SendResolved: true,
			},
			Location: time.UTC,
		},
		defaultsAt: map[string]string{},
		ruleAt:     map[string]string{},
	}
}

func (l *loader) errAt(n *yaml.Node, format string, args ...any) {
	l.diags = append(l.diags, diagAt(l.file, n, false, format, args...))
}

// warnAt records a problem that does not stop the load.
func (l *loader) warnAt(n *yaml.Node, format string, args ...any) {
	l.warns = append(l.warns, diagAt(l.file, n, true, format, args...))
}

func diagAt(file string, n *yaml.Node, warning bool, format string, args ...any) Diagnostic {
	line, col := 1, 1
	if n != nil {
		if n.Line > 0 {
			line = n.Line
		}
		if n.Column > 0 {
			col = n.Column
		}
	}
	return Diagnostic{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Warning: warning}
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func (l *loader) loadFile(name string, data []byte) {
	l.file = name
	l.set.Files = append(l.set.Files, name)
	defer func() {
		// yaml.v3 must not take a run down, whatever the input.
		if r := recover(); r != nil {
			l.diags = append(l.diags, Diagnostic{File: name, Line: 1, Col: 1, Msg: "cannot parse YAML"})
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return // empty file
		}
		l.yamlError(err, data)
		return
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errAt(&extra, "more than one YAML document in a file is not supported")
	} else if !errors.Is(err, io.EOF) {
		l.yamlError(err, data)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return
	}
	root := resolve(doc.Content[0])
	if isNull(root) {
		return
	}
	if root.Kind != yaml.MappingNode {
		l.errAt(root, "top level: want a mapping with channels, defaults, silences and rules, got %s", kindOf(root))
		return
	}
	fs := l.fields(root, "at top level", []string{"channels", "defaults", "silences", "rules"})
	if p, ok := fs.get("channels"); ok {
		l.channels(p.v)
	}
	if p, ok := fs.get("defaults"); ok {
		l.defaults(p.v)
	}
	if p, ok := fs.get("silences"); ok {
		l.silences(p.v)
	}
	if p, ok := fs.get("rules"); ok {
		l.rulesList(p.v)
	}
}

// YAMLError is the diagnostic for a file that yaml.v3 could not parse.
// yaml.v3 gives only a line, often the one before the mistake; goccy/go-yaml's
// parser points at the offending character, so its position (and message)
// is used when it finds the error too.
func YAMLError(file string, err error, data []byte) Diagnostic {
	if line, col, msg, ok := syntaxErrorAt(data); ok {
		return Diagnostic{File: file, Line: line, Col: col, Msg: "invalid YAML: " + msg}
	}
	msg := err.Error()
	line := 1
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return Diagnostic{File: file, Line: max(line, 1), Col: 1, Msg: "invalid YAML: " + msg}
}

func (l *loader) yamlError(err error, data []byte) {
	l.diags = append(l.diags, YAMLError(l.file, err, data))
}

func syntaxErrorAt(data []byte) (line, col int, msg string, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	_, err := goccyparser.ParseBytes(data, 0)
	var se *goccy.SyntaxError
	if !errors.As(err, &se) || se.Token == nil || se.Token.Position == nil || se.Token.Position.Line < 1 {
		return 0, 0, "", false
	}
	msg = se.Message
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return se.Token.Position.Line, max(se.Token.Position.Column, 1), msg, true
}

// fields decodes a mapping, reporting unknown and repeated keys.
func (l *loader) fields(n *yaml.Node, where string, allowed []string) *fieldSet {
	fs := &fieldSet{m: map[string]kv{}}
	for _, p := range pairs(n) {
		name, ok := scalarString(p.k)
		if !ok {
			l.errAt(p.k, "%s: keys must be strings, got %s", strings.TrimPrefix(where, "in "), kindOf(p.k))
			continue
		}
		known := false
		for _, a := range allowed {
			if a == name {
				known = true
				break
			}
		}
		if !known {
			l.errAt(p.k, "unknown field %q %s%s", name, where, suggest(name, allowed))
			continue
		}
		if prev, dup := fs.m[name]; dup {
			l.errAt(p.k, "field %q given twice %s (first at line %d)", name, where, prev.k.Line)
			continue
		}
		fs.m[name] = p
		fs.order = append(fs.order, name)
	}
	return fs
}

// drop forgets a field, so that nothing after this reads it.
func (fs *fieldSet) drop(name string) {
	delete(fs.m, name)
	fs.order = slices.DeleteFunc(fs.order, func(s string) bool { return s == name })
}

// want* helpers report a wrong type and return ok=false.

func (l *loader) wantMapping(n *yaml.Node, what string) (*yaml.Node, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.MappingNode {
		l.errAt(n, "%s: want a mapping, got %s", what, kindOf(n))
		return nil, false
	}
	return r, true
}

func (l *loader) wantString(n *yaml.Node, what string) (string, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.ScalarNode || r.Tag == "!!null" {
		l.errAt(n, "%s: want a string, got %s", what, kindOf(n))
		return "", false
	}
	return r.Value, true
}

func (l *loader) wantStrings(n *yaml.Node, what string) ([]string, bool) {
	r := resolve(n)
	if r == nil || r.Kind != yaml.SequenceNode {
		l.errAt(n, "%s: want a list of strings, got %s", what, kindOf(n))
		return nil, false
	}
	out := make([]string, 0, len(r.Content))
	ok := true
	for _, it := range r.Content {
		s, good := scalarString(it)
		if !good {
			l.errAt(it, "%s: want a list of strings, got an item that is %s", what, kindOf(it))
			ok = false
			continue
		}
		out = append(out, s)
	}
	return out, ok
}

func (l *loader) wantBool(n *yaml.Node, what string) (bool, bool) {
	v, ok := scalarBool(n)
	if !ok {
		l.errAt(n, "%s: want true or false, got %s", what, kindOf(n))
	}
	return v, ok
}

func (l *loader) wantInt(n *yaml.Node, what string) (int64, bool) {
	v, ok := scalarInt(n)
	if !ok {
		l.errAt(n, "%s: want an integer, got %s", what, kindOf(n))
	}
	return v, ok
}

func (l *loader) wantNumber(n *yaml.Node, what string) (float64, bool) {
	v, ok := scalarFloat(n)
	if !ok {
		l.errAt(n, "%s: want a number, got %s", what, kindOf(n))
	}
	return v, ok
}

// wantDuration accepts a Go duration ("24h", "90m") or whole days ("7d").
func (l *loader) wantDuration(n *yaml.Node, what string) (time.Duration, bool) {
	r := resolve(n)
	if v, ok := scalarInt(r); ok && v == 0 {
		return 0, true
	}
	s, ok := scalarString(r)
	if !ok {
		l.errAt(n, "%s: want a duration like 24h or 7d, got %s", what, kindOf(n))
		return 0, false
	}
	d, err := parseDuration(s)
	if err != nil {
		l.errAt(n, "%s: invalid duration %q (want a duration like 24h, 90m or 7d)", what, s)
		return 0, false
	}
	if d < 0 {
		l.errAt(n, "%s: duration %q must not be negative", what, s)
		return 0, false
	}
	return d, true
}

// parseDuration is time.ParseDuration plus a "d" (24h) unit: "7d", "1d12h".
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("empty")
	}
	if i := strings.IndexByte(s, 'd'); i > 0 {
		days, err := strconv.ParseInt(s[:i], 10, 32)
		if err != nil || days < 0 || days > 3660 {
			return 0, errors.New("bad days")
		}
		d := time.Duration(days) * 24 * time.Hour
		if rest := s[i+1:]; rest != "" {
			r, err := time.ParseDuration(rest)
			if err != nil || r < 0 {
				return 0, errors.New("bad duration")
			}
			d += r
		}
		return d, nil
	}
	return time.ParseDuration(s)
}

// ---- channels -----------------------------------------------------------

var channelFields = []string{"type", "webhook_url", "bot_token", "channel", "secret", "at_mobiles", "at_user_ids", "send_resolved"}

var channelNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (l *loader) channels(n *yaml.Node) {
	if isNull(n) {
		return
	}
	m, ok := l.wantMapping(n, "channels")
	if !ok {
		return
	}
	seen := map[string]bool{}
	for _, p := range pairs(m) {
		name, ok := scalarString(p.k)
		if !ok {
			l.errAt(p.k, "channels: names must be strings, got %s", kindOf(p.k))
			continue
		}
		if !channelNameRE.MatchString(name) {
			l.errAt(p.k, "channel name %q: use letters, digits, '-', '_' and '.'", name)
			continue
		}
		if seen[name] {
			l.errAt(p.k, "channel %q defined twice", name)
			continue
		}
		seen[name] = true
		if prev, dup := l.set.Channels[name]; dup {
			l.errAt(p.k, "channel %q already defined at %s:%d", name, prev.File, prev.Line)
			continue
		}
		if c := l.channel(name, p.k, p.v); c != nil {
			l.set.Channels[name] = c
			l.set.ChannelOrder = append(l.set.ChannelOrder, name)
		} else {
			// Declared, though broken (already reported): references to it
			// are not "unknown channel" too.
			l.brokenChannels[name] = true
		}
	}
}

func (l *loader) channel(name string, key, n *yaml.Node) *Channel {
	where := fmt.Sprintf("channel %s", name)
	m, ok := l.wantMapping(n, where)
	if !ok {
		return nil
	}
	fs := l.fields(m, "in channel "+name, channelFields)
	c := &Channel{Name: name, File: l.file, Line: key.Line}
	good := true
	tp, ok := fs.get("type")
	if !ok {
		l.errAt(m, "channel %s: missing type (slack or dingtalk)", name)
		return nil
	}
	typ, ok := l.wantString(tp.v, where+": type")
	if !ok {
		return nil
	}
	if typ != Slack && typ != DingTalk {
		l.errAt(tp.v, "channel %s: unknown type %q (want slack or dingtalk)%s", name, typ, suggest(typ, []string{Slack, DingTalk}))
		return nil
	}
	c.Type = typ
	allowed := map[string][]string{
		Slack:    {"type", "webhook_url", "bot_token", "channel", "send_resolved"},
		DingTalk: {"type", "webhook_url", "secret", "at_mobiles", "at_user_ids", "send_resolved"},
	}[typ]
	for _, f := range fs.order {
		okf := false
		for _, a := range allowed {
			okf = okf || a == f
		}
		if !okf {
			p, _ := fs.get(f)
			l.errAt(p.k, "channel %s: field %s is not used by %s channels", name, f, typ)
			good = false
		}
	}
	str := func(f string) (string, *yaml.Node, bool) {
		p, ok := fs.get(f)
		if !ok {
			return "", nil, false
		}
		s, ok := l.wantString(p.v, where+": "+f)
		if !ok {
			good = false
			return "", p.v, false
		}
		v, ok := l.expand(p.v, where, f, s, secretFields[f])
		if !ok {
			good = false
			return "", p.v, false
		}
		return v, p.v, true
	}
	list := func(f string) []string {
		p, ok := fs.get(f)
		if !ok || isNull(p.v) {
			return nil
		}
		items, ok := l.wantStrings(p.v, where+": "+f)
		if !ok {
			good = false
			return nil
		}
		out := items[:0]
		for i, s := range items {
			v, ok := l.expand(resolve(p.v).Content[i], where, f, s, false)
			if !ok {
				good = false
				continue
			}
			if v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	var urlNode *yaml.Node
	var hasURL bool
	c.WebhookURL, urlNode, hasURL = str("webhook_url")
	if hasURL {
		if msg := checkWebhookURL(c.WebhookURL); msg != "" {
			l.errAt(urlNode, "channel %s: webhook_url %s", name, msg)
			good = false
		}
	}
	if p, ok := fs.get("send_resolved"); ok {
		if b, ok := l.wantBool(p.v, where+": send_resolved"); ok {
			c.SendResolved = &b
		} else {
			good = false
		}
	}
	switch typ {
	case Slack:
		var tokNode, chNode *yaml.Node
		var hasTok, hasCh bool
		c.BotToken, tokNode, hasTok = str("bot_token")
		c.SlackChannel, chNode, hasCh = str("channel")
		_, urlGiven := fs.get("webhook_url")
		_, tokGiven := fs.get("bot_token")
		_, chGiven := fs.get("channel")
		switch {
		case urlGiven && (tokGiven || chGiven):
			l.errAt(m, "channel %s: give either webhook_url or bot_token + channel, not both", name)
			good = false
		case !urlGiven && !tokGiven && !chGiven:
			l.errAt(m, "channel %s: slack needs webhook_url, or bot_token and channel", name)
			good = false
		case !urlGiven && tokGiven != chGiven:
			if tokGiven {
				l.errAt(m, "channel %s: bot_token needs channel", name)
			} else {
				l.errAt(m, "channel %s: channel needs bot_token", name)
			}
			good = false
		}
		if hasTok && c.BotToken == "" {
			l.errAt(tokNode, "channel %s: bot_token is empty", name)
			good = false
		}
		if hasCh && c.SlackChannel == "" {
			l.errAt(chNode, "channel %s: channel is empty", name)
			good = false
		}
	case DingTalk:
		if _, ok := fs.get("webhook_url"); !ok {
			l.errAt(m, "channel %s: dingtalk needs webhook_url", name)
			good = false
		}
		c.Secret, _, _ = str("secret")
		c.AtMobiles = list("at_mobiles")
		c.AtUserIDs = list("at_user_ids")
	}
	if !good {
		return nil
	}
	return c
}

var envRefRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// secretFields are the channel fields that hold secrets: only they may take
// a secret-looking variable, since their values never appear anywhere.
var secretFields = map[string]bool{"webhook_url": true, "bot_token": true, "secret": true}

// secretName matches variables whose names say they hold a secret.
var secretName = regexp.MustCompile(`(?i)SECRET|TOKEN|PASSWORD|PASSWD|KEY|WEBHOOK|CREDENTIAL`)

// readable says whether a rule file may expand the variable into the field:
// never the function's own credentials (ALIBABA_CLOUD_*) or FC's variables
// (FC_*), which a webhook URL's query would carry off; a secret-looking one
// only into a secret field, since other fields (a mention list, a channel
// name) are shown in messages and errors.
func readable(name string, secretField bool) (bool, string) {
	up := strings.ToUpper(name)
	if strings.HasPrefix(up, "ALIBABA_CLOUD_") || strings.HasPrefix(up, "FC_") {
		return false, "is one of the function's own credentials or FC's settings, which rules cannot read"
	}
	if !secretField && secretName.MatchString(name) {
		return false, "looks like a secret, which only webhook_url, bot_token and secret may take"
	}
	return true, ""
}

// expand replaces ${VAR} with the environment's value. Messages name the
// variable, never a value.
func (l *loader) expand(n *yaml.Node, where, field, s string, secretField bool) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			l.errAt(n, "%s: %s has an unterminated ${", where, field)
			return "", false
		}
		name := s[i+2 : i+j]
		if !envRefRE.MatchString(name) {
			l.errAt(n, "%s: %s: invalid variable reference (want ${NAME} with letters, digits and _)", where, field)
			return "", false
		}
		if ok, why := readable(name, secretField); !ok {
			l.errAt(n, "%s: %s: ${%s} %s", where, field, name, why)
			return "", false
		}
		v, found := l.lookupEnv(name)
		if !found {
			l.errAt(n, "%s: %s: environment variable %s is not set", where, field, name)
			ok = false
		}
		b.WriteString(v)
		s = s[i+j+1:]
	}
	return b.String(), ok
}

// checkWebhookURL returns "" or what is wrong, never echoing the URL.
func checkWebhookURL(s string) string {
	if s == "" {
		return "is empty"
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "is not a valid URL"
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return ""
	case "http":
		if webhook.IsLoopback(u.Hostname()) {
			return ""
		}
		return "must use https (http is allowed only for loopback hosts)"
	default:
		return "must be an https URL"
	}
}

// ---- defaults -------------------------------------------------------------

var defaultsFields = []string{"notify", "severity", "repeat_every", "send_resolved"}

func (l *loader) defaults(n *yaml.Node) {
	if isNull(n) {
		return
	}
	m, ok := l.wantMapping(n, "defaults")
	if !ok {
		return
	}
	fs := l.fields(m, "in defaults", defaultsFields)
	d := &l.set.Defaults
	// conflict reports a default already set to a different value elsewhere.
	conflict := func(f string, p kv, same bool) bool {
		if at, set := l.defaultsAt[f]; set {
			if !same {
				l.errAt(p.k, "defaults: %s already set to a different value at %s", f, at)
			}
			return true
		}
		l.defaultsAt[f] = fmt.Sprintf("%s:%d", l.file, p.k.Line)
		return false
	}
	if p, ok := fs.get("notify"); ok {
		if names, ok := l.wantStrings(p.v, "defaults: notify"); ok {
			if !conflict("notify", p, equalStrings(d.Notify, names)) {
				d.Notify, d.NotifySet = names, true
				for i, name := range names {
					l.notifyRefs = append(l.notifyRefs, notifyRef{label: "defaults", file: l.file, node: resolve(p.v).Content[i], name: name})
				}
			}
		}
	}
	if p, ok := fs.get("severity"); ok {
		if s, ok := l.severity(p.v, "defaults"); ok && !conflict("severity", p, d.Severity == s) {
			d.Severity = s
		}
	}
	if p, ok := fs.get("repeat_every"); ok {
		if v, ok := l.wantDuration(p.v, "defaults: repeat_every"); ok && !conflict("repeat_every", p, d.RepeatEvery == v) {
			d.RepeatEvery = v
		}
	}
	if p, ok := fs.get("send_resolved"); ok {
		if v, ok := l.wantBool(p.v, "defaults: send_resolved"); ok && !conflict("send_resolved", p, d.SendResolved == v) {
			d.SendResolved = v
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (l *loader) severity(n *yaml.Node, label string) (string, bool) {
	s, ok := l.wantString(n, label+": severity")
	if !ok {
		return "", false
	}
	for _, v := range alert.Severities {
		if v == s {
			return s, true
		}
	}
	l.errAt(n, "%s: unknown severity %q (want %s)%s", label, s, strings.Join(alert.Severities, ", "), suggest(s, alert.Severities))
	return "", false
}

// ---- silences -------------------------------------------------------------

var silenceFields = []string{"match", "until", "reason"}
var silenceMatchFields = []string{"rule", "template", "language", "button"}

func (l *loader) silences(n *yaml.Node) {
	if isNull(n) {
		return
	}
	seq := resolve(n)
	if seq.Kind != yaml.SequenceNode {
		l.errAt(n, "silences: want a list, got %s", kindOf(n))
		return
	}
	for _, it := range seq.Content {
		m, ok := l.wantMapping(it, "silence")
		if !ok {
			continue
		}
		fs := l.fields(m, "in silence", silenceFields)
		s := Silence{File: l.file, Line: m.Line}
		good := true
		if p, ok := fs.get("match"); ok {
			if mm, ok := l.wantMapping(p.v, "silence: match"); ok {
				mf := l.fields(mm, "in silence match", silenceMatchFields)
				for _, f := range silenceMatchFields {
					q, ok := mf.get(f)
					if !ok {
						continue
					}
					g, ok := l.wantString(q.v, "silence: match: "+f)
					if !ok {
						good = false
						continue
					}
					if !l.checkGlob(q.v, "silence: match: "+f, g) {
						good = false
					}
					switch f {
					case "rule":
						s.Rule = g
					case "template":
						s.Template = g
					case "language":
						s.Language = g
					case "button":
						s.Button = g
					}
				}
				if len(mf.order) == 0 {
					l.errAt(p.v, "silence: match is empty (it would silence everything)")
					good = false
				}
			} else {
				good = false
			}
		} else {
			l.errAt(m, "silence: missing match (rule, template, language or button globs)")
			good = false
		}
		if p, ok := fs.get("until"); ok {
			str, ok := scalarString(p.v)
			var t time.Time
			var err error
			if ok {
				t, err = time.Parse(time.RFC3339, str)
			}
			if !ok || err != nil {
				l.errAt(p.v, "silence: until: want an RFC 3339 time like 2026-12-01T00:00:00+08:00")
				good = false
			}
			s.Until = t
		} else {
			l.errAt(m, "silence: missing until (an RFC 3339 time: silences must expire)")
			good = false
		}
		if p, ok := fs.get("reason"); ok {
			if r, ok := l.wantString(p.v, "silence: reason"); ok {
				s.Reason = r
			} else {
				good = false
			}
		}
		if good {
			l.set.Silences = append(l.set.Silences, s)
		}
	}
}

func (l *loader) checkGlob(n *yaml.Node, what, g string) bool {
	if _, err := path.Match(g, ""); err != nil {
		l.errAt(n, "%s: bad glob %q", what, g)
		return false
	}
	return true
}

// ---- finish -----------------------------------------------------------------

func (l *loader) finish() (*Set, error) {
	s := l.set
	for _, ref := range l.notifyRefs {
		if _, ok := s.Channels[ref.name]; !ok && !l.brokenChannels[ref.name] {
			l.file = ref.file
			msg := fmt.Sprintf("%s: notify: unknown channel %q", ref.label, ref.name)
			if len(s.ChannelOrder) == 0 {
				msg += " (no channels are defined)"
			} else {
				msg += fmt.Sprintf(" (defined: %s)%s", strings.Join(s.ChannelOrder, ", "), suggest(ref.name, s.ChannelOrder))
			}
			l.errAt(ref.node, "%s", msg)
		}
	}
	for _, pr := range l.rules {
		r := pr.r
		if !pr.notifySet {
			if s.Defaults.NotifySet {
				r.Notify = append([]string(nil), s.Defaults.Notify...)
			} else {
				r.Notify = append([]string(nil), s.ChannelOrder...)
			}
		}
		if !pr.severitySet {
			r.Severity = s.Defaults.Severity
		}
		if !pr.repeatSet {
			r.RepeatEvery = s.Defaults.RepeatEvery
		}
		if !pr.sendSet {
			r.SendResolved = s.Defaults.SendResolved
		}
		s.Rules = append(s.Rules, r)
	}
	if len(l.diags) > 0 {
		// every problem at once: what is ignored too
		l.diags = append(l.diags, l.warns...)
		l.diags.sort()
		return nil, l.diags
	}
	l.warns.sort()
	s.Warnings = l.warns
	return s, nil
}
