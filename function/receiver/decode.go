package receiver

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cams-alert/cams-alert/function/yamldiag"
)

// spec is a channel as written in a rule file.
type spec struct {
	Type         string     `yaml:"type"`
	WebhookURL   string     `yaml:"webhook_url"`
	BotToken     string     `yaml:"bot_token"`
	Channel      string     `yaml:"channel"`
	Secret       string     `yaml:"secret"`
	AtMobiles    *yaml.Node `yaml:"at_mobiles"`
	AtUserIDs    *yaml.Node `yaml:"at_user_ids"`
	SendResolved bool       `yaml:"send_resolved"`
	Locale       string     `yaml:"locale"`
}

var specFields = yamldiag.FieldNames(spec{})

// typeFields are the fields each type uses.
var typeFields = map[Type][]string{
	Slack:    {"type", "webhook_url", "bot_token", "channel", "send_resolved", "locale"},
	DingTalk: {"type", "webhook_url", "secret", "at_mobiles", "at_user_ids", "send_resolved", "locale"},
}

// secretFields are the fields that hold secrets: only they may take a
// secret-looking variable, since their values never appear anywhere.
var secretFields = map[string]bool{"webhook_url": true, "bot_token": true, "secret": true}

// NameRE is what a channel name may be.
var NameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// Decode reads the channel declared as name (key is its key node, n its
// value) from a rule file, expanding ${VAR} with lookup, and reports every
// problem at its position. It returns nil when the channel is unusable.
func Decode(rep *yamldiag.Reporter, name string, key, n *yaml.Node, lookup func(string) (string, bool)) *Channel {
	label := "channel " + name
	m, ok := rep.Mapping(n, label)
	if !ok {
		return nil
	}
	fs := rep.Fields(m, "in channel "+name, specFields)
	typ, ok := decodeType(rep, fs, m, label)
	if !ok {
		return nil
	}
	good := true
	for _, f := range slices.Clone(fs.Order) {
		if !slices.Contains(typeFields[typ], f) {
			p, _ := fs.Get(f)
			rep.Errorf(p.K, "%s: field %s is not used by %s channels", label, f, typ)
			fs.Drop(f)
			good = false
		}
	}
	var s spec
	bad := rep.Decode(fs, label, &s)
	good = good && len(bad) == 0
	x := expander{rep: rep, fs: fs, label: label, lookup: lookup, ok: true, bad: bad}
	c := &Channel{Name: name, Type: typ, File: rep.File, Line: key.Line, Locale: s.Locale,
		WebhookURL: x.str("webhook_url", s.WebhookURL), BotToken: x.str("bot_token", s.BotToken),
		SlackChannel: x.str("channel", s.Channel), Secret: x.str("secret", s.Secret),
		AtMobiles: x.list("at_mobiles", s.AtMobiles), AtUserIDs: x.list("at_user_ids", s.AtUserIDs)}
	if fs.Has("send_resolved") && !bad["send_resolved"] {
		c.SendResolved = &s.SendResolved
	}
	given := map[string]bool{}
	for _, f := range fs.Order {
		given[f] = true
	}
	ps := c.problems(given, x.bad)
	for _, p := range ps {
		rep.Errorf(x.node(m, p), "%s: %s", label, p.text())
	}
	if !good || !x.ok || len(ps) > 0 {
		return nil
	}
	return c
}

func decodeType(rep *yamldiag.Reporter, fs *yamldiag.Fields, m *yaml.Node, label string) (Type, bool) {
	tp, ok := fs.Get("type")
	if !ok {
		rep.Errorf(m, "%s: missing type (slack or dingtalk)", label)
		return "", false
	}
	s, ok := rep.String(tp.V, label+": type")
	if !ok {
		return "", false
	}
	typ := Type(s)
	if !slices.Contains(Types, typ) {
		rep.Errorf(tp.V, "%s: unknown type %q (want slack or dingtalk)%s", label, s, yamldiag.Suggest(s, []string{string(Slack), string(DingTalk)}))
		return "", false
	}
	fs.Drop("type")
	return typ, true
}

// node is where a problem is shown: the list item, the field's value, or
// the channel's mapping.
func (x *expander) node(m *yaml.Node, p problem) *yaml.Node {
	kv, ok := x.fs.Get(p.field)
	if !ok {
		return m
	}
	if idx := x.items[p.field]; p.item > 0 && p.item <= len(idx) {
		return yamldiag.Resolve(kv.V).Content[idx[p.item-1]]
	}
	return kv.V
}

// expander replaces ${VAR} in a channel's fields.
type expander struct {
	rep    *yamldiag.Reporter
	fs     *yamldiag.Fields
	label  string
	lookup func(string) (string, bool)
	ok     bool
	// bad marks the fields that did not decode or expand: checks of their
	// values are skipped (the problem is already reported).
	bad map[string]bool
	// items maps a list field's kept items to their index in the file.
	items map[string][]int
}

func (x *expander) str(field, s string) string {
	p, given := x.fs.Get(field)
	if !given || x.bad[field] {
		return ""
	}
	v, ok := x.expand(p.V, field, s, secretFields[field])
	x.fail(field, ok)
	return v
}

// list expands each item; items that expand to nothing are left out.
func (x *expander) list(field string, n *yaml.Node) []string {
	p, given := x.fs.Get(field)
	if !given || yamldiag.IsNull(p.V) {
		return nil
	}
	items, ok := x.rep.Strings(p.V, x.label+": "+field)
	if !ok {
		x.fail(field, false)
		return nil
	}
	var out []string
	for i, s := range items {
		v, ok := x.expand(yamldiag.Resolve(p.V).Content[i], field, s, false)
		x.fail(field, ok)
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
			if x.items == nil {
				x.items = map[string][]int{}
			}
			x.items[field] = append(x.items[field], i)
		}
	}
	return out
}

func (x *expander) fail(field string, ok bool) {
	if ok {
		return
	}
	x.ok = false
	if x.bad == nil {
		x.bad = map[string]bool{}
	}
	x.bad[field] = true
}

var envRefRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

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
func (x *expander) expand(n *yaml.Node, field, s string, secretField bool) (string, bool) {
	if !strings.Contains(s, "${") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), ok
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			x.rep.Errorf(n, "%s: %s has an unterminated ${", x.label, field)
			return "", false
		}
		name := s[i+2 : i+j]
		if msg := x.refProblem(name, field, secretField); msg != "" {
			x.rep.Errorf(n, "%s: %s: %s", x.label, field, msg)
			return "", false
		}
		v, found := x.lookup(name)
		if !found {
			x.rep.Errorf(n, "%s: %s: environment variable %s is not set", x.label, field, name)
			ok = false
		}
		b.WriteString(v)
		s = s[i+j+1:]
	}
}

func (x *expander) refProblem(name, field string, secretField bool) string {
	if !envRefRE.MatchString(name) {
		return "invalid variable reference (want ${NAME} with letters, digits and _)"
	}
	if ok, why := readable(name, secretField); !ok {
		return fmt.Sprintf("${%s} %s", name, why)
	}
	return ""
}
