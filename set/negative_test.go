package set

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
)

// negVector is one generated receiver vector (testdata/vectors/negative, TV-GEN-1..22).
type negVector struct {
	Name                string          `json:"name"`
	Ref                 string          `json:"ref"`
	Context             *negContext     `json:"context"`
	Build               *negBuild       `json:"build"`
	Header              json.RawMessage `json:"header"`
	Claims              json.RawMessage `json:"claims"`
	Expect              string          `json:"expect"`
	CompatExpect        string          `json:"compat_expect"`
	PushErr             *string         `json:"push_err"`
	PushErrAlternatives []string        `json:"push_err_alternatives"`
	Variants            []negVector     `json:"variants"`
}

type negContext struct {
	TransmitterIssuer string   `json:"transmitter_issuer"`
	JWKSKids          []string `json:"jwks_kids"`
	AcceptedAlgs      []string `json:"accepted_algs"`
	Stream            struct {
		StreamID string `json:"stream_id"`
		Iss      string `json:"iss"`
		Aud      string `json:"aud"`
	} `json:"stream"`
	PendingVerificationState *string `json:"pending_verification_state"`
	TransmitterMetadata      struct {
		CriticalSubjectMembers []string `json:"critical_subject_members"`
	} `json:"transmitter_metadata"`
	ReceiverUnderstandsMembers []string `json:"receiver_understands_members"`
}

type negBuild struct {
	Sign       string `json:"sign"`
	Then       string `json:"then"`
	SetIAT     string `json:"set_iat"`
	Deliveries int    `json:"deliveries"`
}

// negLeniency is the Leniency expected in compatibility mode, by jti.
var negLeniency = map[string]Leniency{
	"tv-gen-22":  LenientInEventSubject,
	"tv-gen-22b": LenientInEventSubject | LenientSubjectType | LenientLegacyFormatName,
	"tv-gen-22c": LenientInEventSubject | LenientComplexWithoutFormat,
}

func loadNegative(t *testing.T) map[string]negVector {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "vectors", "negative", "*.json"))
	if err != nil || len(files) != 22 {
		t.Fatalf("want 22 negative vectors, got %d (%v)", len(files), err)
	}
	out := map[string]negVector{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v negVector
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".json")] = v
	}
	return out
}

// TestNegativeVectors runs every generated receiver vector (TV-GEN-1..22) and its
// variants: build the SET as the vector says, verify it with a Verifier configured from
// the vector's context, and check the outcome and the exact RFC 8935 error code.
func TestNegativeVectors(t *testing.T) {
	for file, v := range loadNegative(t) {
		cases := append([]negVector{v}, v.Variants...)
		for i, c := range cases {
			if i > 0 {
				if c.Context == nil {
					c.Context = v.Context
				}
				if c.Build == nil {
					c.Build = v.Build
				}
				if c.CompatExpect == "" && c.Expect == v.Expect {
					c.CompatExpect = v.CompatExpect
				}
			}
			name := file
			if i > 0 {
				name += "/" + c.Name
			}
			t.Run(name, func(t *testing.T) { runNegative(t, c) })
		}
	}
}

func runNegative(t *testing.T, c negVector) {
	ctx := c.Context
	compact := buildNegative(t, c)
	ks := keySet(t, testKey(t, "test-key-1", "RS256"))
	if !slices.Equal(ctx.JWKSKids, []string{"test-key-1"}) {
		t.Fatalf("unexpected jwks_kids %v", ctx.JWKSKids)
	}
	cfg := Config{
		Issuer:                 ctx.Stream.Iss,
		Audiences:              []string{ctx.Stream.Aud},
		Algorithms:             ctx.AcceptedAlgs,
		CriticalSubjectMembers: ctx.TransmitterMetadata.CriticalSubjectMembers,
		SubjectMembers:         ctx.ReceiverUnderstandsMembers,
	}
	if ctx.TransmitterIssuer != ctx.Stream.Iss {
		t.Fatalf("transmitter issuer %q differs from stream iss %q", ctx.TransmitterIssuer, ctx.Stream.Iss)
	}
	check := func(t *testing.T, cfg Config, expect string) *Token {
		v := newTestVerifier(t, ks, cfg)
		deliveries := 1
		if c.Build != nil && c.Build.Deliveries > 0 {
			deliveries = c.Build.Deliveries
		}
		var tok *Token
		var err error
		var jtis []string
		for range deliveries {
			tok, err = v.Verify(bg, compact)
			if err == nil {
				if _, ok := tok.Event.(*ssf.Verification); ok {
					state := ""
					if ctx.PendingVerificationState != nil {
						state = *ctx.PendingVerificationState
					}
					err = CheckVerification(tok, ctx.Stream.StreamID, state)
				}
			}
			if tok != nil {
				jtis = append(jtis, tok.JTI)
			}
			assertOutcome(t, expect, c, tok, err)
		}
		if expect == "accept-twice-process-once" && (len(jtis) != 2 || jtis[0] != jtis[1]) {
			t.Errorf("the two deliveries must carry the same jti for de-duplication, got %v", jtis)
		}
		return tok
	}
	check(t, cfg, c.Expect)
	if c.CompatExpect != "" {
		t.Run("compat", func(t *testing.T) {
			cfg := cfg
			cfg.Compatibility = FullCompatibility()
			tok := check(t, cfg, c.CompatExpect)
			var claims struct {
				JTI string `json:"jti"`
			}
			_ = json.Unmarshal(c.Claims, &claims)
			if want, ok := negLeniency[claims.JTI]; ok && tok != nil && tok.Leniency != want {
				t.Errorf("Leniency = %v, want %v", tok.Leniency, want)
			}
		})
	}
}

func assertOutcome(t *testing.T, expect string, c negVector, tok *Token, err error) {
	t.Helper()
	var e *Error
	switch expect {
	case "accept", "accept-twice-process-once":
		if err != nil || tok == nil {
			t.Fatalf("want accepted, got %v", err)
		}
	case "accept-discard-event":
		if !errors.Is(err, ErrDiscard) || tok == nil || errors.As(err, &e) {
			t.Fatalf("want the token with an ErrDiscard error that is no *Error, got %v, %v", tok, err)
		}
		if tok.Event == nil || tok.Subject == nil {
			t.Fatalf("a discarded SET still reports its event and subject")
		}
	case "reject":
		if !errors.As(err, &e) {
			t.Fatalf("want a *set.Error, got %v (token %v)", err, tok)
		}
		want := append([]string{*c.PushErr}, c.PushErrAlternatives...)
		if !slices.Contains(want, e.Code) {
			t.Fatalf("code %q, want one of %v (%v)", e.Code, want, err)
		}
		if e.Code != *c.PushErr {
			t.Logf("code %q is an allowed alternative of %q", e.Code, *c.PushErr)
		}
		if !errors.Is(err, sentinel(e.Code)) {
			t.Errorf("errors.Is(err, sentinel of %s) is false", e.Code)
		}
		if e.Description == "" {
			t.Errorf("empty description")
		}
		t.Logf("%s: %s", e.Code, e.Description)
	default:
		t.Fatalf("unknown expectation %q", expect)
	}
}

// buildNegative builds the compact SET a vector describes.
func buildNegative(t *testing.T, c negVector) string {
	t.Helper()
	claims := c.Claims
	if c.Build != nil && c.Build.SetIAT != "" {
		offset, err := strconv.ParseInt(strings.TrimPrefix(c.Build.SetIAT, "now"), 10, 64)
		if err != nil {
			t.Fatalf("set_iat %q: %v", c.Build.SetIAT, err)
		}
		m := jsonValue(t, claims).(map[string]any)
		m["iat"] = testNow.Add(time.Duration(offset) * time.Second).Unix()
		claims = mustJSON(t, m)
	}
	header := mustJSON(t, jsonValue(t, c.Header))
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(header, &h); err != nil {
		t.Fatal(err)
	}
	sign := ""
	if c.Build != nil {
		sign = c.Build.Sign
	}
	var compact string
	switch {
	case h.Alg == "none":
		compact = unsecured(header, claims)
	case h.Alg == "HS256":
		if !strings.HasPrefix(sign, "HMAC") {
			t.Fatalf("unexpected build for HS256: %q", sign)
		}
		compact = hmacConfusion(t, testKey(t, "test-key-1", "RS256").Public().Key, header, claims)
	case h.Alg == "RS256":
		var key *keys.SigningKey
		switch h.Kid {
		case "test-key-1":
			key = testKey(t, "test-key-1", "RS256")
		case "test-key-unknown":
			key = testKey(t, "test-key-unknown", "RS256")
		default:
			t.Fatalf("unexpected kid %q", h.Kid)
		}
		compact = compactJWS(t, key, header, claims)
	default:
		t.Fatalf("unexpected alg %q", h.Alg)
	}
	if c.Build != nil && strings.Contains(c.Build.Then, "flip the lowest bit") {
		compact = flipLastSignatureBit(t, compact)
	}
	return compact
}
