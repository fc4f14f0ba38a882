package config

import (
	"os"
	"testing"
)

// unset removes a variable for the test and restores it afterwards.
func unset(t *testing.T, name string) {
	t.Helper()
	t.Setenv(name, "") // registers the restore
	os.Unsetenv(name)
}
