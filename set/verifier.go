package set

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// Defaults of Config.
const (
	// DefaultMaxClockSkew is how far in the future "iat" may lie when Config.MaxClockSkew
	// is zero.
	DefaultMaxClockSkew = 2 * time.Minute
	// DefaultMaxTokenBytes is the largest SET accepted when Config.MaxTokenBytes is zero.
	DefaultMaxTokenBytes = 64 << 10
)

// DefaultSubjectMembers returns the Complex Subject member names a Verifier can
// process when Config.SubjectMembers is nil: the ones SSF §3.3.1 defines.
func DefaultSubjectMembers() []string {
	return []string{
		subject.MemberUser, subject.MemberDevice, subject.MemberSession, subject.MemberApplication,
		subject.MemberTenant, subject.MemberOrgUnit, subject.MemberGroup,
	}
}

// Config is what a Verifier checks. Every field has a documented zero value; the zero
// Config is refused by NewVerifier because the issuer and the audience must be named (or
// their checks skipped explicitly).
type Config struct {
	// Issuer is the transmitter's issuer: "iss" must equal it exactly (SSF §4.1.6,
	// SET-14). It must also be the stream's iss and the metadata issuer; the caller
	// ensures they agree. Required unless SkipIssuerCheck.
	Issuer string
	// SkipIssuerCheck accepts any "iss" (it must still be present). Zero value: checked.
	SkipIssuerCheck bool
	// IssuerTrailingSlashInsensitive also accepts an "iss" that differs from Issuer only
	// by a trailing "/" (Google sends "https://accounts.google.com/" while its metadata
	// says "https://accounts.google.com"; vendors.md §5.1 item 3). Zero value: exact.
	IssuerTrailingSlashInsensitive bool
	// Audiences are the values that identify this receiver (the stream's aud): "aud"
	// must contain at least one of them (RFC 8935 §2, SSF §4.1.8; TV-GEN-8). Required
	// unless SkipAudienceCheck.
	Audiences []string
	// SkipAudienceCheck accepts any "aud", or none. Zero value: checked, and a SET
	// without "aud" is rejected (AMB-3).
	SkipAudienceCheck bool
	// Algorithms is the JWS algorithm allow-list. Nil or empty means DefaultAlgorithms
	// (DefaultAlgorithms: RS256, PS256, ES256, ES384, EdDSA). Supported: those and RS384, RS512, PS384,
	// PS512, ES512. "none" and HMAC algorithms are never accepted (TV-GEN-4, SEC-2).
	Algorithms []string
	// Now returns the current time, for the "iat" check. Nil means time.Now.
	Now func() time.Time
	// MaxClockSkew is how far in the future "iat" may lie (SEC-7; TV-GEN-21: an hour is
	// rejected). Zero means DefaultMaxClockSkew (2 minutes); negative is refused. An old
	// "iat" is never rejected (AMB-17: paused streams deliver old events).
	MaxClockSkew time.Duration
	// MaxTokenBytes is the largest SET accepted, checked before anything is parsed
	// (SEC-13, SEC-19). Zero means DefaultMaxTokenBytes (64 KiB); negative is refused.
	MaxTokenBytes int
	// Registry decodes the events. Nil means ssf.DefaultRegistry(), built once by
	// NewVerifier. Types registered later on the given registry are decoded too.
	Registry *event.Registry
	// CriticalSubjectMembers is the transmitter's critical_subject_members (SSF §7.1):
	// Complex Subject member names a receiver must be able to process. Nil means none.
	CriticalSubjectMembers []string
	// SubjectMembers are the Complex Subject member names this receiver can process. A
	// SET whose sub_id holds a critical member not listed here is valid, but its event
	// must be discarded: Verify returns an error wrapping ErrDiscard (SSF §3.6,
	// TV-GEN-19). Nil means DefaultSubjectMembers.
	SubjectMembers []string
	// RequireKeyID rejects a SET whose JOSE header has no "kid". Zero value: a SET
	// without "kid" is accepted only when the key set holds exactly one key (vendors.md
	// §5.1 item 2); with several keys it is rejected (invalid_key).
	RequireKeyID bool
	// DecryptionKeys are this receiver's keys for encrypted SETs (JWE with a signed SET
	// inside, RFC 7519 §5.2; RSA-OAEP-256 or ECDH-ES). Nil means none: an encrypted SET
	// is then rejected with invalid_key.
	DecryptionKeys []*keys.DecryptionKey
	// RequireEncryption rejects SETs that are not encrypted (SEC-3: SETs carrying PII
	// relayed through third parties). It needs DecryptionKeys. Zero value: signed-only
	// SETs are accepted.
	RequireEncryption bool
	// Compatibility enables named tolerances for SETs in pre-final shapes. Zero value:
	// strict SSF 1.0 Final.
	Compatibility Compatibility
}

// Verifier checks Security Event Tokens against a Config, in the manner of go-oidc's
// IDTokenVerifier. It is safe for concurrent use.
type Verifier struct {
	keys         keys.KeySet
	issuer       string
	skipIssuer   bool
	slashless    bool
	audiences    []string
	skipAudience bool
	algorithms   []*algorithm
	now          func() time.Time
	skew         time.Duration
	maxBytes     int
	dec          *decoder
	critical     []string
	understood   []string
	requireKID   bool
	decryption   []decryptionKey
	requireJWE   bool
}

type decryptionKey struct {
	kid, alg string
	jwk      jose.JSONWebKey
}

// NewVerifier returns a Verifier that checks SETs signed with keys from ks (the
// transmitter's jwks_uri, typically a *keys.RemoteKeySet) against cfg. It fails when the
// configuration is incomplete or contradictory.
func NewVerifier(ks keys.KeySet, cfg Config) (*Verifier, error) {
	if ks == nil {
		return nil, errors.New("set: NewVerifier needs a key set")
	}
	v := &Verifier{
		keys:         ks,
		issuer:       cfg.Issuer,
		skipIssuer:   cfg.SkipIssuerCheck,
		slashless:    cfg.IssuerTrailingSlashInsensitive,
		skipAudience: cfg.SkipAudienceCheck,
		now:          cfg.Now,
		skew:         cfg.MaxClockSkew,
		maxBytes:     cfg.MaxTokenBytes,
		requireKID:   cfg.RequireKeyID,
		requireJWE:   cfg.RequireEncryption,
	}
	if !v.skipIssuer && v.issuer == "" {
		return nil, errors.New("set: Config.Issuer is required (or set SkipIssuerCheck)")
	}
	if !v.skipAudience {
		if len(cfg.Audiences) == 0 {
			return nil, errors.New("set: Config.Audiences is required (or set SkipAudienceCheck)")
		}
		if slices.Contains(cfg.Audiences, "") {
			return nil, errors.New("set: Config.Audiences holds an empty value")
		}
		v.audiences = slices.Clone(cfg.Audiences)
	}
	names := cfg.Algorithms
	if len(names) == 0 {
		names = DefaultAlgorithms()
	}
	for _, name := range names {
		a := algorithmByName([]byte(name))
		switch {
		case name == "none":
			return nil, errors.New(`set: Config.Algorithms: "none" is never accepted (RFC 8417 §5.1, SET-17)`)
		case strings.HasPrefix(name, "HS"):
			return nil, fmt.Errorf("set: Config.Algorithms: %q is an HMAC algorithm; verification keys come from a published JWK Set and are never HMAC secrets (SEC-2)", name)
		case a == nil:
			return nil, fmt.Errorf("set: Config.Algorithms: unsupported algorithm %q (supported: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)", name)
		}
		if !slices.Contains(v.algorithms, a) {
			v.algorithms = append(v.algorithms, a)
		}
	}
	if v.now == nil {
		v.now = time.Now
	}
	switch {
	case v.skew < 0:
		return nil, errors.New("set: Config.MaxClockSkew is negative")
	case v.skew == 0:
		v.skew = DefaultMaxClockSkew
	}
	switch {
	case v.maxBytes < 0:
		return nil, errors.New("set: Config.MaxTokenBytes is negative")
	case v.maxBytes == 0:
		v.maxBytes = DefaultMaxTokenBytes
	}
	reg := cfg.Registry
	if reg == nil {
		reg = ssf.DefaultRegistry()
	}
	v.dec = newDecoder(reg, cfg.Compatibility)
	v.critical = slices.Clone(cfg.CriticalSubjectMembers)
	v.understood = slices.Clone(cfg.SubjectMembers)
	if cfg.SubjectMembers == nil {
		v.understood = DefaultSubjectMembers()
	}
	for i, k := range cfg.DecryptionKeys {
		if k == nil {
			return nil, fmt.Errorf("set: Config.DecryptionKeys[%d] is nil", i)
		}
		v.decryption = append(v.decryption, decryptionKey{kid: k.KeyID(), alg: k.Algorithm(), jwk: k.PrivateJWK()})
	}
	if v.requireJWE && len(v.decryption) == 0 {
		return nil, errors.New("set: Config.RequireEncryption needs DecryptionKeys")
	}
	return v, nil
}

// Verify checks one SET, given in compact serialization, and returns its claims. It
// performs every check of SET-20, in this order, and reports the first failure as an
// *Error whose Code is the RFC 8935 error code:
//
//  1. size at most MaxTokenBytes; a compact JWS (three parts), or a compact JWE (five
//     parts) holding one, which is decrypted first [invalid_request; a JWE without a
//     configured or matching decryption key, or one that does not decrypt: invalid_key];
//  2. the JOSE header is a JSON object without duplicate parameters, without "crit"
//     (no extension is understood, RFC 7515 §4.1.11) [invalid_request] and without a
//     key of its own (jwk, jku, x5u, x5c: SEC-2) [invalid_key]; "typ" is
//     "secevent+jwt" or "application/secevent+jwt" in any case (SET-16, TV-GEN-2,
//     TV-GEN-3) [invalid_request];
//  3. "alg" is on the allow-list, never "none" or HMAC [invalid_key]; the key is found
//     by "kid" (see Config.RequireKeyID), its JWK "alg", if any, is the header's, its
//     type fits the algorithm, and the signature verifies [invalid_key];
//  4. the claims set is a JSON object without duplicate claims (SEC-19)
//     [invalid_request]; "iss" is the configured issuer [invalid_issuer]; "aud"
//     contains a configured audience [invalid_audience];
//  5. "iat" present and at most MaxClockSkew in the future, "jti" present, no "sub",
//     no "exp", "events" a non-empty object of objects holding exactly one event,
//     "sub_id" a valid subject identifier, and the event payload valid for its type
//     (decoded through the registry) [invalid_request].
//
// Unknown claims and payload members are accepted and kept (SET-12, TV-GEN-18).
//
// When the SET is valid but its sub_id holds a critical member this receiver cannot
// process (SSF §3.6), Verify returns the token together with an error wrapping
// ErrDiscard (not an *Error): acknowledge the SET and do not process its event.
//
// Errors that are not about the SET (ctx ended, the key set could not be fetched) are
// returned wrapped but not as *Error, so that a push endpoint can answer with a 5xx
// status and the transmitter retries, instead of a 400 that makes it drop the SET.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Token, error) {
	if len(raw) > v.maxBytes {
		return nil, requestErr(nil, "the SET has %d bytes, more than this recipient accepts (%d)", len(raw), v.maxBytes)
	}
	switch n := strings.Count(raw, "."); n {
	case 2:
		if v.requireJWE {
			return nil, requestErr(nil, "the SET is not encrypted; this recipient accepts only encrypted SETs (JWE, SEC-3)")
		}
		return v.verifyJWS(ctx, []byte(raw))
	case 4:
		inner, err := v.decrypt(raw)
		if err != nil {
			return nil, err
		}
		return v.verifyJWS(ctx, inner)
	default:
		return nil, requestErr(nil, "the SET is neither a compact JWS (3 parts) nor a compact JWE (5 parts): it has %d parts", n+1)
	}
}

var b64 = base64.RawURLEncoding.Strict()

// decodeSegment base64url-decodes one part of a compact serialization (no padding,
// RFC 7515 §2) into dst.
func decodeSegment(dst, seg []byte, what string) ([]byte, error) {
	n := b64.DecodedLen(len(seg))
	if cap(dst) < n {
		dst = make([]byte, 0, n)
	}
	m, err := b64.Decode(dst[:n], seg)
	if err != nil {
		return nil, requestErr(err, "the %s is not base64url without padding (RFC 7515 §2)", what)
	}
	return dst[:m], nil
}

// verifyJWS checks a compact JWS (raw is owned by this call: claims alias it).
func (v *Verifier) verifyJWS(ctx context.Context, raw []byte) (*Token, error) {
	d1 := bytes.IndexByte(raw, '.')
	d2 := d1 + 1 + bytes.IndexByte(raw[d1+1:], '.')
	if d1 <= 0 || d2 <= d1+1 || bytes.IndexByte(raw[d2+1:], '.') >= 0 {
		return nil, requestErr(nil, "the SET is not a compact JWS with three non-empty parts")
	}
	var hbuf [512]byte
	hdata, err := decodeSegment(hbuf[:0], raw[:d1], "JOSE header")
	if err != nil {
		return nil, err
	}
	var h joseHeader
	if err := h.parse(hdata); err != nil {
		return nil, err
	}
	lenient, alg, err := v.checkHeader(&h)
	if err != nil {
		return nil, err
	}
	var sbuf [512]byte
	sig, err := decodeSegment(sbuf[:0], raw[d2+1:], "JWS signature")
	if err != nil {
		return nil, err
	}
	if err := v.checkSignature(ctx, &h, alg, raw[:d2], sig); err != nil {
		return nil, err
	}
	payload, err := decodeSegment(nil, raw[d1+1:d2], "JWS payload")
	if err != nil {
		return nil, err
	}
	tok, err := v.checkClaims(payload)
	if tok != nil {
		tok.Leniency |= lenient
	}
	return tok, err
}

// checkHeader applies the header rules of Verify (steps 2 and 3 up to the key).
func (v *Verifier) checkHeader(h *joseHeader) (Leniency, *algorithm, error) {
	var lenient Leniency
	if h.crit != nil {
		return 0, nil, requestErr(nil, "the JOSE header lists critical extensions (crit %s), which this recipient does not understand (RFC 7515 §4.1.11)", quote(string(h.crit)))
	}
	if h.embeddedKey != "" {
		return 0, nil, keyErr(nil, "the JOSE header carries %q: a SET's verification key comes only from the transmitter's jwks_uri (SSF §4.1.4, SEC-2)", h.embeddedKey)
	}
	if !h.hasTyp || !isSETType(h.typ) {
		if !v.dec.compat.AllowJWTType || (h.hasTyp && !isJWTType(h.typ)) {
			if !h.hasTyp {
				return 0, nil, requestErr(nil, `the JOSE header has no "typ"; an SSF SET must be explicitly typed "secevent+jwt" (SSF §4.1.1, RFC 8417 §2.3)`)
			}
			return 0, nil, requestErr(nil, `the JOSE header "typ" is %s, not "secevent+jwt" (SSF §4.1.1, RFC 8417 §2.3)`, quote(string(h.typ)))
		}
		lenient |= LenientType
	}
	if !h.hasAlg {
		return 0, nil, requestErr(nil, `the JOSE header has no "alg" (RFC 7515 §4.1.1)`)
	}
	alg := algorithmByName(h.alg)
	if alg == nil || !slices.Contains(v.algorithms, alg) {
		switch name := string(h.alg); {
		case name == "none":
			return 0, nil, keyErr(nil, `the SET is unsecured ("alg":"none"); SETs must be signed (RFC 8417 §5.1)`)
		case strings.HasPrefix(name, "HS"):
			return 0, nil, keyErr(nil, "the SET uses the HMAC algorithm %s; this recipient verifies only with the transmitter's published public keys (SEC-2)", quote(name))
		default:
			return 0, nil, keyErr(nil, "the algorithm %s is not one this recipient accepts", quote(name))
		}
	}
	return lenient, alg, nil
}

// checkSignature resolves the key and verifies the signature (step 3 of Verify).
func (v *Verifier) checkSignature(ctx context.Context, h *joseHeader, alg *algorithm, input, sig []byte) error {
	kid := string(h.kid) // an empty "kid" counts as none
	if kid == "" && v.requireKID {
		return keyErr(nil, `the JOSE header has no "kid"; this recipient requires one`)
	}
	candidates, err := v.keys.Keys(ctx, kid)
	if err != nil {
		if errors.Is(err, keys.ErrUnknownKeyID) {
			if kid == "" {
				return keyErr(err, "the transmitter's key set holds no usable key")
			}
			return keyErr(err, "no key with kid %s in the transmitter's key set", quote(kid))
		}
		return fmt.Errorf("set: resolving the verification key: %w", err)
	}
	if kid == "" && len(candidates) != 1 {
		return keyErr(nil, `the JOSE header has no "kid" and the transmitter's key set holds %d keys`, len(candidates))
	}
	var (
		dbuf   [64]byte
		digest = alg.digest(&dbuf, input)
		misfit error
		failed error
	)
	for i := range candidates {
		k := &candidates[i]
		if k.Use != "" && k.Use != "sig" {
			misfit = fmt.Errorf("the key has use %s, not \"sig\"", quote(k.Use))
			continue
		}
		if k.Algorithm != "" && k.Algorithm != alg.name && (alg != algEdDSA || k.Algorithm != "Ed25519") {
			misfit = fmt.Errorf("the key is for %s, the SET uses %s", quote(k.Algorithm), alg.name)
			continue
		}
		if err := alg.fits(k.Key); err != nil {
			misfit = err
			continue
		}
		if failed = alg.verify(k.Key, input, digest, sig); failed == nil {
			return nil
		}
	}
	if kid == "" {
		kid = candidates[0].KeyID
	}
	switch {
	case failed == errSignature:
		return keyErr(failed, "the signature does not verify with key %s", quote(kid))
	case failed != nil:
		return keyErr(failed, "key %s: %v", quote(kid), failed)
	}
	return keyErr(nil, "key %s cannot verify this SET: %v", quote(kid), misfit)
}

// checkClaims decodes and checks the claims set (steps 4 and 5 of Verify) and the
// critical subject members.
func (v *Verifier) checkClaims(payload []byte) (*Token, error) {
	var cs claimsSet
	if err := parseClaimsSet(payload, &cs); err != nil {
		return nil, err
	}
	tok := &Token{}
	if err := v.dec.envelope(&cs, tok); err != nil {
		return nil, err
	}
	if !v.skipIssuer && !v.issuerMatches(tok.Issuer) {
		if cs.iss == nil {
			return nil, newError(ssf.CodeInvalidIssuer, nil, "iss is missing (RFC 8417 §2.2)")
		}
		return nil, newError(ssf.CodeInvalidIssuer, nil, "iss %s is not the issuer this recipient accepts from this transmitter (SSF §4.1.6)", quote(tok.Issuer))
	}
	if !v.skipAudience && !tok.Audience.ContainsAny(v.audiences...) {
		switch len(tok.Audience) {
		case 0:
			return nil, newError(ssf.CodeInvalidAudience, nil, "aud is missing; it must name this recipient (SSF §4.1.8)")
		case 1:
			return nil, newError(ssf.CodeInvalidAudience, nil, "aud %s does not name this recipient", quote(tok.Audience[0]))
		default:
			return nil, newError(ssf.CodeInvalidAudience, nil, "none of the %d aud values names this recipient", len(tok.Audience))
		}
	}
	if err := v.dec.claims(&cs, tok); err != nil {
		return nil, err
	}
	if ahead := tok.IssuedAt.Sub(v.now()); ahead > v.skew {
		return nil, requestErr(nil, "iat lies %s in the future; at most %s of clock skew is allowed (SEC-7)", ahead.Truncate(time.Second), v.skew)
	}
	if c, ok := tok.Subject.(*subject.Complex); ok && len(v.critical) > 0 {
		for _, name := range c.MemberNames() {
			if slices.Contains(v.critical, name) && !slices.Contains(v.understood, name) {
				return tok, fmt.Errorf("%w: sub_id member %q is critical (critical_subject_members) and this receiver cannot process it (SSF §3.6)", ErrDiscard, name)
			}
		}
	}
	return tok, nil
}

func (v *Verifier) issuerMatches(iss string) bool {
	if iss == v.issuer {
		return true
	}
	return v.slashless && iss != "" && strings.TrimSuffix(iss, "/") == strings.TrimSuffix(v.issuer, "/")
}

// CheckVerification checks a verified SET as the answer to a verification request on
// the stream streamID (SSF §8.1.4.1; SSF-VERIFY-3, SSF-VERIFY-4, AMB-22):
//
//   - the event is a verification event [invalid_request];
//   - sub_id is an opaque subject whose id is streamID [invalid_request, TV-GEN-16]; a
//     token without subject passes only when it was accepted with
//     Compatibility.VerificationWithoutSubID;
//   - when expectedState is not empty (the receiver asked for verification with that
//     state), the event's state equals it, compared in constant time [invalid_state,
//     TV-GEN-15]. With expectedState empty any state, or none, is accepted: a
//     transmitter may verify a stream on its own.
func CheckVerification(tok *Token, streamID, expectedState string) error {
	if tok == nil {
		return requestErr(nil, "no token")
	}
	ver, ok := tok.Event.(*ssf.Verification)
	if !ok {
		return requestErr(nil, "the SET is not a verification event")
	}
	if err := checkStreamSubject(tok, streamID); err != nil {
		return err
	}
	if expectedState != "" {
		got, want := sha256.Sum256([]byte(ver.State)), sha256.Sum256([]byte(expectedState))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			return newError(ssf.CodeInvalidState, nil, "the state of the verification event is not the one this receiver requested (SSF §8.1.4.1)")
		}
	}
	return nil
}

// CheckStreamUpdated checks a verified SET as a stream-updated event of the stream
// streamID (SSF §8.1.5, SSF-UPDATED-5): the event is a stream-updated event and sub_id is
// an opaque subject whose id is streamID [invalid_request].
func CheckStreamUpdated(tok *Token, streamID string) error {
	if tok == nil {
		return requestErr(nil, "no token")
	}
	if _, ok := tok.Event.(*ssf.StreamUpdated); !ok {
		return requestErr(nil, "the SET is not a stream-updated event")
	}
	return checkStreamSubject(tok, streamID)
}

func checkStreamSubject(tok *Token, streamID string) error {
	name := event.TypeName(tok.Event.Type())
	if tok.Subject == nil {
		if tok.Leniency.Has(LenientVerificationWithoutSubID) {
			return nil
		}
		return requestErr(nil, "the %s event has no sub_id; it must name the stream (SSF §8.1.4.1, §8.1.5)", name)
	}
	o, ok := tok.Subject.(*subject.Opaque)
	if !ok {
		return requestErr(nil, "the sub_id of the %s event is %s, not an opaque identifier of the stream (SSF §8.1.4.1, §8.1.5)", name, quote(tok.Subject.Format()))
	}
	if o.ID != streamID {
		return requestErr(nil, "the sub_id of the %s event names the stream %s, not this stream (SSF §8.1.4.1, §8.1.5)", name, quote(o.ID))
	}
	return nil
}
