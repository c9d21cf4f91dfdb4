package transmitter

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/subject"
)

// StreamInfo describes one stream for an operator (never the push authorization
// header).
type StreamInfo struct {
	StreamID           string             `json:"stream_id"`
	ClientID           string             `json:"client_id"`
	Status             ssf.Status         `json:"status"`
	Reason             string             `json:"reason,omitempty"`
	DeliveryMethod     string             `json:"delivery_method"`
	EndpointURL        string             `json:"endpoint_url,omitempty"`
	Description        string             `json:"description,omitempty"`
	Audience           ssf.Audience       `json:"aud"`
	EventsDelivered    []string           `json:"events_delivered"`
	Profile            string             `json:"profile"`
	CreatedAt          time.Time          `json:"created_at"`
	UpdatedAt          time.Time          `json:"updated_at"`
	LastActivityAt     time.Time          `json:"last_activity_at"`
	LastVerificationAt *time.Time         `json:"last_verification_at,omitempty"`
	Outbox             store.OutboxCounts `json:"outbox"`
}

// DeadLetter describes one dead-lettered SET for an operator (without the SET itself,
// which may carry personal data).
type DeadLetter struct {
	JTI        string    `json:"jti"`
	EventType  string    `json:"event_type"`
	CreatedAt  time.Time `json:"created_at"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error,omitempty"`
	DeadAt     time.Time `json:"dead_at"`
	DeadReason string    `json:"dead_reason,omitempty"`
}

// Streams lists every stream, of every client, with its outbox counts.
func (t *Transmitter) Streams(ctx context.Context) ([]StreamInfo, error) {
	list, err := t.cfg.Store.ListStreams(ctx, store.StreamFilter{})
	if err != nil {
		return nil, storeErr("listing streams", "", err)
	}
	now := t.now()
	out := make([]StreamInfo, 0, len(list))
	for _, s := range list {
		counts, err := t.cfg.Store.CountOutbox(ctx, s.ID, now)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, storeErr("counting the outbox", s.ID, err)
		}
		info := StreamInfo{
			StreamID:        s.ID,
			ClientID:        s.ClientID,
			Status:          s.Status,
			Reason:          s.StatusReason,
			DeliveryMethod:  s.Config.EffectiveDeliveryMethod(),
			Description:     s.Config.Description,
			Audience:        s.Config.Audience,
			EventsDelivered: s.Config.EventsDelivered,
			Profile:         s.Profile.String(),
			CreatedAt:       s.CreatedAt,
			UpdatedAt:       s.UpdatedAt,
			LastActivityAt:  s.LastActivityAt,
			Outbox:          counts,
		}
		if s.Config.Delivery != nil {
			info.EndpointURL = s.Config.Delivery.EndpointURL
		}
		if !s.LastVerificationAt.IsZero() {
			lv := s.LastVerificationAt
			info.LastVerificationAt = &lv
		}
		out = append(out, info)
	}
	return out, nil
}

// DeadLetters lists a stream's dead letters, oldest first (limit <= 0: all).
func (t *Transmitter) DeadLetters(ctx context.Context, streamID string, limit int) ([]DeadLetter, error) {
	if _, err := t.cfg.Store.GetStream(ctx, streamID); err != nil {
		return nil, storeErr("reading the stream", streamID, err)
	}
	sets, err := t.cfg.Store.DeadLetters(ctx, streamID, limit)
	if err != nil {
		return nil, storeErr("listing dead letters", streamID, err)
	}
	out := make([]DeadLetter, len(sets))
	for i, s := range sets {
		out[i] = DeadLetter{JTI: s.JTI, EventType: s.EventType, CreatedAt: s.CreatedAt, Attempts: s.Attempts, LastError: s.LastError, DeadAt: s.DeadAt, DeadReason: s.DeadReason}
	}
	return out, nil
}

// Replay makes a stream's dead letters deliverable again (all of them when jtis is
// empty) and returns how many it replayed.
func (t *Transmitter) Replay(ctx context.Context, streamID string, jtis []string) (int, error) {
	if _, err := t.cfg.Store.GetStream(ctx, streamID); err != nil {
		return 0, storeErr("reading the stream", streamID, err)
	}
	n, err := t.cfg.Store.Replay(ctx, streamID, jtis)
	if err != nil {
		return 0, storeErr("replaying dead letters", streamID, err)
	}
	t.log.Info("dead letters replayed", "stream_id", streamID, "count", n)
	return n, nil
}

// adminHandler serves the operator API under <base>/admin/, for the admin token only:
//
//	POST <base>/admin/events                      emit an event (200 with the queued SETs)
//	GET  <base>/admin/streams                     every stream with status and outbox counts
//	POST <base>/admin/streams                     create a static stream for a client (201, StaticStreamRequest)
//	POST <base>/admin/streams/{id}/status         Transmitter-initiated status change
//	POST <base>/admin/streams/{id}/verify         Transmitter-initiated verification (204)
//	GET  <base>/admin/streams/{id}/dead-letters   dead letters (?limit=)
//	POST <base>/admin/streams/{id}/replay         replay dead letters ({"jtis": [...]} or all)
//	POST <base>/admin/streams/{id}/profile        the stream's SET profile ({"profile": "legacy"})
func (t *Transmitter) adminHandler() http.Handler {
	base := t.routePath + "/admin"
	mux := http.NewServeMux()
	type handlerFunc = func(w http.ResponseWriter, r *http.Request) error
	methods := map[string]map[string]handlerFunc{} // pattern → method → handler
	route := func(pattern, method string, fn handlerFunc) {
		if methods[pattern] != nil {
			methods[pattern][method] = fn
			return
		}
		byMethod := map[string]handlerFunc{method: fn}
		methods[pattern] = byMethod
		mux.HandleFunc(base+pattern, func(w http.ResponseWriter, r *http.Request) {
			h, ok := byMethod[r.Method]
			if !ok {
				methodNotAllowed(w, r, strings.Join(slices.Sorted(maps.Keys(byMethod)), ", "))
				return
			}
			if err := h(w, r); err != nil {
				if ssf.HTTPStatus(err) >= 500 {
					t.log.Error("operator request failed", "method", r.Method, "path", r.URL.Path, "error", err)
				}
				ssf.WriteError(w, err)
			}
		})
	}
	route("/events", http.MethodPost, t.adminEmit)
	route("/streams", http.MethodGet, func(w http.ResponseWriter, r *http.Request) error {
		list, err := t.Streams(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, list)
		return nil
	})
	route("/streams", http.MethodPost, t.adminCreateStatic)
	route("/streams/{id}/status", http.MethodPost, func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Status ssf.Status `json:"status"`
			Reason string     `json:"reason"`
		}
		if err := t.decodeAdmin(w, r, &req, false); err != nil {
			return err
		}
		st, err := t.SetStatus(r.Context(), r.PathValue("id"), req.Status, req.Reason)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, st)
		return nil
	})
	route("/streams/{id}/verify", http.MethodPost, func(w http.ResponseWriter, r *http.Request) error {
		if err := t.SendVerification(r.Context(), r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	route("/streams/{id}/dead-letters", http.MethodGet, func(w http.ResponseWriter, r *http.Request) error {
		limit := 0
		if v := r.URL.Query().Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return ssf.Errorf(http.StatusBadRequest, "query parameter limit %q is not a non-negative integer", v)
			}
			limit = n
		}
		list, err := t.DeadLetters(r.Context(), r.PathValue("id"), limit)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, list)
		return nil
	})
	route("/streams/{id}/replay", http.MethodPost, func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			JTIs []string `json:"jtis"`
		}
		if err := t.decodeAdmin(w, r, &req, true); err != nil {
			return err
		}
		n, err := t.Replay(r.Context(), r.PathValue("id"), req.JTIs)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]int{"replayed": n})
		return nil
	})
	route("/streams/{id}/profile", http.MethodPost, t.adminProfile)
	mux.HandleFunc(base+"/", func(w http.ResponseWriter, r *http.Request) {
		ssf.WriteError(w, ssf.Errorf(http.StatusNotFound, "no operator endpoint at %s", r.URL.Path))
	})

	sum := sha256.Sum256([]byte(t.cfg.AdminToken))
	fail := t.authFailureHook("admin")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		tok, err := BearerToken(r)
		if err == nil {
			got := sha256.Sum256([]byte(tok))
			if subtle.ConstantTimeCompare(got[:], sum[:]) != 1 {
				err = errInvalidToken("the operator token is not valid")
			}
		}
		if err != nil {
			ae := err.(*AuthError)
			if code := ae.hookCode(); fail != nil && code != "" {
				fail(code)
			}
			writeAuthError(w, ae, t.cfg.Realm)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// adminEventRequest is the body of POST /admin/events.
type adminEventRequest struct {
	Subject   json.RawMessage `json:"subject"`
	EventType string          `json:"event_type"`
	Payload   json.RawMessage `json:"payload"`
	Txn       string          `json:"txn"`
}

// adminEmit decodes an event and emits it. The payload is decoded through the registry
// (a registered type is decoded and validated; another supported type becomes a raw
// event); an invalid event is refused with 400 and the reason.
func (t *Transmitter) adminEmit(w http.ResponseWriter, r *http.Request) error {
	var req adminEventRequest
	if err := t.decodeAdmin(w, r, &req, false); err != nil {
		return err
	}
	if len(req.Subject) == 0 || string(req.Subject) == "null" {
		return ssf.Errorf(http.StatusBadRequest, "member \"subject\" is required: a subject identifier object")
	}
	subj, err := subject.Parse(req.Subject)
	if err != nil {
		return ssf.Errorf(http.StatusBadRequest, "member \"subject\": %v", err)
	}
	if req.EventType == "" {
		return ssf.Errorf(http.StatusBadRequest, "member \"event_type\" is required: an event type URI")
	}
	payload := []byte(req.Payload)
	if len(payload) == 0 || string(payload) == "null" {
		payload = []byte("{}")
	}
	ev, err := t.registry.Decode(req.EventType, payload)
	if err != nil {
		return ssf.Errorf(http.StatusBadRequest, "member \"payload\": %v", err)
	}
	res, err := t.Emit(r.Context(), subj, ev, EmitOptions{Txn: req.Txn})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// decodeAdmin decodes a JSON body strictly (unknown members refused); with optional an
// empty body leaves v unchanged.
func (t *Transmitter) decodeAdmin(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	if optional && r.ContentLength == 0 {
		return nil
	}
	data, err := readJSONBody(w, r, t.cfg.MaxBodyBytes)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field == "" {
			return ssf.Errorf(http.StatusBadRequest, "the request body is not valid: want a JSON object, got %s", te.Value)
		}
		if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
			return ssf.Errorf(http.StatusBadRequest, "member %q: want %s, got %s", te.Field, te.Type, te.Value)
		}
		return ssf.Errorf(http.StatusBadRequest, "the request body is not valid: %v", err)
	}
	if dec.More() {
		return ssf.Errorf(http.StatusBadRequest, "the request body has data after the JSON object")
	}
	return nil
}
