package receiver

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/sigshare/sigshare/ssf"
)

// EnsureStream returns a stream configured as req asks, creating it only when the
// Receiver has no stream that can serve: it is idempotent, so a Receiver calls it at
// every start without piling up streams.
//
//  1. It lists the Receiver's streams (SSF §8.1.1.2) and picks the one that matches req
//     (see below). A Transmitter that cannot list (an error other than 401, 403 or a
//     context error) is treated as having no stream.
//  2. Without a match it creates the stream (SSF §8.1.1.1). When the Transmitter answers
//     409 Conflict (one stream per Receiver, SSF-STREAM-17) it lists again and takes the
//     Receiver's only stream, whatever its delivery; several streams with none matching
//     is an error wrapping ssf.ErrConflict that lists their ids.
//  3. When the stream picked differs from req in a Receiver-supplied member that req
//     sets (delivery method, push endpoint_url, a non-empty authorization_header, the
//     set of events_requested, a non-empty description), it is updated with PATCH (SSF
//     §8.1.1.3) to req's values; members req leaves absent are left as they are. A 202
//     answer is returned as an error matching ssf.ErrAccepted (call again later).
//
// Matching: same effective delivery method (absent means poll, AMB-4); for push the same
// endpoint_url. A single such stream matches whatever its description; among several,
// the one with req's description wins, and when none or more than one has it EnsureStream
// does not guess (nor create yet another stream): it returns an error wrapping
// ssf.ErrConflict that lists their ids. created reports whether step 2 created the stream.
func (c *Client) EnsureStream(ctx context.Context, req ssf.StreamConfig) (cfg *ssf.StreamConfig, created bool, err error) {
	want := req.ReceiverSupplied()
	if err := want.ValidateRequestWith(ssf.ValidateOptions{InsecureAllowHTTP: c.insecure}); err != nil {
		return nil, false, badRequest("ensure stream", "", err)
	}
	streams, err := c.ListStreams(ctx)
	if err != nil {
		if !listUnsupported(err) {
			return nil, false, err
		}
		streams = nil
	}
	existing, ambiguous := matchStream(streams, &want)
	if existing == nil && ambiguous == nil {
		cfg, err := c.CreateStream(ctx, want)
		if err == nil {
			return cfg, true, nil
		}
		if !errors.Is(err, ssf.ErrConflict) {
			return nil, false, err
		}
		streams, lerr := c.ListStreams(ctx)
		if lerr != nil {
			return nil, false, fmt.Errorf("%w; then listing the existing stream failed: %w", err, lerr)
		}
		existing, ambiguous = matchStream(streams, &want)
		if existing == nil && ambiguous == nil && len(streams) == 1 {
			existing = &streams[0]
		}
		if existing == nil {
			if len(streams) == 0 {
				return nil, false, fmt.Errorf("%w; but the transmitter lists no stream of this receiver", err)
			}
			ambiguous = streams
		}
	}
	if existing == nil {
		ids := make([]string, len(ambiguous))
		for i := range ambiguous {
			ids[i] = ambiguous[i].StreamID
		}
		return nil, false, &RequestError{Op: "ensure stream", Err: fmt.Errorf("%w: the receiver has streams %q and none, or more than one, matches the request", ssf.ErrConflict, ids)}
	}
	upd, changed := reconcile(existing, &want)
	if !changed {
		return existing, false, nil
	}
	cfg, err = c.UpdateStream(ctx, upd)
	if err != nil {
		return nil, false, err
	}
	return cfg, false, nil
}

// listUnsupported reports whether a list error means "cannot list here" rather than a
// failure EnsureStream must report (credentials, permissions, cancellation).
func listUnsupported(err error) bool {
	switch {
	case errors.Is(err, ssf.ErrUnauthorized), errors.Is(err, ssf.ErrForbidden),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, ErrIssuerMismatch), errors.Is(err, ErrNoEndpoint):
		return false
	}
	_, isHTTP := errors.AsType[*ssf.Error](err)
	return isHTTP
}

// matchStream returns the stream that matches want, or the candidates when several
// match equally (nil, nil: none).
func matchStream(streams []ssf.StreamConfig, want *ssf.StreamConfig) (*ssf.StreamConfig, []ssf.StreamConfig) {
	method := want.EffectiveDeliveryMethod()
	var same []ssf.StreamConfig
	for i := range streams {
		s := &streams[i]
		if s.EffectiveDeliveryMethod() != method {
			continue
		}
		if method == ssf.DeliveryPush && (s.Delivery == nil || want.Delivery == nil || s.Delivery.EndpointURL != want.Delivery.EndpointURL) {
			continue
		}
		same = append(same, *s)
	}
	switch len(same) {
	case 0:
		return nil, nil
	case 1:
		return &same[0], nil
	}
	var byDesc []ssf.StreamConfig
	for _, s := range same {
		if s.Description == want.Description {
			byDesc = append(byDesc, s)
		}
	}
	if len(byDesc) == 1 {
		return &byDesc[0], nil
	}
	return nil, same
}

// reconcile returns the PATCH that makes cur's Receiver-supplied members equal want's.
func reconcile(cur, want *ssf.StreamConfig) (ssf.StreamUpdate, bool) {
	u := ssf.StreamUpdate{StreamID: cur.StreamID}
	changed := false
	if want.EventsRequested != nil && !sameStrings(cur.EventsRequested, want.EventsRequested) {
		u.EventsRequested = slices.Clone(want.EventsRequested)
		changed = true
	}
	if want.Description != cur.Description && want.Description != "" {
		d := want.Description
		u.Description = &d
		changed = true
	}
	wd := want.Delivery
	if wd == nil {
		wd = &ssf.Delivery{Method: ssf.DeliveryPoll}
	}
	cd := cur.Delivery
	switch {
	case cd == nil || ssf.NormalizeDeliveryMethod(cd.Method) != ssf.NormalizeDeliveryMethod(wd.Method):
		changed = true
	case wd.IsPoll():
		// The poll endpoint is the Transmitter's: nothing of the Receiver's to compare.
		wd = nil
	case cd.EndpointURL != wd.EndpointURL || (wd.AuthorizationHeader != "" && cd.AuthorizationHeader != wd.AuthorizationHeader):
		changed = true
	default:
		wd = nil
	}
	if wd != nil {
		d := *wd
		if d.IsPoll() {
			d.EndpointURL = ""
		}
		u.Delivery = &d
	}
	return u, changed
}

// sameStrings compares two string lists as sets.
func sameStrings(a, b []string) bool {
	for _, v := range a {
		if !slices.Contains(b, v) {
			return false
		}
	}
	for _, v := range b {
		if !slices.Contains(a, v) {
			return false
		}
	}
	return true
}
