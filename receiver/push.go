package receiver

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
)

// MediaTypeSET is the media type of a pushed SET (RFC 8935 §2.1, RFC 8417 §7.2).
const MediaTypeSET = "application/secevent+jwt"

// PushHandlerConfig configures [NewPushHandler].
type PushHandlerConfig struct {
	// Recipient validates and records each SET (required).
	Recipient *Recipient
	// Authorization, when not empty, is the complete Authorization header value every
	// push must carry: the stream's delivery.authorization_header (SSF §6.1.1, AMB-12).
	// It is compared in constant time; a push without it, or with another value, is
	// answered 401 with a WWW-Authenticate challenge (AMB-18). Empty means pushes are
	// authenticated by their signature alone (Google, Okta-style transmitters). It is a
	// secret: never logged.
	Authorization string
	// Compatibility accepts what legacy Transmitters push (vendors §5.1 item 6): the
	// Content-Types application/jwt, text/plain and application/json (whose body may
	// be the SET as a JSON string) or none, and whitespace around the SET. Each use is
	// reported to Hooks.Tolerated and logged at Debug level. Off by default: only
	// application/secevent+jwt is accepted (415 otherwise).
	Compatibility bool
	// MaxBodyBytes bounds the request body; a larger one is answered 413. Zero means
	// 256 KiB.
	MaxBodyBytes int64
	// Hooks receive metrics events (Tolerated; the Recipient's hooks count the SETs).
	Hooks Hooks
	// Logger receives a Warn record when a SET cannot be recorded (answered 503). Nil
	// means no logging.
	Logger *slog.Logger
}

// PushHandler is the Receiver's push endpoint, an http.Handler for RFC 8935 (SSF
// §6.1.1): the stream's delivery.endpoint_url routes to it.
//
// For a POST of one SET (Content-Type application/secevent+jwt) it validates the SET
// with the [Recipient] and records it in the inbox, and only then answers 202 Accepted
// with an empty body (PUSH-3); the event is handled later by the [Worker] (PUSH-4). A
// SET seen before (same iss and jti) gets 202 again and is not recorded twice (PUSH-8);
// a valid SET whose event must be discarded (SSF §3.6) gets 202 and is not dispatched
// (AMB-27).
//
// A SET that fails validation is answered 400 with the RFC 8935 §2.3 error body
// {"err": <code>, "description": <text>}, Content-Type application/json and
// Content-Language en (PUSH-5, PUSH-6, PUSH-7; descriptions are English whatever the
// Accept-Language). Other conditions use HTTP status codes (PUSH-6): 405 for another
// method, 401 for a missing or wrong Authorization (AMB-18), 415 for another
// Content-Type, 413 for a body over the limit, and 503 when the SET cannot be handled
// now (key set unreachable, inbox failure), so that the Transmitter retries.
type PushHandler struct {
	rec       *Recipient
	authz     [sha256.Size]byte
	hasAuthz  bool
	challenge string
	compat    bool
	maxBytes  int64
	hooks     Hooks
	log       *slog.Logger
}

var _ http.Handler = (*PushHandler)(nil)

// NewPushHandler checks cfg and returns the handler.
func NewPushHandler(cfg PushHandlerConfig) (*PushHandler, error) {
	if cfg.Recipient == nil {
		return nil, errors.New("receiver: PushHandlerConfig.Recipient is required")
	}
	h := &PushHandler{
		rec:      cfg.Recipient,
		compat:   cfg.Compatibility,
		maxBytes: orDefault(cfg.MaxBodyBytes, 256<<10),
		hooks:    cfg.Hooks,
		log:      cfg.Logger,
	}
	if cfg.Authorization != "" {
		h.authz, h.hasAuthz = sha256.Sum256([]byte(cfg.Authorization)), true
		scheme, _, _ := strings.Cut(cfg.Authorization, " ")
		h.challenge = scheme + ` realm="sigshare receiver"`
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *PushHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "a SET is delivered with POST (RFC 8935 §2.1)", http.StatusMethodNotAllowed)
		return
	}
	if h.hasAuthz {
		got := r.Header.Get("Authorization")
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], h.authz[:]) != 1 {
			c := h.challenge
			if got != "" {
				c += `, error="invalid_token"`
			}
			w.Header().Set("WWW-Authenticate", c)
			http.Error(w, "missing or invalid Authorization (SSF §6.1.1 authorization_header)", http.StatusUnauthorized)
			return
		}
	}
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	mt = strings.ToLower(mt)
	legacyType := false
	switch mt {
	case MediaTypeSET:
	case "application/jwt", "text/plain", "application/json", "":
		legacyType = true
		if !h.compat {
			http.Error(w, "Content-Type must be "+MediaTypeSET+" (RFC 8935 §2.1)", http.StatusUnsupportedMediaType)
			return
		}
	default:
		http.Error(w, "Content-Type must be "+MediaTypeSET+" (RFC 8935 §2.1)", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.maxBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "reading the request body failed", http.StatusBadRequest)
		return
	}
	raw, tolerated := h.extract(mt, legacyType, body)
	for _, what := range tolerated {
		h.hooks.tolerated(TransportPush, what)
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "push tolerated", slog.String("what", what))
	}
	if _, err := h.rec.Receive(r.Context(), TransportPush, raw, ""); err != nil {
		if se, ok := errors.AsType[*set.Error](err); ok {
			ssf.WriteSETError(w, ssf.SETError{Err: se.Code, Description: se.Description})
			return
		}
		h.log.LogAttrs(r.Context(), slog.LevelWarn, "push: SET not handled, answered 503", slog.Any("error", err))
		w.Header().Set("Retry-After", "5")
		http.Error(w, "the SET cannot be handled now; retry later", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// extract returns the SET from the body and the transport tolerances it needed.
func (h *PushHandler) extract(mt string, legacyType bool, body []byte) (string, []string) {
	if !h.compat {
		return string(body), nil
	}
	var tolerated []string
	if legacyType {
		if mt == "" {
			tolerated = append(tolerated, "no Content-Type")
		} else {
			tolerated = append(tolerated, "Content-Type "+mt)
		}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) != len(body) {
		tolerated = append(tolerated, "whitespace around the SET")
	}
	if len(trimmed) > 0 && trimmed[0] == '"' {
		var s string
		if json.Unmarshal(trimmed, &s) == nil {
			tolerated = append(tolerated, "SET as a JSON string")
			trimmed = []byte(strings.TrimSpace(s))
		}
	}
	return string(trimmed), tolerated
}
