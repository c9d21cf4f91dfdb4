package set

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/risc"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

var allAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

const (
	testIssuer   = "https://idp.example.com/123456789/"
	testAudience = "https://sp.example.com/caep"
	testStream   = "f67e39a0a4d34d56b3aa1bc4cff0069f"
)

// sessionRevoked is the CAEP §3.1.2 example 2 token (Complex Subject session + user +
// tenant, optional claims).
func sessionRevoked() *Token {
	return &Token{
		Issuer:   testIssuer,
		JTI:      "24c63fb56e5a2d77a6b512616ca9fa24",
		IssuedAt: time.Unix(1615305159, 0),
		Audience: ssf.Audience{testAudience},
		TxnID:    "8675309",
		Subject: &subject.Complex{
			Session: &subject.Opaque{ID: "dMTlD|1600802906337.16|16008.16"},
			User:    &subject.IssSub{Iss: testIssuer, Sub: "99beb27c-c1c2-4955-882a-e0dc4996fcbc"},
			Tenant:  &subject.Opaque{ID: "123456789"},
		},
		Event: &caep.SessionRevoked{Common: caep.Common{
			InitiatingEntity: caep.InitiatingEntityPolicy,
			ReasonAdmin:      event.Localized{"en": "Landspeed Policy Violation: C076E82F"},
			ReasonUser:       event.Localized{"en": "Access attempt from multiple regions.", "es-410": "Intento de acceso desde varias regiones."},
			EventTimestamp:   1615304991,
		}},
	}
}

func newTestSigner(t testing.TB, key *keys.SigningKey, opts SignerOptions) *Signer {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	s, err := NewSigner(key, opts)
	if err != nil {
		t.Fatalf("NewSigner: %v", err)
	}
	return s
}

func testConfig() Config {
	return Config{Issuer: testIssuer, Audiences: []string{testAudience}, Algorithms: allAlgorithms}
}

// TestSignVerifyAlgorithms signs with every supported algorithm and verifies with this
// package and, independently, with go-jose; and verifies go-jose-signed SETs.
func TestSignVerifyAlgorithms(t *testing.T) {
	for _, alg := range allAlgorithms {
		t.Run(alg, func(t *testing.T) {
			key := genKey(t, alg, "k-"+alg)
			ks := keySet(t, key)
			s := newTestSigner(t, key, SignerOptions{})
			if s.Algorithm() != alg || s.KeyID() != "k-"+alg {
				t.Errorf("Algorithm, KeyID = %s, %s", s.Algorithm(), s.KeyID())
			}
			want := sessionRevoked()
			raw, err := s.Sign(want)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			v := newTestVerifier(t, ks, testConfig())
			got, err := v.Verify(bg, raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			assertSameToken(t, want, got)

			// The header is exactly {"alg","kid","typ"} (SET-16).
			h, _, err := ParseUnverified(raw, DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&Header{Algorithm: alg, KeyID: "k-" + alg, Type: "secevent+jwt"}, h); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}

			// go-jose verifies what this package signs.
			obj, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatalf("go-jose ParseSigned: %v", err)
			}
			pub := key.Public()
			payload, err := obj.Verify(&pub)
			if err != nil {
				t.Fatalf("go-jose Verify: %v", err)
			}
			claims, _ := want.MarshalJSON()
			if string(payload) != string(claims) {
				t.Errorf("payload %s, want %s", payload, claims)
			}

			// This package verifies what go-jose signs.
			other := joseSign(t, key, claims)
			if _, err := v.Verify(bg, other); err != nil {
				t.Fatalf("Verify(go-jose SET): %v", err)
			}
		})
	}
}

// assertSameToken compares two tokens by their encoding and their leniency.
func assertSameToken(t *testing.T, want, got *Token) {
	t.Helper()
	wb, err := want.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	gb, err := got.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(jsonValue(t, wb), jsonValue(t, gb)); diff != "" {
		t.Errorf("tokens differ (-want +got):\n%s", diff)
	}
	if got.Leniency != want.Leniency {
		t.Errorf("Leniency = %v, want %v", got.Leniency, want.Leniency)
	}
}

// TestSignClaimsVectors signs every valid published SET with the Signer (built through
// ParseClaims) and checks that Verify gives back the same claims (SET-20, round trip).
func TestSignClaimsVectors(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	s := newTestSigner(t, key, SignerOptions{})
	ks := keySet(t, key)
	for name, v := range loadClaimsVectors(t) {
		if _, bad := invalidVectors[name]; bad || !v.Valid {
			continue
		}
		t.Run(name, func(t *testing.T) {
			tok, err := ParseClaims(v.JSON, DecodeOptions{})
			if err != nil {
				t.Fatalf("ParseClaims: %v", err)
			}
			raw, err := s.Sign(tok)
			if _, deprecated := tok.Event.(event.Deprecated); deprecated {
				// RISC sessions-revoked decodes but is never emitted (RISC-15).
				assertCode(t, err, ssf.CodeInvalidRequest)
				return
			}
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			_, err = signVerifyErr(t, key, ks, defaultHeader, v.JSON, "", Compatibility{})
			if err != nil {
				t.Fatal(err)
			}
			var env struct {
				Iss string       `json:"iss"`
				Aud ssf.Audience `json:"aud"`
			}
			_ = json.Unmarshal(v.JSON, &env)
			ver := newTestVerifier(t, ks, Config{Issuer: env.Iss, Audiences: env.Aud})
			got, err := ver.Verify(bg, raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			assertClaims(t, got, v.JSON)
		})
	}
}

// TestProfiles checks the three output shapes (vendors.md §5.2 item 1) and that each
// verifies: Final and Hybrid strictly, Legacy in compatibility mode, back to the same
// subject and event.
func TestProfiles(t *testing.T) {
	key := genKey(t, "ES256", "k-es256")
	ks := keySet(t, key)
	complexJSON := `{"format":"complex","user":{"format":"iss_sub","iss":"https://idp.example.com/123456789/","sub":"99beb27c-c1c2-4955-882a-e0dc4996fcbc"},"session":{"format":"opaque","id":"dMTlD|1600802906337.16|16008.16"},"tenant":{"format":"opaque","id":"123456789"}}`
	legacyJSON := `{"user":{"format":"iss_sub","iss":"https://idp.example.com/123456789/","sub":"99beb27c-c1c2-4955-882a-e0dc4996fcbc"},"session":{"format":"opaque","id":"dMTlD|1600802906337.16|16008.16"},"tenant":{"format":"opaque","id":"123456789"}}`
	payload := `"initiating_entity":"policy","reason_admin":{"en":"Landspeed Policy Violation: C076E82F"},"reason_user":{"en":"Access attempt from multiple regions.","es-410":"Intento de acceso desde varias regiones."},"event_timestamp":1615304991`
	verification := func() *Token {
		return &Token{Issuer: testIssuer, JTI: "v1", IssuedAt: testNow, Audience: ssf.Audience{testAudience},
			Subject: &subject.Opaque{ID: testStream}, Event: &ssf.Verification{State: "abc"}}
	}
	rawEvent := func() *Token {
		return &Token{Issuer: testIssuer, JTI: "r1", IssuedAt: testNow, Audience: ssf.Audience{testAudience},
			Subject: &subject.Email{Email: "user@example.com"},
			Event:   &event.Raw{EventType: "https://schemas.okta.com/secevent/okta/event-type/user-risk-change", Payload: json.RawMessage(`{"current_level":"high"}`)}}
	}
	sr := caep.EventTypeSessionRevoked
	cases := []struct {
		name    string
		profile Profile
		tok     *Token
		// subID is the expected sub_id ("" = absent); events the expected events claim.
		subID, events string
	}{
		{"final", ProfileFinal, sessionRevoked(), complexJSON, `{"` + sr + `":{` + payload + `}}`},
		{"hybrid", ProfileHybrid, sessionRevoked(), complexJSON, `{"` + sr + `":{"subject":` + complexJSON + `,` + payload + `}}`},
		{"legacy", ProfileLegacy, sessionRevoked(), "", `{"` + sr + `":{"subject":` + legacyJSON + `,` + payload + `}}`},
		{"hybrid-verification", ProfileHybrid, verification(), `{"format":"opaque","id":"` + testStream + `"}`, `{"` + ssf.EventTypeVerification + `":{"state":"abc"}}`},
		{"legacy-verification", ProfileLegacy, verification(), `{"format":"opaque","id":"` + testStream + `"}`, `{"` + ssf.EventTypeVerification + `":{"state":"abc"}}`},
		{"hybrid-raw", ProfileHybrid, rawEvent(), `{"format":"email","email":"user@example.com"}`, `{"https://schemas.okta.com/secevent/okta/event-type/user-risk-change":{"current_level":"high"}}`},
		{"legacy-raw", ProfileLegacy, rawEvent(), "", `{"https://schemas.okta.com/secevent/okta/event-type/user-risk-change":{"subject":{"format":"email","email":"user@example.com"},"current_level":"high"}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.profile.String() == "" || strings.HasPrefix(c.profile.String(), "Profile(") {
				t.Errorf("Profile.String() = %q", c.profile.String())
			}
			s := newTestSigner(t, key, SignerOptions{Profile: c.profile})
			raw, err := s.Sign(c.tok)
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			_, got, err := ParseUnverified(raw, DecodeOptions{Compatibility: FullCompatibility()})
			if err != nil {
				t.Fatalf("ParseUnverified: %v", err)
			}
			claims := jsonValue(t, mustPayload(t, raw)).(map[string]any)
			if c.subID == "" {
				if _, ok := claims["sub_id"]; ok {
					t.Errorf("sub_id present: %v", claims["sub_id"])
				}
			} else if diff := cmp.Diff(jsonValue(t, []byte(c.subID)), claims["sub_id"]); diff != "" {
				t.Errorf("sub_id (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(jsonValue(t, []byte(c.events)), claims["events"]); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			// Whatever the profile, the receiving side gets the same subject back.
			if !subject.Equal(c.tok.Subject, got.Subject) {
				t.Errorf("subject %v, want %v", got.Subject, c.tok.Subject)
			}
			cfg := testConfig()
			if c.profile == ProfileLegacy && c.subID == "" {
				// Strict receivers reject the legacy shape; compatible ones accept it.
				v := newTestVerifier(t, ks, cfg)
				_, err := v.Verify(bg, raw)
				assertCode(t, err, ssf.CodeInvalidRequest)
				cfg.Compatibility = FullCompatibility()
			}
			v := newTestVerifier(t, ks, cfg)
			tok, err := v.Verify(bg, raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !subject.Equal(c.tok.Subject, tok.Subject) || tok.Event.Type() != c.tok.Event.Type() {
				t.Errorf("verified %v / %s", tok.Subject, tok.Event.Type())
			}
			// Re-signing a token decoded from a hybrid SET does not duplicate the
			// in-event subject (it is kept as an unknown payload member in strict mode).
			if c.profile == ProfileHybrid {
				again, err := s.Sign(tok)
				if err != nil {
					t.Fatalf("re-Sign: %v", err)
				}
				if string(mustPayload(t, again)) != string(mustPayload(t, raw)) {
					t.Errorf("re-signed claims differ:\n%s\n%s", mustPayload(t, again), mustPayload(t, raw))
				}
			}
		})
	}
}

// mustPayload returns the decoded claims of a compact JWS.
func mustPayload(t testing.TB, raw string) []byte {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	b, err := enc.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSignEncrypt signs then encrypts with both key agreements (RFC 7519 §5.2) and
// verifies by decrypting first.
func TestSignEncrypt(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	ks := keySet(t, key)
	for _, alg := range []string{"RSA-OAEP-256", "ECDH-ES"} {
		t.Run(alg, func(t *testing.T) {
			dk := encKey(t, alg)
			pub := dk.Public()
			s := newTestSigner(t, key, SignerOptions{EncryptTo: &pub})
			raw, err := s.Sign(sessionRevoked())
			if err != nil {
				t.Fatalf("Sign: %v", err)
			}
			if n := strings.Count(raw, "."); n != 4 {
				t.Fatalf("a JWE has 5 parts, got %d", n+1)
			}
			hseg, _, _ := strings.Cut(raw, ".")
			var hdr map[string]any
			hb, _ := enc.DecodeString(hseg)
			if err := json.Unmarshal(hb, &hdr); err != nil {
				t.Fatal(err)
			}
			for k, want := range map[string]string{"alg": alg, "enc": "A256GCM", "cty": "JWT", "typ": "secevent+jwt", "kid": dk.KeyID()} {
				if hdr[k] != want {
					t.Errorf("JWE header %s = %v, want %s", k, hdr[k], want)
				}
			}
			cfg := testConfig()
			cfg.DecryptionKeys = []*keys.DecryptionKey{dk}
			v := newTestVerifier(t, ks, cfg)
			got, err := v.Verify(bg, raw)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			assertSameToken(t, sessionRevoked(), got)

			// Without a decryption key, or with another one, the SET is invalid_key.
			_, err = newTestVerifier(t, ks, testConfig()).Verify(bg, raw)
			assertCode(t, err, ssf.CodeInvalidKey)
			otherAlg := map[string]string{"RSA-OAEP-256": "ECDH-ES", "ECDH-ES": "RSA-OAEP-256"}[alg]
			cfg.DecryptionKeys = []*keys.DecryptionKey{encKey(t, otherAlg)}
			_, err = newTestVerifier(t, ks, cfg).Verify(bg, raw)
			assertCode(t, err, ssf.CodeInvalidKey)
			sameKid, err := keys.GenerateEncryptionKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			cfg.DecryptionKeys = []*keys.DecryptionKey{sameKid.WithKeyID(dk.KeyID())}
			_, err = newTestVerifier(t, ks, cfg).Verify(bg, raw)
			assertCode(t, err, ssf.CodeInvalidKey)

			// ParseUnverified opens it with the key and shows the inner header.
			h, tok, err := ParseUnverified(raw, DecodeOptions{DecryptionKeys: []*keys.DecryptionKey{dk}})
			if err != nil || h.Algorithm != "RS256" || tok.JTI != "24c63fb56e5a2d77a6b512616ca9fa24" {
				t.Errorf("ParseUnverified: %+v, %v", h, err)
			}
			_, _, err = ParseUnverified(raw, DecodeOptions{})
			assertCode(t, err, ssf.CodeInvalidKey)

			// A receiver that requires encryption refuses a signed-only SET.
			cfg.DecryptionKeys = []*keys.DecryptionKey{dk}
			cfg.RequireEncryption = true
			plain, err := newTestSigner(t, key, SignerOptions{}).Sign(sessionRevoked())
			if err != nil {
				t.Fatal(err)
			}
			_, err = newTestVerifier(t, ks, cfg).Verify(bg, plain)
			assertCode(t, err, ssf.CodeInvalidRequest)
			if _, err := newTestVerifier(t, ks, cfg).Verify(bg, raw); err != nil {
				t.Errorf("RequireEncryption refuses a JWE: %v", err)
			}
		})
	}
}

// TestEncryptToChecks refuses recipient keys that cannot be used.
func TestEncryptToChecks(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	rsaPub := encKey(t, "RSA-OAEP-256").Public()
	ecPub := encKey(t, "ECDH-ES").Public()
	priv := encKey(t, "RSA-OAEP-256").PrivateJWK()
	edKey := genKey(t, "EdDSA", "ed").Public()
	withAlg := func(k jose.JSONWebKey, alg string) *jose.JSONWebKey { k.Algorithm = alg; return &k }
	withUse := func(k jose.JSONWebKey, use string) *jose.JSONWebKey { k.Use = use; return &k }
	for name, jwk := range map[string]*jose.JSONWebKey{
		"private":       &priv,
		"no key":        {},
		"rsa with ecdh": withAlg(rsaPub, "ECDH-ES"),
		"ec with oaep":  withAlg(ecPub, "RSA-OAEP-256"),
		"use sig":       withUse(rsaPub, "sig"),
		"ed25519":       &edKey,
	} {
		if _, err := NewSigner(key, SignerOptions{EncryptTo: jwk}); err == nil {
			t.Errorf("%s: NewSigner accepted it", name)
		}
	}
	inferred := rsaPub
	inferred.Algorithm = ""
	if _, err := NewSigner(key, SignerOptions{EncryptTo: &inferred}); err != nil {
		t.Errorf("an RSA key without alg: %v", err)
	}
}

// TestSignFillsAndValidates covers what Sign adds and refuses.
func TestSignFillsAndValidates(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	s := newTestSigner(t, key, SignerOptions{})
	tok := sessionRevoked()
	tok.JTI, tok.IssuedAt = "", time.Time{}
	raw, err := s.Sign(tok)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok.JTI) != 26 || !tok.IssuedAt.Equal(testNow) {
		t.Errorf("filled jti %q (want 26 characters of crypto/rand.Text), iat %v", tok.JTI, tok.IssuedAt)
	}
	got, err := newTestVerifier(t, keySet(t, key), testConfig()).Verify(bg, raw)
	if err != nil || got.JTI != tok.JTI {
		t.Fatalf("Verify: %v, jti %q", err, got.JTI)
	}
	other := sessionRevoked()
	other.JTI = ""
	if _, err := s.Sign(other); err != nil || other.JTI == tok.JTI {
		t.Errorf("two filled jtis are equal: %q", other.JTI)
	}

	cases := map[string]func(*Token){
		"no iss":             func(t *Token) { t.Issuer = "" },
		"no aud":             func(t *Token) { t.Audience = nil },
		"empty aud value":    func(t *Token) { t.Audience = ssf.Audience{testAudience, ""} },
		"no subject":         func(t *Token) { t.Subject = nil },
		"invalid subject":    func(t *Token) { t.Subject = &subject.Email{} },
		"no event":           func(t *Token) { t.Event = nil },
		"invalid event":      func(t *Token) { t.Event = &caep.CredentialChange{CredentialType: "password"} },
		"deprecated event":   func(t *Token) { t.Event = &risc.SessionsRevoked{} },
		"other events":       func(t *Token) { t.OtherEvents = []*event.Raw{{EventType: "urn:x", Payload: json.RawMessage(`{}`)}} },
		"extra sub":          func(t *Token) { t.Extra = map[string]json.RawMessage{"sub": json.RawMessage(`"x"`)} },
		"extra exp":          func(t *Token) { t.Extra = map[string]json.RawMessage{"exp": json.RawMessage(`1`)} },
		"extra iss":          func(t *Token) { t.Extra = map[string]json.RawMessage{"iss": json.RawMessage(`"x"`)} },
		"raw type not a URI": func(t *Token) { t.Event = &event.Raw{EventType: "not a uri", Payload: json.RawMessage(`{}`)} },
		"identifier-changed with iss_sub (RISC-16)": func(t *Token) {
			t.Subject = &subject.IssSub{Iss: testIssuer, Sub: "x"}
			t.Event = &risc.IdentifierChanged{NewValue: "new@example.com"}
		},
	}
	for name, mutate := range cases {
		tok := sessionRevoked()
		mutate(tok)
		_, err := s.Sign(tok)
		assertCodeNamed(t, name, err, ssf.CodeInvalidRequest)
	}
	// Extra claims that are not valid JSON fail encoding (not an *Error: a caller bug).
	tok = sessionRevoked()
	tok.Extra = map[string]json.RawMessage{"x": json.RawMessage(`{`)}
	if _, err := s.Sign(tok); err == nil {
		t.Error("invalid Extra JSON accepted")
	}
	// Extra claims are written sorted after the modelled ones.
	tok = sessionRevoked()
	tok.Extra = map[string]json.RawMessage{"zz": json.RawMessage(`1`), "aa": json.RawMessage(`{"b":true}`)}
	b, err := tok.MarshalJSON()
	if err != nil || !strings.HasSuffix(string(b), `,"aa":{"b":true},"zz":1}`) {
		t.Errorf("claims %s, %v", b, err)
	}
	// Identifier changed about an email, or a Complex Subject with an email user, is fine.
	for _, id := range []subject.Identifier{&subject.Email{Email: "a@example.com"}, &subject.PhoneNumber{PhoneNumber: "+12065550100"}, &subject.Complex{User: &subject.Email{Email: "a@example.com"}}} {
		tok := sessionRevoked()
		tok.Subject, tok.Event = id, &risc.IdentifierRecycled{}
		if _, err := s.Sign(tok); err != nil {
			t.Errorf("identifier-recycled about %s: %v", id.Format(), err)
		}
	}
	if _, err := s.Sign(nil); err == nil {
		t.Error("Sign(nil) succeeded")
	}
}

func assertCodeNamed(t *testing.T, name string, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s: want %s, got %v", name, code, err)
	}
}

// TestNewSignerChecks refuses what cannot sign.
func TestNewSignerChecks(t *testing.T) {
	if _, err := NewSigner(nil, SignerOptions{}); err == nil {
		t.Error("nil key accepted")
	}
	if _, err := NewSigner(testKey(t, "test-key-1", "RS256"), SignerOptions{Profile: 7}); err == nil {
		t.Error("unknown profile accepted")
	}
}

// TestTOE round-trips the toe claim and a Raw event's payload.
func TestTOE(t *testing.T) {
	key := genKey(t, "EdDSA", "ed")
	tok := &Token{Issuer: testIssuer, JTI: "x", IssuedAt: testNow, Audience: ssf.Audience{"a", "b"},
		TimeOfEvent: testNow.Add(-time.Minute), Subject: &subject.Email{Email: "x@example.com"},
		Event: &event.Raw{EventType: "urn:example:event", Payload: json.RawMessage(`{"a":[1,2,{"b":null}]}`)}}
	raw, err := newTestSigner(t, key, SignerOptions{}).Sign(tok)
	if err != nil {
		t.Fatal(err)
	}
	got, err := newTestVerifier(t, keySet(t, key), Config{Issuer: testIssuer, Audiences: []string{"b"}}).Verify(bg, raw)
	if err != nil {
		t.Fatal(err)
	}
	if !got.TimeOfEvent.Equal(tok.TimeOfEvent) {
		t.Errorf("toe %v, want %v", got.TimeOfEvent, tok.TimeOfEvent)
	}
	assertSameToken(t, tok, got)
}

// joseSign signs claims with go-jose, with the header {"alg","kid","typ":"secevent+jwt"}.
func joseSign(t testing.TB, key *keys.SigningKey, claims []byte) string {
	t.Helper()
	s, err := jose.NewSigner(key.JOSESigningKey(), (&jose.SignerOptions{}).WithType("secevent+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
