package rules

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cams-alert/cams-alert/function/receiver"
	"github.com/cams-alert/cams-alert/function/yamldiag"
)

// limits bound what rule files may cost to load (see yamldiag.Limits).
var limits = yamldiag.DefaultLimits

// MaxFiles is the most rule files a RULES_PATH directory may hold.
const MaxFiles = 256

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
	return LoadFiles([]string{path}, lookupEnv)
}

// LoadFiles loads several rule files or directories (each as Load reads
// RULES_PATH) into one merged Set, exactly as if they were one directory:
// defaults merge over all of them, names must be unique across them. Rule
// unit tests use it for their rule_files list.
func LoadFiles(paths []string, lookupEnv func(string) (string, bool)) (*Set, error) {
	l := newLoader(lookupEnv)
	for _, p := range paths {
		files, diag := listFiles(p)
		if diag != nil {
			l.rep.Add(*diag)
			continue
		}
		for _, f := range files {
			data, diag := yamldiag.ReadFile(f, limits)
			if diag != nil {
				l.rep.Add(*diag)
				continue
			}
			l.loadFile(f, data)
		}
	}
	return l.finish()
}

// LoadBytes loads one file's content as if read from name (tests, fuzzing,
// rule unit tests).
func LoadBytes(name string, data []byte, lookupEnv func(string) (string, bool)) (*Set, error) {
	l := newLoader(lookupEnv)
	l.loadFile(name, data)
	return l.finish()
}

func listFiles(p string) ([]string, *Diagnostic) {
	fail := func(msg string) ([]string, *Diagnostic) {
		return nil, &Diagnostic{File: p, Line: 1, Col: 1, Msg: msg}
	}
	st, err := os.Stat(p)
	if err != nil {
		return fail("cannot read rules: " + yamldiag.ErrText(err))
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	entries, err := os.ReadDir(p)
	if err != nil {
		return fail("cannot read rules directory: " + yamldiag.ErrText(err))
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		ext := filepath.Ext(name)
		if e.IsDir() || (ext != ".yaml" && ext != ".yml") || strings.HasPrefix(name, ".") ||
			strings.HasSuffix(strings.TrimSuffix(name, ext), "_test") {
			continue
		}
		files = append(files, filepath.Join(p, name))
	}
	switch {
	case len(files) == 0:
		return fail("no *.yaml or *.yml rule files in directory")
	case len(files) > MaxFiles:
		return fail(fmt.Sprintf("%d rule files in directory, more than the %d allowed", len(files), MaxFiles))
	}
	return files, nil // os.ReadDir sorts by name
}

type loader struct {
	lookupEnv func(string) (string, bool)
	rep       *yamldiag.Reporter
	// brokenChannels are declared but did not load (their problem is
	// reported where they are declared).
	brokenChannels map[string]bool
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
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	return &loader{
		lookupEnv:      lookupEnv,
		rep:            &yamldiag.Reporter{},
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

func (l *loader) errAt(n *yaml.Node, format string, args ...any) { l.rep.Errorf(n, format, args...) }

// fileSpec is a rule file's top level.
type fileSpec struct {
	Channels *yaml.Node `yaml:"channels"`
	Defaults *yaml.Node `yaml:"defaults"`
	Silences *yaml.Node `yaml:"silences"`
	Rules    *yaml.Node `yaml:"rules"`
}

var fileFields = yamldiag.FieldNames(fileSpec{})

func (l *loader) loadFile(name string, data []byte) {
	l.rep.File = name
	l.set.Files = append(l.set.Files, name)
	defer func() {
		// Nothing in a file may take a run down.
		if r := recover(); r != nil {
			l.rep.Add(Diagnostic{File: name, Line: 1, Col: 1, Msg: "cannot parse YAML"})
		}
	}()
	root, ds := yamldiag.Parse(name, data, limits)
	l.rep.Add(ds...)
	if root == nil || yamldiag.IsNull(root) {
		return
	}
	root = yamldiag.Resolve(root)
	if root.Kind != yaml.MappingNode {
		l.errAt(root, "top level: want a mapping with channels, defaults, silences and rules, got %s", yamldiag.KindOf(root))
		return
	}
	var f fileSpec
	l.rep.Decode(l.rep.Fields(root, "at top level", fileFields), "", &f)
	if f.Channels != nil {
		l.channels(f.Channels)
	}
	if f.Defaults != nil {
		l.defaults(f.Defaults)
	}
	if f.Silences != nil {
		l.silences(f.Silences)
	}
	if f.Rules != nil {
		l.rulesList(f.Rules)
	}
}

// wantDuration accepts a Go duration ("24h", "90m") or whole days ("7d").
func (l *loader) wantDuration(n *yaml.Node, what string) (time.Duration, bool) {
	if v, ok := yamldiag.ScalarInt(n); ok && v == 0 {
		return 0, true
	}
	s, ok := yamldiag.ScalarString(n)
	if !ok {
		l.errAt(n, "%s: want a duration like 24h or 7d, got %s", what, yamldiag.KindOf(n))
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

// ---- channels -----------------------------------------------------------

func (l *loader) channels(n *yaml.Node) {
	if yamldiag.IsNull(n) {
		return
	}
	m, ok := l.rep.Mapping(n, "channels")
	if !ok {
		return
	}
	seen := map[string]bool{}
	for _, p := range yamldiag.Pairs(m) {
		name, ok := l.channelName(p.K, seen)
		if !ok {
			continue
		}
		if c := receiver.Decode(l.rep, name, p.K, p.V, l.lookupEnv); c != nil {
			l.set.Channels[name] = c
			l.set.ChannelOrder = append(l.set.ChannelOrder, name)
		} else {
			// Declared, though broken (already reported): references to it
			// are not "unknown channel" too.
			l.brokenChannels[name] = true
		}
	}
}

func (l *loader) channelName(k *yaml.Node, seen map[string]bool) (string, bool) {
	name, ok := yamldiag.ScalarString(k)
	switch {
	case !ok:
		l.errAt(k, "channels: names must be strings, got %s", yamldiag.KindOf(k))
	case !receiver.NameRE.MatchString(name):
		l.errAt(k, "channel name %q: use letters, digits, '-', '_' and '.'", name)
	case seen[name]:
		l.errAt(k, "channel %q defined twice", name)
	case l.set.Channels[name] != nil:
		prev := l.set.Channels[name]
		l.errAt(k, "channel %q already defined at %s:%d", name, prev.File, prev.Line)
	default:
		seen[name] = true
		return name, true
	}
	return "", false
}

// ---- defaults -------------------------------------------------------------

// defaultsSpec is the defaults block as written.
type defaultsSpec struct {
	Notify       []string   `yaml:"notify"`
	Severity     string     `yaml:"severity"`
	RepeatEvery  *yaml.Node `yaml:"repeat_every"`
	SendResolved bool       `yaml:"send_resolved"`
}

var defaultsFields = yamldiag.FieldNames(defaultsSpec{})

func (l *loader) defaults(n *yaml.Node) {
	if yamldiag.IsNull(n) {
		return
	}
	m, ok := l.rep.Mapping(n, "defaults")
	if !ok {
		return
	}
	fs := l.rep.Fields(m, "in defaults", defaultsFields)
	var ds defaultsSpec
	bad := l.rep.Decode(fs, "defaults", &ds)
	d := &l.set.Defaults
	given := func(f string) bool { return fs.Has(f) && !bad[f] }
	// set records a default unless one was set elsewhere (an error when
	// the values differ).
	set := func(f string, same bool) bool {
		p, _ := fs.Get(f)
		if at, dup := l.defaultsAt[f]; dup {
			if !same {
				l.errAt(p.K, "defaults: %s already set to a different value at %s", f, at)
			}
			return false
		}
		l.defaultsAt[f] = fmt.Sprintf("%s:%d", l.rep.File, p.K.Line)
		return true
	}
	if given("notify") && set("notify", slices.Equal(d.Notify, ds.Notify)) {
		d.Notify, d.NotifySet = ds.Notify, true
		p, _ := fs.Get("notify")
		l.addRefs("defaults", p.V, ds.Notify)
	}
	if given("severity") && l.checkSeverity(fs, "defaults", ds.Severity) && set("severity", d.Severity == ds.Severity) {
		d.Severity = ds.Severity
	}
	if given("repeat_every") {
		if every, ok := l.wantDuration(ds.RepeatEvery, "defaults: repeat_every"); ok && set("repeat_every", d.RepeatEvery == every) {
			d.RepeatEvery = every
		}
	}
	if given("send_resolved") && set("send_resolved", d.SendResolved == ds.SendResolved) {
		d.SendResolved = ds.SendResolved
	}
}

func (l *loader) addRefs(label string, list *yaml.Node, names []string) {
	for i, name := range names {
		l.notifyRefs = append(l.notifyRefs, notifyRef{label: label, file: l.rep.File, node: yamldiag.Resolve(list).Content[i], name: name})
	}
}

// checkSeverity reports a severity that is not one of alert.Severities.
func (l *loader) checkSeverity(fs *yamldiag.Fields, label, s string) bool {
	if slices.Contains(severities, s) {
		return true
	}
	p, _ := fs.Get("severity")
	l.errAt(p.V, "%s: unknown severity %q (want %s)%s", label, s, strings.Join(severities, ", "), yamldiag.Suggest(s, severities))
	return false
}

// ---- finish -----------------------------------------------------------------

func (l *loader) finish() (*Set, error) {
	s := l.set
	for _, ref := range l.notifyRefs {
		if _, ok := s.Channels[ref.name]; ok || l.brokenChannels[ref.name] {
			continue
		}
		msg := fmt.Sprintf("%s: notify: unknown channel %q", ref.label, ref.name)
		if len(s.ChannelOrder) == 0 {
			msg += " (no channels are defined)"
		} else {
			msg += fmt.Sprintf(" (defined: %s)%s", strings.Join(s.ChannelOrder, ", "), yamldiag.Suggest(ref.name, s.ChannelOrder))
		}
		l.rep.Add(yamldiag.At(ref.file, ref.node, 0, msg))
	}
	for _, pr := range l.rules {
		s.Rules = append(s.Rules, pr.withDefaults(&s.Defaults))
	}
	if len(l.rep.Errs) > 0 {
		// every problem at once: what is ignored too
		ds := append(l.rep.Errs, l.rep.Warns...)
		ds.Sort()
		return nil, capped(ds)
	}
	l.rep.Warns.Sort()
	s.Warnings = l.rep.Warns
	return s, nil
}

// MaxDiagnostics is the most problems Load lists: a file of a hundred
// thousand broken items needs its first few fixed, not a hundred thousand
// lines.
const MaxDiagnostics = 100

func capped(ds Diagnostics) Diagnostics {
	if len(ds) <= MaxDiagnostics {
		return ds
	}
	last := ds[MaxDiagnostics-1]
	more := len(ds) - MaxDiagnostics + 1
	return append(ds[:MaxDiagnostics-1:MaxDiagnostics-1], Diagnostic{File: last.File, Line: last.Line, Col: last.Col,
		Msg: fmt.Sprintf("and %d more problems (only the first %d are listed)", more, MaxDiagnostics-1)})
}

// withDefaults fills what the rule left out. A rule that names no channel,
// in files whose defaults name none either, goes to the run's default
// channels (Rule.Channels).
func (pr *pendingRule) withDefaults(d *Defaults) *Rule {
	r := pr.r
	if !pr.notifySet && d.NotifySet {
		r.Notify, r.NotifySet = slices.Clone(d.Notify), true
	}
	if !pr.severitySet {
		r.Severity = d.Severity
	}
	if !pr.repeatSet {
		r.RepeatEvery = d.RepeatEvery
	}
	if !pr.sendSet {
		r.SendResolved = d.SendResolved
	}
	return r
}

// ---- silences -------------------------------------------------------------

// silenceSpec is one silence as written.
type silenceSpec struct {
	Match  *yaml.Node `yaml:"match"`
	Until  *yaml.Node `yaml:"until"`
	Reason string     `yaml:"reason"`
}

// silenceMatchSpec is a silence's match: globs.
type silenceMatchSpec struct {
	Rule     string `yaml:"rule"`
	Template string `yaml:"template"`
	Language string `yaml:"language"`
	Button   string `yaml:"button"`
}

var (
	silenceFields      = yamldiag.FieldNames(silenceSpec{})
	silenceMatchFields = yamldiag.FieldNames(silenceMatchSpec{})
)

func (l *loader) silences(n *yaml.Node) {
	if yamldiag.IsNull(n) {
		return
	}
	seq, ok := l.rep.Sequence(n, "silences")
	if !ok {
		return
	}
	for _, it := range seq.Content {
		if s, ok := l.silence(it); ok {
			l.set.Silences = append(l.set.Silences, s)
		}
	}
}

func (l *loader) silence(n *yaml.Node) (Silence, bool) {
	m, ok := l.rep.Mapping(n, "silence")
	if !ok {
		return Silence{}, false
	}
	fs := l.rep.Fields(m, "in silence", silenceFields)
	var sp silenceSpec
	good := len(l.rep.Decode(fs, "silence", &sp)) == 0
	s := Silence{File: l.rep.File, Line: m.Line, Reason: sp.Reason}
	if sp.Match == nil {
		l.errAt(m, "silence: missing match (rule, template, language or button globs)")
		good = false
	} else if !l.silenceMatch(sp.Match, &s) {
		good = false
	}
	if sp.Until == nil {
		l.errAt(m, "silence: missing until (an RFC 3339 time: silences must expire)")
		return s, false
	}
	str, ok := yamldiag.ScalarString(sp.Until)
	t, err := time.Parse(time.RFC3339, str)
	if !ok || err != nil {
		l.errAt(sp.Until, "silence: until: want an RFC 3339 time like 2026-12-01T00:00:00+08:00")
		return s, false
	}
	s.Until = t
	return s, good
}

func (l *loader) silenceMatch(n *yaml.Node, s *Silence) bool {
	mm, ok := l.rep.Mapping(n, "silence: match")
	if !ok {
		return false
	}
	mf := l.rep.Fields(mm, "in silence match", silenceMatchFields)
	var sm silenceMatchSpec
	bad := l.rep.Decode(mf, "silence: match", &sm)
	good := len(bad) == 0
	for _, g := range []struct {
		field string
		glob  string
	}{{"rule", sm.Rule}, {"template", sm.Template}, {"language", sm.Language}, {"button", sm.Button}} {
		if p, ok := mf.Get(g.field); ok && !bad[g.field] && !l.checkGlob(p.V, "silence: match: "+g.field, g.glob) {
			good = false
		}
	}
	if len(mf.Order) == 0 {
		l.errAt(n, "silence: match is empty (it would silence everything)")
		good = false
	}
	s.Rule, s.Template, s.Language, s.Button = sm.Rule, sm.Template, sm.Language, sm.Button
	return good
}

func (l *loader) checkGlob(n *yaml.Node, what, g string) bool {
	if _, err := path.Match(g, ""); err != nil {
		l.errAt(n, "%s: bad glob %q", what, g)
		return false
	}
	return true
}
