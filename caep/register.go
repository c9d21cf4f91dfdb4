package caep

import "github.com/sigshare/sigshare/event"

// Register adds the eight CAEP 1.0 event types to r. Decoding yields pointers:
// *SessionRevoked, *TokenClaimsChange, *CredentialChange, *AssuranceLevelChange,
// *DeviceComplianceChange, *SessionEstablished, *SessionPresented, *RiskLevelChange.
// It fails when one of them is registered already.
func Register(r *event.Registry) error {
	for _, t := range []struct {
		uri string
		new func() event.Event
	}{
		{EventTypeSessionRevoked, func() event.Event { return new(SessionRevoked) }},
		{EventTypeTokenClaimsChange, func() event.Event { return new(TokenClaimsChange) }},
		{EventTypeCredentialChange, func() event.Event { return new(CredentialChange) }},
		{EventTypeAssuranceLevelChange, func() event.Event { return new(AssuranceLevelChange) }},
		{EventTypeDeviceComplianceChange, func() event.Event { return new(DeviceComplianceChange) }},
		{EventTypeSessionEstablished, func() event.Event { return new(SessionEstablished) }},
		{EventTypeSessionPresented, func() event.Event { return new(SessionPresented) }},
		{EventTypeRiskLevelChange, func() event.Event { return new(RiskLevelChange) }},
	} {
		if err := r.Register(t.uri, t.new); err != nil {
			return err
		}
	}
	return nil
}
