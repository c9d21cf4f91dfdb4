package ssf

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// StreamConfig is a stream configuration (SSF §8.1.1; digest §5.2): the body of a
// create (POST) or replace (PUT) request and of every configuration the Transmitter
// returns.
//
// Transmitter-supplied members: stream_id, iss, aud, events_supported,
// events_delivered, min_verification_interval, inactivity_timeout, and the poll
// delivery endpoint_url. Receiver-supplied members: events_requested, delivery (method,
// push endpoint_url, authorization_header) and description.
//
// Presence: a nil slice or pointer is an absent member; an empty non-nil slice is a
// present empty array (decoding keeps the difference, encoding writes [] for it). This
// matters for replace, where an absent Receiver-supplied member is a request to delete
// it (SSF §8.1.1.4), and for events_delivered, which a complete configuration always
// carries (possibly as []).
type StreamConfig struct {
	// StreamID is "stream_id" (Transmitter-supplied, REQUIRED in a configuration).
	StreamID string
	// Issuer is "iss" (Transmitter-supplied, REQUIRED): https URL without query or
	// fragment, identical to the "iss" of the stream's SETs.
	Issuer string
	// Audience is "aud" (Transmitter-supplied, REQUIRED): the Receiver(s).
	Audience Audience
	// EventsSupported is "events_supported" (Transmitter-supplied, OPTIONAL).
	EventsSupported []string
	// EventsRequested is "events_requested" (Receiver-supplied, OPTIONAL; SHOULD NOT be
	// empty).
	EventsRequested []string
	// EventsDelivered is "events_delivered" (Transmitter-supplied, REQUIRED): the event
	// types the Receiver must expect.
	EventsDelivered []string
	// Delivery is "delivery" (REQUIRED in a configuration; a create request without it
	// asks for poll delivery, SSF §8.1.1.1, AMB-4).
	Delivery *Delivery
	// MinVerificationInterval is "min_verification_interval" in seconds
	// (Transmitter-supplied, OPTIONAL).
	MinVerificationInterval *int
	// Description is "description" (Receiver-supplied, OPTIONAL).
	Description string
	// InactivityTimeout is "inactivity_timeout" in seconds (Transmitter-supplied,
	// OPTIONAL).
	InactivityTimeout *int
	// Extra holds members this type does not define, unchanged (for example the ID1
	// "format" member, DIFF-8).
	Extra map[string]json.RawMessage
}

const objStream = "stream configuration"

func streamReserved(name string) bool {
	switch name {
	case "stream_id", "iss", "aud", "events_supported", "events_requested",
		"events_delivered", "delivery", "min_verification_interval", "description",
		"inactivity_timeout":
		return true
	}
	return false
}

// MarshalJSON implements json.Marshaler. Absent members (nil, empty string) are
// omitted; present empty arrays are written as [].
func (c StreamConfig) MarshalJSON() ([]byte, error) {
	w := streamWire{
		aud:             c.Audience,
		delivery:        c.Delivery,
		eventsSupported: c.EventsSupported,
		eventsRequested: c.EventsRequested,
		eventsDelivered: c.EventsDelivered,
		minVerification: c.MinVerificationInterval,
		inactivity:      c.InactivityTimeout,
		extra:           c.Extra,
	}
	if c.StreamID != "" {
		w.streamID = &c.StreamID
	}
	if c.Issuer != "" {
		w.iss = &c.Issuer
	}
	if c.Description != "" {
		w.description = &c.Description
	}
	return w.encode(objStream)
}

// streamWire is the member set shared by StreamConfig and StreamUpdate, with presence.
type streamWire struct {
	streamID, iss, description                        *string
	aud                                               Audience
	delivery                                          *Delivery
	eventsSupported, eventsRequested, eventsDelivered []string
	minVerification, inactivity                       *int
	extra                                             map[string]json.RawMessage
}

func (w *streamWire) encode(object string) ([]byte, error) {
	e := newEncoder()
	if w.streamID != nil {
		e.str("stream_id", *w.streamID)
	}
	if w.iss != nil {
		e.str("iss", *w.iss)
	}
	if w.aud != nil {
		b, _ := w.aud.MarshalJSON()
		e.raw("aud", b)
	}
	if w.delivery != nil {
		e.name("delivery")
		sub := newEncoder()
		if err := w.delivery.encode(sub, object+" delivery"); err != nil {
			return nil, err
		}
		e.buf = append(e.buf, sub.bytes()...)
	}
	if w.eventsSupported != nil {
		e.strs("events_supported", w.eventsSupported)
	}
	if w.eventsRequested != nil {
		e.strs("events_requested", w.eventsRequested)
	}
	if w.eventsDelivered != nil {
		e.strs("events_delivered", w.eventsDelivered)
	}
	if w.minVerification != nil {
		e.integer("min_verification_interval", *w.minVerification)
	}
	if w.description != nil {
		e.str("description", *w.description)
	}
	if w.inactivity != nil {
		e.integer("inactivity_timeout", *w.inactivity)
	}
	if err := e.extra(object, w.extra, streamReserved); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler. It checks the JSON type of every member
// and reports the first problem of each member as a [*MemberError]; it does not apply
// the rules of [StreamConfig.Validate].
func (c *StreamConfig) UnmarshalJSON(data []byte) error {
	dec, err := newDecoder(objStream, "", data)
	if err != nil {
		return err
	}
	var v StreamConfig
	v.StreamID, _ = dec.str("stream_id")
	v.Issuer, _ = dec.str("iss")
	if raw, ok := dec.take("aud"); ok {
		if err := v.Audience.UnmarshalJSON(raw); err != nil {
			dec.addErr(dec.fail("aud", "want a string or an array of strings, got %s", describeAudErr(raw)))
		}
	}
	v.EventsSupported = dec.strs("events_supported")
	v.EventsRequested = dec.strs("events_requested")
	v.EventsDelivered = dec.strs("events_delivered")
	if raw, ok := dec.take("delivery"); ok {
		d, err := decodeDelivery(raw, objStream, "delivery.")
		if err != nil {
			dec.addErr(err)
		} else {
			v.Delivery = d
		}
	}
	v.MinVerificationInterval = dec.nonNegInt("min_verification_interval")
	v.Description, _ = dec.str("description")
	v.InactivityTimeout = dec.nonNegInt("inactivity_timeout")
	v.Extra, err = dec.rest()
	if err != nil {
		return err
	}
	*c = v
	return nil
}

func describeAudErr(raw []byte) string {
	if k := jsonKind(raw); k != "array" {
		return k
	}
	return "an array with a non-string element"
}

// ReceiverSupplied returns a copy holding only the members a Receiver may send when it
// creates a stream (SSF §8.1.1.1; conformance RS5): events_requested, delivery and
// description. For poll delivery the endpoint_url is dropped (the Transmitter supplies
// it). Extra members are dropped too.
func (c *StreamConfig) ReceiverSupplied() StreamConfig {
	out := StreamConfig{
		EventsRequested: slices.Clone(c.EventsRequested),
		Delivery:        c.Delivery.clone(),
		Description:     c.Description,
	}
	if out.Delivery != nil && out.Delivery.IsPoll() {
		out.Delivery.EndpointURL = ""
	}
	return out
}

// TransmitterSuppliedPresent lists the Transmitter-supplied members present in c, in
// the order of SSF §8.1.1 (the poll endpoint_url as "delivery.endpoint_url"). A
// Transmitter ignores them in a create request; a strict peer (the OpenID conformance
// suite, RS5) rejects a create request that has any.
func (c *StreamConfig) TransmitterSuppliedPresent() []string {
	var out []string
	if c.StreamID != "" {
		out = append(out, "stream_id")
	}
	if c.Issuer != "" {
		out = append(out, "iss")
	}
	if c.Audience != nil {
		out = append(out, "aud")
	}
	if c.EventsSupported != nil {
		out = append(out, "events_supported")
	}
	if c.EventsDelivered != nil {
		out = append(out, "events_delivered")
	}
	if c.MinVerificationInterval != nil {
		out = append(out, "min_verification_interval")
	}
	if c.InactivityTimeout != nil {
		out = append(out, "inactivity_timeout")
	}
	if c.Delivery != nil && c.Delivery.IsPoll() && c.Delivery.EndpointURL != "" {
		out = append(out, "delivery.endpoint_url")
	}
	return out
}

// EffectiveDeliveryMethod returns the delivery method of c: the (normalized) method of
// Delivery, or DeliveryPoll when Delivery is absent (SSF §8.1.1.1, AMB-4).
func (c *StreamConfig) EffectiveDeliveryMethod() string {
	if c.Delivery == nil {
		return DeliveryPoll
	}
	return NormalizeDeliveryMethod(c.Delivery.Method)
}

// Clone returns a deep copy of c.
func (c *StreamConfig) Clone() *StreamConfig {
	out := *c
	out.Audience = slices.Clone(c.Audience)
	out.EventsSupported = slices.Clone(c.EventsSupported)
	out.EventsRequested = slices.Clone(c.EventsRequested)
	out.EventsDelivered = slices.Clone(c.EventsDelivered)
	out.Delivery = c.Delivery.clone()
	out.MinVerificationInterval = cloneInt(c.MinVerificationInterval)
	out.InactivityTimeout = cloneInt(c.InactivityTimeout)
	out.Extra = cloneExtra(c.Extra)
	return &out
}

func cloneInt(p *int) *int {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Validate checks c as a complete stream configuration, the form a Transmitter returns
// (SSF §8.1.1): see [StreamConfig.ValidateWith].
func (c *StreamConfig) Validate() error { return c.ValidateWith(ValidateOptions{}) }

// ValidateWith checks c as a complete stream configuration (SSF §8.1.1; conformance
// TS5): stream_id present; iss an https URL without query or fragment; aud with at
// least one non-empty value; events_delivered present (it may be []); delivery present
// and valid ([Delivery.ValidateWith]); no empty event type URI in the event arrays.
// It does not check that events_delivered ⊆ events_supported ∩ events_requested: a
// Transmitter decides that (AMB-5).
func (c *StreamConfig) ValidateWith(opts ValidateOptions) error {
	var errs []error
	bad := func(member string, err error) {
		errs = append(errs, &MemberError{Object: objStream, Member: member, Err: err})
	}
	if c.StreamID == "" {
		bad("stream_id", errors.New("is required (SSF §8.1.1)"))
	}
	if c.Issuer == "" {
		bad("iss", errors.New("is required (SSF §8.1.1)"))
	} else if err := checkURL(c.Issuer, opts.InsecureAllowHTTP, true); err != nil {
		bad("iss", err)
	}
	if err := c.Audience.validate(); err != nil {
		bad("aud", err)
	}
	if c.EventsDelivered == nil {
		bad("events_delivered", errors.New("is required (SSF §8.1.1); use [] when no event type is delivered"))
	}
	errs = append(errs, checkEventTypes("events_supported", c.EventsSupported), checkEventTypes("events_requested", c.EventsRequested), checkEventTypes("events_delivered", c.EventsDelivered))
	if c.Delivery == nil {
		bad("delivery", errors.New("is required in a stream configuration (SSF §8.1.1)"))
	} else {
		errs = append(errs, c.Delivery.validate(objStream, "delivery.", opts, false))
	}
	return errors.Join(errs...)
}

// ValidateRequest checks the Receiver-supplied members of c as a create or replace
// request (SSF §8.1.1.1, §8.1.1.4): see [StreamConfig.ValidateRequestWith].
func (c *StreamConfig) ValidateRequest() error { return c.ValidateRequestWith(ValidateOptions{}) }

// ValidateRequestWith checks the Receiver-supplied members of c as a create or replace
// request: delivery may be absent (poll, AMB-4); when present its method is push or
// poll, and push needs an absolute https endpoint_url (http with InsecureAllowHTTP);
// the poll endpoint_url is the Transmitter's and not checked; events_requested has no
// empty element (an empty array is allowed: SHOULD NOT is not MUST NOT).
// Transmitter-supplied members are not checked (a Transmitter ignores them on create;
// see [StreamConfig.CheckTransmitterSupplied] for replace).
func (c *StreamConfig) ValidateRequestWith(opts ValidateOptions) error {
	var errs []error
	errs = append(errs, checkEventTypes("events_requested", c.EventsRequested))
	if c.Delivery != nil {
		errs = append(errs, c.Delivery.validate(objStream, "delivery.", opts, true))
	}
	return errors.Join(errs...)
}

func checkEventTypes(member string, v []string) error {
	var errs []error
	for i, s := range v {
		if s == "" {
			errs = append(errs, memberErr(objStream, member+"["+strconv.Itoa(i)+"]", "is an empty event type URI"))
		}
	}
	return errors.Join(errs...)
}

// CheckTransmitterSupplied checks c as a replace (PUT) request against current, the
// stream's configuration before the update (SSF §8.1.1.4, SSF-STREAM-24): stream_id
// must equal current's; every Transmitter-supplied member that is present must equal
// its current value (absent ones are ignored); events_delivered is compared with the
// value before the update. Arrays are compared as sets (order and repetition do not
// matter). The error is a [*MemberError] per offending member (joined).
func (c *StreamConfig) CheckTransmitterSupplied(current *StreamConfig) error {
	u := StreamUpdate{
		StreamID:                c.StreamID,
		EventsSupported:         c.EventsSupported,
		EventsDelivered:         c.EventsDelivered,
		Audience:                c.Audience,
		MinVerificationInterval: c.MinVerificationInterval,
		InactivityTimeout:       c.InactivityTimeout,
		Delivery:                c.Delivery,
	}
	if c.Issuer != "" {
		u.Issuer = &c.Issuer
	}
	return u.checkTransmitterSupplied(current, "replace request")
}

// ApplyReplace returns the configuration that results from replacing current with the
// request c (SSF §8.1.1.4), after [StreamConfig.CheckTransmitterSupplied]: the
// Transmitter-supplied members come from current, the Receiver-supplied ones from c (an
// absent one is deleted). When the delivery method stays poll, the poll endpoint_url
// of current is kept; when it changes to poll, endpoint_url is left empty for the
// Transmitter to assign. events_delivered is current's; a Transmitter recomputes it
// from the new events_requested.
func (c *StreamConfig) ApplyReplace(current *StreamConfig) (*StreamConfig, error) {
	if err := c.CheckTransmitterSupplied(current); err != nil {
		return nil, err
	}
	out := current.Clone()
	out.EventsRequested = slices.Clone(c.EventsRequested)
	out.Description = c.Description
	out.Delivery = mergeDelivery(current.Delivery, c.Delivery)
	return out, nil
}

// mergeDelivery returns the requested delivery with the Transmitter-supplied poll
// endpoint_url taken from current when the method stays poll.
func mergeDelivery(current, requested *Delivery) *Delivery {
	out := requested.clone()
	if out == nil || !out.IsPoll() {
		return out
	}
	out.Method = DeliveryPoll
	if current != nil && current.IsPoll() {
		out.EndpointURL = current.EndpointURL
	} else {
		out.EndpointURL = ""
	}
	return out
}

// StreamUpdate is the body of an update (PATCH) request (SSF §8.1.1.3): the stream_id
// and the members to change, with presence information.
//
// Presence: a nil pointer or slice is an absent member; an empty non-nil slice is a
// present empty array. Receiver-supplied members that are present are changes; absent
// ones stay as they are. Transmitter-supplied members may be present but must equal the
// current values ([StreamUpdate.CheckTransmitterSupplied]).
type StreamUpdate struct {
	// StreamID is "stream_id" (REQUIRED).
	StreamID string

	// EventsRequested is "events_requested" (Receiver-supplied).
	EventsRequested []string
	// Delivery is "delivery" (Receiver-supplied, except the poll endpoint_url).
	Delivery *Delivery
	// Description is "description" (Receiver-supplied); a pointer to "" clears it.
	Description *string

	// Issuer is "iss" (Transmitter-supplied).
	Issuer *string
	// Audience is "aud" (Transmitter-supplied).
	Audience Audience
	// EventsSupported is "events_supported" (Transmitter-supplied).
	EventsSupported []string
	// EventsDelivered is "events_delivered" (Transmitter-supplied; compared with the
	// value before the update).
	EventsDelivered []string
	// MinVerificationInterval is "min_verification_interval" (Transmitter-supplied).
	MinVerificationInterval *int
	// InactivityTimeout is "inactivity_timeout" (Transmitter-supplied).
	InactivityTimeout *int

	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

const objUpdate = "update request"

// MarshalJSON implements json.Marshaler: stream_id (always) and the present members.
func (u StreamUpdate) MarshalJSON() ([]byte, error) {
	w := streamWire{
		streamID:        &u.StreamID,
		iss:             u.Issuer,
		description:     u.Description,
		aud:             u.Audience,
		delivery:        u.Delivery,
		eventsSupported: u.EventsSupported,
		eventsRequested: u.EventsRequested,
		eventsDelivered: u.EventsDelivered,
		minVerification: u.MinVerificationInterval,
		inactivity:      u.InactivityTimeout,
		extra:           u.Extra,
	}
	return w.encode(objUpdate)
}

// UnmarshalJSON implements json.Unmarshaler. It checks member types; a missing
// stream_id is reported by [StreamUpdate.Validate], not here (a server may take it from
// the query instead, vendors §5.2 item 4).
func (u *StreamUpdate) UnmarshalJSON(data []byte) error {
	dec, err := newDecoder(objUpdate, "", data)
	if err != nil {
		return err
	}
	var v StreamUpdate
	v.StreamID, _ = dec.str("stream_id")
	if s, ok := dec.str("iss"); ok {
		v.Issuer = &s
	}
	if raw, ok := dec.take("aud"); ok {
		if err := v.Audience.UnmarshalJSON(raw); err != nil {
			dec.addErr(dec.fail("aud", "want a string or an array of strings, got %s", describeAudErr(raw)))
		}
	}
	v.EventsSupported = dec.strs("events_supported")
	v.EventsRequested = dec.strs("events_requested")
	v.EventsDelivered = dec.strs("events_delivered")
	if raw, ok := dec.take("delivery"); ok {
		d, err := decodeDelivery(raw, objUpdate, "delivery.")
		if err != nil {
			dec.addErr(err)
		} else {
			v.Delivery = d
		}
	}
	v.MinVerificationInterval = dec.nonNegInt("min_verification_interval")
	if s, ok := dec.str("description"); ok {
		v.Description = &s
	}
	v.InactivityTimeout = dec.nonNegInt("inactivity_timeout")
	v.Extra, err = dec.rest()
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// Validate checks u as an update request: see [StreamUpdate.ValidateWith].
func (u *StreamUpdate) Validate() error { return u.ValidateWith(ValidateOptions{}) }

// ValidateWith checks u as an update request (SSF §8.1.1.3; conformance RS8): stream_id
// is present; a present delivery is valid as requested (see
// [StreamConfig.ValidateRequestWith]); events_requested has no empty element.
func (u *StreamUpdate) ValidateWith(opts ValidateOptions) error {
	var errs []error
	if u.StreamID == "" {
		errs = append(errs, memberErr(objUpdate, "stream_id", "is required (SSF §8.1.1.3)"))
	}
	for i, s := range u.EventsRequested {
		if s == "" {
			errs = append(errs, memberErr(objUpdate, "events_requested["+strconv.Itoa(i)+"]", "is an empty event type URI"))
		}
	}
	if u.Delivery != nil {
		errs = append(errs, u.Delivery.validate(objUpdate, "delivery.", opts, true))
	}
	return errors.Join(errs...)
}

// CheckTransmitterSupplied checks u against current, the stream's configuration before
// the update (SSF §8.1.1.3, SSF-STREAM-22): stream_id must equal current's; every
// Transmitter-supplied member that is present must equal its current value;
// events_delivered is compared with the value before the update; a poll endpoint_url,
// when the stream already uses poll, must equal the current one. Arrays are compared
// as sets. The error is a [*MemberError] per offending member (joined); a Transmitter
// answers it with 400 (SSF §8.1.1.3).
func (u *StreamUpdate) CheckTransmitterSupplied(current *StreamConfig) error {
	return u.checkTransmitterSupplied(current, objUpdate)
}

func (u *StreamUpdate) checkTransmitterSupplied(current *StreamConfig, object string) error {
	var errs []error
	differs := func(member string, got, want any) {
		errs = append(errs, memberErr(object, member, "is Transmitter-supplied and must equal the current value %s, got %s", jsonText(want), jsonText(got)))
	}
	if u.StreamID != current.StreamID {
		errs = append(errs, memberErr(object, "stream_id", "%q does not identify this stream (%q)", u.StreamID, current.StreamID))
	}
	if u.Issuer != nil && *u.Issuer != current.Issuer {
		differs("iss", *u.Issuer, current.Issuer)
	}
	if u.Audience != nil && !sameSet(u.Audience, current.Audience) {
		differs("aud", []string(u.Audience), []string(current.Audience))
	}
	if u.EventsSupported != nil && !sameSet(u.EventsSupported, current.EventsSupported) {
		differs("events_supported", u.EventsSupported, current.EventsSupported)
	}
	if u.EventsDelivered != nil && !sameSet(u.EventsDelivered, current.EventsDelivered) {
		differs("events_delivered", u.EventsDelivered, current.EventsDelivered)
	}
	if u.MinVerificationInterval != nil && !equalIntPtr(u.MinVerificationInterval, current.MinVerificationInterval) {
		differs("min_verification_interval", *u.MinVerificationInterval, current.MinVerificationInterval)
	}
	if u.InactivityTimeout != nil && !equalIntPtr(u.InactivityTimeout, current.InactivityTimeout) {
		differs("inactivity_timeout", *u.InactivityTimeout, current.InactivityTimeout)
	}
	if d := u.Delivery; d != nil && d.IsPoll() && d.EndpointURL != "" &&
		current.Delivery != nil && current.Delivery.IsPoll() && d.EndpointURL != current.Delivery.EndpointURL {
		differs("delivery.endpoint_url", d.EndpointURL, current.Delivery.EndpointURL)
	}
	return errors.Join(errs...)
}

func equalIntPtr(a, b *int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// jsonText renders v for an error message.
func jsonText(v any) string {
	switch x := v.(type) {
	case *int:
		if x == nil {
			return "(absent)"
		}
		return strconv.Itoa(*x)
	case []string:
		if x == nil {
			return "(absent)"
		}
		return string(appendStrings(nil, x))
	case string:
		if x == "" {
			return `""`
		}
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}

// Apply returns the configuration that results from the update u on current (SSF
// §8.1.1.3), after [StreamUpdate.CheckTransmitterSupplied]: present Receiver-supplied
// members replace current values, absent ones are kept. A delivery that stays poll
// keeps current's endpoint_url; a change to poll leaves endpoint_url empty for the
// Transmitter to assign. events_delivered is current's; a Transmitter recomputes it
// when events_requested changed.
func (u *StreamUpdate) Apply(current *StreamConfig) (*StreamConfig, error) {
	if err := u.CheckTransmitterSupplied(current); err != nil {
		return nil, err
	}
	out := current.Clone()
	if u.EventsRequested != nil {
		out.EventsRequested = slices.Clone(u.EventsRequested)
	}
	if u.Description != nil {
		out.Description = *u.Description
	}
	if u.Delivery != nil {
		out.Delivery = mergeDelivery(current.Delivery, u.Delivery)
	}
	return out, nil
}
