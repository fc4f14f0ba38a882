package cams

import (
	"context"
	"sort"

	"github.com/cams-alert/cams-alert/function/metrics"
)

// Names maps a template and language to the template's name, its
// TemplateName in ListChatappTemplate, so that messages can say which
// campaign an alert is about, not only its code.
type Names map[metrics.Key]string

// NamesOf returns the names of listed templates. A name that is empty or only
// repeats the code (a replay without templates.json) is left out.
func NamesOf(ts []Template) Names {
	sorted := append([]Template(nil), ts...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Language < sorted[j].Language })
	n := Names{}
	for _, t := range sorted {
		if t.Name == "" || t.Name == t.Code {
			continue
		}
		n[metrics.Key{Template: t.Code, Language: t.Language}] = t.Name
		if _, ok := n[metrics.Key{Template: t.Code}]; !ok {
			n[metrics.Key{Template: t.Code}] = t.Name // the code's name in its first language
		}
	}
	return n
}

// Name returns the name of k's template in k's language, else in another of
// its languages (WhatsApp keeps a template's name across its languages),
// else "": show the code alone.
func (n Names) Name(k metrics.Key) string {
	if name, ok := n[k]; ok {
		return name
	}
	return n[metrics.Key{Template: k.Template}]
}

// LookupNames lists the templates with ListChatappTemplate for their names:
// discovery has them already (NamesOf its list), but a run given its
// templates (CAMS_TEMPLATES) still shows names. It lists the monitored
// templates (approved WhatsApp MARKETING ones): others keep their codes. A
// failed lookup is not the run's failure: it returns no names and a *Warning
// (CodeNamesUnavailable) wrapping the *APIError, and the run goes on with
// codes.
func LookupNames(ctx context.Context, src Source) (Names, error) {
	list, err := src.ListTemplates(ctx)
	if err != nil {
		return Names{}, &Warning{API: APITemplates, Code: CodeNamesUnavailable,
			Message: "template names could not be looked up, messages show codes only: " + err.Error(), err: err}
	}
	return NamesOf(list), nil
}
