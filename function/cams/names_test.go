package cams

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cams-alert/cams-alert/function/cams/camstest"
	"github.com/cams-alert/cams-alert/function/metrics"
)

func TestLookupNames(t *testing.T) {
	srv := camstest.New(t)
	srv.SetTemplates(
		camstest.Template{Code: "1100SHOP0001", Name: "Black Friday – shop now", Language: "en", Category: "MARKETING", AuditStatus: "pass", Type: "WHATSAPP"},
		camstest.Template{Code: "1100SHOP0001", Name: "Black Friday (ID)", Language: "id", Category: "MARKETING", AuditStatus: "pass", Type: "WHATSAPP"},
		camstest.Template{Code: "1100NEWS0007", Name: "1100NEWS0007", Language: "en", Category: "MARKETING", AuditStatus: "pass", Type: "WHATSAPP"},
	)
	c, _ := newTestClient(t, srv)
	names, err := LookupNames(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  metrics.Key
		want string
	}{
		{metrics.Key{Template: "1100SHOP0001", Language: "en"}, "Black Friday – shop now"},
		{metrics.Key{Template: "1100SHOP0001", Language: "id"}, "Black Friday (ID)"},
		{metrics.Key{Template: "1100SHOP0001", Language: "pt_BR"}, "Black Friday – shop now"}, // another language's
		{metrics.Key{Template: "1100SHOP0001", Language: UnknownLanguage}, "Black Friday – shop now"},
		{metrics.Key{Template: "1100NEWS0007", Language: "en"}, ""}, // the name is the code
		{metrics.Key{Template: "1100NONE", Language: "en"}, ""},
	} {
		if got := names.Name(tc.key); got != tc.want {
			t.Errorf("Name(%v) = %q, want %q", tc.key, got, tc.want)
		}
	}

	t.Run("a failed lookup is a warning, not a failure", func(t *testing.T) {
		srv := camstest.New(t)
		srv.Fail(camstest.ListKey, 400, "Ram.PermissionDeny", "not allowed to list")
		c, _ := newTestClient(t, srv)
		names, err := LookupNames(context.Background(), c)
		var w *Warning
		var ae *APIError
		if names == nil || len(names) != 0 || !IsWarning(err) || !errors.As(err, &w) || w.Code != CodeNamesUnavailable ||
			!errors.As(err, &ae) || ae.Code != "Ram.PermissionDeny" {
			t.Fatalf("names %v, err %v", names, err)
		}
		if !strings.Contains(err.Error(), "codes only") || !strings.Contains(err.Error(), "Ram.PermissionDeny") {
			t.Fatalf("warning %q does not say what happens and why", err)
		}
		if names.Name(metrics.Key{Template: "T", Language: "en"}) != "" {
			t.Fatal("a name from nowhere")
		}
	})
}

// TestButtonTextsKept: the API's ButtonContent reaches each button of each
// period, so an alert on "type:url_button" can show "Shop now".
func TestButtonTextsKept(t *testing.T) {
	srv := camstest.New(t)
	srv.SetMetrics("T", buckets("en", 2, 100)...)
	c, _ := newTestClient(t, srv)
	series, err := c.Metrics(context.Background(), query("T"))
	if err != nil || len(series) != 1 {
		t.Fatal(series, err)
	}
	p := series[0].Periods[0]
	want := []metrics.Button{{Type: metrics.QuickReply, Text: "Shop now", Count: 7}, {Type: metrics.URLButton, Text: "Open", Count: 3}}
	if len(p.Buttons) != 2 || p.Buttons[0] != want[0] || p.Buttons[1] != want[1] {
		t.Fatalf("buttons %+v, want %+v", p.Buttons, want)
	}
}
