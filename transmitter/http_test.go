package transmitter

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
)

// checkError checks an error response: status, JSON body with an error code and a
// description, Cache-Control: no-store.
func checkError(t *testing.T, what string, status int, h http.Header, body []byte, want int) ssf.ErrorResponse {
	t.Helper()
	if status != want {
		t.Errorf("%s: status %d, want %d (body %s)", what, status, want, body)
	}
	if h.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q, want no-store", what, h.Get("Cache-Control"))
	}
	var e ssf.ErrorResponse
	if want == http.StatusAccepted {
		return e
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Description == "" {
		t.Errorf("%s: error body %s: want {\"error\", \"error_description\"} (%v)", what, body, err)
	}
	return e
}

// TM1–TM13: discovery and the JWK Set.
func TestDiscoveryConformance(t *testing.T) {
	s := newServer(t, "", func(c *Config) { c.CriticalSubjectMembers = []string{"user", "tenant"} })
	status, h, body := s.do(t, http.MethodGet, s.srv.URL+"/.well-known/ssf-configuration", "", nil)
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("TM1: GET metadata = %d %q, want 200 JSON", status, h.Get("Content-Type"))
	}
	var m ssf.Metadata
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Issuer != s.issuer {
		t.Errorf("TM2: issuer %q, want %q", m.Issuer, s.issuer)
	}
	if err := m.CheckIssuer(s.issuer); err != nil {
		t.Error(err)
	}
	// TM3, TM4, TM6, TM7, TM10, TM11, TM12 (and SSF-DISC-13: no empty arrays).
	if err := m.ValidateInteropProfile(ssf.InteropOptions{}); err != nil {
		t.Errorf("metadata fails the CAEP interoperability profile: %v", err)
	}
	if strings.Contains(string(body), "[]") {
		t.Errorf("TM12: metadata has an empty array: %s", body)
	}
	for _, u := range []string{m.JWKSURI, m.ConfigurationEndpoint, m.StatusEndpoint, m.AddSubjectEndpoint, m.RemoveSubjectEndpoint, m.VerificationEndpoint} {
		if !strings.HasPrefix(u, "https://") {
			t.Errorf("TM3: endpoint %q is not https", u)
		}
	}
	if !m.SupportsDelivery(ssf.DeliveryPush) || !m.SupportsDelivery(ssf.DeliveryPoll) {
		t.Errorf("TM8/TM9: delivery_methods_supported = %v", m.DeliveryMethodsSupported)
	}
	if m.SpecVersion != "1_0" || m.DefaultSubjects != ssf.DefaultSubjectsAll || !slices.Equal(m.CriticalSubjectMembers, []string{"user", "tenant"}) {
		t.Errorf("spec_version %q, default_subjects %q, critical_subject_members %v", m.SpecVersion, m.DefaultSubjects, m.CriticalSubjectMembers)
	}
	if !m.SupportsAuthorizationScheme(ssf.SpecURNOAuth2) {
		t.Errorf("TM7: authorization_schemes = %v", m.AuthorizationSchemes)
	}
	// TM13: jwks_uri is fetchable and a valid JWK Set with the active key.
	status, h, body = s.do(t, http.MethodGet, m.JWKSURI, "", nil)
	if status != http.StatusOK || !strings.Contains(h.Get("Cache-Control"), "max-age=300") {
		t.Fatalf("TM13: GET jwks_uri = %d, Cache-Control %q", status, h.Get("Cache-Control"))
	}
	ks, err := keys.ParseJWKS(body)
	if err != nil {
		t.Fatalf("TM13: %v", err)
	}
	if _, err := ks.Keys(context.Background(), s.tr.cfg.Keys.Active().KeyID()); err != nil {
		t.Errorf("TM13: the active key is not published: %v", err)
	}
	if strings.Contains(string(body), `"d"`) {
		t.Error("the JWK Set leaks a private member")
	}
	// Wrong method on discovery.
	if status, _, _ := s.do(t, http.MethodPost, s.srv.URL+"/.well-known/ssf-configuration", "", "{}"); status != http.StatusMethodNotAllowed {
		t.Errorf("POST metadata: %d, want 405", status)
	}
}

// SSF-DISC-14: an issuer with a path; legacy aliases only when configured.
func TestDiscoveryIssuerPath(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		s := newServer(t, "/tenant1", func(c *Config) { c.LegacyDiscovery = legacy })
		get := func(p string) int {
			status, _, _ := s.do(t, http.MethodGet, s.srv.URL+p, "", nil)
			return status
		}
		if got := get("/.well-known/ssf-configuration/tenant1"); got != http.StatusOK {
			t.Errorf("legacy=%v: inserted form: %d", legacy, got)
		}
		if got := get("/.well-known/ssf-configuration"); got != http.StatusNotFound {
			t.Errorf("legacy=%v: without the path: %d, want 404", legacy, got)
		}
		want := http.StatusNotFound
		if legacy {
			want = http.StatusOK
		}
		for _, p := range []string{"/.well-known/sse-configuration/tenant1", "/.well-known/risc-configuration/tenant1", "/tenant1/.well-known/ssf-configuration", "/tenant1/.well-known/risc-configuration"} {
			if got := get(p); got != want {
				t.Errorf("legacy=%v: %s: %d, want %d", legacy, p, got, want)
			}
		}
		m := s.tr.Metadata()
		if m.ConfigurationEndpoint != s.issuer+"/ssf/stream" || m.JWKSURI != s.issuer+"/jwks.json" {
			t.Errorf("endpoints not under the issuer path: %s, %s", m.ConfigurationEndpoint, m.JWKSURI)
		}
		wk, _ := ssf.WellKnownURL(s.issuer)
		if err := m.CheckLocation(wk); err != nil {
			t.Error(err)
		}
		if got := get("/tenant1/jwks.json"); got != http.StatusOK {
			t.Errorf("jwks under the issuer path: %d", got)
		}
	}
}

// authMode is one way of authenticating Receivers: static tokens or OAuth JWTs.
type authMode struct {
	name   string
	server func(t *testing.T) *server
	tokenA func(t *testing.T, s *server) string // a valid token of client A with every scope
}

func authModes() []authMode {
	const aud = "https://tr.example/resource"
	return []authMode{
		{
			name:   "static",
			server: func(t *testing.T) *server { return newServer(t, "", nil) },
			tokenA: func(*testing.T, *server) string { return tokenA },
		},
		{
			name: "oauth",
			server: func(t *testing.T) *server {
				as := newAuthServer(t)
				s := newServer(t, "", func(c *Config) { c.Authenticator = as.authenticator(t, aud, c.Now) })
				s.as = as
				return s
			},
			tokenA: func(t *testing.T, s *server) string { return s.as.token(t, s.clock.Now(), aud, nil) },
		},
	}
}

// TS1–TS22 (happy path) and the success codes of digest §5.8, in both auth modes.
func TestStreamManagementConformance(t *testing.T) {
	for _, mode := range authModes() {
		t.Run(mode.name, func(t *testing.T) {
			s := mode.server(t)
			tok := mode.tokenA(t, s)
			createBody := `{"description":"Stream for OIDF Conformance Test-Suite","delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"` + pushURL + `","authorization_header":"Bearer push_token_1"},"events_requested":["` + caep.EventTypeSessionRevoked + `","` + caep.EventTypeCredentialChange + `"]}`
			status, h, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), tok, createBody)
			if status != http.StatusCreated {
				t.Fatalf("TS1: create = %d %s, want 201", status, body)
			}
			if h.Get("Cache-Control") != "no-store" || h.Get("Content-Type") != "application/json" {
				t.Errorf("create headers: %v", h)
			}
			var cfg ssf.StreamConfig
			if err := json.Unmarshal(body, &cfg); err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil { // TS5
				t.Errorf("TS5: %v", err)
			}
			if cfg.Issuer != s.issuer { // TS2
				t.Errorf("TS2: iss %q", cfg.Issuer)
			}
			if !cfg.Audience.Equal(ssf.Audience{"receiver-a"}) { // TS3
				t.Errorf("TS3: aud %v, want the client id", cfg.Audience)
			}
			if cfg.Delivery.Method != ssf.DeliveryPush || cfg.Delivery.AuthorizationHeader != "Bearer push_token_1" { // TS4, AMB-12
				t.Errorf("TS4: delivery %v", cfg.Delivery)
			}
			if cfg.MinVerificationInterval == nil || cfg.EventsSupported == nil { // TS6
				t.Errorf("TS6: optional members missing: %s", body)
			}
			known := ssf.DefaultRegistry().Types()
			for _, e := range cfg.EventsSupported { // TS8
				if !slices.Contains(known, e) {
					t.Errorf("TS8: unknown event type %s in events_supported", e)
				}
			}
			if !slices.Contains(cfg.EventsSupported, caep.EventTypeSessionRevoked) || slices.Contains(cfg.EventsSupported, "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked") { // TS9
				t.Errorf("TS9: events_supported %v", cfg.EventsSupported)
			}
			if !slices.Equal(cfg.EventsDelivered, []string{caep.EventTypeSessionRevoked, caep.EventTypeCredentialChange}) {
				t.Errorf("events_delivered %v", cfg.EventsDelivered)
			}
			id := cfg.StreamID
			q := "?stream_id=" + id

			status, _, body = s.do(t, http.MethodGet, s.url("/ssf/stream")+q, tok, nil) // TS7
			var got ssf.StreamConfig
			if status != http.StatusOK || json.Unmarshal(body, &got) != nil || got.Issuer != s.issuer {
				t.Errorf("TS7: read = %d %s", status, body)
			}
			status, _, body = s.do(t, http.MethodPatch, s.url("/ssf/stream"), tok, `{"stream_id":"`+id+`","description":"patched"}`) // TS10
			if status != http.StatusOK || json.Unmarshal(body, &got) != nil || got.Issuer != s.issuer || got.Description != "patched" {
				t.Errorf("TS10: update = %d %s", status, body)
			}
			got.Description = "replaced"
			status, _, body = s.do(t, http.MethodPut, s.url("/ssf/stream"), tok, got) // TS11
			if status != http.StatusOK || json.Unmarshal(body, &got) != nil || got.Issuer != s.issuer || got.Description != "replaced" {
				t.Errorf("TS11: replace = %d %s", status, body)
			}
			status, _, body = s.do(t, http.MethodGet, s.url("/ssf/status")+q, tok, nil) // TS12
			if status != http.StatusOK || !strings.Contains(string(body), `"status":"enabled"`) {
				t.Errorf("TS12: read status = %d %s", status, body)
			}
			for _, st := range []string{"enabled", "paused", "disabled", "enabled"} { // TS13
				status, _, body = s.do(t, http.MethodPost, s.url("/ssf/status"), tok, `{"stream_id":"`+id+`","status":"`+st+`"}`)
				var ss ssf.StreamStatus
				if status != http.StatusOK || json.Unmarshal(body, &ss) != nil || ss.Status != ssf.Status(st) || ss.StreamID != id {
					t.Errorf("TS13: status %s = %d %s", st, status, body)
				}
			}
			subj := `{"stream_id":"` + id + `","subject":{"format":"email","email":"user@example.com"}}`
			status, h, body = s.do(t, http.MethodPost, s.url("/ssf/subjects:add"), tok, subj) // TS17
			if status != http.StatusOK || len(body) != 0 || h.Get("Cache-Control") != "no-store" {
				t.Errorf("TS17: add subject = %d %q, want 200 with an empty body", status, body)
			}
			status, _, body = s.do(t, http.MethodPost, s.url("/ssf/subjects:remove"), tok, subj) // TS18
			if status != http.StatusNoContent || len(body) != 0 {
				t.Errorf("TS18: remove subject = %d %q, want 204", status, body)
			}

			// TS22, TV2–TV17: verification over a poll stream, read from the outbox.
			status, _, body = s.do(t, http.MethodPost, s.url("/ssf/stream"), tok, `{"delivery":{"method":"urn:ietf:rfc:8936"}}`)
			var poll ssf.StreamConfig
			if status != http.StatusCreated || json.Unmarshal(body, &poll) != nil || poll.Issuer != s.issuer { // TS20, TS21
				t.Fatalf("TS20: second create = %d %s, want 201 (several streams per receiver)", status, body)
			}
			if poll.Delivery.EndpointURL != s.issuer+"/ssf/poll/"+poll.StreamID {
				t.Errorf("poll endpoint_url = %q", poll.Delivery.EndpointURL)
			}
			status, _, body = s.do(t, http.MethodPost, s.url("/ssf/verify"), tok, `{"stream_id":"`+poll.StreamID+`","state":"VGhpcyBpcyBhbiBleGFtcGxl"}`)
			if status != http.StatusNoContent || len(body) != 0 {
				t.Fatalf("TV2: verify = %d %s, want 204", status, body)
			}
			sets := leaseAll(t, s.store, poll.StreamID, s.clock.Now())
			if len(sets) != 1 {
				t.Fatalf("TV3: %d SETs queued, want 1", len(sets))
			}
			v, _ := set.NewVerifier(s.tr.cfg.Keys, set.Config{Issuer: s.issuer, Audiences: poll.Audience, Now: s.clock.Now})
			vt, err := v.Verify(context.Background(), sets[0].SET) // TV4–TV14
			if err != nil {
				t.Fatalf("TV4: %v", err)
			}
			if err := set.CheckVerification(vt, poll.StreamID, "VGhpcyBpcyBhbiBleGFtcGxl"); err != nil { // TV16, TV17
				t.Errorf("TV16/TV17: %v", err)
			}

			status, _, body = s.do(t, http.MethodDelete, s.url("/ssf/stream")+q, tok, nil) // TS14
			if status != http.StatusNoContent || len(body) != 0 {
				t.Errorf("TS14: delete = %d %s, want 204", status, body)
			}
			status, h, body = s.do(t, http.MethodDelete, s.url("/ssf/stream")+q, tok, nil) // TS15
			checkError(t, "TS15: delete again", status, h, body, http.StatusNotFound)
		})
	}
}

// TS20: a single-stream client gets 409 on a second create.
func TestCreateConflict(t *testing.T) {
	st, err := NewStaticTokens(map[string]Client{"single": {ID: "apple", ClientPolicy: ClientPolicy{SingleStream: true}}})
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, "", func(c *Config) { c.Authenticator = st })
	if status, _, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), "single", "{}"); status != http.StatusCreated {
		t.Fatalf("first create: %d %s", status, body)
	}
	status, h, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), "single", "{}")
	if e := checkError(t, "second create", status, h, body, http.StatusConflict); e.Code != "conflict" {
		t.Errorf("code %q", e.Code)
	}
	// DELETE without stream_id deletes the only stream (vendors §5.2 item 4).
	if status, _, body := s.do(t, http.MethodDelete, s.url("/ssf/stream"), "single", nil); status != http.StatusNoContent {
		t.Errorf("DELETE without stream_id: %d %s", status, body)
	}
	if status, _, _ := s.do(t, http.MethodPost, s.url("/ssf/stream"), "single", "{}"); status != http.StatusCreated {
		t.Errorf("create after delete: %d", status)
	}
}

// TN1–TN12, in both auth modes; every refusal leaves the store unchanged.
func TestStreamManagementErrors(t *testing.T) {
	for _, mode := range authModes() {
		t.Run(mode.name, func(t *testing.T) {
			s := mode.server(t)
			tok := mode.tokenA(t, s)
			status, _, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), tok, "{}")
			var cfg ssf.StreamConfig
			if status != http.StatusCreated || json.Unmarshal(body, &cfg) != nil {
				t.Fatalf("create: %d %s", status, body)
			}
			status, _, body = s.do(t, http.MethodPost, s.url("/ssf/stream"), tok, "{}")
			var gone ssf.StreamConfig
			if status != http.StatusCreated || json.Unmarshal(body, &gone) != nil {
				t.Fatalf("create: %d %s", status, body)
			}
			if status, _, _ := s.do(t, http.MethodDelete, s.url("/ssf/stream?stream_id="+gone.StreamID), tok, nil); status != http.StatusNoContent {
				t.Fatal("delete")
			}
			bad := "invalid:6f1e0b9a-3c1d-4e4f-9a55-1f2b3c4d5e6f"
			id := cfg.StreamID
			for _, tc := range []struct {
				row, method, path, token string
				body                     any
				want                     int
			}{
				{"TN1 create malformed", http.MethodPost, "/ssf/stream", tok, `{"delivery": {`, 400},
				{"TN2 create bad token", http.MethodPost, "/ssf/stream", bad, "{}", 401},
				{"TN3 read bad token", http.MethodGet, "/ssf/stream?stream_id=" + id, bad, nil, 401},
				{"TN4 read deleted", http.MethodGet, "/ssf/stream?stream_id=" + gone.StreamID, tok, nil, 404},
				{"TN5 update bad token", http.MethodPatch, "/ssf/stream", bad, `{"stream_id":"` + id + `","description":"x"}`, 401},
				{"TN6 update malformed", http.MethodPatch, "/ssf/stream", tok, `{"stream_id": "` + id + `", "description": }`, 400},
				{"TN7 update unknown", http.MethodPatch, "/ssf/stream", tok, `{"stream_id":"` + gone.StreamID + `","description":"x"}`, 404},
				{"TN8 replace malformed", http.MethodPut, "/ssf/stream", tok, `["not", "an", "object"]`, 400},
				{"TN9 replace bad token", http.MethodPut, "/ssf/stream", bad, `{"stream_id":"` + id + `"}`, 401},
				{"TN10 replace unknown", http.MethodPut, "/ssf/stream", tok, `{"stream_id":"` + gone.StreamID + `"}`, 404},
				{"TN11 delete bad token", http.MethodDelete, "/ssf/stream?stream_id=" + id, bad, nil, 401},
				{"TN12 delete unknown", http.MethodDelete, "/ssf/stream?stream_id=" + gone.StreamID, tok, nil, 404},
			} {
				before := takeSnapshot(t, s.store, s.clock.Now())
				status, h, body := s.do(t, tc.method, s.url(tc.path), tc.token, tc.body)
				e := checkError(t, tc.row, status, h, body, tc.want)
				if tc.want == 401 {
					if ch := h.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `error="invalid_token"`) {
						t.Errorf("%s: WWW-Authenticate %q", tc.row, ch)
					}
					if e.Code != "invalid_token" {
						t.Errorf("%s: error %q", tc.row, e.Code)
					}
				}
				if d := before.diff(takeSnapshot(t, s.store, s.clock.Now())); d != "" {
					t.Errorf("%s changed the store:\n%s", tc.row, d)
				}
			}
		})
	}
}

// Every endpoint × method: bad input gets the spec's status and an actionable JSON
// error, and the stored state stays as it was.
func TestBadInput(t *testing.T) {
	s := newServer(t, "", func(c *Config) { c.MaxBodyBytes = 2048 })
	status, _, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), tokenA, `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"`+pushURL+`"}}`)
	var cfg ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(body, &cfg) != nil {
		t.Fatalf("create: %d %s", status, body)
	}
	id := cfg.StreamID
	big := `{"description":"` + strings.Repeat("x", 4096) + `"}`
	for _, tc := range []struct {
		name, method, path string
		body               any
		want               int
		says               string // the description must contain this
	}{
		{"create: malformed JSON", "POST", "/ssf/stream", `{"delivery":`, 400, "not valid JSON"},
		{"create: trailing data", "POST", "/ssf/stream", `{} {}`, 400, "not valid JSON"},
		{"create: not an object", "POST", "/ssf/stream", `"stream"`, 400, "want a JSON object"},
		{"create: empty body", "POST", "/ssf/stream", ``, 400, "empty"},
		{"create: wrong type", "POST", "/ssf/stream", `{"events_requested":"all"}`, 400, "events_requested"},
		{"create: wrong delivery type", "POST", "/ssf/stream", `{"delivery":"push"}`, 400, "delivery"},
		{"create: unsupported method", "POST", "/ssf/stream", `{"delivery":{"method":"urn:example:x"}}`, 400, "unsupported delivery method"},
		{"create: push without endpoint", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8935"}}`, 400, "endpoint_url"},
		{"create: push over http", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"http://127.0.0.1/x"}}`, 400, "https"},
		{"create: push to a private address", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://10.1.2.3/x"}}`, 400, "private"},
		{"create: push to metadata service", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://169.254.169.254/latest"}}`, 400, "link-local"},
		{"create: push with credentials in URL", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://u:p@127.0.0.1/x"}}`, 400, "user information"},
		{"create: stream_id", "POST", "/ssf/stream", `{"stream_id":"mine"}`, 400, `"stream_id" is supplied by the transmitter`},
		{"create: events_delivered", "POST", "/ssf/stream", `{"events_delivered":[]}`, 400, `"events_delivered"`},
		{"create: min_verification_interval", "POST", "/ssf/stream", `{"min_verification_interval":1}`, 400, `"min_verification_interval"`},
		{"create: poll endpoint_url", "POST", "/ssf/stream", `{"delivery":{"method":"urn:ietf:rfc:8936","endpoint_url":"https://x.example/poll"}}`, 400, `"delivery.endpoint_url"`},
		{"create: other iss", "POST", "/ssf/stream", `{"iss":"https://evil.example"}`, 400, "issuer"},
		{"create: other aud", "POST", "/ssf/stream", `{"aud":"receiver-b"}`, 400, "audience"},
		{"create: oversized", "POST", "/ssf/stream", big, 413, "larger than 2048 bytes"},
		{"create: form content", "POST", "/ssf/stream", []byte("description=x"), 400, ""},
		{"read: empty stream_id", "GET", "/ssf/stream?stream_id=", nil, 400, "empty"},
		{"read: two stream_ids", "GET", "/ssf/stream?stream_id=a&stream_id=b", nil, 400, "2 times"},
		{"read: unknown", "GET", "/ssf/stream?stream_id=nope", nil, 404, `"nope"`},
		{"update: no stream_id", "PATCH", "/ssf/stream", `{"description":"x"}`, 400, "stream_id"},
		{"update: conflicting stream_ids", "PATCH", "/ssf/stream?stream_id=other", `{"stream_id":"` + id + `"}`, 400, "differs"},
		{"update: wrong type", "PATCH", "/ssf/stream", `{"stream_id":"` + id + `","description":7}`, 400, "description"},
		{"update: changed aud", "PATCH", "/ssf/stream", `{"stream_id":"` + id + `","aud":"someone"}`, 400, `"aud"`},
		{"update: changed iss", "PATCH", "/ssf/stream", `{"stream_id":"` + id + `","iss":"https://evil.example"}`, 400, `"iss"`},
		{"update: changed events_supported", "PATCH", "/ssf/stream", `{"stream_id":"` + id + `","events_supported":[]}`, 400, "events_supported"},
		{"update: negative interval", "PATCH", "/ssf/stream", `{"stream_id":"` + id + `","inactivity_timeout":-5}`, 400, "inactivity_timeout"},
		{"update: push to an IPv4-mapped private address", "PATCH", "/ssf/stream", `{"stream_id":"` + id + `","delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://[::ffff:a00:1]/x"}}`, 400, "private"},
		{"update: unknown", "PATCH", "/ssf/stream", `{"stream_id":"nope","description":"x"}`, 404, ""},
		{"replace: no stream_id", "PUT", "/ssf/stream", `{"description":"x"}`, 400, "stream_id"},
		{"replace: changed min_verification_interval", "PUT", "/ssf/stream", `{"stream_id":"` + id + `","min_verification_interval":1}`, 400, "min_verification_interval"},
		{"replace: malformed", "PUT", "/ssf/stream", `{"stream_id":`, 400, "not valid JSON"},
		{"delete: unknown", "DELETE", "/ssf/stream?stream_id=nope", nil, 404, ""},
		{"stream: wrong method", "HEAD", "/ssf/stream", nil, 405, ""},
		{"status: no stream_id", "GET", "/ssf/status", nil, 400, "stream_id is required"},
		{"status: unknown", "GET", "/ssf/status?stream_id=nope", nil, 404, ""},
		{"status: bad value", "POST", "/ssf/status", `{"stream_id":"` + id + `","status":"asleep"}`, 400, "asleep"},
		{"status: no status", "POST", "/ssf/status", `{"stream_id":"` + id + `"}`, 400, "status"},
		{"status: wrong type", "POST", "/ssf/status", `{"stream_id":"` + id + `","status":true}`, 400, "status"},
		{"status: unknown stream", "POST", "/ssf/status", `{"stream_id":"nope","status":"paused"}`, 404, ""},
		{"status: wrong method", "DELETE", "/ssf/status", nil, 405, ""},
		{"add: no subject", "POST", "/ssf/subjects:add", `{"stream_id":"` + id + `"}`, 400, "subject"},
		{"add: invalid subject", "POST", "/ssf/subjects:add", `{"stream_id":"` + id + `","subject":{"format":"email","email":""}}`, 400, "email"},
		{"add: legacy subject", "POST", "/ssf/subjects:add", `{"stream_id":"` + id + `","subject":{"subject_type":"email","email":"a@example.com"}}`, 400, "subject"},
		{"add: verified not a boolean", "POST", "/ssf/subjects:add", `{"stream_id":"` + id + `","subject":{"format":"email","email":"a@example.com"},"verified":"yes"}`, 400, "verified"},
		{"add: unknown stream", "POST", "/ssf/subjects:add", `{"stream_id":"nope","subject":{"format":"email","email":"a@example.com"}}`, 404, ""},
		{"add: wrong method", "GET", "/ssf/subjects:add", nil, 405, ""},
		{"remove: the stream's own subject", "POST", "/ssf/subjects:remove", `{"stream_id":"` + id + `","subject":{"format":"opaque","id":"` + id + `"}}`, 400, "cannot be removed"},
		{"remove: not an object", "POST", "/ssf/subjects:remove", `{"stream_id":"` + id + `","subject":"a@example.com"}`, 400, "subject"},
		{"remove: unknown stream", "POST", "/ssf/subjects:remove", `{"stream_id":"nope","subject":{"format":"email","email":"a@example.com"}}`, 404, ""},
		{"remove: wrong method", "PUT", "/ssf/subjects:remove", `{}`, 405, ""},
		{"verify: no stream_id", "POST", "/ssf/verify", `{"state":"x"}`, 400, "stream_id"},
		{"verify: state not a string", "POST", "/ssf/verify", `{"stream_id":"` + id + `","state":1}`, 400, "state"},
		{"verify: unknown stream", "POST", "/ssf/verify", `{"stream_id":"nope"}`, 404, ""},
		{"verify: wrong method", "GET", "/ssf/verify", nil, 405, ""},
		{"unknown endpoint", "GET", "/ssf/streams", nil, 404, "no management endpoint"},
	} {
		before := takeSnapshot(t, s.store, s.clock.Now())
		var status int
		var h http.Header
		var body []byte
		if b, ok := tc.body.([]byte); ok {
			status, h, body = s.doContentType(t, tc.method, s.url(tc.path), tokenA, b, "application/x-www-form-urlencoded")
		} else {
			status, h, body = s.do(t, tc.method, s.url(tc.path), tokenA, tc.body)
		}
		if tc.method == http.MethodHead {
			if status != tc.want || h.Get("Allow") == "" {
				t.Errorf("%s: %d, Allow %q", tc.name, status, h.Get("Allow"))
			}
			continue
		}
		e := checkError(t, tc.name, status, h, body, tc.want)
		if !strings.Contains(e.Description, tc.says) {
			t.Errorf("%s: description %q does not say %q", tc.name, e.Description, tc.says)
		}
		if tc.want == 405 && h.Get("Allow") == "" {
			t.Errorf("%s: 405 without Allow", tc.name)
		}
		if d := before.diff(takeSnapshot(t, s.store, s.clock.Now())); d != "" {
			t.Errorf("%s changed the store:\n%s", tc.name, d)
		}
	}
}

// doContentType is do with an explicit Content-Type.
func (s *server) doContentType(t *testing.T, method, rawURL, token string, body []byte, ct string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, data
}

// Digest §5.8 error codes that need a setup: 403 (missing scope), 429 with Retry-After.
func TestStatusCodeTable(t *testing.T) {
	s := newServer(t, "", nil)
	status, _, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), tokenA, "{}")
	var cfg ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(body, &cfg) != nil {
		t.Fatal(status)
	}
	id := cfg.StreamID
	verify := `{"stream_id":"` + id + `"}`
	if status, _, _ := s.do(t, http.MethodPost, s.url("/ssf/verify"), tokenA, verify); status != http.StatusNoContent {
		t.Fatal(status)
	}
	s.clock.Advance(12 * time.Second)
	status, h, body := s.do(t, http.MethodPost, s.url("/ssf/verify"), tokenA, verify)
	checkError(t, "verify too soon", status, h, body, http.StatusTooManyRequests)
	if h.Get("Retry-After") != "18" {
		t.Errorf("Retry-After %q, want 18", h.Get("Retry-After"))
	}
	// A read-only client: reads pass, every change is 403 insufficient_scope.
	status, _, _ = s.do(t, http.MethodGet, s.url("/ssf/stream"), tokenRead, nil)
	if status != http.StatusOK {
		t.Errorf("read-only list: %d", status)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/ssf/stream", "{}"},
		{"PATCH", "/ssf/stream", verify},
		{"PUT", "/ssf/stream", verify},
		{"DELETE", "/ssf/stream?stream_id=" + id, ""},
		{"POST", "/ssf/status", `{"stream_id":"` + id + `","status":"paused"}`},
		{"POST", "/ssf/subjects:add", verify},
		{"POST", "/ssf/subjects:remove", verify},
		{"POST", "/ssf/verify", verify},
	} {
		var b any
		if c.body != "" {
			b = c.body
		}
		status, h, body := s.do(t, c.method, s.url(c.path), tokenRead, b)
		e := checkError(t, c.method+" "+c.path+" read-only", status, h, body, http.StatusForbidden)
		ch := h.Get("WWW-Authenticate")
		if e.Code != "insufficient_scope" || !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, `scope="ssf.manage"`) {
			t.Errorf("%s %s: code %q, challenge %q", c.method, c.path, e.Code, ch)
		}
	}
}

// NewManagementHandler serves any ssf.Manager: the 202 of ssf.ErrAccepted, errors
// passed through, and the client in the context.
func TestManagementHandlerAnyManager(t *testing.T) {
	fm := &fakeManager{}
	h := NewManagementHandler(fm, ManagementOptions{Authenticator: staticAuth(t), BasePath: "/x"})
	srv := newRawServer(t, h)
	status, hdr, body := srv.do(t, http.MethodPatch, srv.srv.URL+"/x/ssf/stream?stream_id=s1", tokenA, `{"description":"d"}`)
	checkError(t, "202", status, hdr, body, http.StatusAccepted)
	if len(body) != 0 || fm.lastClient != "receiver-a" || fm.lastID != "s1" {
		t.Errorf("202: body %q, client %q, stream %q", body, fm.lastClient, fm.lastID)
	}
	status, _, body = srv.do(t, http.MethodGet, srv.srv.URL+"/x/ssf/stream", tokenA, nil)
	if status != http.StatusOK || string(body) != "[]" {
		t.Errorf("list from a manager returning nil: %d %s, want []", status, body)
	}
	status, hdr, body = srv.do(t, http.MethodPost, srv.srv.URL+"/x/ssf/status", tokenA, `{"stream_id":"s1","status":"paused"}`)
	checkError(t, "500", status, hdr, body, http.StatusInternalServerError)
	if strings.Contains(string(body), "secret detail") {
		t.Errorf("a 5xx leaks internals: %s", body)
	}
}

type fakeManager struct {
	ssf.Manager
	lastClient, lastID string
}

func (f *fakeManager) UpdateStream(ctx context.Context, req ssf.StreamUpdate) (*ssf.StreamConfig, error) {
	f.lastClient, f.lastID = ClientFromContext(ctx).ID, req.StreamID
	return nil, ssf.ErrAccepted
}
func (f *fakeManager) ListStreams(context.Context) ([]ssf.StreamConfig, error) { return nil, nil }
func (f *fakeManager) UpdateStatus(context.Context, ssf.StreamStatus) (*ssf.StreamStatus, error) {
	return nil, errSecret
}

var errSecret = &secretErr{}

type secretErr struct{}

func (*secretErr) Error() string { return "secret detail of the database" }

// newRawServer serves h over TLS.
func newRawServer(t *testing.T, h http.Handler) *server {
	srv := httptestTLS(t, h)
	return &server{srv: srv}
}
