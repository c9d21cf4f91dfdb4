package transmitter

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
)

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers []string
		query   string
		want    string
		status  int
		code    string
	}{
		{"bearer", []string{"Bearer abc"}, "", "abc", 0, ""},
		{"case-insensitive scheme", []string{"bearer abc"}, "", "abc", 0, ""},
		{"token with colon", []string{"Bearer invalid:123"}, "", "invalid:123", 0, ""},
		{"none", nil, "", "", 401, ""},
		{"basic", []string{"Basic dXNlcjpwYXNz"}, "", "", 401, ""},
		{"empty bearer", []string{"Bearer "}, "", "", 400, "invalid_request"},
		{"two headers", []string{"Bearer a", "Bearer b"}, "", "", 400, "invalid_request"},
		{"query token", nil, "access_token=abc", "", 400, "invalid_request"},
		{"query token with header", []string{"Bearer abc"}, "access_token=abc", "", 400, "invalid_request"},
	} {
		r := httptest.NewRequest(http.MethodGet, "/ssf/stream?"+tc.query, nil)
		for _, h := range tc.headers {
			r.Header.Add("Authorization", h)
		}
		got, err := BearerToken(r)
		if tc.status == 0 {
			if err != nil || got != tc.want {
				t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
			}
			continue
		}
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Status != tc.status || ae.Code != tc.code {
			t.Errorf("%s: error %#v, want status %d code %q", tc.name, err, tc.status, tc.code)
		}
	}
}

func TestAuthErrorChallenge(t *testing.T) {
	for _, tc := range []struct {
		err  *AuthError
		want string
	}{
		{errNoToken(), `Bearer realm="r"`},
		{errInvalidToken("bad \"quoted\" token"), `Bearer realm="r", error="invalid_token", error_description="bad 'quoted' token"`},
		{errInsufficientScope(ScopeManage), `Bearer realm="r", error="insufficient_scope", error_description="the access token lacks the scope this request needs: ssf.manage", scope="ssf.manage"`},
	} {
		if got := tc.err.Challenge("r"); got != tc.want {
			t.Errorf("Challenge = %s\nwant        %s", got, tc.want)
		}
	}
	if !errors.Is(errNoToken(), ssf.ErrUnauthorized) || !errors.Is(errInsufficientScope(ScopeRead), ssf.ErrForbidden) || !errors.Is(errInvalidRequest("x"), ssf.ErrBadRequest) {
		t.Error("AuthError does not match its ssf sentinel")
	}
}

func TestStaticTokens(t *testing.T) {
	st, err := NewStaticTokens(map[string]Client{
		"t1": {ID: "a"},
		"t2": {ID: "a"}, // rotation: two tokens, one client
		"t3": {ID: "b", Scopes: []string{ScopeRead}},
	})
	if err != nil {
		t.Fatal(err)
	}
	auth := func(tok string) (*Client, error) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return st.Authenticate(r)
	}
	for tok, id := range map[string]string{"t1": "a", "t2": "a", "t3": "b"} {
		c, err := auth(tok)
		if err != nil || c.ID != id {
			t.Errorf("%s: %v, %v", tok, c, err)
		}
	}
	if c, _ := auth("t1"); !c.HasScope(ScopeManage) || !c.HasScope(ScopePoll) {
		t.Errorf("a static client holds every scope: %v", c.Scopes)
	}
	if c, _ := auth("t3"); c.HasScope(ScopeManage) {
		t.Errorf("explicit scopes are kept: %v", c.Scopes)
	}
	c1, _ := auth("t1")
	c1.Scopes[0] = "changed"
	if c2, _ := auth("t1"); c2.Scopes[0] == "changed" {
		t.Error("Authenticate returns shared state")
	}
	for _, tok := range []string{"t", "t11", "T1", ""} {
		if _, err := auth(tok); err == nil {
			t.Errorf("%q accepted", tok)
		}
	}
	if _, err := auth("nope"); !errors.Is(err, ErrUnknownToken) || !errors.Is(err, ssf.ErrUnauthorized) {
		t.Errorf("unknown token: %v", err)
	}
	if _, err := NewStaticTokens(map[string]Client{"": {ID: "a"}}); err == nil {
		t.Error("empty token accepted")
	}
	if _, err := NewStaticTokens(map[string]Client{"x": {}}); err == nil {
		t.Error("client without ID accepted")
	}
}

// OAuth 2.0 JWT access tokens (IOP-14, IOP-15).
func TestOAuthTokens(t *testing.T) {
	const aud = "https://tr.example/resource"
	as := newAuthServer(t)
	clk := newClock()
	o := as.authenticator(t, aud, clk.Now)
	now := clk.Now()
	authn := func(tok string) (*Client, error) {
		r := httptest.NewRequest(http.MethodGet, "/ssf/stream", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return o.Authenticate(r)
	}
	other, err := keys.Generate("ES256")
	if err != nil {
		t.Fatal(err)
	}
	forged := func() string {
		// Signed by another key under the authorization server's kid.
		k := other.WithKeyID(as.key.KeyID())
		sg, err := jose.NewSigner(k.JOSESigningKey(), nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(sg).Claims(map[string]any{"iss": as.issuer, "aud": aud, "exp": now.Add(time.Hour).Unix(), "client_id": "receiver-a", "scope": "ssf.manage"}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	hmac := func() string {
		sg, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(sg).Claims(map[string]any{"iss": as.issuer, "aud": aud, "exp": now.Add(time.Hour).Unix(), "client_id": "receiver-a"}).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	none := b64(`{"alg":"none"}`) + "." + b64(`{"iss":"`+as.issuer+`","aud":"`+aud+`","exp":9999999999,"client_id":"receiver-a"}`) + "."

	for _, tc := range []struct {
		name   string
		tok    string
		id     string   // want success with this client id
		scopes []string // and these scopes
		says   string   // else an invalid_token error saying this
	}{
		{"valid", as.token(t, now, aud, nil), "receiver-a", []string{"ssf.manage", "ssf.read"}, ""},
		{"scp array", as.token(t, now, aud, map[string]any{"scope": nil, "scp": []string{"ssf.read"}}), "receiver-a", []string{"ssf.read"}, ""},
		{"azp fallback", as.token(t, now, aud, map[string]any{"client_id": nil, "azp": "via-azp"}), "via-azp", nil, ""},
		{"sub fallback", as.token(t, now, aud, map[string]any{"client_id": nil, "sub": "via-sub"}), "via-sub", nil, ""},
		{"aud array", as.token(t, now, aud, map[string]any{"aud": []string{"other", aud}}), "receiver-a", nil, ""},
		{"within leeway", as.token(t, now, aud, map[string]any{"exp": now.Add(-30 * time.Second).Unix()}), "receiver-a", nil, ""},
		{"expired", as.token(t, now, aud, map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}), "", nil, "expired"},
		{"no exp", as.token(t, now, aud, map[string]any{"exp": nil}), "", nil, "no exp"},
		{"not yet valid", as.token(t, now, aud, map[string]any{"nbf": now.Add(10 * time.Minute).Unix()}), "", nil, "nbf"},
		{"issued in the future", as.token(t, now, aud, map[string]any{"iat": now.Add(10 * time.Minute).Unix()}), "", nil, "iat"},
		{"wrong issuer", as.token(t, now, aud, map[string]any{"iss": "https://evil.example"}), "", nil, "authorization server"},
		{"wrong audience", as.token(t, now, "https://other.example", nil), "", nil, "aud"},
		{"no client", as.token(t, now, aud, map[string]any{"client_id": nil}), "", nil, "names no client"},
		{"refused client", as.token(t, now, aud, map[string]any{"client_id": "banned"}), "", nil, "not a receiver"},
		{"malformed scope", as.token(t, now, aud, map[string]any{"scope": []string{"ssf.manage"}}), "", nil, "scope"},
		{"a SET as token", as.token(t, now, aud, map[string]any{"events": map[string]any{"x": map[string]any{}}}), "", nil, "Security Event Token"},
		{"forged signature", forged(), "", nil, "does not verify"},
		{"HS256", hmac(), "", nil, "allowed algorithm"},
		{"alg none", none, "", nil, "allowed algorithm"},
		{"garbage JWT", "a.b.c", "", nil, "not a signed JWT"},
	} {
		c, err := authn(tc.tok)
		if tc.id != "" {
			if err != nil || c.ID != tc.id {
				t.Errorf("%s: %v, %v; want client %s", tc.name, c, err, tc.id)
			} else if tc.scopes != nil && strings.Join(c.Scopes, " ") != strings.Join(tc.scopes, " ") {
				t.Errorf("%s: scopes %v, want %v", tc.name, c.Scopes, tc.scopes)
			}
			continue
		}
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "invalid_token" || !strings.Contains(ae.Description, tc.says) {
			t.Errorf("%s: error %v, want 401 invalid_token saying %q", tc.name, err, tc.says)
		}
	}
	// Not a JWT: unknown to this authenticator, so a Chain tries the next.
	if _, err := authn("opaque-static-token"); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("opaque token: %v, want ErrUnknownToken", err)
	}
	// A typ of secevent+jwt is refused too.
	sg, _ := jose.NewSigner(as.key.JOSESigningKey(), (&jose.SignerOptions{}).WithType("secevent+jwt"))
	setTok, _ := jwt.Signed(sg).Claims(map[string]any{"iss": as.issuer, "aud": aud, "exp": now.Add(time.Hour).Unix(), "client_id": "receiver-a"}).Serialize()
	if _, err := authn(setTok); err == nil || !strings.Contains(err.Error(), "Security Event Token") {
		t.Errorf("typ secevent+jwt: %v", err)
	}

	// Keys that cannot be fetched: 503, not the client's fault.
	down, err := NewOAuthTokens(OAuthConfig{Issuer: as.issuer, Audience: []string{aud}, KeySet: failingKeySet{}})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+as.token(t, now, aud, nil))
	var ae *AuthError
	if _, err := down.Authenticate(r); !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.hookCode() != "" {
		t.Errorf("unavailable keys: %v, want 503", err)
	}

	for _, bad := range []OAuthConfig{
		{Audience: []string{aud}, KeySet: as.keySet},
		{Issuer: as.issuer, KeySet: as.keySet},
		{Issuer: as.issuer, Audience: []string{aud}},
		{Issuer: as.issuer, Audience: []string{aud}, KeySet: as.keySet, Algorithms: []string{"HS256"}},
		{Issuer: as.issuer, Audience: []string{aud}, KeySet: as.keySet, Algorithms: []string{"none"}},
		{Issuer: as.issuer, Audience: []string{aud}, KeySet: as.keySet, Algorithms: []string{}},
	} {
		if _, err := NewOAuthTokens(bad); err == nil {
			t.Errorf("NewOAuthTokens(%+v) accepted", bad)
		}
	}
}

type failingKeySet struct{}

func (failingKeySet) Keys(context.Context, string) ([]jose.JSONWebKey, error) {
	return nil, errors.New("jwks_uri: connection refused")
}

// Chain: OAuth first, static tokens second; an invalid JWT does not fall through.
func TestChain(t *testing.T) {
	const aud = "https://tr.example/resource"
	as := newAuthServer(t)
	clk := newClock()
	ch := Chain(as.authenticator(t, aud, clk.Now), staticAuth(t))
	authn := func(tok string) (*Client, error) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return ch.Authenticate(r)
	}
	if c, err := authn(tokenB); err != nil || c.ID != "receiver-b" {
		t.Errorf("static token through the chain: %v, %v", c, err)
	}
	if c, err := authn(as.token(t, clk.Now(), aud, nil)); err != nil || c.ID != "receiver-a" {
		t.Errorf("JWT through the chain: %v, %v", c, err)
	}
	_, err := authn(as.token(t, clk.Now(), aud, map[string]any{"exp": clk.Now().Add(-time.Hour).Unix()}))
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired JWT: %v, want the expiry reported", err)
	}
	if _, err := authn("nobody"); !errors.Is(err, ssf.ErrUnauthorized) {
		t.Errorf("unknown token: %v", err)
	}
}

// The authorization matrix (SEC-8): nothing client B sends on any endpoint with any
// method can read, change or reveal the existence of client A's stream. Every answer
// is the one for a stream that does not exist, and the store is unchanged.
func TestAuthorizationMatrix(t *testing.T) {
	s := newServer(t, "", nil)
	status, _, body := s.do(t, http.MethodPost, s.url("/ssf/stream"), tokenA, `{"description":"A's"}`)
	var cfg ssf.StreamConfig
	if status != http.StatusCreated || json.Unmarshal(body, &cfg) != nil {
		t.Fatal(status)
	}
	const ghost = "GHOSTSTREAMIDTHATDOESNOTEXIST"
	requests := func(id string) []struct{ method, path, body string } {
		return []struct{ method, path, body string }{
			{"GET", "/ssf/stream?stream_id=" + id, ""},
			{"PATCH", "/ssf/stream", `{"stream_id":"` + id + `","description":"B"}`},
			{"PATCH", "/ssf/stream?stream_id=" + id, `{"description":"B"}`},
			{"PUT", "/ssf/stream", `{"stream_id":"` + id + `","description":"B"}`},
			{"DELETE", "/ssf/stream?stream_id=" + id, ""},
			{"GET", "/ssf/status?stream_id=" + id, ""},
			{"POST", "/ssf/status", `{"stream_id":"` + id + `","status":"disabled"}`},
			{"POST", "/ssf/subjects:add", `{"stream_id":"` + id + `","subject":{"format":"email","email":"x@example.com"}}`},
			{"POST", "/ssf/subjects:remove", `{"stream_id":"` + id + `","subject":{"format":"email","email":"x@example.com"}}`},
			{"POST", "/ssf/subjects:remove", `{"stream_id":"` + id + `","subject":{"format":"opaque","id":"` + id + `"}}`},
			{"POST", "/ssf/verify", `{"stream_id":"` + id + `","state":"s"}`},
		}
	}
	before := takeSnapshot(t, s.store, s.clock.Now())
	foreign, unknown := requests(cfg.StreamID), requests(ghost)
	for i := range foreign {
		f, u := foreign[i], unknown[i]
		var fb, ub any
		if f.body != "" {
			fb, ub = f.body, u.body
		}
		fs, fh, fbody := s.do(t, f.method, s.url(f.path), tokenB, fb)
		us, uh, ubody := s.do(t, u.method, s.url(u.path), tokenB, ub)
		what := f.method + " " + strings.ReplaceAll(f.path, cfg.StreamID, "<A's id>")
		checkError(t, what, fs, fh, fbody, http.StatusNotFound)
		same := strings.ReplaceAll(string(fbody), cfg.StreamID, ghost)
		if fs != us || same != string(ubody) || fh.Get("Content-Type") != uh.Get("Content-Type") {
			t.Errorf("%s: answer for A's stream (%d %s) differs from the answer for an unknown stream (%d %s)", what, fs, fbody, us, ubody)
		}
	}
	// Listing shows B none of A's streams.
	status, _, body = s.do(t, http.MethodGet, s.url("/ssf/stream"), tokenB, nil)
	if status != http.StatusOK || string(body) != "[]" {
		t.Errorf("B's list: %d %s", status, body)
	}
	// DELETE without stream_id does not find A's stream for B.
	status, _, _ = s.do(t, http.MethodDelete, s.url("/ssf/stream"), tokenB, nil)
	if status != http.StatusBadRequest {
		t.Errorf("B's DELETE without stream_id: %d", status)
	}
	// Poll authorization: A's stream is not found for B.
	r := httptest.NewRequest(http.MethodPost, "/ssf/poll/"+cfg.StreamID, nil)
	r.Header.Set("Authorization", "Bearer "+tokenB)
	if _, err := s.tr.AuthorizePoll(r, cfg.StreamID); !errors.Is(err, ssf.ErrNotFound) {
		t.Errorf("B polling A's stream: %v, want not found", err)
	}
	if d := before.diff(takeSnapshot(t, s.store, s.clock.Now())); d != "" {
		t.Errorf("B's requests changed the store:\n%s", d)
	}
	// A itself still sees its stream unchanged.
	status, _, body = s.do(t, http.MethodGet, s.url("/ssf/stream?stream_id="+cfg.StreamID), tokenA, nil)
	if status != http.StatusOK || !strings.Contains(string(body), `"description":"A's"`) {
		t.Errorf("A's stream: %d %s", status, body)
	}
}

// AuthorizePoll: scopes (ssf.read, ssf.manage, ssf.manage.poll), ownership, activity.
func TestAuthorizePoll(t *testing.T) {
	st, err := NewStaticTokens(map[string]Client{
		"a":    {ID: "receiver-a"},
		"poll": {ID: "receiver-a", Scopes: []string{ScopePoll}},
		"none": {ID: "receiver-a", Scopes: []string{"openid"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var failures []string
	e := newEnv(t, "https://tr.example.com", func(c *Config) {
		c.Authenticator = st
		c.Hooks.AuthFailure = func(api, code string) { failures = append(failures, api+":"+code) }
	})
	cfg := mustCreate(t, asClient{t: e.tr, c: clientA}, ssf.StreamConfig{})
	e.clock.Advance(time.Hour)
	poll := func(tok, query string) error {
		r := httptest.NewRequest(http.MethodPost, "/ssf/poll/"+cfg.StreamID+query, nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		_, err := e.tr.AuthorizePoll(r, cfg.StreamID)
		return err
	}
	for _, tok := range []string{"a", "poll"} {
		if err := poll(tok, ""); err != nil {
			t.Errorf("%s: %v", tok, err)
		}
	}
	s, _ := e.store.GetStream(t.Context(), cfg.StreamID)
	if !s.LastActivityAt.Equal(e.clock.Now()) {
		t.Errorf("a poll is not recorded as activity: %v", s.LastActivityAt)
	}
	if err := poll("none", ""); !errors.Is(err, ssf.ErrForbidden) {
		t.Errorf("no SSF scope: %v, want 403", err)
	}
	if err := poll("", ""); !errors.Is(err, ssf.ErrUnauthorized) {
		t.Errorf("no token: %v", err)
	}
	if err := poll("a", "?access_token=a"); !errors.Is(err, ssf.ErrBadRequest) {
		t.Errorf("token in the query: %v", err)
	}
	w := httptest.NewRecorder()
	WriteAuthError(w, poll("none", ""), "realm")
	if w.Code != 403 || !strings.Contains(w.Header().Get("WWW-Authenticate"), `scope="ssf.read ssf.manage ssf.manage.poll"`) {
		t.Errorf("WriteAuthError: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	want := "poll:insufficient_scope poll:missing_token poll:invalid_request poll:insufficient_scope"
	if got := strings.Join(failures, " "); got != want {
		t.Errorf("AuthFailure hook: %s, want %s", got, want)
	}
}

// Receiver and operator credentials are separate (both directions), on every API.
func TestCredentialSeparation(t *testing.T) {
	var failures []string
	s := newServer(t, "", func(c *Config) {
		c.Hooks.AuthFailure = func(api, code string) { failures = append(failures, api+":"+code) }
	})
	status, h, body := s.do(t, http.MethodGet, s.url("/ssf/stream"), tokenAdmin, nil)
	checkError(t, "admin token on the management API", status, h, body, http.StatusUnauthorized)
	status, h, body = s.do(t, http.MethodGet, s.url("/admin/streams"), tokenA, nil)
	checkError(t, "receiver token on the operator API", status, h, body, http.StatusUnauthorized)
	if !strings.Contains(h.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("challenge %q", h.Get("WWW-Authenticate"))
	}
	status, h, body = s.do(t, http.MethodGet, s.url("/admin/streams?access_token="+tokenAdmin), tokenAdmin, nil)
	checkError(t, "operator token in the query", status, h, body, http.StatusBadRequest)
	status, h, body = s.do(t, http.MethodGet, s.url("/admin/streams"), "", nil)
	checkError(t, "operator API without a token", status, h, body, http.StatusUnauthorized)
	if got := h.Get("WWW-Authenticate"); got != `Bearer realm="`+s.issuer+`"` {
		t.Errorf("challenge without a token: %q", got)
	}
	want := "management:invalid_token admin:invalid_token admin:invalid_request admin:missing_token"
	if got := strings.Join(failures, " "); got != want {
		t.Errorf("AuthFailure hook: %s, want %s", got, want)
	}
	_, err := New(Config{Issuer: "https://x.example", Store: s.store, Keys: sharedKey(t), Authenticator: Chain(staticAuth(t)), AdminToken: tokenB})
	if err == nil || !strings.Contains(err.Error(), "AdminToken") {
		t.Errorf("New with an admin token that is a receiver token: %v", err)
	}
	// Without an admin token the operator API does not exist.
	s2 := newServer(t, "", func(c *Config) { c.AdminToken = "" })
	if status, _, _ := s2.do(t, http.MethodGet, s2.url("/admin/streams"), tokenA, nil); status != http.StatusNotFound {
		t.Errorf("operator API without AdminToken: %d, want 404", status)
	}
	// Without an Authenticator every management request is refused.
	s3 := newServer(t, "", func(c *Config) { c.Authenticator = nil })
	status, h, body = s3.do(t, http.MethodGet, s3.url("/ssf/stream"), tokenA, nil)
	checkError(t, "no Authenticator", status, h, body, http.StatusUnauthorized)
}
