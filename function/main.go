// Command main is cams-alert: the FC handler when FC_RUNTIME_API is set, a
// CLI otherwise (run, validate, test, backtest). It only wires packages.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aliyun/fc-runtime-go-sdk/events"
	"github.com/aliyun/fc-runtime-go-sdk/fc"
	"github.com/aliyun/fc-runtime-go-sdk/fccontext"

	"github.com/cams-alert/cams-alert/function/monitor"
)

func main() {
	if sdkDebug(os.Getenv("DEBUG")) {
		// The SDK reads DEBUG when it loads and then prints every signed
		// request (key id, STS token, signature) to stdout: no run with it.
		fmt.Fprintln(os.Stderr, "DEBUG=sdk makes the Alibaba Cloud SDK print signed requests, with credentials, on stdout: unset it (cams-alert logs what it does on stderr)")
		os.Exit(exitConfig)
	}
	a := &app{} // the process's environment
	if os.Getenv("FC_RUNTIME_API") != "" {
		fc.Start(a.dispatch)
		return
	}
	os.Exit(a.cli(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// handle is the timer trigger's handler. It evaluates at the event's
// triggerTime, so an FC retry hours later judges the same period, and it reads
// the role's STS credentials from this invocation's context (FC rotates them).
// It fails only while a notification is still pending, so that FC's retry
// delivers it; the ledger keeps the retry from repeating what was sent.
func (a *app) handle(ctx context.Context, ev events.TimerEvent) (*monitor.Summary, error) {
	at := time.Now()
	if ev.TriggerTime != nil && *ev.TriggerTime != "" {
		t, err := time.Parse(time.RFC3339, *ev.TriggerTime)
		if err != nil {
			return nil, fmt.Errorf("timer event: triggerTime %q is not RFC 3339", *ev.TriggerTime)
		}
		at = t
	}
	env := environ{}
	if fctx, ok := fccontext.FromContext(ctx); ok && fctx.Credentials.AccessKeyId != "" {
		env.creds = &fctx.Credentials
	}
	sum, code, err := a.runOnce(ctx, env, runFlags{at: at}, os.Stderr, os.Stderr)
	if err != nil {
		return sum, err
	}
	if code != 0 && sum != nil && sum.Notifications.Undelivered() {
		b, _ := json.Marshal(sum.Notifications)
		return sum, fmt.Errorf("notifications still pending %s: failing so that FC retries", b)
	}
	return sum, nil
}

// sdkDebug reports whether DEBUG turns on the SDK's request dump (the SDK
// splits it on commas and looks for "sdk").
func sdkDebug(v string) bool {
	return slices.Contains(strings.Split(v, ","), "sdk")
}
