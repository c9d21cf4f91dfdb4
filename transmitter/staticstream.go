package transmitter

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// StaticStreamRequest is an operator's request for a "static" stream: one the
// Transmitter creates on behalf of a Receiver client that never calls the stream
// management API, such as Okta's Security Events Providers, which only accept pushed
// SETs (vendors §2.1, §5.2 item 8). Its JSON form is the body of
// POST <base>/admin/streams.
type StaticStreamRequest struct {
	// ClientID is the client that owns the stream (required): the stream is that
	// client's, as if it had created it, and the client sees and manages it through the
	// management API if it ever authenticates. It is not checked against the
	// Authenticator (OAuth clients cannot be listed); a misspelt id makes a stream that
	// no client sees but the operator API lists.
	ClientID string `json:"client_id"`
	// Delivery is the stream's delivery (required): push with an endpoint_url and an
	// optional authorization_header, which must satisfy [PushPolicy], or poll without
	// either (the Transmitter assigns the poll URL, and the owning client polls with its
	// own credentials).
	Delivery *ssf.Delivery `json:"delivery"`
	// EventsRequested are the event type URIs the stream delivers; each must be one the
	// Transmitter supports (legacy alias URIs are resolved). Nil: every supported type
	// (AMB-5, as for a Receiver's create); an empty list is refused.
	EventsRequested []string `json:"events_requested,omitempty"`
	// Audience is the "aud" of the stream and its SETs, for Okta the org URL
	// (https://{org}.okta.com). Nil: the client id, as for a stream the client creates
	// without a configured audience.
	Audience ssf.Audience `json:"aud,omitempty"`
	// Description is the stream's "description" (truncated like a Receiver's).
	Description string `json:"description,omitempty"`
	// Profile is the SET profile of the stream: "final" (the zero value ""), "hybrid"
	// or "legacy" (store.ParseProfile names, any case). Okta as a receiver takes
	// legacy SETs (vendors §2.1).
	Profile string `json:"profile,omitempty"`
	// Status is the initial status: enabled (the zero value ""), paused (events are held
	// until an operator enables the stream) or disabled.
	Status ssf.Status `json:"status,omitempty"`
}

// CreateStaticStream creates a stream on behalf of the client req.ClientID, on the
// operator's authority (vendors §5.2 item 8), and returns its configuration. It shares
// [Transmitter.CreateStream]'s path: a fresh stream_id, "iss", events_delivered =
// events_requested ∩ events_supported, the push endpoint checked against [PushPolicy]
// (the SSRF guard, SEC-17), the StreamCreated hook. Unlike a Receiver's create:
//
//   - the request is the operator's, so it is checked strictly: delivery is required, an
//     unsupported event type is refused rather than left out, and every problem is a
//     400 (ssf.ErrBadRequest) naming the member;
//   - the client's policy is not applied: no SingleStream limit (the operator decides;
//     a SingleStream client that later authenticates sees the stream and gets 409 on a
//     create of its own), no VerifyOnCreate;
//   - no verification SET is queued (vendors §5.2 item 8: such receivers define no
//     verification event and would answer it with 400); an operator who wants one
//     sends it with [Transmitter.SendVerification];
//   - the stream has no "inactivity_timeout": its receiver never calls the management
//     API, so Receiver activity never comes and the stream must not be paused for it;
//   - it starts in req.Status without a Stream Updated SET (nothing changed for the
//     receiver, which never saw the stream in another status).
func (t *Transmitter) CreateStaticStream(ctx context.Context, req StaticStreamRequest) (*ssf.StreamConfig, error) {
	var problems []string
	fail := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	switch {
	case req.ClientID == "":
		fail(`member "client_id" is required: the receiver client that owns the stream`)
	case strings.TrimSpace(req.ClientID) != req.ClientID:
		fail(`member "client_id" %q has leading or trailing white space`, req.ClientID)
	}
	d := req.Delivery
	switch {
	case d == nil:
		fail(`member "delivery" is required: {"method": %q, "endpoint_url": "https://..."} (push) or {"method": %q} (poll)`, ssf.DeliveryPush, ssf.DeliveryPoll)
	case len(d.Extra) > 0:
		fail(`member "delivery" has unknown members: %s`, strings.Join(sortedKeys(d.Extra), ", "))
	case d.IsPoll() && (d.EndpointURL != "" || d.AuthorizationHeader != ""):
		fail(`member "delivery": poll delivery takes neither endpoint_url (the transmitter assigns it) nor authorization_header`)
	}
	if req.EventsRequested != nil && len(req.EventsRequested) == 0 {
		fail(`member "events_requested" is empty: the stream would deliver nothing (leave it out for every supported event type)`)
	}
	for i, typ := range req.EventsRequested {
		if typ == "" {
			continue // ValidateRequestWith names it
		}
		if c, _ := t.registry.Canonical(typ); !t.isSupp[c] {
			fail(`member "events_requested[%d]" %q is not an event type this transmitter supports`, i, typ)
		}
	}
	if req.Audience != nil && len(req.Audience) == 0 {
		fail(`member "aud" is empty (leave it out for the client id)`)
	}
	for i, a := range req.Audience {
		if a == "" {
			fail(`member "aud[%d]" is empty`, i)
		}
	}
	profile, err := store.ParseProfile(req.Profile)
	if err != nil {
		fail(`member "profile" %q is unknown: want final, hybrid or legacy`, req.Profile)
	}
	status := req.Status
	switch {
	case status == "":
		status = ssf.StatusEnabled
	case !status.Valid():
		fail(`member "status" %q is unknown: want enabled, paused or disabled`, string(status))
	}
	cfg := ssf.StreamConfig{EventsRequested: req.EventsRequested, Delivery: d, Description: req.Description}
	if err := cfg.ValidateRequestWith(t.validateOpts()); err != nil {
		fail("%s", oneLine(err.Error()))
	}
	if len(problems) > 0 {
		return nil, ssf.Errorf(http.StatusBadRequest, "static stream request: %s", strings.Join(problems, "; "))
	}
	aud := []string(req.Audience)
	if len(aud) == 0 {
		aud = []string{req.ClientID}
	}
	return t.createStream(ctx, newStream{
		clientID:   req.ClientID,
		audience:   aud,
		profile:    profile,
		status:     status,
		req:        &cfg,
		byOperator: true,
	})
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// adminCreateStatic serves POST <base>/admin/streams: a [StaticStreamRequest] in, 201
// with the stored configuration out.
func (t *Transmitter) adminCreateStatic(w http.ResponseWriter, r *http.Request) error {
	var req StaticStreamRequest
	if err := t.decodeAdmin(w, r, &req, false); err != nil {
		return err
	}
	cfg, err := t.CreateStaticStream(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, cfg)
	return nil
}
