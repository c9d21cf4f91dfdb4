package ssf

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// Audience is a JWT audience: the stream "aud" (SSF §8.1.1) and the SET "aud" claim
// (SSF §4.1.8, RFC 7519 §4.1.3). It decodes from a JSON string or an array of strings
// and encodes a single value as a string, several as an array. A nil or empty Audience
// encodes as [] (callers omit it where it is optional).
type Audience []string

// Contains reports whether s is one of the audience values (exact string comparison).
// It does not allocate.
func (a Audience) Contains(s string) bool {
	for _, v := range a {
		if v == s {
			return true
		}
	}
	return false
}

// ContainsAny reports whether any of values is one of the audience values.
func (a Audience) ContainsAny(values ...string) bool {
	for _, v := range values {
		if a.Contains(v) {
			return true
		}
	}
	return false
}

// Equal reports whether a and b hold the same set of values, ignoring order and
// repetition.
func (a Audience) Equal(b Audience) bool { return sameSet(a, b) }

// MarshalJSON implements json.Marshaler.
func (a Audience) MarshalJSON() ([]byte, error) {
	if len(a) == 1 {
		return appendJSONString(nil, a[0]), nil
	}
	return appendStrings(nil, a), nil
}

// UnmarshalJSON implements json.Unmarshaler: a JSON string becomes a one-element
// Audience, an array of strings (possibly empty) an Audience of those values; null
// leaves a unchanged; anything else is a [*MemberError].
func (a *Audience) UnmarshalJSON(data []byte) error {
	switch jsonKind(data) {
	case "null":
		return nil
	case "string":
		s, err := decodeString(data)
		if err != nil {
			return &MemberError{Object: "audience", Err: err}
		}
		*a = Audience{s}
		return nil
	case "array":
		v, idx, err := decodeStrings(data)
		if err != nil {
			if idx >= 0 {
				return &MemberError{Object: "audience", Err: fmt.Errorf("element %d: %w", idx, err)}
			}
			return &MemberError{Object: "audience", Err: err}
		}
		*a = Audience(v)
		return nil
	}
	return memberErr("audience", "", "want a string or an array of strings, got %s", jsonKind(data))
}

// validate reports empty values.
func (a Audience) validate() error {
	if len(a) == 0 {
		return errors.New("is required: at least one audience value")
	}
	for i, v := range a {
		if v == "" {
			return fmt.Errorf("value %d is empty", i)
		}
	}
	return nil
}

// sameSet reports whether a and b hold the same values ignoring order and repetition.
func sameSet(a, b []string) bool {
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	for _, v := range b {
		if !slices.Contains(a, v) {
			return false
		}
	}
	return true
}

var _ json.Marshaler = Audience(nil)
