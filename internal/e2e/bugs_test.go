package e2e

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/transmitter"
)

// Regression tests for defects the end-to-end tests found. Both are fixed; each comment
// says what the defect was and where the fix lives.

// A graceful restart (SIGTERM, then start on the same database) of a single transmitter
// node must not hold up the SETs its push engine had leased but not sent yet: they are
// deliverable at once by the next run. The engine used to leave them to their lease
// (push.DefaultLeaseDuration, five minutes): up to 2×BatchSize SETs per restart arrived
// five minutes late. Fixed: the engine gives them back with store.Release when it stops,
// and a node with a stable id reclaims its leases at start (store.ReleaseOwner).
func TestGracefulRestartDeliversHeldSETsPromptly(t *testing.T) {
	ca := newCA(t)
	db := filepath.Join(t.TempDir(), "tx.db")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	tx := startTxAt(t, ca, "ES256", db, addr, fastRetries)
	site := startSite(t, ca)
	slow := &gate{answer: func(int, *http.Request) (int, map[string]string, string) {
		time.Sleep(20 * time.Millisecond) // a receiver that takes 20ms per SET
		return 0, nil, ""
	}}
	r := startReceiver(t, tx.issuer, ca, rcvOptions{site: site, path: "/slow", wrap: slow.wrap, authorization: "Bearer fixed"})
	const events = 300
	var all []string
	for i := range events {
		all = append(all, jtiFor(t, tx.emit(t, sessionRevoked(fmt.Sprintf("u%d@example.com", i))), r.streamID()))
	}
	for r.rec.count() < 20 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.stop(); err != nil {
		t.Fatal(err)
	}
	before := r.rec.count()

	startTxAt(t, ca, "ES256", db, addr, fastRetries)
	missing := waitProgress(r.rec, all, 3*time.Second, 20*time.Second)
	if len(missing) > 0 {
		t.Errorf("%d of the %d SETs undelivered at the graceful stop are still undelivered after the restart "+
			"(the stopped engine's unexpired leases hold them for push.DefaultLeaseDuration)", len(missing), events-before)
	}
}

// The operator API's dead letters say how many delivery attempts failed
// (store.OutboxSET.Attempts: "counts failed delivery attempts"). A SET rejected at its
// first attempt used to show 0 and one given up after MaxAttempts MaxAttempts−1, beside
// a reason that said "gave up after 2 failed attempts". Fixed: store.DeadLetter by the
// lease owner counts the attempt that made it give up.
func TestDeadLetterAttemptsCountEveryFailedAttempt(t *testing.T) {
	ca := newCA(t)
	tx := startTx(t, ca, "ES256", func(o *server.TransmitterOptions) {
		fastRetries(o)
		o.Push.MaxAttempts = 2
	})
	site := startSite(t, ca)
	g := &gate{}
	r := startReceiver(t, tx.issuer, ca, rcvOptions{site: site, path: "/attempts", wrap: g.wrap})
	id := r.streamID()
	g.setAnswer(func(int, *http.Request) (int, map[string]string, string) {
		return http.StatusBadRequest, map[string]string{"Content-Type": "application/json"}, `{"err":"invalid_key","description":"unknown kid"}`
	})
	rejected := jtiFor(t, tx.emit(t, sessionRevoked("a@example.com")), id)
	tx.waitOutbox(t, id, "a dead letter", func(p, d int) bool { return d == 1 })
	g.setAnswer(func(int, *http.Request) (int, map[string]string, string) {
		return http.StatusInternalServerError, nil, ""
	})
	exhausted := jtiFor(t, tx.emit(t, sessionRevoked("b@example.com")), id)
	tx.waitOutbox(t, id, "two dead letters", func(p, d int) bool { return d == 2 })

	var dead []transmitter.DeadLetter
	tx.admin(t, http.MethodGet, "/streams/"+id+"/dead-letters", nil, &dead)
	want := map[string]int{rejected: 1, exhausted: 2}
	for _, d := range dead {
		if d.Attempts != want[d.JTI] {
			t.Errorf("dead letter %s: attempts %d, want %d (reason %q)", d.JTI, d.Attempts, want[d.JTI], d.DeadReason)
		}
	}
}
