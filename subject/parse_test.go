package subject

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type rejectCase struct {
	name string
	in   string
	want string // the exact error message
}

// checkRejects runs parse on every case and asserts the exact error, that it wraps
// ErrInvalid and that it is an *Error.
func checkRejects(t *testing.T, parse func([]byte) (Identifier, error), cases []rejectCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := parse([]byte(tc.in))
			if err == nil {
				t.Fatalf("accepted %s as %#v", tc.in, id)
			}
			if id != nil {
				t.Errorf("returned a non-nil identifier with the error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tc.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error is not an *Error")
			}
		})
	}
}

func strictParse(b []byte) (Identifier, error) { return Parse(b) }

func lenientParse(b []byte) (Identifier, error) {
	id, _, err := ParseLenient(b)
	return id, err
}

// TestParseRejectsJSON: malformed JSON and JSON hygiene (SEC-19).
func TestParseRejectsJSON(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 64) + "1" + strings.Repeat("}", 64)
	cases := []rejectCase{
		{"empty", ``, `subject: empty input, want a JSON object`},
		{"whitespace only", " \n", `subject: empty input, want a JSON object`},
		{"array", `[{"format":"email","email":"a@b"}]`, `subject: is an array, want a JSON object`},
		{"string", `"a@b"`, `subject: is a string, want a JSON object`},
		{"null", `null`, `subject: is null, want a JSON object`},
		{"number", `12`, `subject: is a number, want a JSON object`},
		{"garbage", `<x/>`, `subject: invalid JSON at offset 0: want a JSON object`},
		{"truncated", `{"format":"email","email":"a@b"`, `subject: invalid JSON at offset 31: unterminated object`},
		{"truncated string", `{"format":"email","email":"a@b`, `subject: invalid JSON at offset 30: unterminated string`},
		{"trailing comma", `{"format":"email","email":"a@b",}`, `subject: invalid JSON at offset 32: want a member name`},
		{"trailing data", `{"format":"email","email":"a@b"} {}`, `subject: invalid JSON at offset 33: data after the JSON object`},
		{"missing colon", `{"format" "email"}`, `subject: invalid JSON at offset 10: want ':' after member name`},
		{"single quotes", `{'format':'email'}`, `subject: invalid JSON at offset 1: want a member name`},
		{"bad escape", `{"format":"email","email":"a\x@b"}`, `subject: invalid JSON at offset 28: invalid escape`},
		{"bad unicode escape", `{"format":"email","email":"a\u00g1@b"}`, `subject: invalid JSON at offset 28: invalid \u escape`},
		{"lone high surrogate", `{"format":"email","email":"\ud800@b"}`, `subject: invalid JSON at offset 33: lone high surrogate in string`},
		{"lone low surrogate", `{"format":"email","email":"\udc00@b"}`, `subject: invalid JSON at offset 27: lone low surrogate in string`},
		{"control character", "{\"format\":\"email\",\"email\":\"a\tb@c\"}", `subject: invalid JSON at offset 28: control character in string`},
		{"invalid UTF-8", "{\"format\":\"email\",\"email\":\"\xff@b\"}", `subject: invalid JSON at offset 27: string is not valid UTF-8`},
		{"leading zero", `{"format":"x","n":01}`, `subject: invalid JSON at offset 19: want ',' or '}' in object`},
		{"bad number", `{"format":"x","n":-}`, `subject: invalid JSON at offset 19: invalid number`},
		{"bad fraction", `{"format":"x","n":1.}`, `subject: invalid JSON at offset 20: invalid number: no digit after '.'`},
		{"bad exponent", `{"format":"x","n":1e}`, `subject: invalid JSON at offset 20: invalid number: no digit in exponent`},
		{"bad literal", `{"format":"x","n":nul}`, `subject: invalid JSON at offset 18: invalid literal`},
		{"unterminated array", `{"format":"x","n":[1,2}`, `subject: invalid JSON at offset 22: want ',' or ']' in array`},
		{"too deep", `{"format":"x","n":` + deep + `}`, `subject: invalid JSON at offset 333: nesting deeper than 64`},
		// SEC-19: duplicate member names, at every depth and in every spelling.
		{"duplicate member", `{"format":"email","email":"a@b","email":"c@d"}`, `subject: member "email" appears more than once (duplicate member name)`},
		{"duplicate format", `{"format":"email","format":"uri","email":"a@b"}`, `subject: member "format" appears more than once (duplicate member name)`},
		{"duplicate escaped", `{"format":"email","email":"a@b","\u0065mail":"c@d"}`, `subject: member "email" appears more than once (duplicate member name)`},
		{"duplicate in complex member", `{"format":"complex","user":{"format":"email","email":"a@b","email":"c@d"}}`, `subject: member "email" appears more than once (duplicate member name)`},
		{"duplicate complex member", `{"format":"complex","user":{"format":"opaque","id":"1"},"user":{"format":"opaque","id":"2"}}`, `subject: member "user" appears more than once (duplicate member name)`},
		{"duplicate in extra member", `{"format":"email","email":"a@b","x":{"k":1,"k":2}}`, `subject: member "k" appears more than once (duplicate member name)`},
		{"duplicate many members", manyMembers(40, "m7"), `subject: member "m7" appears more than once (duplicate member name)`},
	}
	checkRejects(t, strictParse, cases)
	checkRejects(t, lenientParse, cases)
}

// manyMembers builds an unknown-format identifier with n members m0…, then a repeat of
// dup, to exercise the map-based duplicate detection.
func manyMembers(n int, dup string) string {
	var b strings.Builder
	b.WriteString(`{"format":"x"`)
	for i := range n {
		b.WriteString(`,"m` + strconv.Itoa(i) + `":1`)
	}
	b.WriteString(`,"` + dup + `":2}`)
	return b.String()
}

// TestParseRejectsFormat: the "format" member (SUBJ-1) and the legacy shapes Parse
// refuses (SUBJ-25, DIFF-6, DIFF-9, AMB-9).
func TestParseRejectsFormat(t *testing.T) {
	checkRejects(t, strictParse, []rejectCase{
		{"missing", `{"email":"a@b"}`, `subject: member "format" is missing`},
		{"empty object", `{}`, `subject: member "format" is missing`},
		{"number", `{"format":1,"email":"a@b"}`, `subject: member "format" must be a string, not a number`},
		{"null", `{"format":null,"email":"a@b"}`, `subject: member "format" must be a string, not null`},
		{"empty", `{"format":"","email":"a@b"}`, `subject: member "format" must not be empty`},
		{"subject_type", `{"subject_type":"email","email":"a@b"}`, `subject: member "format" is missing (found the legacy member "subject_type"; ParseLenient accepts it)`},
		{"complex without format", `{"user":{"format":"email","email":"a@b"}}`, `subject: member "format" is missing (looks like a Complex Subject without "format":"complex"; ParseLenient accepts it)`},
		{"iss-sub", `{"format":"iss-sub","iss":"i","sub":"s"}`, `subject: iss-sub: member "format" is a legacy name of "iss_sub" (DIFF-9); ParseLenient accepts it`},
		{"phone", `{"format":"phone","phone_number":"+1"}`, `subject: phone: member "format" is a legacy name of "phone_number" (DIFF-9); ParseLenient accepts it`},
		{"phone-number", `{"format":"phone-number","phone_number":"+1"}`, `subject: phone-number: member "format" is a legacy name of "phone_number" (DIFF-9); ParseLenient accepts it`},
		{"jwt-id", `{"format":"jwt-id","iss":"i","jti":"j"}`, `subject: jwt-id: member "format" is a legacy name of "jwt_id" (DIFF-9); ParseLenient accepts it`},
		{"saml-assertion-id", `{"format":"saml-assertion-id","issuer":"i","assertion_id":"a"}`, `subject: saml-assertion-id: member "format" is a legacy name of "saml_assertion_id" (DIFF-9); ParseLenient accepts it`},
		{"legacy name in complex member", `{"format":"complex","user":{"format":"iss-sub","iss":"i","sub":"s"}}`, `subject: complex: member "user": iss-sub: member "format" is a legacy name of "iss_sub" (DIFF-9); ParseLenient accepts it`},
		{"subject_type in aliases", `{"format":"aliases","identifiers":[{"subject_type":"email","email":"a@b"}]}`, `subject: aliases: member "identifiers[0]": member "format" is missing (found the legacy member "subject_type"; ParseLenient accepts it)`},
	})
}

// TestParseRejectsMembers: every member rule of every format (SUBJ-4..SUBJ-11,
// SUBJ-17, SUBJ-19..SUBJ-21).
func TestParseRejectsMembers(t *testing.T) {
	cases := []rejectCase{
		// account (SUBJ-4)
		{"account missing uri", `{"format":"account"}`, `subject: account: member "uri" is missing`},
		{"account uri number", `{"format":"account","uri":5}`, `subject: account: member "uri" must be a string, not a number`},
		{"account uri empty", `{"format":"account","uri":""}`, `subject: account: member "uri" must not be empty`},
		{"account not acct", `{"format":"account","uri":"mailto:a@b"}`, `subject: account: member "uri" is not an acct: URI (RFC 7565)`},
		{"account no host", `{"format":"account","uri":"acct:user@"}`, `subject: account: member "uri" is not an acct: URI: want acct:userpart@host (RFC 7565)`},
		{"account no user", `{"format":"account","uri":"acct:@host"}`, `subject: account: member "uri" is not an acct: URI: want acct:userpart@host (RFC 7565)`},
		{"account no at", `{"format":"account","uri":"acct:user"}`, `subject: account: member "uri" is not an acct: URI: want acct:userpart@host (RFC 7565)`},
		{"account space", `{"format":"account","uri":"acct:us er@host"}`, `subject: account: member "uri" is not a URI: character space is not allowed (RFC 3986 §2)`},
		// email (SUBJ-5)
		{"email missing", `{"format":"email"}`, `subject: email: member "email" is missing`},
		{"email null", `{"format":"email","email":null}`, `subject: email: member "email" must be a string, not null`},
		{"email array", `{"format":"email","email":["a@b"]}`, `subject: email: member "email" must be a string, not an array`},
		{"email empty", `{"format":"email","email":""}`, `subject: email: member "email" must not be empty`},
		{"email no at", `{"format":"email","email":"user.example.com"}`, `subject: email: member "email" is not an addr-spec: no "@"`},
		{"email empty local", `{"format":"email","email":"@example.com"}`, `subject: email: member "email" is not an addr-spec: empty local part before "@"`},
		{"email empty domain", `{"format":"email","email":"user@"}`, `subject: email: member "email" is not an addr-spec: empty domain after "@"`},
		{"email two ats", `{"format":"email","email":"a@b@example.com"}`, `subject: email: member "email" is not an addr-spec: unquoted local part contains '@'`},
		{"email space in local", `{"format":"email","email":"a b@example.com"}`, `subject: email: member "email" is not an addr-spec: unquoted local part contains a space`},
		{"email space in domain", `{"format":"email","email":"a@exa mple.com"}`, `subject: email: member "email" is not an addr-spec: whitespace or control character in domain`},
		{"email empty label", `{"format":"email","email":"a@example..com"}`, `subject: email: member "email" is not an addr-spec: empty label in domain`},
		{"email leading dot", `{"format":"email","email":"a@.example.com"}`, `subject: email: member "email" is not an addr-spec: empty label in domain`},
		{"email control in local", `{"format":"email","email":"\"a\u0001\"@example.com"}`, `subject: email: member "email" is not an addr-spec: control character in local part`},
		{"email bad literal", `{"format":"email","email":"a@[1.2.3.4"}`, `subject: email: member "email" is not an addr-spec: unterminated domain literal`},
		// iss_sub (SUBJ-6)
		{"iss_sub missing iss", `{"format":"iss_sub","sub":"s"}`, `subject: iss_sub: member "iss" is missing`},
		{"iss_sub missing sub", `{"format":"iss_sub","iss":"i"}`, `subject: iss_sub: member "sub" is missing`},
		{"iss_sub empty iss", `{"format":"iss_sub","iss":"","sub":"s"}`, `subject: iss_sub: member "iss" must not be empty`},
		{"iss_sub empty sub", `{"format":"iss_sub","iss":"i","sub":""}`, `subject: iss_sub: member "sub" must not be empty`},
		{"iss_sub sub number", `{"format":"iss_sub","iss":"i","sub":123}`, `subject: iss_sub: member "sub" must be a string, not a number`},
		// opaque (SUBJ-7)
		{"opaque missing", `{"format":"opaque"}`, `subject: opaque: member "id" is missing`},
		{"opaque empty", `{"format":"opaque","id":""}`, `subject: opaque: member "id" must not be empty`},
		{"opaque number", `{"format":"opaque","id":42}`, `subject: opaque: member "id" must be a string, not a number`},
		{"opaque sub strict", `{"format":"opaque","sub":"x"}`, `subject: opaque: member "id" is missing`},
		// phone_number (SUBJ-8)
		{"phone missing", `{"format":"phone_number"}`, `subject: phone_number: member "phone_number" is missing`},
		{"phone empty", `{"format":"phone_number","phone_number":""}`, `subject: phone_number: member "phone_number" must not be empty`},
		{"phone no plus", `{"format":"phone_number","phone_number":"12065550100"}`, `subject: phone_number: member "phone_number" is not an E.164 number: must start with "+"`},
		{"phone letters", `{"format":"phone_number","phone_number":"+1206CALLME"}`, `subject: phone_number: member "phone_number" is not an E.164 number: only digits and spaces may follow "+"`},
		{"phone dashes", `{"format":"phone_number","phone_number":"+1-206-555-0100"}`, `subject: phone_number: member "phone_number" is not an E.164 number: only digits and spaces may follow "+"`},
		{"phone plus only", `{"format":"phone_number","phone_number":"+"}`, `subject: phone_number: member "phone_number" is not an E.164 number: no digits after "+"`},
		{"phone space after plus", `{"format":"phone_number","phone_number":"+ 1206"}`, `subject: phone_number: member "phone_number" is not an E.164 number: space right after "+" or at the end`},
		{"phone trailing space", `{"format":"phone_number","phone_number":"+1206 "}`, `subject: phone_number: member "phone_number" is not an E.164 number: space right after "+" or at the end`},
		{"phone too long", `{"format":"phone_number","phone_number":"+1234567890123456"}`, `subject: phone_number: member "phone_number" is not an E.164 number: more than 15 digits`},
		// did (SUBJ-9)
		{"did missing", `{"format":"did"}`, `subject: did: member "url" is missing`},
		{"did upper-case member", `{"format":"did","URL":"did:example:1"}`, `subject: did: member "url" is missing`},
		{"did not did", `{"format":"did","url":"https://example.com"}`, `subject: did: member "url" is not a DID URL: must start with "did:"`},
		{"did no method", `{"format":"did","url":"did:example"}`, `subject: did: member "url" is not a DID URL: want did:method:id`},
		{"did empty method", `{"format":"did","url":"did::123"}`, `subject: did: member "url" is not a DID URL: want did:method:id`},
		{"did upper method", `{"format":"did","url":"did:Example:123"}`, `subject: did: member "url" is not a DID URL: method name must be lower-case letters and digits`},
		{"did empty id", `{"format":"did","url":"did:example:"}`, `subject: did: member "url" is not a DID URL: empty method-specific id`},
		{"did space", `{"format":"did","url":"did:example:1 2"}`, `subject: did: member "url" is not a URI: character space is not allowed (RFC 3986 §2)`},
		// uri (SUBJ-10)
		{"uri missing", `{"format":"uri"}`, `subject: uri: member "uri" is missing`},
		{"uri relative", `{"format":"uri","uri":"/users/1"}`, `subject: uri: member "uri" is not an absolute URI: no scheme (RFC 3986 §3.1)`},
		{"uri no scheme", `{"format":"uri","uri":"example.com"}`, `subject: uri: member "uri" is not an absolute URI: no scheme (RFC 3986 §3.1)`},
		{"uri bad scheme", `{"format":"uri","uri":"1http://example.com"}`, `subject: uri: member "uri" is not an absolute URI: invalid scheme (RFC 3986 §3.1)`},
		{"uri bad scheme char", `{"format":"uri","uri":"ht_tp://example.com"}`, `subject: uri: member "uri" is not an absolute URI: invalid scheme (RFC 3986 §3.1)`},
		{"uri space", `{"format":"uri","uri":"https://example.com/a b"}`, `subject: uri: member "uri" is not a URI: character space is not allowed (RFC 3986 §2)`},
		{"uri bad percent", `{"format":"uri","uri":"https://example.com/%zz"}`, `subject: uri: member "uri" is not a URI: invalid percent-encoding`},
		{"uri non-ASCII", `{"format":"uri","uri":"https://example.com/é"}`, `subject: uri: member "uri" is not a URI: character 'é' is not allowed (RFC 3986 §2)`},
		{"uri two fragments", `{"format":"uri","uri":"https://example.com/#a#b"}`, `subject: uri: member "uri" is not a URI: second "#"`},
		// jwt_id (SUBJ-19)
		{"jwt_id missing iss", `{"format":"jwt_id","jti":"j"}`, `subject: jwt_id: member "iss" is missing`},
		{"jwt_id missing jti", `{"format":"jwt_id","iss":"i"}`, `subject: jwt_id: member "jti" is missing`},
		{"jwt_id empty jti", `{"format":"jwt_id","iss":"i","jti":""}`, `subject: jwt_id: member "jti" must not be empty`},
		// saml_assertion_id (SUBJ-20)
		{"saml missing issuer", `{"format":"saml_assertion_id","assertion_id":"a"}`, `subject: saml_assertion_id: member "issuer" is missing`},
		{"saml missing assertion_id", `{"format":"saml_assertion_id","issuer":"i"}`, `subject: saml_assertion_id: member "assertion_id" is missing`},
		{"saml bool issuer", `{"format":"saml_assertion_id","issuer":true,"assertion_id":"a"}`, `subject: saml_assertion_id: member "issuer" must be a string, not a boolean`},
		// ip-addresses (SUBJ-21)
		{"ip missing", `{"format":"ip-addresses"}`, `subject: ip-addresses: member "ip-addresses" is missing`},
		{"ip underscore member", `{"format":"ip-addresses","ip_addresses":["10.0.0.1"]}`, `subject: ip-addresses: member "ip-addresses" is missing`},
		{"ip string", `{"format":"ip-addresses","ip-addresses":"10.0.0.1"}`, `subject: ip-addresses: member "ip-addresses" must be an array of strings, not a string`},
		{"ip empty", `{"format":"ip-addresses","ip-addresses":[]}`, `subject: ip-addresses: member "ip-addresses" must not be empty (want at least one address)`},
		{"ip number element", `{"format":"ip-addresses","ip-addresses":["10.0.0.1",10]}`, `subject: ip-addresses: member "ip-addresses[1]" must be a string, not a number`},
		{"ip invalid", `{"format":"ip-addresses","ip-addresses":["10.0.0"]}`, `subject: ip-addresses: member "ip-addresses[0]" is not an IPv4 or IPv6 address: ParseAddr("10.0.0"): IPv4 address too short`},
		{"ip leading zero", `{"format":"ip-addresses","ip-addresses":["10.0.0.01"]}`, `subject: ip-addresses: member "ip-addresses[0]" is not an IPv4 or IPv6 address: ParseAddr("10.0.0.01"): IPv4 field has octet with leading zero`},
		{"ip zone", `{"format":"ip-addresses","ip-addresses":["fe80::1%eth0"]}`, `subject: ip-addresses: member "ip-addresses[0]" is not an IPv4 or IPv6 address: has a zone`},
		{"ip empty string", `{"format":"ip-addresses","ip-addresses":[""]}`, `subject: ip-addresses: member "ip-addresses[0]" must not be empty`},
		{"ip cidr", `{"format":"ip-addresses","ip-addresses":["10.0.0.0/8"]}`, `subject: ip-addresses: member "ip-addresses[0]" is not an IPv4 or IPv6 address: ParseAddr("10.0.0.0/8"): unexpected character (at "/8")`},
		// aliases (SUBJ-11)
		{"aliases missing", `{"format":"aliases"}`, `subject: aliases: member "identifiers" is missing`},
		{"aliases object", `{"format":"aliases","identifiers":{"format":"email","email":"a@b"}}`, `subject: aliases: member "identifiers" must be an array of identifiers, not an object`},
		{"aliases empty", `{"format":"aliases","identifiers":[]}`, `subject: aliases: member "identifiers" must not be empty (RFC 9493 §3.2.8: at least one identifier)`},
		{"aliases string element", `{"format":"aliases","identifiers":["a@b"]}`, `subject: aliases: member "identifiers[0]" must be an object (a subject identifier), not a string`},
		{"aliases nested aliases", `{"format":"aliases","identifiers":[{"format":"email","email":"a@b"},{"format":"aliases","identifiers":[{"format":"email","email":"c@d"}]}]}`, `subject: aliases: member "identifiers[1]": aliases: aliases cannot contain aliases (RFC 9493 §3.2.8)`},
		{"aliases complex element", `{"format":"aliases","identifiers":[{"format":"complex","user":{"format":"email","email":"a@b"}}]}`, `subject: aliases: member "identifiers[0]": complex: a Complex Subject cannot be an element of aliases (RFC 9493 §3.2.8 lists Subject Identifiers)`},
		{"aliases invalid element", `{"format":"aliases","identifiers":[{"format":"email","email":"a@b"},{"format":"email"}]}`, `subject: aliases: member "identifiers[1]": email: member "email" is missing`},
		// complex (SUBJ-17)
		{"complex no members", `{"format":"complex"}`, `subject: complex: has no members (SSF §3.3: at least one)`},
		{"complex string member", `{"format":"complex","user":"a@b"}`, `subject: complex: member "user" must be an object (a simple subject identifier), not a string`},
		{"complex extra non-object", `{"format":"complex","user":{"format":"email","email":"a@b"},"note":"x"}`, `subject: complex: member "note" must be an object (a simple subject identifier), not a string`},
		{"complex nested complex", `{"format":"complex","user":{"format":"complex","user":{"format":"email","email":"a@b"}}}`, `subject: complex: member "user": complex: a Complex Subject cannot be a member of a Complex Subject (SSF §3.3: members are simple identifiers)`},
		{"complex invalid member", `{"format":"complex","user":{"format":"email","email":"a@b"},"device":{"format":"opaque"}}`, `subject: complex: member "device": opaque: member "id" is missing`},
		{"complex member without format", `{"format":"complex","user":{"email":"a@b"}}`, `subject: complex: member "user": member "format" is missing`},
		{"complex empty member name", `{"format":"complex","":{"format":"email","email":"a@b"}}`, `subject: complex: has a member with an empty name`},
		{"complex invalid aliases member", `{"format":"complex","user":{"format":"aliases","identifiers":[{"format":"phone_number","phone_number":"12"}]}}`, `subject: complex: member "user": aliases: member "identifiers[0]": phone_number: member "phone_number" is not an E.164 number: must start with "+"`},
	}
	checkRejects(t, strictParse, cases)
	// ParseLenient is as strict as Parse about everything but the legacy shapes.
	var lenientCases []rejectCase
	for _, c := range cases {
		if c.name != "opaque sub strict" {
			lenientCases = append(lenientCases, c)
		}
	}
	checkRejects(t, lenientParse, lenientCases)
}

// TestParseLenientRejects: what ParseLenient still refuses.
func TestParseLenientRejects(t *testing.T) {
	checkRejects(t, lenientParse, []rejectCase{
		{"no format at all", `{"email":"a@b"}`, `subject: member "format" is missing`},
		{"subject_type number", `{"subject_type":7,"iss":"i","sub":"s"}`, `subject: member "subject_type" must be a string, not a number`},
		{"subject_type empty", `{"subject_type":"","iss":"i","sub":"s"}`, `subject: member "subject_type" must not be empty`},
		{"legacy name missing members", `{"subject_type":"iss-sub","iss":"i"}`, `subject: iss_sub: member "sub" is missing`},
		// Only SSF §3.3.1 member names make a format-less object a Complex Subject.
		{"object members without a defined name", `{"foo":{"format":"email","email":"a@b"}}`, `subject: member "format" is missing`},
		{"legacy complex with a non-object member", `{"user":{"format":"email","email":"a@b"},"note":"x"}`, `subject: member "format" is missing`},
		// A format-less Complex Subject is recognized at the top level only.
		{"legacy complex nested", `{"format":"complex","user":{"device":{"format":"opaque","id":"1"}}}`, `subject: complex: member "user": member "format" is missing`},
		{"legacy complex invalid member", `{"user":{"format":"email","email":"nope"}}`, `subject: complex: member "user": email: member "email" is not an addr-spec: no "@"`},
		{"opaque sub not a string", `{"format":"opaque","sub":1}`, `subject: opaque: member "id" is missing`},
		{"opaque sub empty", `{"format":"opaque","sub":""}`, `subject: opaque: member "sub" must not be empty`},
	})
}

// TestParseLenientShapes: each tolerance alone, in combination and nested, with the
// normalized encoding.
func TestParseLenientShapes(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string
		l    Leniency
	}{
		{"strict input", `{"format":"email","email":"a@b"}`, `{"format":"email","email":"a@b"}`, 0},
		{"subject_type", `{"subject_type":"email","email":"a@b"}`, `{"format":"email","email":"a@b"}`, LenientSubjectType},
		{"iss-sub", `{"format":"iss-sub","iss":"i","sub":"s"}`, `{"format":"iss_sub","iss":"i","sub":"s"}`, LenientLegacyFormatName},
		{"phone", `{"format":"phone","phone_number":"+12065550123"}`, `{"format":"phone_number","phone_number":"+12065550123"}`, LenientLegacyFormatName},
		{"phone-number", `{"format":"phone-number","phone_number":"+12065550123"}`, `{"format":"phone_number","phone_number":"+12065550123"}`, LenientLegacyFormatName},
		{"jwt-id", `{"format":"jwt-id","iss":"i","jti":"j"}`, `{"format":"jwt_id","iss":"i","jti":"j"}`, LenientLegacyFormatName},
		{"saml-assertion-id", `{"format":"saml-assertion-id","issuer":"i","assertion_id":"a"}`, `{"format":"saml_assertion_id","issuer":"i","assertion_id":"a"}`, LenientLegacyFormatName},
		{"subject_type with legacy name", `{"subject_type":"phone","phone_number":"+1"}`, `{"format":"phone_number","phone_number":"+1"}`, LenientSubjectType | LenientLegacyFormatName},
		{"opaque sub", `{"format":"opaque","sub":"x"}`, `{"format":"opaque","id":"x"}`, LenientOpaqueSub},
		// With "id" present, "sub" is an ordinary extra member and nothing is tolerated.
		{"opaque id and sub", `{"format":"opaque","id":"x","sub":"y"}`, `{"format":"opaque","id":"x","sub":"y"}`, 0},
		// A "subject_type" next to "format" is an extra member, exactly as in Parse.
		{"subject_type next to format", `{"format":"email","subject_type":"email","email":"a@b"}`, `{"format":"email","email":"a@b","subject_type":"email"}`, 0},
		{"complex without format", `{"tenant":{"format":"opaque","id":"t"},"custom":{"format":"opaque","id":"c"}}`, `{"format":"complex","tenant":{"format":"opaque","id":"t"},"custom":{"format":"opaque","id":"c"}}`, LenientComplexWithoutFormat},
		{"legacy inside complex", `{"format":"complex","user":{"subject_type":"iss-sub","iss":"i","sub":"s"}}`, `{"format":"complex","user":{"format":"iss_sub","iss":"i","sub":"s"}}`, LenientSubjectType | LenientLegacyFormatName},
		{"legacy inside aliases", `{"format":"aliases","identifiers":[{"format":"phone","phone_number":"+1"},{"format":"opaque","sub":"x"}]}`, `{"format":"aliases","identifiers":[{"format":"phone_number","phone_number":"+1"},{"format":"opaque","id":"x"}]}`, LenientLegacyFormatName | LenientOpaqueSub},
		{"unknown format by subject_type", `{"subject_type":"oauth_token","token":"t"}`, `{"format":"oauth_token","token":"t"}`, LenientSubjectType},
		{"all four", `{"user":{"subject_type":"iss-sub","iss":"i","sub":"s"},"device":{"format":"opaque","sub":"d"}}`, `{"format":"complex","user":{"format":"iss_sub","iss":"i","sub":"s"},"device":{"format":"opaque","id":"d"}}`, LenientSubjectType | LenientLegacyFormatName | LenientComplexWithoutFormat | LenientOpaqueSub},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, l, err := ParseLenient([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if l != tc.l {
				t.Errorf("leniency = %v, want %v", l, tc.l)
			}
			out, err := json.Marshal(id)
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Errorf("encoding\n got: %s\nwant: %s", out, tc.want)
			}
			_, strictErr := Parse([]byte(tc.in))
			if (l == 0) != (strictErr == nil) {
				t.Errorf("leniency %v but Parse error %v", l, strictErr)
			}
		})
	}
}

func TestLeniencyString(t *testing.T) {
	for l, want := range map[Leniency]string{
		0:                                     "none",
		LenientSubjectType:                    "subject_type",
		LenientLegacyFormatName:               "legacy-format-name",
		LenientComplexWithoutFormat:           "complex-without-format",
		LenientOpaqueSub:                      "opaque-sub",
		LenientSubjectType | LenientOpaqueSub: "subject_type|opaque-sub",
		LenientLegacyFormatName | 1<<6:        "legacy-format-name|0x40",
	} {
		if got := l.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", uint8(l), got, want)
		}
	}
	l := LenientSubjectType | LenientLegacyFormatName
	if !l.Has(LenientSubjectType) || !l.Has(LenientSubjectType|LenientLegacyFormatName) || l.Has(LenientOpaqueSub) || l.Has(LenientOpaqueSub|LenientSubjectType) {
		t.Errorf("Has is wrong for %v", l)
	}
}

// TestParseAccepts: values at the edges of the sane checks that must be accepted.
func TestParseAccepts(t *testing.T) {
	for _, in := range []string{
		`{"format":"account","uri":"ACCT:user@example.com"}`,
		`{"format":"account","uri":"acct:juliet%40capulet.example@shoppingsite.example"}`,
		`{"format":"email","email":"user+tag@example.com"}`,
		`{"format":"email","email":"\"john doe\"@example.com"}`,
		`{"format":"email","email":"\"a@b\"@example.com"}`,
		`{"format":"email","email":"user@[192.0.2.1]"}`,
		`{"format":"email","email":"üser@exämple.com"}`,
		`{"format":"email","email":"user@localhost"}`,
		`{"format":"phone_number","phone_number":"+1 206 555 0123"}`,
		`{"format":"phone_number","phone_number":"+123456789012345"}`,
		`{"format":"did","url":"did:web:example.com%3A8443:user:alice#key-1"}`,
		`{"format":"uri","uri":"mailto:user@example.com"}`,
		`{"format":"uri","uri":"https://[2001:db8::1]:8443/a?b=c#d"}`,
		`{"format":"uri","uri":"https:"}`,
		`{"format":"opaque","id":" spaces and ünïcödé are fine "}`,
		`{"format":"iss_sub","iss":"not a URL","sub":"\u0000"}`,
		`{"format":"ip-addresses","ip-addresses":["::","::ffff:10.0.0.1","255.255.255.255","10.0.0.1","10.0.0.1"]}`,
		`{"format":"aliases","identifiers":[{"format":"email","email":"a@b"},{"format":"email","email":"a@b"}]}`,
		`{"format":"complex","user":{"format":"aliases","identifiers":[{"format":"email","email":"a@b"}]}}`,
		`{"format":"complex","team":{"format":"opaque","id":"t"}}`,
		`{"format":"complex","user":{"format":"catalog_item","catalog_id":"c"}}`,
		`{"format":"aliases","identifiers":[{"format":"catalog_item","catalog_id":"c"}]}`,
		`{"format":"urn:example:format","x":{"y":[1,2.5e3,-0,true,false,null,"s"]}}`,
		" \t\n{ \"format\" : \"email\" , \"email\" : \"a@b\" } \n",
		`{"format":"email","email":"a@b","deep":` + strings.Repeat("[", 62) + strings.Repeat("]", 62) + `}`,
	} {
		t.Run(in, func(t *testing.T) { checkStrictRoundTrip(t, []byte(in)) })
	}
}

// TestExtraMembersRoundTrip: members a format does not define are kept and re-encoded
// unchanged (AMB-6), after the defined members, without insignificant whitespace.
func TestExtraMembersRoundTrip(t *testing.T) {
	in := `{"x-first":1, "format":"email","email":"a@example.com","x-extra":{"b":[true, null],"a":"\u00e9"}}`
	id, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"format":"email","email":"a@example.com","x-first":1,"x-extra":{"b":[true,null],"a":"\u00e9"}}`
	if string(out) != want {
		t.Errorf("encoding\n got: %s\nwant: %s", out, want)
	}
	e := id.(*Email)
	got := e.Extra()
	wantExtra := []RawMember{{Name: "x-first", Value: json.RawMessage(`1`)}, {Name: "x-extra", Value: json.RawMessage(`{"b":[true,null],"a":"\u00e9"}`)}}
	if diff := cmp.Diff(wantExtra, got); diff != "" {
		t.Errorf("Extra (-want +got):\n%s", diff)
	}
	got[0].Value[0] = '2' // Extra returns a copy
	if e.Extra()[0].Value[0] != '1' {
		t.Errorf("Extra does not return a copy")
	}
	// Built identifiers have no extras and encode strictly.
	if (&Email{Email: "a@example.com"}).Extra() != nil {
		t.Errorf("built identifier has extras")
	}
	// Equal, Match and Canonical ignore extras.
	plain := &Email{Email: "a@example.com"}
	if !Equal(id, plain) || !Match(id, plain) {
		t.Errorf("extras made identifiers differ")
	}
	c1, _ := Canonical(id)
	c2, _ := Canonical(plain)
	if string(c1) != string(c2) {
		t.Errorf("Canonical differs: %s vs %s", c1, c2)
	}
}

// TestParseDoesNotAliasInput: decoded values do not share memory with the input.
func TestParseDoesNotAliasInput(t *testing.T) {
	in := []byte(`{"format":"email","email":"a@example.com","x":{"k":"v"}}`)
	id, err := Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = ' '
	}
	out, err := json.Marshal(id)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"format":"email","email":"a@example.com","x":{"k":"v"}}` {
		t.Errorf("decoded identifier changed with its input: %s", out)
	}
}

// TestParseEscapes: escaped strings decode, and escaped names are recognized.
func TestParseEscapes(t *testing.T) {
	id, err := Parse([]byte(`{"\u0066ormat":"\u0065mail","em\u0061il":"a\u0040b\/c.example\ud83d\ude00"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := id.(*Email).Email, "a@b/c.example😀"; got != want {
		t.Errorf("Email = %q, want %q", got, want)
	}
}
