package ssf

import (
	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/risc"
)

// RegisterEvents adds the SSF event types, Verification and StreamUpdated, to r, with
// their legacy URIs as aliases (DIFF-3): verification under the sse and risc namespaces,
// stream-updated under the sse namespace and SGNL's caep namespace. Decoding yields
// *Verification and *StreamUpdated. It fails when one of them is registered already.
func RegisterEvents(r *event.Registry) error {
	if err := r.Register(EventTypeVerification, func() event.Event { return new(Verification) }); err != nil {
		return err
	}
	if err := r.Register(EventTypeStreamUpdated, func() event.Event { return new(StreamUpdated) }); err != nil {
		return err
	}
	for _, a := range [...]struct{ alias, canonical string }{
		{LegacyEventTypeVerificationSSE, EventTypeVerification},
		{LegacyEventTypeVerificationRISC, EventTypeVerification},
		{LegacyEventTypeStreamUpdatedSSE, EventTypeStreamUpdated},
		{LegacyEventTypeStreamUpdatedCAEP, EventTypeStreamUpdated},
	} {
		if err := r.Alias(a.alias, a.canonical); err != nil {
			return err
		}
	}
	return nil
}

// DefaultRegistry returns a new registry holding every CAEP 1.0 event type
// (caep.Register), every RISC 1.0 event type (risc.Register), the SSF event types and
// their legacy aliases (RegisterEvents). Each call returns a new registry, which the
// caller may extend with its own event types.
func DefaultRegistry() *event.Registry {
	r := event.NewRegistry()
	for _, register := range [...]func(*event.Registry) error{caep.Register, risc.Register, RegisterEvents} {
		if err := register(r); err != nil {
			// The three sets of type URIs are disjoint constants: this cannot happen.
			panic("ssf: building the default event registry: " + err.Error())
		}
	}
	return r
}
