package caep_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
)

func newRegistry(t testing.TB) *event.Registry {
	t.Helper()
	r := event.NewRegistry()
	if err := caep.Register(r); err != nil {
		t.Fatal(err)
	}
	return r
}

// wantType maps each CAEP event type URI to the Go type Decode must return (CAEP-6..13).
var wantType = map[string]reflect.Type{
	caep.EventTypeSessionRevoked:         reflect.TypeFor[*caep.SessionRevoked](),
	caep.EventTypeTokenClaimsChange:      reflect.TypeFor[*caep.TokenClaimsChange](),
	caep.EventTypeCredentialChange:       reflect.TypeFor[*caep.CredentialChange](),
	caep.EventTypeAssuranceLevelChange:   reflect.TypeFor[*caep.AssuranceLevelChange](),
	caep.EventTypeDeviceComplianceChange: reflect.TypeFor[*caep.DeviceComplianceChange](),
	caep.EventTypeSessionEstablished:     reflect.TypeFor[*caep.SessionEstablished](),
	caep.EventTypeSessionPresented:       reflect.TypeFor[*caep.SessionPresented](),
	caep.EventTypeRiskLevelChange:        reflect.TypeFor[*caep.RiskLevelChange](),
}

type vector struct {
	Name     string          `json:"name"`
	Valid    bool            `json:"valid"`
	Fragment bool            `json:"fragment"`
	JSON     json.RawMessage `json:"json"`
	Claims   json.RawMessage `json:"claims"` // negative/ vectors
}

func readVector(t *testing.T, path string) vector {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// eventsOf returns the "events" claim of a SET claims set.
func eventsOf(t *testing.T, claims json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var set struct {
		Events map[string]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(claims, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Events) == 0 {
		t.Fatal("no events in vector")
	}
	return set.Events
}

// jsonEqual compares two JSON texts as values (member order and white space ignored).
func jsonEqual(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("re-encoded payload differs (-want +got):\n%s", d)
	}
}

// roundTrip decodes payload as typeURI, checks the Go type and validity, re-encodes it
// and compares the JSON.
func roundTrip(t *testing.T, r *event.Registry, typeURI string, payload []byte) event.Event {
	t.Helper()
	ev, err := r.Decode(typeURI, payload)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if got, want := reflect.TypeOf(ev), wantType[typeURI]; got != want {
		t.Fatalf("Decode returned %v, want %v", got, want)
	}
	if ev.Type() != typeURI {
		t.Errorf("Type() = %q, want %q", ev.Type(), typeURI)
	}
	if err := ev.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	jsonEqual(t, payload, out)
	return ev
}

// TestVectors decodes every CAEP 1.0 example (CAEP §3.1.2..§3.8.2, CAEP-14), checks the
// type, validates and re-encodes it.
func TestVectors(t *testing.T) {
	r := newRegistry(t)
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) != 15 {
		t.Fatalf("found %d vectors, want 15", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			v := readVector(t, f)
			if !v.Valid {
				t.Fatal("vector is not marked valid")
			}
			if v.Fragment {
				// CAEP §2 examples: a reason_admin / reason_user member alone; carry it
				// in a session-revoked payload.
				ev := roundTrip(t, r, caep.EventTypeSessionRevoked, v.JSON)
				sr := ev.(*caep.SessionRevoked)
				if len(sr.ReasonAdmin)+len(sr.ReasonUser) != 3 || sr.ReasonAdmin["es-410"]+sr.ReasonUser["es-410"] == "" {
					t.Errorf("reasons not decoded: %+v", sr.Common)
				}
				return
			}
			for uri, payload := range eventsOf(t, v.JSON) {
				roundTrip(t, r, uri, payload)
			}
		})
	}
}

// TestVectorFields spot-checks decoded values.
func TestVectorFields(t *testing.T) {
	r := newRegistry(t)
	decode := func(file string) event.Event {
		t.Helper()
		for uri, p := range eventsOf(t, readVector(t, "testdata/"+file).JSON) {
			ev, err := r.Decode(uri, p)
			if err != nil {
				t.Fatal(err)
			}
			return ev
		}
		return nil
	}
	cc := decode("caep-3.3.2-credential-change-fido2.json").(*caep.CredentialChange)
	want := &caep.CredentialChange{
		Common: caep.Common{
			EventTimestamp:   1615304991,
			InitiatingEntity: caep.InitiatingEntityUser,
			ReasonAdmin:      event.Localized{"en": "User self-enrollment"},
		},
		CredentialType: event.CredentialTypeFIDO2Roaming,
		ChangeType:     caep.ChangeTypeCreate,
		FriendlyName:   "Jane's USB authenticator",
		FIDO2AAGUID:    "accced6a-63f5-490a-9eea-e59bc1896cfc",
	}
	if d := cmp.Diff(want, cc); d != "" {
		t.Errorf("credential-change (-want +got):\n%s", d)
	}
	se := decode("caep-3.6.2-session-established.json").(*caep.SessionEstablished)
	if d := cmp.Diff([]string{"otp"}, se.AMR); d != "" || se.ACR != "AAL2" {
		t.Errorf("session-established: %+v", se)
	}
	tc := decode("caep-3.2.2-ex2-token-claims-change-oidc-optional.json").(*caep.TokenClaimsChange)
	if v, ok := tc.Claims["trusted_network"]; !ok || v != false {
		t.Errorf("token-claims-change claims = %#v", tc.Claims)
	}
	rl := decode("caep-3.8.2-risk-level-change.json").(*caep.RiskLevelChange)
	if rl.Principal != caep.PrincipalUser || rl.CurrentLevel != caep.RiskLevelLow || rl.PreviousLevel != caep.RiskLevelHigh {
		t.Errorf("risk-level-change: %+v", rl)
	}
}

// TestNegativeVectors: generated receiver vectors 13 and 14 (digest §19.9) must be
// rejected, naming the member.
func TestNegativeVectors(t *testing.T) {
	r := newRegistry(t)
	for file, want := range map[string]string{
		"13-credential-change-no-change-type.json": `caep credential-change: member "change_type" is required`,
		"14-initiating-entity-robot.json":          `caep session-revoked: member "initiating_entity" must be one of admin, user, policy, system (got "robot")`,
	} {
		t.Run(file, func(t *testing.T) {
			v := readVector(t, "testdata/negative/"+file)
			for uri, p := range eventsOf(t, v.Claims) {
				_, err := r.Decode(uri, p)
				if err == nil || err.Error() != want {
					t.Fatalf("Decode error = %v, want %q", err, want)
				}
				if !errors.Is(err, event.ErrInvalid) {
					t.Error("error does not wrap event.ErrInvalid")
				}
			}
		})
	}
}

// TestInvalid covers every required member, every closed enumeration and wrong JSON
// types, for every event type.
func TestInvalid(t *testing.T) {
	r := newRegistry(t)
	const (
		sr  = caep.EventTypeSessionRevoked
		tcc = caep.EventTypeTokenClaimsChange
		cc  = caep.EventTypeCredentialChange
		alc = caep.EventTypeAssuranceLevelChange
		dcc = caep.EventTypeDeviceComplianceChange
		se  = caep.EventTypeSessionEstablished
		sp  = caep.EventTypeSessionPresented
		rlc = caep.EventTypeRiskLevelChange
	)
	const (
		ccOK  = `"credential_type":"password","change_type":"update"`
		alcOK = `"namespace":"NIST-AAL","current_level":"nist-aal2"`
		dccOK = `"previous_status":"compliant","current_status":"not-compliant"`
		rlcOK = `"principal":"USER","current_level":"HIGH"`
	)
	tests := []struct {
		name, typ, payload string
		member             string // member the error must name ("" = whole payload)
		reason             string // substring of the error
	}{
		// Payload shape (SET-1).
		{"array", sr, `[]`, "", "must be a JSON object, not an array"},
		{"string", sr, `"x"`, "", "must be a JSON object, not a string"},
		{"null", sr, `null`, "", "must be a JSON object, not null"},
		{"empty input", sr, ``, "", "is not valid JSON"},
		{"truncated", cc, `{"credential_type":"password"`, "", "is not valid JSON"},
		{"trailing data", sr, `{} {}`, "", "is not valid JSON"},
		{"bad nested JSON", sr, `{"x":[1,]}`, "", "is not valid JSON"},

		// CAEP §2 common claims (CAEP-2..CAEP-5), on every event type.
		{"event_timestamp string", sr, `{"event_timestamp":"1615304991"}`, "event_timestamp", "must be a JSON number of seconds, not a string"},
		{"event_timestamp object", se, `{"event_timestamp":{}}`, "event_timestamp", "not an object"},
		{"event_timestamp bool", sp, `{"event_timestamp":true}`, "event_timestamp", "not a boolean"},
		{"event_timestamp overflow", sr, `{"event_timestamp":99999999999999999999}`, "event_timestamp", "out of range"},
		{"event_timestamp float overflow", sr, `{"event_timestamp":1e300}`, "event_timestamp", "out of range"},
		{"initiating_entity robot", sr, `{"initiating_entity":"robot"}`, "initiating_entity", `must be one of admin, user, policy, system (got "robot")`},
		{"initiating_entity upper case", cc, `{` + ccOK + `,"initiating_entity":"ADMIN"}`, "initiating_entity", "must be one of"},
		{"initiating_entity number", tcc, `{"claims":{"a":1},"initiating_entity":1}`, "initiating_entity", "must be a JSON string, not a number"},
		{"reason_admin string (AMB-1)", sr, `{"reason_admin":"Policy Violation"}`, "reason_admin", "not a string"},
		{"reason_admin empty", sr, `{"reason_admin":{}}`, "reason_admin", "at least one"},
		{"reason_admin bad tag", dcc, `{` + dccOK + `,"reason_admin":{"en_US":"x"}}`, "reason_admin", `"en_US", which is not a BCP 47 language tag`},
		{"reason_admin empty tag", sr, `{"reason_admin":{"":"x"}}`, "reason_admin", "not a BCP 47"},
		{"reason_admin number value", sr, `{"reason_admin":{"en":1}}`, "reason_admin", `"en" maps to a number`},
		{"reason_admin null value", sr, `{"reason_admin":{"en":null}}`, "reason_admin", `"en" maps to null`},
		{"reason_user array", alc, `{` + alcOK + `,"reason_user":["x"]}`, "reason_user", "not an array"},
		{"reason_user bad tag", rlc, `{` + rlcOK + `,"reason_user":{"1en":"x"}}`, "reason_user", "not a BCP 47"},

		// §3.2 token-claims-change.
		{"claims missing", tcc, `{}`, "claims", "is required"},
		{"claims null", tcc, `{"claims":null}`, "claims", "is required"},
		{"claims empty", tcc, `{"claims":{}}`, "claims", "at least one claim"},
		{"claims string", tcc, `{"claims":"role"}`, "claims", "must be a JSON object, not a string"},

		// §3.3 credential-change.
		{"credential_type missing", cc, `{"change_type":"create"}`, "credential_type", "is required"},
		{"credential_type empty", cc, `{"credential_type":"","change_type":"create"}`, "credential_type", "is required"},
		{"credential_type number", cc, `{"credential_type":1,"change_type":"create"}`, "credential_type", "must be a JSON string"},
		{"change_type missing", cc, `{"credential_type":"password"}`, "change_type", "is required"},
		{"change_type invalid", cc, `{"credential_type":"password","change_type":"reset"}`, "change_type", `must be one of create, revoke, update, delete (got "reset")`},
		{"friendly_name array", cc, `{` + ccOK + `,"friendly_name":["x"]}`, "friendly_name", "must be a JSON string"},
		{"x509_issuer number", cc, `{` + ccOK + `,"x509_issuer":1}`, "x509_issuer", "must be a JSON string"},
		{"x509_serial number", cc, `{` + ccOK + `,"x509_serial":1234}`, "x509_serial", "must be a JSON string"},
		{"fido2_aaguid bool", cc, `{` + ccOK + `,"fido2_aaguid":false}`, "fido2_aaguid", "must be a JSON string"},

		// §3.4 assurance-level-change.
		{"namespace missing", alc, `{"current_level":"nist-aal2"}`, "namespace", "is required"},
		{"current_level missing", alc, `{"namespace":"NIST-AAL"}`, "current_level", "is required"},
		{"change_direction invalid", alc, `{` + alcOK + `,"change_direction":"up"}`, "change_direction", `must be one of increase, decrease (got "up")`},
		{"previous_level number", alc, `{` + alcOK + `,"previous_level":1}`, "previous_level", "must be a JSON string"},

		// §3.5 device-compliance-change.
		{"previous_status missing", dcc, `{"current_status":"compliant"}`, "previous_status", "is required"},
		{"current_status missing", dcc, `{"previous_status":"compliant"}`, "current_status", "is required"},
		{"previous_status invalid", dcc, `{"previous_status":"ok","current_status":"compliant"}`, "previous_status", `must be one of compliant, not-compliant (got "ok")`},
		{"current_status invalid", dcc, `{"previous_status":"compliant","current_status":"noncompliant"}`, "current_status", "must be one of compliant, not-compliant"},

		// §3.6 session-established, §3.7 session-presented.
		{"amr string", se, `{"amr":"otp"}`, "amr", "must be a JSON array of strings, not a string"},
		{"amr number element", se, `{"amr":["otp",1]}`, "amr", "element 1 is a number"},
		{"amr null element", se, `{"amr":[null]}`, "amr", "element 0 is null"},
		{"acr number", se, `{"acr":2}`, "acr", "must be a JSON string"},
		{"fp_ua object", sp, `{"fp_ua":{}}`, "fp_ua", "must be a JSON string"},
		{"ext_id number", sp, `{"ext_id":12345}`, "ext_id", "must be a JSON string"},

		// §3.8 risk-level-change.
		{"principal missing", rlc, `{"current_level":"LOW"}`, "principal", "is required"},
		{"current_level missing", rlc, `{"principal":"USER"}`, "current_level", "is required"},
		{"current_level lower case", rlc, `{"principal":"USER","current_level":"low"}`, "current_level", `must be one of LOW, MEDIUM, HIGH (got "low")`},
		{"previous_level invalid", rlc, `{` + rlcOK + `,"previous_level":"CRITICAL"}`, "previous_level", "must be one of LOW, MEDIUM, HIGH"},
		{"risk_reason number", rlc, `{` + rlcOK + `,"risk_reason":1}`, "risk_reason", "must be a JSON string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := r.Decode(tt.typ, []byte(tt.payload))
			if err == nil {
				t.Fatal("Decode succeeded")
			}
			if !errors.Is(err, event.ErrInvalid) {
				t.Errorf("%v does not wrap event.ErrInvalid", err)
			}
			var e *event.Error
			if !errors.As(err, &e) {
				t.Fatalf("%v is not an *event.Error", err)
			}
			if e.Type != tt.typ || e.Member != tt.member {
				t.Errorf("error names type %q member %q, want %q %q (%v)", e.Type, e.Member, tt.typ, tt.member, err)
			}
			if !strings.Contains(err.Error(), tt.reason) || !strings.HasPrefix(err.Error(), event.TypeName(tt.typ)+": ") {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

// TestOpenEnumerations: credential_type, namespace and principal accept values beyond
// the listed ones (CAEP-8, CAEP-9, CAEP-13).
func TestOpenEnumerations(t *testing.T) {
	r := newRegistry(t)
	for _, c := range []struct{ typ, payload string }{
		{caep.EventTypeCredentialChange, `{"credential_type":"ALL_FACTORS","change_type":"revoke"}`},
		{caep.EventTypeAssuranceLevelChange, `{"namespace":"Retinal Scan","current_level":"hi-res-scan","change_direction":"decrease"}`},
		{caep.EventTypeRiskLevelChange, `{"principal":"APPLICATION","current_level":"MEDIUM"}`},
	} {
		roundTrip(t, r, c.typ, []byte(c.payload))
	}
	if event.CredentialType("ALL_FACTORS").IsStandard() || !event.CredentialTypeFIDOU2F.IsStandard() {
		t.Error("CredentialType.IsStandard")
	}
	if caep.AssuranceNamespace("Retinal Scan").IsStandard() || !caep.NamespaceNISTAAL.IsStandard() {
		t.Error("AssuranceNamespace.IsStandard")
	}
	if caep.Principal("APPLICATION").IsStandard() || !caep.PrincipalOrgUnit.IsStandard() {
		t.Error("Principal.IsStandard")
	}
}

// TestUnknownMembersPreserved: members CAEP does not define survive decode → encode
// (SSF §4.2.3, SET-12, SET-13 legacy in-event subject, Okta's current_ip).
func TestUnknownMembersPreserved(t *testing.T) {
	r := newRegistry(t)
	payload := []byte(`{
		"subject": {"format": "iss_sub", "iss": "https://org.okta.com", "sub": "okta-user-id1"},
		"current_ip": "198.51.100.7",
		"nested": {"a": [1, 2.5e10, null, true, {"b": "\u00e9\n"}]},
		"reason_admin": {"en": "User logout from Okta"},
		"event_timestamp": 1615304991
	}`)
	ev := roundTrip(t, r, caep.EventTypeSessionRevoked, payload).(*caep.SessionRevoked)
	if len(ev.Extra) != 3 || string(ev.Extra["current_ip"]) != `"198.51.100.7"` {
		t.Errorf("Extra = %v", ev.Extra)
	}
	// A defined member is always written from its field, never from Extra.
	ev.Extra["reason_admin"] = json.RawMessage(`"shadow"`)
	ev.Extra["event_timestamp"] = json.RawMessage(`1`)
	out, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, payload, out)
}

// TestTimestampForms: integers and floats decode (Netskope sends floats), encoding is
// integer seconds (CAEP-2); null is absent.
func TestTimestampForms(t *testing.T) {
	r := newRegistry(t)
	for in, want := range map[string]event.Timestamp{
		`1615304991`:        1615304991,
		`1615304991.0`:      1615304991,
		`1750980770.123456`: 1750980770,
		`1.615304991e9`:     1615304991,
		`null`:              0,
	} {
		ev, err := r.Decode(caep.EventTypeSessionPresented, []byte(`{"event_timestamp":`+in+`}`))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		sp := ev.(*caep.SessionPresented)
		if sp.EventTimestamp != want {
			t.Errorf("%s decoded to %d, want %d", in, sp.EventTimestamp, want)
		}
		out, _ := json.Marshal(sp)
		wantOut := `{}`
		if want != 0 {
			wantOut = `{"event_timestamp":` + strings.TrimSpace(string(must(json.Marshal(int64(want))))) + `}`
		}
		if string(out) != wantOut {
			t.Errorf("%s encoded to %s, want %s", in, out, wantOut)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestMarshalValidates: encoding is strict; an invalid event does not encode.
func TestMarshalValidates(t *testing.T) {
	for _, ev := range []event.Event{
		caep.CredentialChange{CredentialType: event.CredentialTypePassword},
		caep.SessionRevoked{Common: caep.Common{InitiatingEntity: "robot"}},
		caep.SessionRevoked{Common: caep.Common{ReasonUser: event.Localized{}}},
		caep.TokenClaimsChange{},
		caep.DeviceComplianceChange{CurrentStatus: caep.StatusCompliant},
		caep.AssuranceLevelChange{Namespace: caep.NamespaceNISTAAL},
		caep.RiskLevelChange{Principal: caep.PrincipalUser, CurrentLevel: "SEVERE"},
		caep.SessionEstablished{Extra: map[string]json.RawMessage{"x": json.RawMessage(`{`)}},
	} {
		if b, err := json.Marshal(ev); err == nil || !errors.Is(err, event.ErrInvalid) {
			t.Errorf("%T: Marshal = %s, %v; want an event.ErrInvalid error", ev, b, err)
		}
	}
}

// TestUnmarshalResets: decoding into a used value replaces every field.
func TestUnmarshalResets(t *testing.T) {
	cc := caep.CredentialChange{FriendlyName: "old", Extra: map[string]json.RawMessage{"old": json.RawMessage(`1`)}}
	if err := json.Unmarshal([]byte(`{"credential_type":"pin","change_type":"delete"}`), &cc); err != nil {
		t.Fatal(err)
	}
	if cc.FriendlyName != "" || cc.Extra != nil || cc.CredentialType != event.CredentialTypePIN {
		t.Errorf("got %+v", cc)
	}
}

// TestBuildAndEncode builds every event type in Go and checks its encoding.
func TestBuildAndEncode(t *testing.T) {
	common := caep.Common{
		EventTimestamp:   1615304991,
		InitiatingEntity: caep.InitiatingEntityPolicy,
		ReasonAdmin:      event.Localized{"en": "Policy Violation: C076E82F"},
		ReasonUser:       event.Localized{"en": "Land speed violation.", "es": "Violación de velocidad en tierra."},
	}
	const commonJSON = `"event_timestamp":1615304991,"initiating_entity":"policy","reason_admin":{"en":"Policy Violation: C076E82F"},"reason_user":{"en":"Land speed violation.","es":"Violación de velocidad en tierra."}`
	for _, c := range []struct {
		ev   event.Event
		want string
	}{
		{caep.SessionRevoked{Common: common}, `{` + commonJSON + `}`},
		{caep.TokenClaimsChange{Common: common, Claims: map[string]any{"role": "ro-admin", "trusted_network": false}},
			`{"claims":{"role":"ro-admin","trusted_network":false},` + commonJSON + `}`},
		{caep.CredentialChange{Common: common, CredentialType: event.CredentialTypeX509, ChangeType: caep.ChangeTypeRevoke,
			FriendlyName: "laptop cert", X509Issuer: "CN=CA", X509Serial: "0a1b"},
			`{"credential_type":"x509","change_type":"revoke","friendly_name":"laptop cert","x509_issuer":"CN=CA","x509_serial":"0a1b",` + commonJSON + `}`},
		{caep.AssuranceLevelChange{Namespace: caep.NamespaceNISTAAL, CurrentLevel: "nist-aal1", PreviousLevel: "nist-aal2", ChangeDirection: caep.ChangeDirectionDecrease},
			`{"namespace":"NIST-AAL","current_level":"nist-aal1","previous_level":"nist-aal2","change_direction":"decrease"}`},
		{caep.DeviceComplianceChange{PreviousStatus: caep.StatusNotCompliant, CurrentStatus: caep.StatusCompliant},
			`{"previous_status":"not-compliant","current_status":"compliant"}`},
		{caep.SessionEstablished{ACR: "AAL2", AMR: []string{"otp", "pwd"}, FingerprintUserAgent: "abb0", ExternalSessionID: "12345"},
			`{"fp_ua":"abb0","acr":"AAL2","amr":["otp","pwd"],"ext_id":"12345"}`},
		{caep.SessionEstablished{AMR: []string{}}, `{"amr":[]}`},
		{caep.SessionPresented{}, `{}`},
		{caep.RiskLevelChange{Principal: caep.PrincipalDevice, CurrentLevel: caep.RiskLevelMedium, RiskReason: "MALWARE"},
			`{"principal":"DEVICE","current_level":"MEDIUM","risk_reason":"MALWARE"}`},
	} {
		out, err := json.Marshal(c.ev)
		if err != nil {
			t.Fatalf("%T: %v", c.ev, err)
		}
		// json.Marshal applies HTML-safe escaping; compare as values and as text.
		jsonEqual(t, []byte(c.want), out)
		direct, err := c.ev.(json.Marshaler).MarshalJSON()
		if err != nil || string(direct) != c.want {
			t.Errorf("%T: MarshalJSON = %s, %v\nwant %s", c.ev, direct, err, c.want)
		}
	}
}

// TestRegisterTwice: a second Register on the same registry fails.
func TestRegisterTwice(t *testing.T) {
	r := newRegistry(t)
	if err := caep.Register(r); !errors.Is(err, event.ErrRegistration) {
		t.Errorf("second Register = %v, want ErrRegistration", err)
	}
	if got := len(r.Types()); got != 8 {
		t.Errorf("%d types registered, want 8", got)
	}
}

var (
	benchSessionRevoked = []byte(`{"initiating_entity":"policy","reason_admin":{"en":"Landspeed Policy Violation: C076E82F"},"reason_user":{"en":"Access attempt from multiple regions.","es-410":"Intento de acceso desde varias regiones."},"event_timestamp":1615304991}`)
	benchCredential     = []byte(`{"credential_type":"fido2-roaming","change_type":"create","fido2_aaguid":"accced6a-63f5-490a-9eea-e59bc1896cfc","friendly_name":"Jane's USB authenticator","initiating_entity":"user","reason_admin":{"en":"User self-enrollment"},"event_timestamp":1615304991}`)
)

func benchDecode(b *testing.B, typ string, payload []byte) {
	r := newRegistry(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := r.Decode(typ, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeSessionRevoked: Registry.Decode of session-revoked with reasons.
func BenchmarkDecodeSessionRevoked(b *testing.B) {
	benchDecode(b, caep.EventTypeSessionRevoked, benchSessionRevoked)
}

// BenchmarkDecodeCredentialChange: Registry.Decode of credential-change.
func BenchmarkDecodeCredentialChange(b *testing.B) {
	benchDecode(b, caep.EventTypeCredentialChange, benchCredential)
}

// BenchmarkEncodeSessionRevoked: json.Marshal of a decoded session-revoked.
func BenchmarkEncodeSessionRevoked(b *testing.B) {
	ev, err := newRegistry(b).Decode(caep.EventTypeSessionRevoked, benchSessionRevoked)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineStdlib decodes the credential-change payload the naive way, for
// comparison: encoding/json into a tagged struct plus a second pass into a map to find
// unknown members.
func BenchmarkBaselineStdlib(b *testing.B) {
	type plain struct {
		CredentialType   string            `json:"credential_type"`
		ChangeType       string            `json:"change_type"`
		FriendlyName     string            `json:"friendly_name"`
		FIDO2AAGUID      string            `json:"fido2_aaguid"`
		InitiatingEntity string            `json:"initiating_entity"`
		ReasonAdmin      map[string]string `json:"reason_admin"`
		EventTimestamp   float64           `json:"event_timestamp"`
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchCredential)))
	for b.Loop() {
		var p plain
		var all map[string]json.RawMessage
		if err := json.Unmarshal(benchCredential, &p); err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(benchCredential, &all); err != nil {
			b.Fatal(err)
		}
	}
}
