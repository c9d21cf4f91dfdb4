package ssf

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Security Event Token error codes (RFC 8935 §2.4 and §7.1; SSF §8.1.4.1 adds
// invalid_state): the "err" of a push error response and of a poll setErrs entry.
// The registry is extensible: other codes may be received.
const (
	// CodeInvalidRequest: the request body cannot be parsed as a SET, or the event
	// payload does not conform to the event's definition.
	CodeInvalidRequest = "invalid_request"
	// CodeInvalidKey: a key used to sign or encrypt the SET is invalid or unacceptable.
	CodeInvalidKey = "invalid_key"
	// CodeInvalidIssuer: the SET issuer is invalid for this Recipient.
	CodeInvalidIssuer = "invalid_issuer"
	// CodeInvalidAudience: the SET audience does not correspond to this Recipient.
	CodeInvalidAudience = "invalid_audience"
	// CodeAuthenticationFailed: the Recipient could not authenticate the Transmitter.
	CodeAuthenticationFailed = "authentication_failed"
	// CodeAccessDenied: the Transmitter is not authorized to transmit this SET to this
	// Recipient.
	CodeAccessDenied = "access_denied"
	// CodeInvalidState: the state of a Verification event does not match what the
	// Receiver expected (SSF §8.1.4.1).
	CodeInvalidState = "invalid_state"
)

// IsRegisteredSETErrorCode reports whether code is one of the codes above.
func IsRegisteredSETErrorCode(code string) bool {
	switch code {
	case CodeInvalidRequest, CodeInvalidKey, CodeInvalidIssuer, CodeInvalidAudience,
		CodeAuthenticationFailed, CodeAccessDenied, CodeInvalidState:
		return true
	}
	return false
}

// SETError is the error body of RFC 8935 §2.3, {"err": …, "description": …}: the body of
// a 400 answer to a push, and the value of a setErrs entry in a poll request
// (RFC 8936 §2.4.4).
type SETError struct {
	// Err is "err": a Security Event Token error code (see CodeInvalidRequest …).
	Err string
	// Description is "description": a human-readable explanation. It is always
	// written, even when empty.
	Description string
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

const objSETError = "SET error"

// MarshalJSON implements json.Marshaler.
func (e SETError) MarshalJSON() ([]byte, error) {
	enc := newEncoder()
	if err := e.encode(enc, objSETError); err != nil {
		return nil, err
	}
	return enc.bytes(), nil
}

func (e *SETError) encode(enc *encoder, object string) error {
	enc.str("err", e.Err)
	enc.str("description", e.Description)
	return enc.extra(object, e.Extra, func(n string) bool { return n == "err" || n == "description" })
}

// UnmarshalJSON implements json.Unmarshaler. It checks member types.
func (e *SETError) UnmarshalJSON(data []byte) error {
	v, err := decodeSETError(data, objSETError, "")
	if err != nil {
		return err
	}
	*e = v
	return nil
}

func decodeSETError(data []byte, object, prefix string) (SETError, error) {
	dec, err := newDecoder(object, prefix, data)
	if err != nil {
		return SETError{}, err
	}
	var v SETError
	v.Err, _ = dec.str("err")
	v.Description, _ = dec.str("description")
	v.Extra, err = dec.rest()
	return v, err
}

// Validate checks e (RFC 8935 §2.3, §7.1): err is present and uses only the characters
// 0-9, A-Z, a-z and "_".
func (e *SETError) Validate() error { return e.validate(objSETError, "") }

func (e *SETError) validate(object, prefix string) error {
	if e.Err == "" {
		return memberErr(object, prefix+"err", "is required (RFC 8935 §2.3)")
	}
	for _, c := range e.Err {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_') {
			return memberErr(object, prefix+"err", "%q: an error code uses only 0-9, A-Z, a-z and _ (RFC 8935 §7.1)", e.Err)
		}
	}
	return nil
}

// Error implements error, so that a SETError can be returned and tested with
// errors.As.
func (e *SETError) Error() string {
	if e.Description == "" {
		return "ssf: SET error " + e.Err
	}
	return "ssf: SET error " + e.Err + ": " + e.Description
}

// WriteSETError writes the RFC 8935 §2.3 error response to a push: status 400,
// Content-Type application/json, Content-Language en (descriptions written by sigshare
// are English, RFC 8935 §2.3 requires the header), and e as the body.
func WriteSETError(w http.ResponseWriter, e SETError) {
	body, err := e.MarshalJSON()
	if err != nil {
		body, _ = SETError{Err: CodeInvalidRequest, Description: e.Description}.MarshalJSON()
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Language", "en")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(body)
}

// PollRequest is the body of a poll request (RFC 8936 §2.2). The zero value, encoded
// as {}, is a valid default poll: no limit, long poll, nothing to acknowledge.
type PollRequest struct {
	// MaxEvents is "maxEvents": the most SETs to return; nil means no limit (AMB-25),
	// 0 asks for none (acknowledge only).
	MaxEvents *int
	// ReturnImmediately is "returnImmediately": true asks for a short poll; false (the
	// default) for a long poll.
	ReturnImmediately bool
	// Ack is "ack": jti values of SETs received and validated.
	Ack []string
	// SetErrs is "setErrs": jti values of SETs that failed validation, with the error.
	// A request that has any must carry a Content-Language header (RFC 8936 §2.6).
	SetErrs map[string]SETError
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

const objPollRequest = "poll request"

func pollRequestReserved(n string) bool {
	switch n {
	case "maxEvents", "returnImmediately", "ack", "setErrs":
		return true
	}
	return false
}

// MarshalJSON implements json.Marshaler. Members with their default value (nil
// maxEvents, false returnImmediately, no ack, no setErrs) are omitted; setErrs is
// written in jti order.
func (r PollRequest) MarshalJSON() ([]byte, error) {
	e := newEncoder()
	if r.MaxEvents != nil {
		if *r.MaxEvents < 0 {
			return nil, memberErr(objPollRequest, "maxEvents", "%d is negative", *r.MaxEvents)
		}
		e.integer("maxEvents", *r.MaxEvents)
	}
	if r.ReturnImmediately {
		e.boolean("returnImmediately", true)
	}
	if len(r.Ack) > 0 {
		e.strs("ack", r.Ack)
	}
	if len(r.SetErrs) > 0 {
		e.name("setErrs")
		sub := newEncoder()
		for _, jti := range sortedKeys(r.SetErrs) {
			sub.name(jti)
			inner := newEncoder()
			se := r.SetErrs[jti]
			if err := se.encode(inner, objPollRequest); err != nil {
				return nil, err
			}
			sub.buf = append(sub.buf, inner.bytes()...)
		}
		e.buf = append(e.buf, sub.bytes()...)
	}
	if err := e.extra(objPollRequest, r.Extra, pollRequestReserved); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// UnmarshalJSON implements json.Unmarshaler with strict member types: maxEvents a
// non-negative integer, returnImmediately a boolean, ack an array of strings, setErrs
// an object whose values are {"err", "description"} objects.
func (r *PollRequest) UnmarshalJSON(data []byte) error {
	dec, err := newDecoder(objPollRequest, "", data)
	if err != nil {
		return err
	}
	var v PollRequest
	v.MaxEvents = dec.nonNegInt("maxEvents")
	v.ReturnImmediately, _ = dec.boolean("returnImmediately")
	v.Ack = dec.strs("ack")
	if raw, ok := dec.take("setErrs"); ok {
		if k := jsonKind(raw); k != "object" {
			dec.addErr(dec.fail("setErrs", "want an object keyed by jti, got %s", k))
		} else {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				dec.addErr(dec.fail("setErrs", "%v", err))
			} else {
				v.SetErrs = make(map[string]SETError, len(m))
				for _, jti := range sortedKeys(m) {
					se, err := decodeSETError(m[jti], objPollRequest, "setErrs."+jti+".")
					if err != nil {
						dec.addErr(err)
						continue
					}
					v.SetErrs[jti] = se
				}
			}
		}
	}
	v.Extra, err = dec.rest()
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Validate checks r (RFC 8936 §2.2): no empty jti in ack or setErrs and every setErrs
// entry valid ([SETError.Validate]).
func (r *PollRequest) Validate() error {
	var errs []error
	for i, jti := range r.Ack {
		if jti == "" {
			errs = append(errs, memberErr(objPollRequest, "ack["+strconv.Itoa(i)+"]", "is an empty jti"))
		}
	}
	for _, jti := range sortedKeys(r.SetErrs) {
		if jti == "" {
			errs = append(errs, memberErr(objPollRequest, "setErrs", "has an entry with an empty jti"))
		}
		se := r.SetErrs[jti]
		errs = append(errs, se.validate(objPollRequest, "setErrs."+jti+"."))
	}
	if r.MaxEvents != nil && *r.MaxEvents < 0 {
		errs = append(errs, memberErr(objPollRequest, "maxEvents", "%d is negative", *r.MaxEvents))
	}
	return errors.Join(errs...)
}

// BatchSize returns how many SETs a Transmitter returns for r when it returns at most
// limit per response (limit ≤ 0: no limit of its own): the smaller of maxEvents and
// limit, or -1 when neither limits the batch. A Transmitter that returns fewer SETs than
// it has because of its own limit sets moreAvailable (AMB-25).
func (r *PollRequest) BatchSize(limit int) int {
	switch {
	case r.MaxEvents == nil && limit <= 0:
		return -1
	case r.MaxEvents == nil:
		return limit
	case limit <= 0 || *r.MaxEvents < limit:
		return *r.MaxEvents
	}
	return limit
}

// PollResponse is the body of a poll response (RFC 8936 §2.5).
type PollResponse struct {
	// Sets is "sets": jti → SET in compact serialization. Always written, as {} when
	// empty.
	Sets map[string]string
	// MoreAvailable is "moreAvailable": more unacknowledged SETs are waiting. Written
	// only when true (absent means false).
	MoreAvailable bool
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

const objPollResponse = "poll response"

// MarshalJSON implements json.Marshaler; sets is written in jti order.
func (r PollResponse) MarshalJSON() ([]byte, error) {
	size := 64
	for jti, set := range r.Sets {
		size += len(jti) + len(set) + 6
	}
	e := newEncoderSize(size)
	e.name("sets")
	e.buf = append(e.buf, '{')
	for i, jti := range sortedKeys(r.Sets) {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.buf = appendJSONString(e.buf, jti)
		e.buf = append(e.buf, ':')
		e.buf = appendJSONString(e.buf, r.Sets[jti])
	}
	e.buf = append(e.buf, '}')
	if r.MoreAvailable {
		e.boolean("moreAvailable", true)
	}
	if err := e.extra(objPollResponse, r.Extra, func(n string) bool { return n == "sets" || n == "moreAvailable" }); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler with strict member types. A missing sets
// member leaves Sets nil (reported by Validate).
func (r *PollResponse) UnmarshalJSON(data []byte) error {
	dec, err := newDecoder(objPollResponse, "", data)
	if err != nil {
		return err
	}
	var v PollResponse
	if raw, ok := dec.take("sets"); ok {
		if k := jsonKind(raw); k != "object" {
			dec.addErr(dec.fail("sets", "want an object keyed by jti, got %s", k))
		} else {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(raw, &m); err != nil {
				dec.addErr(dec.fail("sets", "%v", err))
			} else {
				v.Sets = make(map[string]string, len(m))
				for _, jti := range sortedKeys(m) {
					s, err := decodeString(m[jti])
					if err != nil {
						dec.addErr(dec.fail("sets."+jti, "%v", err))
						continue
					}
					v.Sets[jti] = s
				}
			}
		}
	}
	v.MoreAvailable, _ = dec.boolean("moreAvailable")
	v.Extra, err = dec.rest()
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Validate checks r (RFC 8936 §2.5): sets is present (Sets not nil); no jti is empty;
// every SET is in compact serialization (three dot-separated parts for JWS, five for
// JWE).
func (r *PollResponse) Validate() error {
	if r.Sets == nil {
		return memberErr(objPollResponse, "sets", "is required, {} when no SET is outstanding (RFC 8936 §2.5)")
	}
	var errs []error
	for _, jti := range sortedKeys(r.Sets) {
		if jti == "" {
			errs = append(errs, memberErr(objPollResponse, "sets", "has an entry with an empty jti"))
		}
		if n := strings.Count(r.Sets[jti], ".") + 1; n != 3 && n != 5 {
			errs = append(errs, &MemberError{Object: objPollResponse, Member: "sets." + jti, Err: fmt.Errorf("is not a compact JWS or JWE (%d parts)", n)})
		}
	}
	return errors.Join(errs...)
}
