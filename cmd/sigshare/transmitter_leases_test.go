package main

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
)

// The flags of node identity, leases and SET profiles refuse wrong values with one line.
func TestTransmitterLeaseAndProfileFlagErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		text string
	}{
		{"push lease shorter than a request", []string{"--push-lease", "5s"}, "--push-lease 5s must exceed"},
		{"negative poll lease", []string{"--poll-lease", "-1s"}, "must not be negative"},
		{"bad node id", []string{"--node-id", "node one"}, "--node-id"},
		{"unknown profile", []string{"--client", "a=t", "--client-profile", "a=ancient"}, "not a SET profile"},
		{"profile without name", []string{"--client-profile", "legacy"}, "NAME=final|hybrid|legacy"},
		{"profile of no client", []string{"--client", "a=t", "--client-profile", "b=legacy"}, "--client-profile b names no --client"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"transmitter", "--insecure-http"}, c.args...)
			checkOneLineError(t, runCLI(t, t.TempDir(), nil, "", args...), 2, c.text)
		})
	}
}

// vendors §5.2 item 1: --client-profile gives a static client's streams the legacy SET
// shape (the subject inside the event, no sub_id); the operator API lists it.
func TestTransmitterClientProfile(t *testing.T) {
	tx := startTransmitter(t, t.TempDir(), "--client-profile", "rcv=legacy", "--node-id", "node-1", "--push-lease", "1m", "--poll-lease", "30s")
	var cfg struct {
		StreamID string `json:"stream_id"`
	}
	if s := tx.call(t, "POST", "/ssf/stream", "rcv-token",
		`{"events_requested":["https://schemas.openid.net/secevent/caep/event-type/session-revoked"]}`, &cfg); s != 201 {
		t.Fatalf("create: %d", s)
	}
	mustRun(t, "", nil, "", "emit", "--transmitter", tx.url, "--insecure-http", "--admin-token", "admin-token",
		"--type", "session-revoked", "--subject-email", "alice@example.com")
	var polled struct {
		Sets map[string]string `json:"sets"`
	}
	if s := tx.call(t, "POST", "/ssf/poll/"+cfg.StreamID, "rcv-token", `{"returnImmediately":true}`, &polled); s != 200 || len(polled.Sets) != 1 {
		t.Fatalf("poll: %d %+v", s, polled)
	}
	for _, compact := range polled.Sets {
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(compact, ".")[1])
		if err != nil {
			t.Fatal(err)
		}
		var claims map[string]json.RawMessage
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatal(err)
		}
		if _, ok := claims["sub_id"]; ok || !strings.Contains(string(claims["events"]), `"subject"`) {
			t.Errorf("SET of a legacy-profile stream: %s", payload)
		}
	}
	var streams []struct {
		Profile string `json:"profile"`
	}
	if s := tx.call(t, "GET", "/admin/streams", "admin-token", "", &streams); s != 200 || len(streams) != 1 || streams[0].Profile != "legacy" {
		t.Fatalf("admin streams: %d %+v", s, streams)
	}
}
