package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/cams-alert/cams-alert/function/cams"
	"github.com/cams-alert/cams-alert/function/cams/camstest"
	"github.com/cams-alert/cams-alert/function/monitor"
)

// sampleCodes are the bundled sample's templates.
const sampleCodes = "1100SHOP0001,1100FLASH0002,1100WEEK0003,1100BURST0004,1100TINY0005,1100DLV0006,1100NEWS0007"

// TestTemplateNames: alerts carry the template's name (ListChatappTemplate's
// TemplateName) in the summary and on the console, whether the templates
// are discovered or configured; when the names cannot be looked up, codes
// alone are shown and the run goes on as it would have.
func TestTemplateNames(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		templates string // CAMS_TEMPLATES
		listFails bool
		wantNames bool
	}{
		{name: "discovered", wantNames: true},
		{name: "configured, names looked up", templates: sampleCodes, wantNames: true},
		{name: "configured, lookup denied", templates: sampleCodes, listFails: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRig(t)
			r.setenv("CAMS_TEMPLATES", tc.templates)
			if tc.listFails {
				r.cams.Fail(camstest.ListKey, 403, cams.CodePermissionDenied, "You are not authorized to perform the operation.")
			}
			code, sum, stderr := r.run(t, "--at", sampleAt)
			if code != exitOK {
				t.Errorf("exit %d, want %d: names are not worth failing a run\n%s", code, exitOK, stderr)
			}
			want := slices.Clone(wantFiring)
			slices.Sort(want)
			if got := firing(sum); !slices.Equal(got, want) || sum.Templates != 7 {
				t.Errorf("firing %q over %d templates, want %q over 7", got, sum.Templates, want)
			}
			if n := r.cams.Count(cams.APITemplates, ""); n < 1 {
				t.Errorf("ListChatappTemplate called %d times, want the names looked up", n)
			}
			for _, a := range sum.Alerts {
				wantName := ""
				if tc.wantNames {
					wantName = sampleNames[a.Template]
				}
				if a.TemplateName != wantName {
					t.Errorf("alert %s %s: template_name %q, want %q", a.Rule, a.Template, a.TemplateName, wantName)
				}
			}
			checkNamesWarning(t, r, sum.Errors, stderr, tc.listFails)
		})
	}
}

// sampleNames are the bundled sample's TemplateNames (function/sim/sample).
var sampleNames = map[string]string{
	"1100SHOP0001": "black_friday_shop_now", "1100FLASH0002": "flash_sale_48h", "1100WEEK0003": "weekday_deals",
	"1100BURST0004": "promo_relampago", "1100TINY0005": "vip_early_access", "1100DLV0006": "flash_sale_id",
	"1100NEWS0007": "monthly_newsletter",
}

// checkNamesWarning: a failed name lookup is a warning in the summary and on
// stderr, not a health message (it would be news every period).
func checkNamesWarning(t *testing.T, r *rig, errs []monitor.Error, stderr string, failed bool) {
	t.Helper()
	var got []monitor.Error
	for _, e := range errs {
		if e.Code == cams.CodeNamesUnavailable {
			got = append(got, e)
		}
	}
	if !failed {
		if len(errs) != 0 {
			t.Errorf("errors = %+v, want none", errs)
		}
		return
	}
	if len(got) != 1 || !got[0].Warning || !strings.Contains(got[0].Message, cams.CodePermissionDenied) {
		t.Errorf("errors = %+v, want one %s warning naming the API's error", errs, cams.CodeNamesUnavailable)
	}
	if !strings.Contains(stderr, "template names not looked up") {
		t.Errorf("stderr does not log the failed lookup:\n%s", stderr)
	}
	if text := r.slackText() + r.dingText(); strings.Contains(text, cams.CodeNamesUnavailable) {
		t.Errorf("the health message reports the name lookup:\n%s", text)
	}
}

// TestTemplateNamesOnConsole: `run` without --json names each alert's
// template beside its code, and a button alert shows the button's text as
// the API reports it, although the rule selects the button by type.
func TestTemplateNamesOnConsole(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	code, stdout, stderr := r.runRaw(t, "run", "--dry-run", "--at", sampleAt)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, w := range []string{`1100SHOP0001 "black_friday_shop_now" (en)`, `1100WEEK0003 "weekday_deals" (en)`,
		`1100FLASH0002 "flash_sale_48h" (en) button "Shop now"`} {
		if !strings.Contains(stdout, w) {
			t.Errorf("console output lacks %s:\n%s", w, stdout)
		}
	}
	if strings.Contains(stdout, "type:url_button") {
		t.Errorf("console output shows the rule's button selector, not the button's text:\n%s", stdout)
	}
}
