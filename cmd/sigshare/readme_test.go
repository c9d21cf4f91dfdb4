package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tourBlock is one shell block of the README's tour: the terminal it runs in and its
// lines.
type tourBlock struct {
	terminal string
	lines    []string
}

// readTour returns the shell blocks of the README's "Five-minute tour" section.
func readTour(t *testing.T) []tourBlock {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "## Five-minute tour")
	if start < 0 {
		t.Fatal("README.md has no \"## Five-minute tour\" section")
	}
	section := text[start+3:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	var blocks []tourBlock
	for {
		i := strings.Index(section, "```sh\n")
		if i < 0 {
			break
		}
		section = section[i+len("```sh\n"):]
		j := strings.Index(section, "```")
		body := section[:j]
		section = section[j+3:]
		var b tourBlock
		for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "# terminal") {
				b.terminal = strings.TrimPrefix(line, "# ")
				continue
			}
			if line != "" && !strings.HasPrefix(line, "#") {
				b.lines = append(b.lines, line)
			}
		}
		if b.terminal == "" {
			t.Fatalf("a tour block does not say its terminal:\n%s", body)
		}
		blocks = append(blocks, b)
	}
	if len(blocks) < 3 {
		t.Fatalf("the tour has %d shell blocks", len(blocks))
	}
	return blocks
}

// The README's five-minute tour, run exactly as written (the commands go through sh with
// the sigshare binary on PATH); only the transmitter's port is a free one, given through
// SIGSHARE_ADDR and substituted for 8417 in the URLs.
func TestReadmeTour(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	blocks := readTour(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	path := "PATH=" + filepath.Dir(binary) + string(os.PathListSeparator) + os.Getenv("PATH")
	subst := func(s string) string { return strings.ReplaceAll(s, "127.0.0.1:8417", addr) }

	exports := map[string][]string{} // terminal → export lines so far
	servers := map[string]*process{}
	for _, b := range blocks {
		for _, line := range b.lines {
			line = subst(line)
			if strings.HasPrefix(line, "export ") {
				exports[b.terminal] = append(exports[b.terminal], line)
				continue
			}
			script := strings.Join(append(append([]string{}, exports[b.terminal]...), ""), "; ")
			fields := strings.Fields(line)
			if len(fields) > 1 && fields[0] == "sigshare" && (fields[1] == "transmitter" || fields[1] == "receiver") {
				p := start(t, dir, []string{path, "SIGSHARE_ADDR=" + addr}, "sh", "-c", script+"exec "+line)
				servers[fields[1]] = p
				if fields[1] == "transmitter" {
					p.waitReady(http.DefaultClient, "http://"+addr+"/readyz")
				} else {
					waitStderr(t, p, "receiver started")
				}
				continue
			}
			r := runShell(t, dir, []string{path}, script+line)
			if r.code != 0 {
				t.Fatalf("tour command %q: exit %d\n%s%s", line, r.code, r.stdout, r.stderr)
			}
			if fields[1] == "emit" {
				waitStdout(t, servers["receiver"], "caep:session-revoked", "alice@example.com")
			}
			if len(fields) > 2 && fields[1] == "stream" && fields[2] == "verify" {
				waitStdout(t, servers["receiver"], "ssf:verification")
			}
		}
	}
	if servers["transmitter"] == nil || servers["receiver"] == nil {
		t.Fatal("the tour does not start a transmitter and a receiver")
	}
	for _, name := range []string{"receiver", "transmitter"} {
		if code := servers[name].stop(); code != 0 {
			_, stderr := servers[name].output()
			t.Errorf("%s: exit %d after SIGTERM\n%s", name, code, stderr)
		}
	}
}

// runShell runs a script with sh -c in dir.
func runShell(t *testing.T, dir string, env []string, script string) result {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	cmd.Env = cleanEnv(env...)
	var out, errb strings.Builder
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// waitStdout waits until the process printed a line holding every one of want.
func waitStdout(t *testing.T, p *process, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := p.output()
		for _, line := range strings.Split(out, "\n") {
			ok := line != ""
			for _, w := range want {
				ok = ok && strings.Contains(line, w)
			}
			if ok {
				return line
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, stderr := p.output()
	t.Fatalf("no output line with %q\nstdout:\n%s\nstderr:\n%s", want, out, stderr)
	return ""
}

// waitStderr waits until the process logged want.
func waitStderr(t *testing.T, p *process, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			_, stderr := p.output()
			t.Fatalf("the process exited: %v\n%s", p.err, stderr)
		default:
		}
		if _, stderr := p.output(); strings.Contains(stderr, want) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, stderr := p.output()
	t.Fatalf("the process did not log %q:\n%s", want, stderr)
}
