package keys

import "errors"

// Errors returned (wrapped) by this package. Test for them with errors.Is; the wrapping
// error says which key and what exactly was wrong.
var (
	// ErrUnsupportedAlgorithm: the algorithm is not one this package signs or encrypts
	// with (see [Generate] and [GenerateEncryptionKey] for the supported ones).
	ErrUnsupportedAlgorithm = errors.New("keys: unsupported algorithm")

	// ErrAlgorithmMismatch: an explicit algorithm does not fit the key type (e.g. ES256
	// with an RSA key, or ES384 with a P-256 key).
	ErrAlgorithmMismatch = errors.New("keys: algorithm does not fit the key type")

	// ErrUnsupportedKey: the key type or curve is not supported (e.g. P-224, X25519,
	// multi-prime RSA, RSA over 4096 bits).
	ErrUnsupportedKey = errors.New("keys: unsupported key type or curve")

	// ErrWeakKey: an RSA key shorter than 2048 bits (CAEP-IOP §2.6, IOP-16).
	ErrWeakKey = errors.New("keys: RSA key shorter than 2048 bits")

	// ErrNotPrivateKey: a public key (or certificate) was given where a private key is
	// needed.
	ErrNotPrivateKey = errors.New("keys: public key where a private key is needed")

	// ErrKeyUse: the key's "use" (or "key_ops") says it is for another purpose, e.g. an
	// encryption key ("use":"enc") given as a signing key.
	ErrKeyUse = errors.New("keys: key use does not fit")

	// ErrInvalidPEM: the data holds no usable PEM private key block.
	ErrInvalidPEM = errors.New("keys: invalid PEM")

	// ErrInvalidJWK: the data is not a well-formed JWK (RFC 7517 §4).
	ErrInvalidJWK = errors.New("keys: invalid JWK")

	// ErrInvalidJWKS: the data is not a well-formed JWK Set (RFC 7517 §5).
	ErrInvalidJWKS = errors.New("keys: invalid JWK Set")

	// ErrSymmetricKey: a symmetric ("oct") key where only asymmetric keys are allowed
	// (SEC-2: no HMAC with published keys).
	ErrSymmetricKey = errors.New("keys: symmetric (oct) key not allowed")

	// ErrPrivateKeyMaterial: a JWK Set for verification contains private key members; the
	// whole set is refused because publishing it leaked the private key.
	ErrPrivateKeyMaterial = errors.New("keys: private key material in a public JWK Set")

	// ErrStaleKeySet: a remote JWK Set expired longer ago than RemoteOptions.MaxStale
	// and could not be refreshed since; its keys are no longer used. It is not an
	// error of the SET being verified: a receiver answers it as a temporary failure.
	ErrStaleKeySet = errors.New("keys: cached JWK Set too stale to use")

	// ErrDuplicateKeyID: two signing keys of one [SigningKeys] share a kid.
	ErrDuplicateKeyID = errors.New("keys: duplicate kid")

	// ErrActiveKey: the active signing key cannot be removed; rotate first.
	ErrActiveKey = errors.New("keys: cannot remove the active signing key")

	// ErrInsecureURL: a jwks_uri that is not https (SSF §7.1, SSF-DISC-3), or a redirect
	// that downgrades to http.
	ErrInsecureURL = errors.New("keys: jwks_uri must use https")

	// ErrRedirectRefused: the jwks_uri server redirected to another host (SEC-17), or
	// redirected too often.
	ErrRedirectRefused = errors.New("keys: redirect refused")

	// ErrResponseTooLarge: the jwks_uri response is larger than
	// [RemoteOptions].MaxResponseBytes.
	ErrResponseTooLarge = errors.New("keys: JWK Set response too large")

	// ErrFetch: fetching the jwks_uri failed (transport error, timeout, unexpected HTTP
	// status or an invalid body; the wrapped errors say which).
	ErrFetch = errors.New("keys: fetching the JWK Set failed")

	// ErrClosed: the [RemoteKeySet] was closed and cannot fetch any more.
	ErrClosed = errors.New("keys: remote key set closed")
)
