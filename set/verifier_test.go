package set

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// craft signs header and claims (JSON text, taken as they are) with key's algorithm.
func craft(t testing.TB, key *keys.SigningKey, header, claims string) string {
	t.Helper()
	sg, err := newSigner(algorithmByName([]byte(key.Algorithm())), key.Signer())
	if err != nil {
		t.Fatal(err)
	}
	input := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims))
	sig, err := sg.sign(nil, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

const validClaims = `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159,"aud":"https://sp.example.com/caep","sub_id":{"format":"opaque","id":"x"},"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"event_timestamp":1615304991}}}`

func rsHeader(kid string) string {
	return `{"alg":"RS256","kid":"` + kid + `","typ":"secevent+jwt"}`
}

// TestHeaderChecks covers step 2 and 3 of Verify with one change at a time.
func TestHeaderChecks(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	v := newTestVerifier(t, keySet(t, key), testConfig())
	cases := []struct {
		name, header, code string
	}{
		{"valid", rsHeader("test-key-1"), ""},
		{"typ application/secevent+jwt", `{"alg":"RS256","kid":"test-key-1","typ":"application/secevent+jwt"}`, ""},
		{"typ upper case", `{"alg":"RS256","kid":"test-key-1","typ":"SECEVENT+JWT"}`, ""},
		{"typ with parameters is not the type", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt; charset=utf-8"}`, ssf.CodeInvalidRequest},
		{"typ JWT", `{"alg":"RS256","kid":"test-key-1","typ":"JWT"}`, ssf.CodeInvalidRequest},
		{"typ other", `{"alg":"RS256","kid":"test-key-1","typ":"at+jwt"}`, ssf.CodeInvalidRequest},
		{"typ number", `{"alg":"RS256","kid":"test-key-1","typ":1}`, ssf.CodeInvalidRequest},
		{"no typ", `{"alg":"RS256","kid":"test-key-1"}`, ssf.CodeInvalidRequest},
		{"no alg", `{"kid":"test-key-1","typ":"secevent+jwt"}`, ssf.CodeInvalidRequest},
		{"alg lower case", `{"alg":"rs256","kid":"test-key-1","typ":"secevent+jwt"}`, ssf.CodeInvalidKey},
		{"alg differs from the key's JWK alg", `{"alg":"PS256","kid":"test-key-1","typ":"secevent+jwt"}`, ssf.CodeInvalidKey},
		{"alg for another key type", `{"alg":"ES256","kid":"test-key-1","typ":"secevent+jwt"}`, ssf.CodeInvalidKey},
		{"alg none", `{"alg":"none","kid":"test-key-1","typ":"secevent+jwt"}`, ssf.CodeInvalidKey},
		{"alg HS256", `{"alg":"HS256","kid":"test-key-1","typ":"secevent+jwt"}`, ssf.CodeInvalidKey},
		{"crit", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt","crit":["exp"],"exp":1}`, ssf.CodeInvalidRequest},
		{"crit b64", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt","crit":["b64"],"b64":false}`, ssf.CodeInvalidRequest},
		{"jwk", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt","jwk":{"kty":"RSA"}}`, ssf.CodeInvalidKey},
		{"jku", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt","jku":"https://attacker.example/jwks"}`, ssf.CodeInvalidKey},
		{"x5u", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt","x5u":"https://attacker.example/cert"}`, ssf.CodeInvalidKey},
		{"x5c", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt","x5c":["MIIB"]}`, ssf.CodeInvalidKey},
		{"unknown parameter", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt","x-vendor":{"a":1}}`, ""},
		{"duplicate alg", `{"alg":"RS256","alg":"RS256","kid":"test-key-1","typ":"secevent+jwt"}`, ssf.CodeInvalidRequest},
		{"duplicate typ escaped", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt","t\u0079p":"JWT"}`, ssf.CodeInvalidRequest},
		{"duplicate other", `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt","x":1,"x":2}`, ssf.CodeInvalidRequest},
		{"kid unknown", rsHeader("nope"), ssf.CodeInvalidKey},
		{"kid number", `{"alg":"RS256","kid":7,"typ":"secevent+jwt"}`, ssf.CodeInvalidRequest},
		{"not an object", `["alg"]`, ssf.CodeInvalidRequest},
		{"trailing data", rsHeader("test-key-1") + `x`, ssf.CodeInvalidRequest},
		{"escaped values", `{"alg":"RS\u0032\u0035\u0036","kid":"test-key-\u0031","typ":"secevent\u002bjwt"}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Verify(bg, craft(t, key, c.header, validClaims))
			if c.code == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			assertCode(t, err, c.code)
		})
	}
}

// TestClaimChecks covers steps 4 and 5 of Verify with one change at a time.
func TestClaimChecks(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	v := newTestVerifier(t, keySet(t, key), testConfig())
	const (
		env  = `"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159,"aud":"https://sp.example.com/caep"`
		sub  = `"sub_id":{"format":"opaque","id":"x"}`
		evts = `"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{}}`
	)
	now := fmt.Sprint(testNow.Unix())
	cases := []struct {
		name, claims, code string
	}{
		{"valid", `{` + env + `,` + sub + `,` + evts + `}`, ""},
		{"duplicate claim", `{` + env + `,"jti":"j2",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"duplicate escaped claim", `{` + env + `,"j\u0074i":"j2",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"duplicate extra claim", `{` + env + `,"x":1,"x":1,` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"not JSON", `{` + env + `,`, ssf.CodeInvalidRequest},
		{"not an object", `[1]`, ssf.CodeInvalidRequest},
		{"invalid UTF-8", "{" + env + `,"x":"` + "\xff" + `",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"lone surrogate", `{` + env + `,"x":"\ud800",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"deep nesting", `{` + env + `,"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `,` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"iss missing", `{"jti":"j1","iat":1615305159,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidIssuer},
		{"iss wrong", `{"iss":"https://idp.example.com/123456789","jti":"j1","iat":1615305159,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidIssuer},
		{"iss number", `{"iss":1,"jti":"j1","iat":1615305159,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"aud array with it", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159,"aud":["x","https://sp.example.com/caep"],` + sub + `,` + evts + `}`, ""},
		{"aud empty array", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159,"aud":[],` + sub + `,` + evts + `}`, ssf.CodeInvalidAudience},
		{"aud number", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159,"aud":5,` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"aud array of numbers", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159,"aud":[5],` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"aud case differs", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159,"aud":"https://SP.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidAudience},
		{"iat missing", `{"iss":"https://idp.example.com/123456789/","jti":"j1","aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"iat string", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":"1615305159","aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"iat float", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159.75,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ""},
		{"iat exponent", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1.6e9,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ""},
		{"iat overflow", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":99999999999999999999,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"iat now+skew", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":` + now + `+120,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"iat milliseconds (strict)", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159000,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"iat very old (AMB-17)", `{"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ""},
		{"jti missing", `{"iss":"https://idp.example.com/123456789/","iat":1615305159,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"jti empty", `{"iss":"https://idp.example.com/123456789/","jti":"","iat":1615305159,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"jti number", `{"iss":"https://idp.example.com/123456789/","jti":1,"iat":1615305159,"aud":"https://sp.example.com/caep",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"txn number (strict)", `{` + env + `,"txn":8675309,` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"txn null", `{` + env + `,"txn":null,` + sub + `,` + evts + `}`, ""},
		{"toe", `{` + env + `,"toe":1615304991,` + sub + `,` + evts + `}`, ""},
		{"toe string", `{` + env + `,"toe":"x",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"sub", `{` + env + `,"sub":"x",` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"exp", `{` + env + `,"exp":1,` + sub + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"events missing", `{` + env + `,` + sub + `}`, ssf.CodeInvalidRequest},
		{"events array", `{` + env + `,` + sub + `,"events":[]}`, ssf.CodeInvalidRequest},
		{"events empty", `{` + env + `,` + sub + `,"events":{}}`, ssf.CodeInvalidRequest},
		{"event payload not object", `{` + env + `,` + sub + `,"events":{"urn:x":true}}`, ssf.CodeInvalidRequest},
		{"event type not a URI", `{` + env + `,` + sub + `,"events":{"session-revoked":{}}}`, ssf.CodeInvalidRequest},
		{"event type twice", `{` + env + `,` + sub + `,"events":{"urn:x":{},"urn:x":{}}}`, ssf.CodeInvalidRequest},
		{"two alternative URIs (strict: one event)", `{` + env + `,` + sub + `,"events":{"https://schemas.openid.net/secevent/ssf/event-type/verification":{},"https://schemas.openid.net/secevent/sse/event-type/verification":{}}}`, ssf.CodeInvalidRequest},
		{"unknown event type", `{` + env + `,` + sub + `,"events":{"urn:example:thing":{"a":1}}}`, ""},
		{"legacy URI (strict: unknown, raw)", `{` + env + `,` + sub + `,"events":{"https://schemas.openid.net/secevent/sse/event-type/verification":{}}}`, ""},
		{"sub_id missing", `{` + env + `,` + evts + `}`, ssf.CodeInvalidRequest},
		{"sub_id invalid", `{` + env + `,"sub_id":{"format":"email"},` + evts + `}`, ssf.CodeInvalidRequest},
		{"sub_id legacy shape (strict)", `{` + env + `,"sub_id":{"subject_type":"iss-sub","iss":"a","sub":"b"},` + evts + `}`, ssf.CodeInvalidRequest},
		{"sub_id string", `{` + env + `,"sub_id":"x",` + evts + `}`, ssf.CodeInvalidRequest},
		{"sub_id unknown format", `{` + env + `,"sub_id":{"format":"catalog_item","catalog_id":"c"},` + evts + `}`, ""},
		{"payload invalid", `{` + env + `,` + sub + `,"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"event_timestamp":"x"}}}`, ssf.CodeInvalidRequest},
		{"unknown claims and members (TV-GEN-18)", `{` + env + `,"x":{"y":[1,null]},` + sub + `,"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"z":1}}}`, ""},
		{"white space", " \n{ " + env + " , " + sub + " , " + evts + " }\t", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			claims := c.claims
			if strings.Contains(claims, now+"+120") {
				claims = strings.Replace(claims, now+"+120", fmt.Sprint(testNow.Unix()+121), 1)
			}
			_, err := v.Verify(bg, craft(t, key, rsHeader("test-key-1"), claims))
			if c.code == "" {
				if err != nil {
					t.Fatalf("want accepted, got %v", err)
				}
				return
			}
			assertCode(t, err, c.code)
		})
	}
}

// TestClockSkew checks the iat boundary (SEC-7, TV-GEN-21) and MaxClockSkew.
func TestClockSkew(t *testing.T) {
	key := genKey(t, "ES256", "k")
	s := newTestSigner(t, key, SignerOptions{})
	sign := func(iat time.Time) string {
		tok := sessionRevoked()
		tok.IssuedAt = iat
		raw, err := s.Sign(tok)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	for _, c := range []struct {
		skew  time.Duration
		ahead time.Duration
		ok    bool
	}{
		{0, DefaultMaxClockSkew, true},
		{0, DefaultMaxClockSkew + time.Second, false},
		{time.Hour, time.Hour, true},
		{time.Second, 2 * time.Second, false},
		{0, -365 * 24 * time.Hour, true},
	} {
		cfg := testConfig()
		cfg.MaxClockSkew = c.skew
		_, err := newTestVerifier(t, keySet(t, key), cfg).Verify(bg, sign(testNow.Add(c.ahead)))
		if c.ok != (err == nil) {
			t.Errorf("skew %v, iat now%+v: %v", c.skew, c.ahead, err)
		}
	}
}

// TestSizeLimit checks MaxTokenBytes before parsing.
func TestSizeLimit(t *testing.T) {
	key := genKey(t, "EdDSA", "k")
	raw, err := newTestSigner(t, key, SignerOptions{}).Sign(sessionRevoked())
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.MaxTokenBytes = len(raw)
	v := newTestVerifier(t, keySet(t, key), cfg)
	if _, err := v.Verify(bg, raw); err != nil {
		t.Fatal(err)
	}
	cfg.MaxTokenBytes = len(raw) - 1
	_, err = newTestVerifier(t, keySet(t, key), cfg).Verify(bg, raw)
	assertCode(t, err, ssf.CodeInvalidRequest)
	_, err = newTestVerifier(t, keySet(t, key), testConfig()).Verify(bg, strings.Repeat("a", DefaultMaxTokenBytes+1))
	assertCode(t, err, ssf.CodeInvalidRequest)
}

// TestCompactForm rejects malformed compact serializations.
func TestCompactForm(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	v := newTestVerifier(t, keySet(t, key), testConfig())
	good := craft(t, key, rsHeader("test-key-1"), validClaims)
	parts := strings.Split(good, ".")
	for name, raw := range map[string]string{
		"empty":              "",
		"one part":           parts[0],
		"two parts":          parts[0] + "." + parts[1],
		"four parts":         good + ".x",
		"six parts":          good + ".x.y.z",
		"empty header":       "." + parts[1] + "." + parts[2],
		"empty payload":      parts[0] + ".." + parts[2],
		"empty signature":    parts[0] + "." + parts[1] + ".",
		"padding":            parts[0] + "=." + parts[1] + "." + parts[2],
		"standard base64":    parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+",
		"space":              parts[0] + " ." + parts[1] + "." + parts[2],
		"JSON serialization": `{"payload":"` + parts[1] + `"}`,
	} {
		_, err := v.Verify(bg, raw)
		var e *Error
		if !errors.As(err, &e) || (e.Code != ssf.CodeInvalidRequest && e.Code != ssf.CodeInvalidKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Non-canonical base64 (unused bits set) is refused too.
	sig := []byte(parts[2])
	last := sig[len(sig)-1]
	idx := strings.IndexByte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", last)
	if len(sig)%4 != 0 && idx%4 == 0 {
		sig[len(sig)-1] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[idx+1]
		_, err := v.Verify(bg, parts[0]+"."+parts[1]+"."+string(sig))
		assertCode(t, err, ssf.CodeInvalidRequest)
	}
}

// TestTampering flips every character of a valid SET in turn: nothing is ever accepted,
// and every rejection is invalid_request or invalid_key.
func TestTampering(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			key := genKey(t, alg, "k")
			v := newTestVerifier(t, keySet(t, key), testConfig())
			raw, err := newTestSigner(t, key, SignerOptions{}).Sign(sessionRevoked())
			if err != nil {
				t.Fatal(err)
			}
			const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			counts := map[string]int{}
			for i := 0; i < len(raw); i++ {
				if raw[i] == '.' {
					continue
				}
				b := []byte(raw)
				b[i] = alphabet[(strings.IndexByte(alphabet, b[i])+1)%len(alphabet)]
				_, err := v.Verify(bg, string(b))
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("position %d: want a rejection, got %v", i, err)
				}
				counts[e.Code]++
			}
			for code := range counts {
				if code != ssf.CodeInvalidKey && code != ssf.CodeInvalidRequest {
					t.Errorf("unexpected code %s", code)
				}
			}
			t.Logf("rejections: %v", counts)
		})
	}
}

// TestSignatureEncodingStrictness checks the signature rules RFC 7518 sets: ECDSA R || S
// of exactly twice the coordinate size (a DER signature is refused), RSA and Ed25519
// signatures of the exact size.
func TestSignatureEncodingStrictness(t *testing.T) {
	for _, alg := range []string{"ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			key := genKey(t, alg, "k")
			v := newTestVerifier(t, keySet(t, key), testConfig())
			header := `{"alg":"` + alg + `","kid":"k","typ":"secevent+jwt"}`
			good := craft(t, key, header, validClaims)
			if _, err := v.Verify(bg, good); err != nil {
				t.Fatalf("valid: %v", err)
			}
			i := strings.LastIndexByte(good, '.')
			sig, _ := enc.DecodeString(good[i+1:])
			input := good[:i]
			variants := map[string][]byte{
				"one byte short":  sig[:len(sig)-1],
				"one byte longer": append(append([]byte(nil), sig...), 0),
				"leading zero":    append([]byte{0}, sig...),
				"empty":           {},
			}
			if ec, ok := key.Signer().(*ecdsa.PrivateKey); ok {
				h := algorithmByName([]byte(alg))
				var buf [64]byte
				der, err := ecdsa.SignASN1(rand.Reader, ec, h.digest(&buf, []byte(input)))
				if err != nil {
					t.Fatal(err)
				}
				variants["DER"] = der
				// r || s with r and s swapped does not verify.
				swapped := append(append([]byte(nil), sig[len(sig)/2:]...), sig[:len(sig)/2]...)
				variants["swapped"] = swapped
				variants["zeros"] = make([]byte, len(sig))
			}
			for name, s := range variants {
				_, err := v.Verify(bg, input+"."+enc.EncodeToString(s))
				var e *Error
				if !errors.As(err, &e) || e.Code != ssf.CodeInvalidKey && !(len(s) == 0 && e.Code == ssf.CodeInvalidRequest) {
					t.Errorf("%s: %v", name, err)
				}
			}
		})
	}
}

// TestDERSignature checks the DER encoding of ECDSA signatures against edge values.
func TestDERSignature(t *testing.T) {
	for _, c := range []struct {
		r, s []byte
		want string
	}{
		{[]byte{0, 1}, []byte{0x7f}, "300602010102017f"},
		{[]byte{0x80}, []byte{0, 0}, "300702020080020100"},
	} {
		got := fmt.Sprintf("%x", appendDERSignature(nil, c.r, c.s))
		if got != c.want {
			t.Errorf("DER(%x, %x) = %s, want %s", c.r, c.s, got, c.want)
		}
	}
	long := make([]byte, 66)
	long[0] = 0xff
	der := appendDERSignature(nil, long, long)
	if der[1] != 0x81 || int(der[2]) != len(der)-3 {
		t.Errorf("long form length wrong: %x", der[:4])
	}
	back, err := appendRawSignature(nil, der, 66)
	if err != nil || fmt.Sprintf("%x", back) != fmt.Sprintf("%x", append(long, long...)) {
		t.Errorf("round trip: %x, %v", back, err)
	}
	for _, bad := range [][]byte{nil, {0x31, 0}, {0x30, 2, 0x02, 5}, {0x30, 0x81}} {
		if _, err := appendRawSignature(nil, bad, 32); err == nil {
			t.Errorf("appendRawSignature(%x) succeeded", bad)
		}
	}
}

// TestKeySelection covers the kid policy, the JWK alg check and key rotation.
func TestKeySelection(t *testing.T) {
	k1 := testKey(t, "test-key-1", "RS256").WithKeyID("k1")
	k2 := testKey(t, "test-key-unknown", "RS256").WithKeyID("k2")
	noKid := func(k *keys.SigningKey) string {
		return craft(t, k, `{"alg":"RS256","typ":"secevent+jwt"}`, validClaims)
	}

	// One key: a SET without kid is accepted, unless RequireKeyID.
	one := keySet(t, k1)
	if _, err := newTestVerifier(t, one, testConfig()).Verify(bg, noKid(k1)); err != nil {
		t.Errorf("no kid, one key: %v", err)
	}
	cfg := testConfig()
	cfg.RequireKeyID = true
	_, err := newTestVerifier(t, one, cfg).Verify(bg, noKid(k1))
	assertCode(t, err, ssf.CodeInvalidKey)
	_, err = newTestVerifier(t, one, testConfig()).Verify(bg, noKid(k2))
	assertCode(t, err, ssf.CodeInvalidKey)

	// Two keys: a kid is needed.
	two := keySet(t, k1, k2)
	_, err = newTestVerifier(t, two, testConfig()).Verify(bg, noKid(k1))
	assertCode(t, err, ssf.CodeInvalidKey)

	// Key rotation through keys.SigningKeys: old and new kid verify while both are
	// published; after removal the old one is an unknown kid.
	sk, err := keys.NewSigningKeys(k1)
	if err != nil {
		t.Fatal(err)
	}
	v := newTestVerifier(t, sk, testConfig())
	old, err := newTestSigner(t, sk.Active(), SignerOptions{}).Sign(sessionRevoked())
	if err != nil {
		t.Fatal(err)
	}
	if err := sk.Rotate(k2); err != nil {
		t.Fatal(err)
	}
	cur, err := newTestSigner(t, sk.Active(), SignerOptions{}).Sign(sessionRevoked())
	if err != nil {
		t.Fatal(err)
	}
	for name, raw := range map[string]string{"old": old, "new": cur} {
		if _, err := v.Verify(bg, raw); err != nil {
			t.Errorf("%s kid after rotation: %v", name, err)
		}
	}
	if err := sk.Remove("k1"); err != nil {
		t.Fatal(err)
	}
	_, err = v.Verify(bg, old)
	assertCode(t, err, ssf.CodeInvalidKey)
	if !errors.Is(err, keys.ErrUnknownKeyID) {
		t.Errorf("the cause should be keys.ErrUnknownKeyID: %v", err)
	}

	// A published key whose alg is another algorithm does not verify (even if the key
	// type would fit).
	pub := k1.Public()
	pub.Algorithm = "PS256"
	ps, err := keys.NewStaticKeySet(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = newTestVerifier(t, ps, testConfig()).Verify(bg, craft(t, k1, rsHeader("k1"), validClaims))
	assertCode(t, err, ssf.CodeInvalidKey)

	// Two keys under one kid (RFC 7517 §4.5): the one that verifies is used.
	a, b := k2.Public(), k1.Public()
	a.KeyID, b.KeyID = "same", "same"
	dup, err := keys.NewStaticKeySet(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newTestVerifier(t, dup, testConfig()).Verify(bg, craft(t, k1, rsHeader("same"), validClaims)); err != nil {
		t.Errorf("duplicate kid: %v", err)
	}
}

// fakeKeySet returns fixed keys or an error.
type fakeKeySet struct {
	keys []jose.JSONWebKey
	err  error
}

func (f fakeKeySet) Keys(ctx context.Context, kid string) ([]jose.JSONWebKey, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f.keys, f.err
}

// TestKeySetFailures: errors that are not about the SET are not *Error values, so a push
// endpoint answers 5xx and the transmitter retries.
func TestKeySetFailures(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	raw := craft(t, key, rsHeader("test-key-1"), validClaims)
	fetch := errors.New("jwks_uri unreachable")
	_, err := newTestVerifier(t, fakeKeySet{err: fmt.Errorf("%w: %w", keys.ErrFetch, fetch)}, testConfig()).Verify(bg, raw)
	var e *Error
	if err == nil || errors.As(err, &e) || !errors.Is(err, fetch) {
		t.Errorf("fetch failure: %v", err)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err = newTestVerifier(t, fakeKeySet{keys: []jose.JSONWebKey{key.Public()}}, testConfig()).Verify(ctx, raw)
	if !errors.Is(err, context.Canceled) || errors.As(err, &e) {
		t.Errorf("canceled: %v", err)
	}
	// A foreign key set handing out something unusable: invalid_key, never a panic.
	for name, k := range map[string]any{
		"symmetric": []byte("secret"),
		"private":   key.Signer(),
		"nil":       nil,
		"small rsa": weakRSA(t),
	} {
		_, err := newTestVerifier(t, fakeKeySet{keys: []jose.JSONWebKey{{Key: k, KeyID: "test-key-1"}}}, testConfig()).Verify(bg, raw)
		assertCodeNamed(t, name, err, ssf.CodeInvalidKey)
	}
}

// TestNewVerifierChecks refuses incomplete or contradictory configurations.
func TestNewVerifierChecks(t *testing.T) {
	ks := keySet(t, testKey(t, "test-key-1", "RS256"))
	for name, cfg := range map[string]Config{
		"zero":               {},
		"no issuer":          {Audiences: []string{"a"}},
		"no audience":        {Issuer: "i"},
		"empty audience":     {Issuer: "i", Audiences: []string{""}},
		"none":               {Issuer: "i", Audiences: []string{"a"}, Algorithms: []string{"none"}},
		"HS256":              {Issuer: "i", Audiences: []string{"a"}, Algorithms: []string{"RS256", "HS256"}},
		"unknown alg":        {Issuer: "i", Audiences: []string{"a"}, Algorithms: []string{"RSA-OAEP"}},
		"negative skew":      {Issuer: "i", Audiences: []string{"a"}, MaxClockSkew: -1},
		"negative size":      {Issuer: "i", Audiences: []string{"a"}, MaxTokenBytes: -1},
		"nil decryption key": {Issuer: "i", Audiences: []string{"a"}, DecryptionKeys: []*keys.DecryptionKey{nil}},
		"encryption no keys": {Issuer: "i", Audiences: []string{"a"}, RequireEncryption: true},
	} {
		if _, err := NewVerifier(ks, cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewVerifier(nil, Config{SkipIssuerCheck: true, SkipAudienceCheck: true}); err == nil {
		t.Error("nil key set accepted")
	}
	v, err := NewVerifier(ks, Config{SkipIssuerCheck: true, SkipAudienceCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.algorithms) != len(DefaultAlgorithms()) || v.skew != DefaultMaxClockSkew || v.maxBytes != DefaultMaxTokenBytes {
		t.Errorf("defaults: %d algorithms, skew %v, max %d", len(v.algorithms), v.skew, v.maxBytes)
	}
}

// TestSkipChecks: skipping issuer and audience still requires iss.
func TestSkipChecks(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	v := newTestVerifier(t, keySet(t, key), Config{SkipIssuerCheck: true, SkipAudienceCheck: true})
	if _, err := v.Verify(bg, craft(t, key, rsHeader("test-key-1"), strings.Replace(validClaims, `"aud":"https://sp.example.com/caep",`, "", 1))); err != nil {
		t.Errorf("no aud with SkipAudienceCheck: %v", err)
	}
	_, err := v.Verify(bg, craft(t, key, rsHeader("test-key-1"), strings.Replace(validClaims, `"iss":"https://idp.example.com/123456789/",`, "", 1)))
	assertCode(t, err, ssf.CodeInvalidRequest)
	// Default algorithms do not include RS512.
	k512 := testKey(t, "test-key-1", "RS512")
	_, err = v.Verify(bg, craft(t, k512, `{"alg":"RS512","kid":"test-key-1","typ":"secevent+jwt"}`, validClaims))
	assertCode(t, err, ssf.CodeInvalidKey)
}

// TestIssuerTrailingSlash (vendors.md §5.1 item 3, Google).
func TestIssuerTrailingSlash(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	cfg := Config{Issuer: "https://idp.example.com/123456789", IssuerTrailingSlashInsensitive: true, Audiences: []string{testAudience}}
	v := newTestVerifier(t, keySet(t, key), cfg)
	if _, err := v.Verify(bg, craft(t, key, rsHeader("test-key-1"), validClaims)); err != nil {
		t.Errorf("trailing slash: %v", err)
	}
	for _, iss := range []string{"https://idp.example.com/123456789//", "https://idp.example.com/12345678", ""} {
		claims := strings.Replace(validClaims, "https://idp.example.com/123456789/", iss, 1)
		_, err := v.Verify(bg, craft(t, key, rsHeader("test-key-1"), claims))
		assertCode(t, err, ssf.CodeInvalidIssuer)
	}
}

// TestCriticalSubjectMembers (SSF §3.6, SUBJ-22, TV-GEN-19, AMB-27).
func TestCriticalSubjectMembers(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	claims := strings.Replace(validClaims, `{"format":"opaque","id":"x"}`,
		`{"format":"complex","user":{"format":"email","email":"a@example.com"},"badge":{"format":"opaque","id":"b"}}`, 1)
	raw := craft(t, key, rsHeader("test-key-1"), claims)
	for _, c := range []struct {
		name                 string
		critical, understood []string
		discard              bool
	}{
		{"no critical members", nil, nil, false},
		{"critical and understood", []string{"user"}, nil, false},
		{"custom member critical, not understood", []string{"badge"}, nil, true},
		{"custom member critical, understood", []string{"badge"}, []string{"user", "badge"}, false},
		{"critical member absent", []string{"device"}, []string{"user"}, false},
		{"default member not understood", []string{"user"}, []string{"device"}, true},
	} {
		cfg := testConfig()
		cfg.CriticalSubjectMembers, cfg.SubjectMembers = c.critical, c.understood
		tok, err := newTestVerifier(t, keySet(t, key), cfg).Verify(bg, raw)
		if c.discard {
			var e *Error
			if !errors.Is(err, ErrDiscard) || errors.As(err, &e) || tok == nil {
				t.Errorf("%s: want discard, got %v", c.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// A simple sub_id is never discarded.
	cfg := testConfig()
	cfg.CriticalSubjectMembers, cfg.SubjectMembers = []string{"user"}, []string{}
	if _, err := newTestVerifier(t, keySet(t, key), cfg).Verify(bg, craft(t, key, rsHeader("test-key-1"), validClaims)); err != nil {
		t.Errorf("simple subject: %v", err)
	}
	// An invalid SET is reported as invalid even when it would also be discarded.
	bad := strings.Replace(claims, `"iat":1615305159,`, "", 1)
	cfg.CriticalSubjectMembers = []string{"badge"}
	_, err := newTestVerifier(t, keySet(t, key), cfg).Verify(bg, craft(t, key, rsHeader("test-key-1"), bad))
	assertCode(t, err, ssf.CodeInvalidRequest)
}

// TestCheckVerification covers SSF §8.1.4.1 (SSF-VERIFY-3/4, AMB-22, TV-GEN-15/16).
func TestCheckVerification(t *testing.T) {
	tok := func(id subject.Identifier, state string) *Token {
		return &Token{Subject: id, Event: &ssf.Verification{State: state}}
	}
	stream := &subject.Opaque{ID: testStream}
	cases := []struct {
		name     string
		tok      *Token
		expected string
		code     string
	}{
		{"requested, matching", tok(stream, "s1"), "s1", ""},
		{"requested, wrong state", tok(stream, "s2"), "s1", ssf.CodeInvalidState},
		{"requested, no state", tok(stream, ""), "s1", ssf.CodeInvalidState},
		{"requested, prefix", tok(stream, "s"), "s1", ssf.CodeInvalidState},
		{"unsolicited, no state", tok(stream, ""), "", ""},
		{"unsolicited, with state", tok(stream, "x"), "", ""},
		{"other stream", tok(&subject.Opaque{ID: "other"}, "s1"), "s1", ssf.CodeInvalidRequest},
		{"not opaque", tok(&subject.Email{Email: "a@example.com"}, "s1"), "s1", ssf.CodeInvalidRequest},
		{"no subject", tok(nil, "s1"), "s1", ssf.CodeInvalidRequest},
		{"no subject, compat", &Token{Event: &ssf.Verification{State: "s1"}, Leniency: LenientVerificationWithoutSubID}, "s1", ""},
		{"not verification", &Token{Subject: stream, Event: &ssf.StreamUpdated{Status: ssf.StatusPaused}}, "", ssf.CodeInvalidRequest},
	}
	for _, c := range cases {
		err := CheckVerification(c.tok, testStream, c.expected)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != c.code {
			t.Errorf("%s: want %s, got %v", c.name, c.code, err)
		}
		if c.code == ssf.CodeInvalidState && (!errors.Is(err, ErrInvalidState) || strings.Contains(e.Description, c.expected)) {
			t.Errorf("%s: the description must not reveal the expected state: %q", c.name, e.Description)
		}
	}
	// Stream-updated (SSF-UPDATED-5).
	su := &Token{Subject: stream, Event: &ssf.StreamUpdated{Status: ssf.StatusPaused}}
	if err := CheckStreamUpdated(su, testStream); err != nil {
		t.Error(err)
	}
	for name, tk := range map[string]*Token{
		"other stream":      {Subject: &subject.Opaque{ID: "x"}, Event: &ssf.StreamUpdated{Status: ssf.StatusPaused}},
		"not opaque":        {Subject: &subject.Email{Email: "a@example.com"}, Event: &ssf.StreamUpdated{Status: ssf.StatusPaused}},
		"not the event":     {Subject: stream, Event: &ssf.Verification{}},
		"no subject at all": {Event: &ssf.StreamUpdated{Status: ssf.StatusPaused}},
	} {
		assertCodeNamed(t, name, CheckStreamUpdated(tk, testStream), ssf.CodeInvalidRequest)
	}
}

// TestCompatibility exercises each tolerance on its own: off, the SET is rejected; on,
// it is accepted with exactly that tolerance recorded.
func TestCompatibility(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	ks := keySet(t, key)
	const (
		env = `"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159,"aud":"https://sp.example.com/caep"`
		sub = `"sub_id":{"format":"opaque","id":"x"}`
		sr  = `https://schemas.openid.net/secevent/caep/event-type/session-revoked`
	)
	cases := []struct {
		name   string
		header string
		claims string
		on     func(*Compatibility)
		want   Leniency
		check  func(*testing.T, *Token)
		// strictOK: the strict verifier accepts the SET too, reading it differently (an
		// unknown event type, a member kept verbatim, a number taken as it is).
		strictOK bool
	}{
		{"typ JWT", `{"alg":"RS256","kid":"test-key-1","typ":"JWT"}`, validClaims,
			func(c *Compatibility) { c.AllowJWTType = true }, LenientType, nil, false},
		{"typ application/jwt", `{"alg":"RS256","kid":"test-key-1","typ":"application/jwt"}`, validClaims,
			func(c *Compatibility) { c.AllowJWTType = true }, LenientType, nil, false},
		{"no typ", `{"alg":"RS256","kid":"test-key-1"}`, validClaims,
			func(c *Compatibility) { c.AllowJWTType = true }, LenientType, nil, false},
		{"in-event subject", "", `{` + env + `,"events":{"` + sr + `":{"subject":{"format":"email","email":"a@example.com"},"event_timestamp":1}}}`,
			func(c *Compatibility) { c.InEventSubject = true }, LenientInEventSubject,
			func(t *testing.T, tok *Token) {
				if e, ok := tok.Subject.(*subject.Email); !ok || e.Email != "a@example.com" {
					t.Errorf("subject %v", tok.Subject)
				}
				if ev := tok.Event.(*caep.SessionRevoked); ev.Extra != nil || ev.EventTimestamp != 1 {
					t.Errorf("the lifted subject is still in the event: %+v", ev)
				}
			}, false},
		{"in-event subject of an unknown type", "", `{` + env + `,"events":{"urn:example:e":{"a":1,"subject":{"format":"opaque","id":"y"}}}}`,
			func(c *Compatibility) { c.InEventSubject = true }, LenientInEventSubject,
			func(t *testing.T, tok *Token) {
				if string(tok.Event.(*event.Raw).Payload) != `{"a":1}` {
					t.Errorf("payload %s", tok.Event.(*event.Raw).Payload)
				}
			}, false},
		{"legacy subject shape in sub_id", "", `{` + env + `,"sub_id":{"subject_type":"iss-sub","iss":"a","sub":"b"},"events":{"` + sr + `":{}}}`,
			func(c *Compatibility) { c.LegacySubjectShapes = true }, LenientSubjectType | LenientLegacyFormatName, nil, false},
		{"legacy event type", "", `{` + env + `,` + sub + `,"events":{"https://schemas.openid.net/secevent/sse/event-type/verification":{"state":"s"}}}`,
			func(c *Compatibility) { c.LegacyEventTypes = true }, LenientLegacyEventType,
			func(t *testing.T, tok *Token) {
				if v, ok := tok.Event.(*ssf.Verification); !ok || v.State != "s" || tok.ReceivedEventType != ssf.LegacyEventTypeVerificationSSE {
					t.Errorf("event %T %+v, received %q", tok.Event, tok.Event, tok.ReceivedEventType)
				}
				b, _ := tok.MarshalJSON()
				if !strings.Contains(string(b), ssf.EventTypeVerification) {
					t.Errorf("re-encoded under the legacy URI: %s", b)
				}
			}, true},
		{"multiple events", "", `{` + env + `,` + sub + `,"events":{"urn:example:first":{"a":1},"` + sr + `":{"event_timestamp":5},"urn:example:last":{}}}`,
			func(c *Compatibility) { c.MultipleEvents = true }, LenientMultipleEvents,
			func(t *testing.T, tok *Token) {
				if _, ok := tok.Event.(*caep.SessionRevoked); !ok || len(tok.OtherEvents) != 2 ||
					tok.OtherEvents[0].EventType != "urn:example:first" || string(tok.OtherEvents[0].Payload) != `{"a":1}` {
					t.Errorf("event %T, others %v", tok.Event, tok.OtherEvents)
				}
			}, false},
		{"multiple unknown events", "", `{` + env + `,` + sub + `,"events":{"urn:example:first":{"a":1},"urn:example:second":{}}}`,
			func(c *Compatibility) { c.MultipleEvents = true }, LenientMultipleEvents,
			func(t *testing.T, tok *Token) {
				if tok.Event.Type() != "urn:example:first" {
					t.Errorf("event %s", tok.Event.Type())
				}
			}, false},
		{"verification without sub_id", "", `{` + env + `,"events":{"https://schemas.openid.net/secevent/ssf/event-type/verification":{}}}`,
			func(c *Compatibility) { c.VerificationWithoutSubID = true }, LenientVerificationWithoutSubID,
			func(t *testing.T, tok *Token) {
				if tok.Subject != nil || CheckVerification(tok, testStream, "") != nil {
					t.Errorf("subject %v", tok.Subject)
				}
			}, false},
		{"sub and exp", "", `{` + env + `,"sub":"x","exp":1,` + sub + `,"events":{"` + sr + `":{}}}`,
			func(c *Compatibility) { c.IgnoreSubAndExp = true }, LenientSubClaim | LenientExpClaim,
			func(t *testing.T, tok *Token) {
				if tok.Extra != nil {
					t.Errorf("sub and exp kept: %v", tok.Extra)
				}
			}, false},
		{"iat in milliseconds", "", strings.Replace(validClaims, "1615305159", "1615305159123", 1),
			func(c *Compatibility) { c.MillisecondTimestamps = true }, LenientMillisecondIssuedAt,
			func(t *testing.T, tok *Token) {
				if tok.IssuedAt.Unix() != 1615305159 {
					t.Errorf("iat %v", tok.IssuedAt)
				}
			}, false},
		{"event_timestamp in milliseconds, float", "", strings.Replace(validClaims, "1615304991", "1615304991643.5", 1),
			func(c *Compatibility) { c.MillisecondTimestamps = true }, LenientMillisecondEventTimestamp,
			func(t *testing.T, tok *Token) {
				if ts := tok.Event.(*caep.SessionRevoked).EventTimestamp; ts != 1615304991 {
					t.Errorf("event_timestamp %d", ts)
				}
			}, true},
		{"occurred_at", "", strings.Replace(validClaims, "event_timestamp", "occurred_at", 1),
			func(c *Compatibility) { c.OccurredAt = true }, LenientOccurredAt,
			func(t *testing.T, tok *Token) {
				if ev := tok.Event.(*caep.SessionRevoked); ev.EventTimestamp != 1615304991 || ev.Extra != nil {
					t.Errorf("event %+v", ev)
				}
			}, true},
		{"txn number", "", `{` + env + `,"txn":8675309,` + sub + `,"events":{"` + sr + `":{}}}`,
			func(c *Compatibility) { c.NumericTxn = true }, LenientNumericTxn,
			func(t *testing.T, tok *Token) {
				if tok.TxnID != "8675309" {
					t.Errorf("txn %q", tok.TxnID)
				}
			}, false},
		{"reason strings", "", `{` + env + `,` + sub + `,"events":{"` + sr + `":{"reason_admin":"Policy Violation: C076E82F","reason_user":"Bye"}}}`,
			func(c *Compatibility) { c.StringReasons = true }, LenientStringReason,
			func(t *testing.T, tok *Token) {
				ev := tok.Event.(*caep.SessionRevoked)
				if ev.ReasonAdmin["und"] != "Policy Violation: C076E82F" || ev.ReasonUser["und"] != "Bye" {
					t.Errorf("reasons %v %v", ev.ReasonAdmin, ev.ReasonUser)
				}
			}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			header := c.header
			if header == "" {
				header = rsHeader("test-key-1")
			}
			raw := craft(t, key, header, c.claims)
			strict, err := newTestVerifier(t, ks, testConfig()).Verify(bg, raw)
			if c.strictOK {
				if err != nil || strict.Leniency != 0 {
					t.Fatalf("strict: %v", err)
				}
			} else {
				assertCode(t, err, ssf.CodeInvalidRequest)
			}
			cfg := testConfig()
			c.on(&cfg.Compatibility)
			tok, err := newTestVerifier(t, ks, cfg).Verify(bg, raw)
			if err != nil {
				t.Fatalf("with the tolerance: %v", err)
			}
			if tok.Leniency != c.want {
				t.Errorf("Leniency = %v, want %v", tok.Leniency, c.want)
			}
			if c.check != nil {
				c.check(t, tok)
			}
			// Everything on gives the same result (the other tolerances do not fire).
			cfg.Compatibility = FullCompatibility()
			all, err := newTestVerifier(t, ks, cfg).Verify(bg, raw)
			if err != nil || all.Leniency != c.want {
				t.Errorf("FullCompatibility: %v, Leniency %v", err, all.Leniency)
			}
		})
	}
}

// TestCompatibilityEdges: tolerances that must not fire.
func TestCompatibilityEdges(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	cfg := testConfig()
	cfg.Compatibility = FullCompatibility()
	v := newTestVerifier(t, keySet(t, key), cfg)
	const env = `"iss":"https://idp.example.com/123456789/","jti":"j1","iat":1615305159,"aud":"https://sp.example.com/caep"`
	const sr = `https://schemas.openid.net/secevent/caep/event-type/session-revoked`
	for _, c := range []struct {
		name, claims string
		code         string
		check        func(*testing.T, *Token)
	}{
		{"sub_id wins over in-event subject", `{` + env + `,"sub_id":{"format":"opaque","id":"top"},"events":{"` + sr + `":{"subject":{"format":"opaque","id":"inner"}}}}`, "",
			func(t *testing.T, tok *Token) {
				if tok.Subject.(*subject.Opaque).ID != "top" || tok.Leniency != 0 {
					t.Errorf("subject %v, leniency %v", tok.Subject, tok.Leniency)
				}
				if _, ok := tok.Event.(*caep.SessionRevoked).Extra["subject"]; !ok {
					t.Error("the in-event subject must stay in the payload")
				}
			}},
		{"event_timestamp in seconds stays", `{` + env + `,"sub_id":{"format":"opaque","id":"x"},"events":{"` + sr + `":{"event_timestamp":1615304991}}}`, "",
			func(t *testing.T, tok *Token) {
				if tok.Leniency != 0 {
					t.Errorf("leniency %v", tok.Leniency)
				}
			}},
		{"occurred_at beside event_timestamp stays", `{` + env + `,"sub_id":{"format":"opaque","id":"x"},"events":{"` + sr + `":{"event_timestamp":5,"occurred_at":6}}}`, "",
			func(t *testing.T, tok *Token) {
				ev := tok.Event.(*caep.SessionRevoked)
				if ev.EventTimestamp != 5 || string(ev.Extra["occurred_at"]) != "6" {
					t.Errorf("event %+v", ev)
				}
			}},
		{"raw payload is not rewritten", `{` + env + `,"sub_id":{"format":"opaque","id":"x"},"events":{"urn:x:y":{"event_timestamp":1615304991643,"reason_admin":"x"}}}`, "",
			func(t *testing.T, tok *Token) {
				if string(tok.Event.(*event.Raw).Payload) != `{"event_timestamp":1615304991643,"reason_admin":"x"}` || tok.Leniency != 0 {
					t.Errorf("payload %s", tok.Event.(*event.Raw).Payload)
				}
			}},
		{"no subject anywhere", `{` + env + `,"events":{"` + sr + `":{}}}`, ssf.CodeInvalidRequest, nil},
		{"invalid in-event subject", `{` + env + `,"events":{"` + sr + `":{"subject":{"format":"email"}}}}`, ssf.CodeInvalidRequest, nil},
		{"txn object", `{` + env + `,"txn":{},"sub_id":{"format":"opaque","id":"x"},"events":{"` + sr + `":{}}}`, ssf.CodeInvalidRequest, nil},
		{"typed payload still strict", `{` + env + `,"sub_id":{"format":"opaque","id":"x"},"events":{"` + sr + `":{"initiating_entity":"robot"}}}`, ssf.CodeInvalidRequest, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok, err := v.Verify(bg, craft(t, key, rsHeader("test-key-1"), c.claims))
			if c.code != "" {
				assertCode(t, err, c.code)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, tok)
		})
	}
	// typ other than JWT stays rejected.
	_, err := v.Verify(bg, craft(t, key, `{"alg":"RS256","kid":"test-key-1","typ":"at+jwt"}`, validClaims))
	assertCode(t, err, ssf.CodeInvalidRequest)
}

// TestLeniencyString names the tolerances.
func TestLeniencyString(t *testing.T) {
	if s := Leniency(0).String(); s != "none" {
		t.Errorf("zero: %q", s)
	}
	if s := (LenientInEventSubject | LenientSubjectType).String(); s != "in-event-subject|subject_type" {
		t.Errorf("got %q", s)
	}
	all := lenientEnd - 1
	if n := strings.Count(all.String(), "|") + 1; n != len(leniencyNames) {
		t.Errorf("%d names for %d tolerances", n, len(leniencyNames))
	}
	if s := Leniency(1 << 30).String(); s != "unknown" {
		t.Errorf("unknown bit: %q", s)
	}
	if !(LenientType | LenientSubClaim).Has(LenientSubClaim) || LenientType.Has(LenientSubClaim) {
		t.Error("Has")
	}
}

// TestErrorType: message, Is, Unwrap, sentinels for every code.
func TestErrorType(t *testing.T) {
	cause := errors.New("cause")
	e := &Error{Code: ssf.CodeInvalidKey, Description: "bad key", Err: cause}
	if e.Error() != "set: invalid_key: bad key" || !errors.Is(e, ErrInvalidKey) || errors.Is(e, ErrInvalidRequest) || !errors.Is(e, cause) {
		t.Errorf("Error %q", e.Error())
	}
	for code, s := range map[string]error{
		ssf.CodeInvalidRequest: ErrInvalidRequest, ssf.CodeInvalidKey: ErrInvalidKey,
		ssf.CodeInvalidIssuer: ErrInvalidIssuer, ssf.CodeInvalidAudience: ErrInvalidAudience,
		ssf.CodeAuthenticationFailed: ErrAuthenticationFailed, ssf.CodeAccessDenied: ErrAccessDenied,
		ssf.CodeInvalidState: ErrInvalidState,
	} {
		if !errors.Is(&Error{Code: code}, s) || !strings.HasSuffix(s.Error(), code) {
			t.Errorf("sentinel of %s", code)
		}
	}
	if errors.Is(&Error{Code: "other"}, ErrInvalidKey) {
		t.Error("unknown code matches a sentinel")
	}
	long := quote(strings.Repeat("é", 100))
	if len(long) > 80 || !strings.HasSuffix(long, "…") {
		t.Errorf("quote truncation: %s", long)
	}
}

// TestParseUnverified shows the header with unknown parameters and checks the claims.
func TestParseUnverified(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	raw := craft(t, key, `{"alg":"RS256","kid":"test-key-1","typ":"JWT","crit":["x"],"x":{"a":1}}`, validClaims)
	h, tok, err := ParseUnverified(raw, DecodeOptions{})
	if err != nil || tok.JTI != "j1" {
		t.Fatalf("ParseUnverified: %v", err)
	}
	if h.Type != "JWT" || len(h.Critical) != 1 || h.Critical[0] != "x" || string(h.Extra["x"]) != `{"a":1}` || tok.Leniency != 0 {
		t.Errorf("header %+v, leniency %v", h, tok.Leniency)
	}
	_, tok, err = ParseUnverified(raw, DecodeOptions{Compatibility: Compatibility{AllowJWTType: true}})
	if err != nil || tok.Leniency != LenientType {
		t.Errorf("compat: %v %v", err, tok.Leniency)
	}
	for _, bad := range []string{"a.b", "!!.b.c", enc.EncodeToString([]byte(`{"alg":"RS256"}`)) + ".!!.c"} {
		if _, _, err := ParseUnverified(bad, DecodeOptions{}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestParseClaims covers the claim checks that need no configuration.
func TestParseClaims(t *testing.T) {
	tok, err := ParseClaims([]byte(validClaims), DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Issuer != testIssuer || tok.Audience[0] != testAudience || tok.IssuedAt.Unix() != 1615305159 {
		t.Errorf("token %+v", tok)
	}
	// The token does not alias the input.
	in := []byte(strings.Replace(validClaims, `"jti":"j1"`, `"jti":"j1","x":"keep"`, 1))
	tok, err = ParseClaims(in, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		in[i] = ' '
	}
	if string(tok.Extra["x"]) != `"keep"` {
		t.Errorf("Extra aliases the input: %q", tok.Extra["x"])
	}
	// No clock, issuer or audience checks; the structural ones apply.
	future := strings.Replace(validClaims, "1615305159", fmt.Sprint(time.Now().Add(24*time.Hour).Unix()), 1)
	if _, err := ParseClaims([]byte(future), DecodeOptions{}); err != nil {
		t.Errorf("future iat: %v", err)
	}
	_, err = ParseClaims([]byte(strings.Replace(validClaims, `"jti":"j1",`, "", 1)), DecodeOptions{})
	assertCode(t, err, ssf.CodeInvalidRequest)
	// A registry passed in is used.
	reg := event.NewRegistry()
	tok, err = ParseClaims([]byte(validClaims), DecodeOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tok.Event.(*event.Raw); !ok {
		t.Errorf("empty registry decoded %T", tok.Event)
	}
}

// TestStateCompareIsHashed guards the constant-time comparison: equal states of any
// length match.
func TestStateCompareIsHashed(t *testing.T) {
	long := strings.Repeat("s", 1000)
	tok := &Token{Subject: &subject.Opaque{ID: testStream}, Event: &ssf.Verification{State: long}}
	if err := CheckVerification(tok, testStream, long); err != nil {
		t.Error(err)
	}
}

// weakRSA returns a 1024-bit RSA public key, which must never verify (IOP-16).
func weakRSA(t *testing.T) any {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return &k.PublicKey
}

// TestJWEInputChecks: what Verify refuses in the JWE wrapping a SET.
func TestJWEInputChecks(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	ks := keySet(t, key)
	dk := encKey(t, "RSA-OAEP-256")
	jws, err := newTestSigner(t, key, SignerOptions{}).Sign(sessionRevoked())
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.DecryptionKeys = []*keys.DecryptionKey{dk}
	v := newTestVerifier(t, ks, cfg)
	encrypt := func(alg jose.KeyAlgorithm, enc jose.ContentEncryption, kid string, opts *jose.EncrypterOptions, plaintext string) string {
		t.Helper()
		e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: dk.Public().Key, KeyID: kid}, opts)
		if err != nil {
			t.Fatal(err)
		}
		obj, err := e.Encrypt([]byte(plaintext))
		if err != nil {
			t.Fatal(err)
		}
		out, err := obj.CompactSerialize()
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	plain := func() *jose.EncrypterOptions { return &jose.EncrypterOptions{} }
	cases := []struct {
		name, raw, code string
	}{
		{"A128GCM, no kid, no typ or cty", encrypt(jose.RSA_OAEP_256, jose.A128GCM, "", plain(), jws), ""},
		{"A128CBC-HS256", encrypt(jose.RSA_OAEP_256, jose.A128CBC_HS256, dk.KeyID(), plain().WithContentType("JWT"), jws), ""},
		{"typ JWT", encrypt(jose.RSA_OAEP_256, jose.A256GCM, dk.KeyID(), plain().WithType("JWT"), jws), ""},
		{"typ other", encrypt(jose.RSA_OAEP_256, jose.A256GCM, dk.KeyID(), plain().WithType("at+jwt"), jws), ssf.CodeInvalidRequest},
		{"cty other", encrypt(jose.RSA_OAEP_256, jose.A256GCM, dk.KeyID(), plain().WithContentType("json"), jws), ssf.CodeInvalidRequest},
		{"compressed", encrypt(jose.RSA_OAEP_256, jose.A256GCM, dk.KeyID(), &jose.EncrypterOptions{Compression: jose.DEFLATE}, jws), ssf.CodeInvalidRequest},
		{"crit", encrypt(jose.RSA_OAEP_256, jose.A256GCM, dk.KeyID(), plain().WithHeader("crit", []string{"x"}).WithHeader("x", 1), jws), ssf.CodeInvalidRequest},
		{"RSA-OAEP (SHA-1)", encrypt(jose.RSA_OAEP, jose.A256GCM, dk.KeyID(), plain(), jws), ssf.CodeInvalidKey},
		{"unknown kid", encrypt(jose.RSA_OAEP_256, jose.A256GCM, "other", plain(), jws), ssf.CodeInvalidKey},
		{"not a JWS inside", encrypt(jose.RSA_OAEP_256, jose.A256GCM, dk.KeyID(), plain(), `{"iss":"x"}`), ssf.CodeInvalidRequest},
		{"unsecured JWS inside", encrypt(jose.RSA_OAEP_256, jose.A256GCM, dk.KeyID(), plain(), unsecured([]byte(`{"alg":"none","typ":"secevent+jwt"}`), []byte(validClaims))), ssf.CodeInvalidKey},
		{"malformed", "a.b.c.d.e", ssf.CodeInvalidRequest},
	}
	for _, c := range cases {
		_, err := v.Verify(bg, c.raw)
		if c.code == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		assertCodeNamed(t, c.name, err, c.code)
	}
	// A tampered ciphertext is invalid_key.
	good := encrypt(jose.RSA_OAEP_256, jose.A256GCM, dk.KeyID(), plain(), jws)
	parts := strings.Split(good, ".")
	ct := []byte(parts[3])
	ct[0] ^= 1
	parts[3] = string(ct)
	_, err = v.Verify(bg, strings.Join(parts, "."))
	var e *Error
	if !errors.As(err, &e) || (e.Code != ssf.CodeInvalidKey && e.Code != ssf.CodeInvalidRequest) {
		t.Errorf("tampered ciphertext: %v", err)
	}
}

// TestCustomRegistry: a registry given in Config decodes its own types.
func TestCustomRegistry(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	reg := ssf.DefaultRegistry()
	if err := reg.Register("urn:example:custom", func() event.Event { return new(customEvent) }); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Registry = reg
	v := newTestVerifier(t, keySet(t, key), cfg)
	claims := strings.Replace(validClaims, `"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"event_timestamp":1615304991}`, `"urn:example:custom":{"level":3}`, 1)
	tok, err := v.Verify(bg, craft(t, key, rsHeader("test-key-1"), claims))
	if err != nil {
		t.Fatal(err)
	}
	if c, ok := tok.Event.(*customEvent); !ok || c.Level != 3 {
		t.Errorf("event %T %+v", tok.Event, tok.Event)
	}
	bad := strings.Replace(claims, `{"level":3}`, `{"level":-1}`, 1)
	_, err = v.Verify(bg, craft(t, key, rsHeader("test-key-1"), bad))
	assertCode(t, err, ssf.CodeInvalidRequest)
	// The default verifier knows nothing of it: a raw event.
	tok, err = newTestVerifier(t, keySet(t, key), testConfig()).Verify(bg, craft(t, key, rsHeader("test-key-1"), bad))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tok.Event.(*event.Raw); !ok {
		t.Errorf("event %T", tok.Event)
	}
}

type customEvent struct {
	Level int `json:"level"`
}

func (*customEvent) Type() string { return "urn:example:custom" }
func (e *customEvent) Validate() error {
	if e.Level < 0 {
		return &event.Error{Type: "urn:example:custom", Member: "level", Reason: "must not be negative"}
	}
	return nil
}

// TestConcurrentUse signs and verifies from several goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	key := genKey(t, "ES256", "k")
	dk := encKey(t, "ECDH-ES")
	pub := dk.Public()
	s := newTestSigner(t, key, SignerOptions{EncryptTo: &pub, Profile: ProfileHybrid})
	cfg := testConfig()
	cfg.DecryptionKeys = []*keys.DecryptionKey{dk}
	v := newTestVerifier(t, keySet(t, key), cfg)
	done := make(chan error)
	for range 4 {
		go func() {
			var err error
			for range 20 {
				var raw string
				if raw, err = s.Sign(sessionRevoked()); err != nil {
					break
				}
				if _, err = v.Verify(bg, raw); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestEmptyKid: "kid":"" counts as no kid.
func TestEmptyKid(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	raw := craft(t, key, `{"alg":"RS256","kid":"","typ":"secevent+jwt"}`, validClaims)
	if _, err := newTestVerifier(t, keySet(t, key), testConfig()).Verify(bg, raw); err != nil {
		t.Errorf("one key: %v", err)
	}
	cfg := testConfig()
	cfg.RequireKeyID = true
	_, err := newTestVerifier(t, keySet(t, key), cfg).Verify(bg, raw)
	assertCode(t, err, ssf.CodeInvalidKey)
}

// TestKeyUse: a key published for encryption never verifies, and nil tokens are refused.
func TestKeyUse(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	pub := key.Public()
	pub.Use = "enc"
	_, err := newTestVerifier(t, fakeKeySet{keys: []jose.JSONWebKey{pub}}, testConfig()).Verify(bg, craft(t, key, rsHeader("test-key-1"), validClaims))
	assertCode(t, err, ssf.CodeInvalidKey)
	assertCodeNamed(t, "CheckVerification(nil)", CheckVerification(nil, "s", ""), ssf.CodeInvalidRequest)
	assertCodeNamed(t, "CheckStreamUpdated(nil)", CheckStreamUpdated(nil, "s"), ssf.CodeInvalidRequest)
}
