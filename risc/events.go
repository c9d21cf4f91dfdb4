package risc

import (
	"encoding/json"

	"github.com/sigshare/sigshare/event"
)

// BaseURI is the prefix of every RISC event type URI (RISC §2, RISC-1).
const BaseURI = "https://schemas.openid.net/secevent/risc/event-type/"

// The RISC 1.0 event type URIs (RISC §2).
const (
	EventTypeAccountCredentialChangeRequired = BaseURI + "account-credential-change-required" // RISC §2.1
	EventTypeAccountPurged                   = BaseURI + "account-purged"                     // RISC §2.2
	EventTypeAccountDisabled                 = BaseURI + "account-disabled"                   // RISC §2.3
	EventTypeAccountEnabled                  = BaseURI + "account-enabled"                    // RISC §2.4
	EventTypeIdentifierChanged               = BaseURI + "identifier-changed"                 // RISC §2.5
	EventTypeIdentifierRecycled              = BaseURI + "identifier-recycled"                // RISC §2.6
	EventTypeCredentialCompromise            = BaseURI + "credential-compromise"              // RISC §2.7
	EventTypeOptIn                           = BaseURI + "opt-in"                             // RISC §2.8.1
	EventTypeOptOutInitiated                 = BaseURI + "opt-out-initiated"                  // RISC §2.8.2
	EventTypeOptOutCancelled                 = BaseURI + "opt-out-cancelled"                  // RISC §2.8.3
	EventTypeOptOutEffective                 = BaseURI + "opt-out-effective"                  // RISC §2.8.4
	EventTypeRecoveryActivated               = BaseURI + "recovery-activated"                 // RISC §2.9
	EventTypeRecoveryInformationChanged      = BaseURI + "recovery-information-changed"       // RISC §2.10
	EventTypeSessionsRevoked                 = BaseURI + "sessions-revoked"                   // RISC §2.11, deprecated
)

// decodeEmpty reads the payload of an event type that defines no members: every member
// is kept in *extra.
func decodeEmpty(typ string, data []byte, extra *map[string]json.RawMessage) error {
	r, err := event.NewPayloadReader(typ, data)
	if err != nil {
		return err
	}
	for r.Next() {
		r.Keep(extra)
	}
	return r.Err()
}

// encodeEmpty writes the payload of an event type that defines no members: {} plus the
// extra members.
func encodeEmpty(typ string, extra map[string]json.RawMessage) ([]byte, error) {
	return event.NewPayloadWriter(typ, extra).Bytes()
}

// AccountCredentialChangeRequired is the RISC §2.1 Account Credential Change Required event (RISC-2): the account was required to change a credential, e.g. a forced password change. It
// defines no payload members; its payload is {}.
type AccountCredentialChangeRequired struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeAccountCredentialChangeRequired.
func (AccountCredentialChangeRequired) Type() string { return EventTypeAccountCredentialChangeRequired }

// Validate reports nothing: the event type defines no members.
func (AccountCredentialChangeRequired) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e AccountCredentialChangeRequired) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeAccountCredentialChangeRequired, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *AccountCredentialChangeRequired) UnmarshalJSON(data []byte) error {
	*e = AccountCredentialChangeRequired{}
	return decodeEmpty(EventTypeAccountCredentialChangeRequired, data, &e.Extra)
}

// AccountPurged is the RISC §2.2 Account Purged event (RISC-3): the account was permanently deleted. It
// defines no payload members; its payload is {}.
type AccountPurged struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeAccountPurged.
func (AccountPurged) Type() string { return EventTypeAccountPurged }

// Validate reports nothing: the event type defines no members.
func (AccountPurged) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e AccountPurged) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeAccountPurged, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *AccountPurged) UnmarshalJSON(data []byte) error {
	*e = AccountPurged{}
	return decodeEmpty(EventTypeAccountPurged, data, &e.Extra)
}

// AccountEnabled is the RISC §2.4 Account Enabled event (RISC-5): the account was enabled. It
// defines no payload members; its payload is {}.
type AccountEnabled struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeAccountEnabled.
func (AccountEnabled) Type() string { return EventTypeAccountEnabled }

// Validate reports nothing: the event type defines no members.
func (AccountEnabled) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e AccountEnabled) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeAccountEnabled, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *AccountEnabled) UnmarshalJSON(data []byte) error {
	*e = AccountEnabled{}
	return decodeEmpty(EventTypeAccountEnabled, data, &e.Extra)
}

// IdentifierRecycled is the RISC §2.6 Identifier Recycled event (RISC-7): the identifier (sub_id: an email address or phone number, RISC-17) now belongs to a different user. It
// defines no payload members; its payload is {}.
type IdentifierRecycled struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeIdentifierRecycled.
func (IdentifierRecycled) Type() string { return EventTypeIdentifierRecycled }

// Validate reports nothing: the event type defines no members.
func (IdentifierRecycled) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e IdentifierRecycled) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeIdentifierRecycled, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *IdentifierRecycled) UnmarshalJSON(data []byte) error {
	*e = IdentifierRecycled{}
	return decodeEmpty(EventTypeIdentifierRecycled, data, &e.Extra)
}

// OptIn is the RISC §2.8.1 Opt In event (RISC-9): the account opted in to RISC event exchange; its opt-out state is now opt-in. It
// defines no payload members; its payload is {}.
type OptIn struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeOptIn.
func (OptIn) Type() string { return EventTypeOptIn }

// Validate reports nothing: the event type defines no members.
func (OptIn) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e OptIn) MarshalJSON() ([]byte, error) { return encodeEmpty(EventTypeOptIn, e.Extra) }

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *OptIn) UnmarshalJSON(data []byte) error {
	*e = OptIn{}
	return decodeEmpty(EventTypeOptIn, data, &e.Extra)
}

// OptOutInitiated is the RISC §2.8.2 Opt Out Initiated event (RISC-10): the user asked to opt out; events still flow for a while (so that a hijacker cannot opt out at once), the state is opt-out-initiated. It
// defines no payload members; its payload is {}.
type OptOutInitiated struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeOptOutInitiated.
func (OptOutInitiated) Type() string { return EventTypeOptOutInitiated }

// Validate reports nothing: the event type defines no members.
func (OptOutInitiated) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e OptOutInitiated) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeOptOutInitiated, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *OptOutInitiated) UnmarshalJSON(data []byte) error {
	*e = OptOutInitiated{}
	return decodeEmpty(EventTypeOptOutInitiated, data, &e.Extra)
}

// OptOutCancelled is the RISC §2.8.3 Opt Out Cancelled event (RISC-11): the user cancelled the opt-out; the state is opt-in again. It
// defines no payload members; its payload is {}.
type OptOutCancelled struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeOptOutCancelled.
func (OptOutCancelled) Type() string { return EventTypeOptOutCancelled }

// Validate reports nothing: the event type defines no members.
func (OptOutCancelled) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e OptOutCancelled) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeOptOutCancelled, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *OptOutCancelled) UnmarshalJSON(data []byte) error {
	*e = OptOutCancelled{}
	return decodeEmpty(EventTypeOptOutCancelled, data, &e.Extra)
}

// OptOutEffective is the RISC §2.8.4 Opt Out Effective event (RISC-12): the opt-out took effect; the state is opt-out. It
// defines no payload members; its payload is {}.
type OptOutEffective struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeOptOutEffective.
func (OptOutEffective) Type() string { return EventTypeOptOutEffective }

// Validate reports nothing: the event type defines no members.
func (OptOutEffective) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e OptOutEffective) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeOptOutEffective, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *OptOutEffective) UnmarshalJSON(data []byte) error {
	*e = OptOutEffective{}
	return decodeEmpty(EventTypeOptOutEffective, data, &e.Extra)
}

// RecoveryActivated is the RISC §2.9 Recovery Activated event (RISC-13): the account activated a recovery flow. It
// defines no payload members; its payload is {}.
type RecoveryActivated struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeRecoveryActivated.
func (RecoveryActivated) Type() string { return EventTypeRecoveryActivated }

// Validate reports nothing: the event type defines no members.
func (RecoveryActivated) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e RecoveryActivated) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeRecoveryActivated, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *RecoveryActivated) UnmarshalJSON(data []byte) error {
	*e = RecoveryActivated{}
	return decodeEmpty(EventTypeRecoveryActivated, data, &e.Extra)
}

// RecoveryInformationChanged is the RISC §2.10 Recovery Information Changed event (RISC-14): the account's recovery information changed (e.g. a recovery email address was added or removed). It
// defines no payload members; its payload is {}.
type RecoveryInformationChanged struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeRecoveryInformationChanged.
func (RecoveryInformationChanged) Type() string { return EventTypeRecoveryInformationChanged }

// Validate reports nothing: the event type defines no members.
func (RecoveryInformationChanged) Validate() error { return nil }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e RecoveryInformationChanged) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeRecoveryInformationChanged, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *RecoveryInformationChanged) UnmarshalJSON(data []byte) error {
	*e = RecoveryInformationChanged{}
	return decodeEmpty(EventTypeRecoveryInformationChanged, data, &e.Extra)
}
