package receiver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/risc"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
	"github.com/sigshare/sigshare/transmitter"
	pushengine "github.com/sigshare/sigshare/transmitter/push"
)

const receiverAud = "https://receiver-a.example.com"

// dispatched is one SET a typed handler received.
type dispatched struct {
	goType string
	tok    *set.Token
	ev     event.Event
}

// e2e is the project's transmitter (management API, poll endpoint, push engine) and a
// Receiver built with this package, talking over HTTPS on loopback.
type e2e struct {
	rt      *realTransmitter
	pushSrv *httptest.Server
	r       *Receiver
	inbox   store.InboxStore
	got     chan dispatched
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// record registers a typed handler for E that reports every SET it gets.
func record[E event.Event](mux *Mux, got chan<- dispatched) {
	On(mux, func(ctx context.Context, tok *set.Token, ev E) error {
		got <- dispatched{goType: reflect.TypeFor[E]().String(), tok: tok, ev: ev}
		return nil
	})
}

// typedEvents is one valid event of every CAEP 1.0 and RISC 1.0 type a transmitter may
// emit (RISC sessions-revoked is deprecated: transmitters do not emit it).
func typedEvents() []event.Event {
	return []event.Event{
		&caep.SessionRevoked{Common: caep.Common{InitiatingEntity: caep.InitiatingEntityPolicy, ReasonAdmin: event.Localized{"en": "Landspeed Policy Violation"}}},
		&caep.TokenClaimsChange{Claims: map[string]any{"role": "ro-admin"}},
		&caep.CredentialChange{CredentialType: event.CredentialTypeFIDO2Roaming, ChangeType: caep.ChangeTypeCreate},
		&caep.AssuranceLevelChange{Namespace: caep.NamespaceNISTAAL, CurrentLevel: "nist-aal2", PreviousLevel: "nist-aal1", ChangeDirection: caep.ChangeDirectionIncrease},
		&caep.DeviceComplianceChange{PreviousStatus: caep.StatusCompliant, CurrentStatus: caep.StatusNotCompliant},
		&caep.SessionEstablished{},
		&caep.SessionPresented{},
		&caep.RiskLevelChange{Principal: caep.PrincipalUser, CurrentLevel: caep.RiskLevelHigh, PreviousLevel: caep.RiskLevelLow},
		&risc.AccountCredentialChangeRequired{},
		&risc.AccountPurged{},
		&risc.AccountDisabled{Reason: risc.ReasonHijacking},
		&risc.AccountEnabled{},
		&risc.IdentifierChanged{},
		&risc.IdentifierRecycled{},
		&risc.CredentialCompromise{CredentialType: event.CredentialTypePassword},
		&risc.OptIn{},
		&risc.OptOutInitiated{},
		&risc.OptOutCancelled{},
		&risc.OptOutEffective{},
		&risc.RecoveryActivated{},
		&risc.RecoveryInformationChanged{},
	}
}

func recordAll(mux *Mux, got chan<- dispatched) {
	record[*caep.SessionRevoked](mux, got)
	record[*caep.TokenClaimsChange](mux, got)
	record[*caep.CredentialChange](mux, got)
	record[*caep.AssuranceLevelChange](mux, got)
	record[*caep.DeviceComplianceChange](mux, got)
	record[*caep.SessionEstablished](mux, got)
	record[*caep.SessionPresented](mux, got)
	record[*caep.RiskLevelChange](mux, got)
	record[*risc.AccountCredentialChangeRequired](mux, got)
	record[*risc.AccountPurged](mux, got)
	record[*risc.AccountDisabled](mux, got)
	record[*risc.AccountEnabled](mux, got)
	record[*risc.IdentifierChanged](mux, got)
	record[*risc.IdentifierRecycled](mux, got)
	record[*risc.CredentialCompromise](mux, got)
	record[*risc.OptIn](mux, got)
	record[*risc.OptOutInitiated](mux, got)
	record[*risc.OptOutCancelled](mux, got)
	record[*risc.OptOutEffective](mux, got)
	record[*risc.RecoveryActivated](mux, got)
	record[*risc.RecoveryInformationChanged](mux, got)
	record[*risc.SessionsRevoked](mux, got)
	record[*ssf.Verification](mux, got)
	record[*ssf.StreamUpdated](mux, got)
	mux.Fallback(func(ctx context.Context, tok *set.Token) error {
		got <- dispatched{goType: "fallback", tok: tok, ev: tok.Event}
		return nil
	})
}

// startE2E starts the transmitter (with its push engine and poll endpoint) and a Receiver
// of one stream delivered by method.
func startE2E(t *testing.T, method string, inbox store.InboxStore, policy transmitter.ClientPolicy) *e2e {
	t.Helper()
	e := &e2e{got: make(chan dispatched, 256)}
	e.rt = newRealTransmitter(t, "", func(c *transmitter.Config) {
		c.DefaultSubjects = ssf.DefaultSubjectsNone
		policy.Audience = []string{receiverAud}
		a, err := transmitter.NewStaticTokens(map[string]transmitter.Client{tokenA: {ID: "receiver-a", ClientPolicy: policy}})
		if err != nil {
			t.Fatal(err)
		}
		c.Authenticator = a
		c.Poll = transmitter.PollOptions{LongPollTimeout: 2 * time.Second, LeaseDuration: 2 * time.Second}
	})
	var pushHandler http.Handler = http.NotFoundHandler()
	var phMu sync.Mutex
	e.pushSrv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		phMu.Lock()
		h := pushHandler
		phMu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(e.pushSrv.Close)
	engine, err := pushengine.New(pushengine.Config{
		Store: e.rt.store, HTTPClient: e.pushSrv.Client(),
		Backoff: pushengine.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}

	requested := []string{ssf.EventTypeVerification, ssf.EventTypeStreamUpdated}
	for _, ev := range typedEvents() {
		requested = append(requested, ev.Type())
	}
	stream := ssf.StreamConfig{EventsRequested: requested, Description: "end-to-end " + method}
	if method == ssf.DeliveryPush {
		stream.Delivery = &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: e.pushSrv.URL + "/ssf/push"}
	}
	if inbox == nil {
		m := memory.New()
		t.Cleanup(func() { _ = m.Close() })
		inbox = m
	}
	e.inbox = inbox
	mux := NewMux()
	recordAll(mux, e.got)
	e.r, err = New(Config{
		Issuer: e.rt.issuer, Credentials: BearerToken(tokenA), HTTPClient: e.rt.srv.Client(),
		Stream: stream, Audience: []string{receiverAud}, Inbox: inbox, Mux: mux,
		Worker: WorkerConfig{IdleInterval: 20 * time.Millisecond},
		Poller: PollerConfig{PollInterval: 10 * time.Millisecond, MaxPollInterval: 50 * time.Millisecond, ErrorBackoff: 10 * time.Millisecond, MaxErrorBackoff: 100 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	phMu.Lock()
	pushHandler = e.r.Handler()
	phMu.Unlock()

	ctx, cancel := context.WithCancel(context.Background())
	e.cancel = cancel
	e.wg.Go(func() { _ = engine.Run(ctx) })
	if err := e.r.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	e.wg.Go(func() {
		if err := e.r.Run(ctx); err != nil {
			t.Error(err)
		}
	})
	t.Cleanup(e.stop)
	return e
}

func (e *e2e) stop() {
	e.cancel()
	e.wg.Wait()
}

// next waits for the next dispatched SET.
func (e *e2e) next(t *testing.T, what string) dispatched {
	t.Helper()
	select {
	case d := <-e.got:
		return d
	case <-time.After(10 * time.Second):
		t.Fatalf("waiting for %s: nothing dispatched", what)
	}
	return dispatched{}
}

// waitDelivered waits until the transmitter holds nothing for the stream: every SET was
// pushed and answered 202, or polled and acknowledged, and none is dead.
func (e *e2e) waitDelivered(t *testing.T, streamID string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := e.rt.store.CountOutbox(context.Background(), streamID, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if c.Dead != 0 {
			dead, _ := e.rt.store.DeadLetters(context.Background(), streamID, 0)
			for _, d := range dead {
				t.Logf("dead at the transmitter: %s %s", d.EventType, d.LastError)
			}
			t.Fatalf("%d SETs dead at the transmitter", c.Dead)
		}
		if c.Pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d SETs still pending at the transmitter", c.Pending)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The whole RM1–RM7 flow of the conformance checklist (section RM), between the real
// transmitter and a Receiver built with this package, for push and for poll.
func TestE2E_ConformanceFlow(t *testing.T) {
	for _, method := range []string{ssf.DeliveryPush, ssf.DeliveryPoll} {
		t.Run(method, func(t *testing.T) {
			ctx := context.Background()
			e := startE2E(t, method, nil, transmitter.ClientPolicy{VerifyOnCreate: true})
			s := e.r.Stream()
			if s.EffectiveDeliveryMethod() != method || s.Issuer != e.rt.issuer || !s.Audience.Contains(receiverAud) {
				t.Fatalf("stream %+v", s)
			}
			c := e.r.Client()

			// RM5: right after create the transmitter verifies on its own, without
			// state; the Receiver accepts it (202 / ack).
			d := e.next(t, "the unsolicited verification")
			if v, ok := d.ev.(*ssf.Verification); !ok || v.State != "" {
				t.Fatalf("first SET %s %+v, want an unsolicited verification", d.goType, d.ev)
			}
			e.waitDelivered(t, s.StreamID)

			// RM2: read, update (PATCH), replace (PUT).
			got, err := c.GetStream(ctx, s.StreamID)
			if err != nil || got.StreamID != s.StreamID {
				t.Fatalf("GetStream: %v", err)
			}
			desc := "updated"
			upd, err := c.UpdateStream(ctx, ssf.StreamUpdate{StreamID: s.StreamID, Description: &desc})
			if err != nil || upd.Description != desc {
				t.Fatalf("UpdateStream: %+v %v", upd, err)
			}
			rep := *upd
			rep.Description = "replaced"
			replaced, err := c.ReplaceStream(ctx, rep)
			if err != nil || replaced.Description != "replaced" || replaced.EffectiveDeliveryMethod() != method {
				t.Fatalf("ReplaceStream: %+v %v", replaced, err)
			}

			// RM3: status update; every change is announced with stream-updated (AMB-15).
			for _, status := range []ssf.Status{ssf.StatusPaused, ssf.StatusEnabled} {
				st, err := c.UpdateStatus(ctx, ssf.StreamStatus{StreamID: s.StreamID, Status: status, Reason: "e2e"})
				if err != nil || st.Status != status {
					t.Fatalf("UpdateStatus(%s): %+v %v", status, st, err)
				}
				if st, err := c.GetStatus(ctx, s.StreamID); err != nil || st.Status != status {
					t.Fatalf("GetStatus: %+v %v", st, err)
				}
				d := e.next(t, "stream-updated "+string(status))
				if u, ok := d.ev.(*ssf.StreamUpdated); !ok || u.Status != status {
					t.Fatalf("got %s %+v, want stream-updated %s", d.goType, d.ev, status)
				}
			}

			// RM4: a solicited verification carries the Receiver's state.
			state, err := e.r.RequestVerification(ctx)
			if err != nil {
				t.Fatal(err)
			}
			d = e.next(t, "the solicited verification")
			if v, ok := d.ev.(*ssf.Verification); !ok || v.State != state {
				t.Fatalf("got %s %+v, want the verification with state %q", d.goType, d.ev, state)
			}

			// RM6, RM7: one SET of every CAEP and RISC type about a subject the Receiver
			// added; each delivered, verified, dispatched to its typed handler once.
			user := &subject.Email{Email: "user@example.com"}
			if err := c.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: s.StreamID, Subject: user}); err != nil {
				t.Fatal(err)
			}
			want := map[string]bool{}
			for _, ev := range typedEvents() {
				res, err := e.rt.tr.Emit(ctx, user, ev, transmitter.EmitOptions{})
				if err != nil {
					t.Fatalf("Emit %s: %v", ev.Type(), err)
				}
				_ = res
				want[reflect.TypeOf(ev).String()] = true
			}
			for range len(want) {
				d := e.next(t, "the emitted events")
				if !want[d.goType] {
					t.Fatalf("unexpected or repeated %s", d.goType)
				}
				delete(want, d.goType)
				if reflect.TypeOf(d.ev).String() != d.goType {
					t.Errorf("handler for %s got %T", d.goType, d.ev)
				}
				if sub, ok := d.tok.Subject.(*subject.Email); !ok || sub.Email != user.Email {
					t.Errorf("%s: subject %v", d.goType, d.tok.Subject)
				}
				if d.tok.Issuer != e.rt.issuer || d.tok.Leniency != 0 {
					t.Errorf("%s: iss %q, leniency %s", d.goType, d.tok.Issuer, d.tok.Leniency)
				}
			}
			// RM6 also lists RISC sessions-revoked, deprecated (RISC-15): transmitters may
			// not emit it, receivers still accept it. Queue one at the transmitter.
			key := transmitterKeys().Active()
			claims := `{"iss":"` + e.rt.issuer + `","jti":"legacy-sessions-revoked","iat":` + strconv.FormatInt(time.Now().Unix(), 10) +
				`,"aud":"` + receiverAud + `","sub_id":{"format":"email","email":"user@example.com"},"events":{"` + risc.EventTypeSessionsRevoked + `":{}}}`
			raw := signRaw(t, []byte(`{"alg":"RS256","typ":"secevent+jwt","kid":"`+key.KeyID()+`"}`), []byte(claims), key)
			if err := e.rt.store.Enqueue(ctx, []*store.OutboxSET{{StreamID: s.StreamID, JTI: "legacy-sessions-revoked", SET: raw, EventType: risc.EventTypeSessionsRevoked, CreatedAt: time.Now()}}); err != nil {
				t.Fatal(err)
			}
			if d := e.next(t, "sessions-revoked"); d.goType != "*risc.SessionsRevoked" {
				t.Errorf("got %s, want *risc.SessionsRevoked", d.goType)
			}
			e.waitDelivered(t, s.StreamID)
			select {
			case d := <-e.got:
				t.Errorf("extra dispatch of %s", d.goType)
			case <-time.After(100 * time.Millisecond):
			}
			if err := c.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: s.StreamID, Subject: user}); err != nil {
				t.Fatal(err)
			}

			// RM1: delete.
			if err := c.DeleteStream(ctx, s.StreamID); err != nil {
				t.Fatal(err)
			}
			if _, err := c.GetStream(ctx, s.StreamID); !errors.Is(err, ssf.ErrNotFound) {
				t.Errorf("GetStream after delete: %v", err)
			}
		})
	}
}
