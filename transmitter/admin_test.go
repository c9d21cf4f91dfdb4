package transmitter

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/ssf"
)

const customType = "https://example.com/event-type/custom"

// The operator API: emit, list, status, verify, dead letters, replay.
func TestAdminAPI(t *testing.T) {
	s := newServer(t, "/t", func(c *Config) {
		c.EventsSupported = []string{caep.EventTypeSessionRevoked, caep.EventTypeCredentialChange, customType, ssf.EventTypeVerification, ssf.EventTypeStreamUpdated}
	})
	ctx := t.Context()
	status, _, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), tokenA, "{}")
	var cfg ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(body, &cfg) != nil {
		t.Fatal(status)
	}
	id := cfg.StreamID
	admin := func(method, path string, body any) (int, http.Header, []byte) {
		return s.do(t, method, s.url("/admin"+path), tokenAdmin, body)
	}

	// Emit a typed event.
	status, _, body = admin("POST", "/events", `{"subject":{"format":"email","email":"alice@example.com"},"event_type":"`+caep.EventTypeSessionRevoked+`","payload":{"reason_admin":{"en":"stolen laptop"}},"txn":"t-42"}`)
	var res EmitResult
	if status != http.StatusOK || json.Unmarshal(body, &res) != nil || res.Txn != "t-42" || len(res.SETs) != 1 || res.SETs[0].StreamID != id {
		t.Fatalf("emit: %d %s", status, body)
	}
	sets := leaseAll(t, s.store, id, s.clock.Now())
	if len(sets) != 1 {
		t.Fatalf("%d SETs", len(sets))
	}
	tok := verifySET(t, s.env, sets[0], "receiver-a")
	if ev, ok := tok.Event.(*caep.SessionRevoked); !ok || ev.ReasonAdmin["en"] != "stolen laptop" {
		t.Errorf("emitted event %#v", tok.Event)
	}
	// A supported type no registry knows goes out as a raw event.
	status, _, body = admin("POST", "/events", `{"subject":{"format":"opaque","id":"u-1"},"event_type":"`+customType+`","payload":{"anything":[1,2]}}`)
	if status != http.StatusOK || !strings.Contains(string(body), id) {
		t.Errorf("emit custom: %d %s", status, body)
	}
	sets = leaseAll(t, s.store, id, s.clock.Now())
	if len(sets) != 1 {
		t.Fatalf("%d SETs", len(sets))
	}
	if raw, ok := verifySET(t, s.env, sets[0], "receiver-a").Event.(*event.Raw); !ok || string(raw.Payload) != `{"anything":[1,2]}` {
		t.Errorf("custom event %#v", raw)
	}

	for _, tc := range []struct {
		name, body string
		want       int
		says       string
	}{
		{"invalid payload", `{"subject":{"format":"email","email":"a@example.com"},"event_type":"` + caep.EventTypeCredentialChange + `","payload":{"change_type":"update"}}`, 400, "credential_type"},
		{"deprecated", `{"subject":{"format":"email","email":"a@example.com"},"event_type":"https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"}`, 400, "deprecated"},
		{"unsupported", `{"subject":{"format":"email","email":"a@example.com"},"event_type":"https://schemas.openid.net/secevent/risc/event-type/account-purged"}`, 400, "not supported"},
		{"no subject", `{"event_type":"` + caep.EventTypeSessionRevoked + `"}`, 400, "subject"},
		{"bad subject", `{"subject":{"format":"email"},"event_type":"` + caep.EventTypeSessionRevoked + `"}`, 400, "subject"},
		{"no event type", `{"subject":{"format":"email","email":"a@example.com"}}`, 400, "event_type"},
		{"unknown member", `{"subject":{"format":"email","email":"a@example.com"},"event_type":"` + caep.EventTypeSessionRevoked + `","payloads":{}}`, 400, "payloads"},
		{"wrong type", `{"subject":{"format":"email","email":"a@example.com"},"event_type":7}`, 400, "event_type"},
		{"payload not an object", `{"subject":{"format":"email","email":"a@example.com"},"event_type":"` + customType + `","payload":[1]}`, 400, "payload"},
	} {
		before := takeSnapshot(t, s.store, s.clock.Now())
		status, h, body := admin("POST", "/events", tc.body)
		if e := checkError(t, tc.name, status, h, body, tc.want); !strings.Contains(e.Description, tc.says) {
			t.Errorf("%s: %q does not say %q", tc.name, e.Description, tc.says)
		}
		if d := before.diff(takeSnapshot(t, s.store, s.clock.Now())); d != "" {
			t.Errorf("%s changed the store:\n%s", tc.name, d)
		}
	}

	// Transmitter-initiated status change: a stream-updated SET (SSF-STATUS-1).
	status, _, body = admin("POST", "/streams/"+id+"/status", `{"status":"paused","reason":"maintenance window"}`)
	if status != http.StatusOK || !strings.Contains(string(body), `"status":"paused"`) {
		t.Errorf("admin status: %d %s", status, body)
	}
	sets = leaseAll(t, s.store, id, s.clock.Now())
	if len(sets) != 1 || sets[0].EventType != ssf.EventTypeStreamUpdated || !sets[0].Control {
		t.Errorf("admin status change queued %v", sets)
	}
	status, h, body := admin("POST", "/streams/"+id+"/status", `{"status":"off"}`)
	checkError(t, "admin bad status", status, h, body, 400)
	status, h, body = admin("POST", "/streams/nope/status", `{"status":"paused"}`)
	checkError(t, "admin status unknown stream", status, h, body, 404)

	// Transmitter-initiated verification.
	if status, _, body := admin("POST", "/streams/"+id+"/verify", nil); status != http.StatusNoContent {
		t.Errorf("admin verify: %d %s", status, body)
	}

	// The stream list with outbox counts.
	status, _, body = admin("GET", "/streams", nil)
	var list []StreamInfo
	if status != http.StatusOK || json.Unmarshal(body, &list) != nil || len(list) != 1 {
		t.Fatalf("admin streams: %d %s", status, body)
	}
	if got := list[0]; got.StreamID != id || got.ClientID != "receiver-a" || got.Status != ssf.StatusPaused || got.Outbox.Pending != 4 || got.Outbox.Leased != 3 || got.DeliveryMethod != ssf.DeliveryPoll {
		t.Errorf("stream info %+v", got)
	}
	if strings.Contains(string(body), "authorization_header") {
		t.Error("the stream list shows the push authorization header")
	}

	// Dead letters and replay.
	if err := s.store.DeadLetter(ctx, id, res.SETs[0].JTI, "", "receiver answered 400 invalid_key", s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	status, _, body = admin("GET", "/streams/"+id+"/dead-letters?limit=10", nil)
	var dead []DeadLetter
	if status != http.StatusOK || json.Unmarshal(body, &dead) != nil || len(dead) != 1 || dead[0].JTI != res.SETs[0].JTI || dead[0].DeadReason == "" {
		t.Fatalf("dead letters: %d %s", status, body)
	}
	status, h, body = admin("GET", "/streams/"+id+"/dead-letters?limit=x", nil)
	checkError(t, "dead letters bad limit", status, h, body, 400)
	status, _, body = admin("POST", "/streams/"+id+"/replay", `{"jtis":["`+res.SETs[0].JTI+`"]}`)
	if status != http.StatusOK || string(body) != `{"replayed":1}` {
		t.Errorf("replay: %d %s", status, body)
	}
	status, _, body = admin("POST", "/streams/"+id+"/replay", nil)
	if status != http.StatusOK || string(body) != `{"replayed":0}` {
		t.Errorf("replay all: %d %s", status, body)
	}
	for _, p := range []string{"/streams/nope/dead-letters", "/streams/nope/verify", "/nothing"} {
		method := "GET"
		if strings.HasSuffix(p, "verify") {
			method = "POST"
		}
		status, h, body := admin(method, p, nil)
		checkError(t, p, status, h, body, 404)
	}
	status, h, body = admin("DELETE", "/events", nil)
	checkError(t, "wrong method", status, h, body, 405)
}
