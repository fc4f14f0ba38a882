package monitor

import (
	"fmt"
	"testing"

	"github.com/cams-alert/cams-alert/function/cams"
)

func TestTemplateProblemsFoldsLongLists(t *testing.T) {
	cases := []struct {
		name      string
		unchecked int
		denied    int
		wantLines int
		wantMore  int
	}{
		{"few are listed one by one", 3, 1, 4, 0},
		{"exactly the limit", maxListed, 0, maxListed, 0},
		{"thousands are folded into a count", 2500, 2, maxListed + 1 + 2, 2490},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var errs []Error
			for i := range tc.unchecked {
				errs = append(errs, Error{Template: fmt.Sprintf("T%05d", i), Code: Unchecked, Message: "budget"})
			}
			for i := range tc.denied {
				errs = append(errs, Error{Template: fmt.Sprintf("D%d", i), Code: "Ram.PermissionDeny", Message: "denied"})
			}
			got := templateProblems(errs, nil)
			if len(got) != tc.wantLines {
				t.Fatalf("%d lines, want %d: %+v", len(got), tc.wantLines, got)
			}
			var denied int
			var more int
			for _, p := range got {
				if p.Code == "Ram.PermissionDeny" {
					denied++
				}
				if p.Template == "" {
					more = p.More
				}
			}
			if denied != tc.denied {
				t.Errorf("denied templates listed %d, want %d: a fold must not hide another code", denied, tc.denied)
			}
			if more != tc.wantMore {
				t.Errorf("fold line counts %d more, want %d", more, tc.wantMore)
			}
		})
	}
}

// Warnings (the template was checked) fold with their own words, and do not
// make a run fail; any real error beside them does.
func TestWarningsAreReportedNotFailed(t *testing.T) {
	var warns []Error
	for i := range maxListed + 5 {
		warns = append(warns, Error{Template: fmt.Sprintf("W%02d", i), Code: "Response.SpanMismatch", Message: "2 buckets dropped", Warning: true})
	}
	got := templateProblems(warns, nil)
	for _, p := range got[:len(got)-1] {
		if !p.Warning {
			t.Errorf("%s: Warning not set: the health line would say it was not checked", p.Template)
		}
	}
	if last := got[len(got)-1]; last.More != 5 || !last.Warning || last.Message != "" {
		t.Errorf("fold line %+v, want More 5, Warning, no English message", last)
	}
	cases := []struct {
		name   string
		errors []Error
		ok     bool
	}{
		{"no errors", nil, true},
		{"warnings only", warns, true},
		{"a warning and an unchecked template", append([]Error{{Template: "T", Code: Unchecked}}, warns[0]), false},
	}
	for _, tc := range cases {
		s := &Summary{Errors: tc.errors}
		if s.OK() != tc.ok {
			t.Errorf("%s: OK() = %v, want %v", tc.name, s.OK(), tc.ok)
		}
	}
}

// A health line names its template beside the code when the name is known
// (in any of the template's languages: the error has none), and the code
// alone otherwise.
func TestTemplateProblemsNameTheTemplate(t *testing.T) {
	names := cams.NamesOf([]cams.Template{{Code: "1100SHOP0001", Language: "pt_BR", Name: "black_friday_shop_now"}})
	errs := []Error{
		{Template: "1100SHOP0001", Code: "Ram.PermissionDeny", Message: "denied"},
		{Template: "1100X", Code: "Ram.PermissionDeny", Message: "denied"},
	}
	got := templateProblems(errs, names)
	want := []string{"black_friday_shop_now", ""}
	if len(got) != len(want) {
		t.Fatalf("%d problems, want %d: %+v", len(got), len(want), got)
	}
	for i, p := range got {
		if p.TemplateName != want[i] {
			t.Errorf("%s: template_name %q, want %q", p.Template, p.TemplateName, want[i])
		}
	}
}
