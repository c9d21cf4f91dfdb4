package transmitter

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/risc"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/subject"
)

var (
	alice   = &subject.Email{Email: "alice@example.com"}
	bob     = &subject.Email{Email: "bob@example.com"}
	tenant1 = &subject.Opaque{ID: "tenant-1"}
	tenant2 = &subject.Opaque{ID: "tenant-2"}
)

func sessionRevoked() event.Event {
	return &caep.SessionRevoked{Common: caep.Common{ReasonAdmin: event.Localized{"en": "test"}}}
}

// verifySET verifies a queued SET as a Receiver would and returns its token.
func verifySET(t *testing.T, e *env, s *store.OutboxSET, aud ...string) *set.Token {
	t.Helper()
	v, err := set.NewVerifier(e.tr.cfg.Keys, set.Config{Issuer: e.tr.Issuer(), Audiences: aud, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Verify(context.Background(), s.SET)
	if err != nil {
		t.Fatalf("the queued SET does not verify: %v", err)
	}
	if tok.JTI != s.JTI || tok.Event.Type() != s.EventType {
		t.Errorf("outbox record (jti %s, %s) does not describe its SET (jti %s, %s)", s.JTI, s.EventType, tok.JTI, tok.Event.Type())
	}
	return tok
}

func mustCreate(t *testing.T, m asClient, req ssf.StreamConfig) *ssf.StreamConfig {
	t.Helper()
	cfg, err := m.CreateStream(context.Background(), req)
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	return cfg
}

// queued returns the stream ids an emit result names.
func queued(r *EmitResult) []string {
	var ids []string
	for _, s := range r.SETs {
		ids = append(ids, s.StreamID)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string { slices.Sort(ids); return ids }

// SSF §8.1.3.1, §7.1 default_subjects: which streams receive an event, under ALL and
// NONE, with simple and complex subjects added and removed.
func TestEmitSubjectFiltering(t *testing.T) {
	ctx := context.Background()
	complexAliceT1 := &subject.Complex{User: alice, Tenant: tenant1}
	complexBobT1 := &subject.Complex{User: bob, Tenant: tenant1}
	complexBobT2 := &subject.Complex{User: bob, Tenant: tenant2}
	tests := []struct {
		name     string
		defaults ssf.DefaultSubjects
		// steps: +subject adds, -subject removes, in order
		steps []struct {
			add bool
			id  subject.Identifier
		}
		in, out []subject.Identifier
	}{
		{
			name: "ALL, nothing added", defaults: ssf.DefaultSubjectsAll,
			in: []subject.Identifier{alice, bob, complexBobT2},
		},
		{
			name: "NONE, nothing added", defaults: ssf.DefaultSubjectsNone,
			out: []subject.Identifier{alice, bob, complexAliceT1},
		},
		{
			name: "ALL, alice removed", defaults: ssf.DefaultSubjectsAll,
			steps: []struct {
				add bool
				id  subject.Identifier
			}{{false, alice}},
			in:  []subject.Identifier{bob, complexBobT1, &subject.Email{Email: "Alice@example.com"}},
			out: []subject.Identifier{alice, complexAliceT1, &subject.Email{Email: "alice@EXAMPLE.com"}},
		},
		{
			name: "NONE, alice added", defaults: ssf.DefaultSubjectsNone,
			steps: []struct {
				add bool
				id  subject.Identifier
			}{{true, alice}},
			in:  []subject.Identifier{alice, complexAliceT1},
			out: []subject.Identifier{bob, complexBobT1},
		},
		{
			name: "NONE, tenant-1 added (complex)", defaults: ssf.DefaultSubjectsNone,
			steps: []struct {
				add bool
				id  subject.Identifier
			}{{true, &subject.Complex{Tenant: tenant1}}},
			in:  []subject.Identifier{complexAliceT1, complexBobT1},
			out: []subject.Identifier{complexBobT2, alice, &subject.Complex{User: alice}},
		},
		{
			name: "ALL, tenant-1 removed, then bob added: the latest statement wins", defaults: ssf.DefaultSubjectsAll,
			steps: []struct {
				add bool
				id  subject.Identifier
			}{{false, &subject.Complex{Tenant: tenant1}}, {true, bob}},
			in:  []subject.Identifier{complexBobT1, complexBobT2, bob, alice},
			out: []subject.Identifier{complexAliceT1},
		},
		{
			name: "ALL, bob added, then tenant-1 removed: the latest statement wins", defaults: ssf.DefaultSubjectsAll,
			steps: []struct {
				add bool
				id  subject.Identifier
			}{{true, bob}, {false, &subject.Complex{Tenant: tenant1}}},
			in:  []subject.Identifier{complexBobT2, bob},
			out: []subject.Identifier{complexBobT1, complexAliceT1},
		},
		{
			name: "NONE, alice added then removed", defaults: ssf.DefaultSubjectsNone,
			steps: []struct {
				add bool
				id  subject.Identifier
			}{{true, alice}, {false, alice}},
			out: []subject.Identifier{alice, complexAliceT1},
		},
		{
			name: "NONE, aliases added", defaults: ssf.DefaultSubjectsNone,
			steps: []struct {
				add bool
				id  subject.Identifier
			}{{true, &subject.Aliases{Identifiers: []subject.Identifier{alice, &subject.PhoneNumber{PhoneNumber: "+12065550100"}}}}},
			in:  []subject.Identifier{alice, &subject.PhoneNumber{PhoneNumber: "+1 206 555 0100"}, complexAliceT1},
			out: []subject.Identifier{bob},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "https://tr.example.com", func(c *Config) { c.DefaultSubjects = tc.defaults })
			m := asClient{t: e.tr, c: clientA}
			filtered := mustCreate(t, m, ssf.StreamConfig{})
			for _, st := range tc.steps {
				e.clock.Advance(time.Second) // distinct UpdatedAt: a defined order
				var err error
				if st.add {
					err = m.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: filtered.StreamID, Subject: st.id})
				} else {
					err = m.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: filtered.StreamID, Subject: st.id})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			for _, id := range tc.in {
				res, err := e.tr.Emit(ctx, id, sessionRevoked(), EmitOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(queued(res), []string{filtered.StreamID}) {
					t.Errorf("event about %s: queued for %v, want the stream", mustJSON(t, id), queued(res))
				}
			}
			for _, id := range tc.out {
				res, err := e.tr.Emit(ctx, id, sessionRevoked(), EmitOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.SETs) != 0 {
					t.Errorf("event about %s: queued for %v, want none", mustJSON(t, id), queued(res))
				}
			}
		})
	}
}

func mustJSON(t *testing.T, id subject.Identifier) string {
	b, err := id.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// SSF §8.1.2.1: a paused stream holds events, a disabled one gets nothing; events not in
// events_delivered are not queued; every matching stream gets its own SET with its aud.
func TestEmitStatusAndEventTypes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "https://tr.example.com", nil)
	a := asClient{t: e.tr, c: clientA}
	b := asClient{t: e.tr, c: clientB}
	enabled := mustCreate(t, a, ssf.StreamConfig{})
	paused := mustCreate(t, a, ssf.StreamConfig{})
	disabled := mustCreate(t, b, ssf.StreamConfig{})
	otherTypes := mustCreate(t, b, ssf.StreamConfig{EventsRequested: []string{caep.EventTypeCredentialChange}})
	for id, st := range map[string]ssf.Status{paused.StreamID: ssf.StatusPaused, disabled.StreamID: ssf.StatusDisabled} {
		if _, err := e.tr.SetStatus(ctx, id, st, "test"); err != nil {
			t.Fatal(err)
		}
	}
	now := e.clock.Now()
	for _, id := range []string{enabled.StreamID, paused.StreamID, disabled.StreamID, otherTypes.StreamID} {
		leaseAll(t, e.store, id, now) // take the stream-updated SETs out of the way
	}

	res, err := e.tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{Txn: "txn-1"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := queued(res), sorted(enabled.StreamID, paused.StreamID); !slices.Equal(got, want) {
		t.Fatalf("queued for %v, want the enabled and the paused stream %v", got, want)
	}
	if res.Txn != "txn-1" || res.EventType != caep.EventTypeSessionRevoked {
		t.Errorf("result = %+v", res)
	}
	got := leaseAll(t, e.store, enabled.StreamID, now)
	if len(got) != 1 {
		t.Fatalf("enabled stream: %d deliverable SETs, want 1", len(got))
	}
	tok := verifySET(t, e, got[0], "receiver-a")
	if tok.TxnID != "txn-1" || !subject.Equal(tok.Subject, alice) || tok.Event.Type() != caep.EventTypeSessionRevoked {
		t.Errorf("SET = txn %q, sub_id %v, event %s", tok.TxnID, tok.Subject, tok.Event.Type())
	}
	if len(leaseAll(t, e.store, paused.StreamID, now)) != 0 {
		t.Error("a paused stream delivers an event (SSF §8.1.2.1: it must hold it)")
	}
	counts, err := e.store.CountOutbox(ctx, paused.StreamID, now)
	if err != nil || counts.Pending != 2 { // the control SET (leased) and the held event
		t.Errorf("paused stream outbox = %+v, %v; want the event held", counts, err)
	}
	if _, err := a.UpdateStatus(WithClient(ctx, clientA), ssf.StreamStatus{StreamID: paused.StreamID, Status: ssf.StatusEnabled}); err != nil {
		t.Fatal(err)
	}
	released := leaseAll(t, e.store, paused.StreamID, now)
	if len(released) != 2 || released[0].EventType != caep.EventTypeSessionRevoked || released[1].EventType != ssf.EventTypeStreamUpdated {
		t.Errorf("after enabling: %d SETs, want the held event then the stream-updated SET", len(released))
	}

	// A fresh txn per event when none is given (SET-8).
	r1, _ := e.tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{})
	r2, _ := e.tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{})
	if r1.Txn == "" || r1.Txn == r2.Txn {
		t.Errorf("txn %q and %q: want fresh values", r1.Txn, r2.Txn)
	}

	// credential-change reaches only the stream that requested it, with B's audience.
	cc := &caep.CredentialChange{CredentialType: "password", ChangeType: caep.ChangeTypeUpdate}
	res, err = e.tr.Emit(ctx, bob, cc, EmitOptions{TimeOfEvent: now.Add(-time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(queued(res), otherTypes.StreamID) || slices.Contains(queued(res), disabled.StreamID) {
		t.Errorf("credential-change queued for %v", queued(res))
	}
	got = leaseAll(t, e.store, otherTypes.StreamID, now)
	if len(got) != 1 {
		t.Fatalf("%d SETs", len(got))
	}
	tok = verifySET(t, e, got[0], "urn:b")
	if !tok.Audience.Equal(ssf.Audience{"https://b.example/aud", "urn:b"}) || !tok.TimeOfEvent.Equal(now.Add(-time.Minute)) {
		t.Errorf("aud %v, toe %v", tok.Audience, tok.TimeOfEvent)
	}
}

// Emit refuses what must not be sent, and writes nothing then.
func TestEmitRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "https://tr.example.com", func(c *Config) {
		c.EventsSupported = []string{caep.EventTypeSessionRevoked, ssf.EventTypeVerification}
	})
	mustCreate(t, asClient{t: e.tr, c: clientA}, ssf.StreamConfig{})
	before := takeSnapshot(t, e.store, e.clock.Now())
	for _, tc := range []struct {
		name string
		subj subject.Identifier
		ev   event.Event
		want string
	}{
		{"deprecated type", alice, &risc.SessionsRevoked{}, "deprecated"},
		{"unsupported type", alice, &risc.AccountDisabled{}, "not supported"},
		{"legacy alias", alice, &event.Raw{EventType: ssf.LegacyEventTypeVerificationSSE, Payload: []byte(`{}`)}, "legacy alias"},
		{"verification", alice, &ssf.Verification{}, "about a stream"},
		{"invalid event", alice, &caep.SessionRevoked{Common: caep.Common{InitiatingEntity: "nobody"}}, "invalid event"},
		{"invalid subject", &subject.Email{Email: "no at sign"}, sessionRevoked(), "invalid subject"},
		{"no subject", nil, sessionRevoked(), "no subject"},
		{"no event", alice, nil, "no event"},
	} {
		_, err := e.tr.Emit(ctx, tc.subj, tc.ev, EmitOptions{})
		if !errors.Is(err, ssf.ErrBadRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error = %v, want a bad request saying %q", tc.name, err, tc.want)
		}
	}
	if d := before.diff(takeSnapshot(t, e.store, e.clock.Now())); d != "" {
		t.Errorf("refused emits changed the store (-before +after):\n%s", d)
	}
}

// countingStore counts Enqueue calls.
type countingStore struct {
	store.Store
	enqueues atomic.Int64
}

func (c *countingStore) Enqueue(ctx context.Context, sets []*store.OutboxSET) error {
	c.enqueues.Add(1)
	return c.Store.Enqueue(ctx, sets)
}

// One event, many streams: one SET each (parallel signing), one Enqueue.
func TestEmitFanOutOneEnqueue(t *testing.T) {
	ctx := context.Background()
	var cs *countingStore
	e := newEnv(t, "https://tr.example.com", func(c *Config) {
		cs = &countingStore{Store: c.Store}
		c.Store = cs
		c.SigningConcurrency = 4
	})
	const n = 40
	for i := range n {
		c := &Client{ID: "client-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Scopes: allScopes}
		mustCreate(t, asClient{t: e.tr, c: c}, ssf.StreamConfig{})
	}
	res, err := e.tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.SETs) != n {
		t.Fatalf("%d SETs, want %d", len(res.SETs), n)
	}
	if got := cs.enqueues.Load(); got != 1 {
		t.Errorf("%d Enqueue calls, want 1 (the event is accepted in one transaction)", got)
	}
	seen := map[string]bool{}
	for _, q := range res.SETs {
		sets := leaseAll(t, e.store, q.StreamID, e.clock.Now())
		if len(sets) != 1 || sets[0].JTI != q.JTI || seen[q.JTI] {
			t.Fatalf("stream %s: %d SETs / jti %s", q.StreamID, len(sets), q.JTI)
		}
		seen[q.JTI] = true
		s, _ := e.store.GetStream(ctx, q.StreamID)
		tok := verifySET(t, e, sets[0], s.ClientID)
		if tok.TxnID != res.Txn {
			t.Errorf("txn %q, want the event's %q", tok.TxnID, res.Txn)
		}
	}
}

// SSF §8.1.4: verification with and without state, rate limit, disabled stream, and the
// Transmitter-initiated verification after create (vendors §5.2 item 6).
func TestVerification(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "https://tr.example.com", nil)
	a := asClient{t: e.tr, c: clientA}
	cfg := mustCreate(t, a, ssf.StreamConfig{EventsRequested: []string{caep.EventTypeSessionRevoked}})
	if *cfg.MinVerificationInterval != 30 {
		t.Errorf("min_verification_interval = %d, want 30 (the default)", *cfg.MinVerificationInterval)
	}
	if err := a.Verify(ctx, ssf.VerifyRequest{StreamID: cfg.StreamID, State: "s-1"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Second)
	err := a.Verify(ctx, ssf.VerifyRequest{StreamID: cfg.StreamID})
	var rl *ssf.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 20*time.Second {
		t.Fatalf("second Verify after 10 s: %v, want a rate-limit error with RetryAfter 20 s", err)
	}
	e.clock.Advance(20 * time.Second)
	if err := a.Verify(ctx, ssf.VerifyRequest{StreamID: cfg.StreamID}); err != nil {
		t.Fatalf("Verify after the interval: %v", err)
	}
	sets := leaseAll(t, e.store, cfg.StreamID, e.clock.Now())
	if len(sets) != 2 {
		t.Fatalf("%d SETs, want 2 verification SETs", len(sets))
	}
	for i, state := range []string{"s-1", ""} {
		tok := verifySET(t, e, sets[i], "receiver-a")
		if err := set.CheckVerification(tok, cfg.StreamID, state); err != nil {
			t.Errorf("SET %d: %v", i, err)
		}
		if got := tok.Event.(*ssf.Verification).State; got != state {
			t.Errorf("SET %d: state %q, want %q (SSF-VERIFY-6)", i, got, state)
		}
	}

	if _, err := a.UpdateStatus(ctx, ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusDisabled}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	err = a.Verify(ctx, ssf.VerifyRequest{StreamID: cfg.StreamID})
	if !errors.Is(err, ssf.ErrBadRequest) || !strings.Contains(err.Error(), "enable it") {
		t.Errorf("Verify on a disabled stream: %v, want 400 asking to enable the stream", err)
	}

	// VerifyOnCreate: a verification SET without state right after create.
	c := *clientB
	c.VerifyOnCreate = true
	var hooked atomic.Int64
	e.tr.cfg.Hooks.VerificationRequested = func(_ string, solicited bool) {
		if !solicited {
			hooked.Add(1)
		}
	}
	created := mustCreate(t, asClient{t: e.tr, c: &c}, ssf.StreamConfig{})
	sets = leaseAll(t, e.store, created.StreamID, e.clock.Now())
	if len(sets) != 1 {
		t.Fatalf("after create with VerifyOnCreate: %d SETs, want 1", len(sets))
	}
	tok := verifySET(t, e, sets[0], "urn:b")
	if v, ok := tok.Event.(*ssf.Verification); !ok || v.State != "" || set.CheckVerification(tok, created.StreamID, "") != nil {
		t.Errorf("transmitter-initiated verification = %+v, want one without state (SSF-VERIFY-6)", tok.Event)
	}
	if hooked.Load() != 1 {
		t.Errorf("VerificationRequested hook (unsolicited) called %d times", hooked.Load())
	}
	if err := e.tr.SendVerification(ctx, created.StreamID); err != nil {
		t.Errorf("SendVerification: %v", err)
	}
}

// AMB-15: a stream-updated SET for every status change; a Control SET when the stream
// stops; pending SETs purged when it becomes disabled; none when only the reason
// changes.
func TestStreamUpdatedOnStatusChange(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "https://tr.example.com", nil)
	var changes []string
	e.tr.cfg.Hooks.StatusChanged = func(id string, from, to ssf.Status, byT bool) {
		changes = append(changes, string(from)+">"+string(to)+map[bool]string{true: " by transmitter", false: ""}[byT])
	}
	a := asClient{t: e.tr, c: clientA}
	cfg := mustCreate(t, a, ssf.StreamConfig{})
	if _, err := e.tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{}); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()

	check := func(step string, wantStatus ssf.Status, wantControl bool, wantReason string) {
		t.Helper()
		sets := leaseAll(t, e.store, cfg.StreamID, now)
		var su []*store.OutboxSET
		var jtis []string
		for _, s := range sets {
			jtis = append(jtis, s.JTI)
			if s.EventType == ssf.EventTypeStreamUpdated {
				su = append(su, s)
			}
		}
		if len(su) != 1 {
			t.Fatalf("%s: %d stream-updated SETs deliverable, want 1", step, len(su))
		}
		if _, err := e.store.Ack(ctx, cfg.StreamID, jtis); err != nil {
			t.Fatal(err)
		}
		if su[0].Control != wantControl {
			t.Errorf("%s: Control = %v, want %v", step, su[0].Control, wantControl)
		}
		tok := verifySET(t, e, su[0], "receiver-a")
		if err := set.CheckStreamUpdated(tok, cfg.StreamID); err != nil {
			t.Errorf("%s: %v", step, err)
		}
		ev := tok.Event.(*ssf.StreamUpdated)
		if ev.Status != wantStatus || ev.Reason != wantReason {
			t.Errorf("%s: event = %+v, want status %s reason %q", step, ev, wantStatus, wantReason)
		}
	}

	if _, err := a.UpdateStatus(ctx, ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusPaused, Reason: "lunch"}); err != nil {
		t.Fatal(err)
	}
	check("enabled>paused", ssf.StatusPaused, true, "lunch")

	// Only the reason changes: no event.
	if _, err := a.UpdateStatus(ctx, ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusPaused, Reason: "long lunch"}); err != nil {
		t.Fatal(err)
	}
	st, _ := a.GetStatus(ctx, cfg.StreamID)
	if st.Reason != "long lunch" {
		t.Errorf("reason = %q after a reason-only update", st.Reason)
	}

	counts, _ := e.store.CountOutbox(ctx, cfg.StreamID, now)
	if counts.Pending != 1 {
		t.Fatalf("before disabling: %+v, want the held event", counts)
	}
	if _, err := e.tr.SetStatus(ctx, cfg.StreamID, ssf.StatusDisabled, "operator"); err != nil {
		t.Fatal(err)
	}
	check("paused>disabled", ssf.StatusDisabled, true, "operator")
	counts, _ = e.store.CountOutbox(ctx, cfg.StreamID, now)
	if counts.Pending != 0 {
		t.Errorf("after disabling: %+v, want nothing (the held event purged, the stream-updated SET delivered)", counts)
	}
	if _, err := a.UpdateStatus(ctx, ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusEnabled}); err != nil {
		t.Fatal(err)
	}
	check("disabled>enabled", ssf.StatusEnabled, false, "")
	want := []string{"enabled>paused", "paused>disabled by transmitter", "disabled>enabled"}
	if !slices.Equal(changes, want) {
		t.Errorf("StatusChanged hook calls = %v, want %v", changes, want)
	}
}

// SSF-STREAM-13: an idle stream is paused (or disabled) with a stream-updated SET;
// activity restarts the counter; listing counts as activity (AMB-14).
func TestInactivity(t *testing.T) {
	ctx := context.Background()
	for _, action := range []ssf.Status{ssf.StatusPaused, ssf.StatusDisabled} {
		t.Run(string(action), func(t *testing.T) {
			e := newEnv(t, "https://tr.example.com", func(c *Config) {
				c.InactivityTimeout = time.Hour
				c.InactivityStatus = action
			})
			a := asClient{t: e.tr, c: clientA}
			idle := mustCreate(t, a, ssf.StreamConfig{})
			busy := mustCreate(t, a, ssf.StreamConfig{})
			listed := mustCreate(t, asClient{t: e.tr, c: clientB}, ssf.StreamConfig{})
			if *idle.InactivityTimeout != 3600 {
				t.Errorf("inactivity_timeout = %d, want 3600", *idle.InactivityTimeout)
			}
			e.clock.Advance(50 * time.Minute)
			if _, err := a.GetStream(ctx, busy.StreamID); err != nil {
				t.Fatal(err)
			}
			if _, err := (asClient{t: e.tr, c: clientB}).ListStreams(ctx); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(20 * time.Minute)
			stopped, err := e.tr.CheckInactivity(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(stopped, []string{idle.StreamID}) {
				t.Fatalf("stopped %v, want only the idle stream %s", stopped, idle.StreamID)
			}
			st, _ := a.GetStatus(ctx, idle.StreamID)
			if st.Status != action || !strings.Contains(st.Reason, "inactivity") {
				t.Errorf("status = %+v, want %s for inactivity", st, action)
			}
			sets := leaseAll(t, e.store, idle.StreamID, e.clock.Now())
			if len(sets) != 1 || !sets[0].Control {
				t.Fatalf("%d SETs, want the control stream-updated SET", len(sets))
			}
			tok := verifySET(t, e, sets[0], "receiver-a")
			if ev := tok.Event.(*ssf.StreamUpdated); ev.Status != action || !strings.Contains(ev.Reason, "inactivity") {
				t.Errorf("stream-updated = %+v", ev)
			}
			for _, id := range []string{busy.StreamID, listed.StreamID} {
				s, _ := e.store.GetStream(ctx, id)
				if s.Status != ssf.StatusEnabled {
					t.Errorf("stream %s with recent activity is %s", id, s.Status)
				}
			}
			again, err := e.tr.CheckInactivity(ctx)
			if err != nil || len(again) != 0 {
				t.Errorf("second pass stopped %v, %v; want nothing", again, err)
			}
		})
	}
}

func TestRunStopsWithContext(t *testing.T) {
	e := newEnv(t, "https://tr.example.com", func(c *Config) {
		c.InactivityTimeout = time.Minute
		c.InactivityCheckInterval = time.Millisecond
	})
	cfg := mustCreate(t, asClient{t: e.tr, c: clientA}, ssf.StreamConfig{})
	e.clock.Advance(2 * time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.tr.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, _ := e.store.GetStream(context.Background(), cfg.StreamID)
		if s.Status == ssf.StatusPaused {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not pause the idle stream")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil after cancellation", err)
	}
}
