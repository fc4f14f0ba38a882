package yamldiag

import (
	"strings"
	"testing"
	"time"
)

func TestParseLimits(t *testing.T) {
	small := Limits{MaxBytes: 200, MaxDepth: 5, MaxNodes: 40}
	for _, tc := range []struct{ name, src, want string }{
		{"ok", "a: [1, {b: 2}]\n", ""},
		{"empty", "", ""},
		{"too big", strings.Repeat("#", 201), "f.yaml:1:1: file is 201 bytes, more than the 200 bytes a file may have"},
		{"flow too deep", "a: [[[[[[1]]]]]]\n", "f.yaml:1:9: nested more than 5 levels deep"},
		{"block too deep", "a:\n  b:\n    c:\n      d:\n        e: 1\n", "f.yaml:5:9: nested more than 5 levels deep"},
		{"aliases expand", "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\nb: [*a, *a, *a, *a, *a]\n", "f.yaml:2:17: aliases and merge keys expand the document to more than 40 nodes"},
		{"two documents", "a: 1\n---\nb: 2\n", "f.yaml:2:1: more than one YAML document in a file is not supported"},
		{"syntax", "a: [1\nb: 2\n", "f.yaml:2:1: invalid YAML: ',' or ']' must be specified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, ds := Parse("f.yaml", []byte(tc.src), small)
			if got := ds.Error(); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestPairsMerge(t *testing.T) {
	root, ds := Parse("f.yaml", []byte("base: &b {x: 1, y: 2}\nm: {<<: *b, y: 3, z: 4}\n"), DefaultLimits)
	if ds != nil {
		t.Fatal(ds)
	}
	var got []string
	for _, p := range Pairs(Pairs(root)[1].V) {
		got = append(got, p.K.Value+"="+p.V.Value)
	}
	if strings.Join(got, " ") != "y=3 z=4 x=1" {
		t.Errorf("pairs %v: explicit keys must win over merged ones", got)
	}
}

func TestSuggest(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{"nmae", ` (did you mean "name"?)`}, {"DAILY", ` (did you mean "daily"?)`}, {"zzzzzz", ""},
	} {
		if s := Suggest(tc.got, []string{"name", "daily"}); s != tc.want {
			t.Errorf("Suggest(%q) = %q, want %q", tc.got, s, tc.want)
		}
	}
}

// FuzzParse: no input panics, takes a second or refuses without a position.
func FuzzParse(f *testing.F) {
	f.Add([]byte("a: [1, {b: 2}]\n"))
	f.Add([]byte("a: &a [1]\nb: [*a, *a]\nc: {<<: {x: 1}}\n"))
	f.Add([]byte("rules: " + strings.Repeat("[", 1000)))
	f.Fuzz(func(t *testing.T, data []byte) {
		start := time.Now()
		_, ds := Parse("f.yaml", data, DefaultLimits)
		if took := time.Since(start); took > time.Second {
			t.Fatalf("Parse took %v", took)
		}
		for _, d := range ds {
			if d.File != "f.yaml" || d.Line < 1 || d.Col < 1 || d.Msg == "" {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
	})
}
