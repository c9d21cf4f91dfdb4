package receiver

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
)

// Key rotation at the transmitter: SETs signed with a new key are accepted without a
// restart (the remote key set refreshes on an unknown kid), and the retired key keeps
// working while it is published.
func TestPush_KeyRotation(t *testing.T) {
	old, _ := testKeys()
	next, err := keys.GenerateRSA("RS256", 2048)
	if err != nil {
		t.Fatal(err)
	}
	next = next.WithKeyID("test-key-2")
	jwks := newJWKSServer(t, old)
	md := &ssf.Metadata{Issuer: "https://tr.example.com", JWKSURI: jwks.srv.URL + "/jwks"}
	stream := &ssf.StreamConfig{StreamID: "stream-1", Issuer: md.Issuer, Audience: ssf.Audience{"https://receiver.example.com"}}
	v, ks, err := NewStreamVerifier(md, stream, VerifierOptions{RemoteKeys: keys.RemoteOptions{HTTPClient: jwks.srv.Client(), MinRefreshInterval: 10 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	st := memory.New()
	defer st.Close()
	rec, _ := NewRecipient(RecipientConfig{Verifier: v, Inbox: st, StreamID: "stream-1"})
	h, _ := NewPushHandler(PushHandlerConfig{Recipient: rec})

	oldT := newTestTransmitter(t, md.Issuer, "https://receiver.example.com", "stream-1", old)
	raw, _ := oldT.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	if w := push(h, raw, MediaTypeSET, ""); w.Code != 202 {
		t.Fatalf("old key: %d %s", w.Code, w.Body)
	}
	// The transmitter rotates: it publishes both keys and signs with the new one.
	jwks.set(t, next, old)
	time.Sleep(20 * time.Millisecond)
	newT := newTestTransmitter(t, md.Issuer, "https://receiver.example.com", "stream-1", next)
	raw, _ = newT.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	if w := push(h, raw, MediaTypeSET, ""); w.Code != 202 {
		t.Fatalf("new key: %d %s", w.Code, w.Body)
	}
	raw, _ = oldT.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	if w := push(h, raw, MediaTypeSET, ""); w.Code != 202 {
		t.Fatalf("retired key still published: %d %s", w.Code, w.Body)
	}
	// A kid that is not published is refused with invalid_key after one refresh.
	_, unknown := testKeys()
	badT := newTestTransmitter(t, md.Issuer, "https://receiver.example.com", "stream-1", unknown)
	raw, _ = badT.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	time.Sleep(20 * time.Millisecond)
	if w := push(h, raw, MediaTypeSET, ""); w.Code != 400 {
		t.Fatalf("unknown key: %d %s", w.Code, w.Body)
	}
	// The key set is unreachable before any fetch: 503 (retry), not 400.
	jwks2 := newJWKSServer(t, old)
	jwks2.srv.Config.Handler = http.NotFoundHandler()
	md2 := *md
	md2.JWKSURI = jwks2.srv.URL + "/jwks"
	v2, ks2, err := NewStreamVerifier(&md2, stream, VerifierOptions{RemoteKeys: keys.RemoteOptions{HTTPClient: jwks2.srv.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	defer ks2.Close()
	rec2, _ := NewRecipient(RecipientConfig{Verifier: v2, Inbox: st, StreamID: "stream-1"})
	h2, _ := NewPushHandler(PushHandlerConfig{Recipient: rec2})
	raw, _ = oldT.sign(t, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	if w := push(h2, raw, MediaTypeSET, ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("key set unreachable: %d %s", w.Code, w.Body)
	}
}

func TestNewStreamVerifier(t *testing.T) {
	md := &ssf.Metadata{Issuer: "https://tr.example.com", JWKSURI: "https://tr.example.com/jwks", CriticalSubjectMembers: []string{"user"}}
	stream := &ssf.StreamConfig{StreamID: "s", Issuer: "https://tr.example.com", Audience: ssf.Audience{"r"}}
	if _, _, err := NewStreamVerifier(&ssf.Metadata{Issuer: md.Issuer}, stream, VerifierOptions{}); err == nil {
		t.Error("metadata without jwks_uri accepted")
	}
	other := *stream
	other.Issuer = "https://other.example.com"
	if _, _, err := NewStreamVerifier(md, &other, VerifierOptions{}); !errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("stream of another issuer: %v", err)
	}
	other.Issuer = md.Issuer + "/"
	if _, ks, err := NewStreamVerifier(md, &other, VerifierOptions{IssuerIgnoreTrailingSlash: true}); err != nil {
		t.Errorf("trailing slash: %v", err)
	} else {
		ks.Close()
	}
	if _, _, err := NewStreamVerifier(md, &ssf.StreamConfig{StreamID: "s", Issuer: md.Issuer}, VerifierOptions{}); err == nil {
		t.Error("stream without aud accepted")
	}
	o := VerifierOptions{Compatibility: true}
	if d := o.DecodeOptions(); d.Compatibility != set.FullCompatibility() {
		t.Errorf("decode options %+v", d)
	}
}
