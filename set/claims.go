package set

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/internal/jsonwire"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// claimsSet is a claims set split into the raw values of its members. A nil field means
// the member is absent.
type claimsSet struct {
	iss, iat, jti, aud, txn, toe, subID, events, sub, exp []byte
	extra                                                 []member
}

// parseClaimsSet checks that data is one JSON object without duplicate member names
// (SEC-19) and splits it into cs. Values alias data.
func parseClaimsSet(data []byte, cs *claimsSet) error {
	// sub_id and events are checked completely where they are decoded: here their
	// extent is only found.
	r := jsonwire.ObjectReader{Unchecked: checkedLater}
	if err := r.Reset(data, jsonRules()); err != nil {
		return requestErr(err, "the claims set is not a JSON object")
	}
	for r.Next() {
		name := r.Name()
		var slot *[]byte
		switch string(name) {
		case "iss":
			slot = &cs.iss
		case "iat":
			slot = &cs.iat
		case "jti":
			slot = &cs.jti
		case "aud":
			slot = &cs.aud
		case "txn":
			slot = &cs.txn
		case "toe":
			slot = &cs.toe
		case "sub_id":
			slot = &cs.subID
		case "events":
			slot = &cs.events
		case "sub":
			slot = &cs.sub
		case "exp":
			slot = &cs.exp
		default:
			for _, m := range cs.extra {
				if m.name == string(name) {
					return requestErr(nil, "the claim %s appears more than once (SEC-19)", quote(m.name))
				}
			}
			cs.extra = append(cs.extra, member{name: string(name), value: r.Value()})
			continue
		}
		if *slot != nil {
			return requestErr(nil, "the claim %q appears more than once (SEC-19)", name)
		}
		*slot = r.Value()
	}
	if err := r.Err(); err != nil {
		return requestErr(err, "the claims set is not valid JSON: %v", err)
	}
	return nil
}

// checkedLater selects the claims whose values parseClaimsSet leaves to their decoders:
// sub_id (subject.Parse) and events (decoder.events, member by member).
func checkedLater(name []byte) bool {
	return string(name) == "sub_id" || string(name) == "events"
}

// decoder turns a claims set into a Token.
type decoder struct {
	reg    *event.Registry
	compat Compatibility
	// payloadRewrites says whether any payload tolerance is on.
	payloadRewrites bool
}

func newDecoder(reg *event.Registry, c Compatibility) *decoder {
	return &decoder{
		reg:             reg,
		compat:          c,
		payloadRewrites: c.InEventSubject || c.MillisecondTimestamps || c.OccurredAt || c.StringReasons,
	}
}

// envelope decodes iss and aud, the claims the verifier's issuer and audience policy
// needs, checking their JSON types only.
func (d *decoder) envelope(cs *claimsSet, t *Token) error {
	if cs.iss != nil {
		s, ok := stringValue(cs.iss)
		if !ok {
			return requestErr(nil, "iss must be a string, not %s", jsonType(cs.iss))
		}
		t.Issuer = s
	}
	if cs.aud != nil {
		aud, err := audienceValue(cs.aud)
		if err != nil {
			return err
		}
		t.Audience = aud
	}
	return nil
}

// audienceValue decodes "aud": a string or an array of strings (RFC 7519 §4.1.3).
func audienceValue(raw []byte) (ssf.Audience, error) {
	switch raw[0] {
	case '"':
		s, _ := stringValue(raw)
		return ssf.Audience{s}, nil
	case '[':
		aud := ssf.Audience{}
		var a jsonwire.ArrayReader
		if err := a.Reset(raw, jsonRules()); err != nil {
			return nil, requestErr(err, "aud is not valid JSON")
		}
		for a.Next() {
			s, ok := a.Unquoted()
			if !ok {
				return nil, requestErr(nil, "aud must be a string or an array of strings; element %d is %s", len(aud), jsonType(a.Value()))
			}
			aud = append(aud, s)
		}
		if err := a.Err(); err != nil {
			return nil, requestErr(err, "aud is not valid JSON")
		}
		return aud, nil
	case 'n':
		return nil, nil
	}
	return nil, requestErr(nil, "aud must be a string or an array of strings, not %s", jsonType(raw))
}

// claims decodes everything but iss and aud (see envelope) and checks the claims set
// against RFC 8417 §2 and the SSF SET profile (SET-20 steps 6–9): iss, iat and jti
// present, no sub or exp, one event whose payload conforms to its type, a valid sub_id.
func (d *decoder) claims(cs *claimsSet, t *Token) error {
	c := &d.compat
	if t.Issuer == "" {
		return requestErr(nil, "iss is required (RFC 8417 §2.2)")
	}
	// iat (SET-3).
	if cs.iat == nil {
		return requestErr(nil, "iat is required (RFC 8417 §2.2)")
	}
	iat, ok := numericDate(cs.iat)
	if !ok {
		return requestErr(nil, "iat must be a number of seconds (RFC 7519 NumericDate), not %s", describeNumber(cs.iat))
	}
	if c.MillisecondTimestamps && iat > millisecondThreshold {
		iat /= 1000
		t.Leniency |= LenientMillisecondIssuedAt
	}
	t.IssuedAt = time.Unix(iat, 0).UTC()
	// jti (SET-4).
	if cs.jti == nil {
		return requestErr(nil, "jti is required (RFC 8417 §2.2)")
	}
	if t.JTI, ok = stringValue(cs.jti); !ok {
		return requestErr(nil, "jti must be a string, not %s", jsonType(cs.jti))
	}
	if t.JTI == "" {
		return requestErr(nil, "jti is empty")
	}
	// txn (SET-8, DIFF-14).
	if cs.txn != nil && cs.txn[0] != 'n' {
		if t.TxnID, ok = stringValue(cs.txn); !ok {
			if !c.NumericTxn || jsonType(cs.txn) != "a number" {
				return requestErr(nil, "txn must be a string, not %s", jsonType(cs.txn))
			}
			t.TxnID = string(cs.txn)
			t.Leniency |= LenientNumericTxn
		}
	}
	// toe (SET-9).
	if cs.toe != nil && cs.toe[0] != 'n' {
		toe, ok := numericDate(cs.toe)
		if !ok {
			return requestErr(nil, "toe must be a number of seconds (RFC 7519 NumericDate), not %s", describeNumber(cs.toe))
		}
		t.TimeOfEvent = time.Unix(toe, 0).UTC()
	}
	// sub and exp (SET-6, SET-7, SEC-6).
	if cs.sub != nil {
		if !c.IgnoreSubAndExp {
			return requestErr(nil, "the sub claim must not be present in an SSF SET (SSF §4.1.2, §4.1.3); the subject is sub_id")
		}
		t.Leniency |= LenientSubClaim
	}
	if cs.exp != nil {
		if !c.IgnoreSubAndExp {
			return requestErr(nil, "the exp claim must not be present in an SSF SET (SSF §4.1.7, RFC 8417 §4.1)")
		}
		t.Leniency |= LenientExpClaim
	}
	// events (SET-1, SET-10, SET-11).
	if cs.events == nil {
		return requestErr(nil, "events is required (RFC 8417 §2.2)")
	}
	evName, evPayload, known, err := d.events(cs.events, t)
	if err != nil {
		return err
	}
	// Compatibility rewrites of the payload, before the typed decode.
	canonical := evName
	if known {
		canonical, _ = d.reg.Canonical(evName)
		if canonical != evName {
			t.ReceivedEventType = evName
			t.Leniency |= LenientLegacyEventType
		}
	}
	var liftedSubject []byte
	if d.payloadRewrites {
		lift := c.InEventSubject && cs.subID == nil
		var lenient Leniency
		evPayload, liftedSubject, lenient, err = c.rewritePayload(evPayload, known, lift)
		if err != nil {
			return requestErr(err, "the payload of %s is not valid JSON: %v", event.TypeName(evName), err)
		}
		t.Leniency |= lenient
	}
	// sub_id (SET-13, SUBJ-13, SET-20 step 8).
	switch {
	case cs.subID != nil:
		if t.Subject, err = d.subject(cs.subID, t); err != nil {
			return requestErr(err, "sub_id: %v", err)
		}
	case liftedSubject != nil:
		if t.Subject, err = d.subject(liftedSubject, t); err != nil {
			return requestErr(err, "the subject in the %s event: %v", event.TypeName(evName), err)
		}
		t.Leniency |= LenientInEventSubject
	case c.VerificationWithoutSubID && canonical == ssf.EventTypeVerification &&
		(known || evName == ssf.EventTypeVerification):
		t.Leniency |= LenientVerificationWithoutSubID
	default:
		return requestErr(nil, "sub_id is required (SSF §3.1)")
	}
	// The event (SET-20 step 9).
	ev, err := d.reg.Decode(canonical, evPayload)
	if err != nil {
		return requestErr(err, "%v", err)
	}
	t.Event = ev
	if t.Subject != nil {
		if err := checkSubjectFormat(canonical, t.Subject); err != nil {
			return err
		}
	}
	// Everything else is kept verbatim.
	if len(cs.extra) > 0 {
		t.Extra = make(map[string]json.RawMessage, len(cs.extra))
		for _, m := range cs.extra {
			t.Extra[m.name] = json.RawMessage(m.value)
		}
	}
	return nil
}

// events checks the "events" claim and picks the event to decode: its name, payload and
// whether the registry knows its type (directly, or as an alias when LegacyEventTypes
// is on). Further events, accepted with MultipleEvents, go to t.OtherEvents. Every
// payload's syntax is checked here (UTF-8 included, which event decoding does not
// check).
func (d *decoder) events(raw []byte, t *Token) (string, []byte, bool, error) {
	if raw[0] != '{' {
		return "", nil, false, requestErr(nil, "events must be a JSON object, not %s", jsonType(raw))
	}
	var (
		r      jsonwire.ObjectReader
		first  member
		more   []member // the second and further events
		chosen = -1
		n      int
	)
	if err := r.Reset(raw, jsonRules()); err != nil {
		return "", nil, false, requestErr(err, "events is not valid JSON: %v", err)
	}
	for r.Next() {
		name := string(r.Name())
		if r.Kind() != jsonwire.Object {
			return "", nil, false, requestErr(nil, "the payload of event %s must be a JSON object, not %s (RFC 8417 §2.2)", quote(name), r.Kind())
		}
		if !isURI(name) {
			return "", nil, false, requestErr(nil, "event type %s is not a URI (RFC 8417 §2.2)", quote(name))
		}
		if n > 0 && !d.compat.MultipleEvents {
			for r.Next() {
				n++
			}
			return "", nil, false, requestErr(nil, "events holds %d events; an SSF SET carries exactly one (SSF §4.2.1, CAEP-IOP §2.8.1)", n+1)
		}
		if n > 0 && (name == first.name || slices.ContainsFunc(more, func(m member) bool { return m.name == name })) {
			return "", nil, false, requestErr(nil, "event type %s appears more than once (RFC 8417 §2.2)", quote(name))
		}
		if chosen < 0 && d.known(name) {
			chosen = n
		}
		if n == 0 {
			first = member{name: name, value: r.Value()}
		} else {
			more = append(more, member{name: name, value: r.Value()})
		}
		n++
	}
	if err := r.Err(); err != nil {
		return "", nil, false, requestErr(err, "events is not valid JSON: %v", err)
	}
	if n == 0 {
		return "", nil, false, requestErr(nil, "events must hold an event (RFC 8417 §2.2)")
	}
	known := chosen >= 0
	if !known {
		chosen = 0
	}
	if n == 1 {
		return first.name, first.value, known, nil
	}
	all := append([]member{first}, more...)
	t.Leniency |= LenientMultipleEvents
	for i, m := range all {
		if i == chosen {
			continue
		}
		t.OtherEvents = append(t.OtherEvents, &event.Raw{EventType: m.name, Payload: json.RawMessage(m.value)})
	}
	return all[chosen].name, all[chosen].value, known, nil
}

// known reports whether the registry decodes name to a typed event: a registered type,
// or an alias of one when LegacyEventTypes is on.
func (d *decoder) known(name string) bool {
	canonical, ok := d.reg.Canonical(name)
	return ok && (canonical == name || d.compat.LegacyEventTypes)
}

// subject parses a subject identifier, leniently when LegacySubjectShapes is on.
func (d *decoder) subject(raw []byte, t *Token) (subject.Identifier, error) {
	if !d.compat.LegacySubjectShapes {
		return subject.Parse(raw)
	}
	id, l, err := subject.ParseLenient(raw)
	if err != nil {
		return nil, err
	}
	t.Leniency |= fromSubject(l)
	return id, nil
}

// describeNumber names what a NumericDate value was instead.
func describeNumber(raw []byte) string {
	if t := jsonType(raw); t != "a number" {
		return t
	}
	return "a number out of range"
}
