package transmitter

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
	"github.com/sigshare/sigshare/transmitter/push"
)

const oktaOrg = "https://acme.okta.example"

// oktaRequest is a static stream as an operator configures it for Okta (vendors §2.1).
func oktaRequest(endpoint string) StaticStreamRequest {
	return StaticStreamRequest{
		ClientID:        "okta-acme",
		Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: endpoint},
		EventsRequested: []string{caep.EventTypeSessionRevoked, caep.EventTypeDeviceComplianceChange},
		Audience:        ssf.Audience{oktaOrg},
		Description:     "Okta ITP",
		Profile:         "legacy",
	}
}

// vendors §5.2 item 8: a static stream is the named client's stream with the operator's
// audience and profile, the Transmitter-supplied members of any stream, no verification
// SET, no inactivity_timeout, and the client's policy (SingleStream) not applied.
func TestCreateStaticStream(t *testing.T) {
	var (
		mu      sync.Mutex
		created []string
	)
	e := newEnv(t, "https://tr.example.com", func(c *Config) {
		c.InactivityTimeout = time.Hour
		c.Hooks.StreamCreated = func(id, client string) {
			mu.Lock()
			created = append(created, id+" "+client)
			mu.Unlock()
		}
	})
	ctx := t.Context()
	req := oktaRequest(pushURL)
	req.Delivery.AuthorizationHeader = "Bearer okta-secret"
	cfg, err := e.tr.CreateStaticStream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want := &ssf.StreamConfig{
		StreamID:                cfg.StreamID,
		Issuer:                  "https://tr.example.com",
		Audience:                ssf.Audience{oktaOrg},
		EventsSupported:         e.tr.EventsSupported(),
		EventsRequested:         []string{caep.EventTypeSessionRevoked, caep.EventTypeDeviceComplianceChange},
		EventsDelivered:         []string{caep.EventTypeSessionRevoked, caep.EventTypeDeviceComplianceChange},
		Delivery:                &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: pushURL, AuthorizationHeader: "Bearer okta-secret"},
		MinVerificationInterval: secondsPtr(defaultMinVerification),
		Description:             "Okta ITP",
	}
	if d := cmp.Diff(want, cfg); d != "" {
		t.Errorf("configuration (-want +got):\n%s", d)
	}
	s, err := e.store.GetStream(ctx, cfg.StreamID)
	if err != nil {
		t.Fatal(err)
	}
	if s.ClientID != "okta-acme" || s.Profile != set.ProfileLegacy || s.Status != ssf.StatusEnabled {
		t.Errorf("stored: client %q, profile %s, status %s", s.ClientID, s.Profile, s.Status)
	}
	if d := cmp.Diff(want, &s.Config); d != "" {
		t.Errorf("stored configuration (-want +got):\n%s", d)
	}
	// No verification SET, no stream-updated SET (vendors §5.2 item 8: no verification).
	if sets := leaseAll(t, e.store, cfg.StreamID, e.clock.Now()); len(sets) != 0 {
		t.Errorf("creating a static stream queued %d SETs", len(sets))
	}
	mu.Lock()
	if !slices.Equal(created, []string{cfg.StreamID + " okta-acme"}) {
		t.Errorf("StreamCreated hook calls %v", created)
	}
	mu.Unlock()

	// The owner sees it through the management API, and no other client does.
	okta := asClient{t: e.tr, c: &Client{ID: "okta-acme", Scopes: allScopes, ClientPolicy: ClientPolicy{SingleStream: true}}}
	if got, err := okta.GetStream(ctx, cfg.StreamID); err != nil || got.StreamID != cfg.StreamID {
		t.Errorf("the owner reads its static stream: %v %v", got, err)
	}
	if _, err := (asClient{t: e.tr, c: clientA}).GetStream(ctx, cfg.StreamID); !errors.Is(err, ssf.ErrNotFound) {
		t.Errorf("another client reads the static stream: %v, want not found", err)
	}
	// SingleStream is the client's policy, not the operator's: a second static stream is
	// created, and then the client's own create is refused.
	if _, err := e.tr.CreateStaticStream(ctx, req); err != nil {
		t.Errorf("second static stream for a SingleStream client: %v", err)
	}
	if _, err := okta.CreateStream(ctx, ssf.StreamConfig{}); ssf.HTTPStatus(err) != http.StatusConflict {
		t.Errorf("the SingleStream client's own create: %v, want 409", err)
	}

	// Inactivity never stops a static stream: it has no inactivity_timeout.
	mine := mustCreate(t, asClient{t: e.tr, c: clientA}, ssf.StreamConfig{})
	e.clock.Advance(2 * time.Hour)
	stopped, err := e.tr.CheckInactivity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stopped, []string{mine.StreamID}) {
		t.Errorf("inactivity stopped %v, want only the receiver-created stream %s", stopped, mine.StreamID)
	}
}

// The defaults: aud is the client id, profile final, status enabled, events_requested
// absent delivers every supported type (AMB-5); poll delivery gets the Transmitter's poll
// URL; legacy alias URIs resolve; an initial paused status queues nothing.
func TestCreateStaticStreamDefaults(t *testing.T) {
	e := newEnv(t, "https://tr.example.com", nil)
	ctx := t.Context()
	for _, tc := range []struct {
		name      string
		req       StaticStreamRequest
		aud       ssf.Audience
		delivered []string
		poll      bool
		profile   set.Profile
		status    ssf.Status
	}{
		{
			name:      "defaults",
			req:       StaticStreamRequest{ClientID: "receiver-a", Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: pushURL}},
			aud:       ssf.Audience{"receiver-a"},
			delivered: e.tr.EventsSupported(),
			status:    ssf.StatusEnabled,
		},
		{
			name:      "poll, hybrid, paused, several audiences",
			req:       StaticStreamRequest{ClientID: "receiver-a", Delivery: &ssf.Delivery{Method: ssf.DeliveryPoll}, Audience: ssf.Audience{"urn:a", "urn:b"}, Profile: "Hybrid", Status: ssf.StatusPaused, EventsRequested: []string{caep.EventTypeSessionRevoked}},
			aud:       ssf.Audience{"urn:a", "urn:b"},
			delivered: []string{caep.EventTypeSessionRevoked},
			poll:      true,
			profile:   set.ProfileHybrid,
			status:    ssf.StatusPaused,
		},
		{
			name:      "legacy alias and the RISC push URI",
			req:       StaticStreamRequest{ClientID: "receiver-a", Delivery: &ssf.Delivery{Method: "https://schemas.openid.net/secevent/risc/delivery-method/push", EndpointURL: pushURL}, EventsRequested: []string{ssf.LegacyEventTypeVerificationSSE, caep.EventTypeSessionRevoked}, Status: ssf.StatusDisabled},
			aud:       ssf.Audience{"receiver-a"},
			delivered: []string{ssf.EventTypeVerification, caep.EventTypeSessionRevoked},
			status:    ssf.StatusDisabled,
		},
	} {
		cfg, err := e.tr.CreateStaticStream(ctx, tc.req)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !cfg.Audience.Equal(tc.aud) || !slices.Equal(cfg.EventsDelivered, tc.delivered) {
			t.Errorf("%s: aud %v, events_delivered %v", tc.name, cfg.Audience, cfg.EventsDelivered)
		}
		if tc.poll && (cfg.Delivery.Method != ssf.DeliveryPoll || cfg.Delivery.EndpointURL != "https://tr.example.com/ssf/poll/"+cfg.StreamID) {
			t.Errorf("%s: poll delivery %+v", tc.name, cfg.Delivery)
		}
		if !tc.poll && cfg.Delivery.Method != ssf.DeliveryPush {
			t.Errorf("%s: delivery %+v, want push", tc.name, cfg.Delivery)
		}
		s, err := e.store.GetStream(ctx, cfg.StreamID)
		if err != nil {
			t.Fatal(err)
		}
		if s.Profile != tc.profile || s.Status != tc.status {
			t.Errorf("%s: profile %s status %s, want %s %s", tc.name, s.Profile, s.Status, tc.profile, tc.status)
		}
		if n := len(leaseAll(t, e.store, cfg.StreamID, e.clock.Now())); n != 0 {
			t.Errorf("%s: %d SETs queued at creation", tc.name, n)
		}
	}
}

// Every refusal of CreateStaticStream is a 400 naming the member, and changes nothing.
func TestCreateStaticStreamRefusals(t *testing.T) {
	e := newEnv(t, "https://tr.example.com", nil)
	ok := func(f func(*StaticStreamRequest)) StaticStreamRequest {
		r := oktaRequest(pushURL)
		f(&r)
		return r
	}
	for _, tc := range []struct {
		name string
		req  StaticStreamRequest
		says []string
	}{
		{"no client", ok(func(r *StaticStreamRequest) { r.ClientID = "" }), []string{`"client_id" is required`}},
		{"client with space", ok(func(r *StaticStreamRequest) { r.ClientID = " okta" }), []string{`"client_id"`, "white space"}},
		{"no delivery", ok(func(r *StaticStreamRequest) { r.Delivery = nil }), []string{`"delivery" is required`}},
		{"push without endpoint", ok(func(r *StaticStreamRequest) { r.Delivery.EndpointURL = "" }), []string{"delivery.endpoint_url", "required"}},
		{"push over http", ok(func(r *StaticStreamRequest) { r.Delivery.EndpointURL = "http://127.0.0.1/x" }), []string{"delivery.endpoint_url"}},
		{"relative endpoint", ok(func(r *StaticStreamRequest) { r.Delivery.EndpointURL = "/events" }), []string{"delivery.endpoint_url"}},
		{"unknown method", ok(func(r *StaticStreamRequest) { r.Delivery.Method = "urn:example:carrier-pigeon" }), []string{"delivery.method", "carrier-pigeon"}},
		{"no method", ok(func(r *StaticStreamRequest) { r.Delivery.Method = "" }), []string{"delivery.method"}},
		{"poll with endpoint", ok(func(r *StaticStreamRequest) { r.Delivery.Method = ssf.DeliveryPoll }), []string{`"delivery"`, "poll", "endpoint_url"}},
		{"delivery extra", ok(func(r *StaticStreamRequest) { r.Delivery.Extra = map[string]json.RawMessage{"format": []byte(`"x"`)} }), []string{`"delivery"`, "format"}},
		{"empty events", ok(func(r *StaticStreamRequest) { r.EventsRequested = []string{} }), []string{`"events_requested" is empty`}},
		{"empty event type", ok(func(r *StaticStreamRequest) { r.EventsRequested = []string{""} }), []string{"events_requested[0]"}},
		{"unsupported event", ok(func(r *StaticStreamRequest) {
			r.EventsRequested = []string{caep.EventTypeSessionRevoked, "https://example.com/nope"}
		}), []string{`"events_requested[1]"`, "https://example.com/nope", "not an event type this transmitter supports"}},
		{"empty aud", ok(func(r *StaticStreamRequest) { r.Audience = ssf.Audience{} }), []string{`"aud" is empty`}},
		{"empty aud value", ok(func(r *StaticStreamRequest) { r.Audience = ssf.Audience{oktaOrg, ""} }), []string{`"aud[1]" is empty`}},
		{"unknown profile", ok(func(r *StaticStreamRequest) { r.Profile = "okta" }), []string{`"profile" "okta" is unknown`}},
		{"unknown status", ok(func(r *StaticStreamRequest) { r.Status = "on" }), []string{`"status" "on" is unknown`}},
		{"several problems", ok(func(r *StaticStreamRequest) { r.ClientID, r.Profile = "", "x" }), []string{`"client_id"`, `"profile"`}},
	} {
		before := takeSnapshot(t, e.store, e.clock.Now())
		_, err := e.tr.CreateStaticStream(t.Context(), tc.req)
		if ssf.HTTPStatus(err) != http.StatusBadRequest || !errors.Is(err, ssf.ErrBadRequest) {
			t.Errorf("%s: %v, want 400", tc.name, err)
			continue
		}
		for _, s := range tc.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %q does not say %q", tc.name, err, s)
			}
		}
		if d := before.diff(takeSnapshot(t, e.store, e.clock.Now())); d != "" {
			t.Errorf("%s changed the store:\n%s", tc.name, d)
		}
	}
}

// SEC-17: the push endpoint of a static stream passes the same SSRF guard as a
// Receiver's; the operator cannot point the Transmitter at internal addresses unless the
// push policy allows them.
func TestCreateStaticStreamSSRFGuard(t *testing.T) {
	e := newEnv(t, "https://tr.example.com", func(c *Config) { c.Push = PushPolicy{} })
	for _, ep := range []string{"https://127.0.0.1/events", "https://10.1.2.3/events", "https://[fd00::1]/events", "https://169.254.169.254/latest"} {
		before := takeSnapshot(t, e.store, e.clock.Now())
		_, err := e.tr.CreateStaticStream(t.Context(), oktaRequest(ep))
		if ssf.HTTPStatus(err) != http.StatusBadRequest || !strings.Contains(errString(err), "SSRF guard") || !strings.Contains(errString(err), "delivery.endpoint_url") {
			t.Errorf("%s: %v, want 400 from the SSRF guard", ep, err)
		}
		if d := before.diff(takeSnapshot(t, e.store, e.clock.Now())); d != "" {
			t.Errorf("%s changed the store:\n%s", ep, d)
		}
	}
	if _, err := e.tr.CreateStaticStream(t.Context(), oktaRequest("https://203.0.113.7/security/api/v1/security-events")); err != nil {
		t.Errorf("a public address: %v", err)
	}
}

// POST <base>/admin/streams: 201 with the stored configuration, the admin token only,
// every refusal a 400 JSON error naming the member; GET on the same path still lists.
func TestAdminStaticStreamHTTP(t *testing.T) {
	s := newServer(t, "/t", nil)
	admin := func(method, token string, body any) (int, http.Header, []byte) {
		return s.do(t, method, s.url("/admin/streams"), token, body)
	}
	body := `{"client_id":"receiver-a","delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"` + pushURL + `","authorization_header":"Bearer okta-secret"},` +
		`"events_requested":["` + caep.EventTypeSessionRevoked + `"],"aud":"` + oktaOrg + `","description":"Okta","profile":"legacy","status":"enabled"}`

	// Authorization: the admin token only.
	for _, tc := range []struct{ name, token string }{{"no token", ""}, {"receiver token", tokenA}, {"wrong token", "nope"}} {
		status, h, b := admin(http.MethodPost, tc.token, body)
		checkError(t, tc.name, status, h, b, http.StatusUnauthorized)
		if h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", tc.name)
		}
	}
	if list := takeSnapshot(t, s.store, s.clock.Now()).Streams; len(list) != 0 {
		t.Fatalf("an unauthorized request created %d streams", len(list))
	}

	status, h, b := admin(http.MethodPost, tokenAdmin, body)
	var cfg ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(b, &cfg) != nil {
		t.Fatalf("create: %d %s", status, b)
	}
	if !strings.HasPrefix(h.Get("Content-Type"), "application/json") || h.Get("Cache-Control") != "no-store" {
		t.Errorf("create: Content-Type %q, Cache-Control %q", h.Get("Content-Type"), h.Get("Cache-Control"))
	}
	stored, err := s.store.GetStream(t.Context(), cfg.StreamID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(&stored.Config, &cfg); d != "" {
		t.Errorf("answer differs from the stored configuration (-stored +answer):\n%s", d)
	}
	if cfg.Issuer != s.issuer || !cfg.Audience.Equal(ssf.Audience{oktaOrg}) || stored.Profile != set.ProfileLegacy || cfg.InactivityTimeout != nil {
		t.Errorf("create answered %s", b)
	}

	// GET still lists, now with the static stream, without its authorization header.
	status, _, b = admin(http.MethodGet, tokenAdmin, nil)
	var list []StreamInfo
	if status != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list) != 1 {
		t.Fatalf("list: %d %s", status, b)
	}
	if got := list[0]; got.StreamID != cfg.StreamID || got.ClientID != "receiver-a" || got.Profile != "legacy" || got.EndpointURL != pushURL || strings.Contains(string(b), "okta-secret") {
		t.Errorf("listed %s", b)
	}
	// The owner sees it through the management API.
	status, _, b = s.do(t, http.MethodGet, s.url("/ssf/stream?stream_id="+cfg.StreamID), tokenA, nil)
	if status != http.StatusOK || !strings.Contains(string(b), cfg.StreamID) {
		t.Errorf("the owner reads its static stream: %d %s", status, b)
	}
	status, h, b = admin(http.MethodPut, tokenAdmin, body)
	checkError(t, "PUT", status, h, b, http.StatusMethodNotAllowed)
	if h.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q, want GET, POST", h.Get("Allow"))
	}

	for _, tc := range []struct {
		name, body string
		says       string
	}{
		{"empty body", ``, "body"},
		{"not JSON", `{`, "not valid"},
		{"array", `[]`, "not valid"},
		{"trailing data", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"}} {}`, "after the JSON object"},
		{"unknown member", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"},"stream_id":"x"}`, "stream_id"},
		{"client_id not a string", `{"client_id":7,"delivery":{"method":"urn:ietf:rfc:8936"}}`, "client_id"},
		{"no client_id", `{"delivery":{"method":"urn:ietf:rfc:8936"}}`, "client_id"},
		{"no delivery", `{"client_id":"a"}`, "delivery"},
		{"delivery not an object", `{"client_id":"a","delivery":"push"}`, "delivery"},
		{"delivery without method", `{"client_id":"a","delivery":{"endpoint_url":"https://203.0.113.7/x"}}`, "method"},
		{"push without endpoint_url", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8935"}}`, "endpoint_url"},
		{"delivery unknown member", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936","format":"x"}}`, "format"},
		{"events not strings", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"},"events_requested":[1]}`, "events_requested"},
		{"unsupported event", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"},"events_requested":["https://example.com/x"]}`, "events_requested[0]"},
		{"aud a number", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"},"aud":5}`, "aud"},
		{"aud empty array", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"},"aud":[]}`, "aud"},
		{"unknown profile", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"},"profile":"okta-receiver"}`, "profile"},
		{"profile not a string", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"},"profile":1}`, "profile"},
		{"unknown status", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"},"status":"off"}`, "status"},
		{"private push endpoint", `{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://10.0.0.1/x"}}`, "SSRF guard"},
	} {
		before := takeSnapshot(t, s.store, s.clock.Now())
		status, h, b := admin(http.MethodPost, tokenAdmin, tc.body)
		if e := checkError(t, tc.name, status, h, b, http.StatusBadRequest); !strings.Contains(e.Description, tc.says) {
			t.Errorf("%s: %q does not say %q", tc.name, e.Description, tc.says)
		}
		if d := before.diff(takeSnapshot(t, s.store, s.clock.Now())); d != "" {
			t.Errorf("%s changed the store:\n%s", tc.name, d)
		}
	}
}

// vendors §5.2 item 8 end to end: a static push stream created through the operator
// API receives the next emitted event as a legacy SET with the operator's aud, with no
// verification SET before it and no Authorization header when none was configured
// (Okta takes none, vendors §2.1).
func TestStaticStreamPushEndToEnd(t *testing.T) {
	type received struct {
		auth, body string
	}
	got := make(chan received, 16)
	rcv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- received{auth: r.Header.Get("Authorization"), body: string(body)}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer rcv.Close()

	s := newServer(t, "", func(c *Config) { c.Now = time.Now })
	engine, err := push.New(push.Config{
		Store:                 s.store,
		Transport:             rcv.Client().Transport.(*http.Transport),
		InsecureAllowLoopback: true,
		Logger:                discard(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- engine.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("push engine: %v", err)
		}
	}()

	body := `{"client_id":"okta-acme","delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"` + rcv.URL + `/security/api/v1/security-events"},` +
		`"events_requested":["` + caep.EventTypeSessionRevoked + `"],"aud":"` + oktaOrg + `","profile":"legacy"}`
	status, _, b := s.do(t, http.MethodPost, s.url("/admin/streams"), tokenAdmin, body)
	var cfg ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(b, &cfg) != nil {
		t.Fatalf("create: %d %s", status, b)
	}
	select {
	case p := <-got:
		t.Fatalf("pushed before any event was emitted (a verification SET?): %s", p.body)
	case <-time.After(300 * time.Millisecond):
	}
	status, _, b = s.do(t, http.MethodPost, s.url("/admin/events"), tokenAdmin,
		`{"subject":{"format":"email","email":"alice@example.com"},"event_type":"`+caep.EventTypeSessionRevoked+`","payload":{"event_timestamp":1750980770}}`)
	if status != http.StatusOK || !strings.Contains(string(b), cfg.StreamID) {
		t.Fatalf("emit: %d %s", status, b)
	}
	var p received
	select {
	case p = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("nothing pushed")
	}
	if p.auth != "" {
		t.Errorf("pushed with Authorization %q, want none", p.auth)
	}
	v, err := set.NewVerifier(s.tr.cfg.Keys, set.Config{Issuer: s.issuer, Audiences: []string{oktaOrg}, Compatibility: set.Compatibility{InEventSubject: true}})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := v.Verify(ctx, p.body)
	if err != nil {
		t.Fatalf("the pushed SET does not verify for aud %s: %v", oktaOrg, err)
	}
	if tok.Event.Type() != caep.EventTypeSessionRevoked || !subject.Equal(tok.Subject, alice) || !tok.Audience.Equal(ssf.Audience{oktaOrg}) {
		t.Errorf("pushed %s about %v to %v", tok.Event.Type(), tok.Subject, tok.Audience)
	}
	claims := claimsOf(t, p.body)
	if _, ok := claims["sub_id"]; ok {
		t.Errorf("the legacy SET has sub_id: %s", claims["sub_id"])
	}
	if string(claims["aud"]) != `"`+oktaOrg+`"` {
		t.Errorf("aud %s, want the org URL as a string", claims["aud"])
	}
}
