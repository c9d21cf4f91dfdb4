package subject

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// vector is the part of a test-vector file (testdata/vectors/README.md) the tests read.
type vector struct {
	Name     string          `json:"name"`
	Kind     string          `json:"kind"`
	Valid    bool            `json:"valid"`
	JSON     json.RawMessage `json:"json"`
	Matching *struct {
		Pair        string `json:"pair"`
		Role        string `json:"role"`
		Counterpart string `json:"counterpart"`
		Expected    string `json:"expected"`
	} `json:"matching"`
}

func readVector(t testing.TB, file string) vector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "vectors", file))
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return v
}

// at follows a path of member names from raw.
func at(t testing.TB, raw json.RawMessage, path []string) json.RawMessage {
	t.Helper()
	for _, p := range path {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			t.Fatalf("at %q: %v", p, err)
		}
		next, ok := obj[p]
		if !ok {
			t.Fatalf("no member %q", p)
		}
		raw = next
	}
	return raw
}

// jsonValue unmarshals JSON into a generic value for comparison with go-cmp.
func jsonValue(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	return v
}

// vectorSubject is one subject inside a vector file.
type vectorSubject struct {
	file string   // under testdata/vectors
	path []string // member names from the vector's "json" to the subject; empty = json itself
	// strictErr is "" when Parse must accept the subject, else the exact error message.
	strictErr string
	// lenient is the Leniency ParseLenient must report.
	lenient Leniency
	// normalized is the JSON ParseLenient's result must encode to; "" means the input.
	normalized string
	// typ is the Go type the subject decodes to.
	typ any
}

const (
	evRISCDisabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	evCAEPRevoked  = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	evCredChange   = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	evIDChanged    = "https://schemas.openid.net/secevent/risc/event-type/identifier-changed"
	evOktaRisk     = "https://schemas.okta.com/secevent/okta/event-type/user-risk-change"
	evTokenRevoked = "https://schemas.openid.net/secevent/oauth/event-type/token-revoked"
	evLoginGov     = "https://schemas.login.gov/secevent/risc/event-type/authorization-fraud-detected"
	evInterception = "https://secevent.example.com/events/message-interception"

	errSubjectType   = `subject: member "format" is missing (found the legacy member "subject_type"; ParseLenient accepts it)`
	errLegacyComplex = `subject: member "format" is missing (looks like a Complex Subject without "format":"complex"; ParseLenient accepts it)`
)

// subjectVectors lists every subject the vectors hold outside subject/ (those are all
// covered by TestVectorsSubjectFolder).
var subjectVectors = []vectorSubject{
	// SSF §5 example SETs: sub_id.
	{file: "set/ssf-5-ex1-risc-account-enabled-email.json", path: []string{"sub_id"}, typ: &Email{}},
	// "+1 206 555 0123" is marked valid: spaces accepted.
	{file: "set/ssf-5-ex2-risc-account-disabled-phone.json", path: []string{"sub_id"}, typ: &PhoneNumber{}},
	{file: "set/ssf-5-ex3-caep-token-claims-change.json", path: []string{"sub_id"}, typ: &Email{}},
	{file: "set/ssf-5-ex4-caep-session-revoked-complex.json", path: []string{"sub_id"}, typ: &Complex{}},
	{file: "set/ssf-5-ex5-caep-token-claims-change-role.json", path: []string{"sub_id"}, typ: &Email{}},
	// Proprietary format (SSF §3.4 (c)): *Raw. (The SET is invalid for its iat only.)
	{file: "set/ssf-5-ex6-proprietary-subject-format.json", path: []string{"sub_id"}, typ: &Raw{}},
	// RFC 9493 §1 example 3: identifiers as event payload members.
	{file: "set/rfc9493-1-ex3-set-multiple-subjects.json", path: []string{"events", evInterception, "from"}, typ: &Email{}},
	{file: "set/rfc9493-1-ex3-set-multiple-subjects.json", path: []string{"events", evInterception, "to"}, typ: &Email{}},
	{file: "set/rfc9493-1-ex3-set-multiple-subjects.json", path: []string{"events", evInterception, "interceptor"}, typ: &Email{}},
	// RFC 8417 Figure 4: legacy RISC subject_type iss-sub (SUBJ-25, DIFF-9).
	{
		file: "set/rfc8417-2.1.4-fig4-risc-legacy.json", path: []string{"events", evRISCDisabled, "subject"},
		strictErr: errSubjectType, lenient: LenientSubjectType | LenientLegacyFormatName,
		normalized: `{"format":"iss_sub","iss":"https://idp.example.com/","sub":"7375626A656374"}`, typ: &IssSub{},
	},
	// SSF §8.1.3.2 / §8.1.3.3 requests.
	{file: "ssf/ssf-8.1.3.2-ex1-add-subject-request.json", path: []string{"subject"}, typ: &Email{}},
	{
		// AMB-9: "phone" is not registered; strict rejects, lenient maps to phone_number.
		file: "ssf/ssf-8.1.3.3-ex1-remove-subject-request.json", path: []string{"subject"},
		strictErr: `subject: phone: member "format" is a legacy name of "phone_number" (DIFF-9); ParseLenient accepts it`,
		lenient:   LenientLegacyFormatName, normalized: `{"format":"phone_number","phone_number":"+12065550123"}`, typ: &PhoneNumber{},
	},
	// Vendor payloads.
	{
		file: "vendor/authentik-session-revoked.json", path: []string{"events", evCAEPRevoked, "subject"},
		strictErr: errLegacyComplex, lenient: LenientComplexWithoutFormat,
		normalized: `{"format":"complex","user":{"format":"email","email":"user@example.com"},"session":{"format":"opaque","id":"<sha256 hex of session key>"}}`,
		typ:        &Complex{},
	},
	{file: "vendor/authentik-verification-set.json", path: []string{"sub_id"}, typ: &Opaque{}},
	{
		file: "vendor/google-risc-account-disabled.json", path: []string{"events", evRISCDisabled, "subject"},
		strictErr: errSubjectType, lenient: LenientSubjectType | LenientLegacyFormatName,
		normalized: `{"format":"iss_sub","iss":"https://accounts.google.com/","sub":"7375626A656374"}`, typ: &IssSub{},
	},
	{
		file: "vendor/login-gov-authorization-fraud-detected.json", path: []string{"events", evLoginGov, "subject"},
		strictErr: errSubjectType, lenient: LenientSubjectType,
		normalized: `{"format":"iss_sub","iss":"https://idp.int.identitysandbox.gov","sub":"123d4f56-jkl7-891011-t12vw-y13a1415d1617ghi18"}`,
		typ:        &IssSub{},
	},
	{
		// An unknown format carried by subject_type: *Raw with format oauth_token.
		file: "vendor/oauth-event-types-token-revoked.json", path: []string{"events", evTokenRevoked, "subject"},
		strictErr: errSubjectType, lenient: LenientSubjectType,
		normalized: `{"format":"oauth_token","token_type":"refresh_token","token_identifier_alg":"plain","token":"7265667265736820746F6B656E20737472696E67"}`,
		typ:        &Raw{},
	},
	{
		file: "vendor/oauth-event-types-token-revoked.json", path: []string{"events", evTokenRevoked, "token_subject"},
		strictErr: errSubjectType, lenient: LenientSubjectType | LenientLegacyFormatName,
		normalized: `{"format":"iss_sub","iss":"https://idp.example.com/","sub":"75736572206964"}`, typ: &IssSub{},
	},
	{
		file: "vendor/okta-receiver-identifier-changed.json", path: []string{"events", evIDChanged, "subject"},
		strictErr: errLegacyComplex, lenient: LenientComplexWithoutFormat,
		normalized: `{"format":"complex","user":{"format":"email","email":"john@doe.net"}}`, typ: &Complex{},
	},
	{
		file: "vendor/okta-receiver-user-risk-change.json", path: []string{"events", evOktaRisk, "subject"},
		strictErr: errLegacyComplex, lenient: LenientComplexWithoutFormat,
		normalized: `{"format":"complex","user":{"format":"email","email":"user@issuer.com"}}`, typ: &Complex{},
	},
	{
		// Okta System Log: no "format":"complex", and opaque with "sub" instead of "id".
		file: "vendor/okta-system-log-session-revoked.json", path: []string{evCAEPRevoked, "subject"},
		strictErr: errLegacyComplex, lenient: LenientComplexWithoutFormat | LenientOpaqueSub,
		normalized: `{"format":"complex","user":{"format":"email","email":"joe.alex@example.com"},"device":{"format":"opaque","id":"1234ABCD-123A-123B-123C-12345ABCDEFG"}}`,
		typ:        &Complex{},
	},
	{file: "vendor/okta-transmitter-credential-change-reset-all.json", path: []string{"events", evCredChange, "subject"}, typ: &IssSub{}},
	{file: "vendor/okta-transmitter-credential-change.json", path: []string{"events", evCredChange, "subject"}, typ: &IssSub{}},
	{file: "vendor/okta-transmitter-session-revoked.json", path: []string{"events", evCAEPRevoked, "subject"}, typ: &IssSub{}},
	{file: "vendor/omnissa-device-compliance-change.json", path: []string{"sub_id"}, typ: &Complex{}},
}

// subjectOf extracts the subject of a vector in the subject/ folder: the json itself for
// kind "subject", else the sub_id claim.
func subjectOf(t testing.TB, v vector) json.RawMessage {
	switch v.Kind {
	case "subject":
		return v.JSON
	case "jwt-claims":
		return at(t, v.JSON, []string{"sub_id"})
	}
	t.Fatalf("unexpected kind %q", v.Kind)
	return nil
}

// TestVectorsSubjectFolder: every vector under subject/ (SUBJ-4..SUBJ-21, RFC 9493 §3–§4,
// SSF §3) is valid, parses strictly, needs no leniency, and re-encodes to equal JSON.
func TestVectorsSubjectFolder(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "vectors", "subject", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 30 {
		t.Fatalf("found %d subject vectors, want 30", len(files))
	}
	for _, f := range files {
		name := filepath.Join("subject", filepath.Base(f))
		t.Run(filepath.Base(f), func(t *testing.T) {
			v := readVector(t, name)
			if !v.Valid {
				t.Fatalf("vector marked invalid; this test expects only valid subject vectors")
			}
			raw := subjectOf(t, v)
			checkStrictRoundTrip(t, raw)
			id, l, err := ParseLenient(raw)
			if err != nil || l != 0 {
				t.Fatalf("ParseLenient = %v, %v; want no error and no leniency", l, err)
			}
			strict, _ := Parse(raw)
			if !Equal(id, strict) {
				t.Errorf("ParseLenient and Parse results differ")
			}
		})
	}
}

// checkStrictRoundTrip parses raw strictly, encodes it and compares the JSON.
func checkStrictRoundTrip(t *testing.T, raw []byte) Identifier {
	t.Helper()
	id, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse(%s): %v", raw, err)
	}
	if err := id.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	out, err := json.Marshal(id)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	if in, got := jsonValue(t, raw), jsonValue(t, out); !reflect.DeepEqual(in, got) {
		t.Errorf("re-encoding differs (-input +output):\n%s", cmp.Diff(in, got))
	}
	if !strings.HasPrefix(string(out), `{"format":`) {
		t.Errorf("encoding does not start with the format member: %s", out)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("Parse(Marshal): %v", err)
	}
	if !Equal(id, again) {
		t.Errorf("Parse(Marshal(x)) is not Equal to x")
	}
	return id
}

// TestVectorsEmbeddedSubjects covers the subjects in SETs, SSF requests and vendor
// payloads: strict acceptance or the documented rejection, the leniency ParseLenient
// needs (vendors.md §5.1 item 1, SUBJ-25, DIFF-6, DIFF-9, AMB-9) and the normalized
// encoding.
func TestVectorsEmbeddedSubjects(t *testing.T) {
	for _, tc := range subjectVectors {
		t.Run(tc.file+"/"+strings.Join(tc.path, "/"), func(t *testing.T) {
			v := readVector(t, tc.file)
			raw := at(t, v.JSON, tc.path)

			if tc.strictErr == "" {
				id := checkStrictRoundTrip(t, raw)
				if reflect.TypeOf(id) != reflect.TypeOf(tc.typ) {
					t.Errorf("Parse gave %T, want %T", id, tc.typ)
				}
			} else {
				_, err := Parse(raw)
				if err == nil {
					t.Fatalf("Parse accepted a legacy subject")
				}
				if got := err.Error(); got != tc.strictErr {
					t.Errorf("Parse error\n got: %s\nwant: %s", got, tc.strictErr)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error does not wrap ErrInvalid")
				}
			}

			id, l, err := ParseLenient(raw)
			if err != nil {
				t.Fatalf("ParseLenient: %v", err)
			}
			if l != tc.lenient {
				t.Errorf("leniency = %v, want %v", l, tc.lenient)
			}
			if reflect.TypeOf(id) != reflect.TypeOf(tc.typ) {
				t.Errorf("ParseLenient gave %T, want %T", id, tc.typ)
			}
			out, err := json.Marshal(id)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			want := []byte(tc.normalized)
			if tc.normalized == "" {
				want = raw
			}
			if diff := cmp.Diff(jsonValue(t, want), jsonValue(t, out)); diff != "" {
				t.Errorf("normalized encoding differs (-want +got):\n%s", diff)
			}
			// The normalized form is SSF 1.0 Final: strictly valid, no leniency needed.
			if _, l, err := ParseLenient(out); err != nil || l != 0 {
				t.Errorf("normalized output %s: leniency %v, error %v", out, l, err)
			}
		})
	}
}

// TestVectorsMatching: the SSF §8.1.3.1 pairs M1–M3 (SSF-SUBJECT-2), in both orders.
func TestVectorsMatching(t *testing.T) {
	pairs := 0
	files, _ := filepath.Glob(filepath.Join("testdata", "vectors", "subject", "ssf-8.1.3.1-*-receiver-added.json"))
	for _, f := range files {
		added := readVector(t, filepath.Join("subject", filepath.Base(f)))
		if added.Matching == nil || added.Matching.Role != "receiver-added" {
			t.Fatalf("%s: no matching metadata", f)
		}
		event := readVector(t, added.Matching.Counterpart)
		a, err := Parse(added.JSON)
		if err != nil {
			t.Fatal(err)
		}
		e, err := Parse(event.JSON)
		if err != nil {
			t.Fatal(err)
		}
		want := added.Matching.Expected == "match"
		if got := Match(a, e); got != want {
			t.Errorf("%s: Match(added, event) = %v, want %v", added.Matching.Pair, got, want)
		}
		if got := Match(e, a); got != want {
			t.Errorf("%s: Match(event, added) = %v, want %v", added.Matching.Pair, got, want)
		}
		pairs++
	}
	if pairs != 3 {
		t.Fatalf("found %d matching pairs, want 3", pairs)
	}
}
