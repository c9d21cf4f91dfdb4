package receiver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sigshare/sigshare/keys"
)

// Credentials supply the Authorization header of the Receiver's calls to the
// Transmitter's management API (SSF §8, SSF-AUTH-3) and poll endpoint (SSF-AUTH-2).
// The value is sent only in the Authorization header, never in a URL (IOP-15), and
// never logged.
//
// Implementations: [BearerToken] (a static token), [*ClientCredentials] (OAuth 2.0
// client credentials grant, IOP-14) and [TokenSourceCredentials] (any
// oauth2.TokenSource). Implementations must be safe for concurrent use.
type Credentials interface {
	// Authorization returns the complete Authorization header value, e.g.
	// "Bearer eyJ…".
	Authorization(ctx context.Context) (string, error)
}

// Refresher is implemented by [Credentials] that can obtain a new value: after a 401
// answer the client calls Invalidate and retries the request once with a fresh value (an
// access token revoked or expired before its announced lifetime).
type Refresher interface {
	// Invalidate forgets the cached value, so that the next Authorization call obtains
	// a new one.
	Invalidate()
}

// BearerToken is a static OAuth 2.0 bearer token (RFC 6750 §2.1) issued to the Receiver
// out of band (the "static" authorization mode of the OpenID conformance suite, TA1). It
// prints as "[redacted]".
type BearerToken string

// Authorization returns "Bearer " followed by the token.
func (t BearerToken) Authorization(context.Context) (string, error) {
	if t == "" {
		return "", errors.New("receiver: empty bearer token")
	}
	return "Bearer " + string(t), nil
}

// String redacts the token.
func (BearerToken) String() string { return "[redacted]" }

// GoString redacts the token.
func (BearerToken) GoString() string { return "[redacted]" }

// ClientAuthMethod is how a client authenticates to the token endpoint (RFC 7591 §2
// token_endpoint_auth_method values).
type ClientAuthMethod string

// Client authentication methods.
const (
	// ClientSecretBasic sends client_id and client_secret with HTTP Basic (RFC 6749
	// §2.3.1); the default when a ClientSecret is set.
	ClientSecretBasic ClientAuthMethod = "client_secret_basic"
	// ClientSecretPost sends client_id and client_secret in the form body.
	ClientSecretPost ClientAuthMethod = "client_secret_post"
	// PrivateKeyJWT sends a JWT client assertion signed with the client's private key
	// (RFC 7523 §2.2, OpenID Connect Core §9); the default when a SigningKey is set.
	PrivateKeyJWT ClientAuthMethod = "private_key_jwt"
)

// Scopes the CAEP Interoperability Profile reserves for SSF endpoints (IOP-14).
const (
	ScopeRead   = "ssf.read"   // read operations: GET stream, GET status, polling
	ScopeManage = "ssf.manage" // every management operation
)

// ClientCredentialsConfig configures [NewClientCredentials].
type ClientCredentialsConfig struct {
	// TokenURL is the authorization server's token endpoint (required, https).
	TokenURL string
	// ClientID is the Receiver's client_id (required).
	ClientID string
	// ClientSecret is the client secret, for ClientSecretBasic and ClientSecretPost.
	ClientSecret string
	// SigningKey signs the client assertion, for PrivateKeyJWT.
	SigningKey *keys.SigningKey
	// AuthMethod selects the client authentication. Empty means ClientSecretBasic when
	// ClientSecret is set, PrivateKeyJWT when SigningKey is set.
	AuthMethod ClientAuthMethod
	// Scopes are requested with every token. Nil means ssf.read and ssf.manage (IOP-14);
	// an empty non-nil slice requests no scope parameter.
	Scopes []string
	// AssertionAudience is the "aud" of the client assertion. Empty means TokenURL
	// (RFC 7523 §3: the token endpoint URL identifies the authorization server).
	AssertionAudience string
	// AssertionLifetime is how long a client assertion is valid. Zero means one minute.
	AssertionLifetime time.Duration
	// EndpointParams are extra form parameters of the token request (e.g. "resource"
	// or "audience").
	EndpointParams url.Values
	// ExpiryMargin is how long before its expiry a token is replaced. Zero means 30
	// seconds; it is at most half the token's lifetime. A token without expires_in is
	// used until a 401 invalidates it.
	ExpiryMargin time.Duration
	// HTTPClient calls the token endpoint. Nil means a client with a 10 second timeout
	// that follows redirects only to the same host.
	HTTPClient *http.Client
	// InsecureAllowHTTP accepts an http TokenURL (loopback tests only).
	InsecureAllowHTTP bool
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// ClientCredentials obtains access tokens with the OAuth 2.0 client credentials grant
// (RFC 6749 §4.4; IOP-14, conformance "dynamic" mode TA2/RS4) and implements
// [Credentials]. The client authenticates with a client secret (basic or post) or with a
// private_key_jwt assertion (RFC 7523) signed by a [keys.SigningKey]. Tokens are
// cached and shared by concurrent callers until ExpiryMargin before they expire; one
// fetch at a time. The token request goes through golang.org/x/oauth2/clientcredentials
// (its error on a refused request is an *oauth2.RetrieveError).
type ClientCredentials struct {
	cfg    ClientCredentialsConfig
	client *http.Client
	now    func() time.Time
	margin time.Duration

	mu       sync.Mutex
	tok      *cachedToken
	inflight chan struct{} // closed when the fetch in flight ends
	fetchErr error
}

// cachedToken is a token with the time (on the Now clock) from which it is replaced.
type cachedToken struct {
	tok       *oauth2.Token
	refreshAt time.Time // zero: no expiry known
}

var (
	_ Credentials = (*ClientCredentials)(nil)
	_ Refresher   = (*ClientCredentials)(nil)
	_ Credentials = BearerToken("")
)

// NewClientCredentials checks cfg and returns the credentials. It fetches nothing yet.
func NewClientCredentials(cfg ClientCredentialsConfig) (*ClientCredentials, error) {
	if _, err := checkURL("token endpoint", cfg.TokenURL, cfg.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	if cfg.ClientID == "" {
		return nil, errors.New("receiver: ClientCredentialsConfig.ClientID is required")
	}
	if cfg.AuthMethod == "" {
		switch {
		case cfg.SigningKey != nil:
			cfg.AuthMethod = PrivateKeyJWT
		default:
			cfg.AuthMethod = ClientSecretBasic
		}
	}
	switch cfg.AuthMethod {
	case ClientSecretBasic, ClientSecretPost:
		if cfg.ClientSecret == "" {
			return nil, fmt.Errorf("receiver: client authentication %s needs a ClientSecret", cfg.AuthMethod)
		}
	case PrivateKeyJWT:
		if cfg.SigningKey == nil {
			return nil, errors.New("receiver: client authentication private_key_jwt needs a SigningKey")
		}
	default:
		return nil, fmt.Errorf("receiver: unsupported client authentication method %q", cfg.AuthMethod)
	}
	if cfg.Scopes == nil {
		cfg.Scopes = []string{ScopeRead, ScopeManage}
	}
	cfg.Scopes = slices.Clone(cfg.Scopes)
	if cfg.AssertionAudience == "" {
		cfg.AssertionAudience = cfg.TokenURL
	}
	c := &ClientCredentials{
		cfg:    cfg,
		client: httpClient(cfg.HTTPClient, defaultTimeout, cfg.InsecureAllowHTTP),
		now:    cfg.Now,
		margin: orDefault(cfg.ExpiryMargin, 30*time.Second),
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// String describes the credentials without secrets.
func (c *ClientCredentials) String() string {
	return fmt.Sprintf("receiver.ClientCredentials{client_id: %q, token_url: %q, auth: %s}", c.cfg.ClientID, c.cfg.TokenURL, c.cfg.AuthMethod)
}

// Authorization returns "<token_type> <access_token>" with a valid cached or new token.
func (c *ClientCredentials) Authorization(ctx context.Context) (string, error) {
	tok, err := c.Token(ctx)
	if err != nil {
		return "", err
	}
	return tok.Type() + " " + tok.AccessToken, nil
}

// Invalidate forgets the cached token.
func (c *ClientCredentials) Invalidate() {
	c.mu.Lock()
	c.tok = nil
	c.mu.Unlock()
}

// Token returns the cached access token while it is valid for more than ExpiryMargin,
// else fetches a new one. Concurrent callers share one fetch; a caller whose ctx ends
// while it waits returns ctx's error.
func (c *ClientCredentials) Token(ctx context.Context) (*oauth2.Token, error) {
	for {
		c.mu.Lock()
		if c.tok != nil && c.fresh(c.tok) {
			t := c.tok.tok
			c.mu.Unlock()
			return t, nil
		}
		if ch := c.inflight; ch != nil {
			c.mu.Unlock()
			select {
			case <-ch:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			c.mu.Lock()
			t, err := c.tok, c.fetchErr
			c.mu.Unlock()
			if t != nil && c.fresh(t) {
				return t.tok, nil
			}
			if err != nil && !isContextErr(err) {
				return nil, err
			}
			continue // the fetcher's context ended: try ourselves
		}
		ch := make(chan struct{})
		c.inflight = ch
		c.mu.Unlock()

		t, err := c.fetch(ctx)

		c.mu.Lock()
		c.inflight = nil
		c.fetchErr = err
		if err == nil {
			c.tok = c.cache(t)
		}
		c.mu.Unlock()
		close(ch)
		if err != nil {
			return nil, err
		}
		return t, nil
	}
}

// TokenSource returns an oauth2.TokenSource backed by these credentials (sharing the
// cache), for use with oauth2.NewClient or other x/oauth2 consumers. Its fetches use ctx.
func (c *ClientCredentials) TokenSource(ctx context.Context) oauth2.TokenSource {
	return tokenSourceFunc(func() (*oauth2.Token, error) { return c.Token(ctx) })
}

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// cache computes when t is to be replaced: ExpiryMargin before it expires, or halfway
// through its lifetime when that is shorter (so that a short-lived token is still
// reused). x/oauth2 computes Expiry on the wall clock; the lifetime is carried over to
// the Now clock.
func (c *ClientCredentials) cache(t *oauth2.Token) *cachedToken {
	ct := &cachedToken{tok: t}
	if !t.Expiry.IsZero() {
		lifetime := time.Until(t.Expiry)
		ct.refreshAt = c.now().Add(lifetime - min(c.margin, lifetime/2))
	}
	return ct
}

func (c *ClientCredentials) fresh(t *cachedToken) bool {
	return t.refreshAt.IsZero() || c.now().Before(t.refreshAt)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// fetch performs one token request.
func (c *ClientCredentials) fetch(ctx context.Context) (*oauth2.Token, error) {
	conf := &clientcredentials.Config{
		ClientID: c.cfg.ClientID,
		TokenURL: c.cfg.TokenURL,
		Scopes:   c.cfg.Scopes,
	}
	params := url.Values{}
	for k, v := range c.cfg.EndpointParams {
		params[k] = slices.Clone(v)
	}
	switch c.cfg.AuthMethod {
	case ClientSecretBasic:
		conf.ClientSecret = c.cfg.ClientSecret
		conf.AuthStyle = oauth2.AuthStyleInHeader
	case ClientSecretPost:
		conf.ClientSecret = c.cfg.ClientSecret
		conf.AuthStyle = oauth2.AuthStyleInParams
	case PrivateKeyJWT:
		assertion, err := c.assertion()
		if err != nil {
			return nil, err
		}
		conf.AuthStyle = oauth2.AuthStyleInParams // sends client_id, no secret
		params.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		params.Set("client_assertion", assertion)
	}
	if len(params) > 0 {
		conf.EndpointParams = params
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.client)
	t, err := conf.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("receiver: token request to %s for client %q: %w", c.cfg.TokenURL, c.cfg.ClientID, err)
	}
	if t.AccessToken == "" {
		return nil, fmt.Errorf("receiver: token response from %s has no access_token", c.cfg.TokenURL)
	}
	return t, nil
}

// assertion builds the RFC 7523 §3 client assertion: iss = sub = client_id, aud = the
// token endpoint, a unique jti, iat and a short exp; signed with the SigningKey (its kid
// in the header).
func (c *ClientCredentials) assertion() (string, error) {
	now := c.now()
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", err
	}
	claims := map[string]any{
		"iss": c.cfg.ClientID,
		"sub": c.cfg.ClientID,
		"aud": c.cfg.AssertionAudience,
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
		"iat": now.Unix(),
		"exp": now.Add(orDefault(c.cfg.AssertionLifetime, time.Minute)).Unix(),
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(c.cfg.SigningKey.JOSESigningKey(), (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("receiver: client assertion signer (%s): %w", c.cfg.SigningKey, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("receiver: signing the client assertion: %w", err)
	}
	return jws.CompactSerialize()
}

// TokenSourceCredentials adapts any oauth2.TokenSource to [Credentials]: for example
// the refresh-token source of an authorization-code grant
// (oauth2.Config.TokenSource(ctx, tok), the set-up Apple-style Transmitters use), or
// oauth2.ReuseTokenSource around a custom source. The source decides caching and
// refresh; its Token method takes no context, so a slow token endpoint is bounded by the
// source's own HTTP client, not by the call's ctx.
type TokenSourceCredentials struct {
	// Source returns the access token.
	Source oauth2.TokenSource
}

// Authorization returns "<token_type> <access_token>" from the source.
func (c TokenSourceCredentials) Authorization(ctx context.Context) (string, error) {
	if c.Source == nil {
		return "", errors.New("receiver: TokenSourceCredentials without a Source")
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	tok, err := c.Source.Token()
	if err != nil {
		return "", fmt.Errorf("receiver: obtaining an access token: %w", err)
	}
	if tok.AccessToken == "" {
		return "", errors.New("receiver: the token source returned no access token")
	}
	return tok.Type() + " " + tok.AccessToken, nil
}

var _ Credentials = TokenSourceCredentials{}
