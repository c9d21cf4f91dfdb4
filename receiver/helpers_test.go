package receiver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sigshare/sigshare/ssf"
)

// vector is one file of testdata/vendor or testdata/negative (shared vector schema).
type vector struct {
	Name         string          `json:"name"`
	Kind         string          `json:"kind"`
	Valid        bool            `json:"valid"`
	Legacy       bool            `json:"legacy"`
	Placeholders bool            `json:"placeholders"`
	Notes        string          `json:"notes"`
	Compact      string          `json:"compact"`
	JSON         json.RawMessage `json:"json"`
}

func loadVector(t testing.TB, path string) *vector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &v
}

// recorded is one request the fake transmitter saw.
type recorded struct {
	Method, Path, Query, Authorization, ContentType string
	Body                                            []byte
}

// fakeTransmitter is a minimal SSF transmitter for client tests: it keeps streams in
// memory, serves metadata, and lets a test override any answer.
type fakeTransmitter struct {
	t   *testing.T
	srv *httptest.Server

	mu        sync.Mutex
	streams   map[string]*ssf.StreamConfig
	status    map[string]ssf.StreamStatus
	next      int
	requests  []recorded
	override  func(w http.ResponseWriter, r *http.Request, body []byte) bool
	token     string // required bearer token when not empty
	oneStream bool   // answer 409 to a second create
	issuerFor func(*ssf.StreamConfig) string
}

func newFakeTransmitter(t *testing.T) *fakeTransmitter {
	f := &fakeTransmitter{t: t, streams: map[string]*ssf.StreamConfig{}, status: map[string]ssf.StreamStatus{}}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeTransmitter) URL() string { return f.srv.URL }

func (f *fakeTransmitter) metadata() *ssf.Metadata {
	u := f.srv.URL
	return &ssf.Metadata{
		SpecVersion:              "1_0",
		Issuer:                   u,
		JWKSURI:                  u + "/jwks",
		DeliveryMethodsSupported: []string{ssf.DeliveryPush, ssf.DeliveryPoll},
		ConfigurationEndpoint:    u + "/ssf/stream",
		StatusEndpoint:           u + "/ssf/status",
		AddSubjectEndpoint:       u + "/ssf/subjects:add",
		RemoveSubjectEndpoint:    u + "/ssf/subjects:remove",
		VerificationEndpoint:     u + "/ssf/verify",
		AuthorizationSchemes:     []ssf.AuthorizationScheme{{SpecURN: ssf.SpecURNOAuth2}},
	}
}

func (f *fakeTransmitter) setOverride(fn func(w http.ResponseWriter, r *http.Request, body []byte) bool) {
	f.mu.Lock()
	f.override = fn
	f.mu.Unlock()
}

func (f *fakeTransmitter) lastRequest() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.requests) == 0 {
		return recorded{}
	}
	return f.requests[len(f.requests)-1]
}

func (f *fakeTransmitter) requestCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (f *fakeTransmitter) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, recorded{
		Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		Authorization: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Body: body,
	})
	override := f.override
	token := f.token
	f.mu.Unlock()
	if override != nil && override(w, r, body) {
		return
	}
	if r.URL.Path == "/.well-known/ssf-configuration" {
		writeJSON(w, 200, f.metadata())
		return
	}
	if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="unknown token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := r.URL.Query().Get("stream_id")
	switch r.URL.Path {
	case "/ssf/stream":
		switch r.Method {
		case http.MethodPost:
			var req ssf.StreamConfig
			if err := json.Unmarshal(body, &req); err != nil {
				ssf.WriteError(w, err)
				return
			}
			if f.oneStream && len(f.streams) > 0 {
				ssf.WriteError(w, ssf.ErrConflict)
				return
			}
			f.next++
			cfg := &ssf.StreamConfig{
				StreamID:        fmt.Sprintf("stream-%d", f.next),
				Issuer:          f.srv.URL,
				Audience:        ssf.Audience{"https://receiver.example.com"},
				EventsSupported: []string{"https://schemas.openid.net/secevent/caep/event-type/session-revoked"},
				EventsRequested: req.EventsRequested,
				EventsDelivered: []string{},
				Delivery:        req.Delivery,
				Description:     req.Description,
			}
			if cfg.Delivery == nil || cfg.Delivery.IsPoll() {
				cfg.Delivery = &ssf.Delivery{Method: ssf.DeliveryPoll, EndpointURL: f.srv.URL + "/poll/" + cfg.StreamID}
			}
			if slices.Contains(req.EventsRequested, cfg.EventsSupported[0]) {
				cfg.EventsDelivered = []string{cfg.EventsSupported[0]}
			}
			if f.issuerFor != nil {
				cfg.Issuer = f.issuerFor(cfg)
			}
			f.streams[cfg.StreamID] = cfg
			f.status[cfg.StreamID] = ssf.StreamStatus{StreamID: cfg.StreamID, Status: ssf.StatusEnabled}
			writeJSON(w, http.StatusCreated, cfg)
		case http.MethodGet:
			if id == "" {
				list := []ssf.StreamConfig{}
				for _, k := range sortedIDs(f.streams) {
					list = append(list, *f.streams[k])
				}
				writeJSON(w, 200, list)
				return
			}
			cfg, ok := f.streams[id]
			if !ok {
				ssf.WriteError(w, ssf.ErrNotFound)
				return
			}
			writeJSON(w, 200, cfg)
		case http.MethodPatch:
			var u ssf.StreamUpdate
			if err := json.Unmarshal(body, &u); err != nil {
				ssf.WriteError(w, err)
				return
			}
			cur, ok := f.streams[u.StreamID]
			if !ok {
				ssf.WriteError(w, ssf.ErrNotFound)
				return
			}
			next, err := u.Apply(cur)
			if err != nil {
				ssf.WriteError(w, err)
				return
			}
			if next.Delivery != nil && next.Delivery.IsPoll() && next.Delivery.EndpointURL == "" {
				next.Delivery.EndpointURL = f.srv.URL + "/poll/" + next.StreamID
			}
			f.streams[u.StreamID] = next
			writeJSON(w, 200, next)
		case http.MethodPut:
			var c ssf.StreamConfig
			if err := json.Unmarshal(body, &c); err != nil {
				ssf.WriteError(w, err)
				return
			}
			cur, ok := f.streams[c.StreamID]
			if !ok {
				ssf.WriteError(w, ssf.ErrNotFound)
				return
			}
			next, err := c.ApplyReplace(cur)
			if err != nil {
				ssf.WriteError(w, err)
				return
			}
			if next.Delivery == nil || (next.Delivery.IsPoll() && next.Delivery.EndpointURL == "") {
				next.Delivery = &ssf.Delivery{Method: ssf.DeliveryPoll, EndpointURL: f.srv.URL + "/poll/" + next.StreamID}
			}
			f.streams[c.StreamID] = next
			writeJSON(w, 200, next)
		case http.MethodDelete:
			if _, ok := f.streams[id]; !ok {
				ssf.WriteError(w, ssf.ErrNotFound)
				return
			}
			delete(f.streams, id)
			delete(f.status, id)
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusMethodNotAllowed)
		}
	case "/ssf/status":
		if r.Method == http.MethodGet {
			st, ok := f.status[id]
			if !ok {
				ssf.WriteError(w, ssf.ErrNotFound)
				return
			}
			writeJSON(w, 200, st)
			return
		}
		var st ssf.StreamStatus
		if err := json.Unmarshal(body, &st); err != nil {
			ssf.WriteError(w, err)
			return
		}
		if _, ok := f.status[st.StreamID]; !ok {
			ssf.WriteError(w, ssf.ErrNotFound)
			return
		}
		f.status[st.StreamID] = st
		writeJSON(w, 200, st)
	case "/ssf/subjects:add", "/ssf/subjects:remove", "/ssf/verify":
		var m struct {
			StreamID string `json:"stream_id"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			ssf.WriteError(w, ssf.ErrBadRequest)
			return
		}
		if _, ok := f.streams[m.StreamID]; !ok {
			ssf.WriteError(w, ssf.ErrNotFound)
			return
		}
		if strings.HasSuffix(r.URL.Path, ":add") {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func sortedIDs(m map[string]*ssf.StreamConfig) []string {
	ids := make([]string, 0, len(m))
	for k := range m {
		ids = append(ids, k)
	}
	slices.Sort(ids)
	return ids
}

// jsonKeys returns the top-level member names of a JSON object, sorted.
func jsonKeys(t *testing.T, b []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not a JSON object: %v: %s", err, b)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
