package event_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sigshare/sigshare/event"
)

// ping is a minimal custom event type: one optional member "n" (a string).
type ping struct {
	N     string
	Extra map[string]json.RawMessage
}

const pingURI = "urn:example:ping"

func (ping) Type() string { return pingURI }
func (p ping) Validate() error {
	if p.N == "bad" {
		return &event.Error{Type: pingURI, Member: "n", Reason: `must not be "bad"`}
	}
	return nil
}
func (p ping) MarshalJSON() ([]byte, error) {
	w := event.NewPayloadWriter(pingURI, p.Extra)
	w.String("n", p.N)
	return w.Bytes()
}
func (p *ping) UnmarshalJSON(data []byte) error {
	*p = ping{}
	r, err := event.NewPayloadReader(pingURI, data)
	if err != nil {
		return err
	}
	for r.Next() {
		if r.Name() == "n" {
			p.N = r.ReadString()
		} else {
			r.Keep(&p.Extra)
		}
	}
	return r.Err()
}

// plain has no UnmarshalJSON: Decode falls back to encoding/json.
type plain struct {
	A int `json:"a"`
}

func (*plain) Type() string    { return "urn:example:plain" }
func (*plain) Validate() error { return nil }

func newPing() event.Event { return new(ping) }

func TestRegisterErrors(t *testing.T) {
	r := event.NewRegistry()
	if err := r.Register(pingURI, newPing); err != nil {
		t.Fatal(err)
	}
	if err := r.Alias("urn:example:legacy-ping", pingURI); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"duplicate", r.Register(pingURI, newPing), "already registered"},
		{"alias taken", r.Register("urn:example:legacy-ping", func() event.Event { return &event.Raw{EventType: "urn:example:legacy-ping"} }), "already an alias"},
		{"type mismatch", r.Register("urn:example:other", newPing), `Type() is "urn:example:ping"`},
		{"nil constructor", r.Register("urn:example:nil", nil), "nil constructor"},
		{"constructor returns nil", r.Register("urn:example:nil", func() event.Event { return nil }), "returned nil"},
		{"relative URI", r.Register("session-revoked", newPing), "not an absolute URI"},
		{"empty URI", r.Register("", newPing), "not an absolute URI"},
		{"alias of unknown", r.Alias("urn:example:a", "urn:example:none"), "not a registered type"},
		{"alias is a type", r.Alias(pingURI, pingURI), "already registered as a type"},
		{"alias twice", r.Alias("urn:example:legacy-ping", pingURI), "already an alias"},
		{"alias not a URI", r.Alias("ping", pingURI), "not an absolute URI"},
	} {
		if !errors.Is(tt.err, event.ErrRegistration) || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want ErrRegistration and %q", tt.name, tt.err, tt.want)
		}
	}
	if got := r.Types(); len(got) != 1 || got[0] != pingURI {
		t.Errorf("Types() = %v", got)
	}
}

func TestZeroRegistry(t *testing.T) {
	var r event.Registry
	if len(r.Types()) != 0 || len(r.Aliases()) != 0 {
		t.Error("zero Registry not empty")
	}
	if c, ok := r.Canonical(pingURI); ok || c != pingURI {
		t.Errorf("Canonical = %q, %v", c, ok)
	}
	ev, err := r.Decode(pingURI, []byte(`{"n":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ev.(*event.Raw); !ok {
		t.Errorf("Decode = %T", ev)
	}
	if err := r.Register(pingURI, newPing); err != nil {
		t.Fatal(err)
	}
	if ev, _ := r.Decode(pingURI, []byte(`{"n":"x"}`)); ev.(*ping).N != "x" {
		t.Errorf("Decode after Register = %#v", ev)
	}
}

func TestDecode(t *testing.T) {
	r := event.NewRegistry()
	for _, reg := range []struct {
		uri string
		new func() event.Event
	}{{pingURI, newPing}, {"urn:example:plain", func() event.Event { return new(plain) }}} {
		if err := r.Register(reg.uri, reg.new); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Alias("urn:example:old-ping", pingURI); err != nil {
		t.Fatal(err)
	}

	ev, err := r.Decode(pingURI, []byte(`{"n":"hello","z":[1]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p := ev.(*ping); p.N != "hello" || string(p.Extra["z"]) != `[1]` {
		t.Errorf("Decode = %#v", p)
	}

	// Types without UnmarshalJSON go through encoding/json.
	ev, err = r.Decode("urn:example:plain", []byte(`{"a":7}`))
	if err != nil || ev.(*plain).A != 7 {
		t.Errorf("plain Decode = %#v, %v", ev, err)
	}
	_, err = r.Decode("urn:example:plain", []byte(`{"a":"7"}`))
	var e *event.Error
	if !errors.As(err, &e) || e.Type != "urn:example:plain" || !errors.Is(err, event.ErrInvalid) {
		t.Errorf("plain Decode of a wrong type = %v", err)
	}

	// Validation errors pass through unchanged.
	_, err = r.Decode(pingURI, []byte(`{"n":"bad"}`))
	if err == nil || err.Error() != `urn:example:ping: member "n" must not be "bad"` {
		t.Errorf("Decode error = %v", err)
	}

	// Aliases are not resolved by Decode; unknown types keep the payload verbatim, as a
	// copy.
	payload := []byte(`{"n": "x"}`)
	ev, err = r.Decode("urn:example:old-ping", payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := ev.(*event.Raw)
	if !ok || raw.Type() != "urn:example:old-ping" || string(raw.Payload) != `{"n": "x"}` {
		t.Fatalf("Decode(alias) = %#v", ev)
	}
	payload[1] = 'X'
	if string(raw.Payload) != `{"n": "x"}` {
		t.Error("Raw payload aliases the input")
	}

	for _, tt := range []struct{ typ, payload, want string }{
		{"urn:example:unknown", `[1]`, "urn:example:unknown: payload must be a JSON object, not an array"},
		{"urn:example:unknown", `{"a":1`, "urn:example:unknown: payload is not valid JSON"},
		{"", `{}`, "event: payload has no event type URI"},
		{pingURI, `{"n":1}`, `urn:example:ping: member "n" must be a JSON string, not a number`},
		{pingURI, ` `, "urn:example:ping: payload is not valid JSON"},
		{pingURI, `{"n":"x"}}`, "urn:example:ping: payload is not valid JSON"},
	} {
		_, err := r.Decode(tt.typ, []byte(tt.payload))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, event.ErrInvalid) {
			t.Errorf("Decode(%q, %s) error = %v, want prefix %q", tt.typ, tt.payload, err, tt.want)
		}
	}
}

func TestRaw(t *testing.T) {
	raw := &event.Raw{EventType: "urn:x", Payload: json.RawMessage(`{"a":[1,2]}`)}
	if err := raw.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(raw)
	if err != nil || string(b) != `{"a":[1,2]}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	for _, bad := range []*event.Raw{
		{Payload: json.RawMessage(`{}`)},
		{EventType: "urn:x"},
		{EventType: "urn:x", Payload: json.RawMessage(`"x"`)},
		{EventType: "urn:x", Payload: json.RawMessage(`{"a":}`)},
	} {
		if err := bad.Validate(); !errors.Is(err, event.ErrInvalid) {
			t.Errorf("Validate(%#v) = %v", bad, err)
		}
		if _, err := json.Marshal(bad); err == nil {
			t.Errorf("Marshal(%#v) succeeded", bad)
		}
	}
	var r event.Raw
	if err := json.Unmarshal([]byte(`[]`), &r); err == nil {
		t.Error("Unmarshal of an array succeeded")
	}
}

func TestErrorFormat(t *testing.T) {
	cause := errors.New("boom")
	for _, tt := range []struct {
		err  *event.Error
		want string
	}{
		{event.Required("https://schemas.openid.net/secevent/caep/event-type/credential-change", "change_type"),
			`caep credential-change: member "change_type" is required`},
		{event.NotOneOf("https://schemas.openid.net/secevent/ssf/event-type/stream-updated", "status", "on", "enabled", "paused"),
			`ssf stream-updated: member "status" must be one of enabled, paused (got "on")`},
		{&event.Error{Type: "urn:x", Reason: "is odd", Err: cause}, `urn:x: payload is odd: boom`},
		{&event.Error{Type: "urn:x", Member: "a\"b\n", Reason: "is odd"}, `urn:x: member "a\"b\x0a" is odd`},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
		if !errors.Is(tt.err, event.ErrInvalid) {
			t.Error("does not wrap ErrInvalid")
		}
	}
	if !errors.Is(&event.Error{Err: cause}, cause) {
		t.Error("does not wrap Err")
	}
	for uri, want := range map[string]string{
		"https://schemas.openid.net/secevent/risc/event-type/account-disabled": "risc account-disabled",
		"https://schemas.openid.net/secevent/sse/event-type/verification":      "sse verification",
		"https://schemas.openid.net/secevent/risc/delivery-method/push":        "https://schemas.openid.net/secevent/risc/delivery-method/push",
		"https://schemas.okta.com/secevent/okta/event-type/ip-change":          "https://schemas.okta.com/secevent/okta/event-type/ip-change",
		"https://schemas.openid.net/secevent/a/b/event-type/c":                 "https://schemas.openid.net/secevent/a/b/event-type/c",
	} {
		if got := event.TypeName(uri); got != want {
			t.Errorf("TypeName(%s) = %q, want %q", uri, got, want)
		}
	}
}
