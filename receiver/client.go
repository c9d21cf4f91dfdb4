package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sigshare/sigshare/ssf"
)

// ClientConfig configures [NewClient]. Metadata is required; the zero value of every
// other field is a sound strict configuration.
type ClientConfig struct {
	// Metadata is the Transmitter's validated metadata ([Discover], [FetchMetadata]):
	// the endpoints the client calls. An endpoint the metadata lacks makes the
	// operations that need it fail with [ErrNoEndpoint]; set it here to use an endpoint
	// the Transmitter documents elsewhere (Okta's status API).
	Metadata *ssf.Metadata
	// Issuer is the issuer the metadata was obtained for ([Discovery.Issuer]); every
	// returned stream configuration must name it as "iss" (SSF-STREAM-14). Empty means
	// Metadata.Issuer.
	Issuer string
	// Credentials authorize every request (SSF-AUTH-3). Nil sends no Authorization
	// header.
	Credentials Credentials
	// HTTPClient sends the requests. Nil means a client whose Timeout is Timeout. A
	// client given here whose CheckRedirect is nil is used through a shallow copy that
	// follows redirects only to the same host and never from https to http.
	HTTPClient *http.Client
	// Timeout bounds each request when HTTPClient is nil. Zero means 30 seconds.
	Timeout time.Duration
	// MaxResponseBytes is the largest response body read. Zero means 1 MiB.
	MaxResponseBytes int64
	// Audience lists "aud" values the Receiver expects in its stream configurations
	// (SSF-STREAM-19): when not empty, a returned configuration whose aud contains none
	// of them is refused. Empty means any non-empty aud is accepted.
	Audience []string
	// States records the state of every verification request, so that the SET
	// recipient can check the Verification events against them (SSF §8.1.4.1). A
	// request without state gets a fresh state from States.Issue. Nil means states are
	// sent as given and not recorded.
	States *VerificationStates
	// Compatibility tolerates what Transmitters in the field answer (vendors §5.1 item
	// 8): a read by stream_id answered with an array (Okta), a list answered with a
	// single object, a status without stream_id, and stream configurations that fail
	// ssf.StreamConfig.Validate beyond the checks SSF makes mandatory for the Receiver
	// (stream_id, iss, aud). Off by default.
	Compatibility bool
	// IssuerIgnoreTrailingSlash compares "iss" with Issuer ignoring one trailing "/"
	// (see DiscoveryOptions.IssuerIgnoreTrailingSlash).
	IssuerIgnoreTrailingSlash bool
	// InsecureAllowHTTP accepts http endpoints and an http "iss" (loopback tests only).
	InsecureAllowHTTP bool
	// UserAgent is sent with every request; empty means "sigshare-receiver".
	UserAgent string
	// Logger receives a Debug record per request and Warn records for tolerated
	// answers. Nil means no logging. Credentials are never logged.
	Logger *slog.Logger
}

// Client is the Receiver's HTTP client of an SSF Transmitter's stream management API
// (SSF §8.1): it implements [ssf.Manager] against any Transmitter that publishes SSF
// metadata.
//
// Requests carry only what SSF lets a Receiver send: a create request holds the
// Receiver-supplied members alone (events_requested, delivery, description: conformance
// RS5, [ssf.StreamConfig.ReceiverSupplied]); update and replace requests are sent as
// given, without unknown members (the Transmitter checks that Transmitter-supplied
// members equal the current values, SSF-STREAM-22, -24). stream_id travels as a query parameter for reads, deletes
// and status reads (SSF §8.1.1.2, §8.1.1.5, §8.1.2.1) and in the body otherwise.
//
// Answers map through [ssf.ErrorFromResponse]: any 2xx but 202 is success (AMB-10), 202
// is an error matching [ssf.ErrAccepted], 403 is [ssf.ErrForbidden] on every endpoint
// (AMB-11), 429 a [*ssf.RateLimitError] with the Retry-After delay. Every error is a
// [*RequestError] naming the operation, endpoint and stream. Each returned stream
// configuration is checked: stream_id present, iss identical to the metadata issuer
// (SSF-STREAM-14; [ErrIssuerMismatch] otherwise), aud present and, when configured,
// expected (SSF-STREAM-19); in strict mode also [ssf.StreamConfig.ValidateWith].
//
// After a 401 answer, Credentials that implement [Refresher] are invalidated and the
// request is sent once more. A Client is safe for concurrent use.
type Client struct {
	meta     *ssf.Metadata
	issuer   string
	creds    Credentials
	http     *http.Client
	maxBytes int64
	aud      []string
	states   *VerificationStates
	compat   bool
	slash    bool
	insecure bool
	ua       string
	log      *slog.Logger
}

var _ ssf.Manager = (*Client)(nil)

// ErrNoEndpoint is wrapped when the Transmitter metadata lacks the endpoint an
// operation needs (e.g. no status_endpoint).
var ErrNoEndpoint = errors.New("receiver: the transmitter metadata names no endpoint for this operation")

// NewClient checks cfg and returns a client. It sends nothing.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.Metadata == nil {
		return nil, errors.New("receiver: ClientConfig.Metadata is required")
	}
	c := &Client{
		meta:     cfg.Metadata,
		issuer:   cfg.Issuer,
		creds:    cfg.Credentials,
		http:     httpClient(cfg.HTTPClient, orDefault(cfg.Timeout, 30*time.Second), cfg.InsecureAllowHTTP),
		maxBytes: orDefault(cfg.MaxResponseBytes, defaultMaxResponseBytes),
		aud:      slices.Clone(cfg.Audience),
		states:   cfg.States,
		compat:   cfg.Compatibility,
		slash:    cfg.IssuerIgnoreTrailingSlash,
		insecure: cfg.InsecureAllowHTTP,
		ua:       cfg.UserAgent,
		log:      cfg.Logger,
	}
	if c.issuer == "" {
		c.issuer = cfg.Metadata.Issuer
	}
	if c.issuer == "" {
		return nil, errors.New("receiver: the transmitter issuer is unknown (ClientConfig.Issuer and Metadata.Issuer are empty)")
	}
	if c.ua == "" {
		c.ua = "sigshare-receiver"
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for _, e := range []struct{ name, value string }{
		{"configuration_endpoint", c.meta.ConfigurationEndpoint},
		{"status_endpoint", c.meta.StatusEndpoint},
		{"add_subject_endpoint", c.meta.AddSubjectEndpoint},
		{"remove_subject_endpoint", c.meta.RemoveSubjectEndpoint},
		{"verification_endpoint", c.meta.VerificationEndpoint},
	} {
		if e.value == "" {
			continue
		}
		if _, err := checkURL(e.name, e.value, c.insecure); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Issuer returns the Transmitter issuer the client checks stream configurations against.
func (c *Client) Issuer() string { return c.issuer }

// Metadata returns the Transmitter metadata the client uses. It must not be modified.
func (c *Client) Metadata() *ssf.Metadata { return c.meta }

// RequestError is a failed management request. It unwraps to the cause, so that
// errors.Is(err, ssf.ErrNotFound) and errors.As(err, new(*ssf.RateLimitError)) work.
type RequestError struct {
	// Op names the operation, e.g. "create stream".
	Op string
	// Method and URL are the HTTP request (URL without the query); both empty when the
	// request was not sent.
	Method, URL string
	// StreamID is the stream the request was about, if any.
	StreamID string
	// Err is the cause: an *ssf.Error, *ssf.RateLimitError, a transport or context
	// error, or a problem with the answer.
	Err error
}

// Error implements error.
func (e *RequestError) Error() string {
	var b strings.Builder
	b.WriteString("receiver: ")
	b.WriteString(e.Op)
	if e.StreamID != "" {
		fmt.Fprintf(&b, " %q", e.StreamID)
	}
	if e.URL != "" {
		fmt.Fprintf(&b, " (%s %s)", e.Method, e.URL)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns e.Err.
func (e *RequestError) Unwrap() error { return e.Err }

// badRequest wraps a local validation error: the request was not sent.
func badRequest(op, streamID string, err error) error {
	return &RequestError{Op: op, StreamID: streamID, Err: fmt.Errorf("%w: not sent: %w", ssf.ErrBadRequest, err)}
}

// call is one management request.
type call struct {
	op       string
	method   string
	member   string // metadata member naming the endpoint
	endpoint string
	streamID string
	query    bool // stream_id as a query parameter
	body     any  // JSON-encoded when not nil
}

// do sends the request and returns the success body.
func (c *Client) do(ctx context.Context, k call) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		return nil, &RequestError{Op: k.op, Method: k.method, URL: k.endpoint, StreamID: k.streamID, Err: err}
	}
	if k.endpoint == "" {
		return fail(fmt.Errorf("%w (%s)", ErrNoEndpoint, k.member))
	}
	target := k.endpoint
	if k.query {
		u, err := url.Parse(k.endpoint)
		if err != nil {
			return fail(err)
		}
		q := u.Query()
		q.Set("stream_id", k.streamID)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	var payload []byte
	if k.body != nil {
		b, err := json.Marshal(k.body)
		if err != nil {
			return fail(fmt.Errorf("%w: not sent: %w", ssf.ErrBadRequest, err))
		}
		payload = b
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, k.method, target, bytes.NewReader(payload))
		if err != nil {
			return fail(err)
		}
		if payload == nil {
			req.Body = http.NoBody
			req.ContentLength = 0
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", c.ua)
		if c.creds != nil {
			authz, err := c.creds.Authorization(ctx)
			if err != nil {
				return fail(fmt.Errorf("obtaining credentials: %w", err))
			}
			req.Header.Set("Authorization", authz)
		}
		start := time.Now()
		resp, err := c.http.Do(req)
		if err != nil {
			return fail(err)
		}
		body, rerr := readBody(resp.Body, c.maxBytes)
		drain(resp)
		c.log.LogAttrs(ctx, slog.LevelDebug, "ssf management request",
			slog.String("op", k.op), slog.String("method", k.method), slog.String("url", k.endpoint),
			slog.String("stream_id", k.streamID), slog.Int("status", resp.StatusCode),
			slog.Duration("duration", time.Since(start)))
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			if r, ok := c.creds.(Refresher); ok {
				r.Invalidate()
				continue
			}
		}
		if err := ssf.ErrorFromResponse(resp.StatusCode, resp.Header, body); err != nil {
			if e, ok := errors.AsType[*ssf.Error](err); ok && e.Description == "" {
				e.Description = challengeDescription(resp.Header.Get("WWW-Authenticate"))
			}
			return fail(err)
		}
		if rerr != nil {
			return fail(rerr)
		}
		return body, nil
	}
}

// challengeDescription extracts error and error_description from an RFC 6750 §3
// challenge, for an error without a body.
func challengeDescription(h string) string {
	if h == "" {
		return ""
	}
	var parts []string
	for _, name := range []string{"error", "error_description"} {
		i := strings.Index(h, name+"=\"")
		if i < 0 {
			continue
		}
		rest := h[i+len(name)+2:]
		if j := strings.IndexByte(rest, '"'); j >= 0 && j <= 256 {
			parts = append(parts, rest[:j])
		}
	}
	return strings.Join(parts, ": ")
}

// answerErr wraps a problem with a success answer.
func answerErr(k call, err error) error {
	return &RequestError{Op: k.op, Method: k.method, URL: k.endpoint, StreamID: k.streamID, Err: err}
}

// decodeConfig decodes and checks one stream configuration.
func (c *Client) decodeConfig(k call, body []byte) (*ssf.StreamConfig, error) {
	var cfg ssf.StreamConfig
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, answerErr(k, fmt.Errorf("the answer is not a stream configuration: %w", err))
	}
	if err := c.checkConfig(&cfg); err != nil {
		return nil, answerErr(k, err)
	}
	return &cfg, nil
}

// checkConfig applies the Receiver's checks to a returned configuration.
func (c *Client) checkConfig(cfg *ssf.StreamConfig) error {
	if cfg.StreamID == "" {
		return errors.New("the stream configuration has no stream_id (SSF §8.1.1)")
	}
	switch {
	case cfg.Issuer == c.issuer:
	case c.slash && sameIssuerModSlash(cfg.Issuer, c.issuer):
	default:
		return fmt.Errorf("%w: stream %q names iss %q, not the transmitter issuer %q (SSF §8.1.1, SSF-STREAM-14); the configuration must not be used", ErrIssuerMismatch, cfg.StreamID, cfg.Issuer, c.issuer)
	}
	if len(cfg.Audience) == 0 {
		return fmt.Errorf("stream %q has no aud (SSF §8.1.1, SSF-STREAM-19)", cfg.StreamID)
	}
	if len(c.aud) > 0 && !cfg.Audience.ContainsAny(c.aud...) {
		return fmt.Errorf("stream %q has aud %q, none of the expected %q (SSF-STREAM-19)", cfg.StreamID, []string(cfg.Audience), c.aud)
	}
	if !c.compat {
		if err := cfg.ValidateWith(ssf.ValidateOptions{InsecureAllowHTTP: c.insecure}); err != nil {
			return err
		}
	}
	return nil
}

// CreateStream creates a stream (SSF §8.1.1.1): POST to the configuration endpoint with
// the Receiver-supplied members of req only (RS5). A 409 means the Transmitter allows
// one stream per Receiver and one exists (see [Client.EnsureStream]).
func (c *Client) CreateStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	const op = "create stream"
	body := req.ReceiverSupplied()
	if err := body.ValidateRequestWith(ssf.ValidateOptions{InsecureAllowHTTP: c.insecure}); err != nil {
		return nil, badRequest(op, "", err)
	}
	k := call{op: op, method: http.MethodPost, member: "configuration_endpoint", endpoint: c.meta.ConfigurationEndpoint, body: body}
	b, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	return c.decodeConfig(k, b)
}

// GetStream reads one stream (SSF §8.1.1.2): GET with ?stream_id=.
func (c *Client) GetStream(ctx context.Context, streamID string) (*ssf.StreamConfig, error) {
	const op = "get stream"
	if streamID == "" {
		return nil, badRequest(op, "", errors.New("stream_id is required"))
	}
	k := call{op: op, method: http.MethodGet, member: "configuration_endpoint", endpoint: c.meta.ConfigurationEndpoint, streamID: streamID, query: true}
	b, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if c.compat && jsonStartsWith(b, '[') {
		list, err := c.decodeList(k, b)
		if err != nil {
			return nil, err
		}
		for i := range list {
			if list[i].StreamID == streamID {
				c.log.LogAttrs(ctx, slog.LevelWarn, "tolerated: a read by stream_id answered with an array", slog.String("stream_id", streamID))
				return &list[i], nil
			}
		}
		return nil, answerErr(k, fmt.Errorf("%w: the answer (an array) holds no stream %q", ssf.ErrNotFound, streamID))
	}
	cfg, err := c.decodeConfig(k, b)
	if err != nil {
		return nil, err
	}
	if cfg.StreamID != streamID {
		return nil, answerErr(k, fmt.Errorf("the answer describes stream %q", cfg.StreamID))
	}
	return cfg, nil
}

// ListStreams reads every stream of this Receiver (SSF §8.1.1.2): GET without stream_id,
// answered with an array ([] when there is none).
func (c *Client) ListStreams(ctx context.Context) ([]ssf.StreamConfig, error) {
	k := call{op: "list streams", method: http.MethodGet, member: "configuration_endpoint", endpoint: c.meta.ConfigurationEndpoint}
	b, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if c.compat && jsonStartsWith(b, '{') {
		cfg, err := c.decodeConfig(k, b)
		if err != nil {
			return nil, err
		}
		c.log.LogAttrs(ctx, slog.LevelWarn, "tolerated: a list of streams answered with a single object")
		return []ssf.StreamConfig{*cfg}, nil
	}
	return c.decodeList(k, b)
}

func (c *Client) decodeList(k call, b []byte) ([]ssf.StreamConfig, error) {
	var list []ssf.StreamConfig
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, answerErr(k, fmt.Errorf("the answer is not an array of stream configurations (SSF §8.1.1.2): %w", err))
	}
	if list == nil {
		list = []ssf.StreamConfig{}
	}
	for i := range list {
		if err := c.checkConfig(&list[i]); err != nil {
			return nil, answerErr(k, fmt.Errorf("element %d: %w", i, err))
		}
	}
	return list, nil
}

func jsonStartsWith(b []byte, c byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == c
}

// UpdateStream changes the members present in req (SSF §8.1.1.3): PATCH with req as
// given (stream_id in the body).
func (c *Client) UpdateStream(ctx context.Context, req ssf.StreamUpdate) (*ssf.StreamConfig, error) {
	const op = "update stream"
	if err := req.ValidateWith(ssf.ValidateOptions{InsecureAllowHTTP: c.insecure}); err != nil {
		return nil, badRequest(op, req.StreamID, err)
	}
	k := call{op: op, method: http.MethodPatch, member: "configuration_endpoint", endpoint: c.meta.ConfigurationEndpoint, streamID: req.StreamID, body: req}
	b, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	return c.decodeStreamAnswer(k, b)
}

// decodeStreamAnswer decodes an update or replace answer and checks it names the stream.
func (c *Client) decodeStreamAnswer(k call, b []byte) (*ssf.StreamConfig, error) {
	cfg, err := c.decodeConfig(k, b)
	if err != nil {
		return nil, err
	}
	if cfg.StreamID != k.streamID {
		return nil, answerErr(k, fmt.Errorf("the answer describes stream %q", cfg.StreamID))
	}
	return cfg, nil
}

// ReplaceStream replaces the stream's Receiver-supplied members (SSF §8.1.1.4): PUT with
// req; an absent Receiver-supplied member is deleted. Transmitter-supplied members in
// req are sent as given and must equal the current values (a configuration read, edited
// and put back is a valid request); members this package does not know (req.Extra, such
// as the ID1 "format", DIFF-8) are not sent.
func (c *Client) ReplaceStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	const op = "replace stream"
	if req.StreamID == "" {
		return nil, badRequest(op, "", errors.New("stream_id is required (SSF §8.1.1.4)"))
	}
	body := req
	body.Extra = nil
	if err := body.ValidateRequestWith(ssf.ValidateOptions{InsecureAllowHTTP: c.insecure}); err != nil {
		return nil, badRequest(op, req.StreamID, err)
	}
	k := call{op: op, method: http.MethodPut, member: "configuration_endpoint", endpoint: c.meta.ConfigurationEndpoint, streamID: req.StreamID, body: body}
	b, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	return c.decodeStreamAnswer(k, b)
}

// DeleteStream deletes a stream (SSF §8.1.1.5): DELETE with ?stream_id=.
func (c *Client) DeleteStream(ctx context.Context, streamID string) error {
	const op = "delete stream"
	if streamID == "" {
		return badRequest(op, "", errors.New("stream_id is required"))
	}
	_, err := c.do(ctx, call{op: op, method: http.MethodDelete, member: "configuration_endpoint", endpoint: c.meta.ConfigurationEndpoint, streamID: streamID, query: true})
	return err
}

// GetStatus reads a stream's status (SSF §8.1.2.1): GET on the status endpoint with
// ?stream_id=.
func (c *Client) GetStatus(ctx context.Context, streamID string) (*ssf.StreamStatus, error) {
	const op = "get stream status"
	if streamID == "" {
		return nil, badRequest(op, "", errors.New("stream_id is required"))
	}
	k := call{op: op, method: http.MethodGet, member: "status_endpoint", endpoint: c.meta.StatusEndpoint, streamID: streamID, query: true}
	b, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	return c.decodeStatus(ctx, k, b)
}

func (c *Client) decodeStatus(ctx context.Context, k call, b []byte) (*ssf.StreamStatus, error) {
	var st ssf.StreamStatus
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, answerErr(k, fmt.Errorf("the answer is not a stream status: %w", err))
	}
	if st.StreamID == "" && c.compat {
		c.log.LogAttrs(ctx, slog.LevelWarn, "tolerated: a stream status without stream_id", slog.String("stream_id", k.streamID))
		st.StreamID = k.streamID
	}
	if err := st.Validate(); err != nil {
		return nil, answerErr(k, err)
	}
	if st.StreamID != k.streamID {
		return nil, answerErr(k, fmt.Errorf("the answer describes stream %q", st.StreamID))
	}
	return &st, nil
}

// UpdateStatus sets a stream's status (SSF §8.1.2.2): POST to the status endpoint.
func (c *Client) UpdateStatus(ctx context.Context, req ssf.StreamStatus) (*ssf.StreamStatus, error) {
	const op = "update stream status"
	if err := req.Validate(); err != nil {
		return nil, badRequest(op, req.StreamID, err)
	}
	k := call{op: op, method: http.MethodPost, member: "status_endpoint", endpoint: c.meta.StatusEndpoint, streamID: req.StreamID, body: req}
	b, err := c.do(ctx, k)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(b)) == 0 && c.compat {
		// Some Transmitters answer 200 or 204 without a body.
		c.log.LogAttrs(ctx, slog.LevelWarn, "tolerated: a status update answered without a body", slog.String("stream_id", req.StreamID))
		st := req
		return &st, nil
	}
	return c.decodeStatus(ctx, k, b)
}

// AddSubject adds a subject to a stream (SSF §8.1.3.2): POST to the add-subject
// endpoint. 200 does not mean events will flow for the subject (SSF §9.1).
func (c *Client) AddSubject(ctx context.Context, req ssf.AddSubjectRequest) error {
	const op = "add subject"
	if err := req.Validate(); err != nil {
		return badRequest(op, req.StreamID, err)
	}
	_, err := c.do(ctx, call{op: op, method: http.MethodPost, member: "add_subject_endpoint", endpoint: c.meta.AddSubjectEndpoint, streamID: req.StreamID, body: req})
	return err
}

// RemoveSubject removes a subject from a stream (SSF §8.1.3.3): POST to the
// remove-subject endpoint.
func (c *Client) RemoveSubject(ctx context.Context, req ssf.RemoveSubjectRequest) error {
	const op = "remove subject"
	if err := req.Validate(); err != nil {
		return badRequest(op, req.StreamID, err)
	}
	_, err := c.do(ctx, call{op: op, method: http.MethodPost, member: "remove_subject_endpoint", endpoint: c.meta.RemoveSubjectEndpoint, streamID: req.StreamID, body: req})
	return err
}

// Verify asks the Transmitter to send a Verification event (SSF §8.1.4.2): POST to the
// verification endpoint. With ClientConfig.States, a request without state gets a
// fresh one (States.Issue) and a given state is recorded (States.Expect) before the
// request is sent, so that the Verification event can be checked against it whenever it
// arrives. Use [Client.RequestVerification] to learn the state.
func (c *Client) Verify(ctx context.Context, req ssf.VerifyRequest) error {
	_, err := c.verify(ctx, req)
	return err
}

// RequestVerification asks for a Verification event on the stream and returns the
// state sent with the request (issued by ClientConfig.States; empty without States).
func (c *Client) RequestVerification(ctx context.Context, streamID string) (state string, err error) {
	return c.verify(ctx, ssf.VerifyRequest{StreamID: streamID})
}

func (c *Client) verify(ctx context.Context, req ssf.VerifyRequest) (string, error) {
	const op = "verify stream"
	if err := req.Validate(); err != nil {
		return "", badRequest(op, req.StreamID, err)
	}
	if c.states != nil {
		if req.State == "" {
			s, err := c.states.Issue(req.StreamID)
			if err != nil {
				return "", &RequestError{Op: op, StreamID: req.StreamID, Err: err}
			}
			req.State = s
		} else {
			c.states.Expect(req.StreamID, req.State)
		}
	}
	_, err := c.do(ctx, call{op: op, method: http.MethodPost, member: "verification_endpoint", endpoint: c.meta.VerificationEndpoint, streamID: req.StreamID, body: req})
	return req.State, err
}
