package e2e

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
	"github.com/sigshare/sigshare/transmitter"
)

// queuedFor returns the jti queued for streamID, if any.
func queuedFor(sets []transmitter.QueuedSET, streamID string) (string, bool) {
	for _, s := range sets {
		if s.StreamID == streamID {
			return s.JTI, true
		}
	}
	return "", false
}

// startMethodReceiver starts a Receiver of a push or a poll stream on tx.
func startMethodReceiver(t *testing.T, tx *txNode, ca *server.DevCA, method, name string) *rcv {
	t.Helper()
	o := rcvOptions{description: name}
	if method == ssf.DeliveryPush {
		o.site, o.path = startSite(t, ca), "/"+name
	}
	return startReceiver(t, tx.issuer, ca, o)
}

var methods = []struct{ name, uri string }{{"push", ssf.DeliveryPush}, {"poll", ssf.DeliveryPoll}}

// isStreamUpdated matches a stream-updated SET announcing status.
func isStreamUpdated(status ssf.Status) func(*set.Token) bool {
	return func(tok *set.Token) bool {
		u, ok := tok.Event.(*ssf.StreamUpdated)
		return ok && u.Status == status
	}
}

// SSF §8.1.2 (SSF-STATUS-3), §8.1.5, AMB-15, over push and poll with a Receiver:
//   - paused by the receiver: the stream-updated SET still arrives (sent before
//     stopping); events are held, not delivered, and arrive in order once enabled;
//   - disabled by the operator (POST /admin/streams/{id}/status): announced with its
//     reason; events emitted meanwhile are not queued for the stream, held ones are
//     purged; verification is refused (400); after enabling, events flow again.
func TestStreamPausedAndDisabled(t *testing.T) {
	ca := newCA(t)
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			tx := startTx(t, ca, "ES256", fastRetries)
			r := startMethodReceiver(t, tx, ca, m.uri, "status-"+m.name)
			ctx := context.Background()
			id, c := r.streamID(), r.r.Client()
			setStatus := func(s ssf.Status) {
				t.Helper()
				if st, err := c.UpdateStatus(ctx, ssf.StreamStatus{StreamID: id, Status: s, Reason: "e2e"}); err != nil || st.Status != s {
					t.Fatalf("UpdateStatus(%s): %+v %v", s, st, err)
				}
			}

			// Paused: announced, events held.
			setStatus(ssf.StatusPaused)
			r.rec.waitToken(t, 10*time.Second, "stream-updated paused", isStreamUpdated(ssf.StatusPaused))
			held, ok := queuedFor(tx.emit(t, sessionRevoked("held@example.com")), id)
			if !ok {
				t.Fatal("a paused stream got no SET: it must hold events")
			}
			r.rec.quiet(t, 500*time.Millisecond, "a held SET", isJTI(held))
			if info := tx.streamInfo(t, id); info.Status != ssf.StatusPaused || info.Outbox.Pending != 1 {
				t.Errorf("paused stream: status %s, outbox %+v", info.Status, info.Outbox)
			}
			setStatus(ssf.StatusEnabled)
			r.rec.waitJTIs(t, 10*time.Second, held)
			r.rec.waitToken(t, 10*time.Second, "stream-updated enabled", isStreamUpdated(ssf.StatusEnabled))
			var order []string
			for _, tok := range r.rec.snapshot() {
				switch {
				case tok.JTI == held:
					order = append(order, "held")
				case isStreamUpdated(ssf.StatusPaused)(tok):
					order = append(order, "paused")
				}
			}
			if strings.Join(order, ",") != "paused,held" {
				t.Errorf("order %v: the pause announcement must come before the held event", order)
			}

			// Held, then disabled: purged.
			setStatus(ssf.StatusPaused)
			purged, _ := queuedFor(tx.emit(t, sessionRevoked("purged@example.com")), id)
			var st ssf.StreamStatus
			if status, body := tx.admin(t, http.MethodPost, "/streams/"+id+"/status", map[string]string{"status": "disabled", "reason": "maintenance"}, &st); status != http.StatusOK || st.Status != ssf.StatusDisabled {
				t.Fatalf("operator disable: %d %s", status, body)
			}
			tok := r.rec.waitToken(t, 10*time.Second, "stream-updated disabled", isStreamUpdated(ssf.StatusDisabled))
			if u := tok.Event.(*ssf.StreamUpdated); u.Reason != "maintenance" {
				t.Errorf("stream-updated reason %q, want the operator's", u.Reason)
			}
			if _, ok := queuedFor(tx.emit(t, sessionRevoked("dropped@example.com")), id); ok {
				t.Error("an event was queued for a disabled stream")
			}
			if _, err := c.RequestVerification(ctx, id); !errors.Is(err, ssf.ErrBadRequest) {
				t.Errorf("verification of a disabled stream: %v, want 400", err)
			}
			tx.waitOutbox(t, id, "nothing held by the disabled stream", func(p, d int) bool { return p == 0 && d == 0 })

			setStatus(ssf.StatusEnabled)
			after, ok := queuedFor(tx.emit(t, sessionRevoked("after@example.com")), id)
			if !ok {
				t.Fatal("no SET queued after enabling")
			}
			r.rec.waitJTIs(t, 10*time.Second, after)
			if r.rec.has(purged) {
				t.Error("the SET held when the stream was disabled was delivered")
			}
			if n := r.rec.rejected.Load(); n != 0 {
				t.Errorf("%d SETs rejected", n)
			}
		})
	}
}

// SSF §8.1.3 (subjects) and §7.1 default_subjects: a stream receives events about the
// subjects it added (under NONE) or did not remove (under ALL), the most recent add or
// remove deciding; a simple subject it added matches a complex event subject naming it
// (SSF §8.1.3.1); event types it did not request are not delivered.
func TestSubjectFiltering(t *testing.T) {
	ca := newCA(t)
	alice := &subject.Email{Email: "alice@example.com"}
	complexAlice := map[string]any{"format": "complex",
		"user":   map[string]string{"format": "email", "email": "alice@example.com"},
		"tenant": map[string]string{"format": "opaque", "id": "t1"}}
	credentialChange := emitRequest{Subject: map[string]string{"format": "email", "email": "alice@example.com"},
		EventType: caep.EventTypeCredentialChange, Payload: map[string]any{"credential_type": "password", "change_type": "update"}}

	for _, defaults := range []ssf.DefaultSubjects{ssf.DefaultSubjectsNone, ssf.DefaultSubjectsAll} {
		t.Run(string(defaults), func(t *testing.T) {
			tx := startTx(t, ca, "ES256", func(o *server.TransmitterOptions) { o.Transmitter.DefaultSubjects = defaults })
			r := startMethodReceiver(t, tx, ca, ssf.DeliveryPush, "subjects")
			ctx := context.Background()
			id, c := r.streamID(), r.r.Client()
			expect := func(req emitRequest, want bool, what string) string {
				t.Helper()
				jti, ok := queuedFor(tx.emit(t, req), id)
				if ok != want {
					t.Fatalf("%s: queued %v, want %v", what, ok, want)
				}
				return jti
			}
			var delivered []string
			bob := sessionRevoked("bob@example.com")
			aliceEv := sessionRevoked("alice@example.com")
			switch defaults {
			case ssf.DefaultSubjectsNone:
				expect(aliceEv, false, "alice before she was added")
				if err := c.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: id, Subject: alice}); err != nil {
					t.Fatal(err)
				}
				delivered = append(delivered, expect(aliceEv, true, "alice after she was added"))
				expect(bob, false, "bob, never added")
				delivered = append(delivered, expect(emitRequest{Subject: complexAlice, EventType: caep.EventTypeSessionRevoked,
					Payload: map[string]any{"event_timestamp": time.Now().Unix()}}, true, "a complex subject whose user is alice"))
			case ssf.DefaultSubjectsAll:
				delivered = append(delivered, expect(bob, true, "bob under ALL"))
				if err := c.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: id, Subject: &subject.Email{Email: "bob@example.com"}}); err != nil {
					t.Fatal(err)
				}
				expect(bob, false, "bob after he was removed")
				delivered = append(delivered, expect(aliceEv, true, "alice, not removed"))
				if err := c.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: id, Subject: &subject.Email{Email: "bob@example.com"}}); err != nil {
					t.Fatal(err)
				}
				delivered = append(delivered, expect(bob, true, "bob added again (the most recent statement wins)"))
			}
			expect(credentialChange, false, "an event type the stream did not request")
			if err := c.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: id, Subject: alice}); err != nil {
				t.Fatal(err)
			}
			expect(aliceEv, false, "alice after she was removed")

			r.rec.waitJTIs(t, 10*time.Second, delivered...)
			tx.waitOutbox(t, id, "an empty outbox", func(p, d int) bool { return p == 0 && d == 0 })
			if n := r.rec.count(); n != len(delivered) {
				t.Errorf("%d SETs handled, want %d", n, len(delivered))
			}
		})
	}
}

// SSF §8.1.4 (SSF-VERIFY-2..6), AMB-22, over push and poll: a verification the
// receiver requests carries its state; one the operator requests
// (POST /admin/streams/{id}/verify) carries none; both name the stream as sub_id and
// are accepted. A state the receiver never issued is refused with invalid_state (push:
// 400, poll: setErrs), and the transmitter parks that SET as a dead letter.
func TestVerification(t *testing.T) {
	ca := newCA(t)
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			tx := startTx(t, ca, "RS256", nil)
			r := startMethodReceiver(t, tx, ca, m.uri, "verify-"+m.name)
			ctx := context.Background()
			id := r.streamID()
			isVerification := func(state string) func(*set.Token) bool {
				return func(tok *set.Token) bool {
					v, ok := tok.Event.(*ssf.Verification)
					return ok && v.State == state
				}
			}

			state, err := r.r.RequestVerification(ctx)
			if err != nil || state == "" {
				t.Fatalf("RequestVerification: %q %v", state, err)
			}
			tok := r.rec.waitToken(t, 10*time.Second, "the solicited verification", isVerification(state))
			if sub, ok := tok.Subject.(*subject.Opaque); !ok || sub.ID != id {
				t.Errorf("verification sub_id %v, want the stream %s", tok.Subject, id)
			}

			if status, body := tx.admin(t, http.MethodPost, "/streams/"+id+"/verify", nil, nil); status != http.StatusNoContent {
				t.Fatalf("operator verify: %d %s", status, body)
			}
			r.rec.waitToken(t, 10*time.Second, "the unsolicited verification", isVerification(""))

			// Another client of the same receiver credentials asks with a state the
			// Receiver never issued.
			other, err := receiver.NewClient(receiver.ClientConfig{Metadata: r.r.Discovery().Metadata, Credentials: receiver.BearerToken(clientToken), HTTPClient: tlsClient(ca)})
			if err != nil {
				t.Fatal(err)
			}
			if err := other.Verify(ctx, ssf.VerifyRequest{StreamID: id, State: "forged-state"}); err != nil {
				t.Fatal(err)
			}
			tx.waitOutbox(t, id, "the forged verification parked", func(p, d int) bool { return d == 1 && p == 0 })
			var dead []transmitter.DeadLetter
			tx.admin(t, http.MethodGet, "/streams/"+id+"/dead-letters", nil, &dead)
			if len(dead) != 1 || dead[0].EventType != ssf.EventTypeVerification || !strings.Contains(dead[0].DeadReason, "invalid_state") {
				t.Errorf("dead letters %+v, want the verification refused with invalid_state", dead)
			}
			if r.rec.has(dead[0].JTI) {
				t.Error("the forged verification was handled")
			}
			if n := r.rec.rejected.Load(); n != 1 {
				t.Errorf("%d SETs rejected, want 1", n)
			}
		})
	}
}
