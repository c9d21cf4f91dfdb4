package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/ssf"
)

// A push receiver process against a transmitter process, driven with the stream
// commands: every management operation, events printed as JSON lines, the receiver's
// /metrics, and the stream reused after a restart.
func TestReceiverPushAndStreamCommands(t *testing.T) {
	dir := t.TempDir()
	tx := startTransmitter(t, dir, "--allow-private-push")
	env := []string{"SIGSHARE_INSECURE_HTTP=true", "SIGSHARE_ISSUER=" + tx.url, "SIGSHARE_TOKEN=rcv-token"}
	listen := freeAddr(t)
	rcvArgs := []string{"receiver", "--delivery", "push", "--listen", listen, "--events", "session-revoked,account-disabled", "--db", "rcv.db"}
	rcv := start(t, dir, env, rcvArgs...)
	waitStderr(t, rcv, "receiver started")

	stream := func(args ...string) string {
		t.Helper()
		return mustRun(t, dir, env, "", append([]string{"stream"}, args...)...).stdout
	}
	var list []ssf.StreamConfig
	if err := json.Unmarshal([]byte(stream("list")), &list); err != nil || len(list) != 1 {
		t.Fatalf("stream list: %v %+v", err, list)
	}
	s := list[0]
	if s.Delivery.Method != ssf.DeliveryPush || s.Delivery.EndpointURL != "http://"+listen+"/ssf/push" || len(s.EventsDelivered) != 2 {
		t.Errorf("the receiver's stream: %+v %+v", s, s.Delivery)
	}
	var got ssf.StreamConfig
	if err := json.Unmarshal([]byte(stream("get")), &got); err != nil || got.StreamID != s.StreamID {
		t.Errorf("stream get (the only stream): %v %s", err, got.StreamID)
	}

	mustRun(t, dir, nil, "", "emit", "--transmitter", tx.url, "--insecure-http", "--admin-token", "admin-token",
		"--type", "caep:session-revoked", "--subject-email", "alice@example.com", "--txn", "txn-1")
	line := waitStdout(t, rcv, caep.EventTypeSessionRevoked)
	var ev eventLine
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatalf("the receiver printed %q: %v", line, err)
	}
	if ev.StreamID != s.StreamID || ev.Issuer != tx.url || ev.Txn != "txn-1" || !strings.Contains(string(ev.Subject), "alice@example.com") || ev.JTI == "" {
		t.Errorf("event line %+v", ev)
	}
	if strings.Contains(line, "rcv-token") {
		t.Error("the receiver printed its token")
	}

	stream("verify", s.StreamID)
	waitStdout(t, rcv, ssf.EventTypeVerification)

	var st ssf.StreamStatus
	json.Unmarshal([]byte(stream("status", "--stream-id", s.StreamID, "--set", "paused", "--reason", "maintenance")), &st)
	if st.Status != ssf.StatusPaused {
		t.Errorf("status after --set paused: %+v", st)
	}
	waitStdout(t, rcv, ssf.EventTypeStreamUpdated, `"paused"`)
	json.Unmarshal([]byte(stream("status")), &st)
	if st.Status != ssf.StatusPaused || st.Reason != "maintenance" {
		t.Errorf("status: %+v", st)
	}
	stream("status", "--set", "enabled")

	mustRun(t, dir, env, "", "stream", "add-subject", "--subject-email", "bob@example.com")
	mustRun(t, dir, env, "", "stream", "remove-subject", "--subject-email", "carol@example.com")

	var upd ssf.StreamConfig
	json.Unmarshal([]byte(stream("update", "--description", "front office")), &upd)
	if upd.Description != "front office" || upd.Delivery.Method != ssf.DeliveryPush {
		t.Errorf("update: %+v", upd)
	}
	os.WriteFile(filepath.Join(dir, "stream.json"), []byte(stream("get")), 0o600)
	var rep ssf.StreamConfig
	json.Unmarshal([]byte(stream("replace", "--config", "@stream.json")), &rep)
	if rep.StreamID != s.StreamID || rep.Description != "front office" {
		t.Errorf("replace with the configuration read: %+v", rep)
	}

	var created ssf.StreamConfig
	json.Unmarshal([]byte(stream("create", "--events", "credential-change", "--description", "second")), &created)
	if created.StreamID == "" || created.Delivery.Method != ssf.DeliveryPoll {
		t.Errorf("create: %+v", created)
	}
	checkOneLineError(t, runCLI(t, dir, env, "", "stream", "get"), 2, "2 streams")
	mustRun(t, dir, env, "", "stream", "delete", created.StreamID)
	checkOneLineError(t, runCLI(t, dir, env, "", "stream", "get", created.StreamID), 1, "not found")

	resp, err := http.Get("http://" + listen + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`sigshare_receiver_sets_verified_total{event_type="` + caep.EventTypeSessionRevoked + `",transport="push"} 1`,
		`sigshare_receiver_sets_received_total{transport="push"}`,
		`sigshare_receiver_handler_attempts_total{event_type="` + caep.EventTypeSessionRevoked + `",outcome="success"} 1`,
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("receiver /metrics lacks %s", want)
		}
	}

	if code := rcv.stop(); code != 0 {
		_, stderr := rcv.output()
		t.Fatalf("receiver exit %d:\n%s", code, stderr)
	}
	rcv2 := start(t, dir, env, rcvArgs...)
	waitStderr(t, rcv2, "receiver started")
	_, stderr := rcv2.output()
	if !strings.Contains(stderr, "stream_id="+s.StreamID) {
		t.Errorf("the restarted receiver did not reuse stream %s:\n%s", s.StreamID, stderr)
	}
	json.Unmarshal([]byte(stream("list")), &list)
	if len(list) != 1 {
		t.Errorf("after the restart the client has %d streams, want 1", len(list))
	}
	rcv2.stop()
}

// A poll receiver with --format text prints readable lines; its shutdown acknowledges
// what it printed, so the transmitter holds nothing afterwards.
func TestReceiverPollText(t *testing.T) {
	dir := t.TempDir()
	tx := startTransmitter(t, dir)
	env := []string{"SIGSHARE_INSECURE_HTTP=true"}
	rcv := start(t, dir, env, "receiver", "--issuer", tx.url, "--token", "rcv-token", "--format", "text", "--events", "account-disabled")
	waitStderr(t, rcv, "receiver started")
	mustRun(t, dir, env, "", "emit", "--transmitter", tx.url, "--admin-token", "admin-token",
		"--type", "account-disabled", "--subject-phone", "+12065550100", "--payload", `{"reason":"bulk-account"}`)
	line := waitStdout(t, rcv, "risc:account-disabled")
	if !strings.Contains(line, `"phone_number":"+12065550100"`) || !strings.Contains(line, `"reason":"bulk-account"`) {
		t.Errorf("text line %q", line)
	}
	if code := rcv.stop(); code != 0 {
		t.Errorf("receiver exit %d", code)
	}
	var streams []struct {
		Outbox struct{ Pending, Dead int } `json:"outbox"`
	}
	if s := tx.call(t, "GET", "/admin/streams", "admin-token", "", &streams); s != 200 || len(streams) != 1 {
		t.Fatalf("admin streams: %d %+v", s, streams)
	}
	if streams[0].Outbox.Pending != 0 {
		t.Errorf("the transmitter still holds %d SETs after the receiver printed and stopped", streams[0].Outbox.Pending)
	}
}
