package transmitter

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/memory"
)

// readCountingStore counts the stream and subject reads Emit makes.
type readCountingStore struct {
	store.Store
	listStreams, listSubjects atomic.Int64
}

func (c *readCountingStore) ListStreams(ctx context.Context, f store.StreamFilter) ([]*store.Stream, error) {
	c.listStreams.Add(1)
	return c.Store.ListStreams(ctx, f)
}

func (c *readCountingStore) ListSubjects(ctx context.Context, streamID string) ([]*store.Subject, error) {
	c.listSubjects.Add(1)
	return c.Store.ListSubjects(ctx, streamID)
}

// Emit reads the streams and their subjects only when one of them changed
// (store.StreamsVersion), not for every event.
func TestEmitReadsStreamsOnlyAfterAChange(t *testing.T) {
	cs := &readCountingStore{Store: memory.New()}
	t.Cleanup(func() { _ = cs.Close() })
	e := newEnv(t, "https://tr.example", func(c *Config) { c.Store = cs })
	a := asClient{e.tr, &Client{ID: "receiver-a", Scopes: allScopes}}
	ctx := context.Background()
	for range 3 {
		mustCreate(t, a, ssf.StreamConfig{EventsRequested: []string{caep.EventTypeSessionRevoked}})
	}
	emit := func() int {
		t.Helper()
		res, err := e.tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return len(res.SETs)
	}
	for range 5 {
		if n := emit(); n != 3 {
			t.Fatalf("emit queued %d SETs, want 3", n)
		}
	}
	if l, s := cs.listStreams.Load(), cs.listSubjects.Load(); l != 1 || s != 3 {
		t.Errorf("5 emits read the streams %d times and subjects %d times; want 1 and 3", l, s)
	}
	streams, _ := a.ListStreams(ctx)
	if err := a.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: streams[0].StreamID, Subject: alice}); err != nil {
		t.Fatal(err)
	}
	before := cs.listStreams.Load()
	if n := emit(); n != 2 {
		t.Fatalf("emit after remove-subject queued %d SETs, want 2", n)
	}
	emit()
	if l := cs.listStreams.Load() - before; l != 1 {
		t.Errorf("streams read %d times by two emits after one change, want 1", l)
	}
}

// Two Transmitters (nodes) on one store: a change made through one is seen by the next
// Emit of the other, whose view of the streams is cached (SSF §8.1.3, §8.1.2.1).
func TestEmitSeesChangesMadeByAnotherNode(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	node := func() *env { return newEnv(t, "https://tr.example", func(c *Config) { c.Store = st }) }
	emitter, manager := node(), node()
	a := asClient{manager.tr, &Client{ID: "receiver-a", Scopes: allScopes}}
	emit := func() []string {
		t.Helper()
		res, err := emitter.tr.Emit(ctx, alice, sessionRevoked(), EmitOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return queued(res)
	}
	if got := emit(); len(got) != 0 {
		t.Fatalf("emit without streams queued %v", got)
	}
	s1 := mustCreate(t, a, ssf.StreamConfig{EventsRequested: []string{caep.EventTypeSessionRevoked}}).StreamID
	if got := emit(); !equalIDs(got, s1) {
		t.Fatalf("emit right after another node created %s queued %v", s1, got)
	}
	s2 := mustCreate(t, a, ssf.StreamConfig{EventsRequested: []string{caep.EventTypeSessionRevoked}}).StreamID
	if got := emit(); !equalIDs(got, s1, s2) {
		t.Fatalf("emit queued %v, want %s and %s", got, s1, s2)
	}
	if err := a.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: s1, Subject: alice}); err != nil {
		t.Fatal(err)
	}
	if got := emit(); !equalIDs(got, s2) {
		t.Fatalf("emit after remove-subject on %s queued %v", s1, got)
	}
	if _, err := a.UpdateStatus(ctx, ssf.StreamStatus{StreamID: s2, Status: ssf.StatusDisabled}); err != nil {
		t.Fatal(err)
	}
	if got := emit(); len(got) != 0 {
		t.Fatalf("emit after %s was disabled queued %v", s2, got)
	}
	if _, err := a.UpdateStatus(ctx, ssf.StreamStatus{StreamID: s2, Status: ssf.StatusEnabled}); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteStream(ctx, s2); err != nil {
		t.Fatal(err)
	}
	if got := emit(); len(got) != 0 {
		t.Fatalf("emit after %s was deleted queued %v", s2, got)
	}
}

func equalIDs(got []string, want ...string) bool {
	return strings.Join(got, ",") == strings.Join(sorted(want...), ",")
}

// claimsOf returns the JSON claims of a compact JWS.
func claimsOf(t *testing.T, compact string) map[string]json.RawMessage {
	t.Helper()
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		t.Fatalf("not a compact JWS: %d parts", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// vendors §5.2 item 1: a client's streams get the SET profile of its policy; an
// operator changes it through the operator API; Emit signs in the stream's profile.
func TestStreamProfiles(t *testing.T) {
	const tokenLegacy = "token-legacy"
	s := newServer(t, "", func(c *Config) {
		auth, err := NewStaticTokens(map[string]Client{
			tokenA:      {ID: "receiver-a"},
			tokenLegacy: {ID: "receiver-legacy", ClientPolicy: ClientPolicy{Profile: set.ProfileLegacy}},
		})
		if err != nil {
			t.Fatal(err)
		}
		c.Authenticator = auth
	})
	create := func(token string) string {
		status, _, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), token, `{"events_requested":["`+caep.EventTypeSessionRevoked+`"]}`)
		var cfg ssf.StreamConfig
		if status != http.StatusCreated || json.Unmarshal(body, &cfg) != nil {
			t.Fatalf("create: %d %s", status, body)
		}
		return cfg.StreamID
	}
	final, legacy := create(tokenA), create(tokenLegacy)
	shapes := func() map[string]string {
		t.Helper()
		if _, err := s.tr.Emit(context.Background(), alice, sessionRevoked(), EmitOptions{}); err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, id := range []string{final, legacy} {
			sets := leaseAll(t, s.store, id, s.clock.Now())
			if len(sets) != 1 {
				t.Fatalf("stream %s: %d SETs", id, len(sets))
			}
			c := claimsOf(t, sets[0].SET)
			var events map[string]map[string]json.RawMessage
			if err := json.Unmarshal(c["events"], &events); err != nil {
				t.Fatal(err)
			}
			_, subID := c["sub_id"]
			_, inEvent := events[caep.EventTypeSessionRevoked]["subject"]
			switch {
			case subID && !inEvent:
				out[id] = "final"
			case !subID && inEvent:
				out[id] = "legacy"
			default:
				out[id] = "other"
			}
		}
		return out
	}
	if got := shapes(); got[final] != "final" || got[legacy] != "legacy" {
		t.Fatalf("SET shapes %v, want final for %s and legacy for %s", got, final, legacy)
	}

	admin := func(method, path string, body any) (int, []byte) {
		status, _, b := s.do(t, method, s.url("/admin"+path), tokenAdmin, body)
		return status, b
	}
	if status, body := admin(http.MethodPost, "/streams/"+legacy+"/profile", `{"profile":"final"}`); status != http.StatusOK ||
		!strings.Contains(string(body), `"profile":"final"`) {
		t.Fatalf("set profile: %d %s", status, body)
	}
	if status, body := admin(http.MethodPost, "/streams/"+final+"/profile", `{"profile":"Legacy"}`); status != http.StatusOK {
		t.Fatalf("set profile: %d %s", status, body)
	}
	if got := shapes(); got[final] != "legacy" || got[legacy] != "final" {
		t.Fatalf("SET shapes after the operator's change %v", got)
	}
	status, body := admin(http.MethodGet, "/streams", nil)
	var infos []StreamInfo
	if status != http.StatusOK || json.Unmarshal(body, &infos) != nil {
		t.Fatalf("list: %d %s", status, body)
	}
	for _, in := range infos {
		want := map[string]string{final: "legacy", legacy: "final"}[in.StreamID]
		if in.Profile != want {
			t.Errorf("stream %s listed with profile %q, want %q", in.StreamID, in.Profile, want)
		}
	}
	for _, tc := range []struct {
		path, body string
		status     int
	}{
		{"/streams/" + final + "/profile", `{"profile":"ancient"}`, http.StatusBadRequest},
		{"/streams/" + final + "/profile", `{}`, http.StatusBadRequest},
		{"/streams/" + final + "/profile", `{"profile":"final","x":1}`, http.StatusBadRequest},
		{"/streams/nope/profile", `{"profile":"final"}`, http.StatusNotFound},
	} {
		if status, body := admin(http.MethodPost, tc.path, tc.body); status != tc.status {
			t.Errorf("POST %s %s: %d %s, want %d", tc.path, tc.body, status, body, tc.status)
		}
	}
	if err := s.tr.SetProfile(context.Background(), final, set.Profile(9)); !strings.Contains(errString(err), "unknown SET profile") {
		t.Errorf("SetProfile(9) = %v", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
