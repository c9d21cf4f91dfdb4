package subject

import (
	"errors"
	"strconv"
	"strings"
)

// ErrInvalid is wrapped by every error Parse, ParseLenient, Validate, MarshalJSON,
// UnmarshalJSON and Canonical return for a subject that is malformed or breaks a rule of
// its format. Test for it with errors.Is; use errors.As with *Error for the details.
var ErrInvalid = errors.New("subject: invalid subject identifier")

// Error describes what is wrong with a subject identifier. Its message names the format
// and the member, e.g. `subject: email: member "email" is missing`, or for a member of a
// Complex Subject `subject: complex: member "user": email: member "email" is missing`.
type Error struct {
	// Format is the format being decoded or validated; empty when not yet known.
	Format string
	// Member is the member the problem is in, with an array index in brackets for an
	// element (e.g. "identifiers[1]"); empty when the problem is the object itself.
	Member string
	// Reason says what is wrong; empty when Err carries the reason.
	Reason string
	// Err is the problem inside the member (a nested *Error for a member of a Complex
	// Subject or an element of aliases), or nil.
	Err error
}

// Error returns the message, prefixed with "subject: ".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("subject: ")
	e.write(&b)
	return b.String()
}

func (e *Error) write(b *strings.Builder) {
	if e.Format != "" {
		b.WriteString(e.Format)
		b.WriteString(": ")
	}
	if e.Member != "" {
		b.WriteString("member ")
		b.WriteString(strconv.Quote(e.Member))
	}
	if e.Err != nil {
		if e.Member != "" {
			b.WriteString(": ")
		}
		var inner *Error
		if errors.As(e.Err, &inner) {
			inner.write(b)
		} else {
			b.WriteString(e.Err.Error())
		}
		return
	}
	if e.Member != "" && e.Reason != "" {
		b.WriteByte(' ')
	}
	b.WriteString(e.Reason)
}

// Is reports whether target is ErrInvalid, so that errors.Is(err, ErrInvalid) holds for
// every *Error.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the nested problem, if any.
func (e *Error) Unwrap() error { return e.Err }

// memberError is a shorthand for an *Error about one member.
func memberError(format, member, reason string) *Error {
	return &Error{Format: format, Member: member, Reason: reason}
}

// nested wraps err as the problem inside member of format.
func nested(format, member string, err error) *Error {
	return &Error{Format: format, Member: member, Err: err}
}
