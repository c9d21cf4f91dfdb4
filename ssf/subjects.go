package ssf

import (
	"encoding/json"
	"errors"

	"github.com/sigshare/sigshare/subject"
)

// AddSubjectRequest is the body of an add-subject request (SSF §8.1.3.2).
type AddSubjectRequest struct {
	// StreamID is "stream_id" (REQUIRED).
	StreamID string
	// Subject is "subject" (REQUIRED): a Subject Identifier or Complex Subject.
	Subject subject.Identifier
	// Verified is "verified" (OPTIONAL): whether the Receiver has verified the subject
	// claim. nil means omitted, which a Transmitter takes as verified (see IsVerified).
	Verified *bool
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

// IsVerified returns the value of verified, true when it is omitted (SSF §8.1.3.2:
// the Transmitter SHOULD assume the subject was verified).
func (r *AddSubjectRequest) IsVerified() bool { return r.Verified == nil || *r.Verified }

// RemoveSubjectRequest is the body of a remove-subject request (SSF §8.1.3.3).
type RemoveSubjectRequest struct {
	// StreamID is "stream_id" (REQUIRED).
	StreamID string
	// Subject is "subject" (REQUIRED).
	Subject subject.Identifier
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

const (
	objAddSubject    = "add-subject request"
	objRemoveSubject = "remove-subject request"
)

// MarshalJSON implements json.Marshaler. The subject is encoded by its own
// MarshalJSON (which fails for an invalid subject); a nil Subject is omitted.
func (r AddSubjectRequest) MarshalJSON() ([]byte, error) {
	e := newEncoder()
	e.str("stream_id", r.StreamID)
	if err := encodeSubject(e, objAddSubject, r.Subject); err != nil {
		return nil, err
	}
	if r.Verified != nil {
		e.boolean("verified", *r.Verified)
	}
	if err := e.extra(objAddSubject, r.Extra, func(n string) bool {
		return n == "stream_id" || n == "subject" || n == "verified"
	}); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

// MarshalJSON implements json.Marshaler. A nil Subject is omitted.
func (r RemoveSubjectRequest) MarshalJSON() ([]byte, error) {
	e := newEncoder()
	e.str("stream_id", r.StreamID)
	if err := encodeSubject(e, objRemoveSubject, r.Subject); err != nil {
		return nil, err
	}
	if err := e.extra(objRemoveSubject, r.Extra, func(n string) bool {
		return n == "stream_id" || n == "subject"
	}); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

func encodeSubject(e *encoder, object string, id subject.Identifier) error {
	if id == nil {
		return nil
	}
	b, err := id.MarshalJSON()
	if err != nil {
		return &MemberError{Object: object, Member: "subject", Err: err}
	}
	e.raw("subject", b)
	return nil
}

// Validate checks r (SSF §8.1.3.2; conformance RS13): stream_id and subject present,
// subject valid.
func (r *AddSubjectRequest) Validate() error {
	return validateSubjectRequest(objAddSubject, r.StreamID, r.Subject)
}

// Validate checks r (SSF §8.1.3.3; conformance RS13): stream_id and subject present,
// subject valid.
func (r *RemoveSubjectRequest) Validate() error {
	return validateSubjectRequest(objRemoveSubject, r.StreamID, r.Subject)
}

func validateSubjectRequest(object, streamID string, id subject.Identifier) error {
	var errs []error
	if streamID == "" {
		errs = append(errs, memberErr(object, "stream_id", "is required (SSF §8.1.3)"))
	}
	if id == nil {
		errs = append(errs, memberErr(object, "subject", "is required (SSF §8.1.3)"))
	} else if err := id.Validate(); err != nil {
		errs = append(errs, &MemberError{Object: object, Member: "subject", Err: err})
	}
	return errors.Join(errs...)
}

// UnmarshalJSON implements json.Unmarshaler. The subject is parsed strictly with
// subject.Parse (SSF 1.0 Final shapes only); [ParseAddSubjectRequestLenient] also
// accepts legacy subject shapes.
func (r *AddSubjectRequest) UnmarshalJSON(data []byte) error {
	v, _, err := decodeAddSubject(data, false)
	if err != nil {
		return err
	}
	*r = *v
	return nil
}

// ParseAddSubjectRequestLenient decodes an add-subject request whose subject may have a
// legacy shape (subject.ParseLenient: "subject_type", draft format names such as
// "phone", a Complex Subject without "format", an opaque "sub"); the subject is
// normalized to the SSF 1.0 Final shape. The Leniency says which tolerances were
// needed (zero when the request was strictly valid).
func ParseAddSubjectRequestLenient(data []byte) (*AddSubjectRequest, subject.Leniency, error) {
	return decodeAddSubject(data, true)
}

func decodeAddSubject(data []byte, lenient bool) (*AddSubjectRequest, subject.Leniency, error) {
	dec, err := newDecoder(objAddSubject, "", data)
	if err != nil {
		return nil, 0, err
	}
	var r AddSubjectRequest
	r.StreamID, _ = dec.str("stream_id")
	var used subject.Leniency
	r.Subject, used = decodeSubjectMember(dec, lenient)
	if v, ok := dec.boolean("verified"); ok {
		r.Verified = &v
	}
	r.Extra, err = dec.rest()
	if err != nil {
		return nil, 0, err
	}
	return &r, used, nil
}

// UnmarshalJSON implements json.Unmarshaler. The subject is parsed strictly with
// subject.Parse; [ParseRemoveSubjectRequestLenient] also accepts legacy shapes (the SSF
// §8.1.3.3 example itself uses the draft format name "phone", AMB-9).
func (r *RemoveSubjectRequest) UnmarshalJSON(data []byte) error {
	v, _, err := decodeRemoveSubject(data, false)
	if err != nil {
		return err
	}
	*r = *v
	return nil
}

// ParseRemoveSubjectRequestLenient decodes a remove-subject request whose subject may
// have a legacy shape, like [ParseAddSubjectRequestLenient].
func ParseRemoveSubjectRequestLenient(data []byte) (*RemoveSubjectRequest, subject.Leniency, error) {
	return decodeRemoveSubject(data, true)
}

func decodeRemoveSubject(data []byte, lenient bool) (*RemoveSubjectRequest, subject.Leniency, error) {
	dec, err := newDecoder(objRemoveSubject, "", data)
	if err != nil {
		return nil, 0, err
	}
	var r RemoveSubjectRequest
	r.StreamID, _ = dec.str("stream_id")
	var used subject.Leniency
	r.Subject, used = decodeSubjectMember(dec, lenient)
	r.Extra, err = dec.rest()
	if err != nil {
		return nil, 0, err
	}
	return &r, used, nil
}

// decodeSubjectMember takes and parses the "subject" member; nil when absent.
func decodeSubjectMember(dec *decoder, lenient bool) (subject.Identifier, subject.Leniency) {
	raw, ok := dec.take("subject")
	if !ok {
		return nil, 0
	}
	if k := jsonKind(raw); k != "object" {
		dec.addErr(dec.fail("subject", "want a subject identifier object, got %s", k))
		return nil, 0
	}
	var (
		id   subject.Identifier
		used subject.Leniency
		err  error
	)
	if lenient {
		id, used, err = subject.ParseLenient(raw)
	} else {
		id, err = subject.Parse(raw)
	}
	if err != nil {
		dec.addErr(&MemberError{Object: dec.object, Member: "subject", Err: err})
		return nil, 0
	}
	return id, used
}
