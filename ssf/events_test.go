package ssf_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/ssf"
)

// TestVerificationState: SSF-VERIFY-2, state is optional; null decodes as absent
// (authentik, vendors.md §5.1 item 5); AMB-22 transmitter-initiated events carry none.
func TestVerificationState(t *testing.T) {
	r := ssf.DefaultRegistry()
	for in, want := range map[string]ssf.Verification{
		`{"state":"VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo="}`: {State: "VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo="},
		`{"state":null}`: {},
		`{}`:             {},
		`{"state":"s","subject":{"format":"opaque","id":"x"}}`: {State: "s", Extra: map[string]json.RawMessage{"subject": json.RawMessage(`{"format":"opaque","id":"x"}`)}},
	} {
		ev, err := r.Decode(ssf.EventTypeVerification, []byte(in))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		v := ev.(*ssf.Verification)
		if v.State != want.State || len(v.Extra) != len(want.Extra) || string(v.Extra["subject"]) != string(want.Extra["subject"]) {
			t.Errorf("%s decoded to %+v, want %+v", in, v, want)
		}
	}
	b, err := json.Marshal(ssf.Verification{})
	if err != nil || string(b) != `{}` {
		t.Errorf("transmitter-initiated verification encodes to %s, %v; want {}", b, err)
	}
	b, err = json.Marshal(ssf.Verification{State: "abc"})
	if err != nil || string(b) != `{"state":"abc"}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

// TestStreamUpdated: SSF-UPDATED-4, status required and one of enabled|paused|disabled;
// reason optional.
func TestStreamUpdated(t *testing.T) {
	r := ssf.DefaultRegistry()
	for _, s := range []ssf.Status{ssf.StatusEnabled, ssf.StatusPaused, ssf.StatusDisabled} {
		ev, err := r.Decode(ssf.EventTypeStreamUpdated, []byte(`{"status":"`+string(s)+`"}`))
		if err != nil || ev.(*ssf.StreamUpdated).Status != s || !s.Valid() {
			t.Errorf("%s: %v %v", s, ev, err)
		}
	}
	const typ = ssf.EventTypeStreamUpdated
	for _, tt := range []struct{ name, payload, member, reason string }{
		{"status missing", `{"reason":"Internal error"}`, "status", "is required"},
		{"status null", `{"status":null}`, "status", "is required"},
		{"status empty", `{"status":""}`, "status", "is required"},
		{"status unknown", `{"status":"active"}`, "status", `must be one of enabled, paused, disabled (got "active")`},
		{"status upper case", `{"status":"ENABLED"}`, "status", "must be one of"},
		{"status number", `{"status":1}`, "status", "must be a JSON string, not a number"},
		{"reason object", `{"status":"paused","reason":{"en":"x"}}`, "reason", "must be a JSON string, not an object"},
		{"payload array", `["paused"]`, "", "must be a JSON object, not an array"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Decode(typ, []byte(tt.payload))
			var e *event.Error
			if !errors.As(err, &e) || !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("Decode error = %v", err)
			}
			if e.Type != typ || e.Member != tt.member || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error = %q (member %q), want member %q and %q", err, e.Member, tt.member, tt.reason)
			}
		})
	}
	if _, err := json.Marshal(ssf.StreamUpdated{Status: "on"}); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("Marshal of an invalid status = %v", err)
	}
	b, err := json.Marshal(ssf.StreamUpdated{Status: ssf.StatusDisabled, Reason: "inactivity timeout"})
	if err != nil || string(b) != `{"status":"disabled","reason":"inactivity timeout"}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

// TestVerificationWrongType: state must be a string when present.
func TestVerificationWrongType(t *testing.T) {
	_, err := ssf.DefaultRegistry().Decode(ssf.EventTypeVerification, []byte(`{"state":42}`))
	if err == nil || err.Error() != `ssf verification: member "state" must be a JSON string, not a number` {
		t.Errorf("Decode error = %v", err)
	}
}
