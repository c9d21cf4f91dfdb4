package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// testApp returns an app writing to buffers, for walking the command tree.
func testApp() *app {
	var b bytes.Buffer
	return &app{stdin: strings.NewReader(""), stdout: &b, stderr: &b, lookupEnv: func(string) (string, bool) { return "", false }}
}

// walk calls f for every command of the tree.
func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, sub := range c.Commands() {
		walk(sub, f)
	}
}

// Every command that does something has --help with an example (issue 7).
func TestEveryCommandHasAnExample(t *testing.T) {
	root := testApp().rootCommand()
	n := 0
	walk(root, func(c *cobra.Command) {
		if !c.Runnable() || c.Hidden || strings.HasPrefix(c.CommandPath(), "sigshare completion") || c.Name() == "help" {
			return
		}
		n++
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("%s has no example in its --help", c.CommandPath())
		}
		if c.Short == "" || c.Long == "" {
			t.Errorf("%s lacks a description", c.CommandPath())
		}
	})
	if n < 18 {
		t.Errorf("only %d runnable commands found", n)
	}
	r := mustRun(t, "", nil, "", "stream", "add-subject", "--help")
	if !strings.Contains(r.stdout, "Examples:") || !strings.Contains(r.stdout, "--subject-email") {
		t.Errorf("stream add-subject --help:\n%s", r.stdout)
	}
	r = mustRun(t, "", nil, "", "completion", "bash")
	if !strings.Contains(r.stdout, "sigshare") {
		t.Error("no bash completion")
	}
}

// docs/configuration.md documents every flag of the server commands with its
// environment variable.
func TestConfigurationDocCoversEveryServerFlag(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	root := testApp().rootCommand()
	for _, name := range []string{"transmitter", "receiver", "demo"} {
		cmd, _, err := root.Find([]string{name})
		if err != nil {
			t.Fatal(err)
		}
		section := doc[strings.Index(doc, "## `sigshare "+name+"`"):]
		if i := strings.Index(section[3:], "\n## "); i >= 0 {
			section = section[:i+3]
		}
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if f.Name == "help" {
				return
			}
			if !strings.Contains(section, "`--"+f.Name+"`") || !strings.Contains(section, "`"+envName(f.Name)+"`") {
				t.Errorf("docs/configuration.md, section %s, lacks --%s or %s", name, f.Name, envName(f.Name))
			}
		})
	}
	for _, f := range []string{"log-level", "log-format"} {
		if !strings.Contains(doc, "`--"+f+"`") || !strings.Contains(doc, "`"+envName(f)+"`") {
			t.Errorf("docs/configuration.md lacks --%s", f)
		}
	}
}
