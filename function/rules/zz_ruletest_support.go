package rules

import "os"

// LoadFiles loads several rule files or directories (each as Load reads
// RULES_PATH) into one merged Set, exactly as if they were one directory:
// defaults merge over all of them, names must be unique across them. Rule
// unit tests use it for their rule_files list. On any problem it returns
// Diagnostics listing every problem in every file, and a nil Set.
func LoadFiles(paths []string, lookupEnv func(string) (string, bool)) (*Set, error) {
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	l := newLoader(lookupEnv)
	for _, p := range paths {
		files, diag := listFiles(p)
		if diag != nil {
			l.diags = append(l.diags, *diag)
			continue
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				l.diags = append(l.diags, Diagnostic{File: f, Line: 1, Col: 1, Msg: "cannot read file: " + errText(err)})
				continue
			}
			l.loadFile(f, data)
		}
	}
	return l.finish()
}
