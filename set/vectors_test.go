package set

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
)

// claimsVector is a published SET claims set (testdata/vectors/{set,caep,risc,ssf,vendor}).
type claimsVector struct {
	Name       string          `json:"name"`
	Kind       string          `json:"kind"`
	Valid      bool            `json:"valid"`
	Legacy     bool            `json:"legacy"`
	Fragment   bool            `json:"fragment"`
	JSON       json.RawMessage `json:"json"`
	Compact    string          `json:"compact"`
	Violations []string        `json:"violations"`
}

// invalidVector says what happens to a vector that is not a valid SSF 1.0 Final SET:
// the strict error code, and in full compatibility mode either a code or acceptance with
// the tolerances used and the claims the token re-encodes to (SSF 1.0 Final shape).
type invalidVector struct {
	// header replaces the JOSE header the SET is signed with (default
	// {"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt"}).
	header string
	// wrap gives the envelope claims of a fragment (merged under the vector's json).
	wrap   string
	strict string
	// compat is the code in compatibility mode; "" means accepted.
	compat     string
	leniency   Leniency
	normalized string
	// issuer configures the verifier's issuer when it differs from the SET's iss.
	issuer string
}

const headerNoTyp = `{"alg":"RS256","kid":"test-key-1"}`

var invalidVectors = map[string]invalidVector{
	"set/rfc8417-2.1.1-fig1-scim-password-reset.json": {strict: ssf.CodeInvalidRequest, compat: ssf.CodeInvalidRequest},
	"set/rfc8417-2.1.2-fig2-backchannel-logout.json":  {strict: ssf.CodeInvalidRequest, compat: ssf.CodeInvalidRequest},
	"set/rfc8417-2.1.3-fig3-consent.json":             {strict: ssf.CodeInvalidRequest, compat: ssf.CodeInvalidRequest},
	"set/rfc8417-2.1.4-fig4-risc-legacy.json": {
		strict:   ssf.CodeInvalidRequest,
		leniency: LenientInEventSubject | LenientSubjectType | LenientLegacyFormatName,
		normalized: `{"iss":"https://idp.example.com/","jti":"756E69717565206964656E746966696572","iat":1508184845,"aud":"636C69656E745F6964",
			"sub_id":{"format":"iss_sub","iss":"https://idp.example.com/","sub":"7375626A656374"},
			"events":{"https://schemas.openid.net/secevent/risc/event-type/account-disabled":{"reason":"hijacking"}}}`,
	},
	"set/rfc8417-2.4-fig5-scim-create.json":           {strict: ssf.CodeInvalidRequest, compat: ssf.CodeInvalidRequest},
	"set/rfc8417-2.4-fig6-unsecured-set-compact.json": {strict: ssf.CodeInvalidRequest, compat: ssf.CodeInvalidRequest},
	"set/rfc9493-1-ex3-set-multiple-subjects.json":    {strict: ssf.CodeInvalidRequest, compat: ssf.CodeInvalidRequest},
	"set/ssf-5-ex6-proprietary-subject-format.json":   {strict: ssf.CodeInvalidRequest, compat: ssf.CodeInvalidRequest},
	"vendor/okta-receiver-user-risk-change.json":      {strict: ssf.CodeInvalidRequest, leniency: LenientInEventSubject | LenientComplexWithoutFormat, normalized: oktaUserRiskChange},
	"vendor/okta-transmitter-credential-change.json":  {strict: ssf.CodeInvalidRequest, leniency: LenientInEventSubject | LenientMillisecondEventTimestamp, normalized: oktaCredentialChange},
	"vendor/okta-transmitter-session-revoked.json":    {strict: ssf.CodeInvalidRequest, leniency: LenientInEventSubject | LenientMillisecondEventTimestamp, normalized: oktaSessionRevoked},
	"vendor/okta-receiver-identifier-changed.json":    {strict: ssf.CodeInvalidRequest, leniency: LenientInEventSubject | LenientComplexWithoutFormat | LenientMillisecondEventTimestamp, normalized: oktaIdentifierChanged},
	"vendor/okta-transmitter-credential-change-reset-all.json": {
		strict: ssf.CodeInvalidRequest, leniency: LenientInEventSubject | LenientMillisecondEventTimestamp, normalized: oktaResetAll,
	},
	"vendor/omnissa-device-compliance-change.json": {strict: ssf.CodeInvalidRequest, leniency: LenientNumericTxn, normalized: omnissa},
	"vendor/google-risc-account-disabled.json": {
		strict: ssf.CodeInvalidRequest, leniency: LenientInEventSubject | LenientSubjectType | LenientLegacyFormatName,
		issuer: "https://accounts.google.com",
		normalized: `{"iss":"https://accounts.google.com/","aud":"123456789-abcedfgh.apps.googleusercontent.com","iat":1508184845,"jti":"756E69717565206964656E746966696572",
			"sub_id":{"format":"iss_sub","iss":"https://accounts.google.com/","sub":"7375626A656374"},
			"events":{"https://schemas.openid.net/secevent/risc/event-type/account-disabled":{"reason":"hijacking"}}}`,
	},
	"vendor/login-gov-authorization-fraud-detected.json": {
		strict: ssf.CodeInvalidRequest, leniency: LenientInEventSubject | LenientSubjectType,
		normalized: `{"iss":"urn:gov:gsa:openidconnect:test:risc:sets","jti":"abcdefghijklmnopqrstuvwxyz","iat":1595532178,"aud":"https://idp.int.identitysandbox.gov/api/risc/security_events",
			"sub_id":{"format":"iss_sub","iss":"https://idp.int.identitysandbox.gov","sub":"123d4f56-jkl7-891011-t12vw-y13a1415d1617ghi18"},
			"events":{"https://schemas.login.gov/secevent/risc/event-type/authorization-fraud-detected":{"occurred_at":1590000000}}}`,
	},
	"vendor/oauth-event-types-token-revoked.json": {
		strict: ssf.CodeInvalidRequest, leniency: LenientInEventSubject | LenientSubjectType,
		normalized: `{"iss":"https://idp.example.com/","jti":"756E69717565206964656E746966696572","iat":1508184845,"aud":"636C69656E745F6964",
			"sub_id":{"format":"oauth_token","token_type":"refresh_token","token_identifier_alg":"plain","token":"7265667265736820746F6B656E20737472696E67"},
			"events":{"https://schemas.openid.net/secevent/oauth/event-type/token-revoked":{
				"token_subject":{"subject_type":"iss-sub","iss":"https://idp.example.com/","sub":"75736572206964"},"reason":"inactive"}}}`,
	},
	"vendor/authentik-session-revoked.json": {
		header: headerNoTyp, strict: ssf.CodeInvalidRequest,
		leniency: LenientType | LenientInEventSubject | LenientComplexWithoutFormat,
		normalized: `{"jti":"<uuid hex>","aud":"<receiver aud>","iat":1700000000,"iss":"https://auth.example.com/.well-known/ssf-configuration/abm",
			"sub_id":{"format":"complex","session":{"format":"opaque","id":"<sha256 hex of session key>"},"user":{"format":"email","email":"user@example.com"}},
			"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"initiating_entity":"user","txn":"<request id>"}}}`,
	},
	"vendor/authentik-verification-set.json": {
		header: headerNoTyp, strict: ssf.CodeInvalidRequest, leniency: LenientType,
		wrap: `{"iss":"https://auth.example.com/.well-known/ssf-configuration/abm","aud":"https://abm.example.com","iat":1700000000,"jti":"authentik-verification"}`,
		normalized: `{"iss":"https://auth.example.com/.well-known/ssf-configuration/abm","aud":"https://abm.example.com","iat":1700000000,"jti":"authentik-verification",
			"sub_id":{"format":"opaque","id":"<stream uuid>"},
			"events":{"https://schemas.openid.net/secevent/ssf/event-type/verification":{}}}`,
	},
	"vendor/okta-system-log-session-revoked.json": {
		strict:   ssf.CodeInvalidRequest,
		wrap:     `{"iss":"https://org.okta.com","aud":"https://sp.example.com/caep","iat":1709484530,"jti":"okta-system-log"}`,
		leniency: LenientInEventSubject | LenientComplexWithoutFormat | LenientOpaqueSub,
		normalized: `{"iss":"https://org.okta.com","aud":"https://sp.example.com/caep","iat":1709484530,"jti":"okta-system-log",
			"sub_id":{"format":"complex","user":{"format":"email","email":"joe.alex@example.com"},"device":{"format":"opaque","id":"1234ABCD-123A-123B-123C-12345ABCDEFG"}},
			"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"event_timestamp":1709484521,"reason_admin":{"en":"Malware detected"}}}}`,
	},
}

const (
	oktaUserRiskChange = `{"iss":"https://issuer.com","jti":"24c63fb56e5a2d77a6b512616ca9fa24","iat":1615305159,"aud":"https://customer.okta.com/",
		"sub_id":{"format":"complex","user":{"format":"email","email":"user@issuer.com"}},
		"events":{"https://schemas.okta.com/secevent/okta/event-type/user-risk-change":{"event_timestamp":1750980770,"initiating_entity":"admin",
			"reason_admin":{"en":"critical security activity detected"},"reason_user":{"en":"critical security activity detected"},"previous_level":"low","current_level":"high"}}}`
	oktaCredentialChange = `{"iss":"https://transmitter.okta.com","jti":"set-07efd930f0977e4fcc1149a733ce7f78","iat":1615305159,"aud":"https://receiverexample.com",
		"sub_id":{"format":"iss_sub","iss":"https://transmitter.okta.com","sub":"okta-user-id1"},
		"events":{"https://schemas.openid.net/secevent/caep/event-type/credential-change":{"credential_type":"fido2-roaming","change_type":"create",
			"fido2_aaguid":"accced6a-63f5-490a-9eea-e59bc1896cfc","friendly_name":"FIDO_WEBAUTHN","initiating_entity":"user",
			"reason_admin":{"en":"Activate factor for user"},"event_timestamp":1615304991}}}`
	oktaResetAll = `{"iss":"https://transmitter.okta.com","jti":"set-07efd930f0977e4fcc1149a733ce7f78","iat":1615305159,"aud":"https://receiverexample.com",
		"sub_id":{"format":"iss_sub","iss":"https://transmitter.okta.com","sub":"okta-user-id1"},
		"events":{"https://schemas.openid.net/secevent/caep/event-type/credential-change":{"credential_type":"ALL_FACTORS","change_type":"revoke",
			"fido2_aaguid":"accced6a-63f5-490a-9eea-e59bc1896cfc","friendly_name":"ALL_FACTORS","initiating_entity":"user","event_timestamp":1615304991}}}`
	oktaSessionRevoked = `{"iss":"https://org.okta.com","jti":"24c63fb56e5a2d77a6b512616ca9fa24","iat":1615305159,"aud":"https://sp.example.com/caep",
		"sub_id":{"format":"iss_sub","iss":"https://org.okta.com","sub":"okta-user-id1"},
		"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"reason_admin":{"en":"User logout from Okta"},"event_timestamp":1615304991}}}`
	oktaIdentifierChanged = `{"iss":"https://issuer.com","jti":"24c63fb56e5a2d77a6b512616ca9fa24","iat":1615305159,"aud":"https://customer.okta.com/",
		"sub_id":{"format":"complex","user":{"format":"email","email":"john@doe.net"}},
		"events":{"https://schemas.openid.net/secevent/risc/event-type/identifier-changed":{"new-value":"john.roe@example.com","event_timestamp":1615304991}}}`
	omnissa = `{"iss":"https://idp.example.com/123456789/","jti":"24c63fb56e5a2d77a6b512616ca9fa24","iat":1615305159,"aud":"https://sp.example.com/caep","txn":"8675309",
		"sub_id":{"format":"complex","device":{"format":"iss_sub","iss":"https://idp.example.com/123456789/","sub":"e9297990-14d2-42ec-a4a9-4036db86509a"},"tenant":{"format":"opaque","id":"123456789"}},
		"events":{"https://schemas.openid.net/secevent/caep/event-type/device-compliance-change":{"current_status":"not-compliant","previous_status":"compliant",
			"initiating_entity":"policy","reason_admin":{"en":"Location Policy Violation: C076E8A3"},"reason_user":{"en":"Device is no longer in a trusted location."}}}}`
)

func loadClaimsVectors(t *testing.T) map[string]claimsVector {
	t.Helper()
	out := map[string]claimsVector{}
	for _, dir := range []string{"set", "caep", "risc", "ssf", "vendor"} {
		files, err := filepath.Glob(filepath.Join("testdata", "vectors", dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no vectors in %s", dir)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var v claimsVector
			if err := json.Unmarshal(b, &v); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			out[dir+"/"+filepath.Base(f)] = v
		}
	}
	return out
}

// TestClaimsVectors signs every published SET claims set, verifies it, and checks that
// valid ones re-encode to the same claims (go-cmp on the decoded JSON) and invalid ones
// are rejected with the expected code in strict mode and, in compatibility mode, either
// rejected or accepted with the expected Leniency and normalized claims.
func TestClaimsVectors(t *testing.T) {
	key := testKey(t, "test-key-1", "RS256")
	ks := keySet(t, key)
	seen := map[string]bool{}
	for name, v := range loadClaimsVectors(t) {
		t.Run(name, func(t *testing.T) {
			inv, isInvalid := invalidVectors[name]
			seen[name] = true
			if v.Valid && !isInvalid {
				if v.Kind != "set-claims" {
					t.Fatalf("valid vector of kind %s", v.Kind)
				}
				tok := signVerify(t, key, ks, defaultHeader, v.JSON, "", Compatibility{})
				if tok.Leniency != 0 {
					t.Errorf("Leniency = %v, want none", tok.Leniency)
				}
				assertClaims(t, tok, v.JSON)
				assertReparse(t, tok)
				return
			}
			if !isInvalid {
				t.Fatalf("invalid vector without expectation (violations %v)", v.Violations)
			}
			claims := v.JSON
			switch {
			case inv.wrap != "" && v.Kind == "event-payload":
				claims = mergeJSON(t, inv.wrap, mustJSON(t, map[string]any{"events": jsonValue(t, v.JSON)}))
			case inv.wrap != "":
				claims = mergeJSON(t, inv.wrap, v.JSON)
			}
			header := defaultHeader
			if inv.header != "" {
				header = inv.header
			}
			_, err := signVerifyErr(t, key, ks, header, claims, inv.issuer, Compatibility{})
			assertCode(t, err, inv.strict)
			tok, err := signVerifyErr(t, key, ks, header, claims, inv.issuer, FullCompatibility())
			if inv.compat != "" {
				assertCode(t, err, inv.compat)
				return
			}
			if err != nil {
				t.Fatalf("compatibility mode: %v", err)
			}
			if tok.Leniency != inv.leniency {
				t.Errorf("Leniency = %v, want %v", tok.Leniency, inv.leniency)
			}
			assertClaims(t, tok, []byte(inv.normalized))
		})
	}
	for name := range invalidVectors {
		if !seen[name] {
			t.Errorf("expectation for %s, which is not a vector", name)
		}
	}
}

// TestUnsecuredCompactVector verifies the RFC 8417 §2.4 unsecured SET as published:
// "alg":"none" is rejected with invalid_key before anything else (TV-GEN-4).
func TestUnsecuredCompactVector(t *testing.T) {
	v := loadClaimsVectors(t)["set/rfc8417-2.4-fig6-unsecured-set-compact.json"]
	if v.Compact == "" {
		t.Fatal("no compact form")
	}
	ver := newTestVerifier(t, keySet(t, testKey(t, "test-key-1", "RS256")), Config{Issuer: "https://scim.example.com", SkipAudienceCheck: true})
	_, err := ver.Verify(bg, v.Compact)
	assertCode(t, err, ssf.CodeInvalidKey)
	// Decoding it without verification works up to the claims, which lack sub_id.
	h, _, err := ParseUnverified(v.Compact, DecodeOptions{})
	if h == nil || h.Algorithm != "none" || h.Type != "secevent+jwt" {
		t.Errorf("header = %+v", h)
	}
	assertCode(t, err, ssf.CodeInvalidRequest)
}

const defaultHeader = `{"alg":"RS256","kid":"test-key-1","typ":"secevent+jwt"}`

// signVerify signs claims with header and verifies the result, failing on error.
func signVerify(t *testing.T, key *keys.SigningKey, ks keys.KeySet, header string, claims []byte, issuer string, c Compatibility) *Token {
	t.Helper()
	tok, err := signVerifyErr(t, key, ks, header, claims, issuer, c)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return tok
}

// signVerifyErr signs claims and verifies them with a verifier whose issuer is the SET's
// (or issuer) and whose audiences are the SET's.
func signVerifyErr(t *testing.T, key *keys.SigningKey, ks keys.KeySet, header string, claims []byte, issuer string, c Compatibility) (*Token, error) {
	t.Helper()
	var env struct {
		Iss string          `json:"iss"`
		Aud json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(claims, &env); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Issuer: env.Iss, Compatibility: c}
	if issuer != "" {
		cfg.Issuer = issuer
		cfg.IssuerTrailingSlashInsensitive = true
	}
	if cfg.Issuer == "" {
		cfg.SkipIssuerCheck = true
	}
	var aud ssf.Audience
	if len(env.Aud) > 0 {
		if err := json.Unmarshal(env.Aud, &aud); err != nil {
			t.Fatal(err)
		}
	}
	if len(aud) == 0 {
		cfg.SkipAudienceCheck = true
	} else {
		cfg.Audiences = aud
	}
	v := newTestVerifier(t, ks, cfg)
	return v.Verify(bg, compactJWS(t, key, []byte(header), claims))
}

func assertCode(t *testing.T, err error, code string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("want a *set.Error with code %s, got %v", code, err)
	}
	if e.Code != code {
		t.Fatalf("code %s, want %s: %v", e.Code, code, err)
	}
	if !errors.Is(err, sentinel(code)) {
		t.Fatalf("errors.Is(err, sentinel %s) is false", code)
	}
}

// assertClaims checks that tok re-encodes (Final profile) to claims.
func assertClaims(t *testing.T, tok *Token, claims []byte) {
	t.Helper()
	got, err := json.Marshal(tok)
	if err != nil {
		t.Fatalf("encoding the token: %v", err)
	}
	if diff := cmp.Diff(jsonValue(t, claims), jsonValue(t, got)); diff != "" {
		t.Errorf("re-encoded claims differ (-want +got):\n%s", diff)
	}
}

// assertReparse checks that ParseClaims of tok's encoding gives the same encoding.
func assertReparse(t *testing.T, tok *Token) {
	t.Helper()
	b, err := json.Marshal(tok)
	if err != nil {
		t.Fatal(err)
	}
	tok2, err := ParseClaims(b, DecodeOptions{})
	if err != nil {
		t.Fatalf("ParseClaims(re-encoded): %v", err)
	}
	b2, err := json.Marshal(tok2)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(b2) {
		t.Errorf("re-encoding is not stable:\n%s\n%s", b, b2)
	}
}

// mergeJSON merges the members of b over those of a (both JSON objects).
func mergeJSON(t *testing.T, a string, b []byte) []byte {
	t.Helper()
	m := jsonValue(t, []byte(a)).(map[string]any)
	for k, v := range jsonValue(t, b).(map[string]any) {
		m[k] = v
	}
	return mustJSON(t, m)
}
