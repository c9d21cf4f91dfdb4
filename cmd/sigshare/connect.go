package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/receiver"
)

// connFlags say how to reach a transmitter as a receiver client: where (issuer or
// metadata URL), with which credentials (static token or OAuth client credentials) and
// which TLS roots.
type connFlags struct {
	issuer, metadataURL string
	token               string
	oauthTokenURL       string
	oauthClientID       string
	oauthClientSecret   string
	oauthScopes         []string
	caFiles             []string
	insecureHTTP        bool
	compat              bool
	timeout             time.Duration
}

func (c *connFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&c.issuer, "issuer", "", "the transmitter's issuer URL (its metadata is discovered at /.well-known/ssf-configuration)")
	fl.StringVar(&c.metadataURL, "metadata-url", "", "the transmitter's metadata URL, instead of --issuer")
	fl.StringVar(&c.token, "token", "", "bearer token the transmitter issued to this receiver (better from SIGSHARE_TOKEN)")
	fl.StringVar(&c.oauthTokenURL, "oauth-token-url", "", "OAuth token endpoint, to obtain access tokens with the client credentials grant instead of --token")
	fl.StringVar(&c.oauthClientID, "oauth-client-id", "", "OAuth client id (with --oauth-token-url)")
	fl.StringVar(&c.oauthClientSecret, "oauth-client-secret", "", "OAuth client secret (with --oauth-token-url; better from SIGSHARE_OAUTH_CLIENT_SECRET)")
	fl.StringSliceVar(&c.oauthScopes, "oauth-scopes", nil, "OAuth scopes to request (default ssf.read,ssf.manage)")
	fl.StringSliceVar(&c.caFiles, "ca-file", nil, "extra CA certificates (PEM) to trust for the transmitter")
	fl.BoolVar(&c.insecureHTTP, "insecure-http", false, "allow http:// transmitter URLs (loopback development only; SSF requires https)")
	fl.BoolVar(&c.compat, "compat", false, "compatibility mode for transmitters built to earlier drafts (legacy discovery, answers and SET shapes)")
	fl.DurationVar(&c.timeout, "timeout", 30*time.Second, "timeout of each request to the transmitter")
}

// check validates the combination of flags.
func (c *connFlags) check() error {
	switch {
	case c.issuer == "" && c.metadataURL == "":
		return usagef("--issuer (or --metadata-url) is required: the transmitter to talk to")
	case c.issuer != "" && c.metadataURL != "":
		return usagef("give --issuer or --metadata-url, not both")
	case c.token != "" && c.oauthTokenURL != "":
		return usagef("give --token or the --oauth-... flags, not both")
	case c.oauthTokenURL != "" && c.oauthClientID == "":
		return usagef("--oauth-token-url needs --oauth-client-id and --oauth-client-secret")
	case c.oauthTokenURL == "" && (c.oauthClientID != "" || c.oauthClientSecret != ""):
		return usagef("--oauth-client-id and --oauth-client-secret need --oauth-token-url")
	}
	target := c.issuer
	flag := "--issuer"
	if target == "" {
		target, flag = c.metadataURL, "--metadata-url"
	}
	_, err := baseURL(target, c.insecureHTTP, flag)
	return err
}

// credentials returns the receiver credentials of the flags (nil: none).
func (c *connFlags) credentials() (receiver.Credentials, error) {
	switch {
	case c.token != "":
		return receiver.BearerToken(c.token), nil
	case c.oauthTokenURL != "":
		client, err := clientForCAFiles(c.caFiles, c.timeout)
		if err != nil {
			return nil, err
		}
		return receiver.NewClientCredentials(receiver.ClientCredentialsConfig{
			TokenURL:          c.oauthTokenURL,
			ClientID:          c.oauthClientID,
			ClientSecret:      c.oauthClientSecret,
			Scopes:            c.oauthScopes,
			HTTPClient:        client,
			InsecureAllowHTTP: c.insecureHTTP,
		})
	}
	return nil, nil
}

// managementClient discovers the transmitter and returns a stream management client.
func (a *app) managementClient(ctx context.Context, c *connFlags) (*receiver.Client, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	creds, err := c.credentials()
	if err != nil {
		return nil, err
	}
	roots, err := server.LoadCertPool(c.caFiles...)
	if err != nil {
		return nil, err
	}
	hc := httpClient(roots, c.timeout)
	opts := receiver.DiscoveryOptions{HTTPClient: hc, Compatibility: c.compat, InsecureAllowHTTP: c.insecureHTTP}
	var disc *receiver.Discovery
	if c.metadataURL != "" {
		disc, err = receiver.FetchMetadata(ctx, c.metadataURL, opts)
	} else {
		disc, err = receiver.Discover(ctx, c.issuer, opts)
	}
	if err != nil {
		return nil, err
	}
	return receiver.NewClient(receiver.ClientConfig{
		Metadata:          disc.Metadata,
		Issuer:            disc.Issuer,
		Credentials:       creds,
		HTTPClient:        hc,
		Compatibility:     c.compat,
		InsecureAllowHTTP: c.insecureHTTP,
	})
}
