package transmitter

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
)

// Authenticator authenticates the Receiver client that sent a request (SSF-AUTH-3: the
// credentials bind a Receiver to its streams).
//
// Authenticate returns the client, or an error: an [*AuthError] says how to answer
// (RFC 6750 §3.1). An Authenticator that does not recognise the credentials at all
// returns an error matching [ErrUnknownToken], so that [Chain] can try the next one.
// Implementations must not log the token.
type Authenticator interface {
	Authenticate(r *http.Request) (*Client, error)
}

// ErrUnknownToken is matched by the error of an Authenticator that does not recognise
// the bearer token (it is not one of its tokens); see [Chain].
var ErrUnknownToken = errors.New("transmitter: unknown access token")

// RFC 6750 §3.1 error codes.
const (
	codeInvalidRequest    = "invalid_request"
	codeInvalidToken      = "invalid_token"
	codeInsufficientScope = "insufficient_scope"
)

// AuthError is a refused request, with its RFC 6750 §3.1 meaning. It matches the ssf
// sentinel of its status with errors.Is (ssf.ErrUnauthorized, ssf.ErrForbidden,
// ssf.ErrBadRequest).
type AuthError struct {
	// Status is 401 (no or bad credentials), 403 (insufficient scope) or 400 (a
	// malformed request, e.g. a token in the URI query).
	Status int
	// Code is the RFC 6750 error code: "invalid_request", "invalid_token" or
	// "insufficient_scope"; empty when the request carried no credentials (the
	// challenge then has no error attribute, RFC 6750 §3.1).
	Code string
	// Description says what was wrong, for the client's developer; never the token.
	Description string
	// Scope lists the scopes the request needs (insufficient_scope), space-separated.
	Scope string
	// Err is the underlying cause, if any.
	Err error
}

// Error implements error.
func (e *AuthError) Error() string {
	msg := "transmitter: authorization failed"
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Is matches the ssf sentinel of e.Status (ErrUnknownToken matches through Unwrap).
func (e *AuthError) Is(target error) bool {
	return (&ssf.Error{Status: e.Status}).Is(target)
}

// Unwrap returns e.Err.
func (e *AuthError) Unwrap() error { return e.Err }

// Challenge returns the WWW-Authenticate header value for e (RFC 6750 §3).
func (e *AuthError) Challenge(realm string) string {
	var b strings.Builder
	b.WriteString("Bearer")
	sep := " "
	attr := func(name, value string) {
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quoteAttr(value))
		b.WriteString(`"`)
		sep = ", "
	}
	if realm != "" {
		attr("realm", realm)
	}
	if e.Code != "" {
		attr("error", e.Code)
		if e.Description != "" {
			attr("error_description", e.Description)
		}
	}
	if e.Scope != "" {
		attr("scope", e.Scope)
	}
	return b.String()
}

// quoteAttr makes s safe inside a quoted auth-param: RFC 6750 §3 restricts
// error_description to %x20-21 / %x23-5B / %x5D-7E, so quotes, backslashes and
// non-ASCII characters are replaced.
func quoteAttr(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '\''
		}
		return r
	}, s)
}

// hookCode is the code reported to an AuthFailure hook for e: its RFC 6750 code,
// "missing_token" for a 401 without one, and "" (not reported) for a failure that is
// not the client's, such as unavailable authorization-server keys.
func (e *AuthError) hookCode() string {
	switch {
	case e.Code != "":
		return e.Code
	case e.Status == http.StatusUnauthorized:
		return "missing_token"
	}
	return ""
}

func errNoToken() *AuthError {
	return &AuthError{Status: http.StatusUnauthorized, Description: "an access token is required: send Authorization: Bearer <token>"}
}

func errInvalidToken(format string, args ...any) *AuthError {
	return &AuthError{Status: http.StatusUnauthorized, Code: codeInvalidToken, Description: fmt.Sprintf(format, args...)}
}

func errInvalidRequest(format string, args ...any) *AuthError {
	return &AuthError{Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: fmt.Sprintf(format, args...)}
}

func errInsufficientScope(scopes ...string) *AuthError {
	return &AuthError{
		Status:      http.StatusForbidden,
		Code:        codeInsufficientScope,
		Description: "the access token lacks the scope this request needs: " + strings.Join(scopes, " or "),
		Scope:       strings.Join(scopes, " "),
	}
}

// BearerToken returns the bearer access token of r (RFC 6750 §2.1). A token in the URI
// query (access_token, RFC 6750 §2.3) is refused with 400 invalid_request (CAEP-IOP
// §2.7.3, IOP-15); no Authorization header, or one of another scheme, is a 401 without
// an error code; an empty token or several Authorization headers are 400
// invalid_request.
func BearerToken(r *http.Request) (string, error) {
	if r.URL.Query().Has("access_token") {
		return "", errInvalidRequest("access tokens are not accepted in the URI query (RFC 6750 §2.3); send Authorization: Bearer <token>")
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return "", errNoToken()
	case 1:
	default:
		return "", errInvalidRequest("more than one Authorization header")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", errNoToken()
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", errInvalidRequest("the Bearer credentials are empty")
	}
	return token, nil
}

// ---------------------------------------------------------------------------------------
// Static bearer tokens

// StaticTokens authenticates Receiver clients by pre-shared bearer tokens, one or more
// per client (RFC 6750 bearer tokens issued out of band, like the OpenID conformance
// suite's "static" mode). Tokens are compared in constant time (through their SHA-256
// digests, every entry compared). A static-token client holds every SSF scope unless
// its Client lists Scopes.
type StaticTokens struct {
	entries []staticToken
}

type staticToken struct {
	sum    [sha256.Size]byte
	client Client
}

// NewStaticTokens returns an Authenticator for tokens, which maps each bearer token to
// its client. Every token and client ID must be non-empty; a client may have several
// tokens (rotation).
func NewStaticTokens(tokens map[string]Client) (*StaticTokens, error) {
	st := &StaticTokens{}
	for tok, c := range tokens {
		if tok == "" {
			return nil, errors.New("transmitter: static tokens: empty token")
		}
		if c.ID == "" {
			return nil, errors.New("transmitter: static tokens: a client has no ID")
		}
		c.Scopes = slices.Clone(c.Scopes)
		if c.Scopes == nil {
			c.Scopes = slices.Clone(allScopes)
		}
		c.Audience = slices.Clone(c.Audience)
		st.entries = append(st.entries, staticToken{sum: sha256.Sum256([]byte(tok)), client: c})
	}
	// Map order is random: sort for a stable layout (the comparison visits all anyway).
	slices.SortFunc(st.entries, func(a, b staticToken) int { return strings.Compare(a.client.ID, b.client.ID) })
	return st, nil
}

// Authenticate implements [Authenticator].
func (st *StaticTokens) Authenticate(r *http.Request) (*Client, error) {
	tok, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	if i := st.lookup(tok); i >= 0 {
		c := st.entries[i].client
		c.Scopes = slices.Clone(c.Scopes)
		c.Audience = slices.Clone(c.Audience)
		return &c, nil
	}
	e := errInvalidToken("the access token is not valid")
	e.Err = ErrUnknownToken
	return nil, e
}

// lookup returns the index of tok's entry or -1, comparing against every entry in
// constant time.
func (st *StaticTokens) lookup(tok string) int {
	sum := sha256.Sum256([]byte(tok))
	found := -1
	for i := range st.entries {
		eq := subtle.ConstantTimeCompare(sum[:], st.entries[i].sum[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	return found
}

// ---------------------------------------------------------------------------------------
// Chain

// Chain returns an Authenticator that tries each of auths in order: the first that
// accepts the request wins; an error other than [ErrUnknownToken] ends the search (an
// expired token of the authorization server is not retried as a static token); when
// none recognises the token the answer is 401 invalid_token.
func Chain(auths ...Authenticator) Authenticator { return chain(slices.Clone(auths)) }

type chain []Authenticator

func (ch chain) Authenticate(r *http.Request) (*Client, error) {
	if _, err := BearerToken(r); err != nil {
		return nil, err
	}
	for _, a := range ch {
		c, err := a.Authenticate(r)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, ErrUnknownToken) {
			return nil, err
		}
	}
	e := errInvalidToken("the access token is not valid")
	e.Err = ErrUnknownToken
	return nil, e
}

// sharesToken reports whether a is (or chains) a StaticTokens that accepts tok.
func sharesToken(a Authenticator, tok string) bool {
	switch x := a.(type) {
	case *StaticTokens:
		return x.lookup(tok) >= 0
	case chain:
		for _, sub := range x {
			if sharesToken(sub, tok) {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------------------------------
// OAuth 2.0 JWT access tokens

// OAuthConfig configures [NewOAuthTokens]. Issuer, Audience and KeySet are required.
type OAuthConfig struct {
	// Issuer is the authorization server's issuer: the tokens' "iss" must equal it.
	Issuer string
	// Audience lists the accepted "aud" values (this resource server's identifiers,
	// typically the Transmitter's issuer); a token must carry at least one.
	Audience []string
	// KeySet holds the authorization server's public keys: keys.RemoteKeySet on its
	// jwks_uri in production, a keys.StaticKeySet in tests.
	KeySet keys.KeySet
	// Algorithms is the JWS algorithm allow-list. Nil: RS256, RS384, RS512, PS256, PS384,
	// PS512, ES256, ES384, ES512, EdDSA. "none" and the HMAC algorithms are refused
	// always (a shared secret would let anyone holding it mint tokens).
	Algorithms []string
	// Leeway is the clock skew tolerated for exp, nbf and iat. Zero: one minute.
	Leeway time.Duration
	// Policy returns the policy of a client id; ok false refuses the client (401
	// invalid_token). Nil: every client of the authorization server is a Receiver with
	// the zero ClientPolicy.
	Policy func(clientID string) (policy ClientPolicy, ok bool)
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
}

// OAuthTokens authenticates Receiver clients by OAuth 2.0 JWT access tokens (RFC 9068
// shape, RFC 6750 usage) issued by one authorization server (CAEP-IOP §2.7, IOP-14,
// IOP-15). It checks the signature (allow-listed asymmetric algorithms only), "iss",
// "aud", "exp" (required), "nbf" and "iat", and refuses a Security Event Token passed as
// an access token (a "typ" of secevent+jwt or an "events" claim: JWT confusion, SEC-6).
//
// The client id is "client_id" (RFC 9068 §2.2), else "azp", else "sub". The scopes are
// "scope" (a space-separated string, RFC 9068 §2.2.3) or "scp" (an array of strings, or
// a string). Revocation is not checked: use short-lived tokens (IOP-14 suggests at most
// 60 minutes), or an Authenticator that introspects them.
type OAuthTokens struct {
	cfg  OAuthConfig
	algs []jose.SignatureAlgorithm
}

// defaultOAuthAlgorithms is the default JWS allow-list of [OAuthTokens].
var defaultOAuthAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// NewOAuthTokens returns an Authenticator for JWT access tokens.
func NewOAuthTokens(cfg OAuthConfig) (*OAuthTokens, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("transmitter: OAuthConfig.Issuer is required")
	}
	if len(cfg.Audience) == 0 || slices.Contains(cfg.Audience, "") {
		return nil, errors.New("transmitter: OAuthConfig.Audience needs at least one non-empty value")
	}
	if cfg.KeySet == nil {
		return nil, errors.New("transmitter: OAuthConfig.KeySet is required")
	}
	names := cfg.Algorithms
	if names == nil {
		names = defaultOAuthAlgorithms
	}
	o := &OAuthTokens{cfg: cfg}
	for _, a := range names {
		if !slices.Contains(defaultOAuthAlgorithms, a) {
			return nil, fmt.Errorf("transmitter: OAuthConfig.Algorithms: %q is not an allowed asymmetric JWS algorithm", a)
		}
		o.algs = append(o.algs, jose.SignatureAlgorithm(a))
	}
	if len(o.algs) == 0 {
		return nil, errors.New("transmitter: OAuthConfig.Algorithms is empty")
	}
	if o.cfg.Leeway == 0 {
		o.cfg.Leeway = time.Minute
	}
	if o.cfg.Now == nil {
		o.cfg.Now = time.Now
	}
	o.cfg.Audience = slices.Clone(cfg.Audience)
	return o, nil
}

// accessTokenClaims are the claims OAuthTokens reads besides the registered ones.
type accessTokenClaims struct {
	ClientID string          `json:"client_id"`
	AZP      string          `json:"azp"`
	Scope    json.RawMessage `json:"scope"`
	SCP      json.RawMessage `json:"scp"`
	Events   json.RawMessage `json:"events"`
}

// Authenticate implements [Authenticator].
func (o *OAuthTokens) Authenticate(r *http.Request) (*Client, error) {
	raw, err := BearerToken(r)
	if err != nil {
		return nil, err
	}
	if strings.Count(raw, ".") != 2 {
		e := errInvalidToken("the access token is not a JWT")
		e.Err = ErrUnknownToken
		return nil, e
	}
	tok, err := jwt.ParseSigned(raw, o.algs)
	if err != nil {
		return nil, errInvalidToken("the access token is not a signed JWT with an allowed algorithm (%s)", o.algNames())
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); strings.EqualFold(typ, "secevent+jwt") || strings.EqualFold(typ, "application/secevent+jwt") {
		return nil, errInvalidToken("a Security Event Token is not an access token")
	}
	candidates, err := o.cfg.KeySet.Keys(r.Context(), h.KeyID)
	if err != nil {
		if errors.Is(err, keys.ErrUnknownKeyID) {
			return nil, errInvalidToken("the access token's signing key (kid %q) is unknown", h.KeyID)
		}
		return nil, &AuthError{Status: http.StatusServiceUnavailable, Description: "the authorization server's keys are unavailable", Err: err}
	}
	var (
		std      jwt.Claims
		extra    accessTokenClaims
		verified bool
	)
	for _, k := range candidates {
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		std, extra = jwt.Claims{}, accessTokenClaims{}
		if tok.Claims(k.Key, &std, &extra) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return nil, errInvalidToken("the access token's signature does not verify")
	}
	if len(extra.Events) > 0 {
		return nil, errInvalidToken("a Security Event Token is not an access token")
	}
	if std.Expiry == nil {
		return nil, errInvalidToken("the access token has no exp claim")
	}
	err = std.ValidateWithLeeway(jwt.Expected{Issuer: o.cfg.Issuer, AnyAudience: o.cfg.Audience, Time: o.cfg.Now()}, o.cfg.Leeway)
	switch {
	case err == nil:
	case errors.Is(err, jwt.ErrExpired):
		return nil, errInvalidToken("the access token expired")
	case errors.Is(err, jwt.ErrNotValidYet):
		return nil, errInvalidToken("the access token is not valid yet (nbf)")
	case errors.Is(err, jwt.ErrIssuedInTheFuture):
		return nil, errInvalidToken("the access token was issued in the future (iat)")
	case errors.Is(err, jwt.ErrInvalidIssuer):
		return nil, errInvalidToken("the access token was not issued by the expected authorization server")
	case errors.Is(err, jwt.ErrInvalidAudience):
		return nil, errInvalidToken("the access token is not meant for this transmitter (aud)")
	default:
		return nil, errInvalidToken("the access token is not valid")
	}
	id := extra.ClientID
	if id == "" {
		id = extra.AZP
	}
	if id == "" {
		id = std.Subject
	}
	if id == "" {
		return nil, errInvalidToken("the access token names no client (client_id, azp or sub)")
	}
	scopes, err := tokenScopes(extra.Scope, extra.SCP)
	if err != nil {
		return nil, errInvalidToken("%v", err)
	}
	c := &Client{ID: id, Scopes: scopes}
	if o.cfg.Policy != nil {
		p, ok := o.cfg.Policy(id)
		if !ok {
			return nil, errInvalidToken("client %q is not a receiver of this transmitter", id)
		}
		c.ClientPolicy = p
		c.Audience = slices.Clone(p.Audience)
	}
	return c, nil
}

func (o *OAuthTokens) algNames() string {
	s := make([]string, len(o.algs))
	for i, a := range o.algs {
		s[i] = string(a)
	}
	return strings.Join(s, ", ")
}

// tokenScopes reads "scope" (space-separated string) and "scp" (array of strings, or a
// string), merging both.
func tokenScopes(scope, scp json.RawMessage) ([]string, error) {
	var out []string
	add := func(raw json.RawMessage, name string, arrayOK bool) error {
		if len(raw) == 0 || string(raw) == "null" {
			return nil
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, strings.Fields(s)...)
			return nil
		}
		var list []string
		if arrayOK && json.Unmarshal(raw, &list) == nil {
			out = append(out, list...)
			return nil
		}
		return fmt.Errorf("the access token's %s claim is malformed", name)
	}
	if err := add(scope, "scope", false); err != nil {
		return nil, err
	}
	if err := add(scp, "scp", true); err != nil {
		return nil, err
	}
	return out, nil
}
