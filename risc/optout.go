package risc

// OptOutState is an account's state in the RISC §2.8 opt-out state machine (RISC-18):
// whether events about it may be exchanged.
type OptOutState string

// The states of RISC §2.8.
const (
	StateOptIn           OptOutState = "opt-in"            // events flow
	StateOptOutInitiated OptOutState = "opt-out-initiated" // opt-out requested; events still flow
	StateOptOut          OptOutState = "opt-out"           // opted out; events stop
)

// transitions is the RISC §2.8 figure: from state, on event type, to state.
var transitions = [...]struct {
	from      OptOutState
	eventType string
	to        OptOutState
}{
	{StateOptIn, EventTypeOptOutInitiated, StateOptOutInitiated},
	{StateOptOutInitiated, EventTypeOptOutCancelled, StateOptIn},
	{StateOptOutInitiated, EventTypeOptOutEffective, StateOptOut},
	{StateOptOut, EventTypeOptIn, StateOptIn},
}

// Next returns the state an account in state moves to when an event of type eventType
// arrives (RISC §2.8, RISC-18): opt-in →(opt-out-initiated)→ opt-out-initiated
// →(opt-out-cancelled)→ opt-in, opt-out-initiated →(opt-out-effective)→ opt-out
// →(opt-in)→ opt-in.
//
// ok is false, and state is returned unchanged, when the event is not a transition out
// of state: an opt-out event that does not apply in that state (e.g. opt-out-effective
// while opted in), any other event type, or an unknown state.
func Next(state OptOutState, eventType string) (next OptOutState, ok bool) {
	for _, t := range transitions {
		if t.from == state && t.eventType == eventType {
			return t.to, true
		}
	}
	return state, false
}

// EventFor returns the type URI of the event a transmitter sends when an account moves
// from one opt-out state to another (RISC-18: T should send the matching event on each
// state change). ok is false when RISC §2.8 has no such transition.
func EventFor(from, to OptOutState) (eventType string, ok bool) {
	for _, t := range transitions {
		if t.from == from && t.to == to {
			return t.eventType, true
		}
	}
	return "", false
}
