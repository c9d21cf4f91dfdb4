package receiver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"

	"github.com/sigshare/sigshare/keys"
)

// tokenEndpoint is a test OAuth 2.0 authorization server token endpoint (RFC 6749 §4.4)
// that checks the client authentication.
type tokenEndpoint struct {
	srv       *httptest.Server
	clientID  string
	secret    string
	publicKey *keys.SigningKey // private_key_jwt verification key
	expiresIn int
	calls     atomic.Int64
	delay     time.Duration
	// mint, when set, makes the access token (default "at-<n>").
	mint func(clientID, scope string) string

	mu       sync.Mutex
	lastForm map[string][]string
	lastAuth string
	jtis     map[string]bool
	failures []string
}

func newTokenEndpoint(t *testing.T) *tokenEndpoint {
	e := &tokenEndpoint{clientID: "receiver-1", secret: "s3cret", expiresIn: 3600, jtis: map[string]bool{}}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *tokenEndpoint) fail(w http.ResponseWriter, format string, args ...any) {
	e.mu.Lock()
	e.failures = append(e.failures, fmt.Sprintf(format, args...))
	e.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(400)
	_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
}

func (e *tokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	n := e.calls.Add(1)
	if e.delay > 0 {
		time.Sleep(e.delay)
	}
	if err := r.ParseForm(); err != nil {
		e.fail(w, "form: %v", err)
		return
	}
	e.mu.Lock()
	e.lastForm = r.PostForm
	e.lastAuth = r.Header.Get("Authorization")
	e.mu.Unlock()
	if r.PostForm.Get("grant_type") != "client_credentials" {
		e.fail(w, "grant_type %q", r.PostForm.Get("grant_type"))
		return
	}
	user, pass, basic := r.BasicAuth()
	switch {
	case basic:
		if user != e.clientID || pass != e.secret || r.PostForm.Has("client_secret") {
			e.fail(w, "basic auth %q", user)
			return
		}
	case r.PostForm.Has("client_secret"):
		if r.PostForm.Get("client_id") != e.clientID || r.PostForm.Get("client_secret") != e.secret {
			e.fail(w, "post auth")
			return
		}
	case r.PostForm.Has("client_assertion"):
		if msg := e.checkAssertion(r.PostForm); msg != "" {
			e.fail(w, "%s", msg)
			return
		}
	default:
		e.fail(w, "no client authentication")
		return
	}
	at := fmt.Sprintf("at-%d", n)
	if e.mint != nil {
		id := r.PostForm.Get("client_id")
		if basic {
			id = user
		}
		at = e.mint(id, r.PostForm.Get("scope"))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": at,
		"token_type":   "bearer",
		"expires_in":   e.expiresIn,
		"scope":        r.PostForm.Get("scope"),
	})
}

// checkAssertion verifies an RFC 7523 client assertion.
func (e *tokenEndpoint) checkAssertion(form map[string][]string) string {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	if get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return "client_assertion_type " + get("client_assertion_type")
	}
	if _, ok := form["client_secret"]; ok {
		return "client_secret sent with private_key_jwt"
	}
	jws, err := jose.ParseSignedCompact(get("client_assertion"), []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return "assertion: " + err.Error()
	}
	pub := e.publicKey.Public()
	if jws.Signatures[0].Header.KeyID != pub.KeyID {
		return "kid " + jws.Signatures[0].Header.KeyID
	}
	payload, err := jws.Verify(pub.Key)
	if err != nil {
		return "signature: " + err.Error()
	}
	var c struct {
		Iss, Sub, Aud, Jti string
		Iat, Exp           int64
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return err.Error()
	}
	now := time.Now().Unix()
	switch {
	case c.Iss != get("client_id") || c.Sub != c.Iss || c.Iss == "":
		return "iss/sub " + c.Iss + " " + c.Sub
	case c.Aud != e.srv.URL+"/token":
		return "aud " + c.Aud
	case c.Exp <= now || c.Exp > now+300 || c.Iat > now+5:
		return fmt.Sprintf("iat %d exp %d", c.Iat, c.Exp)
	case c.Jti == "":
		return "no jti"
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.jtis[c.Jti] {
		return "replayed jti"
	}
	e.jtis[c.Jti] = true
	return ""
}

func (e *tokenEndpoint) failuresSeen() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.failures...)
}

func TestClientCredentials_AuthMethods_IOP_14(t *testing.T) {
	ctx := context.Background()
	e := newTokenEndpoint(t)
	key, err := keys.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	e.publicKey = key
	for _, tc := range []struct {
		name   string
		cfg    ClientCredentialsConfig
		scope  string
		inForm []string
	}{
		{"client_secret_basic", ClientCredentialsConfig{ClientSecret: "s3cret"}, "ssf.read ssf.manage", nil},
		{"client_secret_post", ClientCredentialsConfig{ClientSecret: "s3cret", AuthMethod: ClientSecretPost}, "ssf.read ssf.manage", []string{"client_id", "client_secret"}},
		{"private_key_jwt", ClientCredentialsConfig{SigningKey: key}, "ssf.read ssf.manage", []string{"client_id", "client_assertion", "client_assertion_type"}},
		{"custom scopes", ClientCredentialsConfig{ClientSecret: "s3cret", Scopes: []string{"ssf.manage"}}, "ssf.manage", nil},
		{"no scope", ClientCredentialsConfig{ClientSecret: "s3cret", Scopes: []string{}}, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.TokenURL = e.srv.URL + "/token"
			cfg.ClientID = "receiver-1"
			cfg.HTTPClient = e.srv.Client()
			cc, err := NewClientCredentials(cfg)
			if err != nil {
				t.Fatal(err)
			}
			authz, err := cc.Authorization(ctx)
			if err != nil {
				t.Fatalf("%v (server saw %q)", err, e.failuresSeen())
			}
			if !strings.HasPrefix(authz, "Bearer at-") {
				t.Errorf("Authorization %q", authz)
			}
			e.mu.Lock()
			form, auth := e.lastForm, e.lastAuth
			e.mu.Unlock()
			if got := strings.Join(form["scope"], " "); got != tc.scope {
				t.Errorf("scope %q, want %q", got, tc.scope)
			}
			_, hasScope := form["scope"]
			if tc.scope == "" && hasScope {
				t.Error("scope parameter sent")
			}
			for _, k := range tc.inForm {
				if _, ok := form[k]; !ok {
					t.Errorf("form lacks %s", k)
				}
			}
			if (auth != "") != (cfg.AuthMethod == "" && cfg.SigningKey == nil) {
				t.Errorf("Authorization header to the token endpoint: %q", auth)
			}
			if strings.Contains(cc.String(), "s3cret") {
				t.Error("String shows the secret")
			}
		})
	}
	t.Run("wrong secret", func(t *testing.T) {
		cc, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: e.srv.URL + "/token", ClientID: "receiver-1", ClientSecret: "wrong", HTTPClient: e.srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cc.Authorization(ctx)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || !strings.Contains(err.Error(), "receiver-1") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "wrong") {
			t.Error("the error shows the secret")
		}
	})
}

func TestClientCredentials_ConfigErrors(t *testing.T) {
	for name, cfg := range map[string]ClientCredentialsConfig{
		"no token url":        {ClientID: "c", ClientSecret: "s"},
		"http token url":      {TokenURL: "http://as.example.com/token", ClientID: "c", ClientSecret: "s"},
		"no client id":        {TokenURL: "https://as.example.com/token", ClientSecret: "s"},
		"no secret":           {TokenURL: "https://as.example.com/token", ClientID: "c"},
		"jwt without key":     {TokenURL: "https://as.example.com/token", ClientID: "c", AuthMethod: PrivateKeyJWT},
		"unknown method":      {TokenURL: "https://as.example.com/token", ClientID: "c", ClientSecret: "s", AuthMethod: "tls_client_auth"},
		"post without secret": {TokenURL: "https://as.example.com/token", ClientID: "c", AuthMethod: ClientSecretPost},
	} {
		if _, err := NewClientCredentials(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Tokens are reused until shortly before they expire, then refreshed; concurrent
// callers share one fetch; Invalidate forces a new token.
func TestClientCredentials_CachingAndRefresh(t *testing.T) {
	ctx := context.Background()
	e := newTokenEndpoint(t)
	e.expiresIn = 120
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	cc, err := NewClientCredentials(ClientCredentialsConfig{
		TokenURL: e.srv.URL + "/token", ClientID: "receiver-1", ClientSecret: "s3cret",
		HTTPClient: e.srv.Client(), Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	// x/oauth2 computes Expiry from the real clock; the fake clock starts there too.
	first, err := cc.Authorization(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if a, _ := cc.Authorization(ctx); a != first {
			t.Fatalf("token not reused: %q then %q", first, a)
		}
	}
	advance(80 * time.Second) // 40 s left: more than the 30 s margin
	if a, _ := cc.Authorization(ctx); a != first {
		t.Fatal("refreshed too early")
	}
	advance(15 * time.Second) // 25 s left: refresh
	second, err := cc.Authorization(ctx)
	if err != nil || second == first {
		t.Fatalf("not refreshed: %q %v", second, err)
	}
	if n := e.calls.Load(); n != 2 {
		t.Errorf("%d token requests, want 2", n)
	}
	cc.Invalidate()
	third, _ := cc.Authorization(ctx)
	if third == second {
		t.Error("Invalidate kept the token")
	}

	// Concurrent callers share one fetch.
	cc.Invalidate()
	e.delay = 50 * time.Millisecond
	before := e.calls.Load()
	var wg sync.WaitGroup
	results := make([]string, 20)
	for i := range results {
		wg.Go(func() { results[i], _ = cc.Authorization(ctx) })
	}
	wg.Wait()
	if n := e.calls.Load() - before; n != 1 {
		t.Errorf("%d concurrent fetches, want 1", n)
	}
	for _, r := range results {
		if r != results[0] || r == "" {
			t.Fatalf("callers got different tokens: %q", results)
		}
	}
	// A token living less than twice the margin is still reused for half its life.
	e.delay = 0
	e.expiresIn = 20
	cc.Invalidate()
	short, _ := cc.Authorization(ctx)
	advance(9 * time.Second)
	if a, _ := cc.Authorization(ctx); a != short {
		t.Error("short-lived token not reused")
	}
	advance(2 * time.Second)
	if a, _ := cc.Authorization(ctx); a == short {
		t.Error("short-lived token not refreshed after half its life")
	}

	// A waiter whose context ends returns at once.
	cc.Invalidate()
	e.delay = 300 * time.Millisecond
	go func() { _, _ = cc.Authorization(ctx) }()
	time.Sleep(20 * time.Millisecond)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := cc.Authorization(cctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiter: %v", err)
	}
}

// private_key_jwt: every token request carries a fresh assertion (unique jti).
func TestClientCredentials_PrivateKeyJWTFreshAssertion(t *testing.T) {
	ctx := context.Background()
	e := newTokenEndpoint(t)
	key, err := keys.Generate("RS256")
	if err != nil {
		t.Fatal(err)
	}
	e.publicKey = key
	cc, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: e.srv.URL + "/token", ClientID: "receiver-1", SigningKey: key, HTTPClient: e.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		cc.Invalidate()
		if _, err := cc.Authorization(ctx); err != nil {
			t.Fatalf("%v (server saw %q)", err, e.failuresSeen())
		}
	}
	// An oauth2.TokenSource shares the cache.
	tok, err := cc.TokenSource(ctx).Token()
	if err != nil || !tok.Valid() {
		t.Fatalf("%v %v", tok, err)
	}
	if e.calls.Load() != 3 {
		t.Errorf("calls %d", e.calls.Load())
	}
}

// The management client with OAuth credentials against a transmitter that checks the
// token; the bearer never appears in a URL (IOP-15).
func TestClient_WithClientCredentials(t *testing.T) {
	ctx := context.Background()
	e := newTokenEndpoint(t)
	f := newFakeTransmitter(t)
	f.token = "at-1"
	cc, err := NewClientCredentials(ClientCredentialsConfig{TokenURL: e.srv.URL + "/token", ClientID: "receiver-1", ClientSecret: "s3cret", HTTPClient: e.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t, f, func(cfg *ClientConfig) { cfg.Credentials = cc })
	if _, err := c.CreateStream(ctx, pushRequest("https://r.example.com/p")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListStreams(ctx); err != nil {
		t.Fatal(err)
	}
	// The transmitter revokes the token: the client fetches a new one and retries.
	f.token = "at-2"
	if _, err := c.ListStreams(ctx); err != nil {
		t.Fatal(err)
	}
	if e.calls.Load() != 2 {
		t.Errorf("token requests %d, want 2", e.calls.Load())
	}
	for _, r := range f.requests {
		if strings.Contains(r.Query, "at-") || strings.Contains(r.Path, "at-") {
			t.Errorf("token in the URL: %+v", r)
		}
	}
}

func TestBearerToken(t *testing.T) {
	a, err := BearerToken("abc").Authorization(context.Background())
	if err != nil || a != "Bearer abc" {
		t.Errorf("%q %v", a, err)
	}
	if _, err := BearerToken("").Authorization(context.Background()); err == nil {
		t.Error("empty token accepted")
	}
	if s := fmt.Sprint(BearerToken("abc")); strings.Contains(s, "abc") {
		t.Errorf("printed %q", s)
	}
	if s := fmt.Sprintf("%#v", BearerToken("abc")); strings.Contains(s, "abc") {
		t.Errorf("printed %q", s)
	}
}

func TestTokenSourceCredentials(t *testing.T) {
	ctx := context.Background()
	src := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "abc", TokenType: "bearer"})
	if a, err := (TokenSourceCredentials{Source: src}).Authorization(ctx); err != nil || a != "Bearer abc" {
		t.Errorf("%q %v", a, err)
	}
	if _, err := (TokenSourceCredentials{}).Authorization(ctx); err == nil {
		t.Error("nil source accepted")
	}
	empty := oauth2.StaticTokenSource(&oauth2.Token{})
	if _, err := (TokenSourceCredentials{Source: empty}).Authorization(ctx); err == nil {
		t.Error("empty token accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := (TokenSourceCredentials{Source: src}).Authorization(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
