package set

import (
	"strings"

	"github.com/sigshare/sigshare/subject"
)

// Leniency is the set of compatibility tolerances (see Compatibility) a decoded SET
// needed. It is zero for a SET that satisfies the SSF 1.0 Final profile as it is.
type Leniency uint32

// The tolerances, one per Compatibility option (the subject shapes are reported one by
// one, as subject.ParseLenient reports them).
const (
	// LenientType: the JOSE header "typ" was "JWT" or absent (Compatibility.AllowJWTType).
	LenientType Leniency = 1 << iota
	// LenientInEventSubject: the subject came from the event's "subject" member because
	// the SET has no "sub_id" (Compatibility.InEventSubject; DIFF-5).
	LenientInEventSubject
	// LenientSubjectType: a subject used "subject_type" instead of "format" (SUBJ-25).
	LenientSubjectType
	// LenientLegacyFormatName: a subject used a draft-era format name such as "iss-sub"
	// or "phone" (DIFF-9, AMB-9).
	LenientLegacyFormatName
	// LenientComplexWithoutFormat: a Complex Subject had no "format":"complex" (DIFF-6).
	LenientComplexWithoutFormat
	// LenientOpaqueSub: an opaque subject carried "sub" instead of "id".
	LenientOpaqueSub
	// LenientLegacyEventType: the event type URI was a legacy alias, resolved through
	// the registry (Compatibility.LegacyEventTypes; DIFF-3, AMB-16).
	LenientLegacyEventType
	// LenientMultipleEvents: the "events" claim held more than one event
	// (Compatibility.MultipleEvents).
	LenientMultipleEvents
	// LenientVerificationWithoutSubID: a verification event without any subject
	// (Compatibility.VerificationWithoutSubID; SSE ID1, Google).
	LenientVerificationWithoutSubID
	// LenientSubClaim: the SET carried a "sub" claim, ignored (Compatibility.IgnoreSubAndExp).
	LenientSubClaim
	// LenientExpClaim: the SET carried an "exp" claim, ignored (Compatibility.IgnoreSubAndExp).
	LenientExpClaim
	// LenientMillisecondIssuedAt: "iat" was in milliseconds and was divided by 1000
	// (Compatibility.MillisecondTimestamps).
	LenientMillisecondIssuedAt
	// LenientMillisecondEventTimestamp: the event's "event_timestamp" was in milliseconds
	// and was divided by 1000 (Compatibility.MillisecondTimestamps; DIFF-17, AMB-19).
	LenientMillisecondEventTimestamp
	// LenientOccurredAt: the event carried "occurred_at", used as "event_timestamp"
	// (Compatibility.OccurredAt).
	LenientOccurredAt
	// LenientNumericTxn: "txn" was a JSON number (Compatibility.NumericTxn; DIFF-14).
	LenientNumericTxn
	// LenientStringReason: "reason_admin" or "reason_user" was a bare string
	// (Compatibility.StringReasons; AMB-1).
	LenientStringReason

	lenientEnd
)

var leniencyNames = [...]string{
	"typ",
	"in-event-subject",
	"subject_type",
	"legacy-format-name",
	"complex-without-format",
	"opaque-sub",
	"legacy-event-type",
	"multiple-events",
	"verification-without-sub_id",
	"sub",
	"exp",
	"iat-milliseconds",
	"event_timestamp-milliseconds",
	"occurred_at",
	"txn-number",
	"reason-string",
}

// Has reports whether every tolerance in t was used.
func (l Leniency) Has(t Leniency) bool { return l&t == t }

// String names the tolerances used, joined with "|" in the order of the constants, e.g.
// "in-event-subject|subject_type"; "none" when l is zero.
func (l Leniency) String() string {
	if l == 0 {
		return "none"
	}
	var b strings.Builder
	for i, name := range leniencyNames {
		if l&(1<<i) == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString(name)
	}
	if rest := l &^ (lenientEnd - 1); rest != 0 {
		if b.Len() > 0 {
			b.WriteByte('|')
		}
		b.WriteString("unknown")
	}
	return b.String()
}

// fromSubject maps the tolerances subject.ParseLenient reports.
func fromSubject(s subject.Leniency) Leniency {
	var l Leniency
	if s.Has(subject.LenientSubjectType) {
		l |= LenientSubjectType
	}
	if s.Has(subject.LenientLegacyFormatName) {
		l |= LenientLegacyFormatName
	}
	if s.Has(subject.LenientComplexWithoutFormat) {
		l |= LenientComplexWithoutFormat
	}
	if s.Has(subject.LenientOpaqueSub) {
		l |= LenientOpaqueSub
	}
	return l
}
