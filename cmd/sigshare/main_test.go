package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary is the sigshare executable built once for all tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sigshare-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sigshare")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building sigshare:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is a finished sigshare run.
type result struct {
	stdout, stderr string
	code           int
}

// cleanEnv is the environment of every run: the test's own, without SIGSHARE_ variables
// that could change a command's flags.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envPrefix) {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// runCLI runs sigshare with args (in dir, when not empty) and waits at most 60 seconds.
func runCLI(t *testing.T, dir string, env []string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running sigshare %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// mustRun runs sigshare and fails the test unless it exits 0.
func mustRun(t *testing.T, dir string, env []string, stdin string, args ...string) result {
	t.Helper()
	r := runCLI(t, dir, env, stdin, args...)
	if r.code != 0 {
		t.Fatalf("sigshare %s: exit %d\nstderr: %s\nstdout: %s", strings.Join(args, " "), r.code, r.stderr, r.stdout)
	}
	return r
}

// checkOneLineError checks the shape of a failed run: non-zero exit, one line on stderr
// starting with "sigshare: ", no stack trace.
func checkOneLineError(t *testing.T, r result, wantCode int, wantText string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("exit 0, want failure; stdout %q", r.stdout)
		return
	}
	if wantCode != 0 && r.code != wantCode {
		t.Errorf("exit %d, want %d (stderr %q)", r.code, wantCode, r.stderr)
	}
	// Log records (the servers log their start-up) are not part of the error.
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(r.stderr, "\n"), "\n") {
		if !strings.HasPrefix(l, "time=") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Errorf("stderr has %d lines besides log records, want 1:\n%s", len(lines), r.stderr)
	} else if !strings.HasPrefix(lines[0], "sigshare: ") {
		t.Errorf("the error does not start with \"sigshare: \": %q", lines[0])
	}
	for _, bad := range []string{"goroutine", "panic", "Usage:"} {
		if strings.Contains(r.stderr+r.stdout, bad) {
			t.Errorf("output contains %q:\n%s%s", bad, r.stderr, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, wantText) {
		t.Errorf("stderr %q does not say %q", r.stderr, wantText)
	}
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// process is a sigshare server started by a test.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
	err    error
}

// lockedWriter appends to a buffer under the process lock.
type lockedWriter struct {
	p   *process
	buf *bytes.Buffer
}

func (w lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.buf.Write(b)
}

// start starts sigshare with args in dir; the process is killed when the test ends.
func start(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	p := &process{t: t, done: make(chan struct{})}
	if len(args) > 0 && args[0] == "sh" {
		p.cmd = exec.Command("sh", args[1:]...)
	} else {
		p.cmd = exec.Command(binary, args...)
	}
	p.cmd.Dir = dir
	p.cmd.Env = cleanEnv(env...)
	p.cmd.Stderr = lockedWriter{p, &p.stderr}
	pr, pw := io.Pipe()
	p.cmd.Stdout = pw
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			p.mu.Lock()
			p.stdout.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
		}
	}()
	go func() {
		p.err = p.cmd.Wait()
		pw.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// output returns what the process printed so far.
func (p *process) output() (stdout, stderr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stdout.String(), p.stderr.String()
}

// stop sends SIGTERM and waits for the exit; it returns the exit code.
func (p *process) stop() int {
	p.t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	return p.wait(30 * time.Second)
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		_, stderr := p.output()
		p.t.Fatalf("the process did not exit within %v; stderr:\n%s", d, stderr)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// waitReady polls url until it answers 200, or fails the test after 20 seconds.
func (p *process) waitReady(client *http.Client, url string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			_, stderr := p.output()
			p.t.Fatalf("the process exited early: %v\nstderr:\n%s", p.err, stderr)
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, stderr := p.output()
	p.t.Fatalf("%s did not become ready; stderr:\n%s", url, stderr)
}
