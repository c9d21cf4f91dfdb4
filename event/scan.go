package event

import "github.com/sigshare/sigshare/internal/jsonwire"

// payloadRules are the JSON rules of an event payload: exactly what encoding/json
// accepts (strings may hold invalid UTF-8, which decoding replaces with U+FFFD, as
// encoding/json does; nesting up to encoding/json's limit). Duplicate member names are
// accepted and the last one wins (RFC 7519 §4; docs/spec-decisions.md "Duplicate
// members inside an event payload"): PayloadReader visits each occurrence in turn.
func payloadRules() jsonwire.Rules { return jsonwire.Rules{} }

// kind names the JSON type of a raw value for error messages.
func kind(val []byte) string { return jsonwire.KindOfValue(val).String() }

// validObject checks that data is exactly one JSON object (with optional surrounding
// white space).
func validObject(data []byte) error {
	if i := jsonwire.SkipSpace(data, 0); i < len(data) && data[i] != '{' {
		if _, err := payloadRules().Skip(data, i); err != nil {
			return err
		}
		return &notObjectError{kind: kind(data[i:])}
	}
	return payloadRules().Valid(data)
}

// validValue checks that data is exactly one JSON value and returns it without the
// white space around it.
func validValue(data []byte) ([]byte, error) {
	if err := payloadRules().Valid(data); err != nil {
		return nil, err
	}
	return jsonwire.TrimSpace(data), nil
}

type notObjectError struct{ kind string }

func (e *notObjectError) Error() string { return "is " + e.kind + ", not a JSON object" }
