package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

const sessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"

func newTestClient(t *testing.T, f *fakeTransmitter, mod func(*ClientConfig)) *Client {
	t.Helper()
	cfg := ClientConfig{Metadata: f.metadata(), HTTPClient: f.srv.Client(), Credentials: BearerToken("tok")}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pushRequest(endpoint string) ssf.StreamConfig {
	return ssf.StreamConfig{
		Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: endpoint, AuthorizationHeader: "Bearer push-secret"},
		EventsRequested: []string{sessionRevoked},
		Description:     "test stream",
	}
}

// Every ssf.Manager method against the fake transmitter: the HTTP method, the place of
// stream_id (query or body), the Authorization header, and the decoded answer.
func TestClient_EveryMethod(t *testing.T) {
	ctx := context.Background()
	f := newFakeTransmitter(t)
	f.token = "tok"
	c := newTestClient(t, f, nil)

	// RS5: the create body holds only Receiver-supplied members, even when the caller
	// passes Transmitter-supplied ones.
	req := pushRequest("https://receiver.example.com/push")
	req.StreamID = "ignored"
	req.Issuer = "https://ignored.example.com"
	req.Audience = ssf.Audience{"x"}
	req.EventsDelivered = []string{"x"}
	req.Extra = map[string]json.RawMessage{"format": json.RawMessage(`"iss_sub"`)}
	cfg, err := c.CreateStream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	r := f.lastRequest()
	if r.Method != http.MethodPost || r.Path != "/ssf/stream" || r.Query != "" || r.Authorization != "Bearer tok" || r.ContentType != "application/json" {
		t.Errorf("create request %+v", r)
	}
	if got := jsonKeys(t, r.Body); !slices.Equal(got, []string{"delivery", "description", "events_requested"}) {
		t.Errorf("create body members %q (RS5)", got)
	}
	if cfg.StreamID != "stream-1" || cfg.Issuer != f.URL() || cfg.Delivery.EndpointURL != "https://receiver.example.com/push" {
		t.Errorf("created %+v", cfg)
	}
	id := cfg.StreamID

	got, err := c.GetStream(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.lastRequest(); r.Method != http.MethodGet || r.Query != "stream_id="+id || len(r.Body) != 0 {
		t.Errorf("get request %+v", r)
	}
	if d := cmp.Diff(cfg, got); d != "" {
		t.Errorf("get (-created +got):\n%s", d)
	}

	list, err := c.ListStreams(ctx)
	if err != nil || len(list) != 1 || list[0].StreamID != id {
		t.Fatalf("list = %+v, %v", list, err)
	}
	if r := f.lastRequest(); r.Query != "" {
		t.Errorf("list query %q", r.Query)
	}

	desc := "patched"
	upd, err := c.UpdateStream(ctx, ssf.StreamUpdate{StreamID: id, Description: &desc})
	if err != nil {
		t.Fatal(err)
	}
	if r := f.lastRequest(); r.Method != http.MethodPatch || !slices.Equal(jsonKeys(t, r.Body), []string{"description", "stream_id"}) {
		t.Errorf("patch request %+v %s", r, r.Body)
	}
	if upd.Description != "patched" {
		t.Errorf("updated description %q", upd.Description)
	}

	// Replace sends the configuration read and edited, without unknown members.
	rep := *got
	rep.Description = "replaced"
	rep.Extra = map[string]json.RawMessage{"format": json.RawMessage(`"iss_sub"`)}
	replaced, err := c.ReplaceStream(ctx, rep)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.lastRequest(); r.Method != http.MethodPut || !slices.Equal(jsonKeys(t, r.Body), []string{"aud", "delivery", "description", "events_delivered", "events_requested", "events_supported", "iss", "stream_id"}) {
		t.Errorf("put request %+v %s", r, r.Body)
	}
	if replaced.Description != "replaced" {
		t.Errorf("replaced description %q", replaced.Description)
	}

	st, err := c.GetStatus(ctx, id)
	if err != nil || st.Status != ssf.StatusEnabled {
		t.Fatalf("status %+v %v", st, err)
	}
	if r := f.lastRequest(); r.Path != "/ssf/status" || r.Query != "stream_id="+id {
		t.Errorf("status request %+v", r)
	}
	st, err = c.UpdateStatus(ctx, ssf.StreamStatus{StreamID: id, Status: ssf.StatusPaused, Reason: "maintenance"})
	if err != nil || st.Status != ssf.StatusPaused {
		t.Fatalf("update status %+v %v", st, err)
	}
	if r := f.lastRequest(); r.Method != http.MethodPost || r.Query != "" {
		t.Errorf("status update request %+v", r)
	}

	sub := &subject.Email{Email: "user@example.com"}
	if err := c.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: id, Subject: sub}); err != nil {
		t.Fatal(err)
	}
	if r := f.lastRequest(); r.Path != "/ssf/subjects:add" || !strings.Contains(string(r.Body), `"email":"user@example.com"`) {
		t.Errorf("add subject request %+v %s", r, r.Body)
	}
	if err := c.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: id, Subject: sub}); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(ctx, ssf.VerifyRequest{StreamID: id, State: "abc"}); err != nil {
		t.Fatal(err)
	}
	if r := f.lastRequest(); r.Path != "/ssf/verify" || string(r.Body) != `{"stream_id":"`+id+`","state":"abc"}` {
		t.Errorf("verify request %+v %s", r, r.Body)
	}
	if err := c.DeleteStream(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r := f.lastRequest(); r.Method != http.MethodDelete || r.Query != "stream_id="+id {
		t.Errorf("delete request %+v", r)
	}
	if _, err := c.GetStream(ctx, id); !errors.Is(err, ssf.ErrNotFound) {
		t.Errorf("get after delete: %v", err)
	}
	list, err = c.ListStreams(ctx)
	if err != nil || list == nil || len(list) != 0 {
		t.Errorf("list after delete = %#v, %v (want an empty, non-nil slice)", list, err)
	}
}

// AMB-10, AMB-11, SSF §8.1 status codes: every status maps to its sentinel on every
// operation.
func TestClient_ErrorMapping(t *testing.T) {
	ctx := context.Background()
	f := newFakeTransmitter(t)
	c := newTestClient(t, f, nil)
	sub := &subject.Email{Email: "user@example.com"}
	ops := map[string]func() error{
		"create": func() error { _, err := c.CreateStream(ctx, pushRequest("https://r.example.com/p")); return err },
		"get":    func() error { _, err := c.GetStream(ctx, "s1"); return err },
		"list":   func() error { _, err := c.ListStreams(ctx); return err },
		"update": func() error {
			d := "x"
			_, err := c.UpdateStream(ctx, ssf.StreamUpdate{StreamID: "s1", Description: &d})
			return err
		},
		"replace": func() error {
			r := pushRequest("https://r.example.com/p")
			r.StreamID = "s1"
			_, err := c.ReplaceStream(ctx, r)
			return err
		},
		"delete":     func() error { return c.DeleteStream(ctx, "s1") },
		"get status": func() error { _, err := c.GetStatus(ctx, "s1"); return err },
		"update status": func() error {
			_, err := c.UpdateStatus(ctx, ssf.StreamStatus{StreamID: "s1", Status: ssf.StatusEnabled})
			return err
		},
		"add subject": func() error { return c.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: "s1", Subject: sub}) },
		"remove subject": func() error {
			return c.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: "s1", Subject: sub})
		},
		"verify": func() error { return c.Verify(ctx, ssf.VerifyRequest{StreamID: "s1"}) },
	}
	for _, tc := range []struct {
		status int
		want   error
	}{
		{400, ssf.ErrBadRequest},
		{401, ssf.ErrUnauthorized},
		{403, ssf.ErrForbidden},
		{404, ssf.ErrNotFound},
		{409, ssf.ErrConflict},
		{429, ssf.ErrTooManyRequests},
		{202, ssf.ErrAccepted},
		{500, nil},
		{503, nil},
	} {
		f.setOverride(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
			if tc.status == 429 {
				w.Header().Set("Retry-After", "7")
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(tc.status)
			_, _ = w.Write([]byte(`{"error":"x","error_description":"injected failure"}`))
			return true
		})
		for name, op := range ops {
			err := op()
			if err == nil {
				t.Errorf("%s answered %d: no error", name, tc.status)
				continue
			}
			var re *RequestError
			if !errors.As(err, &re) || re.URL == "" || re.Method == "" {
				t.Errorf("%s: %v is not a RequestError naming the endpoint", name, err)
			}
			if !strings.Contains(err.Error(), "injected failure") {
				t.Errorf("%s: %v lacks the transmitter's description", name, err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s answered %d: %v does not match %v", name, tc.status, err, tc.want)
			}
			var se *ssf.Error
			if tc.want == nil && (!errors.As(err, &se) || se.Status != tc.status) {
				t.Errorf("%s answered %d: %v", name, tc.status, err)
			}
			if tc.status == 429 {
				var rl *ssf.RateLimitError
				if !errors.As(err, &rl) || rl.RetryAfter != 7*time.Second {
					t.Errorf("%s: 429 gives %v", name, err)
				}
			}
		}
	}
	// Any 2xx but 202 is success (AMB-10), also for operations SSF answers with 204.
	for _, status := range []int{200, 201, 204} {
		f.setOverride(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
			w.WriteHeader(status)
			return true
		})
		for _, name := range []string{"delete", "add subject", "remove subject", "verify"} {
			if err := ops[name](); err != nil {
				t.Errorf("%s answered %d: %v", name, status, err)
			}
		}
	}
}

// RequestError names the operation, the stream and the endpoint.
func TestClient_ErrorText(t *testing.T) {
	f := newFakeTransmitter(t)
	c := newTestClient(t, f, nil)
	_, err := c.GetStream(context.Background(), "nope")
	want := `receiver: get stream "nope" (GET ` + f.URL() + `/ssf/stream): ssf: not found`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q, want prefix %q", err, want)
	}
	// 401 without a body: the RFC 6750 challenge explains it.
	f.setOverride(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope", error_description="needs ssf.manage"`)
		w.WriteHeader(401)
		return true
	})
	_, err = c.CreateStream(context.Background(), pushRequest("https://r.example.com/p"))
	if !errors.Is(err, ssf.ErrUnauthorized) || !strings.Contains(err.Error(), "insufficient_scope: needs ssf.manage") {
		t.Errorf("error %v", err)
	}
}

// SSF-STREAM-14, SSF-STREAM-19: the returned iss must be the metadata issuer and aud must
// be present (and expected, when configured).
func TestClient_ChecksReturnedConfiguration(t *testing.T) {
	ctx := context.Background()
	f := newFakeTransmitter(t)
	c := newTestClient(t, f, nil)
	f.issuerFor = func(*ssf.StreamConfig) string { return "https://evil.example.com" }
	if _, err := c.CreateStream(ctx, pushRequest("https://r.example.com/p")); !errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("create with a foreign iss: %v", err)
	}
	if _, err := c.GetStream(ctx, "stream-1"); !errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("get with a foreign iss: %v", err)
	}
	if _, err := c.ListStreams(ctx); !errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("list with a foreign iss: %v", err)
	}
	f.issuerFor = func(*ssf.StreamConfig) string { return f.URL() + "/" }
	if _, err := c.CreateStream(ctx, pushRequest("https://r.example.com/p")); !errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("trailing slash, strict: %v", err)
	}
	slash := newTestClient(t, f, func(cfg *ClientConfig) { cfg.IssuerIgnoreTrailingSlash = true })
	if _, err := slash.CreateStream(ctx, pushRequest("https://r.example.com/p")); err != nil {
		t.Errorf("trailing slash tolerated: %v", err)
	}
	f.issuerFor = nil

	aud := newTestClient(t, f, func(cfg *ClientConfig) { cfg.Audience = []string{"https://other.example.com"} })
	if _, err := aud.CreateStream(ctx, pushRequest("https://r.example.com/p")); err == nil || !strings.Contains(err.Error(), "SSF-STREAM-19") {
		t.Errorf("unexpected aud: %v", err)
	}
	aud = newTestClient(t, f, func(cfg *ClientConfig) { cfg.Audience = []string{"https://receiver.example.com"} })
	if _, err := aud.CreateStream(ctx, pushRequest("https://r.example.com/p")); err != nil {
		t.Errorf("expected aud: %v", err)
	}

	for _, tc := range []struct {
		name, body string
		compatOK   bool
	}{
		{"no aud", `{"stream_id":"s","iss":"ISS","events_delivered":[],"delivery":{"method":"urn:ietf:rfc:8936","endpoint_url":"https://t.example.com/poll"}}`, false},
		{"no stream_id", `{"iss":"ISS","aud":"a","events_delivered":[],"delivery":{"method":"urn:ietf:rfc:8936","endpoint_url":"https://t.example.com/poll"}}`, false},
		{"no events_delivered", `{"stream_id":"s","iss":"ISS","aud":"a","delivery":{"method":"urn:ietf:rfc:8936","endpoint_url":"https://t.example.com/poll"}}`, true},
		{"no delivery", `{"stream_id":"s","iss":"ISS","aud":"a","events_delivered":[]}`, true},
		{"not JSON", `<html>`, false},
	} {
		f.setOverride(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
			writeRaw(w, 201, strings.ReplaceAll(tc.body, "ISS", f.URL()))
			return true
		})
		if _, err := c.CreateStream(ctx, pushRequest("https://r.example.com/p")); err == nil {
			t.Errorf("%s: accepted in strict mode", tc.name)
		}
		compat := newTestClient(t, f, func(cfg *ClientConfig) { cfg.Compatibility = true })
		if _, err := compat.CreateStream(ctx, pushRequest("https://r.example.com/p")); (err == nil) != tc.compatOK {
			t.Errorf("%s: compatibility mode: %v", tc.name, err)
		}
	}
}

func writeRaw(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// Vendors §5.1 item 8 (Okta): a read by stream_id answered with an array, a list answered
// with an object, a status without stream_id; only in compatibility mode.
func TestClient_CompatibilityAnswers(t *testing.T) {
	ctx := context.Background()
	f := newFakeTransmitter(t)
	strict := newTestClient(t, f, nil)
	compat := newTestClient(t, f, func(cfg *ClientConfig) { cfg.Compatibility = true })
	cfg, err := strict.CreateStream(ctx, pushRequest("https://r.example.com/p"))
	if err != nil {
		t.Fatal(err)
	}
	one, _ := json.Marshal(cfg)
	f.setOverride(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
		switch {
		case r.URL.Path == "/ssf/stream" && r.Method == http.MethodGet && r.URL.Query().Has("stream_id"):
			writeRaw(w, 200, "["+string(one)+"]")
		case r.URL.Path == "/ssf/stream" && r.Method == http.MethodGet:
			writeRaw(w, 200, string(one))
		case r.URL.Path == "/ssf/status" && r.Method == http.MethodGet:
			writeRaw(w, 200, `{"status":"enabled"}`)
		case r.URL.Path == "/ssf/status":
			w.WriteHeader(http.StatusNoContent)
		default:
			return false
		}
		return true
	})
	if _, err := strict.GetStream(ctx, cfg.StreamID); err == nil {
		t.Error("strict: array answer to a read accepted")
	}
	if got, err := compat.GetStream(ctx, cfg.StreamID); err != nil || got.StreamID != cfg.StreamID {
		t.Errorf("compat read: %v", err)
	}
	if _, err := compat.GetStream(ctx, "other"); !errors.Is(err, ssf.ErrNotFound) {
		t.Errorf("compat read of a stream not in the array: %v", err)
	}
	if _, err := strict.ListStreams(ctx); err == nil {
		t.Error("strict: object answer to a list accepted")
	}
	if l, err := compat.ListStreams(ctx); err != nil || len(l) != 1 {
		t.Errorf("compat list: %v %v", l, err)
	}
	if _, err := strict.GetStatus(ctx, cfg.StreamID); err == nil {
		t.Error("strict: status without stream_id accepted")
	}
	if st, err := compat.GetStatus(ctx, cfg.StreamID); err != nil || st.StreamID != cfg.StreamID {
		t.Errorf("compat status: %+v %v", st, err)
	}
	if _, err := strict.UpdateStatus(ctx, ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusDisabled}); err == nil {
		t.Error("strict: empty status answer accepted")
	}
	if st, err := compat.UpdateStatus(ctx, ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusDisabled}); err != nil || st.Status != ssf.StatusDisabled {
		t.Errorf("compat status update: %+v %v", st, err)
	}
}

// Requests that cannot be valid are not sent, and the error matches ssf.ErrBadRequest.
func TestClient_LocalValidation(t *testing.T) {
	ctx := context.Background()
	f := newFakeTransmitter(t)
	c := newTestClient(t, f, nil)
	for name, err := range map[string]error{
		"create http push endpoint": func() error {
			_, err := c.CreateStream(ctx, pushRequest("http://r.example.com/p"))
			return err
		}(),
		"get without id":     func() error { _, err := c.GetStream(ctx, ""); return err }(),
		"delete without id":  c.DeleteStream(ctx, ""),
		"replace without id": func() error { _, err := c.ReplaceStream(ctx, pushRequest("https://r.example.com/p")); return err }(),
		"update without id":  func() error { _, err := c.UpdateStream(ctx, ssf.StreamUpdate{}); return err }(),
		"bad status":         func() error { _, err := c.UpdateStatus(ctx, ssf.StreamStatus{StreamID: "s", Status: "on"}); return err }(),
		"add nil subject":    c.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: "s"}),
		"verify without id":  c.Verify(ctx, ssf.VerifyRequest{}),
	} {
		if !errors.Is(err, ssf.ErrBadRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := f.requestCount(); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	md := f.metadata()
	md.StatusEndpoint = ""
	noStatus := newTestClient(t, f, func(cfg *ClientConfig) { cfg.Metadata = md })
	if _, err := noStatus.GetStatus(ctx, "s"); !errors.Is(err, ErrNoEndpoint) || !strings.Contains(err.Error(), "status_endpoint") {
		t.Errorf("missing endpoint: %v", err)
	}
	md.ConfigurationEndpoint = "http://insecure.example.com/streams"
	if _, err := NewClient(ClientConfig{Metadata: md}); !errors.Is(err, ErrInsecureURL) {
		t.Errorf("http endpoint: %v", err)
	}
}

// The verification state is recorded before the request is sent (SSF §8.1.4.2).
func TestClient_VerifyRecordsState(t *testing.T) {
	ctx := context.Background()
	f := newFakeTransmitter(t)
	states, err := NewVerificationStates(VerificationStatesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, f, func(cfg *ClientConfig) { cfg.States = states })
	cfg, err := c.CreateStream(ctx, pushRequest("https://r.example.com/p"))
	if err != nil {
		t.Fatal(err)
	}
	state, err := c.RequestVerification(ctx, cfg.StreamID)
	if err != nil {
		t.Fatal(err)
	}
	var sent ssf.VerifyRequest
	if err := json.Unmarshal(f.lastRequest().Body, &sent); err != nil || sent.State != state || len(state) != 54 {
		t.Fatalf("sent %+v, state %q, %v", sent, state, err)
	}
	if !states.Check(cfg.StreamID, state) || states.Check("other-stream", state) {
		t.Error("issued state not bound to its stream")
	}
	if err := c.Verify(ctx, ssf.VerifyRequest{StreamID: cfg.StreamID, State: "mine"}); err != nil {
		t.Fatal(err)
	}
	if !states.Check(cfg.StreamID, "mine") {
		t.Error("caller's state not recorded")
	}
	// Recorded even when the transmitter is rate limiting: the event may still come.
	f.setOverride(func(w http.ResponseWriter, r *http.Request, _ []byte) bool { w.WriteHeader(429); return true })
	if err := c.Verify(ctx, ssf.VerifyRequest{StreamID: cfg.StreamID, State: "later"}); !errors.Is(err, ssf.ErrTooManyRequests) {
		t.Fatal(err)
	}
	if !states.Check(cfg.StreamID, "later") {
		t.Error("state not recorded before the request")
	}
}

// A 401 invalidates refreshable credentials and retries once.
func TestClient_RetriesOnceAfter401(t *testing.T) {
	ctx := context.Background()
	f := newFakeTransmitter(t)
	f.token = "second"
	creds := &countingCreds{tokens: []string{"first", "second", "third"}}
	c := newTestClient(t, f, func(cfg *ClientConfig) { cfg.Credentials = creds })
	if _, err := c.ListStreams(ctx); err != nil {
		t.Fatal(err)
	}
	if creds.invalidated != 1 || f.requestCount() != 2 {
		t.Errorf("invalidated %d, requests %d", creds.invalidated, f.requestCount())
	}
	f.token = "never"
	if _, err := c.ListStreams(ctx); !errors.Is(err, ssf.ErrUnauthorized) {
		t.Errorf("err = %v", err)
	}
	if f.requestCount() != 4 {
		t.Errorf("requests %d, want one retry only", f.requestCount())
	}
	// Static tokens are not retried.
	static := newTestClient(t, f, nil)
	if _, err := static.ListStreams(ctx); !errors.Is(err, ssf.ErrUnauthorized) || f.requestCount() != 5 {
		t.Errorf("static token: %v, %d requests", err, f.requestCount())
	}
}

type countingCreds struct {
	tokens      []string
	i           int
	invalidated int
}

func (c *countingCreds) Authorization(context.Context) (string, error) {
	return "Bearer " + c.tokens[min(c.i, len(c.tokens)-1)], nil
}

func (c *countingCreds) Invalidate() { c.invalidated++; c.i++ }

// SSF-STREAM-17: EnsureStream is idempotent and handles 409.
func TestClient_EnsureStream(t *testing.T) {
	ctx := context.Background()
	t.Run("reuses a matching stream", func(t *testing.T) {
		f := newFakeTransmitter(t)
		c := newTestClient(t, f, nil)
		first, created, err := c.EnsureStream(ctx, pushRequest("https://r.example.com/p"))
		if err != nil || !created {
			t.Fatalf("first: %v created=%v", err, created)
		}
		again, created, err := c.EnsureStream(ctx, pushRequest("https://r.example.com/p"))
		if err != nil || created || again.StreamID != first.StreamID {
			t.Fatalf("again: %+v created=%v %v", again, created, err)
		}
		if r := f.lastRequest(); r.Method != http.MethodGet {
			t.Errorf("an unchanged stream was modified: %+v", r)
		}
		// A changed request updates the stream in place.
		req := pushRequest("https://r.example.com/p")
		req.EventsRequested = append(req.EventsRequested, "https://schemas.openid.net/secevent/caep/event-type/credential-change")
		req.Description = "new description"
		upd, created, err := c.EnsureStream(ctx, req)
		if err != nil || created || upd.StreamID != first.StreamID || upd.Description != "new description" || len(upd.EventsRequested) != 2 {
			t.Fatalf("update: %+v created=%v %v", upd, created, err)
		}
		if r := f.lastRequest(); r.Method != http.MethodPatch {
			t.Errorf("last request %+v", r)
		}
		// Another push endpoint is another stream on a multi-stream transmitter.
		other, created, err := c.EnsureStream(ctx, pushRequest("https://r.example.com/other"))
		if err != nil || !created || other.StreamID == first.StreamID {
			t.Fatalf("other: %+v created=%v %v", other, created, err)
		}
	})
	t.Run("409 takes the existing stream and patches it", func(t *testing.T) {
		f := newFakeTransmitter(t)
		f.oneStream = true
		c := newTestClient(t, f, nil)
		poll, _, err := c.EnsureStream(ctx, ssf.StreamConfig{EventsRequested: []string{sessionRevoked}})
		if err != nil {
			t.Fatal(err)
		}
		if !poll.Delivery.IsPoll() {
			t.Fatalf("delivery %v", poll.Delivery)
		}
		push, created, err := c.EnsureStream(ctx, pushRequest("https://r.example.com/p"))
		if err != nil || created || push.StreamID != poll.StreamID || !push.Delivery.IsPush() {
			t.Fatalf("after 409: %+v created=%v %v", push, created, err)
		}
		var methods []string
		for _, r := range f.requests {
			methods = append(methods, r.Method)
		}
		// list, create; list, create (409), list, patch
		if want := []string{"GET", "POST", "GET", "POST", "GET", "PATCH"}; !slices.Equal(methods, want) {
			t.Errorf("requests %q, want %q", methods, want)
		}
	})
	t.Run("ambiguous", func(t *testing.T) {
		f := newFakeTransmitter(t)
		c := newTestClient(t, f, nil)
		for _, d := range []string{"a", "b"} {
			if _, err := c.CreateStream(ctx, ssf.StreamConfig{Description: d}); err != nil {
				t.Fatal(err)
			}
		}
		if got, _, err := c.EnsureStream(ctx, ssf.StreamConfig{Description: "b"}); err != nil || got.Description != "b" {
			t.Errorf("by description: %+v %v", got, err)
		}
		if _, _, err := c.EnsureStream(ctx, ssf.StreamConfig{Description: "c"}); !errors.Is(err, ssf.ErrConflict) {
			t.Errorf("ambiguous: %v", err)
		}
	})
	t.Run("list unsupported", func(t *testing.T) {
		f := newFakeTransmitter(t)
		f.setOverride(func(w http.ResponseWriter, r *http.Request, _ []byte) bool {
			if r.Method == http.MethodGet && !r.URL.Query().Has("stream_id") {
				w.WriteHeader(http.StatusMethodNotAllowed)
				return true
			}
			return false
		})
		c := newTestClient(t, f, nil)
		if _, created, err := c.EnsureStream(ctx, pushRequest("https://r.example.com/p")); err != nil || !created {
			t.Errorf("%v created=%v", err, created)
		}
	})
	t.Run("unauthorized list is reported", func(t *testing.T) {
		f := newFakeTransmitter(t)
		f.token = "other"
		c := newTestClient(t, f, nil)
		if _, _, err := c.EnsureStream(ctx, pushRequest("https://r.example.com/p")); !errors.Is(err, ssf.ErrUnauthorized) {
			t.Errorf("err = %v", err)
		}
	})
}
