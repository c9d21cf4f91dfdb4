package receiver

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
)

// Test keys: test-key-1 is published, test-key-unknown is not (vectors/INDEX.md).
var testKeys = sync.OnceValues(func() (*keys.SigningKey, *keys.SigningKey) {
	gen := func(kid string) *keys.SigningKey {
		k, err := keys.GenerateRSA("RS256", 2048)
		if err != nil {
			panic(err)
		}
		return k.WithKeyID(kid)
	}
	return gen("test-key-1"), gen("test-key-unknown")
})

func testKeySet(t testing.TB) keys.KeySet {
	t.Helper()
	k, _ := testKeys()
	ks, err := keys.NewStaticKeySet(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.Public()}})
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

var b64 = base64.RawURLEncoding

// signRaw builds a compact JWS from header and claims JSON exactly as given.
func signRaw(t testing.TB, header, claims []byte, key *keys.SigningKey) string {
	t.Helper()
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(claims)
	digest := sha256.Sum256([]byte(input))
	sig, err := key.Signer().Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64.EncodeToString(sig)
}

// negVector is one generated receiver vector (testdata/negative, vectors/INDEX.md).
type negVector struct {
	Name         string          `json:"name"`
	Ref          string          `json:"ref"`
	Context      *negContext     `json:"context"`
	Build        *negBuild       `json:"build"`
	Header       json.RawMessage `json:"header"`
	Claims       json.RawMessage `json:"claims"`
	Expect       string          `json:"expect"`
	CompatExpect string          `json:"compat_expect"`
	PushStatus   int             `json:"push_status"`
	PushErr      *string         `json:"push_err"`
	PollResult   string          `json:"poll_result"`
	PollErr      *string         `json:"poll_err"`
	Variants     []*negVector    `json:"variants"`
}

type negContext struct {
	TransmitterIssuer string `json:"transmitter_issuer"`
	Stream            struct {
		StreamID string `json:"stream_id"`
		Iss      string `json:"iss"`
		Aud      string `json:"aud"`
	} `json:"stream"`
	PendingState        *string `json:"pending_verification_state"`
	TransmitterMetadata *struct {
		CriticalSubjectMembers []string `json:"critical_subject_members"`
	} `json:"transmitter_metadata"`
	ReceiverUnderstands []string `json:"receiver_understands_members"`
}

type negBuild struct {
	Sign   string `json:"sign"`
	Then   string `json:"then"`
	SetIat string `json:"set_iat"`
}

// negCase is one vector or variant, with the base's fields filled in.
type negCase struct {
	file string
	*negVector
}

func loadNegative(t testing.TB) []negCase {
	t.Helper()
	var out []negCase
	for i := 1; i <= 22; i++ {
		var path string
		for _, name := range negativeFiles {
			if strings.HasPrefix(name, fmt.Sprintf("%02d-", i)) {
				path = name
			}
		}
		var base negVector
		if err := json.Unmarshal(mustRead(t, "negative/"+path), &base); err != nil {
			t.Fatal(err)
		}
		out = append(out, negCase{path, &base})
		for _, v := range base.Variants {
			if v.Context == nil {
				v.Context = base.Context
			}
			if v.Build == nil {
				v.Build = base.Build
			}
			if v.CompatExpect == "" && base.CompatExpect != "" {
				v.CompatExpect = base.CompatExpect
			}
			out = append(out, negCase{path + "/" + v.Name, v})
		}
	}
	return out
}

var negativeFiles = []string{
	"01-valid-rs256.json", "02-typ-media-type-forms.json", "03-typ-missing-or-jwt.json",
	"04-alg-none-or-hmac-confusion.json", "05-signature-corrupted.json", "06-unknown-kid.json",
	"07-wrong-iss.json", "08-wrong-or-missing-aud.json", "09-sub-claim-present.json",
	"10-exp-claim-present.json", "11-sub-id-missing.json", "12-events-two-or-empty.json",
	"13-credential-change-no-change-type.json", "14-initiating-entity-robot.json",
	"15-verification-wrong-state.json", "16-verification-sub-id-not-stream.json",
	"17-duplicate-delivery.json", "18-unknown-extra-claims.json",
	"19-critical-subject-member-unsupported.json", "20-event-for-removed-subject.json",
	"21-iat-in-future.json", "22-legacy-in-event-subject.json",
}

// compact builds the SET the vector describes.
func (c negCase) compact(t testing.TB) string {
	t.Helper()
	key, unknown := testKeys()
	claims := []byte(c.Claims)
	if iat := c.Build.SetIat; iat != "" {
		off, err := strconv.Atoi(strings.TrimPrefix(iat, "now"))
		if err != nil {
			t.Fatalf("set_iat %q", iat)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(claims, &m); err != nil {
			t.Fatal(err)
		}
		m["iat"] = json.RawMessage(strconv.FormatInt(time.Now().Unix()+int64(off), 10))
		claims, _ = json.Marshal(m)
	}
	header := []byte(c.Header)
	input := b64.EncodeToString(header) + "." + b64.EncodeToString(claims)
	switch sign := c.Build.Sign; {
	case strings.HasPrefix(sign, "none"):
		return input + "."
	case strings.HasPrefix(sign, "HMAC"):
		der, err := x509.MarshalPKIXPublicKey(key.Public().Key)
		if err != nil {
			t.Fatal(err)
		}
		mac := hmac.New(sha256.New, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		mac.Write([]byte(input))
		return input + "." + b64.EncodeToString(mac.Sum(nil))
	case strings.Contains(sign, "NOT in the test JWKS"):
		return signRaw(t, header, claims, unknown)
	}
	raw := signRaw(t, header, claims, key)
	if strings.Contains(c.Build.Then, "flip the lowest bit") {
		i := strings.LastIndexByte(raw, '.')
		sig, _ := b64.DecodeString(raw[i+1:])
		sig[len(sig)-1] ^= 1
		raw = raw[:i+1] + b64.EncodeToString(sig)
	}
	return raw
}

// jti returns the vector's jti.
func (c negCase) jti(t testing.TB) string {
	var m struct {
		JTI string `json:"jti"`
	}
	if err := json.Unmarshal(c.Claims, &m); err != nil {
		t.Fatal(err)
	}
	return m.JTI
}

// verifier builds the verifier of the vector's receiver context.
func (c negCase) verifier(t testing.TB, compat bool) *set.Verifier {
	t.Helper()
	cfg := set.Config{Issuer: c.Context.TransmitterIssuer, Audiences: []string{c.Context.Stream.Aud}}
	if m := c.Context.TransmitterMetadata; m != nil {
		cfg.CriticalSubjectMembers = m.CriticalSubjectMembers
	}
	if c.Context.ReceiverUnderstands != nil {
		cfg.SubjectMembers = c.Context.ReceiverUnderstands
	}
	if compat {
		cfg.Compatibility = set.FullCompatibility()
	}
	v, err := set.NewVerifier(testKeySet(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// states returns the verification states with the vector's pending state recorded.
func (c negCase) states(t testing.TB) *VerificationStates {
	t.Helper()
	s, err := NewVerificationStates(VerificationStatesConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Context.PendingState; p != nil {
		s.Expect(c.Context.Stream.StreamID, *p)
	}
	return s
}

// wantAccept reports whether the vector is accepted in the given mode.
func (c negCase) wantAccept(compat bool) bool {
	e := c.Expect
	if compat && c.CompatExpect != "" {
		e = c.CompatExpect
	}
	return strings.HasPrefix(e, "accept")
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ---------------------------------------------------------------------------------------
// A small transmitter side for push, poll and e2e-style tests.

// testTransmitter signs SETs for one stream.
type testTransmitter struct {
	issuer   string
	aud      string
	streamID string
	signer   *set.Signer
	seq      int
	mu       sync.Mutex
}

func newTestTransmitter(t testing.TB, issuer, aud, streamID string, key *keys.SigningKey) *testTransmitter {
	t.Helper()
	if key == nil {
		key, _ = testKeys()
	}
	s, err := set.NewSigner(key, set.SignerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &testTransmitter{issuer: issuer, aud: aud, streamID: streamID, signer: s}
}

// sign signs ev about sub (nil: the stream subject) and returns the SET and its jti.
func (tt *testTransmitter) sign(t testing.TB, ev event.Event, sub subject.Identifier) (string, string) {
	t.Helper()
	tt.mu.Lock()
	tt.seq++
	jti := fmt.Sprintf("jti-%d-%d", time.Now().UnixNano(), tt.seq)
	tt.mu.Unlock()
	if sub == nil {
		sub = &subject.Opaque{ID: tt.streamID}
	}
	tok := &set.Token{Issuer: tt.issuer, JTI: jti, Audience: ssf.Audience{tt.aud}, Subject: sub, Event: ev}
	raw, err := tt.signer.Sign(tok)
	if err != nil {
		t.Fatal(err)
	}
	return raw, jti
}

// newTestRecipient returns a recipient for the transmitter's stream with a memory inbox.
func newTestRecipient(t testing.TB, tt *testTransmitter, ks keys.KeySet, mod func(*RecipientConfig)) (*Recipient, *memory.Store) {
	t.Helper()
	if ks == nil {
		ks = testKeySet(t)
	}
	v, err := set.NewVerifier(ks, set.Config{Issuer: tt.issuer, Audiences: []string{tt.aud}})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	cfg := RecipientConfig{Verifier: v, Inbox: st, StreamID: tt.streamID}
	if mod != nil {
		mod(&cfg)
	}
	r, err := NewRecipient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, st
}

// jwksServer serves a JWK Set over TLS that a test can change.
type jwksServer struct {
	srv  *httptest.Server
	mu   sync.Mutex
	body []byte
	hits int
}

func newJWKSServer(t testing.TB, ks ...*keys.SigningKey) *jwksServer {
	j := &jwksServer{}
	j.set(t, ks...)
	j.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.mu.Lock()
		defer j.mu.Unlock()
		j.hits++
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(j.body)
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func (j *jwksServer) set(t testing.TB, ks ...*keys.SigningKey) {
	var set jose.JSONWebKeySet
	for _, k := range ks {
		set.Keys = append(set.Keys, k.Public())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	j.body = b
	j.mu.Unlock()
}
