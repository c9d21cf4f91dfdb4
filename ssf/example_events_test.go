package ssf_test

import (
	"encoding/json"
	"fmt"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/ssf"
)

// Decode the events of a SET through the default registry: typed events for the CAEP,
// RISC and SSF types, *event.Raw for the rest.
func ExampleDefaultRegistry() {
	events := map[string]json.RawMessage{
		"https://schemas.openid.net/secevent/caep/event-type/session-revoked": json.RawMessage(
			`{"initiating_entity":"policy","reason_admin":{"en":"Policy Violation: C076E82F"},"event_timestamp":1600975810}`),
	}
	r := ssf.DefaultRegistry()
	for uri, payload := range events {
		ev, err := r.Decode(uri, payload)
		if err != nil {
			fmt.Println(err)
			return
		}
		switch ev := ev.(type) {
		case *caep.SessionRevoked:
			fmt.Println("session revoked at", ev.EventTimestamp.Time().Format("2006-01-02 15:04:05"), "by", ev.InitiatingEntity+":", ev.ReasonAdmin["en"])
		case *event.Raw:
			fmt.Println("unknown event type", ev.Type())
		}
	}
	// Output: session revoked at 2020-09-24 19:30:10 by policy: Policy Violation: C076E82F
}

// Legacy type URIs are aliases: Decode treats them as unknown, Canonical resolves them.
func ExampleDefaultRegistry_aliases() {
	r := ssf.DefaultRegistry()
	legacy := "https://schemas.openid.net/secevent/sse/event-type/verification"
	ev, _ := r.Decode(legacy, []byte(`{"state":"abc"}`))
	fmt.Printf("%T\n", ev)
	canonical, _ := r.Canonical(legacy)
	ev, _ = r.Decode(canonical, []byte(`{"state":"abc"}`))
	fmt.Printf("%T %q\n", ev, ev.(*ssf.Verification).State)
	// Output:
	// *event.Raw
	// *ssf.Verification "abc"
}

// Build the Stream Updated event a transmitter sends before pausing a stream
// (SSF-UPDATED-2).
func ExampleStreamUpdated() {
	b, err := json.Marshal(ssf.StreamUpdated{Status: ssf.StatusPaused, Reason: "Internal error"})
	fmt.Println(string(b), err)
	// Output: {"status":"paused","reason":"Internal error"} <nil>
}
