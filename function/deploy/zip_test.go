package deploy

import (
	"archive/zip"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing"
)

// TestCodePackage checks dist/code.zip as `make package` built it (named by
// CAMS_ALERT_ZIP, which `make deploy-check` sets): the FC handler `main` at
// the root, a Go binary for linux/amd64 without cgo, and the bundled rules.
func TestCodePackage(t *testing.T) {
	file := os.Getenv("CAMS_ALERT_ZIP")
	if file == "" {
		t.Skip("CAMS_ALERT_ZIP is not set: `make deploy-check` builds dist/code.zip with `make package` and checks it here")
	}
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if err := checkZip(&zr.Reader, true); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// checkZip reports what is wrong with a code package. With goBuild, `main`
// must also carry Go build info saying linux/amd64 and CGO_ENABLED=0.
func checkZip(zr *zip.Reader, goBuild bool) error {
	var main *zip.File
	rules := 0
	for _, f := range zr.File {
		name := f.Name
		switch {
		case name == "main":
			main = f
		case name == "rules/" || strings.HasPrefix(name, "rules/"):
			if ext := path.Ext(name); !f.FileInfo().IsDir() && (ext == ".yaml" || ext == ".yml") {
				rules++
			}
		default:
			return fmt.Errorf("unexpected entry %q: the package holds main and rules/ only", name)
		}
	}
	if main == nil {
		return fmt.Errorf("no `main` at the zip's root (FC runs handler \"main\" from there)")
	}
	if rules == 0 {
		return fmt.Errorf("no rules/*.yaml: RULES_PATH=rules (the default) would find nothing")
	}
	if m := main.Mode(); !m.IsRegular() || m.Perm()&0o111 == 0 {
		return fmt.Errorf("main has mode %v: it must be an executable regular file", m)
	}
	rc, err := main.Open()
	if err != nil {
		return err
	}
	bin, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return err
	}
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("main is not an ELF executable: %v", err)
	}
	defer ef.Close()
	if ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 || ef.Data != elf.ELFDATA2LSB {
		return fmt.Errorf("main is %v %v %v, want ELFCLASS64 EM_X86_64 (linux/amd64)", ef.Class, ef.Machine, ef.Data)
	}
	if ef.OSABI != elf.ELFOSABI_NONE && ef.OSABI != elf.ELFOSABI_LINUX {
		return fmt.Errorf("main's OS ABI is %v, want Linux", ef.OSABI)
	}
	if ef.Type != elf.ET_EXEC && ef.Type != elf.ET_DYN {
		return fmt.Errorf("main is an ELF %v, not an executable", ef.Type)
	}
	if !goBuild {
		return nil
	}
	info, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("main has no Go build info: %v", err)
	}
	want := map[string]string{"GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "0"}
	for _, s := range info.Settings {
		if w, ok := want[s.Key]; ok {
			if s.Value != w {
				return fmt.Errorf("main was built with %s=%s, want %s", s.Key, s.Value, w)
			}
			delete(want, s.Key)
		}
	}
	if len(want) > 0 {
		return fmt.Errorf("main's build info lacks %v", want)
	}
	return nil
}

// fakeELF is a bare ELF64 little-endian header for machine m: enough for
// debug/elf, without building a binary.
func fakeELF(m elf.Machine) []byte {
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(m), Version: uint32(elf.EV_CURRENT),
		Ehsize: 64, Phentsize: 56, Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, h)
	return b.Bytes()
}

type zipEntry struct {
	name string
	mode fs.FileMode
	data []byte
}

func makeZip(t *testing.T, entries ...zipEntry) *zip.Reader {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		h.SetMode(e.mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return zr
}

// TestCheckZip runs the package check on stand-in packages, good and bad.
func TestCheckZip(t *testing.T) {
	amd64 := zipEntry{"main", 0o755, fakeELF(elf.EM_X86_64)}
	rules := zipEntry{"rules/marketing.yaml", 0o644, []byte("rules: []\n")}
	for _, tc := range []struct {
		name    string
		entries []zipEntry
		want    string // substring of the error; "" for none
	}{
		{"good", []zipEntry{amd64, {"rules/", fs.ModeDir | 0o755, nil}, rules}, ""},
		{"main in a folder", []zipEntry{{"dist/main", 0o755, fakeELF(elf.EM_X86_64)}, rules}, "unexpected entry"},
		{"no main", []zipEntry{rules}, "no `main`"},
		{"arm64", []zipEntry{{"main", 0o755, fakeELF(elf.EM_AARCH64)}, rules}, "EM_AARCH64"},
		{"not ELF", []zipEntry{{"main", 0o755, []byte("#!/bin/sh\n")}, rules}, "not an ELF"},
		{"not executable", []zipEntry{{"main", 0o644, fakeELF(elf.EM_X86_64)}, rules}, "executable"},
		{"no rules", []zipEntry{amd64}, "no rules"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkZip(makeZip(t, tc.entries...), false)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	// A real ELF without Go build info fails the strict check.
	if err := checkZip(makeZip(t, amd64, rules), true); err == nil || !strings.Contains(err.Error(), "build info") {
		t.Errorf("strict check of a non-Go binary: %v", err)
	}
}

func TestCheckCron(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		perDay int // 0: invalid
	}{
		{"CRON_TZ=Asia/Shanghai 0 0 9 * * *", 1},
		{"CRON_TZ=Asia/Shanghai 0 0 9,17 * * 1-5", 2},
		{"CRON_TZ=Europe/Berlin 0 30 8 ? * MON-FRI", 1},
		{"CRON_TZ=UTC 0 0,30 * * * *", 48},
		{"CRON_TZ=Asia/Shanghai 0 */5 * * * *", 288},
		{"0 0 9 * * *", 0},                        // no zone: UTC, surprising
		{"CRON_TZ=Asia/Shangai 0 0 9 * * *", 0},   // no such zone
		{"CRON_TZ=Asia/Shanghai 0 9 * * *", 0},    // five fields (no seconds)
		{"CRON_TZ=Asia/Shanghai 0 0 24 * * *", 0}, // hour out of range
		{"CRON_TZ=Asia/Shanghai ? 0 9 * * *", 0},  // ? in seconds
		{"CRON_TZ=Asia/Shanghai 0 0 9 * * * *", 0},
	} {
		n, err := checkCron(tc.expr)
		if tc.perDay == 0 {
			if err == nil {
				t.Errorf("%q: accepted", tc.expr)
			}
			continue
		}
		if err != nil || n != tc.perDay {
			t.Errorf("%q: %d a day, %v; want %d", tc.expr, n, err, tc.perDay)
		}
	}
}
