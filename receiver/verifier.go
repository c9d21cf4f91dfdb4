package receiver

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
)

// VerifierOptions configures [NewStreamVerifier]. The zero value verifies strictly
// against SSF 1.0 Final with the remote key set's production defaults.
type VerifierOptions struct {
	// Compatibility accepts legacy SETs: every tolerance of set.FullCompatibility (a
	// subject inside the event, subject_type, legacy event URIs, typ JWT or missing,
	// millisecond timestamps, string reasons, numeric txn, …). Each tolerance a SET
	// needed is recorded in its Token.Leniency. Off by default.
	Compatibility bool
	// IssuerIgnoreTrailingSlash accepts an "iss" that differs from the issuer only by a
	// trailing "/" (Google).
	IssuerIgnoreTrailingSlash bool
	// Audience overrides the audiences a SET's "aud" must contain one of. Empty means
	// the stream's aud (SSF §4.1.8).
	Audience []string
	// Algorithms is the JWS algorithm allow-list; empty means set.DefaultAlgorithms.
	Algorithms []string
	// SubjectMembers are the Complex Subject members this Receiver can process; a SET
	// whose sub_id holds a critical member (the metadata's critical_subject_members)
	// outside them is discarded (SSF §3.6). Nil means set.DefaultSubjectMembers.
	SubjectMembers []string
	// DecryptionKeys open encrypted SETs.
	DecryptionKeys []*keys.DecryptionKey
	// Registry decodes events; nil means ssf.DefaultRegistry().
	Registry *event.Registry
	// RemoteKeys configures the remote key set of the metadata's jwks_uri (caching,
	// rate-limited refresh on an unknown kid: a key rotation is picked up without a
	// restart).
	RemoteKeys keys.RemoteOptions
	// Logger is given to the remote key set when RemoteKeys.Logger is nil.
	Logger *slog.Logger
}

// NewStreamVerifier builds the SET verifier for one stream of a Transmitter: keys from
// the metadata's jwks_uri (SSF §4.1.4, a *keys.RemoteKeySet the caller must Close),
// issuer the metadata issuer, which the stream's iss must equal (SSF §4.1.6, SEC-4),
// audiences the stream's aud (SSF §4.1.8), critical_subject_members from the metadata
// (SSF §3.6).
func NewStreamVerifier(md *ssf.Metadata, stream *ssf.StreamConfig, opts VerifierOptions) (*set.Verifier, *keys.RemoteKeySet, error) {
	if md == nil || stream == nil {
		return nil, nil, errors.New("receiver: NewStreamVerifier needs the metadata and the stream configuration")
	}
	if md.JWKSURI == "" {
		return nil, nil, errors.New("receiver: the transmitter metadata has no jwks_uri: its SETs cannot be verified (SSF §7.1, AMB-26)")
	}
	if stream.Issuer != md.Issuer && !(opts.IssuerIgnoreTrailingSlash && sameIssuerModSlash(stream.Issuer, md.Issuer)) {
		return nil, nil, fmt.Errorf("%w: stream %q names iss %q, the metadata issuer is %q (SSF §8.1.1)", ErrIssuerMismatch, stream.StreamID, stream.Issuer, md.Issuer)
	}
	aud := opts.Audience
	if len(aud) == 0 {
		aud = stream.Audience
	}
	ro := opts.RemoteKeys
	if ro.Logger == nil {
		ro.Logger = opts.Logger
	}
	ks, err := keys.NewRemoteKeySet(md.JWKSURI, ro)
	if err != nil {
		return nil, nil, err
	}
	cfg := set.Config{
		Issuer:                         md.Issuer,
		IssuerTrailingSlashInsensitive: opts.IssuerIgnoreTrailingSlash,
		Audiences:                      aud,
		Algorithms:                     opts.Algorithms,
		Registry:                       opts.Registry,
		CriticalSubjectMembers:         md.CriticalSubjectMembers,
		SubjectMembers:                 opts.SubjectMembers,
		DecryptionKeys:                 opts.DecryptionKeys,
	}
	if opts.Compatibility {
		cfg.Compatibility = set.FullCompatibility()
	}
	v, err := set.NewVerifier(ks, cfg)
	if err != nil {
		_ = ks.Close()
		return nil, nil, err
	}
	return v, ks, nil
}

// DecodeOptions returns the options a [Worker] decodes recorded SETs with, matching
// what NewStreamVerifier verifies with (registry, compatibility, decryption keys).
func (o VerifierOptions) DecodeOptions() set.DecodeOptions {
	d := set.DecodeOptions{Registry: o.Registry, DecryptionKeys: o.DecryptionKeys}
	if o.Compatibility {
		d.Compatibility = set.FullCompatibility()
	}
	return d
}
