package transmitter

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sigshare/sigshare/ssf"
)

// The poll endpoint mounted at <base>/ssf/poll/{stream_id}: TV3, TV22 (poll, poll and
// ack, ack only), the owner check, scopes and the RFC 6750 challenges.
func TestPollEndpoint(t *testing.T) {
	st, err := NewStaticTokens(map[string]Client{
		tokenA:     {ID: "receiver-a"},
		tokenB:     {ID: "receiver-b"},
		"pollonly": {ID: "receiver-a", Scopes: []string{ScopePoll}},
		"openid":   {ID: "receiver-a", Scopes: []string{"openid"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := newServer(t, "/t1", func(c *Config) { c.Authenticator = st })
	status, _, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), tokenA, `{}`)
	var cfg ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(body, &cfg) != nil {
		t.Fatal(status)
	}
	if status, _, _ := s.do(t, http.MethodPost, s.url("/ssf/verify"), tokenA, `{"stream_id":"`+cfg.StreamID+`","state":"st"}`); status != http.StatusNoContent {
		t.Fatal(status)
	}
	pollURL := cfg.Delivery.EndpointURL
	if pollURL != s.url("/ssf/poll/"+cfg.StreamID) {
		t.Fatalf("poll endpoint_url %q", pollURL)
	}
	status, _, body = s.do(t, http.MethodPost, pollURL, "pollonly", `{"maxEvents":10,"returnImmediately":true}`)
	var resp ssf.PollResponse
	if status != http.StatusOK || json.Unmarshal(body, &resp) != nil || len(resp.Sets) != 1 {
		t.Fatalf("TV22 poll: %d %s", status, body)
	}
	var jti string
	for k := range resp.Sets {
		jti = k
	}
	status, _, body = s.do(t, http.MethodPost, pollURL, tokenA, `{"maxEvents":0,"returnImmediately":true,"ack":["`+jti+`"]}`)
	if status != http.StatusOK || !strings.Contains(string(body), `"sets":{}`) {
		t.Errorf("TV22 ack only: %d %s", status, body)
	}
	counts, _ := s.store.CountOutbox(t.Context(), cfg.StreamID, s.clock.Now())
	if counts.Pending != 0 {
		t.Errorf("after the ack: %+v", counts)
	}

	for _, tc := range []struct {
		name, token, url string
		want             int
		challenge        string
	}{
		{"other client", tokenB, pollURL, 404, ""},
		{"unknown stream", tokenA, s.url("/ssf/poll/NOPE"), 404, ""},
		{"no token", "", pollURL, 401, `Bearer realm="` + s.issuer + `"`},
		{"bad token", "nope", pollURL, 401, `error="invalid_token"`},
		{"no SSF scope", "openid", pollURL, 403, `error="insufficient_scope"`},
		{"token in query", tokenA, pollURL + "?access_token=" + tokenA, 400, `error="invalid_request"`},
	} {
		status, h, body := s.do(t, http.MethodPost, tc.url, tc.token, `{"returnImmediately":true}`)
		checkError(t, tc.name, status, h, body, tc.want)
		if !strings.Contains(h.Get("WWW-Authenticate"), tc.challenge) {
			t.Errorf("%s: WWW-Authenticate %q, want %q", tc.name, h.Get("WWW-Authenticate"), tc.challenge)
		}
	}
	// B's answer for A's stream is the answer for a stream that does not exist.
	_, _, foreign := s.do(t, http.MethodPost, pollURL, tokenB, `{}`)
	_, _, unknown := s.do(t, http.MethodPost, s.url("/ssf/poll/GHOST"), tokenB, `{}`)
	if strings.ReplaceAll(string(foreign), cfg.StreamID, "GHOST") != string(unknown) {
		t.Errorf("foreign %s vs unknown %s", foreign, unknown)
	}
	if status, h, _ := s.do(t, http.MethodGet, pollURL, tokenA, nil); status != http.StatusMethodNotAllowed || h.Get("Allow") != "POST" {
		t.Errorf("GET poll: %d, Allow %q", status, h.Get("Allow"))
	}
	// A push stream has no poll endpoint.
	status, _, body = s.do(t, http.MethodPost, s.url("/ssf/stream"), tokenA, `{"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"`+pushURL+`"}}`)
	var push ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(body, &push) != nil {
		t.Fatal(status)
	}
	if status, _, _ := s.do(t, http.MethodPost, s.url("/ssf/poll/"+push.StreamID), tokenA, `{}`); status != http.StatusNotFound {
		t.Errorf("poll on a push stream: %d, want 404", status)
	}
}
