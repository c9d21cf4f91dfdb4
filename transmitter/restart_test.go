package transmitter

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/ssf/ssftest"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/sqlite"
	"github.com/sigshare/sigshare/subject"
)

// Streams, subjects, status and queued SETs survive a restart on store/sqlite: close the
// Transmitter's store, open it again, and everything is there and keeps working.
func TestRestartSQLite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sigshare.db")
	open := func() store.Store {
		st, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	clk := newClock()
	start := func(st store.Store) *Transmitter {
		tr, err := New(Config{Issuer: "https://tr.example.com", Store: st, Keys: sharedKey(t), Now: clk.Now, DefaultSubjects: ssf.DefaultSubjectsNone, Push: PushPolicy{AllowLoopback: true}, Logger: discard()})
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}

	st := open()
	tr := start(st)
	a := asClient{t: tr, c: clientA}
	push := mustCreate(t, a, ssf.StreamConfig{
		Description:     "push",
		Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: pushURL, AuthorizationHeader: "Bearer secret"},
		EventsRequested: []string{"https://schemas.openid.net/secevent/caep/event-type/session-revoked"},
	})
	poll := mustCreate(t, asClient{t: tr, c: clientB}, ssf.StreamConfig{Description: "poll"})
	if err := a.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: push.StreamID, Subject: alice}); err != nil {
		t.Fatal(err)
	}
	if _, err := (asClient{t: tr, c: clientB}).UpdateStatus(ctx, ssf.StreamStatus{StreamID: poll.StreamID, Status: ssf.StatusPaused, Reason: "night"}); err != nil {
		t.Fatal(err)
	}
	res, err := tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{})
	if err != nil || len(res.SETs) != 1 || res.SETs[0].StreamID != push.StreamID {
		t.Fatalf("emit: %+v, %v", res, err)
	}
	if err := a.Verify(ctx, ssf.VerifyRequest{StreamID: push.StreamID, State: "before-restart"}); err != nil {
		t.Fatal(err)
	}
	before := takeSnapshot(t, st, clk.Now())
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st = open()
	defer st.Close()
	after := takeSnapshot(t, st, clk.Now())
	if d := before.diff(after); d != "" {
		t.Errorf("the store differs after a restart (-before +after):\n%s", d)
	}
	tr = start(st)
	a = asClient{t: tr, c: clientA}
	got, err := a.GetStream(ctx, push.StreamID)
	if err != nil || got.Description != "push" || got.Delivery.AuthorizationHeader != "Bearer secret" {
		t.Fatalf("push stream after restart: %+v, %v", got, err)
	}
	stt, err := (asClient{t: tr, c: clientB}).GetStatus(ctx, poll.StreamID)
	if err != nil || stt.Status != ssf.StatusPaused || stt.Reason != "night" {
		t.Errorf("status after restart: %+v, %v", stt, err)
	}
	// The subject filter still applies (NONE + alice added), and the rate limit too.
	res, err = tr.Emit(ctx, &subject.Email{Email: "bob@example.com"}, sessionRevoked(), EmitOptions{})
	if err != nil || len(res.SETs) != 0 {
		t.Errorf("emit about bob after restart: %+v, %v", res, err)
	}
	res, err = tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{})
	if err != nil || len(res.SETs) != 1 {
		t.Errorf("emit about alice after restart: %+v, %v", res, err)
	}
	if err := a.Verify(ctx, ssf.VerifyRequest{StreamID: push.StreamID}); err == nil {
		t.Error("min_verification_interval forgotten across the restart")
	}
	clk.Advance(time.Minute)
	sets := leaseAll(t, st, push.StreamID, clk.Now())
	if len(sets) != 3 {
		t.Errorf("%d SETs queued on the push stream, want the 2 events and the verification", len(sets))
	}
}

// The shared Manager suite in process on store/sqlite.
func TestManagerSuiteSQLite(t *testing.T) {
	ssftest.Run(t, ssftest.Harness{
		New: func(t *testing.T) ssftest.Managers {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			e := newEnv(t, "https://tr.example.com", func(c *Config) { c.Store = st })
			return ssftest.Managers{A: asClient{t: e.tr, c: clientA}, B: asClient{t: e.tr, c: clientB}, Anonymous: asClient{t: e.tr}}
		},
		Issuer:            "https://tr.example.com",
		PushEndpoint:      pushURL,
		MultipleStreams:   true,
		VerifyRateLimited: true,
	})
}
