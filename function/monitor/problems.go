package monitor

import (
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/metrics"
)

// CodeNoData is the problem (and summary error) of a run in which every
// template answered with no metrics at all: nothing was really checked.
const CodeNoData = "NoData"

// noData is the error of a run whose every template returned no metrics:
// the usual cause is that the space's WhatsApp ROI metric is not enabled,
// and a run that evaluated nothing must not look like an all clear.
func noData(ev *Evaluation) (Error, bool) {
	if ev.Templates == 0 || ev.Empty != ev.Templates {
		return Error{}, false
	}
	return Error{Code: CodeNoData, Message: fmt.Sprintf(
		"all %d templates returned no metrics: is the WhatsApp ROI metric enabled for this space "+
			"(EnableWhatsappROIMetric)? Metrics appear a day after it is enabled, and only for sends after that", ev.Templates)}, true
}

// abandoned turns pending notifications given up on by Prune into health
// problems, one per channel.
func abandoned(es []ledger.Entry, maxAge time.Duration, log *slog.Logger) []alert.Problem {
	if maxAge <= 0 {
		maxAge = ledger.DefaultPendingMaxAge
	}
	byChan := map[string][]ledger.Entry{}
	var chans []string
	for _, e := range es {
		if e.Transition == ledger.Health {
			continue
		}
		if _, ok := byChan[e.Channel]; !ok {
			chans = append(chans, e.Channel)
		}
		byChan[e.Channel] = append(byChan[e.Channel], e)
	}
	sort.Strings(chans)
	var out []alert.Problem
	for _, ch := range chans {
		list := byChan[ch]
		last := list[len(list)-1]
		log.Error("gave up on undelivered notifications", "channel", ch, "count", len(list), "last_error", last.LastError)
		msg := fmt.Sprintf("%d notification(s) could not be delivered for %d days and were dropped", len(list), int(maxAge/(24*time.Hour)))
		if last.LastError != "" {
			msg += "; last error: " + last.LastError
		}
		out = append(out, alert.Problem{Channel: ch, Code: "Delivery.Abandoned", Message: msg})
	}
	return out
}

// maxListed bounds how many templates of one error code the health message
// names one by one; an ISV account can have thousands cut off by the budget.
const maxListed = 10

// templateProblems turns fetch errors into health lines, each naming its
// template when the name is known, folding the tail of any one code into a
// count so the message stays readable.
func templateProblems(errs []Error, names cams.Names) []alert.Problem {
	var out []alert.Problem
	byCode := map[string][]string{}
	warning := map[string]bool{}
	var order []string
	for _, e := range errs {
		if e.Code == cams.CodeNamesUnavailable {
			// The messages show codes: that is the news, every period.
			continue
		}
		warning[e.Code] = e.Warning
		n := len(byCode[e.Code])
		if n < maxListed {
			out = append(out, alert.Problem{Template: e.Template, Code: e.Code, Message: e.Message,
				TemplateName: names.Name(metrics.Key{Template: e.Template}), Warning: e.Warning})
		}
		if n == 0 {
			order = append(order, e.Code)
		}
		byCode[e.Code] = append(byCode[e.Code], e.Template)
	}
	for _, code := range order {
		if rest := len(byCode[code]) - maxListed; rest > 0 {
			// The words are the messages' own: each locale renders the count.
			out = append(out, alert.Problem{Code: code, Warning: warning[code], More: rest})
		}
	}
	return out
}
