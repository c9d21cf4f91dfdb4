package risc_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/risc"
)

func newRegistry(t testing.TB) *event.Registry {
	t.Helper()
	r := event.NewRegistry()
	if err := risc.Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// wantType maps each RISC event type URI to the Go type Decode must return
// (RISC-2..RISC-15).
var wantType = map[string]reflect.Type{
	risc.EventTypeAccountCredentialChangeRequired: reflect.TypeFor[*risc.AccountCredentialChangeRequired](),
	risc.EventTypeAccountPurged:                   reflect.TypeFor[*risc.AccountPurged](),
	risc.EventTypeAccountDisabled:                 reflect.TypeFor[*risc.AccountDisabled](),
	risc.EventTypeAccountEnabled:                  reflect.TypeFor[*risc.AccountEnabled](),
	risc.EventTypeIdentifierChanged:               reflect.TypeFor[*risc.IdentifierChanged](),
	risc.EventTypeIdentifierRecycled:              reflect.TypeFor[*risc.IdentifierRecycled](),
	risc.EventTypeCredentialCompromise:            reflect.TypeFor[*risc.CredentialCompromise](),
	risc.EventTypeOptIn:                           reflect.TypeFor[*risc.OptIn](),
	risc.EventTypeOptOutInitiated:                 reflect.TypeFor[*risc.OptOutInitiated](),
	risc.EventTypeOptOutCancelled:                 reflect.TypeFor[*risc.OptOutCancelled](),
	risc.EventTypeOptOutEffective:                 reflect.TypeFor[*risc.OptOutEffective](),
	risc.EventTypeRecoveryActivated:               reflect.TypeFor[*risc.RecoveryActivated](),
	risc.EventTypeRecoveryInformationChanged:      reflect.TypeFor[*risc.RecoveryInformationChanged](),
	risc.EventTypeSessionsRevoked:                 reflect.TypeFor[*risc.SessionsRevoked](),
}

type vector struct {
	Kind  string          `json:"kind"`
	Valid bool            `json:"valid"`
	JSON  json.RawMessage `json:"json"`
}

func readVector(t *testing.T, path string) vector {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func jsonEqual(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("re-encoded payload differs (-want +got):\n%s", d)
	}
}

func roundTrip(t *testing.T, r *event.Registry, typeURI string, payload []byte) event.Event {
	t.Helper()
	ev, err := r.Decode(typeURI, payload)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got, want := reflect.TypeOf(ev), wantType[typeURI]; got != want {
		t.Fatalf("Decode returned %v, want %v", got, want)
	}
	if ev.Type() != typeURI {
		t.Errorf("Type() = %q, want %q", ev.Type(), typeURI)
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	jsonEqual(t, payload, out)
	return ev
}

// TestVectors decodes every RISC 1.0 example and the derived examples of the event types
// RISC prints none for (RISC §2.1..§2.11), checks the type, validates and re-encodes.
func TestVectors(t *testing.T) {
	r := newRegistry(t)
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) != 15 {
		t.Fatalf("found %d vectors, want 15", len(files))
	}
	seen := map[string]bool{}
	for _, f := range files {
		v := readVector(t, f)
		if v.Kind == "state-machine" {
			continue // TestOptOutStateMachine
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			if !v.Valid {
				t.Fatal("vector is not marked valid")
			}
			var set struct {
				Events map[string]json.RawMessage `json:"events"`
			}
			if err := json.Unmarshal(v.JSON, &set); err != nil || len(set.Events) != 1 {
				t.Fatalf("events: %v %v", set.Events, err)
			}
			for uri, p := range set.Events {
				roundTrip(t, r, uri, p)
				seen[uri] = true
			}
		})
	}
	// Every RISC event type has a vector, except the ones printed in SSF §5 and tested
	// in package ssf (account-enabled is covered by a derived vector too).
	for uri := range wantType {
		if !seen[uri] {
			t.Errorf("no vector for %s", uri)
		}
	}
}

// TestVectorFields spot-checks decoded values.
func TestVectorFields(t *testing.T) {
	r := newRegistry(t)
	for _, c := range []struct {
		typ, payload string
		want         event.Event
	}{
		{risc.EventTypeAccountDisabled, `{"reason":"hijacking"}`, &risc.AccountDisabled{Reason: risc.ReasonHijacking}},
		{risc.EventTypeIdentifierChanged, `{"new-value":"john.roe@example.com"}`, &risc.IdentifierChanged{NewValue: "john.roe@example.com"}},
		{risc.EventTypeCredentialCompromise, `{"credential_type":"password"}`, &risc.CredentialCompromise{CredentialType: event.CredentialTypePassword}},
		{risc.EventTypeCredentialCompromise,
			`{"credential_type":"pin","event_timestamp":1615304991,"reason_admin":{"en":"Found in breach corpus"},"reason_user":{"en":"Your PIN was leaked.","de":"Ihre PIN wurde veröffentlicht."}}`,
			&risc.CredentialCompromise{CredentialType: event.CredentialTypePIN, EventTimestamp: 1615304991,
				ReasonAdmin: event.Localized{"en": "Found in breach corpus"},
				ReasonUser:  event.Localized{"en": "Your PIN was leaked.", "de": "Ihre PIN wurde veröffentlicht."}}},
	} {
		got := roundTrip(t, r, c.typ, []byte(c.payload))
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", c.typ, d)
		}
	}
}

// TestInvalid covers the required member, the typed members and wrong JSON types.
func TestInvalid(t *testing.T) {
	r := newRegistry(t)
	const cc = risc.EventTypeCredentialCompromise
	tests := []struct {
		name, typ, payload, member, reason string
	}{
		{"credential_type missing (RISC-8)", cc, `{}`, "credential_type", "is required"},
		{"credential_type empty", cc, `{"credential_type":""}`, "credential_type", "is required"},
		{"credential_type number", cc, `{"credential_type":7}`, "credential_type", "must be a JSON string, not a number"},
		{"event_timestamp string", cc, `{"credential_type":"password","event_timestamp":"1615304991"}`, "event_timestamp", "must be a JSON number of seconds, not a string"},
		{"reason_admin string (AMB-2)", cc, `{"credential_type":"password","reason_admin":"leaked"}`, "reason_admin", "not a string"},
		{"reason_admin empty", cc, `{"credential_type":"password","reason_admin":{}}`, "reason_admin", "at least one"},
		{"reason_user bad tag", cc, `{"credential_type":"password","reason_user":{"en_GB":"x"}}`, "reason_user", "not a BCP 47 language tag"},
		{"reason number (RISC-4)", risc.EventTypeAccountDisabled, `{"reason":1}`, "reason", "must be a JSON string, not a number"},
		{"new-value object (RISC-6)", risc.EventTypeIdentifierChanged, `{"new-value":{"email":"x"}}`, "new-value", "must be a JSON string, not an object"},
		{"empty-payload event array", risc.EventTypeAccountPurged, `[]`, "", "must be a JSON object, not an array"},
		{"empty-payload event bad JSON", risc.EventTypeOptIn, `{"a":}`, "", "is not valid JSON"},
		{"sessions-revoked string", risc.EventTypeSessionsRevoked, `"revoked"`, "", "must be a JSON object, not a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Decode(tt.typ, []byte(tt.payload))
			var e *event.Error
			if !errors.As(err, &e) || !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("Decode error = %v, want an *event.Error", err)
			}
			if e.Type != tt.typ || e.Member != tt.member || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error = %q (member %q), want member %q and %q", err, e.Member, tt.member, tt.reason)
			}
		})
	}
	if _, err := json.Marshal(risc.CredentialCompromise{}); !errors.Is(err, event.ErrInvalid) {
		t.Errorf("Marshal of an empty CredentialCompromise = %v, want ErrInvalid", err)
	}
}

// TestDisabledReasonOpen: RISC §2.3 lists "possible values"; others are accepted.
func TestDisabledReasonOpen(t *testing.T) {
	r := newRegistry(t)
	ev := roundTrip(t, r, risc.EventTypeAccountDisabled, []byte(`{"reason":"policy-violation"}`)).(*risc.AccountDisabled)
	if ev.Reason.IsStandard() || !risc.ReasonBulkAccount.IsStandard() {
		t.Error("DisabledReason.IsStandard")
	}
}

// TestUnknownMembersPreserved: the pre-SSF in-event subject (Google's RISC shape, DIFF-5,
// DIFF-9) and any other member survive decode → encode on every RISC type.
func TestUnknownMembersPreserved(t *testing.T) {
	r := newRegistry(t)
	const extra = `"subject":{"subject_type":"iss-sub","iss":"https://accounts.google.com/","sub":"7375626A656374"},"vendor":[1,{"x":null}]`
	for uri := range wantType {
		payload := `{` + extra + `}`
		switch uri {
		case risc.EventTypeCredentialCompromise:
			payload = `{"credential_type":"password",` + extra + `}`
		case risc.EventTypeAccountDisabled:
			payload = `{"reason":"hijacking",` + extra + `}`
		}
		roundTrip(t, r, uri, []byte(payload))
	}
}

// TestEmptyPayloadEncoding: events without members encode to {} (RISC-2, SET-1).
func TestEmptyPayloadEncoding(t *testing.T) {
	for _, ev := range []event.Event{
		risc.AccountCredentialChangeRequired{}, risc.AccountPurged{}, risc.AccountEnabled{},
		risc.IdentifierRecycled{}, risc.OptIn{}, risc.OptOutInitiated{}, risc.OptOutCancelled{},
		risc.OptOutEffective{}, risc.RecoveryActivated{}, risc.RecoveryInformationChanged{},
		risc.SessionsRevoked{}, risc.AccountDisabled{}, risc.IdentifierChanged{},
	} {
		b, err := json.Marshal(ev)
		if err != nil || string(b) != `{}` {
			t.Errorf("%T: %s, %v", ev, b, err)
		}
	}
}

// TestSessionsRevokedDeprecated: RISC-15, sessions-revoked is decode-only and points at
// CAEP session-revoked.
func TestSessionsRevokedDeprecated(t *testing.T) {
	ev, err := newRegistry(t).Decode(risc.EventTypeSessionsRevoked, []byte(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	d, ok := ev.(event.Deprecated)
	if !ok {
		t.Fatal("sessions-revoked does not implement event.Deprecated")
	}
	if got := d.ReplacedBy(); got != "https://schemas.openid.net/secevent/caep/event-type/session-revoked" {
		t.Errorf("ReplacedBy() = %q", got)
	}
	for uri, typ := range wantType {
		if uri != risc.EventTypeSessionsRevoked && typ.Implements(reflect.TypeFor[event.Deprecated]()) {
			t.Errorf("%s is marked deprecated", uri)
		}
	}
}

// TestOptOutStateMachine checks Next and EventFor against the RISC §2.8 figure
// (RISC-18): every listed transition, and no other.
func TestOptOutStateMachine(t *testing.T) {
	var sm struct {
		States      []risc.OptOutState `json:"states"`
		Transitions []struct {
			From  risc.OptOutState `json:"from"`
			Event string           `json:"event"`
			To    risc.OptOutState `json:"to"`
		} `json:"transitions"`
	}
	if err := json.Unmarshal(readVector(t, "testdata/risc-2.8-opt-out-state-machine.json").JSON, &sm); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]risc.OptOutState{risc.StateOptIn, risc.StateOptOutInitiated, risc.StateOptOut}, sm.States); d != "" {
		t.Fatalf("states differ (-ours +vector):\n%s", d)
	}
	type edge struct {
		from risc.OptOutState
		ev   string
	}
	want := map[edge]risc.OptOutState{}
	for _, tr := range sm.Transitions {
		want[edge{tr.From, tr.Event}] = tr.To
		if ev, ok := risc.EventFor(tr.From, tr.To); !ok || ev != tr.Event {
			t.Errorf("EventFor(%s, %s) = %q, %v; want %q", tr.From, tr.To, ev, ok, tr.Event)
		}
	}
	events := []string{risc.EventTypeOptIn, risc.EventTypeOptOutInitiated, risc.EventTypeOptOutCancelled,
		risc.EventTypeOptOutEffective, risc.EventTypeAccountDisabled, risc.EventTypeSessionsRevoked}
	for _, s := range append(sm.States, "unknown") {
		for _, ev := range events {
			got, ok := risc.Next(s, ev)
			to, wantOK := want[edge{s, ev}]
			if !wantOK {
				to = s
			}
			if ok != wantOK || got != to {
				t.Errorf("Next(%s, %s) = %s, %v; want %s, %v", s, ev, got, ok, to, wantOK)
			}
		}
		for _, to := range sm.States {
			if _, ok := risc.EventFor(s, to); ok {
				found := false
				for e := range want {
					if e.from == s && want[e] == to {
						found = true
					}
				}
				if !found {
					t.Errorf("EventFor(%s, %s) reports a transition the figure does not have", s, to)
				}
			}
		}
	}
}
