package rules

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// SummaryData is what a rule's summary template sees.
type SummaryData struct {
	Rule      string // rule name
	Condition string
	Severity  string
	State     string // firing or resolved
	Template  string
	// TemplateName is the template's name ("" when unknown at evaluation).
	TemplateName string
	Language     string
	Button       string // the rule's button selector
	// ButtonText is the button's text as the API reports it, also when the
	// rule selects the button by type.
	ButtonText string
	Metric     string // the metric's id (read_rate), for format
	// MetricName is the metric's English name for people (read rate).
	MetricName string
	IsRate     bool
	Value      float64
	Baseline   float64
	// HasBaseline is false when the rule has no baseline or it was not
	// available; Baseline is then 0.
	HasBaseline bool
	Threshold   float64
	Volume      int64
	VolumeOf    string // "delivered" or "sent": what Volume counts
	Trend       string // sparkline, oldest first
	Detail      string
	Expr        string // an expr rule's expression
}

// summaryFuncs are the only functions templates get: nothing reads the
// environment, files or the network. They replace text/template's builtins
// that build strings (print, printf, println, html, js, urlquery) with
// bounded ones: the 2000-byte cap on the output alone let nested printf
// build gigabytes in between.
var summaryFuncs = template.FuncMap{
	"percent": fmtPercent,
	"change":  fmtChange,
	"num":     fmtNum,
	"trend":   fmtTrend,
	"format":  fmtValue,
	"print":   func(a ...any) (string, error) { return bounded("print", a, func() string { return fmt.Sprint(a...) }) },
	"println": func(a ...any) (string, error) {
		return bounded("println", a, func() string { return fmt.Sprintln(a...) })
	},
	"printf": boundedPrintf,
	"html": func(a ...any) (string, error) {
		return bounded("html", a, func() string { return template.HTMLEscaper(a...) })
	},
	"js": func(a ...any) (string, error) {
		return bounded("js", a, func() string { return template.JSEscaper(a...) })
	},
	"urlquery": func(a ...any) (string, error) {
		return bounded("urlquery", a, func() string { return template.URLQueryEscaper(a...) })
	},
}

const (
	maxSummaryBytes = 2000
	// maxSummarySource bounds the template's text, and with it how many
	// calls one execution makes.
	maxSummarySource = 4000
)

// bounded runs build unless the arguments are already longer than a summary
// may be, and refuses a result that is.
func bounded(name string, args []any, build func() string) (string, error) {
	if argBytes(args) > maxSummaryBytes {
		return "", fmt.Errorf("%s: arguments longer than %d bytes", name, maxSummaryBytes)
	}
	out := build()
	if len(out) > maxSummaryBytes {
		return "", fmt.Errorf("%s: result longer than %d bytes", name, maxSummaryBytes)
	}
	return out, nil
}

// argBytes estimates how long the arguments print: strings by their length,
// anything else (a number, a boolean) as a short value.
func argBytes(args []any) int {
	n := 0
	for _, a := range args {
		if s, ok := a.(string); ok {
			n += len(s)
		} else {
			n += 32
		}
	}
	return n
}

// boundedPrintf is printf that refuses a width or precision past the cap
// ("%0999999999d" allocates it before any check could run) and '*', which
// takes one from the arguments.
func boundedPrintf(format string, args ...any) (string, error) {
	if len(format) > maxSummaryBytes {
		return "", fmt.Errorf("printf: format longer than %d bytes", maxSummaryBytes)
	}
	for _, m := range fmtNumberRE.FindAllString(format, -1) {
		if strings.Contains(m, "*") {
			return "", errors.New("printf: '*' widths are not allowed")
		}
		for _, d := range digitsRE.FindAllString(m, -1) {
			if v, err := strconv.Atoi(d); err != nil || v > maxSummaryBytes {
				return "", fmt.Errorf("printf: width or precision %s is more than %d", d, maxSummaryBytes)
			}
		}
	}
	return bounded("printf", append([]any{format}, args...), func() string { return fmt.Sprintf(format, args...) })
}

var (
	// fmtNumberRE finds a verb's flags, argument index, width and precision.
	fmtNumberRE = regexp.MustCompile(`%[-+# 0]*(\[\d+\])?[\d*]*(\.[\d*]*)?`)
	digitsRE    = regexp.MustCompile(`\d+`)
)

var errTooLong = errors.New("summary longer than 2000 bytes")

type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxSummaryBytes {
		return 0, errTooLong
	}
	return b.Buffer.Write(p)
}

var sampleData = SummaryData{
	Rule: "sample", Condition: Drop, Severity: "warning", State: "firing", Template: "T1",
	TemplateName: "Summer sale", Language: "en", Button: "Shop now", ButtonText: "Shop now", Metric: metrics.ReadRate, MetricName: metrics.Label(metrics.ReadRate), IsRate: true,
	Value: 0.21, Baseline: 0.603, HasBaseline: true, Threshold: 0.2, Volume: 950,
	VolumeOf: "delivered", Trend: "▇▇▆▁", Detail: "detail", Expr: "clicks == 0",
}

// parseSummary parses a summary template and runs it once on sample data so
// that a misspelt field is a load error, not a broken alert.
func parseSummary(name, text string) (*template.Template, error) {
	if len(text) > maxSummarySource {
		return nil, fmt.Errorf("summary is %d bytes, more than the %d allowed", len(text), maxSummarySource)
	}
	t, err := template.New(name).Funcs(summaryFuncs).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, errors.New(cleanTemplateErr(err, name))
	}
	// A summary is one line. range over an integer could loop for ever, and
	// templates that call each other can take exponential time.
	if len(t.Templates()) > 1 {
		return nil, errors.New("define and block are not allowed in a summary")
	}
	if t.Tree != nil {
		if what := disallowed(t.Tree.Root); what != "" {
			return nil, fmt.Errorf("%s is not allowed in a summary", what)
		}
	}
	var b limitedBuffer
	if err := t.Execute(&b, &sampleData); err != nil && !errors.Is(err, errTooLong) {
		return nil, errors.New(cleanTemplateErr(err, name))
	}
	return t, nil
}

var execAtRE = regexp.MustCompile(`executing "[^"]*" at (<[^>]*>): `)

// disallowed names the first action of n a summary may not use, or "".
func disallowed(n parse.Node) string {
	switch x := n.(type) {
	case *parse.RangeNode:
		return "range"
	case *parse.TemplateNode:
		return "template"
	case *parse.ListNode:
		if x == nil {
			return ""
		}
		for _, c := range x.Nodes {
			if what := disallowed(c); what != "" {
				return what
			}
		}
	case *parse.IfNode:
		return cmp.Or(disallowed(x.List), disallowed(x.ElseList))
	case *parse.WithNode:
		return cmp.Or(disallowed(x.List), disallowed(x.ElseList))
	}
	return ""
}

func cleanTemplateErr(err error, name string) string {
	s := firstLine(err.Error())
	s = strings.TrimPrefix(s, "template: ")
	s = strings.TrimPrefix(s, name+":")
	s = execAtRE.ReplaceAllString(s, "$1: ")
	s = strings.TrimSuffix(s, " in type *rules.SummaryData")
	return s
}

var defaultSummaries = map[string]string{
	Above:  `{{.MetricName}} {{format .Metric .Value}} is above {{format .Metric .Threshold}} on {{num .Volume}} {{.VolumeOf}}`,
	Below:  `{{.MetricName}} {{format .Metric .Value}} is below {{format .Metric .Threshold}} on {{num .Volume}} {{.VolumeOf}}`,
	Zero:   `{{.MetricName}} is 0 on {{num .Volume}} {{.VolumeOf}}{{if .HasBaseline}} (baseline {{format .Metric .Baseline}}){{end}}{{if .Detail}}; {{.Detail}}{{end}}`,
	Drop:   `{{.MetricName}} {{format .Metric .Value}} vs {{format .Metric .Baseline}} baseline ({{change .Value .Baseline}}) on {{num .Volume}} {{.VolumeOf}}`,
	Rise:   `{{.MetricName}} {{format .Metric .Value}} vs {{format .Metric .Baseline}} baseline ({{change .Value .Baseline}}) on {{num .Volume}} {{.VolumeOf}}`,
	Absent: `no sends{{if .Detail}}: {{.Detail}}{{end}}`,
	Expr:   `{{.Expr}} ({{.MetricName}} {{format .Metric .Value}} on {{num .Volume}} {{.VolumeOf}})`,
}

var defaultTemplates = func() map[string]*template.Template {
	m := map[string]*template.Template{}
	for c, text := range defaultSummaries {
		m[c] = template.Must(template.New(c).Funcs(summaryFuncs).Parse(text))
	}
	return m
}()

func defaultSummary(cond string) *template.Template { return defaultTemplates[cond] }

// render executes the rule's summary; a failing template falls back to the
// condition's default, and that to a fixed line. It never panics.
func render(r *Rule, d *SummaryData) (out string) {
	defer func() {
		if recover() != nil {
			out = fallbackSummary(d)
		}
	}()
	if r.Summary != nil {
		var b limitedBuffer
		if err := r.Summary.Execute(&b, d); err == nil {
			return b.String()
		}
	}
	if t := defaultTemplates[r.Condition]; t != nil && t != r.Summary {
		var b limitedBuffer
		if err := t.Execute(&b, d); err == nil {
			return b.String()
		}
	}
	return fallbackSummary(d)
}

func fallbackSummary(d *SummaryData) string {
	return fmt.Sprintf("%s: %s %s", d.Rule, metrics.Label(d.Metric), fmtValue(d.Metric, d.Value))
}

// ---- formatting funcs -----------------------------------------------------------

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case uint:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	}
	return 0, fmt.Errorf("want a number, got %T", v)
}

// fmtPercent renders a fraction: 0.123 → "12.3%".
func fmtPercent(v any) (string, error) {
	f, err := toFloat(v)
	if err != nil {
		return "", err
	}
	return percent(f), nil
}

func percent(f float64) string { return metrics.Percent(f) }

// fmtChange renders the relative change of value against baseline:
// (0.21, 0.603) → "-65.2%"; "n/a" when the baseline is 0.
func fmtChange(value, baseline any) (string, error) {
	v, err := toFloat(value)
	if err != nil {
		return "", err
	}
	b, err := toFloat(baseline)
	if err != nil {
		return "", err
	}
	return change(v, b), nil
}

func change(v, b float64) string {
	if s, ok := metrics.Change(v, b); ok {
		return s
	}
	return "n/a"
}

// fmtNum renders a number with thousands separators: 1234567 → "1,234,567"
// (the rounding rule of counts everywhere: metrics.Count).
func fmtNum(v any) (string, error) {
	f, err := toFloat(v)
	if err != nil {
		return "", err
	}
	return num(f), nil
}

func num(f float64) string { return metrics.Count(f) }

// fmtValue renders v in the unit of metric: a percentage for rates.
func fmtValue(metric string, v any) string {
	f, err := toFloat(v)
	if err != nil {
		return "n/a"
	}
	if metrics.IsRate(metric) {
		return percent(f)
	}
	return num(f)
}

// fmtTrend returns a sparkline: a string is returned as is, numbers are drawn.
func fmtTrend(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []float64:
		return sparkline(x), nil
	}
	return "", fmt.Errorf("trend: want a string or []float64, got %T", v)
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws values (oldest first) scaled between their min and max.
func sparkline(vals []float64) string {
	if len(vals) == 0 {
		return ""
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	var b strings.Builder
	for _, v := range vals {
		i := 3
		if hi > lo {
			i = int(math.Round((v - lo) / (hi - lo) * 7))
		}
		b.WriteRune(sparks[i])
	}
	return b.String()
}
