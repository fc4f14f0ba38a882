package monitor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cams-alert/cams-alert/function/alert"
	"github.com/cams-alert/cams-alert/function/ledger"
	"github.com/cams-alert/cams-alert/function/monitor"
	"github.com/cams-alert/cams-alert/function/rules"
)

// pendingKeys lists the pending notifications as "alert channel transition day".
func pendingKeys(led monitor.Ledger) []string {
	var out []string
	for _, e := range led.Pending() {
		out = append(out, fmt.Sprintf("%s %s %s %s", e.Alert, e.Channel, e.Transition, e.Period.Format("01-02")))
	}
	return out
}

// deliverAll marks every pending notification sent at at, as the send
// stage does after a post.
func deliverAll(led monitor.Ledger, at time.Time) {
	for _, e := range led.Pending() {
		led.MarkSent(e.Alert, e.Channel, e.Period, e.Transition, at)
	}
}

// The decide stage alone, against an in-memory ledger: what is due per
// alert, channel, period and transition across a firing run's life.
func TestDecideStage(t *testing.T) {
	r := newRig(t)
	led := ledger.NewMemory(runAt(1))
	stage := &monitor.DecideStage{Channels: r.dl.Channels, Default: r.dl.Default}
	steps := []struct {
		name   string
		day    int
		alerts []alertSpec
		want   []string
	}{
		{"fires: one firing per default channel", 1, []alertSpec{fire("read-drop", "T1", 1)},
			[]string{"read-drop|T1|en ops-ding firing 11-02", "read-drop|T1|en ops-slack firing 11-02"}},
		{"still firing a day later: a reminder", 2, []alertSpec{fire("read-drop", "T1", 1)},
			[]string{"read-drop|T1|en ops-ding repeat 11-03", "read-drop|T1|en ops-slack repeat 11-03"}},
		{"rerun of the same day: nothing", 2, []alertSpec{fire("read-drop", "T1", 1)}, nil},
		{"resolved: a resolution", 3, []alertSpec{resolve("read-drop", "T1", 1)},
			[]string{"read-drop|T1|en ops-ding resolved 11-04", "read-drop|T1|en ops-slack resolved 11-04"}},
		{"resolved, never announced: nothing", 3, []alertSpec{resolve("read-drop", "T2", 2)}, nil},
		{"no-resolve rule: nothing", 3, []alertSpec{resolve("no-resolve", "T1", 1)}, nil},
		{"rule's channels, quiet never hears resolutions", 4, []alertSpec{fire("to-quiet", "T3", 4)},
			[]string{"to-quiet|T3|en ops-slack firing 11-05", "to-quiet|T3|en quiet firing 11-05"}},
		{"silenced: nothing", 5, []alertSpec{{rule: "read-drop", template: "T5", state: alert.Firing, since: 5, silenced: true}}, nil},
	}
	for _, s := range steps {
		at := runAt(s.day)
		dec := stage.Run(r.eval(s.day, at, s.alerts, nil), led, nil, at, at)
		if got := pendingKeys(led); strings.Join(got, "\n") != strings.Join(s.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", s.name, got, s.want)
		}
		if len(dec.Problems) != 0 {
			t.Errorf("%s: problems %+v", s.name, dec.Problems)
		}
		deliverAll(led, at)
	}
}

// Silences given to the run (the rules' own and those set from the chat)
// mute what they match until they expire; the summary keeps the reason.
func TestSilenceInput(t *testing.T) {
	r := newRig(t)
	at := runAt(1)
	silences := []rules.Silence{
		{Template: "T1", Until: at.Add(time.Hour), Reason: "campaign paused"},
		{Rule: "read-*", Template: "T2", Until: at.Add(-time.Hour), Reason: "expired"},
	}
	ev := r.eval(1, at, []alertSpec{fire("read-drop", "T1", 1), fire("read-drop", "T2", 1)}, nil)
	stage := &monitor.DecideStage{Channels: r.dl.Channels, Default: r.dl.Default, Silences: silences}
	led := ledger.NewMemory(at)
	stage.Run(ev, led, nil, at, at)
	if got := ev.Results[0].Silenced; !strings.Contains(got, "campaign paused") {
		t.Errorf("T1 silenced %q, want the reason", got)
	}
	if got := ev.Results[1].Silenced; got != "" {
		t.Errorf("T2 silenced %q by an expired silence", got)
	}
	for _, k := range pendingKeys(led) {
		if strings.Contains(k, "T1") {
			t.Errorf("silenced alert due: %s", k)
		}
	}
}

// Health problems are told once per kind, channel and period: a retry
// that meets the same problems stays quiet, one that meets a new kind
// says it; a thousand templates denied are one kind.
func TestHealthBook(t *testing.T) {
	led := ledger.NewMemory(runAt(1))
	h := monitor.HealthBook{Period: period(1).Start}
	denied := []alert.Problem{{Template: "T1", Code: "Ram.PermissionDeny"}, {Template: "T2", Code: "Ram.PermissionDeny"}}
	if got := h.Entries("ops-slack", denied); len(got) != 1 {
		t.Errorf("%d entries for one kind of problem, want 1", len(got))
	}
	for _, e := range h.Entries("ops-slack", denied) {
		led.MarkSent(e.Alert, e.Channel, e.Period, e.Transition, runAt(1))
	}
	if got := h.Untold(led, "ops-slack", denied); len(got) != 0 {
		t.Errorf("told problems are news again: %+v", got)
	}
	if got := h.Untold(led, "ops-ding", denied); len(got) != 2 {
		t.Errorf("another channel: %d untold, want 2", len(got))
	}
	failed := append(denied, alert.Problem{Channel: "ops-ding", Code: "Delivery.Failed"})
	if got := h.Untold(led, "ops-slack", failed); len(got) != 1 || got[0].Code != "Delivery.Failed" {
		t.Errorf("a new kind: untold %+v", got)
	}
	if got := (monitor.HealthBook{Period: period(2).Start}).Untold(led, "ops-slack", denied); len(got) != 2 {
		t.Errorf("the next period: %d untold, want 2", len(got))
	}
}

// failingSave is an in-memory ledger whose Save fails from the n-th call
// on: a disk that breaks during the run.
type failingSave struct {
	*ledger.Ledger
	calls, n int
}

func (f *failingSave) Save() error {
	f.calls++
	if f.calls >= f.n {
		return errors.New("write ledger.json: input/output error")
	}
	return nil
}

// The send stage posts nothing it cannot record: with the write-ahead
// failing, alerts are held back (not pending: an FC retry could not record
// them either) and the default channels hear why.
func TestSendStageHoldsBackWhatItCannotRecord(t *testing.T) {
	r := newRig(t)
	at := runAt(1)
	led := &failingSave{Ledger: ledger.NewMemory(at), n: 1}
	ev := r.eval(1, at, []alertSpec{fire("read-drop", "T1", 1), fire("to-quiet", "T2", 1)}, nil)
	dec := (&monitor.DecideStage{Channels: r.dl.Channels, Default: r.dl.Default}).Run(ev, led, nil, at, at)
	sum := &monitor.Summary{}
	send := &monitor.SendStage{Channels: r.dl.Channels, Default: r.dl.Default, Location: loc, Sleep: r.dl.Sleep}
	send.Run(context.Background(), ev, led, dec, at, sum)
	if sum.Notifications.Sent != 0 || sum.Notifications.HeldBack != 4 || sum.Notifications.Undelivered() {
		t.Errorf("notifications %+v: want 4 held back, none sent or pending", sum.Notifications)
	}
	if len(sum.Errors) != 1 || sum.Errors[0].Code != monitor.CodeLedgerUnwritable {
		t.Errorf("errors %+v, want %s", sum.Errors, monitor.CodeLedgerUnwritable)
	}
	text := r.texts(counts{})
	if len(r.quiet.Messages()) != 0 || strings.Contains(text["slack"], "T1") || !strings.Contains(text["slack"], "Ledger.Unwritable") ||
		!strings.Contains(text["ding"], "Ledger.Unwritable") {
		t.Errorf("want only the health messages, naming the ledger:\n%v", text)
	}
}

// An alert held back by a silence makes no message and no ledger entry of
// its own; a digest sent anyway to a channel it would have reached lists it
// (who, until when), and a channel it would not have reached does not.
func TestSilencedRidesAlong(t *testing.T) {
	r := newRig(t)
	r.dl.Silences = []rules.Silence{{Template: "T9", Until: runAt(1).AddDate(0, 0, 30), Reason: "list cleanup by Slack @mei"}}
	r.run(step{day: 1, alerts: []alertSpec{fire("to-quiet", "T9", 1)}})
	r.run(step{day: 2, alerts: []alertSpec{fire("to-quiet", "T9", 1), fire("read-drop", "T1", 2)}, sent: 2, slack: 1, ding: 1,
		has: map[string][]string{
			"slack": {"Silenced", "T9", "to-quiet", "list cleanup by Slack @mei", "until Thu 3 Dec 09:00"},
		},
		// to-quiet never goes to ops-ding
		hasNot: map[string][]string{"ding": {"T9"}}})
	// read-drop goes to the default channels only: quiet hears nothing
	r.run(step{day: 3, alerts: []alertSpec{fire("to-quiet", "T9", 1), fire("read-drop", "T1", 2)}, sent: 2, slack: 1, ding: 1,
		hasNot: map[string][]string{"quiet": {"T9"}}})
	led, err := ledger.Open(r.dir, runAt(3))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range led.Entries() {
		if strings.Contains(e.Alert, "T9") {
			t.Errorf("a silenced alert is in the ledger: %+v", e)
		}
	}
}
