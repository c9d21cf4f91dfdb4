package receiver

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// SSF §8.1.4.1, AMB-22, RM5: Verification events are checked against the states this
// Receiver requested for the stream; unsolicited ones (no state, or "state": null) pass.
func TestRecipient_VerificationState(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	states, err := NewVerificationStates(VerificationStatesConfig{Now: clock.Now, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	tt := newTestTransmitter(t, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	rec, _ := newTestRecipient(t, tt, nil, func(c *RecipientConfig) { c.States = states })
	issued, _ := states.Issue("stream-1")
	forOther, _ := states.Issue("stream-2")
	states.Expect("stream-1", "chosen-by-caller")
	key, _ := testKeys()
	for _, tc := range []struct {
		name string
		raw  string
		code string
	}{
		{"issued state", sign(t, tt, &ssf.Verification{State: issued}, nil), ""},
		{"recorded state", sign(t, tt, &ssf.Verification{State: "chosen-by-caller"}, nil), ""},
		{"unsolicited", sign(t, tt, &ssf.Verification{}, nil), ""},
		{"state null (authentik)", signRaw(t, []byte(`{"alg":"RS256","typ":"secevent+jwt","kid":"test-key-1"}`),
			[]byte(`{"iss":"https://tr.example.com","jti":"null-state","iat":1700000000,"aud":"https://receiver.example.com","sub_id":{"format":"opaque","id":"stream-1"},"events":{"https://schemas.openid.net/secevent/ssf/event-type/verification":{"state":null}}}`), key), ""},
		{"unknown state", sign(t, tt, &ssf.Verification{State: "guess"}, nil), ssf.CodeInvalidState},
		{"state of another stream", sign(t, tt, &ssf.Verification{State: forOther}, nil), ssf.CodeInvalidState},
		{"tampered state", sign(t, tt, &ssf.Verification{State: issued[:len(issued)-2] + "AA"}, nil), ssf.CodeInvalidState},
		{"another stream", sign(t, tt, &ssf.Verification{}, &subject.Opaque{ID: "stream-2"}), ssf.CodeInvalidRequest},
		{"stream-updated of another stream", sign(t, tt, &ssf.StreamUpdated{Status: ssf.StatusPaused}, &subject.Opaque{ID: "stream-2"}), ssf.CodeInvalidRequest},
		{"stream-updated", sign(t, tt, &ssf.StreamUpdated{Status: ssf.StatusPaused}, nil), ""},
	} {
		_, err := rec.Receive(ctx, TransportPush, tc.raw, "")
		if tc.code == "" {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		var se *set.Error
		if !errors.As(err, &se) || se.Code != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	// States expire after the TTL.
	clock.Advance(2 * time.Hour)
	if _, err := rec.Receive(ctx, TransportPush, sign(t, tt, &ssf.Verification{State: issued}, nil), ""); !errors.Is(err, set.ErrInvalidState) {
		t.Errorf("expired state: %v", err)
	}
	// Skipping the check accepts any state.
	skip, _ := newTestRecipient(t, tt, nil, func(c *RecipientConfig) { c.SkipVerificationStateCheck = true })
	if _, err := skip.Receive(ctx, TransportPush, sign(t, tt, &ssf.Verification{State: "guess"}, nil), ""); err != nil {
		t.Errorf("skip: %v", err)
	}
	// Without States no state was requested: a state is refused.
	none, _ := newTestRecipient(t, tt, nil, nil)
	if _, err := none.Receive(ctx, TransportPush, sign(t, tt, &ssf.Verification{State: "x"}, nil), ""); !errors.Is(err, set.ErrInvalidState) {
		t.Errorf("no states: %v", err)
	}
	// A recipient of several streams checks against the stream its sub_id names.
	multi, _ := newTestRecipient(t, tt, nil, func(c *RecipientConfig) { c.States = states; c.StreamID = "" })
	forOther, _ = states.Issue("stream-2")
	if _, err := multi.Receive(ctx, TransportPush, sign(t, tt, &ssf.Verification{State: forOther}, &subject.Opaque{ID: "stream-2"}), ""); err != nil {
		t.Errorf("multi-stream: %v", err)
	}
}

func sign(t *testing.T, tt *testTransmitter, ev interface {
	Type() string
	Validate() error
}, sub subject.Identifier) string {
	t.Helper()
	raw, _ := tt.sign(t, ev, sub)
	return raw
}

func TestVerificationStates(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	a, _ := NewVerificationStates(VerificationStatesConfig{Secret: secret})
	b, _ := NewVerificationStates(VerificationStatesConfig{Secret: secret})
	c, _ := NewVerificationStates(VerificationStatesConfig{})
	s, err := a.Issue("stream-1")
	if err != nil {
		t.Fatal(err)
	}
	if s2, _ := a.Issue("stream-1"); s2 == s {
		t.Error("two issues gave the same state")
	}
	if !a.Check("stream-1", s) || !b.Check("stream-1", s) {
		t.Error("state not recognised with the same secret (restart)")
	}
	if c.Check("stream-1", s) {
		t.Error("state recognised with another secret")
	}
	if !a.Check("stream-1", "") {
		t.Error("empty state (unsolicited) refused")
	}
	if _, err := NewVerificationStates(VerificationStatesConfig{Secret: []byte("short")}); err == nil {
		t.Error("short secret accepted")
	}
	a.Expect("s", "x")
	a.Expect("s", "y")
	a.Expect("s", "x")
	if !a.Check("s", "x") || !a.Check("s", "y") || a.Check("s", "z") || a.Check("t", "x") {
		t.Error("recorded states")
	}
}
