package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/risc"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
)

var testGoogleAud = []string{"123-abc.apps.googleusercontent.com", "456-def.apps.googleusercontent.com"}

// googleRequest is one request the fake Google server saw.
type googleRequest struct {
	Method, Path, RawQuery, ContentType string
	JWT                                 *verifiedJWT
	Body                                string
}

// fakeGoogle is Google's RISC management API as vendors §2.3 documents it: one stream,
// the shapes of stream:update, stream/status:update and stream:verify. It checks the
// service-account JWT of every request with the public key (401 otherwise, in Google's
// error shape) and records each request.
type fakeGoogle struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	stream   json.RawMessage // the stored configuration; nil: none
	status   string
	requests []googleRequest
	override func(w http.ResponseWriter, r *http.Request) bool
	now      func() time.Time
}

func newFakeGoogle(t *testing.T) *fakeGoogle {
	g := &fakeGoogle{t: t, status: "enabled", now: time.Now}
	g.srv = httptest.NewTLSServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGoogle) base() string { return g.srv.URL + "/v1beta" }

func (g *fakeGoogle) setOverride(fn func(w http.ResponseWriter, r *http.Request) bool) {
	g.mu.Lock()
	g.override = fn
	g.mu.Unlock()
}

func (g *fakeGoogle) setStream(raw string) {
	g.mu.Lock()
	g.stream = json.RawMessage(raw)
	g.mu.Unlock()
}

func (g *fakeGoogle) seen() []googleRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]googleRequest(nil), g.requests...)
}

func googleError(w http.ResponseWriter, code int, status, message string) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": message, "status": status}})
}

func (g *fakeGoogle) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := googleRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"), Body: string(body)}
	jwt, jerr := verifyServiceAccountJWT(r.Header.Get("Authorization"), &testSAPriv().PublicKey)
	rec.JWT = jwt
	g.mu.Lock()
	g.requests = append(g.requests, rec)
	override := g.override
	g.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if override != nil && override(w, r) {
		return
	}
	if jerr != nil {
		googleError(w, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
		return
	}
	if jwt.Claims["aud"] != GoogleRISCAudience || jwt.Claims["iss"] != testSAEmail || jwt.Claims["sub"] != testSAEmail || jwt.Kid != testSAKeyID {
		googleError(w, 401, "UNAUTHENTICATED", "wrong claims")
		return
	}
	if exp, _ := jwt.Claims["exp"].(float64); int64(exp) < g.now().Unix() {
		googleError(w, 401, "UNAUTHENTICATED", "expired")
		return
	}
	strictJSON := func(v any) bool {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			googleError(w, 400, "INVALID_ARGUMENT", err.Error())
			return false
		}
		return true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch r.Method + " " + r.URL.Path {
	case "GET /v1beta/stream":
		if g.stream == nil {
			googleError(w, 404, "NOT_FOUND", "Stream config not found.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(g.stream)
	case "POST /v1beta/stream:update":
		var req struct {
			Delivery struct {
				DeliveryMethod string `json:"delivery_method"`
				URL            string `json:"url"`
			} `json:"delivery"`
			EventsRequested []string `json:"events_requested"`
		}
		if !strictJSON(&req) {
			return
		}
		if req.Delivery.DeliveryMethod != ssf.LegacyDeliveryPush || !strings.HasPrefix(req.Delivery.URL, "https://") {
			googleError(w, 400, "INVALID_ARGUMENT", "Invalid delivery.")
			return
		}
		g.stream = append(json.RawMessage(nil), body...)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}\n")
	case "GET /v1beta/stream/status":
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"status":%q}`, g.status)
	case "POST /v1beta/stream/status:update":
		var req struct {
			Status string `json:"status"`
		}
		if !strictJSON(&req) {
			return
		}
		if req.Status != "enabled" && req.Status != "disabled" {
			googleError(w, 400, "INVALID_ARGUMENT", "Invalid status.")
			return
		}
		g.status = req.Status
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"status":%q}`, g.status)
	case "POST /v1beta/stream:verify":
		var req struct {
			State string `json:"state"`
		}
		if !strictJSON(&req) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	default:
		googleError(w, 404, "NOT_FOUND", "no such method")
	}
}

func newTestGoogleClient(t *testing.T, g *fakeGoogle, mod func(*GoogleRISCConfig)) *GoogleRISCClient {
	t.Helper()
	creds, err := NewServiceAccountCredentials(ServiceAccountCredentialsConfig{Key: testSAKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := GoogleRISCConfig{BaseURL: g.base(), Audience: testGoogleAud, Credentials: creds, HTTPClient: g.srv.Client()}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewGoogleRISCClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const testPushURL = "https://app.example.com/risc/push"

var testGoogleEvents = []string{risc.EventTypeAccountDisabled, risc.EventTypeSessionsRevoked, ssf.LegacyEventTypeVerificationRISC}

func googlePushRequest() ssf.StreamConfig {
	return ssf.StreamConfig{
		EventsRequested: testGoogleEvents,
		Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: testPushURL},
	}
}

// wantGoogleStream is the ssf.StreamConfig the client maps the project's stream to.
func wantGoogleStream(events []string, url string) *ssf.StreamConfig {
	return &ssf.StreamConfig{
		StreamID:        GoogleRISCStreamID,
		Issuer:          GoogleIssuer,
		Audience:        ssf.Audience(testGoogleAud),
		EventsRequested: events,
		EventsDelivered: events,
		Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: url},
	}
}

func jsonEq(t *testing.T, what, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: %q is not JSON: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Errorf("%s (-want +got):\n%s", what, diff)
	}
}

// TestGoogleRISC_EveryOperation: each ssf.Manager operation sends exactly the request
// of vendors §2.3 (method, path, body, service-account JWT) and maps the answer.
func TestGoogleRISC_EveryOperation(t *testing.T) {
	g := newFakeGoogle(t)
	states, err := NewVerificationStates(VerificationStatesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestGoogleClient(t, g, func(cfg *GoogleRISCConfig) { cfg.States = states })
	ctx := t.Context()
	events := []string(testGoogleEvents)
	pushBody := `{"delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"` + testPushURL + `"},"events_requested":["` + strings.Join(events, `","`) + `"]}`

	type step struct {
		name   string
		run    func() (any, error)
		want   any
		method string
		path   string
		body   string // "" means no body
	}
	newEvents := []string{risc.EventTypeAccountDisabled, ssf.LegacyEventTypeVerificationRISC}
	steps := []step{
		{"list (none)", func() (any, error) { return c.ListStreams(ctx) }, []ssf.StreamConfig{}, "GET", "/v1beta/stream", ""},
		{"create", func() (any, error) { return c.CreateStream(ctx, googlePushRequest()) }, wantGoogleStream(events, testPushURL), "POST", "/v1beta/stream:update", pushBody},
		{"get", func() (any, error) { return c.GetStream(ctx, GoogleRISCStreamID) }, wantGoogleStream(events, testPushURL), "GET", "/v1beta/stream", ""},
		{"get (empty id)", func() (any, error) { return c.GetStream(ctx, "") }, wantGoogleStream(events, testPushURL), "GET", "/v1beta/stream", ""},
		{"list", func() (any, error) { return c.ListStreams(ctx) }, []ssf.StreamConfig{*wantGoogleStream(events, testPushURL)}, "GET", "/v1beta/stream", ""},
		{"replace", func() (any, error) {
			req := *wantGoogleStream(newEvents, testPushURL+"2")
			req.EventsDelivered = nil
			return c.ReplaceStream(ctx, req)
		}, wantGoogleStream(newEvents, testPushURL+"2"), "POST", "/v1beta/stream:update",
			`{"delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"` + testPushURL + `2"},"events_requested":["` + strings.Join(newEvents, `","`) + `"]}`},
		{"update", func() (any, error) {
			return c.UpdateStream(ctx, ssf.StreamUpdate{StreamID: GoogleRISCStreamID, Delivery: &ssf.Delivery{Method: ssf.LegacyDeliveryPush, EndpointURL: testPushURL}})
		}, wantGoogleStream(newEvents, testPushURL), "POST", "/v1beta/stream:update",
			`{"delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"` + testPushURL + `"},"events_requested":["` + strings.Join(newEvents, `","`) + `"]}`},
		{"get status", func() (any, error) { return c.GetStatus(ctx, GoogleRISCStreamID) },
			&ssf.StreamStatus{StreamID: GoogleRISCStreamID, Status: ssf.StatusEnabled}, "GET", "/v1beta/stream/status", ""},
		{"disable", func() (any, error) {
			return c.UpdateStatus(ctx, ssf.StreamStatus{StreamID: GoogleRISCStreamID, Status: ssf.StatusDisabled, Reason: "maintenance"})
		}, &ssf.StreamStatus{StreamID: GoogleRISCStreamID, Status: ssf.StatusDisabled}, "POST", "/v1beta/stream/status:update", `{"status":"disabled"}`},
		{"enable", func() (any, error) { return c.UpdateStatus(ctx, ssf.StreamStatus{Status: ssf.StatusEnabled}) },
			&ssf.StreamStatus{StreamID: GoogleRISCStreamID, Status: ssf.StatusEnabled}, "POST", "/v1beta/stream/status:update", `{"status":"enabled"}`},
		{"verify with state", func() (any, error) {
			return nil, c.Verify(ctx, ssf.VerifyRequest{StreamID: GoogleRISCStreamID, State: "my-state"})
		}, nil, "POST", "/v1beta/stream:verify", `{"state":"my-state"}`},
		{"delete (disable)", func() (any, error) { return nil, c.DeleteStream(ctx, GoogleRISCStreamID) }, nil, "POST", "/v1beta/stream/status:update", `{"status":"disabled"}`},
	}
	for _, s := range steps {
		before := len(g.seen())
		got, err := s.run()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.want != nil {
			if diff := cmp.Diff(s.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", s.name, diff)
			}
		}
		reqs := g.seen()[before:]
		last := reqs[len(reqs)-1]
		if last.Method != s.method || last.Path != s.path || last.RawQuery != "" {
			t.Errorf("%s: sent %s %s?%s, want %s %s", s.name, last.Method, last.Path, last.RawQuery, s.method, s.path)
		}
		if s.body == "" {
			if last.Body != "" {
				t.Errorf("%s: body %q, want none", s.name, last.Body)
			}
		} else {
			jsonEq(t, s.name+" body", last.Body, s.body)
			if last.ContentType != "application/json" {
				t.Errorf("%s: Content-Type %q", s.name, last.ContentType)
			}
		}
		for _, r := range reqs {
			if r.JWT == nil {
				t.Errorf("%s: %s %s without a valid service-account JWT", s.name, r.Method, r.Path)
			}
		}
		if s.name == "update" && (len(reqs) != 2 || reqs[0].Method != "GET" || reqs[0].Path != "/v1beta/stream") {
			t.Errorf("update: GET, merge, POST expected; sent %+v", reqs)
		}
	}
	if !states.Check(GoogleRISCStreamID, "my-state") {
		t.Error("the given state was not recorded under the stream id")
	}
	state, err := c.RequestVerification(ctx)
	if err != nil || state == "" || !states.Check(GoogleRISCStreamID, state) {
		t.Errorf("RequestVerification: %q %v", state, err)
	}
	jsonEq(t, "verify body", g.seen()[len(g.seen())-1].Body, `{"state":"`+state+`"}`)
}

// TestGoogleRISC_GoogleAnswerShapes: Google's own answer shapes map to SSF (events
// delivered kept, http:// legacy method URI, upper-case status).
func TestGoogleRISC_GoogleAnswerShapes(t *testing.T) {
	g := newFakeGoogle(t)
	c := newTestGoogleClient(t, g, nil)
	g.setStream(`{"delivery":{"delivery_method":"http://schemas.openid.net/secevent/risc/delivery-method/push","url":"https://app.example.com/p"},
		"events_requested":["` + risc.EventTypeAccountDisabled + `","https://accounts.google.com/risc/event/all-token-revoked"],
		"events_delivered":["` + risc.EventTypeAccountDisabled + `"],"project":"x"}`)
	got, err := c.GetStream(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	want := &ssf.StreamConfig{
		StreamID: GoogleRISCStreamID, Issuer: GoogleIssuer, Audience: ssf.Audience(testGoogleAud),
		EventsRequested: []string{risc.EventTypeAccountDisabled, "https://accounts.google.com/risc/event/all-token-revoked"},
		EventsDelivered: []string{risc.EventTypeAccountDisabled},
		Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "https://app.example.com/p"},
		Extra:           map[string]json.RawMessage{"project": json.RawMessage(`"x"`)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path == "/v1beta/stream/status" {
			_, _ = io.WriteString(w, `{"status":"DISABLED"}`)
			return true
		}
		return false
	})
	st, err := c.GetStatus(t.Context(), "")
	if err != nil || st.Status != ssf.StatusDisabled {
		t.Errorf("upper-case status: %+v %v", st, err)
	}
}

// TestGoogleRISC_NoStream: a project without a stream (404, or an answer without
// delivery) is ErrNotFound for GetStream and UpdateStream and an empty list.
func TestGoogleRISC_NoStream(t *testing.T) {
	g := newFakeGoogle(t)
	c := newTestGoogleClient(t, g, nil)
	for _, stored := range []string{"", "{}", `{"events_requested":[]}`} {
		if stored != "" {
			g.setStream(stored)
		}
		if _, err := c.GetStream(t.Context(), ""); !errors.Is(err, ssf.ErrNotFound) {
			t.Errorf("%q: GetStream: %v", stored, err)
		}
		if list, err := c.ListStreams(t.Context()); err != nil || list == nil || len(list) != 0 {
			t.Errorf("%q: ListStreams: %v %v", stored, list, err)
		}
		ev := []string{risc.EventTypeAccountDisabled}
		if _, err := c.UpdateStream(t.Context(), ssf.StreamUpdate{StreamID: GoogleRISCStreamID, EventsRequested: ev}); !errors.Is(err, ssf.ErrNotFound) {
			t.Errorf("%q: UpdateStream: %v", stored, err)
		}
	}
	for _, r := range g.seen() {
		if r.Method != http.MethodGet {
			t.Errorf("sent %s %s for a project without a stream", r.Method, r.Path)
		}
	}
}

// TestGoogleRISC_LocalRejections: what Google cannot do fails before any request,
// matching ssf.ErrBadRequest (and ErrGoogleRISCUnsupported) or ssf.ErrNotFound.
func TestGoogleRISC_LocalRejections(t *testing.T) {
	g := newFakeGoogle(t)
	c := newTestGoogleClient(t, g, nil)
	ctx := t.Context()
	poll := &ssf.Delivery{Method: ssf.DeliveryPoll}
	withAuthz := &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: testPushURL, AuthorizationHeader: "Bearer x"}
	for _, tc := range []struct {
		name        string
		run         func() error
		is          []error
		unsupported bool
		want        string
	}{
		{"create without delivery (poll)", func() error {
			_, err := c.CreateStream(ctx, ssf.StreamConfig{EventsRequested: testGoogleEvents})
			return err
		}, []error{ssf.ErrBadRequest}, true, "push only"},
		{"create poll", func() error { _, err := c.CreateStream(ctx, ssf.StreamConfig{Delivery: poll}); return err }, []error{ssf.ErrBadRequest}, true, "poll delivery requested"},
		{"create legacy poll", func() error {
			_, err := c.CreateStream(ctx, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.LegacyDeliveryPoll}})
			return err
		}, []error{ssf.ErrBadRequest}, true, "push only"},
		{"replace poll", func() error {
			_, err := c.ReplaceStream(ctx, ssf.StreamConfig{StreamID: GoogleRISCStreamID, Delivery: poll})
			return err
		}, []error{ssf.ErrBadRequest}, true, "push only"},
		{"update to poll", func() error {
			_, err := c.UpdateStream(ctx, ssf.StreamUpdate{StreamID: GoogleRISCStreamID, Delivery: poll})
			return err
		}, []error{ssf.ErrBadRequest}, true, "push only"},
		{"authorization_header", func() error { _, err := c.CreateStream(ctx, ssf.StreamConfig{Delivery: withAuthz}); return err }, []error{ssf.ErrBadRequest}, true, "without an Authorization header"},
		{"push without endpoint_url", func() error {
			_, err := c.CreateStream(ctx, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.DeliveryPush}})
			return err
		}, []error{ssf.ErrBadRequest}, false, "endpoint_url"},
		{"http push URL", func() error {
			_, err := c.CreateStream(ctx, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "http://app.example.com/p"}})
			return err
		}, []error{ssf.ErrBadRequest}, false, "must use https"},
		{"unknown delivery method", func() error {
			_, err := c.CreateStream(ctx, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: "urn:example:carrier-pigeon", EndpointURL: testPushURL}})
			return err
		}, []error{ssf.ErrBadRequest}, false, "unsupported delivery method"},
		{"empty event type", func() error {
			req := googlePushRequest()
			req.EventsRequested = []string{""}
			_, err := c.CreateStream(ctx, req)
			return err
		}, []error{ssf.ErrBadRequest}, false, "events_requested[0]"},
		{"replace with another iss", func() error {
			req := googlePushRequest()
			req.Issuer = "https://evil.example.com"
			_, err := c.ReplaceStream(ctx, req)
			return err
		}, []error{ssf.ErrBadRequest}, false, "Transmitter-supplied"},
		{"paused", func() error { _, err := c.UpdateStatus(ctx, ssf.StreamStatus{Status: ssf.StatusPaused}); return err }, []error{ssf.ErrBadRequest}, true, "no paused status"},
		{"status unknown", func() error { _, err := c.UpdateStatus(ctx, ssf.StreamStatus{Status: "sleeping"}); return err }, []error{ssf.ErrBadRequest}, false, `"sleeping"`},
		{"status empty", func() error { _, err := c.UpdateStatus(ctx, ssf.StreamStatus{}); return err }, []error{ssf.ErrBadRequest}, false, `"status": is required`},
		{"add subject", func() error { return c.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: GoogleRISCStreamID}) }, []error{ssf.ErrBadRequest}, true, "no subject management"},
		{"remove subject", func() error { return c.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: GoogleRISCStreamID}) }, []error{ssf.ErrBadRequest}, true, "no subject management"},
		{"get another stream", func() error { _, err := c.GetStream(ctx, "stream-2"); return err }, []error{ssf.ErrNotFound}, false, `one stream per project, here named "google-risc"`},
		{"status of another stream", func() error { _, err := c.GetStatus(ctx, "stream-2"); return err }, []error{ssf.ErrNotFound}, false, "one stream per project"},
		{"update another stream", func() error {
			_, err := c.UpdateStream(ctx, ssf.StreamUpdate{StreamID: "stream-2", EventsRequested: testGoogleEvents})
			return err
		}, []error{ssf.ErrNotFound}, false, "one stream per project"},
		{"replace another stream", func() error {
			req := googlePushRequest()
			req.StreamID = "x"
			_, err := c.ReplaceStream(ctx, req)
			return err
		}, []error{ssf.ErrNotFound}, false, "one stream"},
		{"delete another stream", func() error { return c.DeleteStream(ctx, "x") }, []error{ssf.ErrNotFound}, false, "one stream"},
		{"status update of another stream", func() error {
			_, err := c.UpdateStatus(ctx, ssf.StreamStatus{StreamID: "x", Status: ssf.StatusEnabled})
			return err
		}, []error{ssf.ErrNotFound}, false, "one stream"},
		{"verify another stream", func() error { return c.Verify(ctx, ssf.VerifyRequest{StreamID: "x"}) }, []error{ssf.ErrNotFound}, false, "one stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tc.is {
				if !errors.Is(err, want) {
					t.Errorf("%v does not match %v", err, want)
				}
			}
			if errors.Is(err, ErrGoogleRISCUnsupported) != tc.unsupported {
				t.Errorf("%v: matches ErrGoogleRISCUnsupported = %v", err, !tc.unsupported)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "Google RISC") || !strings.Contains(err.Error(), "not sent") {
				t.Errorf("error %q lacks %q, the operation or \"not sent\"", err, tc.want)
			}
			if re, ok := errors.AsType[*RequestError](err); !ok || re.URL != "" {
				t.Errorf("not a *RequestError without URL: %#v", err)
			}
		})
	}
	if n := len(g.seen()); n != 0 {
		t.Errorf("%d requests were sent: %+v", n, g.seen())
	}
}

// TestGoogleRISC_ErrorAnswers: Google's error answers map through ssf.ErrorFromResponse,
// with Google's message and the operation and endpoint named.
func TestGoogleRISC_ErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		status int
		gs     string
		is     error
	}{
		{400, "INVALID_ARGUMENT", ssf.ErrBadRequest},
		{403, "PERMISSION_DENIED", ssf.ErrForbidden},
		{404, "NOT_FOUND", ssf.ErrNotFound},
		{409, "ALREADY_EXISTS", ssf.ErrConflict},
		{429, "RESOURCE_EXHAUSTED", ssf.ErrTooManyRequests},
		{500, "INTERNAL", nil},
		{503, "UNAVAILABLE", nil},
	} {
		t.Run(tc.gs, func(t *testing.T) {
			g := newFakeGoogle(t)
			c := newTestGoogleClient(t, g, nil)
			msg := "Project 12 is managed by Firebase (" + tc.gs + ")"
			g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
				googleError(w, tc.status, tc.gs, msg)
				return true
			})
			err := c.Verify(t.Context(), ssf.VerifyRequest{})
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v does not match %v", err, tc.is)
			}
			if ssf.HTTPStatus(err) != tc.status {
				t.Errorf("HTTPStatus %d", ssf.HTTPStatus(err))
			}
			for _, want := range []string{"Google RISC verify stream", "POST " + g.base() + "/stream:verify", msg, tc.gs} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
	t.Run("non-Google body", func(t *testing.T) {
		g := newFakeGoogle(t)
		c := newTestGoogleClient(t, g, nil)
		g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
			http.Error(w, "upstream connect error", http.StatusBadGateway)
			return true
		})
		_, err := c.GetStatus(t.Context(), "")
		if ssf.HTTPStatus(err) != 502 || !strings.Contains(err.Error(), "upstream connect error") || !strings.Contains(err.Error(), "GET "+g.base()+"/stream/status") {
			t.Errorf("502: %v", err)
		}
	})
}

// TestGoogleRISC_401RetriesWithNewJWT: a 401 invalidates the service-account JWT and the
// request is sent once more.
func TestGoogleRISC_401RetriesWithNewJWT(t *testing.T) {
	g := newFakeGoogle(t)
	c := newTestGoogleClient(t, g, nil)
	var n int
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		n++
		if n == 1 {
			googleError(w, 401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
			return true
		}
		return false
	})
	if _, err := c.GetStatus(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	if got := len(g.seen()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		googleError(w, 401, "UNAUTHENTICATED", "still not")
		return true
	})
	_, err := c.GetStatus(t.Context(), "")
	if !errors.Is(err, ssf.ErrUnauthorized) || !strings.Contains(err.Error(), "still not") {
		t.Errorf("second 401: %v", err)
	}
}

// TestGoogleRISC_MalformedAnswers: answers that are not what Google documents are
// refused, naming the operation and endpoint.
func TestGoogleRISC_MalformedAnswers(t *testing.T) {
	okDelivery := `"delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"https://app.example.com/p"}`
	for _, tc := range []struct {
		name, path, body string
		run              func(*GoogleRISCClient) error
		is               error
		want             string
	}{
		{"stream not JSON", "/v1beta/stream", "<html>", getStream, nil, "not a Google RISC stream configuration"},
		{"stream an array", "/v1beta/stream", "[]", getStream, nil, "not a Google RISC stream configuration"},
		{"delivery not an object", "/v1beta/stream", `{"delivery":5}`, getStream, nil, "delivery"},
		{"delivery without method", "/v1beta/stream", `{"delivery":{"url":"https://a.example/p"}}`, getStream, nil, "method"},
		{"events_requested not strings", "/v1beta/stream", `{` + okDelivery + `,"events_requested":[1]}`, getStream, nil, "events_requested"},
		{"unknown method", "/v1beta/stream", `{"delivery":{"delivery_method":"urn:x","url":"https://a.example/p"}}`, getStream, nil, "unsupported delivery method"},
		{"http push URL", "/v1beta/stream", `{"delivery":{"delivery_method":"urn:ietf:rfc:8935","url":"http://a.example/p"}}`, getStream, nil, "must use https"},
		{"other issuer", "/v1beta/stream", `{` + okDelivery + `,"iss":"https://evil.example.com"}`, getStream, ErrIssuerMismatch, "evil.example.com"},
		{"other audience", "/v1beta/stream", `{` + okDelivery + `,"aud":"other-client"}`, getStream, nil, "none of the expected"},
		{"update answer malformed", "/v1beta/stream:update", `{"delivery":[]}`, func(c *GoogleRISCClient) error {
			_, err := c.CreateStream(context.Background(), googlePushRequest())
			return err
		}, nil, "delivery"},
		{"status not JSON", "/v1beta/stream/status", "enabled", getStatus, nil, "not a Google RISC stream status"},
		{"status unknown", "/v1beta/stream/status", `{"status":"sleeping"}`, getStatus, nil, `"sleeping"`},
		{"status missing", "/v1beta/stream/status", `{}`, getStatus, nil, `"status": is required`},
		{"status a number", "/v1beta/stream/status", `{"status":1}`, getStatus, nil, "status"},
		{"status update answer", "/v1beta/stream/status:update", `{"status":"maybe"}`, func(c *GoogleRISCClient) error {
			_, err := c.UpdateStatus(context.Background(), ssf.StreamStatus{Status: ssf.StatusEnabled})
			return err
		}, nil, `"maybe"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGoogle(t)
			c := newTestGoogleClient(t, g, nil)
			g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
				if r.URL.Path != tc.path {
					return false
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tc.body)
				return true
			})
			err := tc.run(c)
			if err == nil {
				t.Fatal("accepted")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v does not match %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), g.base()+strings.TrimPrefix(tc.path, "/v1beta")) || !strings.Contains(err.Error(), "Google RISC") {
				t.Errorf("error %q lacks %q or the operation and endpoint", err, tc.want)
			}
		})
	}
}

func getStream(c *GoogleRISCClient) error {
	_, err := c.GetStream(context.Background(), "")
	return err
}

func getStatus(c *GoogleRISCClient) error {
	_, err := c.GetStatus(context.Background(), "")
	return err
}

// TestGoogleRISC_HTTPLimits: the redirect policy and body limit of Client apply.
func TestGoogleRISC_HTTPLimits(t *testing.T) {
	g := newFakeGoogle(t)
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(other.Close)
	c := newTestGoogleClient(t, g, nil)
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		http.Redirect(w, r, other.URL+"/v1beta/stream", http.StatusTemporaryRedirect)
		return true
	})
	if _, err := c.GetStream(t.Context(), ""); !errors.Is(err, ErrRedirectRefused) {
		t.Errorf("redirect to another host: %v", err)
	}
	small := newTestGoogleClient(t, g, func(cfg *GoogleRISCConfig) { cfg.MaxResponseBytes = 64 })
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		_, _ = io.WriteString(w, `{"status":"enabled","padding":"`+strings.Repeat("x", 100)+`"}`)
		return true
	})
	if _, err := small.GetStatus(t.Context(), ""); !errors.Is(err, ErrResponseTooLarge) {
		t.Errorf("large answer: %v", err)
	}
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		googleError(w, 500, "INTERNAL", strings.Repeat("y", maxGoogleErrorBody))
		return true
	})
	if _, err := small.GetStatus(t.Context(), ""); ssf.HTTPStatus(err) != 500 {
		t.Errorf("large error answer: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.GetStatus(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestNewGoogleRISCClient_Rejects(t *testing.T) {
	creds := BearerToken("t")
	for _, tc := range []struct {
		name string
		cfg  GoogleRISCConfig
		is   error
		want string
	}{
		{"no credentials", GoogleRISCConfig{Audience: testGoogleAud}, nil, "Credentials is required"},
		{"no audience", GoogleRISCConfig{Credentials: creds}, nil, "Audience is required"},
		{"empty audience", GoogleRISCConfig{Credentials: creds, Audience: []string{""}}, nil, "Audience is required"},
		{"http base", GoogleRISCConfig{Credentials: creds, Audience: testGoogleAud, BaseURL: "http://risc.example.com/v1beta"}, ErrInsecureURL, "base URL"},
		{"relative base", GoogleRISCConfig{Credentials: creds, Audience: testGoogleAud, BaseURL: "/v1beta"}, nil, "not an absolute https URL"},
		{"base with query", GoogleRISCConfig{Credentials: creds, Audience: testGoogleAud, BaseURL: "https://risc.example.com/v1beta?key=1"}, nil, "query"},
		{"http issuer", GoogleRISCConfig{Credentials: creds, Audience: testGoogleAud, Issuer: "http://accounts.example.com"}, ErrInsecureURL, "issuer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewGoogleRISCClient(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	c, err := NewGoogleRISCClient(GoogleRISCConfig{Credentials: creds, Audience: testGoogleAud, BaseURL: "https://risc.example.com/v1beta/", StreamID: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != "https://risc.example.com/v1beta" || c.StreamID() != "mine" || c.Issuer() != GoogleIssuer {
		t.Errorf("defaults: %q %q %q", c.BaseURL(), c.StreamID(), c.Issuer())
	}
	d, _ := NewGoogleRISCClient(GoogleRISCConfig{Credentials: creds, Audience: testGoogleAud})
	if d.BaseURL() != GoogleRISCBaseURL || d.StreamID() != GoogleRISCStreamID {
		t.Errorf("defaults: %q %q", d.BaseURL(), d.StreamID())
	}
}

// TestGoogleRISC_WithDiscovery: the set-up of docs/sdk.md — discovery in compatibility
// mode at risc-configuration (vendors §5.1 item 7), the Google client, and a stream
// verifier built from both (issuer trailing-slash tolerance, aud = client ids).
func TestGoogleRISC_WithDiscovery(t *testing.T) {
	g := newFakeGoogle(t)
	v := loadVector(t, "vendor/google-risc-metadata.json")
	doc := strings.NewReplacer("https://accounts.google.com", g.srv.URL, "https://www.googleapis.com", g.srv.URL, "https://risc.googleapis.com", g.srv.URL).Replace(string(v.JSON))
	g.setOverride(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != "/.well-known/risc-configuration" {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, doc)
		return true
	})
	disc, err := Discover(t.Context(), g.srv.URL+"/", DiscoveryOptions{HTTPClient: g.srv.Client(), Compatibility: true, IssuerIgnoreTrailingSlash: true})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestGoogleClient(t, g, func(cfg *GoogleRISCConfig) { cfg.Issuer = disc.Metadata.Issuer })
	stream, err := c.CreateStream(t.Context(), googlePushRequest())
	if err != nil {
		t.Fatal(err)
	}
	ver, jwks, err := NewStreamVerifier(disc.Metadata, stream, VerifierOptions{Compatibility: true, IssuerIgnoreTrailingSlash: true})
	if err != nil {
		t.Fatal(err)
	}
	defer jwks.Close()
	if ver == nil {
		t.Fatal("no verifier")
	}
}

// FuzzGoogleRISCStream: any answer of GET stream is refused or mapped to a stream
// configuration that is valid SSF, names the client's stream, issuer and audience.
func FuzzGoogleRISCStream(f *testing.F) {
	f.Add(`{"delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"https://a.example/p"},"events_requested":["x"]}`)
	f.Add(`{"delivery":{"delivery_method":"http://schemas.openid.net/secevent/risc/delivery-method/push","url":"https://a.example/p"},"events_delivered":[]}`)
	f.Add(`{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://a.example/p","url":"https://b.example/p"}}`)
	f.Add(`{"delivery":{"delivery_method":"urn:ietf:rfc:8936","url":"https://a.example/p"},"iss":"https://accounts.google.com/","aud":["123-abc.apps.googleusercontent.com"]}`)
	f.Add(`{}`)
	f.Add(`{"delivery":null}`)
	f.Add(`[]`)
	c, err := NewGoogleRISCClient(GoogleRISCConfig{Credentials: BearerToken("t"), Audience: testGoogleAud, IssuerIgnoreTrailingSlash: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		cfg, err := c.decodeStream([]byte(body))
		if err != nil || cfg == nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("mapped an invalid configuration: %v", err)
		}
		if cfg.StreamID != GoogleRISCStreamID || !sameIssuerModSlash(cfg.Issuer, GoogleIssuer) || !cfg.Audience.ContainsAny(testGoogleAud...) {
			t.Fatalf("mapped %+v", cfg)
		}
		if _, err := json.Marshal(cfg); err != nil {
			t.Fatalf("the mapped configuration does not encode: %v", err)
		}
	})
}

// FuzzGoogleErrorBody: a converted Google error body is the JSON object
// ssf.ErrorFromResponse reads; anything else is left alone.
func FuzzGoogleErrorBody(f *testing.F) {
	f.Add(`{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}`)
	f.Add(`{"error":"invalid_request","error_description":"x"}`)
	f.Add(`{"error":{"message":"\u0000\u202e"}}`)
	f.Add(`{"error":{}}`)
	f.Add(`not json`)
	f.Fuzz(func(t *testing.T, body string) {
		out, ok := googleErrorBody([]byte(body))
		if !ok {
			return
		}
		var m map[string]string
		if err := json.Unmarshal(out, &m); err != nil || len(m) != 2 {
			t.Fatalf("converted body %q: %v", out, err)
		}
		err := ssf.ErrorFromResponse(400, http.Header{}, out)
		if !errors.Is(err, ssf.ErrBadRequest) {
			t.Fatalf("ErrorFromResponse: %v", err)
		}
	})
}

// ExampleGoogleRISCClient configures Cross-Account Protection for a Google Cloud
// project: a service-account key, the Google RISC client, and the push stream.
func ExampleGoogleRISCClient() {
	google := exampleGoogleServer() // stands in for https://risc.googleapis.com
	defer google.Close()

	keyJSON := exampleServiceAccountKeyFile() // os.ReadFile("service-account.json")
	key, err := ParseServiceAccountKey(keyJSON)
	if err != nil {
		fmt.Println(err)
		return
	}
	creds, err := NewServiceAccountCredentials(ServiceAccountCredentialsConfig{Key: key})
	if err != nil {
		fmt.Println(err)
		return
	}
	client, err := NewGoogleRISCClient(GoogleRISCConfig{
		BaseURL:     google.URL + "/v1beta", // empty in production: GoogleRISCBaseURL
		Credentials: creds,
		Audience:    []string{"123-abc.apps.googleusercontent.com"}, // the project's OAuth client ids
		HTTPClient:  google.Client(),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	stream, err := client.CreateStream(ctx, ssf.StreamConfig{
		EventsRequested: []string{risc.EventTypeAccountDisabled, risc.EventTypeSessionsRevoked, ssf.LegacyEventTypeVerificationRISC},
		Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "https://app.example.com/risc"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(stream.StreamID, stream.Issuer, stream.Delivery.EndpointURL)
	st, err := client.UpdateStatus(ctx, ssf.StreamStatus{Status: ssf.StatusEnabled})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.Status)
	_, err = client.UpdateStatus(ctx, ssf.StreamStatus{Status: ssf.StatusPaused})
	fmt.Println(errors.Is(err, ErrGoogleRISCUnsupported))
	// Output:
	// google-risc https://accounts.google.com https://app.example.com/risc
	// enabled
	// true
}

func exampleServiceAccountKeyFile() []byte {
	der, err := pkcs8PEMString(testSAPriv())
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": testSAEmail, "private_key_id": testSAKeyID,
		"private_key": der,
	})
	return b
}

// exampleGoogleServer answers stream:update and stream/status:update as Google does.
func exampleGoogleServer() *httptest.Server {
	return httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1beta/stream:update":
			_, _ = io.WriteString(w, "{}")
		case "/v1beta/stream/status:update":
			_, _ = io.Copy(w, r.Body)
		default:
			googleError(w, 404, "NOT_FOUND", "not found")
		}
	}))
}

// TestGoogleRISC_VerificationEvent: the set-up of docs/sdk.md end to end — the state of
// RequestVerification is recorded under the client's stream id, and Google's
// verification SET (no sub_id, iss with a trailing slash, aud one of the client ids,
// RISC namespace) pushed without an Authorization header is accepted by a Recipient of
// that stream id; a state the client never sent is refused (SSF §8.1.4.1).
func TestGoogleRISC_VerificationEvent(t *testing.T) {
	g := newFakeGoogle(t)
	states, err := NewVerificationStates(VerificationStatesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestGoogleClient(t, g, func(cfg *GoogleRISCConfig) { cfg.States = states })
	stream, err := c.CreateStream(t.Context(), googlePushRequest())
	if err != nil {
		t.Fatal(err)
	}
	state, err := c.RequestVerification(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := set.NewVerifier(testKeySet(t), set.Config{
		Issuer: stream.Issuer, IssuerTrailingSlashInsensitive: true, Audiences: stream.Audience,
		Compatibility: set.FullCompatibility(),
	})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	defer st.Close()
	rec, err := NewRecipient(RecipientConfig{Verifier: verifier, Inbox: st, StreamID: c.StreamID(), States: states})
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewPushHandler(PushHandlerConfig{Recipient: rec, Compatibility: true})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := testKeys()
	sign := func(jti, state string) string {
		claims := fmt.Sprintf(`{"iss":"https://accounts.google.com/","aud":%q,"iat":%d,"jti":%q,"events":{%q:{"state":%q}}}`,
			testGoogleAud[1], time.Now().Unix(), jti, ssf.LegacyEventTypeVerificationRISC, state)
		return signRaw(t, []byte(`{"alg":"RS256","typ":"JWT","kid":"test-key-1"}`), []byte(claims), key)
	}
	if resp := push(h, sign("v1", state), MediaTypeSET, ""); resp.Code != http.StatusAccepted {
		t.Errorf("Google's verification SET: %d %s", resp.Code, resp.Body)
	}
	if resp := push(h, sign("v2", "forged"), MediaTypeSET, ""); resp.Code != http.StatusBadRequest || !strings.Contains(resp.Body.String(), ssf.CodeInvalidState) {
		t.Errorf("unknown state: %d %s", resp.Code, resp.Body)
	}
}
