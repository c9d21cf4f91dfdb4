package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
)

type receiverFlags struct {
	conn            connFlags
	delivery        string
	listen          string
	endpointURL     string
	tlsCert, tlsKey string
	events          []string
	description     string
	streamID        string
	format          string
	db              string
	shutdownTimeout time.Duration
}

func (a *app) receiverCommand() *cobra.Command {
	var f receiverFlags
	cmd := &cobra.Command{
		Use:   "receiver",
		Short: "Receive events from a transmitter and print them",
		Long: `Connect to a Shared Signals transmitter as a receiver: discover it, create (or reuse)
a stream for the --events wanted, and receive its SETs by poll (RFC 8936: this process
asks the transmitter) or push (RFC 8935: the transmitter POSTs to --listen, and the
stream's endpoint_url points there). Each SET is verified (signature with the
transmitter's published keys, issuer, audience, event payload), recorded in --db (so a
SET delivered twice is printed once, also across restarts), printed as one JSON line (or
a readable line with --format text) on stdout, and then acknowledged.

Starting again with the same flags reuses the stream. /metrics, /healthz and /readyz
are served on --listen (optional for poll). The token is never printed.

` + shortNamesHelp(),
		Example: `  sigshare receiver --issuer https://ssf.example.com --token "$TOKEN" \
      --events session-revoked,credential-change

  sigshare receiver --issuer https://ssf.example.com --token "$TOKEN" --delivery push \
      --listen :8443 --endpoint-url https://rcv.example.com/ssf/push \
      --tls-cert cert.pem --tls-key key.pem --format text`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runReceiver(cmd.Context(), &f) },
	}
	f.conn.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.delivery, "delivery", "poll", "delivery method: poll or push")
	fl.StringVar(&f.listen, "listen", "", "address to listen on, host:port: the push endpoint (required for push) and /metrics")
	fl.StringVar(&f.endpointURL, "endpoint-url", "", "public URL of the push endpoint, what the stream's endpoint_url says (default: https://<listen>/ssf/push, http with --insecure-http and no TLS)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate PEM file of the listener")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key PEM file of the listener")
	fl.StringSliceVar(&f.events, "events", nil, "event types to receive, comma-separated short names or URIs (default: all the transmitter supports)")
	fl.StringVar(&f.description, "description", "", "description of the stream")
	fl.StringVar(&f.streamID, "stream-id", "", "use this existing stream as it is instead of creating or reusing one")
	fl.StringVar(&f.format, "format", "json", "output: json (one JSON object per line) or text")
	fl.StringVar(&f.db, "db", "sigshare-receiver.db", "SQLite file of the inbox (received SETs, de-duplication, pending acknowledgements)")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", server.DefaultShutdownTimeout, "how long a shutdown waits for work in flight")
	return cmd
}

// eventLine is the JSON form of one received event.
type eventLine struct {
	ReceivedAt time.Time       `json:"received_at"`
	StreamID   string          `json:"stream_id"`
	Issuer     string          `json:"iss"`
	JTI        string          `json:"jti"`
	IssuedAt   int64           `json:"iat"`
	Txn        string          `json:"txn,omitempty"`
	EventType  string          `json:"event_type"`
	Subject    json.RawMessage `json:"subject,omitempty"`
	Event      json.RawMessage `json:"event"`
	Tolerated  string          `json:"compatibility_tolerances,omitempty"`
}

// printer prints each SET as it is handled; a failed write fails the handler, so the
// SET is retried and not acknowledged.
type printer struct {
	mu       sync.Mutex
	a        *app
	text     bool
	streamID func() string
}

func (p *printer) handle(_ context.Context, tok *set.Token) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now().UTC()
	var line string
	if p.text {
		line = fmt.Sprintf("%s %s %s jti=%s", now.Format(time.RFC3339), shortName(tok.Event.Type()), subjectText(tok.Subject), tok.JTI)
		if tok.TxnID != "" {
			line += " txn=" + tok.TxnID
		}
		if payload, err := json.Marshal(tok.Event); err == nil && string(payload) != "{}" {
			line += " " + string(payload)
		}
	} else {
		l := eventLine{ReceivedAt: now, StreamID: p.streamID(), Issuer: tok.Issuer, JTI: tok.JTI, IssuedAt: tok.IssuedAt.Unix(),
			Txn: tok.TxnID, EventType: tok.Event.Type()}
		if tok.Subject != nil {
			l.Subject, _ = json.Marshal(tok.Subject)
		}
		var err error
		if l.Event, err = json.Marshal(tok.Event); err != nil {
			return fmt.Errorf("encoding the event: %w", err)
		}
		if tok.Leniency != 0 {
			l.Tolerated = tok.Leniency.String()
		}
		data, err := json.Marshal(l)
		if err != nil {
			return err
		}
		line = string(data)
	}
	if _, err := fmt.Fprintln(p.a.stdout, line); err != nil {
		return fmt.Errorf("printing the event: %w", err)
	}
	return nil
}

func (a *app) runReceiver(ctx context.Context, f *receiverFlags) error {
	log, err := a.logger()
	if err != nil {
		return err
	}
	if err := f.conn.check(); err != nil {
		return err
	}
	var delivery string
	switch strings.ToLower(f.delivery) {
	case "poll", ssf.DeliveryPoll:
		delivery = ssf.DeliveryPoll
	case "push", ssf.DeliveryPush:
		delivery = ssf.DeliveryPush
	default:
		return usagef("--delivery %q: want poll or push", f.delivery)
	}
	if f.format != "json" && f.format != "text" {
		return usagef("--format %q: want json or text", f.format)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	tlsOn := f.tlsCert != ""
	if delivery == ssf.DeliveryPush && f.listen == "" && f.streamID == "" {
		return usagef("--delivery push needs --listen: where the push endpoint listens")
	}
	if f.endpointURL != "" && delivery != ssf.DeliveryPush {
		return usagef("--endpoint-url is for --delivery push")
	}
	endpoint := f.endpointURL
	if delivery == ssf.DeliveryPush && endpoint == "" && f.listen != "" {
		host, port, err := net.SplitHostPort(f.listen)
		if err != nil {
			return usagef("--listen %q: %v", f.listen, err)
		}
		if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
			return usagef("--listen %q listens on every interface: give --endpoint-url, the URL the transmitter pushes to", f.listen)
		}
		scheme := "https"
		if !tlsOn {
			scheme = "http"
		}
		endpoint = scheme + "://" + net.JoinHostPort(host, port) + server.PushPath
	}
	if delivery == ssf.DeliveryPush && endpoint != "" {
		if _, err := baseURL(endpoint, f.conn.insecureHTTP, "the push endpoint URL"); err != nil {
			return err
		}
	}
	names := newEventNames(ssf.DefaultRegistry())
	events, err := names.resolveList(f.events)
	if err != nil {
		return usagef("--events: %v", err)
	}
	creds, err := f.conn.credentials()
	if err != nil {
		return err
	}
	roots, err := server.LoadCertPool(f.conn.caFiles...)
	if err != nil {
		return err
	}
	inbox, err := server.OpenSQLite(ctx, f.db, log.With("component", "sqlite"))
	if err != nil {
		return err
	}
	defer inbox.Close()

	var node *server.ReceiverNode
	p := &printer{a: a, text: f.format == "text", streamID: func() string {
		if s := node.Stream(); s != nil {
			return s.StreamID
		}
		return ""
	}}
	mux := receiver.NewMux()
	mux.Fallback(p.handle)
	issuer := f.conn.issuer
	node, err = server.NewReceiver(ctx, server.ReceiverOptions{
		Issuer:            issuer,
		MetadataURL:       f.conn.metadataURL,
		Credentials:       creds,
		RootCAs:           roots,
		InsecureAllowHTTP: f.conn.insecureHTTP,
		Compatibility:     f.conn.compat,
		Delivery:          delivery,
		EventsRequested:   events,
		Description:       f.description,
		StreamID:          f.streamID,
		PushEndpointURL:   endpoint,
		Store:             inbox,
		Mux:               mux,
		TLS:               server.TLSOptions{CertFile: f.tlsCert, KeyFile: f.tlsKey},
		Logger:            log,
		ShutdownTimeout:   f.shutdownTimeout,
	})
	if err != nil {
		return err
	}
	var l net.Listener
	if f.listen != "" {
		if l, err = net.Listen("tcp", f.listen); err != nil {
			return fmt.Errorf("cannot listen on %s: %w", f.listen, err)
		}
	}
	// The start-up (discovery, stream) is bounded; running is not.
	sctx, cancel := context.WithTimeout(ctx, 2*f.conn.timeout)
	err = node.Start(sctx, l)
	cancel()
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-node.Done():
		if err := node.Err(); err != nil {
			return fmt.Errorf("serving on %s: %w", f.listen, err)
		}
	}
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), f.shutdownTimeout)
	defer dcancel()
	return node.Shutdown(dctx)
}
