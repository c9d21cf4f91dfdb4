package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/transmitter"
	"github.com/sigshare/sigshare/transmitter/push"
)

// transmitterFlags are the flags of "sigshare transmitter".
type transmitterFlags struct {
	addr, issuer, db, postgres    string
	postgresSchema                string
	key, alg                      string
	retiredKeys                   []string
	clients                       []string
	singleStream                  bool
	oauthIssuer, oauthJWKS        string
	oauthAudience                 []string
	adminToken                    string
	tlsCert, tlsKey               string
	allowPrivatePush              bool
	pushCAFiles                   []string
	insecureHTTP                  bool
	defaultSubjects               string
	inactivityTimeout             time.Duration
	minVerificationInterval       time.Duration
	subjectRate                   float64
	subjectBurst                  int
	legacyDiscovery               bool
	shutdownTimeout               time.Duration
	caFiles                       []string
	pushConcurrency, pushAttempts int
	clientProfiles                []string
	nodeID                        string
	pushLease, pollLease          time.Duration
}

// defaultSQLiteNodeID is the node id of a transmitter on a SQLite file without
// --node-id: a SQLite file serves one transmitter process, so every lease in it that is
// not this run's own is a previous run's, and a fixed id reclaims them at start.
const defaultSQLiteNodeID = "local"

func (a *app) transmitterCommand() *cobra.Command {
	var f transmitterFlags
	cmd := &cobra.Command{
		Use:   "transmitter",
		Short: "Run a transmitter server",
		Long: `Run a Shared Signals transmitter: it publishes its metadata at
/.well-known/ssf-configuration and its public keys at /jwks.json, lets receivers create
and manage streams (SSF §8), signs events as SETs and delivers them by push (RFC 8935) or
poll (RFC 8936). Operators emit events through the admin API (see "sigshare emit").
/metrics, /healthz and /readyz are served beside.

Streams, subjects and undelivered SETs are kept in a SQLite file (--db) or PostgreSQL
(--postgres). The signing key is read from --key, or generated and saved there (0600) when
the file does not exist.

SSF requires https: serve TLS with --tls-cert and --tls-key, or give an https --issuer
when a proxy in front terminates TLS. --insecure-http allows an http issuer for loopback
development only. SIGINT or SIGTERM stops the server after the work in flight is done.`,
		Example: `  # development, on loopback without TLS:
  sigshare transmitter --insecure-http --client demo=demo-token --admin-token admin-token

  # production behind nothing, with TLS:
  sigshare transmitter --addr :443 --issuer https://ssf.example.com \
      --tls-cert /etc/sigshare/cert.pem --tls-key /etc/sigshare/key.pem \
      --key /var/lib/sigshare/signing-key.pem --db /var/lib/sigshare/sigshare.db \
      --client app1=$APP1_TOKEN --admin-token $ADMIN_TOKEN`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runTransmitter(cmd.Context(), &f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8417", "address to listen on, host:port")
	fl.StringVar(&f.issuer, "issuer", "", "issuer identifier, the URL receivers use (default: https://<addr>, or http://<addr> with --insecure-http)")
	fl.StringVar(&f.db, "db", "sigshare.db", "SQLite database file (created when absent)")
	fl.StringVar(&f.postgres, "postgres", "", "PostgreSQL connection string (postgres://user:pass@host/db), instead of --db; several transmitter nodes may share it")
	fl.StringVar(&f.postgresSchema, "postgres-schema", "", "PostgreSQL schema of sigshare's tables, created when absent (default: the connection's current schema, usually public)")
	fl.StringVar(&f.key, "key", "sigshare-key.pem", "signing key file, PEM or JWK (.json/.jwk); generated and saved with permission 0600 when absent")
	fl.StringSliceVar(&f.retiredKeys, "retired-key", nil, "a previous signing key file still published in the JWK Set after a rotation (repeatable)")
	fl.StringVar(&f.alg, "alg", "", "signing algorithm: RS256 (default for new keys; required by the CAEP interoperability profile), PS256, ES256, ES384, EdDSA, …")
	fl.StringSliceVar(&f.clients, "client", nil, "static receiver credential NAME=TOKEN (repeatable); NAME owns the streams and is their audience")
	fl.BoolVar(&f.singleStream, "single-stream", false, "allow each receiver client one stream only (a second create gets 409)")
	fl.StringVar(&f.oauthIssuer, "oauth-issuer", "", "accept OAuth 2.0 JWT access tokens from this authorization server (issuer)")
	fl.StringVar(&f.oauthJWKS, "oauth-jwks", "", "the authorization server's JWKS URL (with --oauth-issuer)")
	fl.StringSliceVar(&f.oauthAudience, "oauth-audience", nil, "accepted audiences of access tokens (default: the issuer)")
	fl.StringVar(&f.adminToken, "admin-token", "", "bearer token of the operator API (/admin/...); without it the operator API is off")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate (chain) PEM file")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key PEM file")
	fl.BoolVar(&f.allowPrivatePush, "allow-private-push", false, "allow push endpoints on loopback and private addresses (development; the SSRF guard refuses them by default)")
	fl.StringSliceVar(&f.pushCAFiles, "push-ca-file", nil, "extra CA certificates (PEM) to trust for receivers' push endpoints")
	fl.BoolVar(&f.insecureHTTP, "insecure-http", false, "allow an http:// issuer and http:// push endpoints (loopback development only; SSF requires https)")
	fl.StringVar(&f.defaultSubjects, "default-subjects", "ALL", "which subjects a new stream receives events about before the receiver adds any: ALL or NONE")
	fl.DurationVar(&f.inactivityTimeout, "inactivity-timeout", 0, "pause streams whose receiver shows no activity for this long (0: never)")
	fl.DurationVar(&f.minVerificationInterval, "min-verification-interval", 0, "least time between two verification requests of a stream (0: 30s)")
	fl.Float64Var(&f.subjectRate, "subject-rate", 0, "add- and remove-subject requests per second each receiver client may make to this node; more get 429 with Retry-After (0: 50; negative: no limit)")
	fl.IntVar(&f.subjectBurst, "subject-burst", 0, "add- and remove-subject requests a client may make at once before --subject-rate applies (0: 500)")
	fl.BoolVar(&f.legacyDiscovery, "legacy-discovery", false, "also serve the metadata at the legacy sse-configuration and risc-configuration locations")
	fl.StringSliceVar(&f.caFiles, "ca-file", nil, "extra CA certificates (PEM) to trust for the OAuth JWKS URL")
	fl.IntVar(&f.pushConcurrency, "push-concurrency", 0, "streams pushed to in parallel (0: 8)")
	fl.IntVar(&f.pushAttempts, "push-max-attempts", 0, "failed push attempts before a SET becomes a dead letter (0: 20)")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "how long a shutdown waits for work in flight")
	fl.StringSliceVar(&f.clientProfiles, "client-profile", nil, "SET profile of a receiver client's new streams, NAME=final|hybrid|legacy (repeatable; NAME is a --client name or an OAuth client_id); default final")
	fl.StringVar(&f.nodeID, "node-id", "", "this node's identity among the nodes sharing the database, stable across restarts: at start it reclaims the push leases its previous run left (default with --db: "+defaultSQLiteNodeID+"; with --postgres: none, a new identity per start)")
	fl.DurationVar(&f.pushLease, "push-lease", 0, "how long a SET leased by the push engine stays reserved; renewed while held, so it bounds only how long a dead node's SETs wait (0: 5m; more than the 10s push request timeout)")
	fl.DurationVar(&f.pollLease, "poll-lease", 0, "how long a SET returned by a poll waits for its acknowledgement before a poll returns it again (0: 5m)")
	return cmd
}

// parseClientProfiles parses --client-profile NAME=PROFILE values.
func parseClientProfiles(values []string) (map[string]set.Profile, error) {
	out := map[string]set.Profile{}
	for _, v := range values {
		name, value, ok := strings.Cut(v, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, usagef("--client-profile wants NAME=final|hybrid|legacy, got %q", v)
		}
		p, err := store.ParseProfile(strings.TrimSpace(value))
		if err != nil || strings.TrimSpace(value) == "" {
			return nil, usagef("--client-profile %s: %q is not a SET profile: want final, hybrid or legacy", name, value)
		}
		if _, dup := out[name]; dup {
			return nil, usagef("--client-profile %s is given twice", name)
		}
		out[name] = p
	}
	return out, nil
}

// defaultIssuer derives the issuer from the listen address.
func defaultIssuer(addr string, tls bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", usagef("--addr %q: %v", addr, err)
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		return "", usagef("--addr %q listens on every interface: give --issuer, the URL receivers reach this transmitter at", addr)
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

// parseClients parses --client NAME=TOKEN values.
func parseClients(values []string, singleStream bool) ([]server.StaticClient, error) {
	var out []server.StaticClient
	seen := map[string]bool{}
	for _, v := range values {
		name, token, ok := strings.Cut(v, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" || token == "" {
			return nil, usagef("--client wants NAME=TOKEN, got a value without %s", map[bool]string{true: "a token", false: "\"=\""}[ok])
		}
		if seen[name] {
			return nil, usagef("--client %s is given twice: one token per client name", name)
		}
		seen[name] = true
		out = append(out, server.StaticClient{Name: name, Token: token, Policy: clientPolicy(singleStream)})
	}
	return out, nil
}

func (a *app) runTransmitter(ctx context.Context, f *transmitterFlags) error {
	log, err := a.logger()
	if err != nil {
		return err
	}
	tlsOn := f.tlsCert != "" || f.tlsKey != ""
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	issuer := f.issuer
	if issuer == "" {
		if issuer, err = defaultIssuer(f.addr, tlsOn); err != nil {
			return err
		}
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return usagef("--issuer %q is not an absolute https URL", issuer)
	}
	if u.Scheme == "http" && !f.insecureHTTP {
		return usagef("the issuer %s is not https: serve TLS with --tls-cert and --tls-key (or give an https --issuer when a proxy terminates TLS), or add --insecure-http for loopback development", issuer)
	}
	if u.Scheme == "https" && !tlsOn {
		log.Warn("serving plain HTTP for an https issuer: TLS must be terminated in front of this server", "issuer", issuer, "addr", f.addr)
	}
	switch strings.ToUpper(f.defaultSubjects) {
	case "ALL", "NONE":
	default:
		return usagef("--default-subjects %q: want ALL or NONE", f.defaultSubjects)
	}
	clients, err := parseClients(f.clients, f.singleStream)
	if err != nil {
		return err
	}
	profiles, err := parseClientProfiles(f.clientProfiles)
	if err != nil {
		return err
	}
	for i := range clients {
		if p, ok := profiles[clients[i].Name]; ok {
			clients[i].Policy.Profile = p
			delete(profiles, clients[i].Name)
		}
	}
	if len(profiles) > 0 && f.oauthIssuer == "" {
		return usagef("--client-profile %s names no --client (and OAuth is off)", strings.Join(slices.Sorted(maps.Keys(profiles)), ", "))
	}
	switch {
	case f.pushLease < 0 || f.pollLease < 0:
		return usagef("--push-lease and --poll-lease must not be negative")
	case f.pushLease != 0 && f.pushLease <= push.DefaultRequestTimeout:
		return usagef("--push-lease %v must exceed the push request timeout (%v): a lease must outlast the request it covers", f.pushLease, push.DefaultRequestTimeout)
	}
	nodeID := f.nodeID
	switch {
	case nodeID != "":
		if err := server.ValidNodeID(nodeID); err != nil {
			return usagef("--node-id: %v", err)
		}
	case f.postgres == "":
		nodeID = defaultSQLiteNodeID
	default:
		log.Info("no --node-id: push leases held by this node when it stops abruptly wait for their expiry (--push-lease) instead of being reclaimed by its next start")
	}
	if (f.oauthIssuer == "") != (f.oauthJWKS == "") {
		return usagef("--oauth-issuer and --oauth-jwks go together")
	}
	if len(clients) == 0 && f.oauthIssuer == "" {
		log.Warn("no receiver credentials (--client or --oauth-issuer): every stream management and poll request will be refused")
	}

	sk, err := loadTransmitterKeys(f, log)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, f, log)
	if err != nil {
		return err
	}
	defer st.Close()

	opts := server.TransmitterOptions{
		Issuer:                    issuer,
		InsecureAllowHTTP:         f.insecureHTTP,
		Store:                     st,
		Keys:                      sk,
		StaticClients:             clients,
		AdminToken:                f.adminToken,
		TLS:                       server.TLSOptions{CertFile: f.tlsCert, KeyFile: f.tlsKey},
		InsecureAllowLoopbackPush: f.allowPrivatePush,
		InsecureAllowPrivatePush:  f.allowPrivatePush,
		Logger:                    log,
		ShutdownTimeout:           f.shutdownTimeout,
	}
	opts.Transmitter.DefaultSubjects = ssf.DefaultSubjects(strings.ToUpper(f.defaultSubjects))
	opts.Transmitter.InactivityTimeout = f.inactivityTimeout
	opts.Transmitter.MinVerificationInterval = f.minVerificationInterval
	opts.Transmitter.SubjectRate = f.subjectRate
	opts.Transmitter.SubjectBurst = f.subjectBurst
	opts.Transmitter.LegacyDiscovery = f.legacyDiscovery
	opts.NodeID = nodeID
	opts.Push.Concurrency = f.pushConcurrency
	opts.Push.MaxAttempts = f.pushAttempts
	opts.Push.LeaseDuration = f.pushLease
	opts.Transmitter.Poll.LeaseDuration = f.pollLease
	if len(f.pushCAFiles) > 0 {
		if opts.PushRootCAs, err = server.LoadCertPool(f.pushCAFiles...); err != nil {
			return err
		}
	}
	if f.oauthIssuer != "" {
		roots, err := server.LoadCertPool(f.caFiles...)
		if err != nil {
			return err
		}
		opts.OAuth = &server.OAuthOptions{
			Issuer:            f.oauthIssuer,
			JWKSURL:           f.oauthJWKS,
			Audience:          f.oauthAudience,
			InsecureAllowHTTP: f.insecureHTTP,
		}
		if len(profiles) > 0 {
			opts.OAuth.Policies = map[string]transmitter.ClientPolicy{}
			for name, p := range profiles {
				opts.OAuth.Policies[name] = transmitter.ClientPolicy{Profile: p}
			}
		}
		if len(f.caFiles) > 0 {
			opts.OAuth.HTTPClient = httpClient(roots, 10*time.Second)
		}
	}
	node, err := server.NewTransmitter(ctx, opts)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", f.addr, err)
	}
	return node.Serve(ctx, l)
}

// loadTransmitterKeys loads (or generates) the active key and loads the retired ones.
func loadTransmitterKeys(f *transmitterFlags, log *slog.Logger) (*keys.SigningKeys, error) {
	active, generated, err := server.LoadOrGenerateSigningKey(f.key, f.alg)
	if err != nil {
		return nil, err
	}
	if generated {
		log.Info("signing key generated", "path", f.key, "kid", active.KeyID(), "alg", active.Algorithm())
	} else {
		log.Info("signing key loaded", "path", f.key, "kid", active.KeyID(), "alg", active.Algorithm())
	}
	var retired []*keys.SigningKey
	for _, p := range f.retiredKeys {
		k, err := server.LoadSigningKey(p, "")
		if err != nil {
			return nil, err
		}
		retired = append(retired, k)
	}
	sk, err := keys.NewSigningKeys(active, retired...)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	return sk, nil
}

// openStore opens the SQLite file or the PostgreSQL database.
func openStore(ctx context.Context, f *transmitterFlags, log *slog.Logger) (store.Store, error) {
	if f.postgres != "" {
		return server.OpenPostgres(ctx, f.postgres, f.postgresSchema, log.With("component", "postgres"))
	}
	if f.postgresSchema != "" {
		return nil, usagef("--postgres-schema goes with --postgres")
	}
	return server.OpenSQLite(ctx, f.db, log.With("component", "sqlite"))
}
