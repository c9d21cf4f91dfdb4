package risc

import (
	"encoding/json"

	"github.com/sigshare/sigshare/event"
)

// DisabledReason says why an account was disabled (RISC §2.3 reason).
//
// RISC lists "possible values" without saying that others are forbidden, so any
// non-empty value is valid; IsStandard tells whether a value is one of the listed ones.
type DisabledReason string

// The reasons RISC §2.3 lists.
const (
	// ReasonHijacking: the account was disabled because it was hijacked.
	ReasonHijacking DisabledReason = "hijacking"
	// ReasonBulkAccount: the account was disabled because it was used for bulk
	// activity (spam, fraud).
	ReasonBulkAccount DisabledReason = "bulk-account"
)

// IsStandard reports whether r is hijacking or bulk-account.
func (r DisabledReason) IsStandard() bool { return r == ReasonHijacking || r == ReasonBulkAccount }

// AccountDisabled is the RISC §2.3 Account Disabled event (RISC-4): the account was
// disabled and may be enabled again later.
type AccountDisabled struct {
	// Reason is reason (OPTIONAL).
	Reason DisabledReason
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeAccountDisabled.
func (AccountDisabled) Type() string { return EventTypeAccountDisabled }

// Validate reports nothing: the only member is optional and open-ended.
func (AccountDisabled) Validate() error { return nil }

// MarshalJSON encodes the payload.
func (e AccountDisabled) MarshalJSON() ([]byte, error) {
	w := event.NewPayloadWriter(EventTypeAccountDisabled, e.Extra)
	w.String("reason", string(e.Reason))
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *AccountDisabled) UnmarshalJSON(data []byte) error {
	*e = AccountDisabled{}
	r, err := event.NewPayloadReader(EventTypeAccountDisabled, data)
	if err != nil {
		return err
	}
	for r.Next() {
		if string(r.Key()) == "reason" {
			e.Reason = DisabledReason(r.ReadString())
		} else {
			r.Keep(&e.Extra)
		}
	}
	return r.Err()
}

// IdentifierChanged is the RISC §2.5 Identifier Changed event (RISC-6): the subject's
// identifier changed. The SET's sub_id carries the old value, as an email or phone
// number subject (RISC-16); NewValue the new one.
type IdentifierChanged struct {
	// NewValue is new-value (OPTIONAL; note the hyphen): the new identifier.
	NewValue string
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeIdentifierChanged.
func (IdentifierChanged) Type() string { return EventTypeIdentifierChanged }

// Validate reports nothing: the only member is optional.
func (IdentifierChanged) Validate() error { return nil }

// MarshalJSON encodes the payload.
func (e IdentifierChanged) MarshalJSON() ([]byte, error) {
	w := event.NewPayloadWriter(EventTypeIdentifierChanged, e.Extra)
	w.String("new-value", e.NewValue)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *IdentifierChanged) UnmarshalJSON(data []byte) error {
	*e = IdentifierChanged{}
	r, err := event.NewPayloadReader(EventTypeIdentifierChanged, data)
	if err != nil {
		return err
	}
	for r.Next() {
		if string(r.Key()) == "new-value" {
			e.NewValue = r.ReadString()
		} else {
			r.Keep(&e.Extra)
		}
	}
	return r.Err()
}

// CredentialCompromise is the RISC §2.7 Credential Compromise event (RISC-8): a
// credential of the subject was found to be compromised.
type CredentialCompromise struct {
	// CredentialType is credential_type (REQUIRED), from the CAEP §3.3 list or any other
	// type both parties support (see event.CredentialType).
	CredentialType event.CredentialType
	// EventTimestamp is event_timestamp (OPTIONAL): when the transmitter discovered the
	// compromise, in seconds. Zero means absent.
	EventTimestamp event.Timestamp
	// ReasonAdmin is reason_admin (OPTIONAL), a language-tagged message for
	// administrators, in the CAEP §2 form (AMB-2).
	ReasonAdmin event.Localized
	// ReasonUser is reason_user (OPTIONAL), a language-tagged message for the end user,
	// in the CAEP §2 form (AMB-2).
	ReasonUser event.Localized
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeCredentialCompromise.
func (CredentialCompromise) Type() string { return EventTypeCredentialCompromise }

// Validate checks that credential_type is present and that the reasons are well formed.
func (e CredentialCompromise) Validate() error {
	const t = EventTypeCredentialCompromise
	if e.CredentialType == "" {
		return event.Required(t, "credential_type")
	}
	if e.ReasonAdmin != nil {
		if err := e.ReasonAdmin.Validate(); err != nil {
			return &event.Error{Type: t, Member: "reason_admin", Reason: err.Error()}
		}
	}
	if e.ReasonUser != nil {
		if err := e.ReasonUser.Validate(); err != nil {
			return &event.Error{Type: t, Member: "reason_user", Reason: err.Error()}
		}
	}
	return nil
}

// MarshalJSON encodes the payload after checking it with Validate.
func (e CredentialCompromise) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeCredentialCompromise, e.Extra)
	w.String("credential_type", string(e.CredentialType))
	w.Timestamp("event_timestamp", e.EventTimestamp)
	w.Localized("reason_admin", e.ReasonAdmin)
	w.Localized("reason_user", e.ReasonUser)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *CredentialCompromise) UnmarshalJSON(data []byte) error {
	*e = CredentialCompromise{}
	r, err := event.NewPayloadReader(EventTypeCredentialCompromise, data)
	if err != nil {
		return err
	}
	for r.Next() {
		switch string(r.Key()) {
		case "credential_type":
			e.CredentialType = event.CredentialType(r.ReadString())
		case "event_timestamp":
			e.EventTimestamp = r.ReadTimestamp()
		case "reason_admin":
			e.ReasonAdmin = r.ReadLocalized()
		case "reason_user":
			e.ReasonUser = r.ReadLocalized()
		default:
			r.Keep(&e.Extra)
		}
	}
	return r.Err()
}

// sessionRevokedURI is CAEP §3.1 session-revoked, which replaces SessionsRevoked. (Package
// risc does not import package caep: they are siblings.)
const sessionRevokedURI = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"

// SessionsRevoked is the RISC §2.11 Sessions Revoked event (RISC-15): all sessions of the
// account were revoked. It defines no payload members.
//
// RISC 1.0 deprecates this event type: new implementations MUST send CAEP
// session-revoked instead. Receivers still decode it (older RISC transmitters, Google,
// send it); it implements event.Deprecated so that a signer refuses to emit it. (The Go
// doc "Deprecated:" marker is not used on purpose: receivers must keep handling this type
// without linters flagging them.)
type SessionsRevoked struct {
	// Extra holds the payload members RISC does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeSessionsRevoked.
func (SessionsRevoked) Type() string { return EventTypeSessionsRevoked }

// Validate reports nothing: the event type defines no members.
func (SessionsRevoked) Validate() error { return nil }

// ReplacedBy returns the CAEP session-revoked type URI (event.Deprecated).
func (SessionsRevoked) ReplacedBy() string { return sessionRevokedURI }

// MarshalJSON encodes the payload: {} plus the members in Extra.
func (e SessionsRevoked) MarshalJSON() ([]byte, error) {
	return encodeEmpty(EventTypeSessionsRevoked, e.Extra)
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *SessionsRevoked) UnmarshalJSON(data []byte) error {
	*e = SessionsRevoked{}
	return decodeEmpty(EventTypeSessionsRevoked, data, &e.Extra)
}
