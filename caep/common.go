package caep

import (
	"encoding/json"

	"github.com/sigshare/sigshare/event"
)

// BaseURI is the prefix of every CAEP event type URI (CAEP §3, CAEP-1).
const BaseURI = "https://schemas.openid.net/secevent/caep/event-type/"

// InitiatingEntity says what initiated an event (CAEP §2 initiating_entity, CAEP-3).
type InitiatingEntity string

// The values CAEP §2 allows for initiating_entity; no other value is valid.
const (
	InitiatingEntityAdmin  InitiatingEntity = "admin"  // an administrative action
	InitiatingEntityUser   InitiatingEntity = "user"   // an end-user action
	InitiatingEntityPolicy InitiatingEntity = "policy" // a policy evaluation
	InitiatingEntitySystem InitiatingEntity = "system" // a system or platform assertion
)

// Valid reports whether e is one of the four values CAEP §2 allows.
func (e InitiatingEntity) Valid() bool {
	switch e {
	case InitiatingEntityAdmin, InitiatingEntityUser, InitiatingEntityPolicy, InitiatingEntitySystem:
		return true
	}
	return false
}

// Common holds the optional claims that CAEP §2 defines for every CAEP event
// (CAEP-2..CAEP-5). Every event type in this package embeds it. Its zero value carries
// none of them.
type Common struct {
	// EventTimestamp is event_timestamp: when the event happened, in seconds (CAEP-2).
	// Each event type says which moment it denotes. Zero means absent.
	EventTimestamp event.Timestamp
	// InitiatingEntity is initiating_entity (CAEP-3); empty means absent.
	InitiatingEntity InitiatingEntity
	// ReasonAdmin is reason_admin, a language-tagged message for administrators
	// (CAEP-4); nil means absent.
	ReasonAdmin event.Localized
	// ReasonUser is reason_user, a language-tagged message for the end user (CAEP-5);
	// nil means absent.
	ReasonUser event.Localized
}

// read decodes the current member into c when it is one of the common claims.
func (c *Common) read(r *event.PayloadReader) bool {
	switch string(r.Key()) {
	case "event_timestamp":
		c.EventTimestamp = r.ReadTimestamp()
	case "initiating_entity":
		c.InitiatingEntity = InitiatingEntity(r.ReadString())
	case "reason_admin":
		c.ReasonAdmin = r.ReadLocalized()
	case "reason_user":
		c.ReasonUser = r.ReadLocalized()
	default:
		return false
	}
	return true
}

func (c *Common) write(w *event.PayloadWriter) {
	w.Timestamp("event_timestamp", c.EventTimestamp)
	w.String("initiating_entity", string(c.InitiatingEntity))
	w.Localized("reason_admin", c.ReasonAdmin)
	w.Localized("reason_user", c.ReasonUser)
}

// validate checks the common claims of an event of type typ.
func (c *Common) validate(typ string) error {
	if c.InitiatingEntity != "" && !c.InitiatingEntity.Valid() {
		return event.NotOneOf(typ, "initiating_entity", c.InitiatingEntity,
			InitiatingEntityAdmin, InitiatingEntityUser, InitiatingEntityPolicy, InitiatingEntitySystem)
	}
	if c.ReasonAdmin != nil {
		if err := c.ReasonAdmin.Validate(); err != nil {
			return &event.Error{Type: typ, Member: "reason_admin", Reason: err.Error()}
		}
	}
	if c.ReasonUser != nil {
		if err := c.ReasonUser.Validate(); err != nil {
			return &event.Error{Type: typ, Member: "reason_user", Reason: err.Error()}
		}
	}
	return nil
}

// decode reads data as the payload of an event of type typ: own decodes the members the
// event type defines (reporting whether it did), c the common claims, and every other
// member is kept in *extra.
func decode(typ string, data []byte, c *Common, extra *map[string]json.RawMessage, own func(*event.PayloadReader) bool) error {
	r, err := event.NewPayloadReader(typ, data)
	if err != nil {
		return err
	}
	for r.Next() {
		if own != nil && own(r) {
			continue
		}
		if !c.read(r) {
			r.Keep(extra)
		}
	}
	return r.Err()
}
