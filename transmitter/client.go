package transmitter

import (
	"context"
	"slices"

	"github.com/sigshare/sigshare/set"
)

// OAuth scopes of the SSF APIs (CAEP Interoperability Profile §2.7.2, IOP-14).
const (
	// ScopeManage is required for every stream-management operation that changes
	// something, and accepted for every read.
	ScopeManage = "ssf.manage"
	// ScopeRead is accepted for the read operations: read stream(s), read status.
	ScopeRead = "ssf.read"
	// ScopePoll is accepted by the Transmitter-managed poll endpoint.
	ScopePoll = "ssf.manage.poll"
)

// allScopes are the scopes a static-token client holds.
var allScopes = []string{ScopeManage, ScopeRead, ScopePoll}

// ClientPolicy is what a Receiver client may do and how its streams look.
type ClientPolicy struct {
	// Audience is the "aud" of the client's streams and SETs (SSF §8.1.1). Nil: the
	// client id. A Receiver that sends "aud" in a create request must send values from
	// this list.
	Audience []string
	// SingleStream allows the client one stream only: a second create is answered 409
	// (SSF-STREAM-17). Zero: any number of streams.
	SingleStream bool
	// VerifyOnCreate queues a Transmitter-initiated verification SET, without "state",
	// right after the client creates a stream (SSF-VERIFY-6; Apple-bound Transmitters do
	// this, vendors §5.2 item 6). Zero: off.
	VerifyOnCreate bool
	// Profile is the SET profile of the streams the client creates (vendors §5.2 item 1):
	// set.ProfileFinal (SSF 1.0 Final, the zero value), set.ProfileHybrid or
	// set.ProfileLegacy, for receivers built to earlier drafts. An operator can change a
	// stream's profile later ([Transmitter.SetProfile]).
	Profile set.Profile
}

// Client is an authenticated Receiver client: the identity every [ssf.Manager] call of
// [Transmitter] acts for. A client owns the streams it creates and sees no other.
type Client struct {
	// ID identifies the client (the OAuth client_id, or the name of a static token).
	// Two requests are from "the same Receiver" (SSF §8.1.1.1, AMB-13) when their
	// clients have the same ID.
	ID string
	// Scopes are the OAuth scopes the client was granted for this request.
	Scopes []string
	ClientPolicy
}

// HasScope reports whether c holds one of scopes.
func (c *Client) HasScope(scopes ...string) bool {
	for _, s := range scopes {
		if slices.Contains(c.Scopes, s) {
			return true
		}
	}
	return false
}

// audience returns the client's stream audience: Audience, or the client id.
func (c *Client) audience() []string {
	if len(c.Audience) > 0 {
		return slices.Clone(c.Audience)
	}
	return []string{c.ID}
}

type clientKey struct{}

// WithClient returns a copy of ctx carrying the authenticated client c; the HTTP layer
// calls it after authentication. [Transmitter]'s ssf.Manager methods act for this
// client.
func WithClient(ctx context.Context, c *Client) context.Context {
	return context.WithValue(ctx, clientKey{}, c)
}

// ClientFromContext returns the client set by [WithClient], or nil.
func ClientFromContext(ctx context.Context) *Client {
	c, _ := ctx.Value(clientKey{}).(*Client)
	return c
}
