package set

import (
	"bytes"
	"strconv"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// Compatibility names the tolerances a Verifier (or ParseClaims, ParseUnverified)
// applies to SETs from transmitters built for earlier drafts (SSE ID1, RISC-era,
// SSF drafts 02/03) or that deviate from SSF 1.0 Final in known ways (vendors.md §5.1
// items 1–5). The zero value is strict SSF 1.0 Final; FullCompatibility turns every
// tolerance on. Configure it per transmitter, never globally.
//
// The tolerances rewrite what was received before the typed event is decoded; the event
// types themselves stay strict. Every tolerance a SET needed is recorded in
// Token.Leniency, so a receiver can log or count them.
//
// Value rewrites inside an event payload (MillisecondTimestamps for event_timestamp,
// OccurredAt, StringReasons) apply to event types the registry knows; the payload of an
// unknown event type (kept as *event.Raw) stays verbatim, except that InEventSubject
// lifts its "subject" member.
type Compatibility struct {
	// AllowJWTType accepts a JOSE header "typ" of "JWT" (any case) or no "typ" at all
	// (authentik, RISC-era transmitters; TV-GEN-3 otherwise). Records LenientType.
	AllowJWTType bool
	// InEventSubject takes the subject from the event payload's "subject" member when
	// the SET has no "sub_id" (SSE ID1, RISC drafts, Okta, Google, Apple-bound
	// transmitters; DIFF-5, TV-GEN-22). The member is removed from the payload before
	// the typed decode, so the decoded event does not carry it twice. Records
	// LenientInEventSubject. A SET with both keeps sub_id as the subject (SUBJ-13: the
	// two are never combined).
	InEventSubject bool
	// LegacySubjectShapes parses sub_id and an in-event subject with
	// subject.ParseLenient: "subject_type" instead of "format", draft format names,
	// Complex Subjects without "format", opaque "sub" (SUBJ-25, DIFF-6, DIFF-9, AMB-9).
	// Each shape used is recorded (LenientSubjectType, …).
	LegacySubjectShapes bool
	// LegacyEventTypes resolves legacy event type URIs (e.g. the sse-namespace
	// verification event) through the registry's aliases before decoding (DIFF-3,
	// AMB-16). Token.ReceivedEventType keeps the URI as received. Records
	// LenientLegacyEventType.
	LegacyEventTypes bool
	// MultipleEvents accepts an "events" claim with more than one event: Token.Event is
	// the first (in document order) whose type the registry knows, else the first; the
	// others are kept verbatim in Token.OtherEvents. Records LenientMultipleEvents.
	MultipleEvents bool
	// VerificationWithoutSubID accepts a verification event with no subject at all (SSE
	// ID1, Google). Token.Subject is then nil and CheckVerification skips the stream
	// check. Records LenientVerificationWithoutSubID.
	VerificationWithoutSubID bool
	// IgnoreSubAndExp accepts and drops the "sub" and "exp" claims, which SSF forbids
	// (SET-6, SET-7). Records LenientSubClaim, LenientExpClaim.
	IgnoreSubAndExp bool
	// MillisecondTimestamps divides "iat" and an event's "event_timestamp" (and
	// "occurred_at") by 1000 when they exceed 10^12, which as seconds would lie after
	// the year 33000 (DIFF-17, AMB-19: Okta, CAEP drafts). Records
	// LenientMillisecondIssuedAt, LenientMillisecondEventTimestamp.
	MillisecondTimestamps bool
	// OccurredAt renames an event's "occurred_at" to "event_timestamp" when the payload
	// has no "event_timestamp" (login.gov). Records LenientOccurredAt.
	OccurredAt bool
	// NumericTxn accepts a JSON number as "txn" and keeps its text as TxnID (DIFF-14:
	// SSF draft 03, Omnissa). Records LenientNumericTxn.
	NumericTxn bool
	// StringReasons rewrites a bare string "reason_admin" or "reason_user" to a
	// language map with the single tag "und" (BCP 47 "undetermined"), e.g. "Policy"
	// becomes {"und":"Policy"} (AMB-1: SSF draft 03 example, CAEP-IOP wording). Records
	// LenientStringReason.
	StringReasons bool
}

// FullCompatibility returns a Compatibility with every tolerance turned on.
func FullCompatibility() Compatibility {
	return Compatibility{
		AllowJWTType:             true,
		InEventSubject:           true,
		LegacySubjectShapes:      true,
		LegacyEventTypes:         true,
		MultipleEvents:           true,
		VerificationWithoutSubID: true,
		IgnoreSubAndExp:          true,
		MillisecondTimestamps:    true,
		OccurredAt:               true,
		NumericTxn:               true,
		StringReasons:            true,
	}
}

// millisecondThreshold: a timestamp above it is taken to be in milliseconds. As seconds
// it would be in the year 33658; as milliseconds it is 2001-09-09.
const millisecondThreshold = 1_000_000_000_000

// rewritePayload applies the payload tolerances to one event payload. typed says whether
// the event type is one the registry knows (value rewrites apply only then); lift says
// whether to take out the "subject" member. It returns the payload to decode (the input
// itself when nothing changed), the raw subject member when lifted (nil if absent), and
// the tolerances used. The payload has been checked to be a JSON object.
func (c *Compatibility) rewritePayload(payload []byte, typed, lift bool) ([]byte, []byte, Leniency, error) {
	var (
		r                        jsonwire.ObjectReader
		members                  []rawMember
		subj                     []byte
		lenient                  Leniency
		changed, hasTS, hasOccAt bool
	)
	if err := r.Reset(payload, jsonRules()); err != nil {
		return nil, nil, 0, err
	}
	for r.Next() {
		name := r.Name()
		m := rawMember{name: r.RawName(), key: name, value: r.Value()}
		switch string(name) {
		case "subject":
			if lift {
				subj = r.Value()
				changed = true
				continue
			}
		case "event_timestamp":
			if typed {
				hasTS = true
				if c.MillisecondTimestamps {
					if v, ok := fromMilliseconds(r.Value()); ok {
						m.value, changed = v, true
						lenient |= LenientMillisecondEventTimestamp
					}
				}
			}
		case "occurred_at":
			if typed && c.OccurredAt {
				hasOccAt = true
			}
		case "reason_admin", "reason_user":
			if typed && c.StringReasons && r.Kind() == jsonwire.String {
				v := make([]byte, 0, len(r.Value())+8)
				v = append(v, `{"und":`...)
				v = append(v, r.Value()...)
				m.value, changed = append(v, '}'), true
				lenient |= LenientStringReason
			}
		}
		members = append(members, m)
	}
	if err := r.Err(); err != nil {
		return nil, nil, 0, err
	}
	if hasOccAt && !hasTS {
		for i := range members {
			m := &members[i]
			if string(m.key) != "occurred_at" {
				continue
			}
			m.name, changed = []byte("event_timestamp"), true
			lenient |= LenientOccurredAt
			if c.MillisecondTimestamps {
				if v, ok := fromMilliseconds(m.value); ok {
					m.value = v
					lenient |= LenientMillisecondEventTimestamp
				}
			}
		}
	}
	if !changed {
		return payload, subj, lenient, nil
	}
	out := make([]byte, 0, len(payload)+16)
	out = append(out, '{')
	for i, m := range members {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, m.name...)
		out = append(out, '"', ':')
		out = append(out, m.value...)
	}
	out = append(out, '}')
	return out, subj, lenient, nil
}

// rawMember is a member of an object being rewritten: its name as in the input (without
// quotes, possibly escaped), its name decoded, and its raw value.
type rawMember struct {
	name  []byte
	key   []byte
	value []byte
}

// fromMilliseconds returns the seconds of a JSON number above millisecondThreshold.
func fromMilliseconds(raw []byte) ([]byte, bool) {
	if len(raw) == 0 || raw[0] < '0' || raw[0] > '9' {
		return nil, false
	}
	if !bytes.ContainsAny(raw, ".eE") {
		n, ok := parseInt(raw)
		if !ok || n <= millisecondThreshold {
			return nil, false
		}
		return strconv.AppendInt(nil, n/1000, 10), true
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f <= millisecondThreshold || f >= 9.2e21 {
		return nil, false
	}
	return strconv.AppendInt(nil, int64(f/1000), 10), true
}
