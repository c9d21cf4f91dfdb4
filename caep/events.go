package caep

import (
	"encoding/json"

	"github.com/sigshare/sigshare/event"
)

// The CAEP 1.0 event type URIs (CAEP §3).
const (
	EventTypeSessionRevoked         = BaseURI + "session-revoked"          // CAEP §3.1
	EventTypeTokenClaimsChange      = BaseURI + "token-claims-change"      // CAEP §3.2
	EventTypeCredentialChange       = BaseURI + "credential-change"        // CAEP §3.3
	EventTypeAssuranceLevelChange   = BaseURI + "assurance-level-change"   // CAEP §3.4
	EventTypeDeviceComplianceChange = BaseURI + "device-compliance-change" // CAEP §3.5
	EventTypeSessionEstablished     = BaseURI + "session-established"      // CAEP §3.6
	EventTypeSessionPresented       = BaseURI + "session-presented"        // CAEP §3.7
	EventTypeRiskLevelChange        = BaseURI + "risk-level-change"        // CAEP §3.8
)

// ---- §3.1 Session Revoked ----

// SessionRevoked is the CAEP §3.1 Session Revoked event (CAEP-6): the session identified
// by the subject has been revoked, or, for a subject that describes properties (user,
// device, tenant), every session matching them. It defines no claims of its own;
// EventTimestamp, if set, is the time of revocation.
//
// It replaces the deprecated RISC §2.11 sessions-revoked event (RISC-15).
type SessionRevoked struct {
	Common
	// Extra holds the payload members CAEP does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeSessionRevoked.
func (SessionRevoked) Type() string { return EventTypeSessionRevoked }

// Validate checks the common claims.
func (e SessionRevoked) Validate() error { return e.Common.validate(EventTypeSessionRevoked) }

// MarshalJSON encodes the payload after checking it with Validate.
func (e SessionRevoked) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeSessionRevoked, e.Extra)
	e.Common.write(w)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *SessionRevoked) UnmarshalJSON(data []byte) error {
	*e = SessionRevoked{}
	return decode(EventTypeSessionRevoked, data, &e.Common, &e.Extra, nil)
}

// ---- §3.2 Token Claims Change ----

// TokenClaimsChange is the CAEP §3.2 Token Claims Change event (CAEP-7): one or more
// claims of the token identified by the subject changed. EventTimestamp, if set, is when
// the claim values changed.
type TokenClaimsChange struct {
	Common
	// Claims is claims (REQUIRED): the changed claims with their new values, which may be
	// any JSON value. It must hold at least one claim. Decoded numbers are json.Number,
	// so that they keep their exact text.
	Claims map[string]any
	// Extra holds the payload members CAEP does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeTokenClaimsChange.
func (TokenClaimsChange) Type() string { return EventTypeTokenClaimsChange }

// Validate checks that Claims holds at least one claim and checks the common claims.
func (e TokenClaimsChange) Validate() error {
	if e.Claims == nil {
		return event.Required(EventTypeTokenClaimsChange, "claims")
	}
	if len(e.Claims) == 0 {
		return &event.Error{Type: EventTypeTokenClaimsChange, Member: "claims", Reason: "must hold at least one claim"}
	}
	return e.Common.validate(EventTypeTokenClaimsChange)
}

// MarshalJSON encodes the payload after checking it with Validate.
func (e TokenClaimsChange) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeTokenClaimsChange, e.Extra)
	w.Object("claims", e.Claims)
	e.Common.write(w)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *TokenClaimsChange) UnmarshalJSON(data []byte) error {
	*e = TokenClaimsChange{}
	return decode(EventTypeTokenClaimsChange, data, &e.Common, &e.Extra, func(r *event.PayloadReader) bool {
		if string(r.Key()) == "claims" {
			e.Claims = r.ReadObject()
			return true
		}
		return false
	})
}

// ---- §3.3 Credential Change ----

// ChangeType says how a credential changed (CAEP §3.3 change_type).
type ChangeType string

// The values CAEP §3.3 allows for change_type; no other value is valid.
const (
	ChangeTypeCreate ChangeType = "create"
	ChangeTypeRevoke ChangeType = "revoke"
	ChangeTypeUpdate ChangeType = "update"
	ChangeTypeDelete ChangeType = "delete"
)

// Valid reports whether t is one of the four values CAEP §3.3 allows.
func (t ChangeType) Valid() bool {
	switch t {
	case ChangeTypeCreate, ChangeTypeRevoke, ChangeTypeUpdate, ChangeTypeDelete:
		return true
	}
	return false
}

// CredentialChange is the CAEP §3.3 Credential Change event (CAEP-8): a credential was
// created, changed, revoked or deleted. EventTimestamp, if set, is when the change
// occurred.
type CredentialChange struct {
	Common
	// CredentialType is credential_type (REQUIRED). CAEP-8 lists standard values (the
	// event.CredentialType constants) "or any other type both parties support", so any
	// non-empty value is valid (e.g. Okta's "ALL_FACTORS").
	CredentialType event.CredentialType
	// ChangeType is change_type (REQUIRED): create, revoke, update or delete.
	ChangeType ChangeType
	// FriendlyName is friendly_name (OPTIONAL): the credential's friendly name.
	FriendlyName string
	// X509Issuer is x509_issuer (OPTIONAL): the certificate's issuer (RFC 5280).
	X509Issuer string
	// X509Serial is x509_serial (OPTIONAL): the certificate's serial number (RFC 5280).
	X509Serial string
	// FIDO2AAGUID is fido2_aaguid (OPTIONAL): the FIDO2 authenticator's AAGUID.
	FIDO2AAGUID string
	// Extra holds the payload members CAEP does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeCredentialChange.
func (CredentialChange) Type() string { return EventTypeCredentialChange }

// Validate checks the required members, change_type's value and the common claims.
func (e CredentialChange) Validate() error {
	const t = EventTypeCredentialChange
	if e.CredentialType == "" {
		return event.Required(t, "credential_type")
	}
	if e.ChangeType == "" {
		return event.Required(t, "change_type")
	}
	if !e.ChangeType.Valid() {
		return event.NotOneOf(t, "change_type", e.ChangeType,
			ChangeTypeCreate, ChangeTypeRevoke, ChangeTypeUpdate, ChangeTypeDelete)
	}
	return e.Common.validate(t)
}

// MarshalJSON encodes the payload after checking it with Validate.
func (e CredentialChange) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeCredentialChange, e.Extra)
	w.String("credential_type", string(e.CredentialType))
	w.String("change_type", string(e.ChangeType))
	w.String("friendly_name", e.FriendlyName)
	w.String("x509_issuer", e.X509Issuer)
	w.String("x509_serial", e.X509Serial)
	w.String("fido2_aaguid", e.FIDO2AAGUID)
	e.Common.write(w)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *CredentialChange) UnmarshalJSON(data []byte) error {
	*e = CredentialChange{}
	return decode(EventTypeCredentialChange, data, &e.Common, &e.Extra, func(r *event.PayloadReader) bool {
		switch string(r.Key()) {
		case "credential_type":
			e.CredentialType = event.CredentialType(r.ReadString())
		case "change_type":
			e.ChangeType = ChangeType(r.ReadString())
		case "friendly_name":
			e.FriendlyName = r.ReadString()
		case "x509_issuer":
			e.X509Issuer = r.ReadString()
		case "x509_serial":
			e.X509Serial = r.ReadString()
		case "fido2_aaguid":
			e.FIDO2AAGUID = r.ReadString()
		default:
			return false
		}
		return true
	})
}

// ---- §3.4 Assurance Level Change ----

// AssuranceNamespace names the system of assurance levels that an Assurance Level Change
// event's levels belong to (CAEP §3.4 namespace). Besides the listed values, T and R may
// agree on any alias for a custom namespace (CAEP-9), so any non-empty value is valid.
type AssuranceNamespace string

// The namespaces CAEP §3.4 lists.
const (
	NamespaceRFC8176     AssuranceNamespace = "RFC8176"
	NamespaceRFC6711     AssuranceNamespace = "RFC6711"
	NamespaceISOIEC29115 AssuranceNamespace = "ISO-IEC-29115"
	NamespaceNISTIAL     AssuranceNamespace = "NIST-IAL"
	NamespaceNISTAAL     AssuranceNamespace = "NIST-AAL"
	NamespaceNISTFAL     AssuranceNamespace = "NIST-FAL"
)

// IsStandard reports whether n is one of the namespaces CAEP §3.4 lists.
func (n AssuranceNamespace) IsStandard() bool {
	switch n {
	case NamespaceRFC8176, NamespaceRFC6711, NamespaceISOIEC29115, NamespaceNISTIAL, NamespaceNISTAAL, NamespaceNISTFAL:
		return true
	}
	return false
}

// ChangeDirection says whether an assurance level went up or down (CAEP §3.4
// change_direction).
type ChangeDirection string

// The values CAEP §3.4 allows for change_direction; no other value is valid.
const (
	ChangeDirectionIncrease ChangeDirection = "increase"
	ChangeDirectionDecrease ChangeDirection = "decrease"
)

// Valid reports whether d is increase or decrease.
func (d ChangeDirection) Valid() bool {
	return d == ChangeDirectionIncrease || d == ChangeDirectionDecrease
}

// AssuranceLevelChange is the CAEP §3.4 Assurance Level Change event (CAEP-9): the
// authentication assurance level changed since the initial login. EventTimestamp, if
// set, is when the level changed.
type AssuranceLevelChange struct {
	Common
	// Namespace is namespace (REQUIRED).
	Namespace AssuranceNamespace
	// CurrentLevel is current_level (REQUIRED): a level within Namespace, e.g.
	// "nist-aal2".
	CurrentLevel string
	// PreviousLevel is previous_level (OPTIONAL); when empty the receiver must assume
	// the transmitter does not know it.
	PreviousLevel string
	// ChangeDirection is change_direction (OPTIONAL; transmitters SHOULD give it along
	// with PreviousLevel): increase or decrease.
	ChangeDirection ChangeDirection
	// Extra holds the payload members CAEP does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeAssuranceLevelChange.
func (AssuranceLevelChange) Type() string { return EventTypeAssuranceLevelChange }

// Validate checks the required members, change_direction's value and the common claims.
func (e AssuranceLevelChange) Validate() error {
	const t = EventTypeAssuranceLevelChange
	if e.Namespace == "" {
		return event.Required(t, "namespace")
	}
	if e.CurrentLevel == "" {
		return event.Required(t, "current_level")
	}
	if e.ChangeDirection != "" && !e.ChangeDirection.Valid() {
		return event.NotOneOf(t, "change_direction", e.ChangeDirection, ChangeDirectionIncrease, ChangeDirectionDecrease)
	}
	return e.Common.validate(t)
}

// MarshalJSON encodes the payload after checking it with Validate.
func (e AssuranceLevelChange) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeAssuranceLevelChange, e.Extra)
	w.String("namespace", string(e.Namespace))
	w.String("current_level", e.CurrentLevel)
	w.String("previous_level", e.PreviousLevel)
	w.String("change_direction", string(e.ChangeDirection))
	e.Common.write(w)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *AssuranceLevelChange) UnmarshalJSON(data []byte) error {
	*e = AssuranceLevelChange{}
	return decode(EventTypeAssuranceLevelChange, data, &e.Common, &e.Extra, func(r *event.PayloadReader) bool {
		switch string(r.Key()) {
		case "namespace":
			e.Namespace = AssuranceNamespace(r.ReadString())
		case "current_level":
			e.CurrentLevel = r.ReadString()
		case "previous_level":
			e.PreviousLevel = r.ReadString()
		case "change_direction":
			e.ChangeDirection = ChangeDirection(r.ReadString())
		default:
			return false
		}
		return true
	})
}

// ---- §3.5 Device Compliance Change ----

// ComplianceStatus is a device's compliance with the transmitter's policy (CAEP §3.5
// previous_status and current_status).
type ComplianceStatus string

// The values CAEP §3.5 allows; no other value is valid.
const (
	StatusCompliant    ComplianceStatus = "compliant"
	StatusNotCompliant ComplianceStatus = "not-compliant"
)

// Valid reports whether s is compliant or not-compliant.
func (s ComplianceStatus) Valid() bool { return s == StatusCompliant || s == StatusNotCompliant }

// DeviceComplianceChange is the CAEP §3.5 Device Compliance Change event (CAEP-10): a
// device's compliance status changed. EventTimestamp, if set, is when it changed.
type DeviceComplianceChange struct {
	Common
	// PreviousStatus is previous_status (REQUIRED).
	PreviousStatus ComplianceStatus
	// CurrentStatus is current_status (REQUIRED).
	CurrentStatus ComplianceStatus
	// Extra holds the payload members CAEP does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeDeviceComplianceChange.
func (DeviceComplianceChange) Type() string { return EventTypeDeviceComplianceChange }

// Validate checks that both statuses are present and valid, and the common claims.
func (e DeviceComplianceChange) Validate() error {
	const t = EventTypeDeviceComplianceChange
	for _, m := range []struct {
		name string
		v    ComplianceStatus
	}{{"previous_status", e.PreviousStatus}, {"current_status", e.CurrentStatus}} {
		if m.v == "" {
			return event.Required(t, m.name)
		}
		if !m.v.Valid() {
			return event.NotOneOf(t, m.name, m.v, StatusCompliant, StatusNotCompliant)
		}
	}
	return e.Common.validate(t)
}

// MarshalJSON encodes the payload after checking it with Validate.
func (e DeviceComplianceChange) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeDeviceComplianceChange, e.Extra)
	w.String("previous_status", string(e.PreviousStatus))
	w.String("current_status", string(e.CurrentStatus))
	e.Common.write(w)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *DeviceComplianceChange) UnmarshalJSON(data []byte) error {
	*e = DeviceComplianceChange{}
	return decode(EventTypeDeviceComplianceChange, data, &e.Common, &e.Extra, func(r *event.PayloadReader) bool {
		switch string(r.Key()) {
		case "previous_status":
			e.PreviousStatus = ComplianceStatus(r.ReadString())
		case "current_status":
			e.CurrentStatus = ComplianceStatus(r.ReadString())
		default:
			return false
		}
		return true
	})
}

// ---- §3.6 Session Established ----

// SessionEstablished is the CAEP §3.6 Session Established event (CAEP-11): the
// transmitter established a new session for the subject. EventTimestamp, if set, is
// when. Every claim is optional.
type SessionEstablished struct {
	Common
	// FingerprintUserAgent is fp_ua: a fingerprint of the user agent, computed by the
	// transmitter. It describes the session; it does not identify it.
	FingerprintUserAgent string
	// ACR is acr: the authentication context class reference, as in an OpenID Connect ID
	// Token.
	ACR string
	// AMR is amr: the authentication methods references, as in an OpenID Connect ID
	// Token; a JSON array of strings (a bare string is rejected).
	AMR []string
	// ExternalSessionID is ext_id: an identifier of a broader session (e.g. a federated
	// SAML session) this session belongs to.
	ExternalSessionID string
	// Extra holds the payload members CAEP does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeSessionEstablished.
func (SessionEstablished) Type() string { return EventTypeSessionEstablished }

// Validate checks the common claims.
func (e SessionEstablished) Validate() error {
	return e.Common.validate(EventTypeSessionEstablished)
}

// MarshalJSON encodes the payload after checking it with Validate.
func (e SessionEstablished) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeSessionEstablished, e.Extra)
	w.String("fp_ua", e.FingerprintUserAgent)
	w.String("acr", e.ACR)
	w.Strings("amr", e.AMR)
	w.String("ext_id", e.ExternalSessionID)
	e.Common.write(w)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *SessionEstablished) UnmarshalJSON(data []byte) error {
	*e = SessionEstablished{}
	return decode(EventTypeSessionEstablished, data, &e.Common, &e.Extra, func(r *event.PayloadReader) bool {
		switch string(r.Key()) {
		case "fp_ua":
			e.FingerprintUserAgent = r.ReadString()
		case "acr":
			e.ACR = r.ReadString()
		case "amr":
			e.AMR = r.ReadStrings()
		case "ext_id":
			e.ExternalSessionID = r.ReadString()
		default:
			return false
		}
		return true
	})
}

// ---- §3.7 Session Presented ----

// SessionPresented is the CAEP §3.7 Session Presented event (CAEP-12): the session was
// presented to the transmitter at EventTimestamp. Every claim is optional.
type SessionPresented struct {
	Common
	// FingerprintUserAgent is fp_ua, as in SessionEstablished.
	FingerprintUserAgent string
	// ExternalSessionID is ext_id, as in SessionEstablished.
	ExternalSessionID string
	// Extra holds the payload members CAEP does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeSessionPresented.
func (SessionPresented) Type() string { return EventTypeSessionPresented }

// Validate checks the common claims.
func (e SessionPresented) Validate() error {
	return e.Common.validate(EventTypeSessionPresented)
}

// MarshalJSON encodes the payload after checking it with Validate.
func (e SessionPresented) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeSessionPresented, e.Extra)
	w.String("fp_ua", e.FingerprintUserAgent)
	w.String("ext_id", e.ExternalSessionID)
	e.Common.write(w)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *SessionPresented) UnmarshalJSON(data []byte) error {
	*e = SessionPresented{}
	return decode(EventTypeSessionPresented, data, &e.Common, &e.Extra, func(r *event.PayloadReader) bool {
		switch string(r.Key()) {
		case "fp_ua":
			e.FingerprintUserAgent = r.ReadString()
		case "ext_id":
			e.ExternalSessionID = r.ReadString()
		default:
			return false
		}
		return true
	})
}

// ---- §3.8 Risk Level Change ----

// RiskLevel is a risk level (CAEP §3.8 current_level and previous_level). The values are
// upper case and compared exactly.
type RiskLevel string

// The values CAEP §3.8 allows; no other value is valid.
const (
	RiskLevelLow    RiskLevel = "LOW"
	RiskLevelMedium RiskLevel = "MEDIUM"
	RiskLevelHigh   RiskLevel = "HIGH"
)

// Valid reports whether l is LOW, MEDIUM or HIGH.
func (l RiskLevel) Valid() bool {
	return l == RiskLevelLow || l == RiskLevelMedium || l == RiskLevelHigh
}

// Principal names the kind of entity a risk level concerns (CAEP §3.8 principal).
// Besides the listed values, any other entity SSF §2 defines is allowed, so any
// non-empty value is valid.
type Principal string

// The principals CAEP §3.8 lists.
const (
	PrincipalUser    Principal = "USER"
	PrincipalDevice  Principal = "DEVICE"
	PrincipalSession Principal = "SESSION"
	PrincipalTenant  Principal = "TENANT"
	PrincipalOrgUnit Principal = "ORG_UNIT"
	PrincipalGroup   Principal = "GROUP"
)

// IsStandard reports whether p is one of the principals CAEP §3.8 lists.
func (p Principal) IsStandard() bool {
	switch p {
	case PrincipalUser, PrincipalDevice, PrincipalSession, PrincipalTenant, PrincipalOrgUnit, PrincipalGroup:
		return true
	}
	return false
}

// RiskLevelChange is the CAEP §3.8 Risk Level Change event (CAEP-13): the transmitter's
// assessment of the subject's risk changed at EventTimestamp.
type RiskLevelChange struct {
	Common
	// RiskReason is risk_reason (RECOMMENDED), e.g. "PASSWORD_FOUND_IN_DATA_BREACH".
	RiskReason string
	// Principal is principal (REQUIRED): the entity the risk concerns.
	Principal Principal
	// CurrentLevel is current_level (REQUIRED).
	CurrentLevel RiskLevel
	// PreviousLevel is previous_level (OPTIONAL); when empty the receiver must assume
	// the transmitter does not know it.
	PreviousLevel RiskLevel
	// Extra holds the payload members CAEP does not define, verbatim.
	Extra map[string]json.RawMessage
}

// Type returns EventTypeRiskLevelChange.
func (RiskLevelChange) Type() string { return EventTypeRiskLevelChange }

// Validate checks the required members, the levels' values and the common claims.
func (e RiskLevelChange) Validate() error {
	const t = EventTypeRiskLevelChange
	if e.Principal == "" {
		return event.Required(t, "principal")
	}
	if e.CurrentLevel == "" {
		return event.Required(t, "current_level")
	}
	if !e.CurrentLevel.Valid() {
		return event.NotOneOf(t, "current_level", e.CurrentLevel, RiskLevelLow, RiskLevelMedium, RiskLevelHigh)
	}
	if e.PreviousLevel != "" && !e.PreviousLevel.Valid() {
		return event.NotOneOf(t, "previous_level", e.PreviousLevel, RiskLevelLow, RiskLevelMedium, RiskLevelHigh)
	}
	return e.Common.validate(t)
}

// MarshalJSON encodes the payload after checking it with Validate.
func (e RiskLevelChange) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	w := event.NewPayloadWriter(EventTypeRiskLevelChange, e.Extra)
	w.String("principal", string(e.Principal))
	w.String("current_level", string(e.CurrentLevel))
	w.String("previous_level", string(e.PreviousLevel))
	w.String("risk_reason", e.RiskReason)
	e.Common.write(w)
	return w.Bytes()
}

// UnmarshalJSON decodes a payload, replacing every field of e.
func (e *RiskLevelChange) UnmarshalJSON(data []byte) error {
	*e = RiskLevelChange{}
	return decode(EventTypeRiskLevelChange, data, &e.Common, &e.Extra, func(r *event.PayloadReader) bool {
		switch string(r.Key()) {
		case "risk_reason":
			e.RiskReason = r.ReadString()
		case "principal":
			e.Principal = Principal(r.ReadString())
		case "current_level":
			e.CurrentLevel = RiskLevel(r.ReadString())
		case "previous_level":
			e.PreviousLevel = RiskLevel(r.ReadString())
		default:
			return false
		}
		return true
	})
}
