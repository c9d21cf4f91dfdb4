// Package receiver is the Receiver role of the OpenID Shared Signals Framework: the
// other half of every exchange with a Transmitter.
//
// It implements:
//
//   - SSF §7 (discovery): [Discover] and [FetchMetadata] obtain and validate the
//     Transmitter Configuration Metadata (SSF §7.2; SSF-DISC-14..19), with a compatibility
//     mode for legacy locations and member names (vendors §5.1 item 7);
//   - SSF §8 (management API): [Client] implements ssf.Manager over HTTP against any SSF
//     Transmitter, with [Client.EnsureStream], static bearer and OAuth 2.0 client
//     credentials ([BearerToken], [ClientCredentials]; IOP-14, IOP-15);
//   - SSF §8.1.4 (verification): [VerificationStates] binds the state of each
//     verification request to its stream, against which Verification events are
//     checked.
package receiver
