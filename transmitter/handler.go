package transmitter

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/sigshare/sigshare/ssf"
)

// Handler returns the Transmitter's HTTP surface, meant to be the server's root
// handler. With <base> the issuer's path ("" when it has none):
//
//	GET  /.well-known/ssf-configuration<base>  metadata (SSF §7.2, no authentication)
//	GET  <base>/jwks.json                       JWK Set of the signing keys
//	     <base>/ssf/stream, /ssf/status,
//	     /ssf/subjects:add, /ssf/subjects:remove,
//	     /ssf/verify                            management API (NewManagementHandler)
//	POST <base>/ssf/poll/{stream_id}            poll endpoint (RFC 8936, transmitter/poll)
//	     <base>/admin/...                       operator API (when Config.AdminToken is set)
//	GET  /healthz                               200 while the process runs
//	GET  /readyz                                200 when the store answers, else 503
//
// With Config.LegacyDiscovery the metadata is also served at
// /.well-known/sse-configuration<base>, /.well-known/risc-configuration<base> and, for
// an issuer with a path, at <base>/.well-known/{ssf,sse,risc}-configuration.
//
// The poll endpoint is authorized with [Transmitter.AuthorizePoll] before
// transmitter/poll handles the request, so that every refusal carries its RFC 6750
// challenge.
func (t *Transmitter) Handler() http.Handler {
	mux := http.NewServeMux()
	wellKnown := []string{ssf.WellKnownSSF}
	if t.cfg.LegacyDiscovery {
		wellKnown = append(wellKnown, ssf.WellKnownSSE, ssf.WellKnownRISC)
	}
	for _, wk := range wellKnown {
		mux.HandleFunc("GET "+wk+t.routePath, t.serveMetadata)
		if t.cfg.LegacyDiscovery && t.routePath != "" {
			mux.HandleFunc("GET "+t.routePath+wk, t.serveMetadata)
		}
	}
	mux.HandleFunc("GET "+t.routePath+pathJWKS, t.serveJWKS)
	mux.Handle(t.routePath+"/ssf/", NewManagementHandler(t, ManagementOptions{
		Authenticator:        t.cfg.Authenticator,
		BasePath:             t.routePath,
		Realm:                t.cfg.Realm,
		MaxBodyBytes:         t.cfg.MaxBodyBytes,
		AcceptLegacySubjects: t.cfg.AcceptLegacySubjects,
		Logger:               t.log,
		OnAuthFailure:        t.authFailureHook("management"),
	}))
	mux.Handle(t.routePath+pathPoll+"{stream_id}", t.poll)
	if t.cfg.AdminToken != "" {
		mux.Handle(t.routePath+pathAdmin, t.adminHandler())
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", t.serveReady)
	return mux
}

func (t *Transmitter) authFailureHook(api string) func(code string) {
	h := t.cfg.Hooks.AuthFailure
	if h == nil {
		return nil
	}
	return func(code string) { h(api, code) }
}

// serveMetadata serves the Transmitter Configuration Metadata (SSF §7.2.3).
func (t *Transmitter) serveMetadata(w http.ResponseWriter, _ *http.Request) {
	body, err := json.Marshal(t.metadata)
	if err != nil {
		ssf.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(body)
}

// serveJWKS serves the public signing keys (SSF §4.1.4), cacheable for JWKSMaxAge.
func (t *Transmitter) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	body, err := t.cfg.Keys.MarshalJWKS()
	if err != nil {
		ssf.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(t.cfg.JWKSMaxAge/time.Second)))
	_, _ = w.Write(body)
}

// readyTimeout bounds the store ping of /readyz.
const readyTimeout = 2 * time.Second

func (t *Transmitter) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := t.cfg.Store.Ping(ctx); err != nil {
		t.log.Warn("readiness check: the store does not answer", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("store unavailable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// AuthorizePoll authorizes a poll request (RFC 8936) on streamID: it authenticates the
// Receiver client with Config.Authenticator (a token in the URI query is refused), which
// must hold scope ssf.read, ssf.manage or ssf.manage.poll (IOP-14), and checks that the
// stream belongs to it; another client's stream and an unknown stream are both
// ssf.ErrNotFound (SEC-8). A successful poll counts as Receiver activity on the stream
// (SSF-STREAM-13). Errors are [*AuthError] (write them with [WriteAuthError]) or ssf
// errors.
func (t *Transmitter) AuthorizePoll(r *http.Request, streamID string) (*Client, error) {
	c, err := authenticate(t.cfg.Authenticator, r)
	if err == nil && !c.HasScope(ScopeRead, ScopeManage, ScopePoll) {
		err = errInsufficientScope(ScopeRead, ScopeManage, ScopePoll)
	}
	if err != nil {
		if ae, ok := err.(*AuthError); ok && t.cfg.Hooks.AuthFailure != nil && ae.hookCode() != "" {
			t.cfg.Hooks.AuthFailure("poll", ae.hookCode())
		}
		return nil, err
	}
	s, err := t.ownStream(r.Context(), c, streamID)
	if err != nil {
		return nil, err
	}
	t.touch(r.Context(), s.ID)
	return c, nil
}

// WriteAuthError writes an error of [Transmitter.AuthorizePoll] or an [Authenticator]:
// an [*AuthError] as RFC 6750 §3 says (status, WWW-Authenticate challenge with realm,
// JSON body), anything else with ssf.WriteError. Cache-Control is no-store.
func WriteAuthError(w http.ResponseWriter, err error, realm string) {
	w.Header().Set("Cache-Control", "no-store")
	if ae, ok := err.(*AuthError); ok {
		writeAuthError(w, ae, realm)
		return
	}
	ssf.WriteError(w, err)
}
