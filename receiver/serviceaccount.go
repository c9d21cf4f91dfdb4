package receiver

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// GoogleRISCAudience is the "aud" of the service-account JWT that authorizes calls to
// Google's RISC management API (vendors §2.3).
const GoogleRISCAudience = "https://risc.googleapis.com/google.identity.risc.v1beta.RiscManagementService"

// serviceAccountJWTLifetime is the lifetime Google documents for a self-signed
// service-account JWT: exp = iat + 3600 (vendors §2.3).
const serviceAccountJWTLifetime = time.Hour

// minRSABits is the smallest RSA modulus accepted in a service-account key. Google
// issues 2048-bit keys.
const minRSABits = 2048

// ErrInvalidServiceAccountKey is wrapped by every error of [ParseServiceAccountKey]:
// the JSON key file cannot be used. The wrapping error says which member is wrong; it
// never quotes the private key.
var ErrInvalidServiceAccountKey = errors.New("receiver: invalid Google service-account key")

// ServiceAccountKey is a Google service-account key: the members of the JSON key file
// Google Cloud issues (type "service_account") that a self-signed JWT needs. It prints
// with the private key redacted.
type ServiceAccountKey struct {
	// ClientEmail is "client_email": the service account's email address, the iss and
	// sub of the JWT.
	ClientEmail string
	// PrivateKeyID is "private_key_id": the kid of the JWT header.
	PrivateKeyID string
	// PrivateKey is "private_key", an RSA key in a PKCS #8 PEM block.
	PrivateKey *rsa.PrivateKey
	// ProjectID is "project_id" (informational; may be empty).
	ProjectID string
	// ClientID is "client_id", the service account's numeric id (informational; may
	// be empty).
	ClientID string
}

// String describes the key without the private key.
func (k *ServiceAccountKey) String() string {
	return fmt.Sprintf("receiver.ServiceAccountKey{client_email: %q, private_key_id: %q, private_key: [redacted]}", k.ClientEmail, k.PrivateKeyID)
}

// GoString describes the key without the private key.
func (k *ServiceAccountKey) GoString() string { return k.String() }

// serviceAccountFile is the JSON key file. Members not listed are ignored.
type serviceAccountFile struct {
	Type         *string `json:"type"`
	ProjectID    string  `json:"project_id"`
	PrivateKeyID string  `json:"private_key_id"`
	PrivateKey   string  `json:"private_key"`
	ClientEmail  string  `json:"client_email"`
	ClientID     string  `json:"client_id"`
}

// ParseServiceAccountKey decodes a Google service-account JSON key file: "type" must be
// "service_account"; "client_email", "private_key_id" and "private_key" are required;
// the private key must be one PEM block "PRIVATE KEY" holding a PKCS #8 RSA key of at
// least 2048 bits. Other members are ignored. Every error wraps
// [ErrInvalidServiceAccountKey] and names the member at fault.
func ParseServiceAccountKey(data []byte) (*ServiceAccountKey, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidServiceAccountKey, fmt.Sprintf(format, args...))
	}
	var f serviceAccountFile
	if err := json.Unmarshal(data, &f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, bad("member %q must be a string", te.Field)
		}
		return nil, bad("not a JSON object: %v", err)
	}
	switch {
	case f.Type == nil:
		return nil, bad(`member "type" is missing (want "service_account")`)
	case *f.Type != "service_account":
		return nil, bad(`"type" is %q, not "service_account" (a service-account key file is needed, not an OAuth client or user credential)`, truncate(*f.Type, 64))
	}
	var missing []string
	for _, m := range []struct{ name, value string }{
		{"client_email", f.ClientEmail},
		{"private_key_id", f.PrivateKeyID},
		{"private_key", f.PrivateKey},
	} {
		if m.value == "" {
			missing = append(missing, m.name)
		}
	}
	if len(missing) > 0 {
		return nil, bad("member(s) %s missing or empty", strings.Join(missing, ", "))
	}
	if !strings.Contains(f.ClientEmail, "@") {
		return nil, bad("client_email %q is not an email address", truncate(f.ClientEmail, 128))
	}
	if strings.ContainsAny(f.PrivateKeyID, "\"\\\x00\r\n") {
		return nil, bad("private_key_id contains a quote, backslash or control character")
	}
	key, err := parseRSAPrivateKeyPEM(f.PrivateKey)
	if err != nil {
		return nil, bad("private_key: %v", err)
	}
	return &ServiceAccountKey{
		ClientEmail:  f.ClientEmail,
		PrivateKeyID: f.PrivateKeyID,
		PrivateKey:   key,
		ProjectID:    f.ProjectID,
		ClientID:     f.ClientID,
	}, nil
}

// parseRSAPrivateKeyPEM decodes one PKCS #8 "PRIVATE KEY" PEM block holding an RSA key.
// Its errors never quote the key.
func parseRSAPrivateKeyPEM(s string) (*rsa.PrivateKey, error) {
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("PEM block %q, want \"PRIVATE KEY\" (PKCS #8)", truncate(block.Type, 64))
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, errors.New("data after the PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("not a valid PKCS #8 private key")
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key, want RSA (Google signs service-account JWTs with RS256)", k)
	}
	if bits := rk.N.BitLen(); bits < minRSABits {
		return nil, fmt.Errorf("an RSA key of %d bits, want at least %d", bits, minRSABits)
	}
	return rk, nil
}

// ServiceAccountCredentialsConfig configures [NewServiceAccountCredentials].
type ServiceAccountCredentialsConfig struct {
	// Key is the service-account key (required; see [ParseServiceAccountKey]).
	Key *ServiceAccountKey
	// Audience is the "aud" of the JWT. Empty means [GoogleRISCAudience].
	Audience string
	// ExpiryMargin is how long before its expiry a JWT is replaced by a new one. Zero
	// means 5 minutes; at most half the one-hour lifetime.
	ExpiryMargin time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// ServiceAccountCredentials authorize calls to Google's RISC management API with a JWT
// self-signed by a Google service account, sent as a bearer token (vendors §2.3,
// §5.1 item 8(c)): header alg RS256, typ JWT, kid the private key id; claims iss = sub =
// the service-account email, aud = Audience, iat, exp = iat + 3600. No token endpoint
// is involved.
//
// The JWT is cached and shared by concurrent callers until ExpiryMargin before it
// expires; [ServiceAccountCredentials.Invalidate] forces a new one. It implements
// [Credentials] and [Refresher], is safe for concurrent use, and never prints the key
// or the token.
type ServiceAccountCredentials struct {
	key    *ServiceAccountKey
	aud    string
	margin time.Duration
	now    func() time.Time

	mu        sync.Mutex
	header    string    // "Bearer <jwt>"; empty when none is cached
	refreshAt time.Time // when the cached JWT is replaced
}

var (
	_ Credentials = (*ServiceAccountCredentials)(nil)
	_ Refresher   = (*ServiceAccountCredentials)(nil)
)

// NewServiceAccountCredentials checks cfg and returns the credentials. It signs nothing
// yet.
func NewServiceAccountCredentials(cfg ServiceAccountCredentialsConfig) (*ServiceAccountCredentials, error) {
	k := cfg.Key
	if k == nil {
		return nil, errors.New("receiver: ServiceAccountCredentialsConfig.Key is required")
	}
	if k.ClientEmail == "" || k.PrivateKeyID == "" || k.PrivateKey == nil {
		return nil, fmt.Errorf("%w: ClientEmail, PrivateKeyID and PrivateKey are required", ErrInvalidServiceAccountKey)
	}
	c := &ServiceAccountCredentials{
		key:    k,
		aud:    cfg.Audience,
		margin: min(orDefault(cfg.ExpiryMargin, 5*time.Minute), serviceAccountJWTLifetime/2),
		now:    cfg.Now,
	}
	if c.aud == "" {
		c.aud = GoogleRISCAudience
	}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// String describes the credentials without the key or the token.
func (c *ServiceAccountCredentials) String() string {
	return fmt.Sprintf("receiver.ServiceAccountCredentials{client_email: %q, private_key_id: %q, aud: %q}", c.key.ClientEmail, c.key.PrivateKeyID, c.aud)
}

// GoString describes the credentials without the key or the token.
func (c *ServiceAccountCredentials) GoString() string { return c.String() }

// Authorization returns "Bearer <jwt>" with the cached JWT, or a new one when the cached
// one is within ExpiryMargin of its expiry.
func (c *ServiceAccountCredentials) Authorization(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.header != "" && now.Before(c.refreshAt) {
		return c.header, nil
	}
	jwt, err := c.sign(now)
	if err != nil {
		return "", err
	}
	c.header = "Bearer " + jwt
	c.refreshAt = now.Add(serviceAccountJWTLifetime - c.margin)
	return c.header, nil
}

// Invalidate forgets the cached JWT.
func (c *ServiceAccountCredentials) Invalidate() {
	c.mu.Lock()
	c.header = ""
	c.mu.Unlock()
}

// jwtHeader and jwtClaims fix the member order of the JWT.
type jwtHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

type jwtClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
}

// sign builds and signs the JWT (JWS compact serialization, RFC 7515 §7.1; RS256 =
// RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3).
func (c *ServiceAccountCredentials) sign(now time.Time) (string, error) {
	h, err := json.Marshal(jwtHeader{Alg: "RS256", Typ: "JWT", Kid: c.key.PrivateKeyID})
	if err != nil {
		return "", err
	}
	iat := now.Unix()
	p, err := json.Marshal(jwtClaims{
		Iss: c.key.ClientEmail, Sub: c.key.ClientEmail, Aud: c.aud,
		Iat: iat, Exp: iat + int64(serviceAccountJWTLifetime/time.Second),
	})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signingInput := enc.EncodeToString(h) + "." + enc.EncodeToString(p)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, c.key.PrivateKey, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("receiver: signing the service-account JWT for %s: %w", c.key.ClientEmail, err)
	}
	return signingInput + "." + enc.EncodeToString(sig), nil
}
