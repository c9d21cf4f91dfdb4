package transmitter

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/risc"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
)

func TestNewConfig(t *testing.T) {
	st := memory.New()
	ks := sharedKey(t)
	ok := Config{Issuer: "https://tr.example.com", Store: st, Keys: ks}
	for _, tc := range []struct {
		name  string
		tweak func(*Config)
		says  string // empty: New succeeds
	}{
		{"minimal", func(*Config) {}, ""},
		{"http issuer, insecure", func(c *Config) { c.Issuer, c.InsecureAllowHTTPIssuer = "http://127.0.0.1:8080", true }, ""},
		{"no store", func(c *Config) { c.Store = nil }, "Store"},
		{"no keys", func(c *Config) { c.Keys = nil }, "Keys"},
		{"no issuer", func(c *Config) { c.Issuer = "" }, "Issuer"},
		{"http issuer", func(c *Config) { c.Issuer = "http://tr.example.com" }, "https"},
		{"issuer with query", func(c *Config) { c.Issuer = "https://tr.example.com/?a=b" }, "query"},
		{"issuer with fragment", func(c *Config) { c.Issuer = "https://tr.example.com/#x" }, "fragment"},
		{"issuer with braces", func(c *Config) { c.Issuer = "https://tr.example.com/{t}" }, "{"},
		{"deprecated type", func(c *Config) { c.EventsSupported = []string{risc.EventTypeSessionsRevoked} }, "deprecated"},
		{"alias type", func(c *Config) { c.EventsSupported = []string{ssf.LegacyEventTypeVerificationSSE} }, "alias"},
		{"empty type", func(c *Config) { c.EventsSupported = []string{""} }, "empty"},
		{"default subjects", func(c *Config) { c.DefaultSubjects = "SOME" }, "DefaultSubjects"},
		{"inactivity status", func(c *Config) { c.InactivityStatus = ssf.StatusEnabled }, "InactivityStatus"},
		{"negative inactivity", func(c *Config) { c.InactivityTimeout = -time.Second }, "InactivityTimeout"},
		{"bad scheme", func(c *Config) { c.AuthorizationSchemes = []ssf.AuthorizationScheme{{SpecURN: "oauth"}} }, "metadata"},
	} {
		cfg := ok
		tc.tweak(&cfg)
		_, err := New(cfg)
		switch {
		case tc.says == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.says != "" && (err == nil || !strings.Contains(err.Error(), tc.says)):
			t.Errorf("%s: error %v, want one saying %q", tc.name, err, tc.says)
		}
	}
	tr, err := New(ok)
	if err != nil {
		t.Fatal(err)
	}
	sup := tr.EventsSupported()
	for _, want := range []string{caep.EventTypeSessionRevoked, risc.EventTypeAccountDisabled, ssf.EventTypeVerification, ssf.EventTypeStreamUpdated} {
		if !slices.Contains(sup, want) {
			t.Errorf("default events_supported lacks %s", want)
		}
	}
	if slices.Contains(sup, risc.EventTypeSessionsRevoked) {
		t.Error("default events_supported has the deprecated RISC sessions-revoked")
	}
}

// Vendors §5.2 item 4: Receivers that send iss, aud and the ID1 "format" on create.
func TestCreateLegacyMembers(t *testing.T) {
	s := newServer(t, "", nil)
	body := `{"iss":"` + s.issuer + `","aud":["https://b.example/aud"],"format":"iss_sub","delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"` + pushURL + `"},"description":"` + strings.Repeat("é", 600) + `"}`
	status, _, resp := s.do(t, http.MethodPost, s.url("/ssf/stream"), tokenB, body)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, resp)
	}
	var cfg ssf.StreamConfig
	if err := json.Unmarshal(resp, &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Extra != nil || strings.Contains(string(resp), `"format"`) {
		t.Errorf("the ID1 format member is returned: %s", resp)
	}
	if cfg.Delivery.Method != ssf.DeliveryPush || cfg.Delivery.EndpointURL != pushURL {
		t.Errorf("legacy delivery not normalized: %v", cfg.Delivery)
	}
	if !cfg.Audience.Equal(ssf.Audience{"https://b.example/aud", "urn:b"}) {
		t.Errorf("aud %v, want the client's audience", cfg.Audience)
	}
	if len(cfg.Description) != maxDescription || !strings.HasSuffix(cfg.Description, "é") {
		t.Errorf("description of %d bytes, want it cut at %d on a character boundary", len(cfg.Description), maxDescription)
	}
}

// AcceptLegacySubjects: legacy shapes are stored in SSF 1.0 form.
func TestAcceptLegacySubjects(t *testing.T) {
	s := newServer(t, "", func(c *Config) { c.AcceptLegacySubjects = true; c.DefaultSubjects = ssf.DefaultSubjectsNone })
	status, _, resp := s.do(t, http.MethodPost, s.url("/ssf/stream"), tokenA, `{}`)
	var cfg ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(resp, &cfg) != nil {
		t.Fatal(status)
	}
	status, _, resp = s.do(t, http.MethodPost, s.url("/ssf/subjects:add"), tokenA, `{"stream_id":"`+cfg.StreamID+`","subject":{"format":"phone","phone_number":"+1 206 555 0100"}}`)
	if status != http.StatusOK {
		t.Fatalf("legacy add: %d %s", status, resp)
	}
	subs, err := s.store.ListSubjects(t.Context(), cfg.StreamID)
	if err != nil || len(subs) != 1 || string(subs[0].Subject) != `{"format":"phone_number","phone_number":"+12065550100"}` || !subs[0].Included || !subs[0].Verified {
		t.Fatalf("stored %v, %v", subs, err)
	}
	res, err := s.tr.Emit(t.Context(), &subject.PhoneNumber{PhoneNumber: "+12065550100"}, sessionRevoked(), EmitOptions{})
	if err != nil || len(res.SETs) != 1 {
		t.Errorf("emit to the added phone number: %v, %v", res, err)
	}
}

// SSF-STREAM-13: every call that references a stream is Receiver activity; refused
// calls and the Transmitter's own actions are not.
func TestActivity(t *testing.T) {
	e := newEnv(t, "https://tr.example.com", func(c *Config) { c.MinVerificationInterval = -1 })
	m := asClient{t: e.tr, c: clientA}
	cfg := mustCreate(t, m, ssf.StreamConfig{})
	id := cfg.StreamID
	desc := "d"
	email := &subject.Email{Email: "a@example.com"}
	ctx := context.Background()
	last := func() time.Time {
		s, err := e.store.GetStream(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return s.LastActivityAt
	}
	for _, op := range []struct {
		name string
		fn   func() error
		want bool
	}{
		{"GetStream", func() error { _, err := m.GetStream(ctx, id); return err }, true},
		{"ListStreams", func() error { _, err := m.ListStreams(ctx); return err }, true},
		{"UpdateStream", func() error {
			_, err := m.UpdateStream(ctx, ssf.StreamUpdate{StreamID: id, Description: &desc})
			return err
		}, true},
		{"ReplaceStream", func() error { _, err := m.ReplaceStream(ctx, ssf.StreamConfig{StreamID: id}); return err }, true},
		{"GetStatus", func() error { _, err := m.GetStatus(ctx, id); return err }, true},
		{"UpdateStatus", func() error {
			_, err := m.UpdateStatus(ctx, ssf.StreamStatus{StreamID: id, Status: ssf.StatusEnabled})
			return err
		}, true},
		{"AddSubject", func() error { return m.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: id, Subject: email}) }, true},
		{"RemoveSubject", func() error { return m.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: id, Subject: email}) }, true},
		{"Verify", func() error { return m.Verify(ctx, ssf.VerifyRequest{StreamID: id}) }, true},
		{"refused update", func() error {
			_, err := m.UpdateStream(ctx, ssf.StreamUpdate{StreamID: id, Audience: ssf.Audience{"x"}})
			if err == nil {
				t.Error("update with another aud accepted")
			}
			return nil
		}, false},
		{"other client", func() error { _, _ = (asClient{t: e.tr, c: clientB}).GetStream(ctx, id); return nil }, false},
		{"transmitter status", func() error { _, err := e.tr.SetStatus(ctx, id, ssf.StatusEnabled, "x"); return err }, false},
		{"transmitter verification", func() error { return e.tr.SendVerification(ctx, id) }, false},
	} {
		before := last()
		e.clock.Advance(time.Minute)
		if err := op.fn(); err != nil {
			t.Fatalf("%s: %v", op.name, err)
		}
		got := last()
		if op.want && !got.Equal(e.clock.Now()) {
			t.Errorf("%s: LastActivityAt %v, want now %v", op.name, got, e.clock.Now())
		}
		if !op.want && !got.Equal(before) {
			t.Errorf("%s: LastActivityAt moved to %v", op.name, got)
		}
	}
}

// The metrics hooks are called.
func TestHooks(t *testing.T) {
	var calls []string
	e := newEnv(t, "https://tr.example.com", func(c *Config) {
		c.Hooks = Hooks{
			EventAccepted: func(typ string, n int) {
				calls = append(calls, "accepted:"+typ[strings.LastIndex(typ, "/")+1:]+":"+string(rune('0'+n)))
			},
			SETQueued:     func(_, typ string) { calls = append(calls, "queued:"+typ[strings.LastIndex(typ, "/")+1:]) },
			StreamCreated: func(_, client string) { calls = append(calls, "created:"+client) },
			StreamDeleted: func(_, client string) { calls = append(calls, "deleted:"+client) },
		}
	})
	m := asClient{t: e.tr, c: clientA}
	cfg := mustCreate(t, m, ssf.StreamConfig{})
	if _, err := e.tr.Emit(t.Context(), alice, sessionRevoked(), EmitOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.UpdateStatus(t.Context(), ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusPaused}); err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteStream(t.Context(), cfg.StreamID); err != nil {
		t.Fatal(err)
	}
	want := "created:receiver-a queued:session-revoked accepted:session-revoked:1 queued:stream-updated deleted:receiver-a"
	if got := strings.Join(calls, " "); got != want {
		t.Errorf("hooks: %s\nwant   %s", got, want)
	}
}

// storeDown is a store whose every call fails as closed.
type storeDown struct{ store.Store }

func (storeDown) Ping(context.Context) error { return store.ErrClosed }
func (storeDown) ListStreams(context.Context, store.StreamFilter) ([]*store.Stream, error) {
	return nil, store.ErrClosed
}

func TestHealth(t *testing.T) {
	s := newServer(t, "", nil)
	if status, _, body := s.do(t, http.MethodGet, s.srv.URL+"/healthz", "", nil); status != 200 || string(body) != "ok\n" {
		t.Errorf("healthz: %d %q", status, body)
	}
	if status, _, _ := s.do(t, http.MethodGet, s.srv.URL+"/readyz", "", nil); status != 200 {
		t.Errorf("readyz: %d", status)
	}
	down := newServer(t, "", func(c *Config) { c.Store = storeDown{c.Store} })
	if status, _, _ := down.do(t, http.MethodGet, down.srv.URL+"/readyz", "", nil); status != 503 {
		t.Errorf("readyz with the store down: %d, want 503", status)
	}
	status, h, body := down.do(t, http.MethodGet, down.url("/ssf/stream"), tokenA, nil)
	checkError(t, "list with the store down", status, h, body, http.StatusServiceUnavailable)
}

// Logs never carry bearer tokens, push authorization headers or key material.
func TestNoSecretsInLogs(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	s := newServer(t, "", func(c *Config) {
		c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	status, _, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), tokenA, `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"`+pushURL+`","authorization_header":"Bearer push-secret-value"}}`)
	var cfg ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(body, &cfg) != nil {
		t.Fatal(status)
	}
	s.do(t, http.MethodGet, s.url("/ssf/stream"), "wrong-secret-token", nil)
	s.do(t, http.MethodGet, s.url("/ssf/stream?access_token=query-secret-token"), "", nil)
	s.do(t, http.MethodPatch, s.url("/ssf/stream"), tokenA, `{"stream_id":"`+cfg.StreamID+`","delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://10.0.0.1/x","authorization_header":"Bearer other-secret"}}`)
	s.do(t, http.MethodPost, s.url("/admin/events"), tokenAdmin, `{"subject":{"format":"email","email":"a@example.com"},"event_type":"`+caep.EventTypeSessionRevoked+`"}`)
	if _, err := s.tr.SetStatus(t.Context(), cfg.StreamID, ssf.StatusPaused, "x"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	logs := buf.String()
	mu.Unlock()
	if !strings.Contains(logs, "stream created") {
		t.Fatalf("nothing logged: %s", logs)
	}
	for _, secret := range []string{"push-secret-value", "other-secret", tokenA, "wrong-secret-token", "query-secret-token", tokenAdmin, "PRIVATE KEY"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q:\n%s", secret, logs)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
