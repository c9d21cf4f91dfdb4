package transmitter

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
)

// FuzzManagementRequest sends arbitrary bodies and queries to every management
// endpoint: the handler never panics, never answers 5xx, and answers every refusal
// with a JSON error and Cache-Control: no-store.
func FuzzManagementRequest(f *testing.F) {
	for _, seed := range []struct {
		op          uint8
		query, body string
	}{
		{0, "", `{}`},
		{0, "", `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://127.0.0.1/x","authorization_header":"Bearer x"},"events_requested":["a"]}`},
		{1, "stream_id=x", ``},
		{2, "", `{"stream_id":"x","description":"d","aud":["a","b"]}`},
		{3, "stream_id=x", `{"stream_id":"y"}`},
		{4, "stream_id=x", ``},
		{5, "stream_id=x", ``},
		{6, "", `{"stream_id":"x","status":"paused","reason":"r"}`},
		{7, "", `{"stream_id":"x","subject":{"format":"complex","user":{"format":"email","email":"a@b.c"}},"verified":false}`},
		{8, "", `{"stream_id":"x","subject":{"format":"opaque","id":"x"}}`},
		{9, "", `{"stream_id":"x","state":"s"}`},
		{0, "access_token=t", `{"delivery":null}`},
	} {
		f.Add(seed.op, seed.query, seed.body)
	}
	e := newEnv(f, "https://tr.example.com", nil)
	h := e.tr.Handler()
	ops := []struct{ method, path string }{
		{"POST", "/ssf/stream"}, {"GET", "/ssf/stream"}, {"PATCH", "/ssf/stream"}, {"PUT", "/ssf/stream"},
		{"DELETE", "/ssf/stream"}, {"GET", "/ssf/status"}, {"POST", "/ssf/status"},
		{"POST", "/ssf/subjects:add"}, {"POST", "/ssf/subjects:remove"}, {"POST", "/ssf/verify"},
	}
	f.Fuzz(func(t *testing.T, op uint8, query, body string) {
		o := ops[int(op)%len(ops)]
		target := o.path
		if query != "" {
			target += "?" + query
		}
		r, err := http.NewRequest(o.method, "https://tr.example.com"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Authorization", "Bearer "+tokenA)
		w := httptest.NewRecorder()
		e.clock.Advance(time.Minute) // keep verification out of its rate limit
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", o.method, target, body, w.Code, w.Body)
		}
		if w.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("no Cache-Control: no-store on %d", w.Code)
		}
		if w.Code >= 400 {
			var e struct {
				Error string `json:"error"`
			}
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("%d without a JSON error: %s", w.Code, w.Body)
			}
		}
	})
}

// FuzzOAuthToken: arbitrary bearer tokens never authenticate and never panic.
func FuzzOAuthToken(f *testing.F) {
	as := newAuthServer(f)
	clk := newClock()
	good := as.token(f, clk.Now(), "aud", nil)
	f.Add(good)
	f.Add(good[:len(good)-2] + "AA")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add("a.b.c")
	o := as.authenticator(f, "aud", clk.Now)
	f.Fuzz(func(t *testing.T, tok string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Authorization"] = []string{"Bearer " + tok}
		c, err := o.Authenticate(r)
		if err == nil && strings.TrimSpace(tok) != good {
			t.Fatalf("token %q authenticated as %v", tok, c)
		}
	})
}

// FuzzAdminEvent sends arbitrary bodies to the operator's emit endpoint: never a panic
// or 5xx.
func FuzzAdminEvent(f *testing.F) {
	f.Add(`{"subject":{"format":"email","email":"a@example.com"},"event_type":"https://schemas.openid.net/secevent/caep/event-type/session-revoked","payload":{}}`)
	f.Add(`{"subject":{"format":"email","email":"a@example.com"},"event_type":"https://schemas.openid.net/secevent/caep/event-type/credential-change","payload":{"credential_type":"password","change_type":"x"}}`)
	f.Add(`{"subject":null,"event_type":"","payload":null,"txn":""}`)
	e := newEnv(f, "https://tr.example.com", nil)
	if _, err := e.tr.CreateStream(WithClient(f.Context(), clientA), ssf.StreamConfig{}); err != nil {
		f.Fatal(err)
	}
	h := e.tr.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		r, _ := http.NewRequest("POST", "https://tr.example.com/admin/events", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tokenAdmin)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 {
			t.Fatalf("%q: %d %s", body, w.Code, w.Body)
		}
	})
}

// FuzzAdminStaticStream sends arbitrary bodies to the operator's static stream create
// (vendors §5.2 item 8): never a panic or 5xx; a refusal is a JSON error; a 201 answers
// a complete, valid configuration that the store holds. Host names never reach DNS.
func FuzzAdminStaticStream(f *testing.F) {
	f.Add(`{"client_id":"okta","delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://127.0.0.1/security/api/v1/security-events"},"events_requested":["https://schemas.openid.net/secevent/caep/event-type/session-revoked"],"aud":"https://acme.okta.example","profile":"legacy"}`)
	f.Add(`{"client_id":"a","delivery":{"method":"urn:ietf:rfc:8936"},"aud":["x","y"],"status":"paused","description":"d"}`)
	f.Add(`{"client_id":"a","delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"https://rcv.example.com/x","authorization_header":"Bearer t"},"profile":"HYBRID","status":"disabled"}`)
	f.Add(`{"client_id":"","delivery":null,"events_requested":[],"aud":[],"profile":"x","status":"on"}`)
	noDNS := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no DNS in tests")
	}}
	e := newEnv(f, "https://tr.example.com", func(c *Config) { c.Push.Resolver = noDNS })
	h := e.tr.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		r, _ := http.NewRequest("POST", "https://tr.example.com/admin/streams", strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tokenAdmin)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("%q: %d %s", body, w.Code, w.Body)
		case w.Code == http.StatusCreated:
			var cfg ssf.StreamConfig
			if err := json.Unmarshal(w.Body.Bytes(), &cfg); err != nil {
				t.Fatalf("%q: 201 with %s: %v", body, w.Body, err)
			}
			if err := cfg.ValidateWith(ssf.ValidateOptions{}); err != nil {
				t.Fatalf("%q: 201 with an invalid configuration %s: %v", body, w.Body, err)
			}
			if _, err := e.store.GetStream(context.Background(), cfg.StreamID); err != nil {
				t.Fatalf("%q: created stream not stored: %v", body, err)
			}
		default:
			var e struct {
				Error string `json:"error"`
			}
			if json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error == "" {
				t.Fatalf("%d without a JSON error: %s", w.Code, w.Body)
			}
		}
	})
}
