package caep_test

import (
	"encoding/json"
	"fmt"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
)

// Build a session-revoked event with an administrative reason (CAEP §3.1, §2) and encode
// its payload.
func ExampleSessionRevoked() {
	ev := caep.SessionRevoked{Common: caep.Common{
		EventTimestamp:   1615304991,
		InitiatingEntity: caep.InitiatingEntityPolicy,
		ReasonAdmin:      event.Localized{"en": "Landspeed Policy Violation: C076E82F"},
	}}
	payload, err := json.Marshal(ev)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ev.Type())
	fmt.Println(string(payload))
	// Output:
	// https://schemas.openid.net/secevent/caep/event-type/session-revoked
	// {"event_timestamp":1615304991,"initiating_entity":"policy","reason_admin":{"en":"Landspeed Policy Violation: C076E82F"}}
}

// Validation names the member at fault.
func ExampleCredentialChange_Validate() {
	ev := caep.CredentialChange{CredentialType: event.CredentialTypePassword}
	fmt.Println(ev.Validate())
	ev.ChangeType = caep.ChangeTypeUpdate
	fmt.Println(ev.Validate())
	// Output:
	// caep credential-change: member "change_type" is required
	// <nil>
}

// Register the CAEP event types in a registry and decode a payload.
func ExampleRegister() {
	r := event.NewRegistry()
	if err := caep.Register(r); err != nil {
		fmt.Println(err)
		return
	}
	ev, err := r.Decode(caep.EventTypeRiskLevelChange,
		[]byte(`{"principal":"USER","current_level":"LOW","previous_level":"HIGH","risk_reason":"PASSWORD_FOUND_IN_DATA_BREACH"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	rl := ev.(*caep.RiskLevelChange)
	fmt.Println(rl.Principal, rl.PreviousLevel, "->", rl.CurrentLevel)
	// Output: USER HIGH -> LOW
}
