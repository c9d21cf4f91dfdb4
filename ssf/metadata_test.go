package ssf

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// validMetadata returns the SSF §7.2.3 example as a value.
func validMetadata() Metadata {
	return Metadata{
		SpecVersion:              "1_0",
		Issuer:                   "https://tr.example.com",
		JWKSURI:                  "https://tr.example.com/jwks.json",
		DeliveryMethodsSupported: []string{DeliveryPush, DeliveryPoll},
		ConfigurationEndpoint:    "https://tr.example.com/ssf/mgmt/stream",
		StatusEndpoint:           "https://tr.example.com/ssf/mgmt/status",
		AddSubjectEndpoint:       "https://tr.example.com/ssf/mgmt/subject:add",
		RemoveSubjectEndpoint:    "https://tr.example.com/ssf/mgmt/subject:remove",
		VerificationEndpoint:     "https://tr.example.com/ssf/mgmt/verification",
		CriticalSubjectMembers:   []string{"tenant", "user"},
		AuthorizationSchemes:     []AuthorizationScheme{{SpecURN: SpecURNOAuth2}, {SpecURN: "urn:ietf:rfc:8705"}},
		DefaultSubjects:          DefaultSubjectsNone,
	}
}

func TestMetadataDecodeWrongTypes(t *testing.T) {
	for _, tc := range []struct {
		name, json, member, msg string
	}{
		{"not an object", `["issuer"]`, "", "want a JSON object, got array"},
		{"null document", `null`, "", "want a JSON object, got null"},
		{"malformed", `{"issuer": }`, "", "malformed JSON"},
		{"spec_version number", `{"spec_version": 1.0}`, "spec_version", "want a string, got number"},
		{"issuer array", `{"issuer": ["https://a"]}`, "issuer", "want a string, got array"},
		{"jwks_uri object", `{"jwks_uri": {}}`, "jwks_uri", "want a string, got object"},
		{"delivery_methods_supported string", `{"delivery_methods_supported": "urn:ietf:rfc:8935"}`, "delivery_methods_supported", "want an array of strings, got string"},
		{"delivery_methods_supported element", `{"delivery_methods_supported": ["urn:ietf:rfc:8935", 8936]}`, "delivery_methods_supported[1]", "want a string, got number"},
		{"configuration_endpoint bool", `{"configuration_endpoint": true}`, "configuration_endpoint", "want a string, got boolean"},
		{"status_endpoint number", `{"status_endpoint": 1}`, "status_endpoint", "want a string"},
		{"add_subject_endpoint array", `{"add_subject_endpoint": []}`, "add_subject_endpoint", "want a string"},
		{"remove_subject_endpoint object", `{"remove_subject_endpoint": {}}`, "remove_subject_endpoint", "want a string"},
		{"verification_endpoint number", `{"verification_endpoint": 0}`, "verification_endpoint", "want a string"},
		{"critical_subject_members object", `{"critical_subject_members": {"user": true}}`, "critical_subject_members", "want an array of strings, got object"},
		{"authorization_schemes object", `{"authorization_schemes": {"spec_urn": "urn:ietf:rfc:6749"}}`, "authorization_schemes", "want an array of objects, got object"},
		{"authorization_schemes element string", `{"authorization_schemes": ["urn:ietf:rfc:6749"]}`, "authorization_schemes[0]", "want a JSON object, got string"},
		{"spec_urn number", `{"authorization_schemes": [{"spec_urn": 6749}]}`, "authorization_schemes[0].spec_urn", "want a string, got number"},
		{"default_subjects bool", `{"default_subjects": false}`, "default_subjects", "want a string, got boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m Metadata
			wantMemberError(t, m.UnmarshalJSON([]byte(tc.json)), tc.member, tc.msg)
			if err := json.Unmarshal([]byte(tc.json), &m); json.Valid([]byte(tc.json)) {
				wantMemberError(t, err, tc.member, tc.msg)
			} else if HTTPStatus(err) != 400 {
				t.Errorf("malformed JSON: HTTPStatus(%v) = %d, want 400", err, HTTPStatus(err))
			}
			_, _, lerr := ParseMetadataLenient([]byte(tc.json))
			wantMemberError(t, lerr, tc.member, tc.msg)
		})
	}
}

func TestMetadataNullMembersAreAbsent(t *testing.T) {
	var m Metadata
	if err := json.Unmarshal([]byte(`{"issuer":"https://a.example","jwks_uri":null,"authorization_schemes":null,"x":null}`), &m); err != nil {
		t.Fatal(err)
	}
	if m.JWKSURI != "" || m.AuthorizationSchemes != nil {
		t.Errorf("null members must decode as absent: %+v", m)
	}
	if string(m.Extra["x"]) != "null" {
		t.Errorf("unknown member with null value must be kept, Extra = %q", m.Extra)
	}
}

func TestMetadataValidate(t *testing.T) {
	if m := validMetadata(); m.Validate() != nil {
		t.Fatalf("valid metadata: %v", m.Validate())
	}
	for _, tc := range []struct {
		name   string
		mutate func(*Metadata)
		member string
		msg    string
	}{
		{"issuer missing (SSF-DISC-2, TM4)", func(m *Metadata) { m.Issuer = "" }, "issuer", "is required"},
		{"issuer http", func(m *Metadata) { m.Issuer = "http://tr.example.com" }, "issuer", "must use https"},
		{"issuer query", func(m *Metadata) { m.Issuer = "https://tr.example.com?x=1" }, "issuer", "query"},
		{"issuer empty query", func(m *Metadata) { m.Issuer = "https://tr.example.com?" }, "issuer", "query"},
		{"issuer fragment", func(m *Metadata) { m.Issuer = "https://tr.example.com#f" }, "issuer", "fragment"},
		{"issuer empty fragment", func(m *Metadata) { m.Issuer = "https://tr.example.com#" }, "issuer", "fragment"},
		{"issuer relative", func(m *Metadata) { m.Issuer = "tr.example.com" }, "issuer", "not an absolute URL"},
		{"issuer ftp", func(m *Metadata) { m.Issuer = "ftp://tr.example.com" }, "issuer", "must use https, not ftp"},
		{"issuer no host", func(m *Metadata) { m.Issuer = "https:///path" }, "issuer", "no host"},
		{"issuer opaque", func(m *Metadata) { m.Issuer = "https:tr.example.com" }, "issuer", "no host"},
		{"issuer unparsable", func(m *Metadata) { m.Issuer = "https://tr example.com/%zz" }, "issuer", "not a URL"},
		{"jwks_uri http (SSF-DISC-3, TM3)", func(m *Metadata) { m.JWKSURI = "http://tr.example.com/jwks" }, "jwks_uri", "must use https"},
		{"configuration_endpoint http", func(m *Metadata) { m.ConfigurationEndpoint = "http://tr.example.com/s" }, "configuration_endpoint", "must use https"},
		{"status_endpoint relative", func(m *Metadata) { m.StatusEndpoint = "/ssf/status" }, "status_endpoint", "not an absolute URL"},
		{"add_subject_endpoint http", func(m *Metadata) { m.AddSubjectEndpoint = "http://x.example/a" }, "add_subject_endpoint", "must use https"},
		{"remove_subject_endpoint http", func(m *Metadata) { m.RemoveSubjectEndpoint = "http://x.example/r" }, "remove_subject_endpoint", "must use https"},
		{"verification_endpoint http", func(m *Metadata) { m.VerificationEndpoint = "http://x.example/v" }, "verification_endpoint", "must use https"},
		{"spec_version nonsense (SSF-DISC-1)", func(m *Metadata) { m.SpecVersion = "10" }, "spec_version", "not a specification version"},
		{"delivery_methods_supported empty (SSF-DISC-13, TM12)", func(m *Metadata) { m.DeliveryMethodsSupported = []string{} }, "delivery_methods_supported", "empty array"},
		{"delivery method not a URI", func(m *Metadata) { m.DeliveryMethodsSupported = []string{DeliveryPush, "push"} }, "delivery_methods_supported[1]", "not an absolute URI"},
		{"critical_subject_members empty (TM12)", func(m *Metadata) { m.CriticalSubjectMembers = []string{} }, "critical_subject_members", "empty array"},
		{"critical_subject_members empty name", func(m *Metadata) { m.CriticalSubjectMembers = []string{"user", ""} }, "critical_subject_members[1]", "is empty"},
		{"authorization_schemes empty (TM12)", func(m *Metadata) { m.AuthorizationSchemes = []AuthorizationScheme{} }, "authorization_schemes", "empty array"},
		{"spec_urn missing (SSF-DISC-11)", func(m *Metadata) { m.AuthorizationSchemes = []AuthorizationScheme{{}} }, "authorization_schemes[0].spec_urn", "is required"},
		{"spec_urn not a URN (TM7)", func(m *Metadata) { m.AuthorizationSchemes[1].SpecURN = "oauth2" }, "authorization_schemes[1].spec_urn", "not a URN"},
		{"spec_urn without NSS", func(m *Metadata) { m.AuthorizationSchemes[0].SpecURN = "urn:ietf" }, "authorization_schemes[0].spec_urn", "not a URN"},
		{"default_subjects (SSF-DISC-12, TM6)", func(m *Metadata) { m.DefaultSubjects = "SOME" }, "default_subjects", `want "ALL" or "NONE"`},
		{"default_subjects lower case", func(m *Metadata) { m.DefaultSubjects = "all" }, "default_subjects", "want"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := validMetadata()
			tc.mutate(&m)
			err := m.Validate()
			wantMemberError(t, err, tc.member, tc.msg)
			onlyMembers(t, err, tc.member)
		})
	}
}

func TestMetadataInsecureAllowHTTP(t *testing.T) {
	m := validMetadata()
	m.Issuer = "http://127.0.0.1:8080"
	m.JWKSURI = "http://127.0.0.1:8080/jwks"
	m.ConfigurationEndpoint = "http://127.0.0.1:8080/ssf/stream"
	if err := m.ValidateWith(ValidateOptions{InsecureAllowHTTP: true}); err != nil {
		t.Errorf("InsecureAllowHTTP: %v", err)
	}
	err := m.Validate()
	onlyMembers(t, err, "issuer", "jwks_uri", "configuration_endpoint")
	if len(memberErrors(err)) != 3 {
		t.Errorf("want 3 problems, got %v", err)
	}
	// The interop profile never allows http (IOP-1).
	wantMemberError(t, m.ValidateInteropProfile(InteropOptions{}), "issuer", "https")
}

func TestMetadataValidateInteropProfile(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Metadata)
		opts   InteropOptions
		member string
		msg    string
	}{
		{"spec_version missing (IOP-2, TM10)", func(m *Metadata) { m.SpecVersion = "" }, InteropOptions{}, "spec_version", "IOP-2"},
		{"spec_version ID3 below 1_0", func(m *Metadata) { m.SpecVersion = "1_0-ID3" }, InteropOptions{}, "spec_version", `older than "1_0"`},
		{"spec_version ID1 below suite minimum", func(m *Metadata) { m.SpecVersion = "1_0-ID1" }, InteropOptions{MinSpecVersion: "1_0-ID2"}, "spec_version", `older than "1_0-ID2"`},
		{"bad MinSpecVersion", func(m *Metadata) {}, InteropOptions{MinSpecVersion: "latest"}, "spec_version", "MinSpecVersion"},
		{"delivery_methods_supported (IOP-3)", func(m *Metadata) { m.DeliveryMethodsSupported = nil }, InteropOptions{}, "delivery_methods_supported", "IOP-3"},
		{"jwks_uri (IOP-4, TM11)", func(m *Metadata) { m.JWKSURI = "" }, InteropOptions{}, "jwks_uri", "IOP-4"},
		{"configuration_endpoint (IOP-5)", func(m *Metadata) { m.ConfigurationEndpoint = "" }, InteropOptions{}, "configuration_endpoint", "IOP-5"},
		{"status_endpoint (IOP-6)", func(m *Metadata) { m.StatusEndpoint = "" }, InteropOptions{}, "status_endpoint", "IOP-6"},
		{"verification_endpoint (IOP-8)", func(m *Metadata) { m.VerificationEndpoint = "" }, InteropOptions{}, "verification_endpoint", "IOP-8"},
		{"authorization_schemes missing (IOP-9, TM7)", func(m *Metadata) { m.AuthorizationSchemes = nil }, InteropOptions{}, "authorization_schemes", "IOP-9"},
		{"authorization_schemes without OAuth", func(m *Metadata) { m.AuthorizationSchemes = m.AuthorizationSchemes[1:] }, InteropOptions{}, "authorization_schemes", "urn:ietf:rfc:6749"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := validMetadata()
			tc.mutate(&m)
			err := m.ValidateInteropProfile(tc.opts)
			wantMemberError(t, err, tc.member, tc.msg)
			onlyMembers(t, err, tc.member)
		})
	}
	m := validMetadata()
	m.AuthorizationSchemes[0].SpecURN = "URN:IETF:rfc:6749" // RFC 8141: prefix and NID case-insensitive
	if err := m.ValidateInteropProfile(InteropOptions{}); err != nil {
		t.Errorf("case-insensitive URN: %v", err)
	}
	m.SpecVersion = "1_1-ID1"
	if err := m.ValidateInteropProfile(InteropOptions{}); err != nil {
		t.Errorf("newer spec_version: %v", err)
	}
}

func TestMetadataEncodeOmitsEmpty(t *testing.T) {
	m := Metadata{
		Issuer:                   "https://tr.example.com",
		DeliveryMethodsSupported: []string{},
		CriticalSubjectMembers:   []string{},
		AuthorizationSchemes:     []AuthorizationScheme{},
	}
	sameJSON(t, []byte(`{"issuer":"https://tr.example.com"}`), mustMarshal(t, m))
}

func TestMetadataEncodeOrderAndExtra(t *testing.T) {
	m := validMetadata()
	m.Extra = map[string]json.RawMessage{"z_vendor": json.RawMessage(`{"a":1}`), "events_supported": json.RawMessage(`["x"]`)}
	got := string(mustMarshal(t, m))
	if !strings.HasPrefix(got, `{"spec_version":"1_0","issuer":"https://tr.example.com",`) ||
		!strings.HasSuffix(got, `"default_subjects":"NONE","events_supported":["x"],"z_vendor":{"a":1}}`) {
		t.Errorf("member order: %s", got)
	}
}

func TestMetadataExtraCollision(t *testing.T) {
	m := validMetadata()
	m.Extra = map[string]json.RawMessage{"issuer": json.RawMessage(`"https://evil.example"`)}
	_, err := json.Marshal(m)
	wantMemberError(t, err, "issuer", "collides")

	m.Extra = map[string]json.RawMessage{"x": json.RawMessage(`{`)}
	_, err = json.Marshal(m)
	wantMemberError(t, err, "x", "not valid JSON")

	s := AuthorizationScheme{SpecURN: SpecURNOAuth2, Extra: map[string]json.RawMessage{"spec_urn": json.RawMessage(`"x"`)}}
	_, err = json.Marshal(s)
	wantMemberError(t, err, "spec_urn", "collides")
}

func TestParseMetadataLenient(t *testing.T) {
	for _, tc := range []struct {
		name  string
		json  string
		check func(t *testing.T, m *Metadata)
		notes []string
	}{
		{
			name:  "nonsense spec_version kept",
			json:  `{"issuer":"https://a.example","spec_version":"10"}`,
			check: func(t *testing.T, m *Metadata) { eq(t, m.SpecVersion, "10") },
			notes: []string{`spec_version "10" is not a specification version`},
		},
		{
			name:  "missing spec_version",
			json:  `{"issuer":"https://a.example"}`,
			check: func(t *testing.T, m *Metadata) { eq(t, m.SpecVersion, SpecVersion1_0ID1) },
			notes: []string{"spec_version absent"},
		},
		{
			name: "empty arrays dropped",
			json: `{"issuer":"https://a.example","spec_version":"1_0","delivery_methods_supported":[],"critical_subject_members":[],"authorization_schemes":[]}`,
			check: func(t *testing.T, m *Metadata) {
				if m.DeliveryMethodsSupported != nil || m.CriticalSubjectMembers != nil || m.AuthorizationSchemes != nil {
					t.Errorf("empty arrays kept: %+v", m)
				}
				if err := m.Validate(); err != nil {
					t.Error(err)
				}
			},
			notes: []string{`"delivery_methods_supported" dropped`, `"critical_subject_members" dropped`, `"authorization_schemes" dropped`},
		},
		{
			name: "standard member wins over non-standard",
			json: `{"issuer":"https://a.example","spec_version":"1_0","status_endpoint":"https://a.example/s","get_status_endpoint":"https://a.example/old"}`,
			check: func(t *testing.T, m *Metadata) {
				eq(t, m.StatusEndpoint, "https://a.example/s")
				if _, ok := m.Extra["get_status_endpoint"]; !ok {
					t.Error("original non-standard member must stay in Extra")
				}
			},
			notes: []string{`"get_status_endpoint" ignored`},
		},
		{
			name: "update_configuration_endpoint alone",
			json: `{"issuer":"https://a.example","spec_version":"1_0","update_configuration_endpoint":"https://a.example/u"}`,
			check: func(t *testing.T, m *Metadata) {
				eq(t, m.ConfigurationEndpoint, "https://a.example/u")
			},
			notes: []string{`"update_configuration_endpoint" mapped to "configuration_endpoint"`},
		},
		{
			name: "http poll URI",
			json: `{"issuer":"https://a.example","spec_version":"1_0","delivery_methods_supported":["http://schemas.openid.net/secevent/risc/delivery-method/poll","urn:ietf:rfc:8935"]}`,
			check: func(t *testing.T, m *Metadata) {
				eq(t, m.DeliveryMethodsSupported[0], LegacyDeliveryPoll)
				if !m.SupportsDelivery(DeliveryPoll) {
					t.Error("poll not supported")
				}
			},
			notes: []string{"https equivalent"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, notes, err := ParseMetadataLenient([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, m)
			if len(notes) != len(tc.notes) {
				t.Fatalf("notes %q, want %d", notes, len(tc.notes))
			}
			for i, n := range tc.notes {
				if !strings.Contains(notes[i], n) {
					t.Errorf("note %d = %q, want %q", i, notes[i], n)
				}
			}
		})
	}
	_, _, err := ParseMetadataLenient([]byte(`{"issuer":"https://a.example","get_status_endpoint":5}`))
	wantMemberError(t, err, "get_status_endpoint", "want a string, got number")
}

func eq[T comparable](t *testing.T, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestCompareSpecVersions(t *testing.T) {
	ordered := []string{"1_0-ID1", "1_0-ID2", "1_0-ID3", "1_0", "1_1-ID1", "1_1", "2_0-ID1", "2_0"}
	for i, a := range ordered {
		for j, b := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			got, err := CompareSpecVersions(a, b)
			if err != nil || got != want {
				t.Errorf("CompareSpecVersions(%q, %q) = %d, %v; want %d", a, b, got, err, want)
			}
		}
	}
	for _, bad := range []string{"", "10", "1.0", "1_0-ID0", "1_0-id2", "v1_0", "1_0-ID2 "} {
		if _, err := CompareSpecVersions(bad, "1_0"); err == nil {
			t.Errorf("CompareSpecVersions(%q) accepted", bad)
		}
		if _, err := CompareSpecVersions("1_0", bad); err == nil {
			t.Errorf("CompareSpecVersions(_, %q) accepted", bad)
		}
	}
}

func TestWellKnownURL(t *testing.T) {
	for _, tc := range []struct{ issuer, want string }{
		{"https://tr.example.com", "https://tr.example.com/.well-known/ssf-configuration"},
		{"https://tr.example.com/", "https://tr.example.com/.well-known/ssf-configuration"},
		{"https://tr.example.com/issuer1", "https://tr.example.com/.well-known/ssf-configuration/issuer1"},
		{"https://tr.example.com/issuer1/", "https://tr.example.com/.well-known/ssf-configuration/issuer1"},
		{"https://tr.example.com/a/b", "https://tr.example.com/.well-known/ssf-configuration/a/b"},
		{"https://tr.example.com:8443/t%2Fx", "https://tr.example.com:8443/.well-known/ssf-configuration/t%2Fx"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/.well-known/ssf-configuration"},
	} {
		got, err := WellKnownURL(tc.issuer)
		if err != nil || got != tc.want {
			t.Errorf("WellKnownURL(%q) = %q, %v; want %q", tc.issuer, got, err, tc.want)
		}
	}
	for _, tc := range []struct{ issuer, msg string }{
		{"", "not an absolute http(s) URL"},
		{"tr.example.com", "not an absolute http(s) URL"},
		{"ftp://tr.example.com", "not an absolute http(s) URL"},
		{"https://", "no host"},
		{"https://tr.example.com?tenant=1", "query"},
		{"https://tr.example.com#x", "fragment"},
		{"https://user:pw@tr.example.com", "user information"},
		{"https://tr.example.com/%zz", "not a URL"},
	} {
		_, err := WellKnownURL(tc.issuer)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("WellKnownURL(%q) error = %v, want %q", tc.issuer, err, tc.msg)
		}
		if _, err := DiscoveryCandidateURLs(tc.issuer); err == nil {
			t.Errorf("DiscoveryCandidateURLs(%q) accepted", tc.issuer)
		}
	}
}

func TestDiscoveryCandidateURLs(t *testing.T) {
	got, err := DiscoveryCandidateURLs("https://tr.example.com/tenant/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"https://tr.example.com/.well-known/ssf-configuration/tenant",
		"https://tr.example.com/tenant/.well-known/ssf-configuration",
		"https://tr.example.com/.well-known/sse-configuration/tenant",
		"https://tr.example.com/tenant/.well-known/sse-configuration",
		"https://tr.example.com/.well-known/risc-configuration/tenant",
		"https://tr.example.com/tenant/.well-known/risc-configuration",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	got, _ = DiscoveryCandidateURLs("https://accounts.google.com")
	want = []string{
		"https://accounts.google.com/.well-known/ssf-configuration",
		"https://accounts.google.com/.well-known/sse-configuration",
		"https://accounts.google.com/.well-known/risc-configuration",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("no path (-want +got):\n%s", d)
	}
}

func TestMetadataCheckIssuer(t *testing.T) {
	m := validMetadata()
	// SSF §7.2.4: exact comparison, no normalisation.
	wantMemberError(t, m.CheckIssuer("https://tr.example.com/"), "issuer", "not identical")
	wantMemberError(t, m.CheckIssuer("https://TR.example.com"), "issuer", "not identical")
	if err := m.CheckIssuer("https://tr.example.com"); err != nil {
		t.Error(err)
	}
	// The Keycloak-style appended location is accepted as a location of the issuer.
	m.Issuer = "https://kc.example.com/realms/r1"
	if err := m.CheckLocation("https://kc.example.com/realms/r1/.well-known/ssf-configuration"); err != nil {
		t.Error(err)
	}
	wantMemberError(t, m.CheckLocation("https://other.example.com/.well-known/ssf-configuration/realms/r1"), "issuer", "not built from the issuer")
	m.Issuer = "not a url"
	wantMemberError(t, m.CheckLocation("https://x.example/.well-known/ssf-configuration"), "issuer", "not an absolute")
}
