package set

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/internal/jsonwire"
	"github.com/sigshare/sigshare/risc"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// Token is the claims set of one Security Event Token (RFC 8417 §2) in the SSF 1.0
// profile (SSF §4): the envelope claims, the subject (sub_id), exactly one event, and any
// other envelope claims verbatim.
//
// Build one in code and give it to Signer.Sign; Verifier.Verify, ParseClaims and
// ParseUnverified return one. The fields after Extra describe how a token was decoded
// and are never encoded.
type Token struct {
	// Issuer is "iss" (REQUIRED, SET-2): the transmitter's issuer, equal to the stream's
	// iss and the metadata issuer (SSF §4.1.6).
	Issuer string
	// IssuedAt is "iat" (REQUIRED, SET-3), written as integer seconds. The zero time
	// means absent: Signer.Sign then fills in the current time.
	IssuedAt time.Time
	// JTI is "jti" (REQUIRED, SET-4), unique within the transmitter's event feed. Empty
	// means absent: Signer.Sign then fills in a random value.
	JTI string
	// Audience is "aud" (SSF §4.1.8): one value is written as a string, several as an
	// array. A SET must have one (AMB-3): Sign refuses an empty Audience.
	Audience ssf.Audience
	// TxnID is "txn" (OPTIONAL, SET-8, SSF §4.1.9): the transaction the event belongs
	// to. Empty means absent.
	TxnID string
	// TimeOfEvent is "toe" (OPTIONAL, SET-9), written as integer seconds. SSF events
	// carry their time in the payload (event_timestamp) instead. The zero time means
	// absent.
	TimeOfEvent time.Time
	// Subject is "sub_id" (SSF §3.1, SET-13): the principal the event is about. A token
	// decoded in compatibility mode may have taken it from the event ("subject") or, for
	// a verification event, have none (nil).
	Subject subject.Identifier
	// Event is the one event of the "events" claim (SSF §4.2.1, SET-11, IOP-17): a typed
	// event (package caep, risc, ssf) or *event.Raw for a type the registry does not
	// know. For an alias resolved in compatibility mode it is decoded as, and encoded
	// under, the registered type URI.
	Event event.Event
	// Extra holds the envelope claims this package does not model, verbatim, keyed by
	// name. Encoding writes them after the modelled claims, sorted by name. Names of
	// modelled claims (iss, iat, jti, aud, txn, toe, sub_id, events) and the claims SSF
	// forbids (sub, exp) cannot be Extra claims.
	Extra map[string]json.RawMessage

	// ReceivedEventType is the event type URI exactly as received when it was a legacy
	// alias resolved to Event.Type() (Compatibility.LegacyEventTypes); empty otherwise.
	ReceivedEventType string
	// OtherEvents holds, verbatim, the further events of a SET that carried several
	// (Compatibility.MultipleEvents). Decode-side only: a SET carries exactly one event,
	// so Signer.Sign refuses a token that has OtherEvents and encoding never writes them.
	OtherEvents []*event.Raw
	// Leniency names every compatibility tolerance the token needed; zero for a SET that
	// satisfies SSF 1.0 Final as it is.
	Leniency Leniency
}

// Profile is the shape in which a Signer writes the subject of a SET, for receivers built
// to different versions of the framework (vendors.md §5.2 item 1).
type Profile int

const (
	// ProfileFinal writes the subject as the top-level "sub_id" claim only (SSF 1.0
	// Final §3.1). The default.
	ProfileFinal Profile = iota
	// ProfileHybrid writes "sub_id" and, for CAEP and RISC event types (which predate
	// SSF, SSF §3.1.2), the same subject inside the event payload as "subject", for
	// receivers that read either. Other event types get the Final shape: SSF forbids an
	// in-event subject for event types defined after it.
	ProfileHybrid
	// ProfileLegacy writes the subject only inside the event payload as "subject", with
	// a Complex Subject written without "format":"complex" (SSE ID1 shape, DIFF-5,
	// DIFF-6), for receivers such as Apple Business Manager. The SSF framework events
	// (verification, stream-updated) keep their stream subject in "sub_id"
	// (SSF-VERIFY-3, SSF-UPDATED-5), as transmitters that feed such receivers do.
	ProfileLegacy
)

// String returns "final", "hybrid" or "legacy".
func (p Profile) String() string {
	switch p {
	case ProfileFinal:
		return "final"
	case ProfileHybrid:
		return "hybrid"
	case ProfileLegacy:
		return "legacy"
	}
	return "Profile(" + strconv.Itoa(int(p)) + ")"
}

// reservedClaims are the claim names Extra must not hold: the modelled ones and the
// ones SSF forbids.
func reservedClaim(name string) bool {
	switch name {
	case "iss", "iat", "jti", "aud", "txn", "toe", "sub_id", "events", "sub", "exp":
		return true
	}
	return false
}

// MarshalJSON encodes the claims set in the SSF 1.0 Final shape; see Token.AppendClaims.
func (t *Token) MarshalJSON() ([]byte, error) {
	return t.AppendClaims(nil, ProfileFinal)
}

// AppendClaims appends the JSON claims set of t in profile p to dst. Members are written
// in a fixed order (iss, jti, iat, aud, txn, toe, sub_id, events, then Extra sorted by
// name); absent ones (empty strings, zero times, nil Subject) are omitted. It never
// writes "sub" or "exp" (SET-6, SET-7) and always writes exactly one event (SET-11): it
// fails when Event is nil or cannot be encoded, when Subject cannot be encoded, and when
// an Extra member has a reserved name or is not valid JSON. It does not check that the
// required claims are present: Token.Validate does, and Signer.Sign calls it.
func (t *Token) AppendClaims(dst []byte, p Profile) ([]byte, error) {
	if t.Event == nil {
		return dst, errors.New("set: the token has no event")
	}
	if p < ProfileFinal || p > ProfileLegacy {
		return dst, fmt.Errorf("set: unknown profile %d", int(p))
	}
	typeURI := t.Event.Type()
	payload, err := marshalEvent(t.Event)
	if err != nil {
		return dst, err
	}
	var subj []byte
	if t.Subject != nil {
		if subj, err = t.Subject.MarshalJSON(); err != nil {
			return dst, fmt.Errorf("set: encoding sub_id: %w", err)
		}
	}
	topSubject, inEvent := subj, []byte(nil)
	if subj != nil {
		switch p {
		case ProfileHybrid:
			if predatesSSF(typeURI) {
				inEvent = subj
			}
		case ProfileLegacy:
			if !isFrameworkEvent(typeURI) {
				topSubject = nil
				if inEvent, err = legacySubject(t.Subject, subj); err != nil {
					return dst, err
				}
			}
		}
	}
	if inEvent != nil {
		if payload, err = withSubject(payload, inEvent); err != nil {
			return dst, err
		}
	}

	dst = append(dst, '{')
	first := true
	sep := func() {
		if !first {
			dst = append(dst, ',')
		}
		first = false
	}
	if t.Issuer != "" {
		sep()
		dst = append(dst, `"iss":`...)
		dst = appendString(dst, t.Issuer)
	}
	if t.JTI != "" {
		sep()
		dst = append(dst, `"jti":`...)
		dst = appendString(dst, t.JTI)
	}
	if !t.IssuedAt.IsZero() {
		sep()
		dst = append(dst, `"iat":`...)
		dst = strconv.AppendInt(dst, t.IssuedAt.Unix(), 10)
	}
	switch len(t.Audience) {
	case 0:
	case 1:
		sep()
		dst = append(dst, `"aud":`...)
		dst = appendString(dst, t.Audience[0])
	default:
		sep()
		dst = append(dst, `"aud":`...)
		dst = jsonwire.AppendStrings(dst, t.Audience, claimsEscaping)
	}
	if t.TxnID != "" {
		sep()
		dst = append(dst, `"txn":`...)
		dst = appendString(dst, t.TxnID)
	}
	if !t.TimeOfEvent.IsZero() {
		sep()
		dst = append(dst, `"toe":`...)
		dst = strconv.AppendInt(dst, t.TimeOfEvent.Unix(), 10)
	}
	if topSubject != nil {
		sep()
		dst = append(dst, `"sub_id":`...)
		dst = append(dst, topSubject...)
	}
	sep()
	dst = append(dst, `"events":{`...)
	dst = appendString(dst, typeURI)
	dst = append(dst, ':')
	dst = append(dst, payload...)
	dst = append(dst, '}')
	if len(t.Extra) > 0 {
		names := make([]string, 0, len(t.Extra))
		for name := range t.Extra {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if reservedClaim(name) {
				return dst, fmt.Errorf("set: Extra holds the claim %q, which is modelled or forbidden", name)
			}
			v := t.Extra[name]
			if jsonRules().Valid(v) != nil {
				return dst, fmt.Errorf("set: Extra claim %q is not valid JSON", name)
			}
			dst = append(dst, ',')
			dst = appendString(dst, name)
			dst = append(dst, ':')
			dst = append(dst, v...)
		}
	}
	return append(dst, '}'), nil
}

// marshalEvent encodes an event payload and checks that it is one JSON object.
func marshalEvent(ev event.Event) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	if m, ok := ev.(json.Marshaler); ok {
		b, err = m.MarshalJSON()
	} else {
		b, err = json.Marshal(ev)
	}
	if err != nil {
		return nil, fmt.Errorf("set: encoding the %s event: %w", event.TypeName(ev.Type()), err)
	}
	i := jsonwire.SkipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, fmt.Errorf("set: the %s event does not encode to a JSON object (SET-1)", event.TypeName(ev.Type()))
	}
	if jsonRules().Valid(b) != nil {
		return nil, fmt.Errorf("set: the %s event does not encode to valid JSON", event.TypeName(ev.Type()))
	}
	return b[i:], nil
}

// predatesSSF reports whether typeURI is a CAEP or RISC event type: those may carry the
// subject inside the event as well (SSF §3.1.2).
func predatesSSF(typeURI string) bool {
	return strings.HasPrefix(typeURI, caep.BaseURI) || strings.HasPrefix(typeURI, risc.BaseURI)
}

// isFrameworkEvent reports whether typeURI is an SSF framework event, whose sub_id names
// the stream.
func isFrameworkEvent(typeURI string) bool {
	return typeURI == ssf.EventTypeVerification || typeURI == ssf.EventTypeStreamUpdated
}

// legacySubject writes a subject in the SSE ID1 shape: a Complex Subject without
// "format":"complex"; any other subject as it is.
func legacySubject(id subject.Identifier, encoded []byte) ([]byte, error) {
	c, ok := id.(*subject.Complex)
	if !ok {
		return encoded, nil
	}
	out := make([]byte, 0, len(encoded))
	out = append(out, '{')
	for i, m := range c.Members() {
		b, err := m.Identifier.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("set: encoding sub_id member %q: %w", m.Name, err)
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = appendString(out, m.Name)
		out = append(out, ':')
		out = append(out, b...)
	}
	return append(out, '}'), nil
}

// withSubject returns payload (a JSON object) with "subject" as its first member,
// replacing any "subject" member it had.
func withSubject(payload, subj []byte) ([]byte, error) {
	out := make([]byte, 0, len(payload)+len(subj)+12)
	out = append(out, `{"subject":`...)
	out = append(out, subj...)
	var r jsonwire.ObjectReader
	if err := r.Reset(payload, jsonRules()); err != nil {
		return nil, fmt.Errorf("set: event payload: %w", err)
	}
	for r.Next() {
		if string(r.Name()) == "subject" {
			continue
		}
		out = append(out, ',', '"')
		out = append(out, r.RawName()...)
		out = append(out, '"', ':')
		out = append(out, r.Value()...)
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("set: event payload: %w", err)
	}
	return append(out, '}'), nil
}

// Validate checks that t is a SET this package signs: iss, jti and iat present, a
// non-empty Audience without empty values (AMB-3), a valid Subject, exactly one valid
// Event whose type is a URI and is not deprecated (event.Deprecated, e.g. RISC
// sessions-revoked: RISC-15), no OtherEvents, Extra claims with free names, and the
// subject formats RISC §2.5 and §2.6 require (RISC-16, RISC-17). Errors are *Error
// values with code invalid_request.
func (t *Token) Validate() error {
	switch {
	case t.Issuer == "":
		return requestErr(nil, "iss is required (RFC 8417 §2.2)")
	case t.JTI == "":
		return requestErr(nil, "jti is required (RFC 8417 §2.2)")
	case t.IssuedAt.IsZero():
		return requestErr(nil, "iat is required (RFC 8417 §2.2)")
	case len(t.Audience) == 0:
		return requestErr(nil, "aud is required (SSF §4.1.8, AMB-3)")
	case slices.Contains(t.Audience, ""):
		return requestErr(nil, "aud holds an empty value")
	case t.Subject == nil:
		return requestErr(nil, "sub_id is required (SSF §3.1)")
	case t.Event == nil:
		return requestErr(nil, "the token has no event (RFC 8417 §2.2)")
	case len(t.OtherEvents) > 0:
		return requestErr(nil, "a SET carries exactly one event (SSF §4.2.1, CAEP-IOP §2.8.1); OtherEvents is decode-only")
	}
	if err := t.Subject.Validate(); err != nil {
		return requestErr(err, "sub_id: %v", err)
	}
	typeURI := t.Event.Type()
	if !isURI(typeURI) {
		return requestErr(nil, "event type %s is not a URI (RFC 8417 §2.2)", quote(typeURI))
	}
	if d, ok := t.Event.(event.Deprecated); ok {
		return requestErr(nil, "event type %s is deprecated and must not be sent; use %s (RISC-15)", event.TypeName(typeURI), d.ReplacedBy())
	}
	if err := t.Event.Validate(); err != nil {
		return requestErr(err, "%v", err)
	}
	for name := range t.Extra {
		if reservedClaim(name) {
			return requestErr(nil, "Extra holds the claim %q, which is modelled or forbidden (SET-6, SET-7)", name)
		}
	}
	return checkSubjectFormat(typeURI, t.Subject)
}

// checkSubjectFormat enforces RISC-16 and RISC-17: identifier-changed and
// identifier-recycled are about an email address or a phone number. A Complex Subject
// whose user member is one of those is accepted too (the identifier is the user's).
func checkSubjectFormat(typeURI string, id subject.Identifier) error {
	if typeURI != risc.EventTypeIdentifierChanged && typeURI != risc.EventTypeIdentifierRecycled {
		return nil
	}
	if c, ok := id.(*subject.Complex); ok {
		id = c.User
	}
	switch id.(type) {
	case *subject.Email, *subject.PhoneNumber:
		return nil
	}
	return requestErr(nil, "the subject of %s must be an email or phone_number identifier (RISC §2.5, §2.6)", event.TypeName(typeURI))
}

// isURI reports whether s looks like an absolute URI: a scheme (a letter, then letters,
// digits, '+', '-', '.') followed by ':' and at least one more character, without
// white space or control characters.
func isURI(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 1 || colon == len(s)-1 {
		return false
	}
	for i := 0; i < colon; i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	for i := colon + 1; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}
