package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/ssf"
)

// vendors §5.2 item 8: "sigshare stream create-static" creates a push stream for a
// receiver that never manages streams (Okta); the next emitted event is pushed to it as
// a legacy SET with the operator's aud and the subject in Okta's shape, and nothing is
// pushed before (no verification).
// The admin token comes from SIGSHARE_ADMIN_TOKEN.
func TestStreamCreateStatic(t *testing.T) {
	pushed := make(chan string, 8)
	rcv := httptestServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Authorization") != "" {
			t.Errorf("pushed with an Authorization header")
		}
		pushed <- string(body)
		w.WriteHeader(http.StatusAccepted)
	}))
	dir := t.TempDir()
	tx := startTransmitter(t, dir, "--allow-private-push")
	const org = "https://acme.okta.example"
	env := []string{"SIGSHARE_ADMIN_TOKEN=admin-token"}
	r := mustRun(t, dir, env, "", "stream", "create-static", "--transmitter", tx.url, "--insecure-http",
		"--client-id", "okta-acme", "--endpoint-url", rcv+"/security/api/v1/security-events",
		"--events", "session-revoked,"+caep.EventTypeDeviceComplianceChange, "--audience", org,
		"--profile", "legacy", "--description", "Okta ITP")
	var cfg ssf.StreamConfig
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil {
		t.Fatalf("stdout %q: %v", r.stdout, err)
	}
	if cfg.StreamID == "" || !cfg.Audience.Equal(ssf.Audience{org}) || cfg.Issuer != tx.url || cfg.Delivery == nil ||
		cfg.Delivery.EndpointURL != rcv+"/security/api/v1/security-events" || len(cfg.EventsDelivered) != 2 || cfg.Description != "Okta ITP" {
		t.Errorf("created %s", r.stdout)
	}
	if !strings.Contains(r.stderr, cfg.StreamID) {
		t.Errorf("stderr %q does not name the stream", r.stderr)
	}

	var streams []struct {
		StreamID string `json:"stream_id"`
		ClientID string `json:"client_id"`
		Profile  string `json:"profile"`
		Status   string `json:"status"`
	}
	if s := tx.call(t, "GET", "/admin/streams", "admin-token", "", &streams); s != 200 || len(streams) != 1 {
		t.Fatalf("admin streams: %d %+v", s, streams)
	}
	if got := streams[0]; got.StreamID != cfg.StreamID || got.ClientID != "okta-acme" || got.Profile != "legacy" || got.Status != "enabled" {
		t.Errorf("listed %+v", got)
	}
	select {
	case p := <-pushed:
		t.Fatalf("pushed before any event was emitted: %s", p)
	case <-time.After(500 * time.Millisecond):
	}

	mustRun(t, dir, env, "", "emit", "--transmitter", tx.url, "--insecure-http",
		"--type", "session-revoked", "--subject", `{"format":"complex","user":{"format":"email","email":"alice@example.com"}}`)
	var body string
	select {
	case body = <-pushed:
	case <-time.After(15 * time.Second):
		t.Fatal("nothing was pushed")
	}
	parts := strings.Split(body, ".")
	if len(parts) != 3 {
		t.Fatalf("pushed %q, not a compact JWS", body)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Aud    string                                `json:"aud"`
		SubID  json.RawMessage                       `json:"sub_id"`
		Events map[string]map[string]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("claims %s: %v", payload, err)
	}
	// Okta's shape (vendors §2.1): the subject inside the event, a complex subject
	// without "format".
	if claims.Aud != org || claims.SubID != nil || string(claims.Events[caep.EventTypeSessionRevoked]["subject"]) != `{"user":{"format":"email","email":"alice@example.com"}}` {
		t.Errorf("pushed claims %s: want aud %s and the subject inside the event (legacy)", payload, org)
	}
}

// The refusals of "stream create-static": wrong command lines exit 2 before any request;
// the transmitter's refusals exit 1 with its description.
func TestStreamCreateStaticErrors(t *testing.T) {
	dir := t.TempDir()
	tx := startTransmitter(t, dir)
	conn := []string{"stream", "create-static", "--transmitter", tx.url, "--insecure-http", "--admin-token", "admin-token"}
	ok := []string{"--client-id", "okta", "--endpoint-url", "https://203.0.113.7/events", "--events", "session-revoked"}
	with := func(args ...string) []string { return append(append(append([]string{}, conn...), ok...), args...) }
	for _, tc := range []struct {
		name string
		args []string
		code int
		text string
	}{
		{"no transmitter", []string{"stream", "create-static", "--admin-token", "x", "--client-id", "okta"}, 2, "--transmitter is required"},
		{"no admin token", []string{"stream", "create-static", "--transmitter", tx.url, "--insecure-http", "--client-id", "okta"}, 2, "--admin-token is required"},
		{"over http", []string{"stream", "create-static", "--transmitter", tx.url, "--admin-token", "x", "--client-id", "okta"}, 2, "not https"},
		{"no client", append(append([]string{}, conn...), "--endpoint-url", "https://203.0.113.7/events", "--events", "session-revoked"), 2, "--client-id is required"},
		{"no endpoint", append(append([]string{}, conn...), "--client-id", "okta", "--events", "session-revoked"), 2, "--endpoint-url is required"},
		{"no events", append(append([]string{}, conn...), "--client-id", "okta", "--endpoint-url", "https://203.0.113.7/events"), 2, "--events is required"},
		{"unknown event name", with("--events", "sesion-revoked"), 2, "did you mean session-revoked"},
		{"bad profile", with("--profile", "okta"), 2, "--profile"},
		{"bad status", with("--status", "on"), 2, "--status"},
		{"bad delivery", with("--delivery", "carrier-pigeon"), 2, "--delivery"},
		{"poll with endpoint", with("--delivery", "poll"), 2, "for push delivery"},
		{"config and flags", with("--config", "{}"), 2, "drop --client-id"},
		{"config not an object", append(append([]string{}, conn...), "--config", "[1]"), 2, "--config"},
		{"wrong admin token", []string{"stream", "create-static", "--transmitter", tx.url, "--insecure-http", "--admin-token", "rcv-token", "--client-id", "okta", "--endpoint-url", "https://203.0.113.7/events", "--events", "session-revoked"}, 1, "the transmitter refused the stream"},
		{"unsupported event", with("--events", "https://example.com/event-type/nope"), 1, "not an event type this transmitter supports"},
		{"private endpoint", with("--endpoint-url", "https://10.0.0.1/events"), 1, "SSRF guard"},
		{"config refused", append(append([]string{}, conn...), "--config", `{"client_id":"okta","delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://203.0.113.7/e"},"stream_id":"x"}`), 1, "stream_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkOneLineError(t, runCLI(t, dir, nil, "", tc.args...), tc.code, tc.text)
		})
	}
	var streams []json.RawMessage
	if s := tx.call(t, "GET", "/admin/streams", "admin-token", "", &streams); s != 200 || len(streams) != 0 {
		t.Errorf("refused requests created streams: %d %d", s, len(streams))
	}

	// --config sends the body as it is: a poll stream, profile hybrid.
	r := mustRun(t, dir, nil, `{"client_id":"rcv","delivery":{"method":"urn:ietf:rfc:8936"},"profile":"hybrid","status":"paused"}`,
		append(append([]string{}, conn...), "--config", "-")...)
	var cfg ssf.StreamConfig
	if err := json.Unmarshal([]byte(r.stdout), &cfg); err != nil || cfg.Delivery == nil || cfg.Delivery.Method != ssf.DeliveryPoll || !cfg.Audience.Equal(ssf.Audience{"rcv"}) {
		t.Errorf("--config: %v %s", err, r.stdout)
	}
	// The owner sees it through the management API.
	var list []ssf.StreamConfig
	if s := tx.call(t, "GET", "/ssf/stream", "rcv-token", "", &list); s != 200 || len(list) != 1 || list[0].StreamID != cfg.StreamID {
		t.Errorf("the owner's stream list: %d %+v", s, list)
	}
}
