package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sigshare/sigshare/ssf"
)

// Google RISC ("Cross-Account Protection") defaults (vendors §2.3).
const (
	// GoogleRISCBaseURL is the base of Google's RISC management API.
	GoogleRISCBaseURL = "https://risc.googleapis.com/v1beta"
	// GoogleIssuer is Google's issuer as its risc-configuration document names it. Its
	// SETs carry "https://accounts.google.com/" (trailing slash): verify them with
	// IssuerIgnoreTrailingSlash.
	GoogleIssuer = "https://accounts.google.com"
	// GoogleRISCStreamID is the stream_id [GoogleRISCClient] gives the project's one
	// stream: Google's API has no stream ids. It is local to this package; Google never
	// sees it.
	GoogleRISCStreamID = "google-risc"
)

// ErrGoogleRISCUnsupported is wrapped, together with ssf.ErrBadRequest, when an
// operation or value has no equivalent in Google's RISC API (poll delivery, the paused
// status, an authorization_header for pushes, subject management). Nothing was sent.
var ErrGoogleRISCUnsupported = errors.New("receiver: not supported by Google RISC")

// GoogleRISCConfig configures [NewGoogleRISCClient]. Credentials and Audience are
// required; the zero value of every other field is the production set-up.
type GoogleRISCConfig struct {
	// BaseURL is the RISC management API. Empty means [GoogleRISCBaseURL]. The
	// endpoints are BaseURL + "/stream", "/stream:update", "/stream/status",
	// "/stream/status:update" and "/stream:verify"; the endpoints of Google's
	// risc-configuration document are not used (its get_configuration_endpoint has a
	// doubled "/v1beta" segment).
	BaseURL string
	// Issuer is the "iss" of the returned stream configurations, which the SET
	// verifier checks against the metadata issuer. Empty means [GoogleIssuer].
	Issuer string
	// Audience lists the project's OAuth client ids (required): Google's stream
	// configuration has no "aud", and its SETs carry one of these as "aud" (vendors
	// §2.3). It becomes the aud of the returned stream configurations.
	Audience []string
	// StreamID is the stream_id given to the project's stream. Empty means
	// [GoogleRISCStreamID].
	StreamID string
	// Credentials authorize every request (required): [*ServiceAccountCredentials], or
	// an OAuth access token with the risc.* scopes (e.g. [TokenSourceCredentials]).
	Credentials Credentials
	// HTTPClient sends the requests. Nil means a client whose Timeout is Timeout. A
	// client whose CheckRedirect is nil is used through a shallow copy that follows
	// redirects only to the same host and never from https to http.
	HTTPClient *http.Client
	// Timeout bounds each request when HTTPClient is nil. Zero means 30 seconds.
	Timeout time.Duration
	// MaxResponseBytes is the largest response body read. Zero means 1 MiB.
	MaxResponseBytes int64
	// States records the state of every verification request under StreamID (see
	// ClientConfig.States); give the same States and StreamID to the [Recipient].
	States *VerificationStates
	// IssuerIgnoreTrailingSlash accepts an "iss" in Google's answers that differs from
	// Issuer only by a trailing "/" (Google's answers carry no iss today).
	IssuerIgnoreTrailingSlash bool
	// InsecureAllowHTTP accepts an http BaseURL and http push URLs (loopback tests
	// only).
	InsecureAllowHTTP bool
	// UserAgent is sent with every request; empty means "sigshare-receiver".
	UserAgent string
	// Logger receives a Debug record per request. Nil means no logging. Credentials are
	// never logged.
	Logger *slog.Logger
}

// GoogleRISCClient implements [ssf.Manager] against Google's RISC management API
// (vendors §2.3, §5.1 item 8(c)), for relying parties of Sign in with Google that
// receive Cross-Account Protection events.
//
// Google keeps one stream per Google Cloud project and has no stream ids; the client
// calls it [GoogleRISCConfig].StreamID and answers ssf.ErrNotFound for any other id
// (an empty id means the project's stream). Mapping:
//
//   - GetStream, ListStreams: GET {base}/stream. Google's {"delivery": {"delivery_method",
//     "url"}, "events_requested", …} becomes an ssf.StreamConfig with the StreamID,
//     iss = Issuer, aud = Audience, delivery method ssf.DeliveryPush, and
//     events_delivered = events_requested when Google gives none. An answer without
//     delivery means no stream is configured: GetStream answers ssf.ErrNotFound,
//     ListStreams an empty list (as for a 404).
//   - CreateStream, ReplaceStream: POST {base}/stream:update with {"delivery":
//     {"delivery_method": "https://schemas.openid.net/secevent/risc/delivery-method/push",
//     "url": <endpoint_url>}, "events_requested": […]}; creating overwrites the project's
//     configuration. UpdateStream reads the stream, applies the update
//     (ssf.StreamUpdate.Apply) and posts the result.
//   - UpdateStatus: POST {base}/stream/status:update {"status": "enabled"|"disabled"};
//     GetStatus: GET {base}/stream/status.
//   - Verify: POST {base}/stream:verify {"state": …}.
//   - DeleteStream: Google cannot delete a stream; the client disables it (Google then
//     neither delivers nor keeps events) and leaves its configuration in place.
//   - AddSubject, RemoveSubject: Google sends events for every user of the project and
//     its subjects:add endpoint answers 404 in practice: they fail with
//     [ErrGoogleRISCUnsupported] without a request.
//
// Only push delivery exists: a poll request, an authorization_header (Google sends
// pushes without one) and the paused status fail with errors matching ssf.ErrBadRequest
// and [ErrGoogleRISCUnsupported] before any request; the description of a stream is
// not stored by Google and is dropped.
//
// Requests go through the machinery of [Client]: answers map through
// ssf.ErrorFromResponse (Google's error body {"error": {"message", "status"}} gives the
// description), every error is a [*RequestError] naming the operation and endpoint, a
// 401 invalidates [Refresher] credentials and is retried once, and redirects, timeouts
// and body limits are as for Client. A GoogleRISCClient is safe for concurrent use.
type GoogleRISCClient struct {
	c        *Client
	base     string
	streamID string
	aud      []string
	states   *VerificationStates
	insecure bool
}

var _ ssf.Manager = (*GoogleRISCClient)(nil)

// NewGoogleRISCClient checks cfg and returns a client. It sends nothing.
func NewGoogleRISCClient(cfg GoogleRISCConfig) (*GoogleRISCClient, error) {
	if cfg.Credentials == nil {
		return nil, errors.New("receiver: GoogleRISCConfig.Credentials is required (e.g. NewServiceAccountCredentials)")
	}
	if len(cfg.Audience) == 0 || slices.Contains(cfg.Audience, "") {
		return nil, errors.New("receiver: GoogleRISCConfig.Audience is required: the project's OAuth client ids, which Google's SETs carry as aud")
	}
	base := cfg.BaseURL
	if base == "" {
		base = GoogleRISCBaseURL
	}
	u, err := checkURL("Google RISC base URL", base, cfg.InsecureAllowHTTP)
	if err != nil {
		return nil, err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("receiver: Google RISC base URL %q must not have a query or fragment", u.Redacted())
	}
	base = strings.TrimRight(base, "/")
	issuer := cfg.Issuer
	if issuer == "" {
		issuer = GoogleIssuer
	}
	if _, err := checkURL("issuer", issuer, cfg.InsecureAllowHTTP); err != nil {
		return nil, err
	}
	streamID := cfg.StreamID
	if streamID == "" {
		streamID = GoogleRISCStreamID
	}
	maxBytes := orDefault(cfg.MaxResponseBytes, defaultMaxResponseBytes)
	hc := *httpClient(cfg.HTTPClient, orDefault(cfg.Timeout, 30*time.Second), cfg.InsecureAllowHTTP)
	hc.Transport = googleErrorTransport{next: hc.Transport}
	c, err := NewClient(ClientConfig{
		Metadata: &ssf.Metadata{
			Issuer:                issuer,
			ConfigurationEndpoint: base + "/stream",
			StatusEndpoint:        base + "/stream/status",
			VerificationEndpoint:  base + "/stream:verify",
		},
		Credentials:               cfg.Credentials,
		HTTPClient:                &hc,
		MaxResponseBytes:          maxBytes,
		Audience:                  cfg.Audience,
		IssuerIgnoreTrailingSlash: cfg.IssuerIgnoreTrailingSlash,
		InsecureAllowHTTP:         cfg.InsecureAllowHTTP,
		UserAgent:                 cfg.UserAgent,
		Logger:                    cfg.Logger,
	})
	if err != nil {
		return nil, err
	}
	return &GoogleRISCClient{
		c:        c,
		base:     base,
		streamID: streamID,
		aud:      slices.Clone(cfg.Audience),
		states:   cfg.States,
		insecure: cfg.InsecureAllowHTTP,
	}, nil
}

// StreamID returns the stream_id the client gives the project's stream.
func (g *GoogleRISCClient) StreamID() string { return g.streamID }

// Issuer returns the iss of the stream configurations the client returns.
func (g *GoogleRISCClient) Issuer() string { return g.c.issuer }

// BaseURL returns the RISC management API base URL, without a trailing "/".
func (g *GoogleRISCClient) BaseURL() string { return g.base }

// Wire shapes of Google's RISC management API (vendors §2.3).
type (
	googleDelivery struct {
		DeliveryMethod string `json:"delivery_method"`
		URL            string `json:"url"`
	}
	googleStreamBody struct {
		Delivery        googleDelivery `json:"delivery"`
		EventsRequested []string       `json:"events_requested"`
	}
	googleStatusBody struct {
		Status ssf.Status `json:"status"`
	}
	googleVerifyBody struct {
		State string `json:"state,omitempty"`
	}
)

func (g *GoogleRISCClient) unsupported(op, format string, args ...any) error {
	return &RequestError{Op: op, StreamID: g.streamID, Err: fmt.Errorf("%w: not sent: %w: %s", ssf.ErrBadRequest, ErrGoogleRISCUnsupported, fmt.Sprintf(format, args...))}
}

// checkStreamID accepts the client's stream id or an empty one.
func (g *GoogleRISCClient) checkStreamID(op, id string) error {
	if id == "" || id == g.streamID {
		return nil
	}
	return &RequestError{Op: op, StreamID: id, Err: fmt.Errorf("%w: not sent: Google RISC has one stream per project, here named %q", ssf.ErrNotFound, g.streamID)}
}

// streamBody builds the body of stream:update from the Receiver-supplied members,
// refusing what Google cannot do.
func (g *GoogleRISCClient) streamBody(op string, d *ssf.Delivery, events []string) (*googleStreamBody, error) {
	if d == nil || d.IsPoll() {
		return nil, g.unsupported(op, "Google RISC delivers by push only (poll delivery requested); set delivery to %s with the push endpoint_url", ssf.DeliveryPush)
	}
	if d.AuthorizationHeader != "" {
		return nil, g.unsupported(op, "Google sends pushes without an Authorization header (delivery.authorization_header is set); leave it empty and authenticate pushes by their signature and aud")
	}
	check := ssf.StreamConfig{EventsRequested: events, Delivery: d}
	if err := check.ValidateRequestWith(ssf.ValidateOptions{InsecureAllowHTTP: g.insecure}); err != nil {
		return nil, badRequest(op, g.streamID, err)
	}
	if events == nil {
		events = []string{}
	}
	return &googleStreamBody{
		Delivery:        googleDelivery{DeliveryMethod: ssf.LegacyDeliveryPush, URL: d.EndpointURL},
		EventsRequested: events,
	}, nil
}

// decodeStream maps Google's stream configuration to an ssf.StreamConfig and applies
// the Receiver's checks ([Client] checkConfig: iss, aud, strict validation). It returns
// nil, nil for an answer without delivery: no stream is configured.
func (g *GoogleRISCClient) decodeStream(body []byte) (*ssf.StreamConfig, error) {
	var cfg ssf.StreamConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, fmt.Errorf("the answer is not a Google RISC stream configuration: %w", err)
	}
	if cfg.Delivery == nil {
		return nil, nil
	}
	cfg.StreamID = g.streamID
	if cfg.Issuer == "" {
		cfg.Issuer = g.c.issuer
	}
	if cfg.Audience == nil {
		cfg.Audience = slices.Clone(g.aud)
	}
	if cfg.EventsDelivered == nil {
		cfg.EventsDelivered = slices.Clone(cfg.EventsRequested)
		if cfg.EventsDelivered == nil {
			cfg.EventsDelivered = []string{}
		}
	}
	if err := g.c.checkConfig(&cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// getStream reads the stream; nil, nil when none is configured (404 or no delivery).
func (g *GoogleRISCClient) getStream(ctx context.Context, op string) (*ssf.StreamConfig, call, error) {
	k := call{op: op, method: http.MethodGet, member: "stream", endpoint: g.base + "/stream", streamID: g.streamID}
	b, err := g.c.do(ctx, k)
	if err != nil {
		return nil, k, err
	}
	cfg, err := g.decodeStream(b)
	if err != nil {
		return nil, k, answerErr(k, err)
	}
	return cfg, k, nil
}

// GetStream reads the project's stream: GET {base}/stream. streamID must be the
// client's [GoogleRISCClient.StreamID] or empty.
func (g *GoogleRISCClient) GetStream(ctx context.Context, streamID string) (*ssf.StreamConfig, error) {
	const op = "Google RISC get stream"
	if err := g.checkStreamID(op, streamID); err != nil {
		return nil, err
	}
	cfg, k, err := g.getStream(ctx, op)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		return nil, answerErr(k, fmt.Errorf("%w: the project has no stream configured (the answer has no delivery)", ssf.ErrNotFound))
	}
	return cfg, nil
}

// ListStreams reads the project's stream: a list of one, or an empty list when Google
// answers 404 or a configuration without delivery.
func (g *GoogleRISCClient) ListStreams(ctx context.Context) ([]ssf.StreamConfig, error) {
	cfg, _, err := g.getStream(ctx, "Google RISC list streams")
	switch {
	case errors.Is(err, ssf.ErrNotFound):
		return []ssf.StreamConfig{}, nil
	case err != nil:
		return nil, err
	case cfg == nil:
		return []ssf.StreamConfig{}, nil
	}
	return []ssf.StreamConfig{*cfg}, nil
}

// postStream sends stream:update and returns the resulting configuration: Google's
// answer when it holds one, else the configuration that was sent.
func (g *GoogleRISCClient) postStream(ctx context.Context, op string, body *googleStreamBody) (*ssf.StreamConfig, error) {
	k := call{op: op, method: http.MethodPost, member: "stream:update", endpoint: g.base + "/stream:update", streamID: g.streamID, body: body}
	b, err := g.c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) > 0 {
		cfg, err := g.decodeStream(b)
		if err != nil {
			return nil, answerErr(k, err)
		}
		if cfg != nil {
			return cfg, nil
		}
	}
	sent, err := json.Marshal(body)
	if err != nil {
		return nil, answerErr(k, err)
	}
	cfg, err := g.decodeStream(sent)
	if err != nil {
		return nil, answerErr(k, err)
	}
	return cfg, nil
}

// CreateStream configures the project's stream: POST {base}/stream:update with req's
// push delivery and events_requested. Google has one stream per project and no create:
// this overwrites any configuration the project has.
func (g *GoogleRISCClient) CreateStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	const op = "Google RISC create stream"
	body, err := g.streamBody(op, req.Delivery, req.EventsRequested)
	if err != nil {
		return nil, err
	}
	return g.postStream(ctx, op, body)
}

// ReplaceStream replaces the stream's delivery and events_requested: POST
// {base}/stream:update. req.StreamID must be the client's stream id or empty, and a
// present iss must be the client's issuer.
func (g *GoogleRISCClient) ReplaceStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	const op = "Google RISC replace stream"
	if err := g.checkStreamID(op, req.StreamID); err != nil {
		return nil, err
	}
	if req.Issuer != "" && req.Issuer != g.c.issuer && !(g.c.slash && sameIssuerModSlash(req.Issuer, g.c.issuer)) {
		return nil, badRequest(op, g.streamID, fmt.Errorf("iss %q is Transmitter-supplied and must equal %q (SSF §8.1.1.4)", req.Issuer, g.c.issuer))
	}
	body, err := g.streamBody(op, req.Delivery, req.EventsRequested)
	if err != nil {
		return nil, err
	}
	return g.postStream(ctx, op, body)
}

// UpdateStream changes the members present in req: it reads the stream (GET), applies
// req (ssf.StreamUpdate.Apply, which also checks the Transmitter-supplied members) and
// posts the result to {base}/stream:update, as Google documents. req.StreamID must be
// the client's stream id or empty. A delivery in req is checked before any request.
func (g *GoogleRISCClient) UpdateStream(ctx context.Context, req ssf.StreamUpdate) (*ssf.StreamConfig, error) {
	const op = "Google RISC update stream"
	if err := g.checkStreamID(op, req.StreamID); err != nil {
		return nil, err
	}
	req.StreamID = g.streamID
	if err := req.ValidateWith(ssf.ValidateOptions{InsecureAllowHTTP: g.insecure}); err != nil {
		return nil, badRequest(op, g.streamID, err)
	}
	if req.Delivery != nil {
		if _, err := g.streamBody(op, req.Delivery, req.EventsRequested); err != nil {
			return nil, err
		}
	}
	current, k, err := g.getStream(ctx, op)
	if err != nil {
		return nil, err
	}
	if current == nil {
		return nil, answerErr(k, fmt.Errorf("%w: the project has no stream configured to update", ssf.ErrNotFound))
	}
	merged, err := req.Apply(current)
	if err != nil {
		return nil, badRequest(op, g.streamID, err)
	}
	body, err := g.streamBody(op, merged.Delivery, merged.EventsRequested)
	if err != nil {
		return nil, err
	}
	return g.postStream(ctx, op, body)
}

// DeleteStream disables the project's stream (POST {base}/stream/status:update
// {"status": "disabled"}): Google has no way to delete it. Google then neither delivers
// nor keeps events; the configuration stays and GetStream still returns it.
func (g *GoogleRISCClient) DeleteStream(ctx context.Context, streamID string) error {
	const op = "Google RISC delete stream (disable)"
	if err := g.checkStreamID(op, streamID); err != nil {
		return err
	}
	_, err := g.postStatus(ctx, op, ssf.StatusDisabled)
	return err
}

// decodeStatus maps Google's {"status": …} (lower or upper case) to an
// ssf.StreamStatus of the client's stream.
func (g *GoogleRISCClient) decodeStatus(k call, b []byte) (*ssf.StreamStatus, error) {
	var st ssf.StreamStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, answerErr(k, fmt.Errorf("the answer is not a Google RISC stream status: %w", err))
	}
	st.StreamID = g.streamID
	st.Status = ssf.Status(strings.ToLower(string(st.Status)))
	if err := st.Validate(); err != nil {
		return nil, answerErr(k, err)
	}
	return &st, nil
}

// GetStatus reads the stream's status: GET {base}/stream/status.
func (g *GoogleRISCClient) GetStatus(ctx context.Context, streamID string) (*ssf.StreamStatus, error) {
	const op = "Google RISC get stream status"
	if err := g.checkStreamID(op, streamID); err != nil {
		return nil, err
	}
	k := call{op: op, method: http.MethodGet, member: "stream/status", endpoint: g.base + "/stream/status", streamID: g.streamID}
	b, err := g.c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	return g.decodeStatus(k, b)
}

// UpdateStatus sets the stream's status: POST {base}/stream/status:update with
// {"status": "enabled"} or {"status": "disabled"}. Google has no paused status; a
// reason is not sent (Google has none).
func (g *GoogleRISCClient) UpdateStatus(ctx context.Context, req ssf.StreamStatus) (*ssf.StreamStatus, error) {
	const op = "Google RISC update stream status"
	if err := g.checkStreamID(op, req.StreamID); err != nil {
		return nil, err
	}
	switch req.Status {
	case ssf.StatusEnabled, ssf.StatusDisabled:
	case ssf.StatusPaused:
		return nil, g.unsupported(op, "Google RISC has no paused status, only enabled and disabled (while disabled nothing is kept)")
	default:
		req.StreamID = g.streamID
		return nil, badRequest(op, g.streamID, req.Validate())
	}
	return g.postStatus(ctx, op, req.Status)
}

func (g *GoogleRISCClient) postStatus(ctx context.Context, op string, status ssf.Status) (*ssf.StreamStatus, error) {
	k := call{op: op, method: http.MethodPost, member: "stream/status:update", endpoint: g.base + "/stream/status:update", streamID: g.streamID, body: googleStatusBody{Status: status}}
	b, err := g.c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if t := bytes.TrimSpace(b); len(t) == 0 || bytes.Equal(t, []byte("{}")) {
		return &ssf.StreamStatus{StreamID: g.streamID, Status: status}, nil
	}
	return g.decodeStatus(k, b)
}

// AddSubject fails with [ErrGoogleRISCUnsupported]: Google sends events for every user
// of the project, and its subjects:add endpoint answers 404 (vendors §2.3).
func (g *GoogleRISCClient) AddSubject(context.Context, ssf.AddSubjectRequest) error {
	return g.unsupported("Google RISC add subject", "Google sends events for every user of the project; it has no subject management")
}

// RemoveSubject fails with [ErrGoogleRISCUnsupported], as AddSubject.
func (g *GoogleRISCClient) RemoveSubject(context.Context, ssf.RemoveSubjectRequest) error {
	return g.unsupported("Google RISC remove subject", "Google sends events for every user of the project; it has no subject management")
}

// Verify asks Google for a Verification event: POST {base}/stream:verify with
// {"state": …}. With GoogleRISCConfig.States, a request without state gets a fresh one
// and a given state is recorded, under the client's stream id. Google sends the event
// only when the stream requested the verification event type.
func (g *GoogleRISCClient) Verify(ctx context.Context, req ssf.VerifyRequest) error {
	const op = "Google RISC verify stream"
	if err := g.checkStreamID(op, req.StreamID); err != nil {
		return err
	}
	_, err := g.verify(ctx, req.State)
	return err
}

// RequestVerification asks for a Verification event and returns the state sent (issued
// by GoogleRISCConfig.States; empty without States).
func (g *GoogleRISCClient) RequestVerification(ctx context.Context) (state string, err error) {
	return g.verify(ctx, "")
}

func (g *GoogleRISCClient) verify(ctx context.Context, state string) (string, error) {
	const op = "Google RISC verify stream"
	if g.states != nil {
		if state == "" {
			s, err := g.states.Issue(g.streamID)
			if err != nil {
				return "", &RequestError{Op: op, StreamID: g.streamID, Err: err}
			}
			state = s
		} else {
			g.states.Expect(g.streamID, state)
		}
	}
	_, err := g.c.do(ctx, call{op: op, method: http.MethodPost, member: "stream:verify", endpoint: g.base + "/stream:verify", streamID: g.streamID, body: googleVerifyBody{State: state}})
	return state, err
}

// googleErrorTransport rewrites Google's error bodies (AIP-193: {"error": {"code",
// "message", "status"}}) to the {"error", "error_description"} shape that
// ssf.ErrorFromResponse reads, so that Google's message reaches the caller. Other
// bodies pass unchanged.
type googleErrorTransport struct {
	next http.RoundTripper
}

// maxGoogleErrorBody bounds the error body examined.
const maxGoogleErrorBody = 64 << 10

// RoundTrip implements http.RoundTripper.
func (t googleErrorTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	if err != nil || resp.StatusCode < 400 || resp.Body == nil {
		return resp, err
	}
	head, rerr := io.ReadAll(io.LimitReader(resp.Body, maxGoogleErrorBody))
	if b, ok := googleErrorBody(head); ok && rerr == nil {
		drain(resp)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Type", "application/json")
		resp.Header.Del("Content-Length")
		return resp, nil
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	return resp, nil
}

// googleErrorBody converts a Google error body; ok is false for any other body.
func googleErrorBody(b []byte) ([]byte, bool) {
	var v struct {
		Error *struct {
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &v) != nil || v.Error == nil || (v.Error.Message == "" && v.Error.Status == "") {
		return nil, false
	}
	out, err := json.Marshal(map[string]string{"error": v.Error.Status, "error_description": v.Error.Message})
	if err != nil {
		return nil, false
	}
	return out, true
}
