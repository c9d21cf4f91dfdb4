package risc

import "github.com/sigshare/sigshare/event"

// Register adds the fourteen RISC 1.0 event types to r, the deprecated sessions-revoked
// included (receivers still meet it; its Go type implements event.Deprecated). Decoding
// yields pointers, e.g. *AccountDisabled. It fails when one of them is registered
// already.
func Register(r *event.Registry) error {
	for _, t := range []struct {
		uri string
		new func() event.Event
	}{
		{EventTypeAccountCredentialChangeRequired, func() event.Event { return new(AccountCredentialChangeRequired) }},
		{EventTypeAccountPurged, func() event.Event { return new(AccountPurged) }},
		{EventTypeAccountDisabled, func() event.Event { return new(AccountDisabled) }},
		{EventTypeAccountEnabled, func() event.Event { return new(AccountEnabled) }},
		{EventTypeIdentifierChanged, func() event.Event { return new(IdentifierChanged) }},
		{EventTypeIdentifierRecycled, func() event.Event { return new(IdentifierRecycled) }},
		{EventTypeCredentialCompromise, func() event.Event { return new(CredentialCompromise) }},
		{EventTypeOptIn, func() event.Event { return new(OptIn) }},
		{EventTypeOptOutInitiated, func() event.Event { return new(OptOutInitiated) }},
		{EventTypeOptOutCancelled, func() event.Event { return new(OptOutCancelled) }},
		{EventTypeOptOutEffective, func() event.Event { return new(OptOutEffective) }},
		{EventTypeRecoveryActivated, func() event.Event { return new(RecoveryActivated) }},
		{EventTypeRecoveryInformationChanged, func() event.Event { return new(RecoveryInformationChanged) }},
		{EventTypeSessionsRevoked, func() event.Event { return new(SessionsRevoked) }},
	} {
		if err := r.Register(t.uri, t.new); err != nil {
			return err
		}
	}
	return nil
}
