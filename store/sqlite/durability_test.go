package sqlite_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/sqlite"
)

var (
	t0      = time.Date(2030, 5, 6, 7, 8, 9, 123456789, time.UTC)
	cmpTime = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })
)

func at(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// snapshot is everything readable through the store.Store API without changing it.
type snapshot struct {
	Streams     []*store.Stream
	Subjects    map[string][]*store.Subject
	DeadLetters map[string][]*store.OutboxSET
	Counts      map[string]store.OutboxCounts
	NextDue     map[string]time.Time
	InboxDead   []*store.InboxSET
	Inbox       map[string]*store.InboxSET // by jti, as InboxAdd reports the existing record
	PendingAcks map[string][]string
}

func takeSnapshot(t *testing.T, st store.Store, inboxJTIs, ackStreams []string) snapshot {
	t.Helper()
	ctx := t.Context()
	var sn snapshot
	var err error
	sn.Streams, err = st.ListStreams(ctx, store.StreamFilter{})
	must(t, "ListStreams", err)
	sn.Subjects, sn.DeadLetters, sn.Counts = map[string][]*store.Subject{}, map[string][]*store.OutboxSET{}, map[string]store.OutboxCounts{}
	for _, s := range sn.Streams {
		sn.Subjects[s.ID], err = st.ListSubjects(ctx, s.ID)
		must(t, "ListSubjects", err)
		sn.DeadLetters[s.ID], err = st.DeadLetters(ctx, s.ID, 0)
		must(t, "DeadLetters", err)
		sn.Counts[s.ID], err = st.CountOutbox(ctx, s.ID, at(10))
		must(t, "CountOutbox", err)
	}
	sn.NextDue = map[string]time.Time{}
	for _, m := range []string{"", ssf.DeliveryPush, ssf.DeliveryPoll} {
		due, ok, err := st.NextDue(ctx, m, at(0))
		must(t, "NextDue", err)
		if ok {
			sn.NextDue[m] = due
		}
	}
	sn.InboxDead, err = st.InboxDeadLetters(ctx, 0)
	must(t, "InboxDeadLetters", err)
	sn.Inbox = map[string]*store.InboxSET{}
	for _, j := range inboxJTIs {
		sn.Inbox[j], err = st.InboxAdd(ctx, &store.InboxSET{Issuer: "https://tx.example.com", JTI: j})
		must(t, "InboxAdd(duplicate)", err)
		if sn.Inbox[j] == nil {
			t.Fatalf("inbox record %q is missing", j)
		}
	}
	sn.PendingAcks = map[string][]string{}
	for _, s := range ackStreams {
		sn.PendingAcks[s], err = st.PendingAcks(ctx, s, 0)
		must(t, "PendingAcks", err)
	}
	return sn
}

func fullStream(id, method string, status ssf.Status) *store.Stream {
	return &store.Stream{
		ID: id, ClientID: "client-" + id, Status: status, StatusReason: "why " + id,
		CreatedAt: at(-100), UpdatedAt: at(-50), LastActivityAt: at(-10), LastVerificationAt: at(-20),
		Config: ssf.StreamConfig{
			StreamID: id, Issuer: "https://tx.example.com", Audience: ssf.Audience{"https://rx.example.com"},
			EventsSupported: []string{"a", "b"}, EventsRequested: []string{}, EventsDelivered: []string{"a"},
			Delivery: &ssf.Delivery{Method: method, EndpointURL: "https://rx.example.com/" + id, AuthorizationHeader: "Bearer s3cret",
				Extra: map[string]json.RawMessage{"x": json.RawMessage(` { "spaced" : true } `)}},
			MinVerificationInterval: new(30), InactivityTimeout: nil, Description: "d",
			Extra: map[string]json.RawMessage{"format": json.RawMessage(`"iss_sub"`)},
		},
	}
}

// TestRestartKeepsEverything writes every kind of record, closes the store, opens the
// same file and compares everything the API can read.
func TestRestartKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sigshare.db")
	ctx := t.Context()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	must(t, "Open", err)

	push, poll := fullStream("push", ssf.DeliveryPush, ssf.StatusEnabled), fullStream("poll", ssf.DeliveryPoll, ssf.StatusEnabled)
	must(t, "CreateStream", st.CreateStream(ctx, push))
	must(t, "CreateStream", st.CreateStream(ctx, poll))
	paused := fullStream("paused", ssf.DeliveryPush, ssf.StatusEnabled)
	must(t, "CreateStream", st.CreateStream(ctx, paused))
	paused.Status, paused.StatusReason = ssf.StatusPaused, "operator"
	must(t, "UpdateStream", st.UpdateStream(ctx, paused, store.StreamChange{Enqueue: []*store.OutboxSET{
		{StreamID: "paused", JTI: "announce", SET: "x.y.z", EventType: ssf.EventTypeStreamUpdated, Control: true, CreatedAt: at(0), NextAttemptAt: at(7)},
	}}))
	must(t, "TouchStream", st.TouchStream(ctx, "poll", at(5)))
	for i, sub := range []string{`{"format":"email","email":"a@example.com"}`, `{"format":"opaque","id":"u"}`} {
		must(t, "PutSubject", st.PutSubject(ctx, &store.Subject{StreamID: "push", Subject: json.RawMessage(sub), Included: i == 0, Verified: true, UpdatedAt: at(i)}))
	}
	var sets []*store.OutboxSET
	for _, s := range []string{"push", "poll", "paused"} {
		for i := range 4 {
			sets = append(sets, &store.OutboxSET{StreamID: s, JTI: fmt.Sprintf("j%d", i), SET: "h.p" + s + ".s", EventType: "e", CreatedAt: at(i)})
		}
	}
	must(t, "Enqueue", st.Enqueue(ctx, sets))
	leased, err := st.Lease(ctx, store.LeaseRequest{Owner: "node-1", Method: ssf.DeliveryPush, Limit: 2, Duration: time.Hour, Now: at(1)})
	must(t, "Lease", err)
	if len(leased) != 2 {
		t.Fatalf("leased %d", len(leased))
	}
	must(t, "Retry", st.Retry(ctx, "push", leased[0].JTI, "node-1", at(60), "HTTP 503"))
	must(t, "DeadLetter", st.DeadLetter(ctx, "poll", "j3", "", "too many attempts", at(2)))
	_, err = st.Ack(ctx, "poll", []string{"j0"})
	must(t, "Ack", err)

	inbox := []string{"pending", "leased", "processed", "dead", "retried"}
	for i, j := range inbox {
		_, err := st.InboxAdd(ctx, &store.InboxSET{Issuer: "https://tx.example.com", JTI: j, StreamID: "rs", AckStream: "poll-rs", SET: "in." + j, ReceivedAt: at(i)})
		must(t, "InboxAdd", err)
	}
	_, err = st.InboxLease(ctx, "rx-1", 5, time.Hour, at(10))
	must(t, "InboxLease", err)
	must(t, "InboxDone", st.InboxDone(ctx, "https://tx.example.com", "processed", "rx-1", at(11)))
	must(t, "InboxDead", st.InboxDead(ctx, "https://tx.example.com", "dead", "rx-1", "bad payload", at(12)))
	must(t, "InboxRetry", st.InboxRetry(ctx, "https://tx.example.com", "retried", "rx-1", at(100), "db down"))
	must(t, "InboxRetry", st.InboxRetry(ctx, "https://tx.example.com", "pending", "rx-1", at(0), "x"))
	must(t, "AddPendingAcks", st.AddPendingAcks(ctx, "other-poll", []string{"z", "y"}))

	ackStreams := []string{"poll-rs", "other-poll"}
	before := takeSnapshot(t, st, inbox, ackStreams)
	must(t, "Close", st.Close())

	st, err = sqlite.Open(ctx, path, sqlite.Options{})
	must(t, "reopen", err)
	defer st.Close()
	after := takeSnapshot(t, st, inbox, ackStreams)
	if d := cmp.Diff(before, after, cmpTime); d != "" {
		t.Fatalf("state changed across Close and Open (-before +after):\n%s", d)
	}
	// Leases survive too: node-1's lease on push/j1 still holds at 30 minutes. The paused
	// stream delivers only its Control SET.
	got, err := st.Lease(ctx, store.LeaseRequest{Owner: "node-2", Method: ssf.DeliveryPush, Limit: 10, Duration: time.Hour, Now: at(1800)})
	must(t, "Lease after reopen", err)
	if want := "paused/announce push/j0 push/j2 push/j3"; keysOf(got) != want {
		t.Fatalf("Lease at 30 min after reopen: %s; want %s (push/j0 retried, due at 60s)", keysOf(got), want)
	}
	if got[1].Attempts != 1 || got[1].LastError != "HTTP 503" {
		t.Fatalf("retried SET after reopen: %+v", got[1])
	}
	// Seq keeps increasing after a restart.
	next := &store.OutboxSET{StreamID: "push", JTI: "after-restart"}
	must(t, "Enqueue", st.Enqueue(ctx, []*store.OutboxSET{next}))
	if next.Seq <= sets[len(sets)-1].Seq {
		t.Fatalf("Seq after restart %d, want > %d", next.Seq, sets[len(sets)-1].Seq)
	}
}

func keysOf(sets []*store.OutboxSET) string {
	var k []string
	for _, s := range sets {
		k = append(k, s.StreamID+"/"+s.JTI)
	}
	return strings.Join(k, " ")
}

const crashEnv = "SIGSHARE_SQLITE_CRASH_CHILD"

// TestCrashChild is the child of TestCrashSafety: it writes until it is killed, and
// prints a line after each write returned.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("run by TestCrashSafety")
	}
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(2)
	}
	s := fullStream("s1", ssf.DeliveryPush, ssf.StatusEnabled)
	if err := st.CreateStream(ctx, s); err != nil {
		fmt.Println("create:", err)
		os.Exit(2)
	}
	fmt.Println("stream")
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				jti := fmt.Sprintf("g%d-%d", g, i)
				if err := st.Enqueue(ctx, []*store.OutboxSET{{StreamID: "s1", JTI: jti, SET: "a.b.c"}}); err != nil {
					fmt.Println("enqueue:", err)
					os.Exit(2)
				}
				if _, err := st.InboxAdd(ctx, &store.InboxSET{Issuer: "iss", JTI: jti, ReceivedAt: t0}); err != nil {
					fmt.Println("inbox:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Println("ok", jti) // after both writes returned
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

// TestCrashSafety runs a child process that writes from four goroutines, kills it with
// SIGKILL while it writes, reopens the database and checks that every write the child
// saw return is there and the database is intact.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.StdoutPipe()
	must(t, "StdoutPipe", err)
	must(t, "start child", cmd.Start())
	sc := bufio.NewScanner(out)
	var acked []string
	streamOK := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "stream":
			streamOK = true
		case strings.HasPrefix(line, "ok "):
			acked = append(acked, strings.TrimPrefix(line, "ok "))
		default:
			t.Logf("child: %s", line)
		}
		if len(acked) == 400 {
			must(t, "kill child", cmd.Process.Signal(syscall.SIGKILL))
			break
		}
	}
	cmd.Wait()
	if !streamOK || len(acked) < 400 {
		t.Fatalf("child acknowledged %d writes (stream created: %v)", len(acked), streamOK)
	}

	db, err := sql.Open("sqlite", path)
	must(t, "open raw", err)
	var check string
	must(t, "integrity_check", db.QueryRow("PRAGMA integrity_check").Scan(&check))
	db.Close()
	if check != "ok" {
		t.Fatalf("integrity_check after SIGKILL: %s", check)
	}

	ctx := t.Context()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	must(t, "reopen after SIGKILL", err)
	defer st.Close()
	if _, err := st.GetStream(ctx, "s1"); err != nil {
		t.Fatalf("stream created before the kill: %v", err)
	}
	leased, err := st.Lease(ctx, store.LeaseRequest{Owner: "check", StreamID: "s1", Limit: 1 << 20, Duration: time.Hour, Now: t0})
	must(t, "Lease", err)
	inOutbox := map[string]bool{}
	for _, s := range leased {
		inOutbox[s.JTI] = true
	}
	for _, j := range acked {
		if !inOutbox[j] {
			t.Errorf("SET %q was acknowledged by Enqueue before the kill but is not in the outbox", j)
		}
		existing, err := st.InboxAdd(ctx, &store.InboxSET{Issuer: "iss", JTI: j})
		must(t, "InboxAdd", err)
		if existing == nil {
			t.Errorf("inbox record %q was acknowledged before the kill but is missing", j)
		}
	}
	t.Logf("%d writes acknowledged before SIGKILL, %d SETs in the outbox after it", len(acked), len(leased))
}
