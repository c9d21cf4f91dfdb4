package transmitter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// ManagementOptions configures [NewManagementHandler].
type ManagementOptions struct {
	// Authenticator authenticates every request. Nil: every request is answered 401.
	Authenticator Authenticator
	// BasePath is the path the endpoints live under, without a trailing "/": the
	// issuer's path ("" for an issuer without one). The endpoints are
	// <BasePath>/ssf/stream, /ssf/status, /ssf/subjects:add, /ssf/subjects:remove and
	// /ssf/verify.
	BasePath string
	// Realm is the realm of WWW-Authenticate challenges. Empty: none.
	Realm string
	// MaxBodyBytes bounds request bodies; larger ones are answered 413. Zero: 64 KiB.
	MaxBodyBytes int64
	// AcceptLegacySubjects accepts legacy subject shapes in add- and remove-subject
	// requests (see Config.AcceptLegacySubjects). Zero: SSF 1.0 Final shapes only.
	AcceptLegacySubjects bool
	// Logger receives request failures at debug level. Nil: slog.Default().
	Logger *slog.Logger
	// OnAuthFailure is called for every request refused for its credentials, with the
	// RFC 6750 error code or "missing_token". Nil: not called.
	OnAuthFailure func(code string)
}

// NewManagementHandler serves the SSF stream-management API (SSF §8.1) of any
// [ssf.Manager], in process or remote:
//
//	POST   <base>/ssf/stream                create (201 with the configuration)
//	GET    <base>/ssf/stream[?stream_id=]   read one (200) or all (200, an array, [] if none)
//	PATCH  <base>/ssf/stream                update (200 with the configuration)
//	PUT    <base>/ssf/stream                replace (200 with the configuration)
//	DELETE <base>/ssf/stream?stream_id=     delete (204)
//	GET    <base>/ssf/status?stream_id=     read status (200)
//	POST   <base>/ssf/status                update status (200)
//	POST   <base>/ssf/subjects:add          add subject (200, empty body)
//	POST   <base>/ssf/subjects:remove       remove subject (204)
//	POST   <base>/ssf/verify                request verification (204)
//
// Every request is authenticated with opts.Authenticator; the client goes into the
// context ([WithClient]) of the Manager call. Reads (GET) need scope ssf.read or
// ssf.manage, everything else ssf.manage (IOP-14); failures are answered as RFC 6750
// §3.1 says (401 with a WWW-Authenticate challenge, 403 insufficient_scope, 400 for an
// access token in the URI query).
//
// PATCH and PUT take stream_id from the body or the query (vendors §5.2 item 4); both
// present and different is a 400. DELETE without stream_id deletes the caller's only
// stream when it has exactly one. Bodies must be JSON (Content-Type absent,
// application/json or +json), at most opts.MaxBodyBytes (413 beyond); malformed JSON,
// wrong member types and invalid requests are 400 with an error_description naming the
// member. A wrong method is 405 with Allow. Manager errors are written with
// ssf.WriteError: 202 for ssf.ErrAccepted, 409, 429 with Retry-After, and so on. Every
// response carries Cache-Control: no-store.
func NewManagementHandler(m ssf.Manager, opts ManagementOptions) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = defaultMaxBody
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &mgmtHandler{m: m, opts: opts}
	mux := http.NewServeMux()
	base := opts.BasePath
	mux.HandleFunc(base+pathStream, h.stream)
	mux.HandleFunc(base+pathStatus, h.status)
	mux.HandleFunc(base+pathSubjectAdd, h.addSubject)
	mux.HandleFunc(base+pathSubjectRemove, h.removeSubject)
	mux.HandleFunc(base+pathVerify, h.verify)
	mux.HandleFunc(base+"/ssf/", func(w http.ResponseWriter, r *http.Request) {
		ssf.WriteError(w, ssf.Errorf(http.StatusNotFound, "no management endpoint at %s", r.URL.Path))
	})
	return mux
}

type mgmtHandler struct {
	m    ssf.Manager
	opts ManagementOptions
}

var (
	scopesRead   = []string{ScopeRead, ScopeManage}
	scopesManage = []string{ScopeManage}
)

func (h *mgmtHandler) stream(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		h.serve(w, r, scopesManage, func(ctx context.Context) (int, any, error) {
			var req ssf.StreamConfig
			if err := h.decode(w, r, &req); err != nil {
				return 0, nil, err
			}
			cfg, err := h.m.CreateStream(ctx, req)
			return http.StatusCreated, cfg, err
		})
	case http.MethodGet:
		h.serve(w, r, scopesRead, func(ctx context.Context) (int, any, error) {
			id, present, err := queryStreamID(r)
			if err != nil {
				return 0, nil, err
			}
			if !present {
				list, err := h.m.ListStreams(ctx)
				if list == nil {
					list = []ssf.StreamConfig{}
				}
				return http.StatusOK, list, err
			}
			cfg, err := h.m.GetStream(ctx, id)
			return http.StatusOK, cfg, err
		})
	case http.MethodPatch:
		serveUpdate(h, w, r, func(req *ssf.StreamUpdate) *string { return &req.StreamID }, h.m.UpdateStream)
	case http.MethodPut:
		serveUpdate(h, w, r, func(req *ssf.StreamConfig) *string { return &req.StreamID }, h.m.ReplaceStream)
	case http.MethodDelete:
		h.serve(w, r, scopesManage, func(ctx context.Context) (int, any, error) {
			id, present, err := queryStreamID(r)
			if err != nil {
				return 0, nil, err
			}
			if !present {
				if id, err = h.onlyStream(ctx); err != nil {
					return 0, nil, err
				}
			}
			return http.StatusNoContent, nil, h.m.DeleteStream(ctx, id)
		})
	default:
		methodNotAllowed(w, r, "GET, POST, PATCH, PUT, DELETE")
	}
}

// onlyStream returns the id of the caller's only stream, for a DELETE without
// stream_id (vendors §5.2 item 4).
func (h *mgmtHandler) onlyStream(ctx context.Context) (string, error) {
	list, err := h.m.ListStreams(ctx)
	if err != nil {
		return "", err
	}
	if len(list) != 1 {
		return "", ssf.Errorf(http.StatusBadRequest, "query parameter stream_id is required (SSF §8.1.1.5); it may be left out only by a receiver with exactly one stream, and this one has %d", len(list))
	}
	return list[0].StreamID, nil
}

func (h *mgmtHandler) status(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.serve(w, r, scopesRead, func(ctx context.Context) (int, any, error) {
			id, present, err := queryStreamID(r)
			if err != nil {
				return 0, nil, err
			}
			if !present {
				return 0, nil, ssf.Errorf(http.StatusBadRequest, "query parameter stream_id is required (SSF §8.1.2.1)")
			}
			st, err := h.m.GetStatus(ctx, id)
			return http.StatusOK, st, err
		})
	case http.MethodPost:
		serveUpdate(h, w, r, func(req *ssf.StreamStatus) *string { return &req.StreamID }, h.m.UpdateStatus)
	default:
		methodNotAllowed(w, r, "GET, POST")
	}
}

func (h *mgmtHandler) addSubject(w http.ResponseWriter, r *http.Request) {
	serveSubject(h, w, r, ssf.ParseAddSubjectRequestLenient,
		func(req *ssf.AddSubjectRequest) *string { return &req.StreamID }, h.m.AddSubject, http.StatusOK)
}

func (h *mgmtHandler) removeSubject(w http.ResponseWriter, r *http.Request) {
	serveSubject(h, w, r, ssf.ParseRemoveSubjectRequestLenient,
		func(req *ssf.RemoveSubjectRequest) *string { return &req.StreamID }, h.m.RemoveSubject, http.StatusNoContent)
}

// serveSubject serves an add or remove subject request (POST, manage scope): the body is
// read with parseLenient (legacy subject shapes) when AcceptLegacySubjects is set,
// strictly otherwise; its stream_id (the field streamID points to) is reconciled with
// the query's; op applies it and status is the answer.
func serveSubject[T any](h *mgmtHandler, w http.ResponseWriter, r *http.Request, parseLenient func([]byte) (*T, subject.Leniency, error), streamID func(*T) *string, op func(context.Context, T) error, status int) {
	h.servePost(w, r, func(ctx context.Context) (int, any, error) {
		data, err := h.body(w, r)
		if err != nil {
			return 0, nil, err
		}
		req := new(T)
		if h.opts.AcceptLegacySubjects {
			req, _, err = parseLenient(data)
		} else {
			err = json.Unmarshal(data, req)
		}
		if err != nil {
			return 0, nil, decodeErr(err)
		}
		if err := mergeInto(r, streamID(req)); err != nil {
			return 0, nil, err
		}
		return status, nil, op(ctx, *req)
	})
}

func (h *mgmtHandler) verify(w http.ResponseWriter, r *http.Request) {
	h.servePost(w, r, func(ctx context.Context) (int, any, error) {
		var req ssf.VerifyRequest
		if err := h.decodeRequest(w, r, &req, &req.StreamID); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, h.m.Verify(ctx, req)
	})
}

// serveUpdate serves a change with the manage scope: the body decodes into a T whose
// stream_id (the field streamID points to) is reconciled with the query's, op applies
// it, and its result is the 200 answer.
func serveUpdate[T, R any](h *mgmtHandler, w http.ResponseWriter, r *http.Request, streamID func(*T) *string, op func(context.Context, T) (R, error)) {
	h.serve(w, r, scopesManage, func(ctx context.Context) (int, any, error) {
		var req T
		if err := h.decodeRequest(w, r, &req, streamID(&req)); err != nil {
			return 0, nil, err
		}
		res, err := op(ctx, req)
		return http.StatusOK, res, err
	})
}

// servePost serves an endpoint that takes only POST and the manage scope.
func (h *mgmtHandler) servePost(w http.ResponseWriter, r *http.Request, fn func(ctx context.Context) (status int, body any, err error)) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, r, "POST")
		return
	}
	h.serve(w, r, scopesManage, fn)
}

// serve authenticates r, checks that the client holds one of scopes, runs fn with the
// client in the context and writes its result: the status with body as JSON (no body
// when nil), or the error.
func (h *mgmtHandler) serve(w http.ResponseWriter, r *http.Request, scopes []string, fn func(ctx context.Context) (status int, body any, err error)) {
	w.Header().Set("Cache-Control", "no-store")
	c, err := authenticate(h.opts.Authenticator, r)
	if err == nil && !c.HasScope(scopes...) {
		err = errInsufficientScope(scopes...)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	status, body, err := fn(WithClient(r.Context(), c))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if body == nil || isNilPointer(body) {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, status, body)
}

// authenticate runs a, refusing a token in the query first (IOP-15) whatever a does.
func authenticate(a Authenticator, r *http.Request) (*Client, error) {
	if r.URL.Query().Has("access_token") {
		_, err := BearerToken(r)
		return nil, err
	}
	if a == nil {
		if _, err := BearerToken(r); err != nil {
			return nil, err
		}
		return nil, errInvalidToken("this transmitter accepts no receiver credentials")
	}
	c, err := a.Authenticate(r)
	if err != nil {
		return nil, err
	}
	if c == nil || c.ID == "" {
		return nil, errInvalidToken("the credentials name no client")
	}
	return c, nil
}

func isNilPointer(v any) bool {
	switch x := v.(type) {
	case *ssf.StreamConfig:
		return x == nil
	case *ssf.StreamStatus:
		return x == nil
	}
	return false
}

// fail writes err: an *AuthError with its challenge, anything else with ssf.WriteError.
func (h *mgmtHandler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if ae, ok := errors.AsType[*AuthError](err); ok {
		code := ae.hookCode()
		if h.opts.OnAuthFailure != nil && code != "" {
			h.opts.OnAuthFailure(code)
		}
		if ae.Status >= 500 {
			h.opts.Logger.Error("management request failed", "method", r.Method, "path", r.URL.Path, "error", ae)
		} else {
			h.opts.Logger.Debug("management request refused", "method", r.Method, "path", r.URL.Path, "status", ae.Status, "code", code)
		}
		writeAuthError(w, ae, h.opts.Realm)
		return
	}
	status := ssf.HTTPStatus(err)
	if status >= 500 {
		h.opts.Logger.Error("management request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	} else {
		h.opts.Logger.Debug("management request refused", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	}
	ssf.WriteError(w, err)
}

// writeAuthError answers an authentication or authorization failure (RFC 6750 §3).
func writeAuthError(w http.ResponseWriter, ae *AuthError, realm string) {
	if ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden || ae.Code != "" {
		w.Header().Set("WWW-Authenticate", ae.Challenge(realm))
	}
	ssf.WriteError(w, &ssf.Error{Status: ae.Status, Code: ae.Code, Description: ae.Description})
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	ssf.WriteError(w, ssf.Errorf(http.StatusMethodNotAllowed, "method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allow))
}

// body reads the request body: JSON content, at most MaxBodyBytes, not empty.
func (h *mgmtHandler) body(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readJSONBody(w, r, h.opts.MaxBodyBytes)
}

func readJSONBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, ssf.Errorf(http.StatusBadRequest, "Content-Type %q is not JSON: send application/json", ct)
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &ssf.Error{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Description: fmt.Sprintf("the request body is larger than %d bytes", limit)}
		}
		return nil, ssf.Errorf(http.StatusBadRequest, "reading the request body: %v", err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, ssf.Errorf(http.StatusBadRequest, "the request body is empty: send a JSON object")
	}
	return data, nil
}

// decodeRequest decodes the body into v and reconciles *streamID, v's stream_id, with the
// query's (mergeStreamID).
func (h *mgmtHandler) decodeRequest(w http.ResponseWriter, r *http.Request, v any, streamID *string) error {
	if err := h.decode(w, r, v); err != nil {
		return err
	}
	return mergeInto(r, streamID)
}

// decode reads the body into v (a type of package ssf with its own UnmarshalJSON).
func (h *mgmtHandler) decode(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := h.body(w, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return decodeErr(err)
	}
	return nil
}

// decodeErr turns a decoding error into a 400 with an actionable description.
func decodeErr(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return &ssf.Error{Status: http.StatusBadRequest, Description: fmt.Sprintf("the request body is not valid JSON (at byte %d): %v", se.Offset, se), Err: err}
	}
	return badRequest(err)
}

// queryStreamID returns the stream_id query parameter; present is false when absent.
func queryStreamID(r *http.Request) (id string, present bool, err error) {
	vals, ok := r.URL.Query()["stream_id"]
	switch {
	case !ok:
		return "", false, nil
	case len(vals) > 1:
		return "", false, ssf.Errorf(http.StatusBadRequest, "query parameter stream_id is given %d times", len(vals))
	case vals[0] == "":
		return "", false, ssf.Errorf(http.StatusBadRequest, "query parameter stream_id is empty")
	}
	return vals[0], true, nil
}

// mergeStreamID reconciles the stream_id of the body with the query's: either may be
// given; both must agree.
func mergeStreamID(r *http.Request, body string) (string, error) {
	q, present, err := queryStreamID(r)
	if err != nil {
		return "", err
	}
	switch {
	case !present:
		return body, nil
	case body == "":
		return q, nil
	case body != q:
		return "", ssf.Errorf(http.StatusBadRequest, "stream_id differs between the query (%q) and the body (%q)", q, body)
	}
	return body, nil
}

// mergeInto is mergeStreamID for the stream_id *id of a decoded body, updated in place.
func mergeInto(r *http.Request, id *string) error {
	merged, err := mergeStreamID(r, *id)
	if err != nil {
		return err
	}
	*id = merged
	return nil
}

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		ssf.WriteError(w, fmt.Errorf("transmitter: encoding the response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
