// Package keys holds the keys of a Shared Signals transmitter and the key sets a receiver
// verifies with.
//
// A transmitter signs Security Event Tokens with a [SigningKey] and publishes the public
// halves of its [SigningKeys] (the active key plus retired keys still valid during a
// rotation) as a JWK Set at its jwks_uri (SSF §4.1.4, §7.1; SET-18, IOP-4). A receiver
// resolves verification keys through the [KeySet] interface: a [RemoteKeySet] fetches and
// caches the transmitter's jwks_uri, a [StaticKeySet] holds a configured JWK Set, and
// [SigningKeys] itself is a KeySet so a transmitter can verify its own SETs in process.
// A [DecryptionKey] is a receiver's key for SETs encrypted with JWE (RFC 8417 §5.1, SEC-3).
//
// Specifications implemented:
//
//   - RFC 7517 (JSON Web Key): JWK and JWK Set encoding; §5: keys of a JWK Set that use an
//     unknown "kty", miss required members or have values out of the supported range
//     are ignored (and reported), not fatal; §4.5: duplicate "kid" values are allowed and
//     [KeySet.Keys] returns every key carrying the kid, in document order.
//   - RFC 7638 (JWK Thumbprint): a key's default "kid" is the base64url SHA-256
//     thumbprint of its public key, so the same key always gets the same kid.
//   - SSF 1.0 §4.1.4 and §7.1 (jwks_uri; SET-18, SSF-DISC-3): verification keys come from
//     the transmitter's jwks_uri, which MUST be https.
//   - CAEP Interoperability Profile §2.6 (IOP-16): RSA keys shorter than 2048 bits are
//     refused everywhere: when generating, loading, and in published key sets.
//
// Security decisions (SEC-2, SEC-17):
//
//   - A JWK Set used for verification holds public asymmetric keys only. A symmetric
//     ("oct") key or a key with private members (d, p, q, dp, dq, qi, oth, k, priv) makes
//     the whole set invalid: such a set is a leak of secret material, and HMAC with a
//     published key would let anyone forge SETs.
//   - Keys whose "use" is not "sig", whose "key_ops" lack "verify", or whose "alg" does
//     not fit the key type are not verification keys and are ignored (and reported).
//   - Remote key sets fetch only https URLs, never follow a redirect to another host,
//     bound the response size and the time, and rate-limit refreshes caused by unknown
//     kids, whose value an attacker controls.
//   - Nothing in this package logs or returns private key material: errors name the key
//     (kid, type, size) and the offending member names, never their values, and
//     [SigningKey] and [DecryptionKey] print and log as their kid and algorithm only.
package keys
