package risc_test

import (
	"encoding/json"
	"fmt"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/risc"
)

// Track an account through the RISC §2.8 opt-out state machine.
func ExampleNext() {
	state := risc.StateOptIn
	for _, ev := range []string{risc.EventTypeOptOutInitiated, risc.EventTypeOptOutEffective, risc.EventTypeOptOutCancelled, risc.EventTypeOptIn} {
		next, ok := risc.Next(state, ev)
		fmt.Printf("%s + %s -> %s (%v)\n", state, event.TypeName(ev), next, ok)
		state = next
	}
	// Output:
	// opt-in + risc opt-out-initiated -> opt-out-initiated (true)
	// opt-out-initiated + risc opt-out-effective -> opt-out (true)
	// opt-out + risc opt-out-cancelled -> opt-out (false)
	// opt-out + risc opt-in -> opt-in (true)
}

// Build a credential-compromise event (RISC §2.7) with a reason in the CAEP form.
func ExampleCredentialCompromise() {
	ev := risc.CredentialCompromise{
		CredentialType: event.CredentialTypePassword,
		EventTimestamp: 1615304991,
		ReasonAdmin:    event.Localized{"en": "Password found in a public breach corpus"},
	}
	b, err := json.Marshal(ev)
	fmt.Println(string(b), err)
	// Output: {"credential_type":"password","event_timestamp":1615304991,"reason_admin":{"en":"Password found in a public breach corpus"}} <nil>
}
