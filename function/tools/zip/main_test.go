package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "rules", "team"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "bin"), []byte("\x7fELF"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "rules", "a.yaml"), []byte("a"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "rules", "team", "b.yml"), []byte("b"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "rules", ".hidden.yaml"), []byte("x"), 0o644))

	args := []string{filepath.Join(dir, "bin") + "=main", filepath.Join(dir, "rules") + "=rules"}
	one, two := filepath.Join(dir, "out", "1.zip"), filepath.Join(dir, "out", "2.zip")
	must(write(one, args))
	must(write(two, args))
	b1, _ := os.ReadFile(one)
	b2, _ := os.ReadFile(two)
	if !bytes.Equal(b1, b2) {
		t.Error("the same inputs gave different archives")
	}

	zr, err := zip.OpenReader(one)
	must(err)
	defer zr.Close()
	got := map[string]os.FileMode{}
	for _, f := range zr.File {
		got[f.Name] = f.Mode()
	}
	want := map[string]os.FileMode{
		"main":             0o755,
		"rules/":           os.ModeDir | 0o755,
		"rules/a.yaml":     0o644,
		"rules/team/":      os.ModeDir | 0o755,
		"rules/team/b.yml": 0o644,
	}
	if len(got) != len(want) {
		t.Errorf("entries %v, want %v", got, want)
	}
	for name, mode := range want {
		if got[name] != mode {
			t.Errorf("%s: mode %v, want %v (entries %v)", name, got[name], mode, got)
		}
	}

	if err := write(filepath.Join(dir, "x.zip"), []string{filepath.Join(dir, "missing") + "=main"}); err == nil {
		t.Error("a missing source was accepted")
	}
	if err := write(filepath.Join(dir, "x.zip"), []string{filepath.Join(dir, "bin") + "=../main"}); err == nil {
		t.Error("a name outside the archive root was accepted")
	}
}
