package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
)

func (a *app) tokenCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Decode, verify and sign Security Event Tokens",
		Long: `Inspect and make Security Event Tokens (SETs, RFC 8417): the signed JWTs that carry
one security event each. A SET argument may be given as the argument, or read from
stdin when the argument is "-" or absent.`,
		Args: noArgs,
	}
	cmd.AddCommand(a.tokenDecodeCommand(), a.tokenVerifyCommand(), a.tokenSignCommand())
	return cmd
}

// readSET returns the SET of the argument or stdin.
func (a *app) readSET(args []string) (string, error) {
	var raw string
	if len(args) == 0 || args[0] == "-" {
		data, err := a.readFileArg("-")
		if err != nil {
			return "", fmt.Errorf("reading the SET from stdin: %w", err)
		}
		raw = string(data)
	} else {
		raw = args[0]
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", usagef("no SET given: pass it as the argument or on stdin")
	}
	return raw, nil
}

// tokenView is what decode and verify print.
type tokenView struct {
	Verified  bool            `json:"verified"`
	Header    json.RawMessage `json:"header"`
	Claims    json.RawMessage `json:"claims"`
	EventType string          `json:"event_type,omitempty"`
	EventName string          `json:"event_name,omitempty"`
	Subject   json.RawMessage `json:"subject,omitempty"`
	Event     json.RawMessage `json:"event,omitempty"`
	Leniency  string          `json:"compatibility_tolerances,omitempty"`
	Problem   string          `json:"problem,omitempty"`
}

// rawParts decodes the JOSE header and the claims of a compact JWS without checking
// anything; for a JWE only the header is readable.
func rawParts(raw string) (header, claims json.RawMessage, err error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 && len(parts) != 5 {
		return nil, nil, fmt.Errorf("not a compact JWS or JWE: %d dot-separated parts, want 3 (or 5)", len(parts))
	}
	h, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || !json.Valid(h) {
		return nil, nil, errors.New("the JOSE header is not base64url-encoded JSON")
	}
	if len(parts) == 5 {
		return h, nil, nil
	}
	c, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil || !json.Valid(c) {
		return h, nil, errors.New("the claims are not base64url-encoded JSON")
	}
	return h, c, nil
}

// view builds the printed form of a token.
func view(header, claims json.RawMessage, tok *set.Token) tokenView {
	v := tokenView{Header: header, Claims: claims}
	if tok == nil {
		return v
	}
	if tok.Event != nil {
		v.EventType = tok.Event.Type()
		v.EventName = shortName(v.EventType)
		if p, err := json.Marshal(tok.Event); err == nil {
			v.Event = p
		}
	}
	if tok.Subject != nil {
		if s, err := json.Marshal(tok.Subject); err == nil {
			v.Subject = s
		}
	}
	if tok.Leniency != 0 {
		v.Leniency = tok.Leniency.String()
	}
	return v
}

func (a *app) tokenDecodeCommand() *cobra.Command {
	var compat bool
	cmd := &cobra.Command{
		Use:   "decode [SET]",
		Short: "Show a SET's header, claims, event and subject (without verifying it)",
		Long: `Decode a SET and print its JOSE header, claims, event type, subject and event payload
as JSON. The signature is NOT checked ("verified": false): use "sigshare token verify"
before trusting anything in it. When the claims break a rule of the SSF SET profile,
"problem" says which.`,
		Example: `  sigshare token decode eyJhbGciOiJSUzI1NiIs...
  pbpaste | sigshare token decode`,
		Args: maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := a.readSET(args)
			if err != nil {
				return err
			}
			header, claims, err := rawParts(raw)
			if err != nil {
				return fmt.Errorf("cannot decode the SET: %w", err)
			}
			opts := set.DecodeOptions{Registry: ssf.DefaultRegistry()}
			if compat {
				opts.Compatibility = set.FullCompatibility()
			}
			_, tok, perr := set.ParseUnverified(raw, opts)
			v := view(header, claims, tok)
			if perr != nil {
				v.Problem = perr.Error()
			}
			return writeJSON(a.stdout, v)
		},
	}
	cmd.Flags().BoolVar(&compat, "compat", false, "accept legacy SET shapes (compatibility mode) and report the tolerances used")
	return cmd
}

func (a *app) tokenVerifyCommand() *cobra.Command {
	var jwks, issuer string
	var audience, caFiles []string
	var compat, insecureHTTP bool
	cmd := &cobra.Command{
		Use:   "verify [SET]",
		Short: "Verify a SET against a JWK Set, issuer and audience",
		Long: `Verify a SET as a receiver does (signature, issuer, audience, claims, event payload;
SSF §4, RFC 8417) and print it. The keys come from --jwks: the transmitter's jwks_uri
(https URL) or a JWK Set file. A rejected SET is reported with its RFC 8935 error code
(invalid_key, invalid_issuer, invalid_audience, invalid_request) and exits 1.`,
		Example: `  sigshare token verify --jwks https://ssf.example.com/jwks.json \
      --issuer https://ssf.example.com --audience app1 eyJhbGciOiJSUzI1NiIs...`,
		Args: maxOneArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if jwks == "" {
				return usagef("--jwks is required: the transmitter's JWK Set URL or file")
			}
			if issuer == "" {
				return usagef("--issuer is required: the transmitter's issuer")
			}
			if len(audience) == 0 {
				return usagef("--audience is required: a value the SET's aud must contain")
			}
			raw, err := a.readSET(args)
			if err != nil {
				return err
			}
			ks, closeKS, err := a.keySet(jwks, caFiles, insecureHTTP)
			if err != nil {
				return err
			}
			defer closeKS()
			cfg := set.Config{Issuer: issuer, Audiences: audience}
			if compat {
				cfg.Compatibility = set.FullCompatibility()
			}
			v, err := set.NewVerifier(ks, cfg)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			tok, verr := v.Verify(ctx, raw)
			if verr != nil && !errors.Is(verr, set.ErrDiscard) {
				var se *set.Error
				if errors.As(verr, &se) {
					return fmt.Errorf("the SET is not valid: %s: %s", se.Code, se.Description)
				}
				return fmt.Errorf("the SET could not be verified: %w", verr)
			}
			header, claims, _ := rawParts(raw)
			out := view(header, claims, tok)
			out.Verified = true
			if verr != nil {
				out.Problem = verr.Error()
			}
			return writeJSON(a.stdout, out)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&jwks, "jwks", "", "JWK Set: an https URL (the transmitter's jwks_uri) or a file")
	fl.StringVar(&issuer, "issuer", "", "the issuer the SET's iss must equal")
	fl.StringSliceVar(&audience, "audience", nil, "audience values, one of which the SET's aud must contain")
	fl.BoolVar(&compat, "compat", false, "accept legacy SET shapes (compatibility mode)")
	fl.StringSliceVar(&caFiles, "ca-file", nil, "extra CA certificates (PEM) to trust for the JWKS URL")
	fl.BoolVar(&insecureHTTP, "insecure-http", false, "allow an http:// JWKS URL (loopback development only)")
	return cmd
}

// keySet returns the key set of a JWKS URL or file.
func (a *app) keySet(src string, caFiles []string, insecure bool) (keys.KeySet, func(), error) {
	if strings.HasPrefix(src, "https://") || strings.HasPrefix(src, "http://") {
		client, err := clientForCAFiles(caFiles, 10*time.Second)
		if err != nil {
			return nil, nil, err
		}
		if strings.HasPrefix(src, "http://") && !insecure {
			return nil, nil, usagef("--jwks %s is not https (add --insecure-http for loopback development)", src)
		}
		r, err := keys.NewRemoteKeySet(src, keys.RemoteOptions{HTTPClient: client, AllowInsecureHTTP: insecure})
		if err != nil {
			return nil, nil, err
		}
		return r, func() { r.Close() }, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the JWK Set: %w", err)
	}
	ks, err := keys.ParseJWKS(data)
	if err != nil {
		return nil, nil, fmt.Errorf("JWK Set %s: %w", src, err)
	}
	return ks, func() {}, nil
}

func (a *app) tokenSignCommand() *cobra.Command {
	var keyFile, alg, claims, issuer string
	var audience []string
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign a SET from JSON claims (for testing receivers)",
		Long: `Sign a SET from a JSON claims set with a private key and print it in compact form.
The claims must hold "iss", "aud", one event in "events" and, for SSF, "sub_id";
"iat" and "jti" are filled in when absent, and --issuer / --audience set "iss" / "aud".
The claims are checked against the SSF SET profile first. The header is
{"alg", "kid", "typ": "secevent+jwt"}.`,
		Example: `  sigshare keys generate --out test-key.pem
  sigshare token sign --key test-key.pem --issuer https://tr.example.com --audience app1 --claims '{
    "sub_id": {"format": "email", "email": "alice@example.com"},
    "events": {"https://schemas.openid.net/secevent/caep/event-type/session-revoked": {"event_timestamp": 1700000000}}}'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if keyFile == "" {
				return usagef("--key is required: a private key file (see 'sigshare keys generate')")
			}
			if claims == "" {
				return usagef("--claims is required: a JSON claims set, @file, or - for stdin")
			}
			data, err := a.readFileArg(claims)
			if err != nil {
				return usagef("--claims: %v", err)
			}
			var m map[string]json.RawMessage
			if err := json.Unmarshal(data, &m); err != nil || m == nil {
				return usagef("--claims is not a JSON object: %v", err)
			}
			if issuer != "" {
				m["iss"], _ = json.Marshal(issuer)
			}
			if len(audience) == 1 {
				m["aud"], _ = json.Marshal(audience[0])
			} else if len(audience) > 1 {
				m["aud"], _ = json.Marshal(audience)
			}
			if _, ok := m["iat"]; !ok {
				m["iat"] = json.RawMessage(fmt.Sprint(time.Now().Unix()))
			}
			if _, ok := m["jti"]; !ok {
				m["jti"], _ = json.Marshal(rand.Text())
			}
			full, err := json.Marshal(m)
			if err != nil {
				return err
			}
			tok, err := set.ParseClaims(full, set.DecodeOptions{Registry: ssf.DefaultRegistry()})
			if err != nil {
				return fmt.Errorf("the claims are not a valid SET: %w", err)
			}
			k, err := server.LoadSigningKey(keyFile, alg)
			if err != nil {
				return err
			}
			signer, err := set.NewSigner(k, set.SignerOptions{})
			if err != nil {
				return err
			}
			raw, err := signer.Sign(tok)
			if err != nil {
				return fmt.Errorf("signing: %w", err)
			}
			_, err = fmt.Fprintln(a.stdout, raw)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&keyFile, "key", "", "private signing key file (PEM or JWK)")
	fl.StringVar(&alg, "alg", "", "algorithm for a PEM key (default: inferred, RS256 for RSA)")
	fl.StringVar(&claims, "claims", "", "the claims set as JSON, @file, or - for stdin")
	fl.StringVar(&issuer, "issuer", "", `set "iss"`)
	fl.StringSliceVar(&audience, "audience", nil, `set "aud"`)
	return cmd
}
