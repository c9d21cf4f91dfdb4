package set

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/sigshare/sigshare/ssf"
)

// Error is a SET that was rejected, with the reason a recipient reports to the
// transmitter: Code is the RFC 8935 §2.3 "err" value (one of the ssf.Code* constants,
// registered in RFC 8935 §7.1 and SSF §11) and Description the human-readable
// "description". Descriptions name the claim or header parameter at fault and what was
// wrong with it; they never carry key material, verification state values or the SET
// itself, so that they can be sent back in an RFC 8935 error body (PUSH-5) and logged.
//
// errors.Is matches an Error against the sentinel of its code (ErrInvalidRequest,
// ErrInvalidKey, …). Err, when set, is the underlying cause (a *subject.Error,
// *event.Error, keys.ErrUnknownKeyID, …) for callers that want the details.
type Error struct {
	// Code is the Security Event Token error code, e.g. "invalid_key".
	Code string
	// Description says precisely what was wrong, in English.
	Description string
	// Err is the underlying cause, or nil.
	Err error
}

// Error returns "set: <code>: <description>".
func (e *Error) Error() string {
	return "set: " + e.Code + ": " + e.Description
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's code.
func (e *Error) Is(target error) bool {
	s := sentinel(e.Code)
	return s != nil && target == s
}

// Sentinels, one per Security Event Token error code (RFC 8935 §2.4, SSF §11). Every
// *Error matches the sentinel of its Code with errors.Is, e.g.
// errors.Is(err, set.ErrInvalidKey).
var (
	// ErrInvalidRequest: the SET cannot be parsed, breaks a rule of RFC 8417 or the SSF
	// SET profile, or its event payload does not conform to its event type.
	ErrInvalidRequest = errors.New("set: " + ssf.CodeInvalidRequest)
	// ErrInvalidKey: the signing (or encryption) key or algorithm is invalid or
	// unacceptable: algorithm not allowed, unknown kid, bad signature, key/algorithm
	// mismatch, JWE that cannot be decrypted.
	ErrInvalidKey = errors.New("set: " + ssf.CodeInvalidKey)
	// ErrInvalidIssuer: the "iss" claim is not the configured issuer.
	ErrInvalidIssuer = errors.New("set: " + ssf.CodeInvalidIssuer)
	// ErrInvalidAudience: the "aud" claim does not name this recipient.
	ErrInvalidAudience = errors.New("set: " + ssf.CodeInvalidAudience)
	// ErrAuthenticationFailed: the recipient could not authenticate the transmitter.
	// This package never returns it; delivery code does.
	ErrAuthenticationFailed = errors.New("set: " + ssf.CodeAuthenticationFailed)
	// ErrAccessDenied: the transmitter may not send this SET to this recipient. This
	// package never returns it; delivery code does.
	ErrAccessDenied = errors.New("set: " + ssf.CodeAccessDenied)
	// ErrInvalidState: the state of a Verification event is not the one the receiver
	// expects (SSF §8.1.4.1; returned by CheckVerification).
	ErrInvalidState = errors.New("set: " + ssf.CodeInvalidState)
)

func sentinel(code string) error {
	switch code {
	case ssf.CodeInvalidRequest:
		return ErrInvalidRequest
	case ssf.CodeInvalidKey:
		return ErrInvalidKey
	case ssf.CodeInvalidIssuer:
		return ErrInvalidIssuer
	case ssf.CodeInvalidAudience:
		return ErrInvalidAudience
	case ssf.CodeAuthenticationFailed:
		return ErrAuthenticationFailed
	case ssf.CodeAccessDenied:
		return ErrAccessDenied
	case ssf.CodeInvalidState:
		return ErrInvalidState
	}
	return nil
}

// ErrDiscard is wrapped by the error Verify returns together with a valid Token whose
// event the receiver must discard without processing: its sub_id is a Complex Subject
// with a member the transmitter declared critical (critical_subject_members) and that
// this receiver cannot process (SSF §3.6, §7.1; SUBJ-22, TV-GEN-19). The SET itself is
// valid: acknowledge it (push: 202; poll: ack) and do not report an error to the
// transmitter (AMB-27). The error is not an *Error, so code that maps every *Error to an
// RFC 8935 error response cannot mistake it for a rejection, and code that stops at any
// non-nil error cannot process the event by accident.
var ErrDiscard = errors.New("set: event must be discarded")

// Constructors for the errors this package returns.

func newError(code string, err error, format string, args ...any) *Error {
	return &Error{Code: code, Description: fmt.Sprintf(format, args...), Err: err}
}

func requestErr(err error, format string, args ...any) *Error {
	return newError(ssf.CodeInvalidRequest, err, format, args...)
}

func keyErr(err error, format string, args ...any) *Error {
	return newError(ssf.CodeInvalidKey, err, format, args...)
}

// quote formats a value received in a SET for a description: quoted, at most 64
// characters, so that descriptions stay short whatever a SET carries.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}
