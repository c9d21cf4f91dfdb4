package e2e

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var verboseLogs = flag.Bool("e2e.log", false, "write the nodes' logs to stderr")

// stderr is where -e2e.log writes.
var stderr = os.Stderr

// binary is the sigshare executable, built once by TestMain for the crash tests.
var binary string

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "sigshare-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sigshare")
	build := exec.Command("go", "build", "-o", binary, "github.com/sigshare/sigshare/cmd/sigshare")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building sigshare:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
