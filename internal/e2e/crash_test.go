package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/transmitter"
)

// Sizing of the crash tests: together well under a minute on two cores with -race.
const (
	crashEvents   = 2000                   // acknowledged emissions to reach
	crashKills    = 6                      // SIGKILLs
	crashEmitters = 6                      // concurrent operator clients
	crashMinUp    = 150 * time.Millisecond // a run lasts between crashMinUp
	crashMaxUp    = 450 * time.Millisecond // and crashMaxUp before its SIGKILL
)

// TestCrashRestartPush: "sigshare transmitter" on a SQLite file, killed with SIGKILL
// crashKills times while operators emit crashEvents events and the push engine delivers
// them to a Receiver (package receiver, push endpoint over TLS). Every SET whose
// emission was answered 200 arrives verified at least once (RFC 8935 §2, PUSH-8:
// at-least-once, duplicates allowed and counted).
func TestCrashRestartPush(t *testing.T) { crashRestart(t, ssf.DeliveryPush) }

// TestCrashRestartPoll: the same with a poll stream; the Receiver long-polls with its
// Poller and acknowledges after its handler ran (RFC 8936 §2.4, POLL-7, POLL-8).
func TestCrashRestartPoll(t *testing.T) { crashRestart(t, ssf.DeliveryPoll) }

func crashRestart(t *testing.T, method string) {
	began := time.Now()
	ca := newCA(t)
	px := newTxProcess(t, ca)
	px.start(t)

	var site *receiverSite
	opts := rcvOptions{description: "crash " + method}
	if method == ssf.DeliveryPush {
		site = startSite(t, ca)
		opts.site, opts.path, opts.authorization = site, "/push", "Bearer crash-push-secret"
	}
	r := startReceiver(t, px.url, ca, opts)
	streamID := r.streamID()

	// Emitters: each POSTs events until crashEvents were acknowledged in all.
	var (
		mu       sync.Mutex
		acked    = map[string]bool{}
		failures atomic.Int64
	)
	ctx, stopEmitting := context.WithCancel(context.Background())
	defer stopEmitting()
	var emitters sync.WaitGroup
	for i := range crashEmitters {
		emitters.Go(func() {
			client := tlsClient(ca)
			client.Timeout = 10 * time.Second
			for n := 0; ctx.Err() == nil; n++ {
				mu.Lock()
				done := len(acked) >= crashEvents
				mu.Unlock()
				if done {
					return
				}
				status, body, err := tryCall(ctx, client, http.MethodPost, px.url+"/admin/events", adminToken,
					sessionRevoked(fmt.Sprintf("user-%d-%d@example.com", i, n)))
				if err != nil || status != http.StatusOK {
					failures.Add(1)
					time.Sleep(10 * time.Millisecond)
					continue
				}
				var res transmitter.EmitResult
				if err := json.Unmarshal(body, &res); err != nil || len(res.SETs) != 1 || res.SETs[0].StreamID != streamID {
					t.Errorf("emit answered %s (%v)", body, err)
					return
				}
				mu.Lock()
				acked[res.SETs[0].JTI] = true
				mu.Unlock()
			}
		})
	}

	// The killer: SIGKILL after a random time up, restart on the same files and port.
	kills := 0
	for range crashKills {
		time.Sleep(crashMinUp + rand.N(crashMaxUp-crashMinUp))
		px.kill(t)
		kills++
		px.start(t)
	}
	emitters.Wait()
	stopEmitting()
	mu.Lock()
	ackedCount := len(acked)
	all := make([]string, 0, len(acked))
	for j := range acked {
		all = append(all, j)
	}
	mu.Unlock()
	emitDone := time.Since(began)

	// The transmitter that runs now delivers everything: the push engine reclaimed at
	// start the leases its killed runs held (same --node-id, "local" for a SQLite file),
	// and a SET a killed run had returned to a poll that never got the answer comes back
	// after --poll-lease (3s here). No store manipulation, no five-minute wait.
	missing := waitProgress(r.rec, all, 8*time.Second, 60*time.Second)
	if len(missing) > 0 {
		t.Errorf("%d acknowledged SETs never arrived, e.g. %s", len(missing), missing[0])
	}

	// Nothing is left at the transmitter: every SET acknowledged (poll) or answered 2xx
	// (push), none dead.
	tx := &txNode{issuer: px.url, client: tlsClient(ca)}
	tx.waitOutbox(t, streamID, "an empty outbox", func(pending, dead int) bool { return pending == 0 && dead == 0 })
	if code := px.stop(t); code != 0 {
		t.Errorf("final SIGTERM: exit %d", code)
	}

	if n := r.rec.rejected.Load(); n != 0 {
		t.Errorf("the receiver rejected %d SETs", n)
	}
	handled := r.rec.count()
	for _, tok := range r.rec.snapshot() {
		if tok.Issuer != px.url {
			t.Errorf("SET %s from issuer %s", tok.JTI, tok.Issuer)
		}
	}
	t.Logf("crash %s: %s", method, describe(
		"acknowledged emissions", ackedCount,
		"failed emit requests", failures.Load(),
		"SIGKILLs", kills,
		"SETs received (distinct, verified)", handled,
		"received without an acknowledged emission", handled-ackedCount+len(missing),
		"duplicates", r.rec.duplicates.Load(),
		"emit phase", emitDone.Round(time.Millisecond),
		"total", time.Since(began).Round(time.Millisecond)))
}

// waitProgress waits until every jti was handled, as long as progress is made: it
// returns the jtis still missing after quiet without a new SET, or after limit.
func waitProgress(rec *recorder, jtis []string, quiet, limit time.Duration) []string {
	deadline := time.Now().Add(limit)
	last, lastChange := -1, time.Now()
	for {
		var missing []string
		for _, j := range jtis {
			if !rec.has(j) {
				missing = append(missing, j)
			}
		}
		n := rec.count()
		if n != last {
			last, lastChange = n, time.Now()
		}
		if len(missing) == 0 || time.Since(lastChange) > quiet || time.Now().After(deadline) {
			return missing
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// txProcess runs "sigshare transmitter" on fixed files and a fixed port, serving TLS
// with a certificate of the CA and trusting the CA for push endpoints.
type txProcess struct {
	dir, db, url string
	args         []string
	client       *http.Client

	logs lockedBuffer // every run's stderr
	runs int
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTxProcess(t *testing.T, ca *server.DevCA) *txProcess {
	t.Helper()
	dir := t.TempDir()
	conf, err := ca.ServerConfig("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	cert := conf.Certificates[0]
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"tls-cert.pem": chain,
		"tls-key.pem":  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}),
		"ca.pem":       ca.CertPEM(),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	p := &txProcess{dir: dir, db: filepath.Join(dir, "tx.db"), url: "https://" + addr, client: tlsClient(ca)}
	p.client.Timeout = 2 * time.Second
	p.args = []string{"transmitter",
		"--addr", addr,
		"--db", p.db,
		"--key", filepath.Join(dir, "signing-key.pem"),
		"--client", clientName + "=" + clientToken,
		"--admin-token", adminToken,
		"--tls-cert", filepath.Join(dir, "tls-cert.pem"),
		"--tls-key", filepath.Join(dir, "tls-key.pem"),
		"--push-ca-file", filepath.Join(dir, "ca.pem"),
		"--allow-private-push",
		"--log-level", "info",
		"--shutdown-timeout", "10s",
		"--poll-lease", "3s",
	}
	t.Cleanup(func() {
		if p.cmd != nil {
			select {
			case <-p.done:
			default:
				_ = p.cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("transmitter logs:\n%s", p.logs.String())
		}
	})
	return p
}

// start starts a run and waits until /readyz answers 200.
func (p *txProcess) start(t *testing.T) {
	t.Helper()
	p.runs++
	fmt.Fprintf(&p.logs, "--- run %d\n", p.runs)
	cmd := exec.Command(binary, p.args...)
	cmd.Dir = p.dir
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = &p.logs, &p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() { p.err = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case <-done:
			t.Fatalf("run %d exited at start: %v", p.runs, p.err)
		default:
		}
		if status, _, err := tryCall(context.Background(), p.client, http.MethodGet, p.url+"/readyz", "", nil); err == nil && status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d not ready within 20s", p.runs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits for the exit.
func (p *txProcess) kill(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	fmt.Fprintf(&p.logs, "--- run %d killed\n", p.runs)
}

// stop sends SIGTERM, waits for the exit and returns the exit code.
func (p *txProcess) stop(t *testing.T) int {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("run %d did not stop within 20s of SIGTERM", p.runs)
	}
	if p.err == nil {
		return 0
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	return -1
}

// cleanEnv is the test's environment without SIGSHARE_ variables, which would set flags.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if len(kv) < 9 || kv[:9] != "SIGSHARE_" {
			env = append(env, kv)
		}
	}
	return env
}
