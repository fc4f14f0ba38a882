package deploy

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// The documentation is the README (the front door) and one page per subject
// in docs/. docs/pending/ holds other branches' drafts, not yet published.
func docFiles(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) == 0 {
		t.Fatal("no docs/*.md")
	}
	return append([]string{filepath.Join(repoRoot, "README.md"), filepath.Join(repoRoot, "deploy", "README.md")}, pages...)
}

// mdLine is one line of markdown prose (fenced code is left out), with its
// inline code spans blanked so that `[x](y)` inside them is not a link.
type mdLine struct {
	n    int
	text string
}

var inlineCode = regexp.MustCompile("`[^`]*`")

func prose(t *testing.T, path string) (lines []mdLine, headings []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fence := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		trim := strings.TrimSpace(raw)
		if fence != "" {
			if strings.HasPrefix(trim, fence) {
				fence = ""
			}
			continue
		}
		if strings.HasPrefix(trim, "```") || strings.HasPrefix(trim, "~~~") {
			fence = trim[:3]
			continue
		}
		if m := headingRE.FindStringSubmatch(raw); m != nil {
			headings = append(headings, m[1])
		}
		lines = append(lines, mdLine{n, inlineCode.ReplaceAllStringFunc(raw, func(s string) string {
			return "`" + strings.Repeat("x", len(s)-2) + "`"
		})})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines, headings
}

var (
	headingRE = regexp.MustCompile(`^#{1,6}\s+(.*?)\s*#*\s*$`)
	linkRE    = regexp.MustCompile(`\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	mdLinkRE  = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// anchor is GitHub's id for a heading: the rendered text lower-cased, with
// everything but letters, digits, '_', '-' and spaces removed, and spaces
// turned into '-'.
func anchor(heading string) string {
	text := mdLinkRE.ReplaceAllString(heading, "$1")
	text = strings.ToLower(text)
	var b strings.Builder
	for _, r := range text {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || r == '_' || r == '-':
			b.WriteRune(r)
		case r == ' ':
			b.WriteByte('-')
		}
	}
	return b.String()
}

// anchors lists a page's heading ids; a repeated heading gets -1, -2, ….
func anchors(headings []string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, h := range headings {
		a := anchor(h)
		if n := seen[a]; n > 0 {
			seen[a]++
			a = fmt.Sprintf("%s-%d", a, n)
		} else {
			seen[a] = 1
		}
		out[a] = true
	}
	return out
}

func TestAnchor(t *testing.T) {
	for _, c := range []struct{ heading, want string }{
		{"Rule tests", "rule-tests"},
		{"`${VAR}` in channels", "var-in-channels"},
		{"Unusable `STATE_DIR`", "unusable-state_dir"},
		{"Fixed choices in `s.yaml`", "fixed-choices-in-syaml"},
		{"6. Test it now, don't wait for 09:00", "6-test-it-now-dont-wait-for-0900"},
		{"2. The function's RAM role (least privilege)", "2-the-functions-ram-role-least-privilege"},
		{"Two meanings of \"rate\"", "two-meanings-of-rate"},
		{"above and below", "above-and-below"},
	} {
		if got := anchor(c.heading); got != c.want {
			t.Errorf("anchor(%q) = %q, want %q", c.heading, got, c.want)
		}
	}
	got := anchors([]string{"Retries", "Retries", "Retries"})
	for _, a := range []string{"retries", "retries-1", "retries-2"} {
		if !got[a] {
			t.Errorf("repeated headings: no #%s in %v", a, got)
		}
	}
}

// TestDocLinks: every relative link in the README and docs/ points at a file
// that exists and, with #anchor, at a heading of that page.
func TestDocLinks(t *testing.T) {
	pages := map[string]map[string]bool{}
	headingsOf := func(path string) map[string]bool {
		if a, ok := pages[path]; ok {
			return a
		}
		_, hs := prose(t, path)
		pages[path] = anchors(hs)
		return pages[path]
	}
	checked := 0
	for _, file := range docFiles(t) {
		lines, _ := prose(t, file)
		for _, l := range lines {
			for _, m := range linkRE.FindAllStringSubmatch(l.text, -1) {
				if err := checkLink(file, m[1], headingsOf); err != nil {
					t.Errorf("%s:%d: link %s: %v", rel(file), l.n, m[1], err)
				}
				checked++
			}
		}
	}
	if checked < 50 {
		t.Errorf("only %d links found: is the link pattern still right?", checked)
	}
}

func checkLink(file, target string, headingsOf func(string) map[string]bool) error {
	if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
		return nil
	}
	path, frag, _ := strings.Cut(target, "#")
	dest := file
	if path != "" {
		dest = filepath.Join(filepath.Dir(file), filepath.FromSlash(path))
	}
	st, err := os.Stat(dest)
	if err != nil {
		return fmt.Errorf("no such file %s", rel(dest))
	}
	if frag == "" {
		return nil
	}
	if st.IsDir() || !strings.HasSuffix(dest, ".md") {
		return fmt.Errorf("#%s on %s, which is not a markdown page", frag, rel(dest))
	}
	if !headingsOf(dest)[frag] {
		return fmt.Errorf("%s has no heading #%s", rel(dest), frag)
	}
	return nil
}

func rel(path string) string {
	if r, err := filepath.Rel(repoRoot, path); err == nil {
		return filepath.ToSlash(r)
	}
	return path
}

// TestLinkCheckCatches shows the check fails on a missing file, a missing
// heading and an anchor on a file that is not a page.
func TestLinkCheckCatches(t *testing.T) {
	readme := filepath.Join(repoRoot, "README.md")
	none := func(string) map[string]bool { return map[string]bool{"two-commands": true} }
	for _, target := range []string{"docs/nope.md", "docs/rules.md#no-such-heading", "s.yaml#vars", "#nowhere"} {
		if err := checkLink(readme, target, func(p string) map[string]bool {
			if strings.HasSuffix(p, "README.md") {
				return none(p)
			}
			return map[string]bool{}
		}); err == nil {
			t.Errorf("link %s passed the check", target)
		}
	}
	if err := checkLink(readme, "#two-commands", none); err != nil {
		t.Errorf("#two-commands: %v", err)
	}
}

// TestREADMEIsAFrontDoor: the README stays short (the reference lives in
// docs/), and no page cites the contract's section numbers, which readers of
// the repository cannot look up.
func TestREADMEIsAFrontDoor(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n > 200 {
		t.Errorf("README.md has %d lines; keep it under 200 and move reference material to docs/", n)
	}
	for _, file := range docFiles(t) {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "SPEC §") {
				t.Errorf("%s:%d: cites SPEC §: link the docs page instead", rel(file), i+1)
			}
		}
	}
}
