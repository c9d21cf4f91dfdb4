package transmitter

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// maxDescription is the longest "description" kept, in bytes; longer ones are cut at a
// character boundary (SSF-STREAM-11: the Transmitter MAY truncate).
const maxDescription = 1024

// CreateStream implements [ssf.Manager] (SSF §8.1.1.1) for the client in ctx.
//
// req holds the Receiver-supplied members. A Transmitter-supplied member in it is
// refused with 400 naming it (conformance RS5), except "iss" equal to the issuer and
// "aud" values all within the client's audience, which some Receivers send (vendors §5.2
// item 4). Unknown members (e.g. the ID1 "format") are ignored. Without delivery the
// stream uses poll (AMB-4) at <issuer>/ssf/poll/<stream_id>; a push endpoint_url must
// satisfy [PushPolicy]. events_delivered is events_requested ∩ events_supported (legacy
// alias URIs resolved), or every supported type when events_requested is absent
// (AMB-5). The stream starts enabled.
func (t *Transmitter) CreateStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	if err := req.ValidateRequestWith(t.validateOpts()); err != nil {
		return nil, badRequest(err)
	}
	if err := t.checkCreateTransmitterSupplied(c, &req); err != nil {
		return nil, err
	}
	if c.SingleStream {
		mu := t.clientLock(c.ID)
		mu.Lock()
		defer mu.Unlock()
		existing, err := t.cfg.Store.ListStreams(ctx, store.StreamFilter{ClientID: c.ID})
		if err != nil {
			return nil, storeErr("listing streams", "", err)
		}
		if len(existing) > 0 {
			return nil, ssf.Errorf(http.StatusConflict, "this receiver may have one stream only and has stream %q; read it and update or replace it (SSF §8.1.1.1)", existing[0].ID)
		}
	}

	return t.createStream(ctx, newStream{
		clientID:          c.ID,
		audience:          c.audience(),
		profile:           c.Profile,
		status:            ssf.StatusEnabled,
		req:               &req,
		inactivityTimeout: t.cfg.InactivityTimeout,
		verify:            c.VerifyOnCreate,
	})
}

// newStream is what a new stream is made of, whether a Receiver creates it
// ([Transmitter.CreateStream]) or an operator does ([Transmitter.CreateStaticStream]).
type newStream struct {
	clientID string      // the owner
	audience []string    // "aud"
	profile  set.Profile // the SET profile
	status   ssf.Status  // the initial status
	reason   string      // the initial status reason
	// req holds the validated Receiver-supplied members: events_requested, delivery
	// (nil: poll) and description.
	req *ssf.StreamConfig
	// inactivityTimeout is the stream's inactivity_timeout (<= 0: none).
	inactivityTimeout time.Duration
	// verify queues a Transmitter-initiated verification SET after the create.
	verify bool
	// byOperator tells an operator's create from a Receiver's, for the log.
	byOperator bool
}

// createStream stores a new stream: a fresh stream_id, the Transmitter-supplied members
// (iss, events_supported, events_delivered = requested ∩ supported, the poll URL, or the
// push endpoint checked against the push policy), then the StreamCreated hook and,
// with n.verify, the verification SET.
func (t *Transmitter) createStream(ctx context.Context, n newStream) (*ssf.StreamConfig, error) {
	now := t.now()
	s := &store.Stream{
		ClientID:       n.clientID,
		Profile:        n.profile,
		Status:         n.status,
		StatusReason:   n.reason,
		CreatedAt:      now,
		UpdatedAt:      now,
		LastActivityAt: now,
	}
	for attempt := 0; ; attempt++ {
		s.ID = newID()
		cfg := ssf.StreamConfig{
			StreamID:                s.ID,
			Issuer:                  t.issuer,
			Audience:                ssf.Audience(slices.Clone(n.audience)),
			EventsRequested:         slices.Clone(n.req.EventsRequested),
			Delivery:                n.req.Delivery,
			Description:             n.req.Description,
			MinVerificationInterval: secondsPtr(t.minVerify),
			InactivityTimeout:       secondsPtr(n.inactivityTimeout),
		}
		if err := t.completeConfig(ctx, &cfg, n.req.Delivery != nil); err != nil {
			return nil, err
		}
		s.Config = cfg
		err := t.cfg.Store.CreateStream(ctx, s)
		if errors.Is(err, store.ErrExists) && attempt < 3 {
			continue // a 130-bit collision: draw again
		}
		if err != nil {
			return nil, storeErr("creating the stream", s.ID, err)
		}
		break
	}
	t.log.Info("stream created", "stream_id", s.ID, "client_id", n.clientID, "delivery", s.Config.Delivery, "by_operator", n.byOperator)
	if h := t.cfg.Hooks.StreamCreated; h != nil {
		h(s.ID, n.clientID)
	}
	if n.verify {
		if err := t.enqueueVerification(ctx, s, "", false); err != nil {
			// The stream exists: report the failure to the operator, not the Receiver.
			t.log.Error("transmitter-initiated verification after create failed", "stream_id", s.ID, "error", err)
		}
	}
	return s.Config.Clone(), nil
}

func (t *Transmitter) validateOpts() ssf.ValidateOptions {
	return ssf.ValidateOptions{InsecureAllowHTTP: t.cfg.Push.InsecureAllowHTTP}
}

// checkCreateTransmitterSupplied refuses Transmitter-supplied members in a create
// request, except an "iss" equal to the issuer and "aud" values the client may use.
func (t *Transmitter) checkCreateTransmitterSupplied(c *Client, req *ssf.StreamConfig) error {
	var problems []string
	for _, m := range req.TransmitterSuppliedPresent() {
		switch m {
		case "iss":
			if req.Issuer != t.issuer {
				problems = append(problems, fmt.Sprintf("member \"iss\" %q is not this transmitter's issuer %q", req.Issuer, t.issuer))
			}
		case "aud":
			allowed := c.audience()
			for _, a := range req.Audience {
				if !slices.Contains(allowed, a) {
					problems = append(problems, fmt.Sprintf("member \"aud\" value %q is not an audience of this receiver (allowed: %s)", a, strings.Join(allowed, ", ")))
				}
			}
			if len(req.Audience) == 0 {
				problems = append(problems, "member \"aud\" is empty")
			}
		default:
			problems = append(problems, fmt.Sprintf("member %q is supplied by the transmitter and must not be sent", m))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return ssf.Errorf(http.StatusBadRequest, "create request: %s (SSF §8.1.1.1: send only events_requested, delivery and description)", strings.Join(problems, "; "))
}

func (t *Transmitter) clientLock(id string) *sync.Mutex {
	mu, _ := t.createMu.LoadOrStore(id, new(sync.Mutex))
	return mu.(*sync.Mutex)
}

// completeConfig fills the Transmitter-supplied members of cfg derived from its
// Receiver-supplied ones: events_supported, events_delivered, the delivery (poll URL
// assigned, push endpoint checked when checkPush), and the description's length.
func (t *Transmitter) completeConfig(ctx context.Context, cfg *ssf.StreamConfig, checkPush bool) error {
	cfg.EventsSupported = slices.Clone(t.supported)
	cfg.EventsDelivered = t.eventsDelivered(cfg.EventsRequested)
	d := cfg.Delivery
	switch {
	case d == nil || ssf.NormalizeDeliveryMethod(d.Method) == ssf.DeliveryPoll:
		cfg.Delivery = &ssf.Delivery{Method: ssf.DeliveryPoll, EndpointURL: t.pollURL(cfg.StreamID)}
	case ssf.NormalizeDeliveryMethod(d.Method) == ssf.DeliveryPush:
		cfg.Delivery = &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: d.EndpointURL, AuthorizationHeader: d.AuthorizationHeader}
		if checkPush {
			if err := t.checkPushEndpoint(ctx, d.EndpointURL); err != nil {
				return err
			}
		}
	default: // ValidateRequest refuses other methods; keep the guard for direct callers
		return ssf.Errorf(http.StatusBadRequest, "delivery method %q is not supported: use %s (push) or %s (poll)", d.Method, ssf.DeliveryPush, ssf.DeliveryPoll)
	}
	cfg.Description = truncate(cfg.Description, maxDescription)
	cfg.Extra = nil
	return nil
}

// pollURL is the poll endpoint_url of a stream (SSF-DELIV-4: unique per stream).
func (t *Transmitter) pollURL(streamID string) string {
	return t.endpoint(pathPoll + url.PathEscape(streamID))
}

// eventsDelivered is requested ∩ supported, in the order requested, aliases resolved
// and duplicates dropped; every supported type when requested is nil (AMB-5).
func (t *Transmitter) eventsDelivered(requested []string) []string {
	if requested == nil {
		return slices.Clone(t.supported)
	}
	out := make([]string, 0, len(requested))
	for _, r := range requested {
		c, _ := t.registry.Canonical(r)
		if t.isSupp[c] && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// pushResolveTimeout bounds the DNS lookup of a push endpoint's host.
const pushResolveTimeout = 5 * time.Second

// checkPushEndpoint applies the push policy to a Receiver-chosen endpoint_url: https
// (http with InsecureAllowHTTP), no user information, and a host that resolves only to
// addresses the SSRF guard allows (SEC-17).
func (t *Transmitter) checkPushEndpoint(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return ssf.Errorf(http.StatusBadRequest, "delivery.endpoint_url %q is not a URL", raw)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && t.cfg.Push.InsecureAllowHTTP) {
		return ssf.Errorf(http.StatusBadRequest, "delivery.endpoint_url %q must use https", raw)
	}
	if u.User != nil {
		return ssf.Errorf(http.StatusBadRequest, "delivery.endpoint_url must not contain user information; use delivery.authorization_header for credentials")
	}
	host := u.Hostname()
	if host == "" {
		return ssf.Errorf(http.StatusBadRequest, "delivery.endpoint_url %q has no host", raw)
	}
	lctx, cancel := context.WithTimeout(ctx, pushResolveTimeout)
	defer cancel()
	err = t.guard.CheckHost(lctx, t.cfg.Push.Resolver, host)
	if err == nil {
		return nil
	}
	if dnsErr, ok := errors.AsType[*net.DNSError](err); ok {
		if dnsErr.IsNotFound {
			return ssf.Errorf(http.StatusBadRequest, "delivery.endpoint_url host %q does not resolve", host)
		}
		// A transient resolution failure: the push engine checks every connection anyway.
		t.log.Warn("could not resolve a push endpoint host; the connect-time check still applies", "host", host, "error", err)
		return nil
	}
	return ssf.Errorf(http.StatusBadRequest, "delivery.endpoint_url %q is refused: %v; the transmitter only pushes to public addresses unless its push policy allows loopback, private or link-local ones (SSRF guard)", raw, err)
}

// GetStream implements [ssf.Manager] (SSF §8.1.1.2): the client's stream, else 404.
// It counts as Receiver activity on the stream.
func (t *Transmitter) GetStream(ctx context.Context, streamID string) (*ssf.StreamConfig, error) {
	s, err := t.readStream(ctx, streamID)
	if err != nil {
		return nil, err
	}
	return s.Config.Clone(), nil
}

// readStream returns the stream of the client in ctx for a read, which counts as
// Receiver activity on it.
func (t *Transmitter) readStream(ctx context.Context, streamID string) (*store.Stream, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	s, err := t.ownStream(ctx, c, streamID)
	if err != nil {
		return nil, err
	}
	t.touch(ctx, s.ID)
	return s, nil
}

// ListStreams implements [ssf.Manager] (SSF §8.1.1.2): the client's streams in creation
// order, an empty slice when none. Listing counts as Receiver activity on every stream
// listed (AMB-14).
func (t *Transmitter) ListStreams(ctx context.Context) ([]ssf.StreamConfig, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	list, err := t.cfg.Store.ListStreams(ctx, store.StreamFilter{ClientID: c.ID})
	if err != nil {
		return nil, storeErr("listing streams", "", err)
	}
	out := make([]ssf.StreamConfig, 0, len(list))
	for _, s := range list {
		if s.ClientID != c.ID { // the filter is the store's; check anyway
			continue
		}
		t.touch(ctx, s.ID)
		out = append(out, *s.Config.Clone())
	}
	return out, nil
}

// UpdateStream implements [ssf.Manager] (SSF §8.1.1.3, SSF-STREAM-22): the
// Receiver-supplied members present in req replace the current ones; the
// Transmitter-supplied members present must equal the current values (400 otherwise;
// "aud" never changes). events_delivered is recomputed; a change to poll assigns the
// poll endpoint_url; a new push endpoint_url must satisfy [PushPolicy].
func (t *Transmitter) UpdateStream(ctx context.Context, req ssf.StreamUpdate) (*ssf.StreamConfig, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	if err := req.ValidateWith(t.validateOpts()); err != nil {
		return nil, badRequest(err)
	}
	return t.reconfigure(ctx, c, req.StreamID, req.Delivery != nil, req.Apply)
}

// ReplaceStream implements [ssf.Manager] (SSF §8.1.1.4, SSF-STREAM-24): the
// Receiver-supplied members become those of req, an absent one is deleted (an absent
// delivery means poll, as on create); Transmitter-supplied members present must equal
// the current values.
func (t *Transmitter) ReplaceStream(ctx context.Context, req ssf.StreamConfig) (*ssf.StreamConfig, error) {
	c, err := t.client(ctx)
	if err != nil {
		return nil, err
	}
	if req.StreamID == "" {
		return nil, ssf.Errorf(http.StatusBadRequest, "replace request: member \"stream_id\" is required (SSF §8.1.1.4)")
	}
	if err := req.ValidateRequestWith(t.validateOpts()); err != nil {
		return nil, badRequest(err)
	}
	return t.reconfigure(ctx, c, req.StreamID, req.Delivery != nil, req.ApplyReplace)
}

// reconfigure gives the client's stream the configuration apply computes from the
// current one (a 400 when apply refuses), completed by completeConfig (withDelivery:
// the request named a delivery), for UpdateStream and ReplaceStream.
func (t *Transmitter) reconfigure(ctx context.Context, c *Client, streamID string, withDelivery bool, apply func(current *ssf.StreamConfig) (*ssf.StreamConfig, error)) (*ssf.StreamConfig, error) {
	s, err := t.modify(ctx, c, streamID, func(s *store.Stream) (store.StreamChange, error) {
		next, err := apply(&s.Config)
		if err != nil {
			return store.StreamChange{}, badRequest(err)
		}
		if err := t.completeConfig(ctx, next, withDelivery); err != nil {
			return store.StreamChange{}, err
		}
		now := t.now()
		s.Config, s.UpdatedAt, s.LastActivityAt = *next, now, now
		return store.StreamChange{}, nil
	})
	if err != nil {
		return nil, err
	}
	return s.Config.Clone(), nil
}

// DeleteStream implements [ssf.Manager] (SSF §8.1.1.5). The store deletes the stream's
// subjects and outbox with it. Its id is never handed out again: ids are 130 random
// bits (AMB-23).
func (t *Transmitter) DeleteStream(ctx context.Context, streamID string) error {
	c, err := t.client(ctx)
	if err != nil {
		return err
	}
	s, err := t.ownStream(ctx, c, streamID)
	if err != nil {
		return err
	}
	if err := t.cfg.Store.DeleteStream(ctx, s.ID); err != nil {
		return storeErr("deleting the stream", streamID, err)
	}
	t.log.Info("stream deleted", "stream_id", s.ID, "client_id", c.ID)
	if h := t.cfg.Hooks.StreamDeleted; h != nil {
		h(s.ID, c.ID)
	}
	return nil
}
