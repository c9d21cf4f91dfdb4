package event

import (
	"errors"
	"fmt"
	"slices"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// Localized holds one message in one or more languages: a JSON object whose member names
// are BCP 47 (RFC 5646) language tags and whose values are the message in that language.
// It is the type of CAEP §2 reason_admin and reason_user (CAEP-4, CAEP-5) and of RISC
// §2.7 reason_admin and reason_user (AMB-2: RISC gives them no type, so sigshare uses the
// CAEP form).
//
// A bare JSON string is not a Localized value (AMB-1): decoding rejects it; the SET
// layer's compatibility mode rewrites legacy strings before decoding.
type Localized map[string]string

// Validate checks that l has at least one message and that every key has the shape of a
// BCP 47 language tag (see ValidLanguageTag). Messages may be any string.
func (l Localized) Validate() error {
	if len(l) == 0 {
		return errors.New("must hold at least one language-tagged message")
	}
	for tag := range l {
		if !ValidLanguageTag(tag) {
			return fmt.Errorf("has %s, which is not a BCP 47 language tag", quote(tag))
		}
	}
	return nil
}

// ValidLanguageTag reports whether tag has the shape of a BCP 47 (RFC 5646) language tag:
// subtags of 1 to 8 ASCII letters or digits separated by hyphens, the first of letters
// only ("en", "de-CH", "es-419", "zh-Hant-TW", "x-private", "i-default"). It checks the
// shape only, not the IANA registry, so that tags sigshare does not know still pass.
func ValidLanguageTag(tag string) bool {
	n := 0 // length of the current subtag
	first := true
	for i := 0; i < len(tag); i++ {
		c := tag[i]
		switch {
		case c == '-':
			if n == 0 {
				return false
			}
			n, first = 0, false
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			n++
		case '0' <= c && c <= '9':
			if first {
				return false
			}
			n++
		default:
			return false
		}
		if n > 8 {
			return false
		}
	}
	return n > 0
}

// Tags returns the language tags of l, sorted.
func (l Localized) Tags() []string {
	tags := make([]string, 0, len(l))
	for t := range l {
		tags = append(tags, t)
	}
	slices.Sort(tags)
	return tags
}

// UnmarshalJSON decodes a JSON object of strings. It rejects other JSON types and
// members whose value is not a string (null included); null leaves l unchanged.
func (l *Localized) UnmarshalJSON(data []byte) error {
	v, err := validValue(data)
	if err != nil {
		return err
	}
	switch v[0] {
	case 'n':
		return nil
	case '{':
		m, err := parseLocalized(v)
		if err != nil {
			return errors.New("localized message " + err.Error())
		}
		*l = m
		return nil
	}
	return fmt.Errorf("localized message must be a JSON object, not %s", kind(v))
}

// parseLocalized decodes a valid JSON object whose values must be strings.
func parseLocalized(v []byte) (Localized, error) {
	l := make(Localized, 2)
	var r jsonwire.ObjectReader
	if err := r.Reset(v, payloadRules()); err != nil {
		return nil, err
	}
	for r.Next() {
		tag := string(r.Name())
		s, ok := r.Unquoted()
		if !ok {
			return nil, fmt.Errorf("must map each language tag to a JSON string, but %s maps to %s", quote(tag), r.Kind())
		}
		l[tag] = s
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	return l, nil
}
