package ssf

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// vectorTests maps every file under testdata/vectors to its test. TestVectorsCovered
// fails when a file has no entry.
var vectorTests = map[string]func(t *testing.T, v *wireVector){
	// SSF §7 discovery and metadata.
	"ssf/caep-iop-2.3.7-authorization-scheme.json": testAuthorizationSchemeVector,
	"ssf/ssf-7.1.1-authorization-scheme.json":      testAuthorizationSchemeVector,
	"ssf/ssf-7.1-spec-version.json":                testSpecVersionVector,
	"ssf/ssf-7.2.1-ex1-discovery-request.json": func(t *testing.T, v *wireVector) {
		testWellKnownVector(t, v, "https://tr.example.com")
	},
	"ssf/ssf-7.2.1-ex2-discovery-request-with-path.json": func(t *testing.T, v *wireVector) {
		testWellKnownVector(t, v, "https://tr.example.com/issuer1")
		testWellKnownVector(t, v, "https://tr.example.com/issuer1/") // trailing "/" removed first
	},
	"ssf/ssf-7.2.2-risc-discovery-request.json": testRISCDiscoveryVector,
	"ssf/ssf-7.2.3-metadata-response.json":      testSpecMetadataVector,
	// SSF §4.1.8: the aud claim of a SET, array form.
	"ssf/ssf-4.1.8-verification-set-array-aud.json": testArrayAudVector,
	// SSF §8.1.1 stream configuration.
	"ssf/ssf-8.1.1.1-ex1-create-stream-request.json":           testCreateRequestVector,
	"ssf/ssf-8.1.1.1-ex2-create-stream-response.json":          testStreamConfigVector,
	"ssf/ssf-8.1.1.2-ex1-read-stream-request.json":             testStreamIDQueryVector("GET"),
	"ssf/ssf-8.1.1.2-ex2-read-stream-response.json":            testStreamConfigVector,
	"ssf/ssf-8.1.1.2-ex3-read-all-streams-request.json":        testNoStreamIDQueryVector,
	"ssf/ssf-8.1.1.2-ex4-read-all-streams-response-two.json":   testStreamListVector,
	"ssf/ssf-8.1.1.2-ex5-read-all-streams-response-one.json":   testStreamListVector,
	"ssf/ssf-8.1.1.2-ex6-read-all-streams-response-empty.json": testStreamListVector,
	"ssf/ssf-8.1.1.3-ex1-update-stream-request.json":           testUpdateRequestVector,
	"ssf/ssf-8.1.1.3-ex2-update-stream-response.json":          testStreamConfigVector,
	"ssf/ssf-8.1.1.4-ex1-replace-stream-request.json":          testReplaceRequestVector,
	"ssf/ssf-8.1.1.4-ex2-replace-stream-response.json":         testStreamConfigVector,
	"ssf/ssf-8.1.1.5-ex1-delete-stream-request.json":           testStreamIDQueryVector("DELETE"),
	"ssf/ssf-8.1.1.5-ex2-delete-stream-response.json":          testEmptySuccessVector,
	// SSF §8.1.2 status.
	"ssf/ssf-8.1.2.1-ex1-read-status-request.json":          testStreamIDQueryVector("GET"),
	"ssf/ssf-8.1.2.1-ex2-read-status-response.json":         testStatusVector,
	"ssf/ssf-8.1.2.2-ex1-update-status-request.json":        testStatusVector,
	"ssf/ssf-8.1.2.2-ex2-update-status-request-reason.json": testStatusVector,
	"ssf/ssf-8.1.2.2-ex3-update-status-response.json":       testStatusVector,
	// SSF §8.1.3 subjects.
	"ssf/ssf-8.1.3.2-ex1-add-subject-request.json":     testAddSubjectVector,
	"ssf/ssf-8.1.3.2-ex2-add-subject-response.json":    testEmptySuccessVector,
	"ssf/ssf-8.1.3.3-ex1-remove-subject-request.json":  testRemoveSubjectVector,
	"ssf/ssf-8.1.3.3-ex2-remove-subject-response.json": testEmptySuccessVector,
	// SSF §8.1.4.2 verification.
	"ssf/ssf-8.1.4.2-ex1-verify-request.json":  testVerifyVector,
	"ssf/ssf-8.1.4.2-ex2-verify-response.json": testEmptySuccessVector,
	// RFC 8936 poll.
	"poll/rfc8936-2.4.1-fig1-initial-poll.json":   testPollRequestVector,
	"poll/rfc8936-2.4.1-fig2-default-poll.json":   testPollRequestVector,
	"poll/rfc8936-2.4.2-fig3-ack-only.json":       testPollRequestVector,
	"poll/rfc8936-2.4.3-fig4-ack-and-poll.json":   testPollRequestVector,
	"poll/rfc8936-2.4.4-fig5-ack-with-error.json": testPollRequestVector,
	"poll/rfc8936-2.5-fig6-poll-response.json":    testPollResponseVector,
	"poll/rfc8936-2.5-fig7-no-sets-response.json": testPollResponseVector,
	"poll/rfc8936-2.5.1-fig8-error-response.json": testPollErrorVector,
	// RFC 8935 push.
	"push/rfc8935-2.1-fig1-transmission-request.json":        testPushRequestVector,
	"push/rfc8935-2.2-fig2-accepted-response.json":           testPushAcceptedVector,
	"push/rfc8935-2.3-fig3-error-invalid-key.json":           testSETErrorVector,
	"push/rfc8935-2.3-fig4-error-authentication-failed.json": testSETErrorVector,
	"push/rfc8935-2.3-fig5-error-invalid-issuer.json":        testSETErrorVector,
	// Vendor metadata (vendors §4.11, §5.1 item 7).
	"vendor/okta-transmitter-metadata.json":      testOktaTransmitterMetadata,
	"vendor/okta-receiver-minimal-metadata.json": testOktaMinimalMetadata,
	"vendor/google-risc-metadata.json":           testGoogleMetadata,
	"vendor/kolide-metadata.json":                testKolideMetadata,
	"vendor/authentik-metadata.json":             testAuthentikMetadata,
}

func TestVectorsCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "vectors", "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no vectors in testdata/vectors")
	}
	seen := map[string]bool{}
	for _, f := range files {
		rel, _ := filepath.Rel(filepath.Join("testdata", "vectors"), f)
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		if vectorTests[rel] == nil {
			t.Errorf("vector %s has no test", rel)
		}
	}
	for name := range vectorTests {
		if !seen[name] {
			t.Errorf("test for %s, which is not in testdata/vectors", name)
		}
	}
}

func TestVectors(t *testing.T) {
	names := make([]string, 0, len(vectorTests))
	for n := range vectorTests {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if _, err := os.Stat(filepath.Join("testdata", "vectors", name)); err != nil {
				t.Skip("vector file missing (reported by TestVectorsCovered)")
			}
			vectorTests[name](t, loadVector(t, name))
		})
	}
}

// roundTrip decodes v.JSON into a new T, encodes it and requires the same JSON; it
// returns the decoded value.
func roundTrip[T any](t *testing.T, data []byte) *T {
	t.Helper()
	var x T
	if err := json.Unmarshal(data, &x); err != nil {
		t.Fatalf("decode %T: %v", x, err)
	}
	sameJSON(t, data, mustMarshal(t, &x))
	return &x
}

func testAuthorizationSchemeVector(t *testing.T, v *wireVector) {
	s := roundTrip[AuthorizationScheme](t, v.JSON)
	m := Metadata{Issuer: "https://tr.example.com", AuthorizationSchemes: []AuthorizationScheme{*s}}
	if err := m.Validate(); err != nil {
		t.Errorf("metadata with this scheme: %v", err)
	}
	if !m.SupportsAuthorizationScheme(SpecURNOAuth2) {
		t.Errorf("SupportsAuthorizationScheme(%q) = false", SpecURNOAuth2)
	}
}

func testSpecVersionVector(t *testing.T, v *wireVector) {
	m := roundTrip[Metadata](t, v.JSON)
	if m.SpecVersion != SpecVersion1_0 || m.EffectiveSpecVersion() != SpecVersion1_0 {
		t.Errorf("spec_version = %q", m.SpecVersion)
	}
	// A fragment: only the missing issuer is wrong.
	err := m.Validate()
	wantMemberError(t, err, "issuer", "required")
	onlyMembers(t, err, "issuer")
}

func testWellKnownVector(t *testing.T, v *wireVector, issuer string) {
	if v.HTTP.Method != http.MethodGet || v.HTTP.Body != "none" {
		t.Errorf("discovery must be a GET without body (SSF-DISC-15), vector has %s body %s", v.HTTP.Method, v.HTTP.Body)
	}
	got, err := WellKnownURL(issuer)
	if err != nil {
		t.Fatal(err)
	}
	want := "https://" + v.header("Host") + v.HTTP.Target
	if got != want {
		t.Errorf("WellKnownURL(%q) = %q, want %q", issuer, got, want)
	}
	cands, err := DiscoveryCandidateURLs(issuer)
	if err != nil {
		t.Fatal(err)
	}
	if cands[0] != want {
		t.Errorf("first discovery candidate = %q, want %q", cands[0], want)
	}
}

func testRISCDiscoveryVector(t *testing.T, v *wireVector) {
	issuer := "https://" + v.header("Host")
	want := issuer + v.HTTP.Target
	cands, err := DiscoveryCandidateURLs(issuer)
	if err != nil {
		t.Fatal(err)
	}
	if cands[len(cands)-1] != want {
		t.Errorf("last candidate = %q, want the RISC location %q; all: %q", cands[len(cands)-1], want, cands)
	}
	if got, _ := WellKnownURL(issuer); got == want {
		t.Errorf("WellKnownURL must not return the legacy RISC location")
	}
}

func testSpecMetadataVector(t *testing.T, v *wireVector) {
	m := roundTrip[Metadata](t, v.JSON)
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if err := m.ValidateInteropProfile(InteropOptions{}); err != nil {
		t.Errorf("ValidateInteropProfile: %v", err)
	}
	if err := m.CheckIssuer("https://tr.example.com"); err != nil {
		t.Error(err)
	}
	if err := m.CheckLocation("https://tr.example.com/.well-known/ssf-configuration"); err != nil {
		t.Error(err)
	}
	if !m.SupportsDelivery(DeliveryPush) || !m.SupportsDelivery(DeliveryPoll) || !m.SupportsDelivery(LegacyDeliveryPush) {
		t.Error("SupportsDelivery: want push (also by its legacy URI) and poll")
	}
	if m.DefaultSubjects != DefaultSubjectsNone {
		t.Errorf("default_subjects = %q", m.DefaultSubjects)
	}
	lenient, notes, err := ParseMetadataLenient(v.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 0 {
		t.Errorf("lenient parse of a conforming document tolerated something: %q", notes)
	}
	if d := cmp.Diff(m, lenient, rawJSONComparer); d != "" {
		t.Errorf("lenient differs from strict:\n%s", d)
	}
}

func testArrayAudVector(t *testing.T, v *wireVector) {
	var claims struct {
		Aud Audience `json:"aud"`
	}
	if err := json.Unmarshal(v.JSON, &claims); err != nil {
		t.Fatal(err)
	}
	want := Audience{"receiver.example.com/web", "receiver.example.com/mobile"}
	if d := cmp.Diff(want, claims.Aud); d != "" {
		t.Errorf("aud (-want +got):\n%s", d)
	}
	for _, a := range want {
		if !claims.Aud.Contains(a) {
			t.Errorf("Contains(%q) = false", a)
		}
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(v.JSON, &raw)
	sameJSON(t, raw["aud"], mustMarshal(t, claims.Aud))
}

func testCreateRequestVector(t *testing.T, v *wireVector) {
	c := roundTrip[StreamConfig](t, v.JSON)
	if err := c.ValidateRequest(); err != nil {
		t.Errorf("ValidateRequest: %v", err)
	}
	if p := c.TransmitterSuppliedPresent(); len(p) != 0 {
		t.Errorf("create request carries Transmitter-supplied members %q (RS5)", p)
	}
	rs := c.ReceiverSupplied()
	sameJSON(t, v.JSON, mustMarshal(t, rs))
	if c.EffectiveDeliveryMethod() != DeliveryPush {
		t.Errorf("EffectiveDeliveryMethod = %q", c.EffectiveDeliveryMethod())
	}
	// The matching response (§8.1.1.1 example 2) keeps every Receiver-supplied member.
	resp := loadStreamConfig(t, "ssf/ssf-8.1.1.1-ex2-create-stream-response.json")
	sameJSON(t, v.JSON, mustMarshal(t, resp.ReceiverSupplied()))
}

func loadStreamConfig(t *testing.T, name string) *StreamConfig {
	t.Helper()
	var c StreamConfig
	if err := json.Unmarshal(loadVector(t, name).JSON, &c); err != nil {
		t.Fatal(err)
	}
	return &c
}

func testStreamConfigVector(t *testing.T, v *wireVector) {
	c := roundTrip[StreamConfig](t, v.JSON)
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if c.Issuer != "https://tr.example.com" {
		t.Errorf("iss = %q, want the issuer of the §7.2.3 metadata (SSF-STREAM-14)", c.Issuer)
	}
	if !c.Audience.Contains("https://receiver.example.com/web") {
		t.Errorf("aud = %q", c.Audience)
	}
}

func testStreamListVector(t *testing.T, v *wireVector) {
	list := roundTrip[[]StreamConfig](t, v.JSON)
	if *list == nil {
		t.Fatal("decoded list is nil; an empty array must stay []")
	}
	for i := range *list {
		if err := (*list)[i].Validate(); err != nil {
			t.Errorf("stream %d: %v", i, err)
		}
	}
}

func testStreamIDQueryVector(method string) func(t *testing.T, v *wireVector) {
	return func(t *testing.T, v *wireVector) {
		if v.HTTP.Method != method || v.HTTP.Body != "none" || v.JSON != nil && string(v.JSON) != "null" {
			t.Fatalf("want %s without body, vector has %s body %s", method, v.HTTP.Method, v.HTTP.Body)
		}
		u, err := url.Parse(v.HTTP.Target)
		if err != nil {
			t.Fatal(err)
		}
		if id := u.Query().Get("stream_id"); id != "f67e39a0a4d34d56b3aa1bc4cff0069f" {
			t.Errorf("stream_id query parameter = %q", id)
		}
	}
}

func testNoStreamIDQueryVector(t *testing.T, v *wireVector) {
	u, err := url.Parse(v.HTTP.Target)
	if err != nil {
		t.Fatal(err)
	}
	if u.Query().Has("stream_id") || v.HTTP.Method != http.MethodGet {
		t.Errorf("read-all is a GET without stream_id, got %s %s", v.HTTP.Method, v.HTTP.Target)
	}
}

func testEmptySuccessVector(t *testing.T, v *wireVector) {
	if v.HTTP.Body != "none" {
		t.Errorf("body = %s, want none", v.HTTP.Body)
	}
	if err := ErrorFromResponse(v.HTTP.Status, nil, nil); err != nil {
		t.Errorf("ErrorFromResponse(%d) = %v, want success", v.HTTP.Status, err)
	}
	if HTTPStatus(nil) != http.StatusOK {
		t.Errorf("HTTPStatus(nil) = %d", HTTPStatus(nil))
	}
}

func testUpdateRequestVector(t *testing.T, v *wireVector) {
	u := roundTrip[StreamUpdate](t, v.JSON)
	if err := u.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if u.Description == nil || u.EventsRequested == nil || u.Delivery != nil || u.Issuer != nil {
		t.Errorf("presence wrong: %+v", u)
	}
	current := loadStreamConfig(t, "ssf/ssf-8.1.1.1-ex2-create-stream-response.json")
	if err := u.CheckTransmitterSupplied(current); err != nil {
		t.Errorf("CheckTransmitterSupplied: %v", err)
	}
	got, err := u.Apply(current)
	if err != nil {
		t.Fatal(err)
	}
	want := loadVector(t, "ssf/ssf-8.1.1.3-ex2-update-stream-response.json")
	sameJSON(t, want.JSON, mustMarshal(t, got))
}

func testReplaceRequestVector(t *testing.T, v *wireVector) {
	c := roundTrip[StreamConfig](t, v.JSON)
	if err := c.ValidateRequest(); err != nil {
		t.Errorf("ValidateRequest: %v", err)
	}
	current := loadStreamConfig(t, "ssf/ssf-8.1.1.3-ex2-update-stream-response.json")
	got, err := c.ApplyReplace(current)
	if err != nil {
		t.Fatal(err)
	}
	want := loadVector(t, "ssf/ssf-8.1.1.4-ex2-replace-stream-response.json")
	sameJSON(t, want.JSON, mustMarshal(t, got))
}

func testStatusVector(t *testing.T, v *wireVector) {
	s := roundTrip[StreamStatus](t, v.JSON)
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if s.Status != StatusPaused {
		t.Errorf("status = %q", s.Status)
	}
}

func testVerifyVector(t *testing.T, v *wireVector) {
	r := roundTrip[VerifyRequest](t, v.JSON)
	if err := r.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if r.State == "" {
		t.Error("state lost")
	}
}

func testPollRequestVector(t *testing.T, v *wireVector) {
	var r PollRequest
	if err := json.Unmarshal(v.JSON, &r); err != nil {
		t.Fatal(err)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	// Encoding omits members that have their default value (returnImmediately false):
	// compare the decoded values of both encodings.
	var again PollRequest
	if err := json.Unmarshal(mustMarshal(t, r), &again); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, again, cmpopts.EquateEmpty(), rawJSONComparer); d != "" {
		t.Errorf("round trip (-first +second):\n%s", d)
	}
	var generic map[string]any
	_ = json.Unmarshal(v.JSON, &generic)
	if ri, ok := generic["returnImmediately"]; !ok || ri == true {
		sameJSON(t, v.JSON, mustMarshal(t, r))
	}
	for jti, se := range r.SetErrs {
		if !IsRegisteredSETErrorCode(se.Err) {
			t.Errorf("setErrs[%s].err = %q is not registered", jti, se.Err)
		}
	}
	if len(r.SetErrs) > 0 && v.header("Content-Language") == "" {
		t.Error("a request with setErrs carries Content-Language (RFC 8936 §2.6)")
	}
}

func testPollResponseVector(t *testing.T, v *wireVector) {
	r := roundTrip[PollResponse](t, v.JSON)
	if err := r.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if r.MoreAvailable {
		t.Error("moreAvailable omitted must decode as false")
	}
}

func testPollErrorVector(t *testing.T, v *wireVector) {
	// RFC 8936 §2.5.1: the body of a poll error is undefined and ignored.
	err := ErrorFromResponse(v.HTTP.Status, nil, nil)
	if !isErr(err, ErrBadRequest) {
		t.Errorf("ErrorFromResponse(400) = %v, want ErrBadRequest", err)
	}
}

func testPushRequestVector(t *testing.T, v *wireVector) {
	// Push framing is implemented by transmitter/push; here the vector pins the media
	// types and that the body is one compact SET, which PollResponse.Validate's compact
	// check also accepts.
	if v.header("Content-Type") != "application/secevent+jwt" || v.header("Accept") != "application/json" {
		t.Errorf("headers %q", v.HTTP.Headers)
	}
	r := PollResponse{Sets: map[string]string{"x": v.Compact}}
	if err := r.Validate(); err != nil {
		t.Errorf("compact SET: %v", err)
	}
}

func testPushAcceptedVector(t *testing.T, v *wireVector) {
	if v.HTTP.Status != http.StatusAccepted || v.HTTP.Body != "none" {
		t.Errorf("push success is 202 with an empty body, vector has %d/%s", v.HTTP.Status, v.HTTP.Body)
	}
}

func testSETErrorVector(t *testing.T, v *wireVector) {
	e := roundTrip[SETError](t, v.JSON)
	if err := e.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if !IsRegisteredSETErrorCode(e.Err) {
		t.Errorf("err %q not registered", e.Err)
	}
	if v.HTTP.Status != http.StatusBadRequest || v.header("Content-Language") == "" {
		t.Errorf("RFC 8935 §2.3 error: 400 with Content-Language, vector has %d", v.HTTP.Status)
	}
	// WriteSETError writes the same body and the required headers.
	rec := httptest.NewRecorder()
	WriteSETError(rec, *e)
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Language") == "" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("WriteSETError wrote %d %v", rec.Code, rec.Header())
	}
	sameJSON(t, v.JSON, rec.Body.Bytes())
}

// withOktaDomain replaces the {yourOktaDomain} placeholder.
func withOktaDomain(data []byte) []byte {
	return []byte(strings.ReplaceAll(string(data), "{yourOktaDomain}", "example.okta.com"))
}

func testOktaTransmitterMetadata(t *testing.T, v *wireVector) {
	m := roundTrip[Metadata](t, v.JSON)
	// As published, the template host is not a valid URL host.
	wantMemberError(t, m.Validate(), "issuer", "")
	m = roundTrip[Metadata](t, withOktaDomain(v.JSON))
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if !m.SupportsDelivery(DeliveryPush) || m.SupportsDelivery(DeliveryPoll) {
		t.Error("Okta supports push only")
	}
	// Not interop-profile metadata: no status_endpoint, spec_version 1_0-ID3.
	err := m.ValidateInteropProfile(InteropOptions{})
	wantMemberError(t, err, "status_endpoint", "IOP-6")
	wantMemberError(t, err, "spec_version", "older")
	onlyMembers(t, err, "status_endpoint", "spec_version")
	// With the conformance suite's threshold (TM10) only the status endpoint is missing.
	err = m.ValidateInteropProfile(InteropOptions{MinSpecVersion: SpecVersion1_0ID2})
	onlyMembers(t, err, "status_endpoint")
	_, notes, err := ParseMetadataLenient(withOktaDomain(v.JSON))
	if err != nil || len(notes) != 0 {
		t.Errorf("lenient: %q, %v", notes, err)
	}
}

func testOktaMinimalMetadata(t *testing.T, v *wireVector) {
	m := roundTrip[Metadata](t, v.JSON)
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if m.EffectiveSpecVersion() != SpecVersion1_0ID1 {
		t.Errorf("EffectiveSpecVersion = %q", m.EffectiveSpecVersion())
	}
	lm, notes, err := ParseMetadataLenient(v.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if lm.SpecVersion != SpecVersion1_0ID1 || len(notes) != 1 || !strings.Contains(notes[0], "spec_version absent") {
		t.Errorf("lenient: spec_version %q, notes %q", lm.SpecVersion, notes)
	}
	if err := lm.Validate(); err != nil {
		t.Errorf("lenient Validate: %v", err)
	}
}

func testGoogleMetadata(t *testing.T, v *wireVector) {
	// Strict decoding changes nothing: the non-standard members stay in Extra.
	m := roundTrip[Metadata](t, v.JSON)
	if m.ConfigurationEndpoint != "" || m.StatusEndpoint != "" || len(m.Extra) != 3 {
		t.Errorf("strict decode: configuration %q status %q extra %d", m.ConfigurationEndpoint, m.StatusEndpoint, len(m.Extra))
	}
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if !m.SupportsDelivery(DeliveryPush) {
		t.Error("the http:// RISC push URI is a synonym of urn:ietf:rfc:8935 (DIFF-4)")
	}
	lm, notes, err := ParseMetadataLenient(v.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if lm.ConfigurationEndpoint != "https://risc.googleapis.com/v1beta/v1beta/stream" {
		t.Errorf("configuration_endpoint = %q, want get_configuration_endpoint", lm.ConfigurationEndpoint)
	}
	if lm.StatusEndpoint != "https://risc.googleapis.com/v1beta/stream/status" {
		t.Errorf("status_endpoint = %q", lm.StatusEndpoint)
	}
	if !lm.SupportsDelivery(DeliveryPush) || lm.DeliveryMethodsSupported[0] != LegacyDeliveryPush {
		t.Errorf("delivery methods %q", lm.DeliveryMethodsSupported)
	}
	if lm.SpecVersion != SpecVersion1_0ID1 {
		t.Errorf("spec_version = %q", lm.SpecVersion)
	}
	for _, want := range []string{`"get_configuration_endpoint" mapped`, `"update_configuration_endpoint" ignored`, `"get_status_endpoint" mapped`, "https equivalent", "spec_version absent"} {
		found := false
		for _, n := range notes {
			found = found || strings.Contains(n, want)
		}
		if !found {
			t.Errorf("notes %q lack %q", notes, want)
		}
	}
	if err := lm.Validate(); err != nil {
		t.Errorf("lenient Validate: %v", err)
	}
	if err := lm.CheckIssuer("https://accounts.google.com"); err != nil {
		t.Error(err)
	}
	if err := lm.CheckLocation("https://accounts.google.com/.well-known/risc-configuration"); err != nil {
		t.Error(err)
	}
	// The lenient result encodes and decodes strictly to the same value.
	var again Metadata
	if err := json.Unmarshal(mustMarshal(t, lm), &again); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(lm, &again, rawJSONComparer); d != "" {
		t.Error(d)
	}
}

func testKolideMetadata(t *testing.T, v *wireVector) {
	m := roundTrip[Metadata](t, v.JSON)
	if err := m.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if _, ok := m.Extra["events_supported"]; !ok {
		t.Error("metadata-level events_supported (not SSF 1.0) must be kept as an extra member")
	}
	err := m.ValidateInteropProfile(InteropOptions{})
	wantMemberError(t, err, "authorization_schemes", "IOP-9")
	onlyMembers(t, err, "authorization_schemes")
}

func testAuthentikMetadata(t *testing.T, v *wireVector) {
	if v.Valid {
		t.Fatal("vector is documented as invalid")
	}
	m := roundTrip[Metadata](t, v.JSON)
	// As published ("..." placeholders) the issuer is not even a URL.
	wantMemberError(t, m.Validate(), "issuer", "")
	// With the placeholders filled in, the document is fetched from the URL its issuer
	// names: the issuer is not the prefix the configuration URL was built from.
	filled := strings.NewReplacer("...", "https://auth.example.com", "<slug>", "app").Replace(string(v.JSON))
	m = roundTrip[Metadata](t, []byte(filled))
	if err := m.Validate(); err != nil {
		t.Errorf("Validate (placeholders filled): %v", err)
	}
	wantMemberError(t, m.CheckLocation(m.Issuer), "issuer", "not built from the issuer")
	if !m.SupportsDelivery(DeliveryPush) {
		t.Error("the RISC push URI stands for urn:ietf:rfc:8935")
	}
}
