// Command zip writes the FC code package without needing a zip program
// (`make package` runs it; fresh machines often lack `zip`):
//
//	go run ./function/tools/zip -o dist/code.zip dist/main=main rules=rules
//
// Each argument is SRC[=NAME]: a file stored as NAME, or a directory whose
// files are stored under NAME/ (recursively, hidden files skipped). File modes
// are kept (FC needs `main` executable), and entries are sorted with a fixed
// timestamp, so the same inputs give the same bytes: fc3 then sees an
// unchanged checksum and skips the upload.
package main

import (
	"archive/zip"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// epoch is every entry's modification time (zip cannot store times before 1980).
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "output zip `file`")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: zip -o OUT.zip SRC[=NAME]...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := write(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "zip:", err)
		os.Exit(1)
	}
}

type entry struct {
	name string // slash-separated name in the archive
	src  string // file on disk
	mode fs.FileMode
}

// write creates out (atomically: a temporary file renamed into place) from the
// SRC[=NAME] arguments.
func write(out string, args []string) error {
	var entries []entry
	for _, arg := range args {
		src, name, ok := strings.Cut(arg, "=")
		if !ok {
			name = filepath.Base(src)
		}
		name = strings.Trim(path.Clean(filepath.ToSlash(name)), "/")
		if name == "" || name == "." || strings.HasPrefix(name, "../") || name == ".." {
			return fmt.Errorf("%s: bad archive name %q", arg, name)
		}
		es, err := collect(src, name)
		if err != nil {
			return err
		}
		entries = append(entries, es...)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	for i := 1; i < len(entries); i++ {
		if entries[i].name == entries[i-1].name {
			return fmt.Errorf("%s is added twice", entries[i].name)
		}
	}

	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".zip-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	zw := zip.NewWriter(tmp)
	dirs := map[string]bool{}
	for _, e := range entries {
		// Explicit directory entries, so unzip recreates them with 0755.
		for d := path.Dir(e.name); d != "."; d = path.Dir(d) {
			if dirs[d] {
				break
			}
			dirs[d] = true
			h := &zip.FileHeader{Name: d + "/", Modified: epoch}
			h.SetMode(fs.ModeDir | 0o755)
			if _, err := zw.CreateHeader(h); err != nil {
				return err
			}
		}
		if err := add(zw, e); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// collect lists src (a file, or a directory walked recursively) as entries
// named under name.
func collect(src, name string) ([]entry, error) {
	info, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []entry{{name: name, src: src, mode: info.Mode().Perm()}}, nil
	}
	var es []entry
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != src && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		es = append(es, entry{name: path.Join(name, filepath.ToSlash(rel)), src: p, mode: info.Mode().Perm()})
		return nil
	})
	if err == nil && len(es) == 0 {
		err = errors.New(src + ": empty directory")
	}
	return es, err
}

func add(zw *zip.Writer, e entry) error {
	f, err := os.Open(e.src)
	if err != nil {
		return err
	}
	defer f.Close()
	h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: epoch}
	h.SetMode(e.mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, f)
	return err
}
