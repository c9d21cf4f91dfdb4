package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/subject"
	"github.com/sigshare/sigshare/transmitter"
)

type demoFlags struct {
	keep    bool
	alg     string
	timeout time.Duration
}

func (a *app) demoCommand() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a transmitter and two receivers on loopback and send every event type",
		Long: `Show Shared Signals end to end in one process, with no setup and no network beyond
loopback: a transmitter (SQLite in a temporary directory, fresh signing keys) and two
receivers, all over HTTPS with a certificate authority generated for the demo. One
receiver gets its events by push (RFC 8935), the other by poll (RFC 8936). The transmitter
emits one event of every CAEP and RISC type and a verification event on each stream; the
receivers verify each SET (signature, issuer, audience, payload), hand it to their handler
and acknowledge it.

The summary lists, per stream and event type, the SETs sent, delivered to the handler and
verified against what was sent, with the latency from emission to the handler. The exit
status is 0 only when every SET arrived exactly once and verified, nothing was rejected or
dead-lettered, and the transmitter holds nothing undelivered.

With --keep the servers keep running after the summary: the URLs, tokens and the CA
certificate file are printed so that you can try the other commands against them; events
you emit are printed as they arrive. Ctrl-C stops.`,
		Example: `  sigshare demo
  sigshare demo --keep
  sigshare demo --alg ES256`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logChanged := cmd.Flag("log-level").Changed
			return a.runDemo(cmd.Context(), &f, logChanged)
		},
	}
	cmd.Flags().BoolVar(&f.keep, "keep", false, "keep the servers running after the summary (prints URLs, tokens and the CA file)")
	cmd.Flags().StringVar(&f.alg, "alg", server.DefaultAlgorithm, "signing algorithm (RS256 is what the CAEP interoperability profile requires)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 30*time.Second, "how long to wait for every SET to arrive")
	return cmd
}

// demoRow is one line of the summary: a stream and an event type.
type demoRow struct {
	sent, delivered, verified int
	latencies                 []time.Duration
}

// demoSent is one SET the transmitter queued.
type demoSent struct {
	stream, eventType string
	subject           subject.Identifier
	txn               string
	at                time.Time
}

// demoSeen is one SET a handler got.
type demoSeen struct {
	stream string
	tok    *set.Token
	at     time.Time
}

// demoRecorder keeps what was sent and what the handlers saw; evaluate compares them.
type demoRecorder struct {
	mu        sync.Mutex
	sent      map[string]*demoSent // jti → SET
	seen      []demoSeen
	seenJTI   map[string]bool
	rows      map[[2]string]*demoRow
	problems  []string
	rejected  map[string]int       // stream → SETs refused by the receiver
	dupes     map[string]int       // stream → duplicates seen (not processed twice)
	verifying map[string]time.Time // stream → when verification was requested
	live      io.Writer            // in --keep mode, events are printed here after the summary
}

func newDemoRecorder() *demoRecorder {
	return &demoRecorder{sent: map[string]*demoSent{}, seenJTI: map[string]bool{}, rows: map[[2]string]*demoRow{},
		rejected: map[string]int{}, dupes: map[string]int{}, verifying: map[string]time.Time{}}
}

func (r *demoRecorder) row(stream, eventType string) *demoRow {
	k := [2]string{stream, eventType}
	if r.rows[k] == nil {
		r.rows[k] = &demoRow{}
	}
	return r.rows[k]
}

func (r *demoRecorder) problem(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// handler returns the handler of one receiver: it records each SET it gets.
func (r *demoRecorder) handler(stream string) receiver.HandlerFunc {
	return func(_ context.Context, tok *set.Token) error {
		now := time.Now()
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.live != nil {
			fmt.Fprintf(r.live, "%s  %-5s %s %s\n", now.Format("15:04:05.000"), stream, shortName(tok.Event.Type()), subjectText(tok.Subject))
			return nil
		}
		r.seen = append(r.seen, demoSeen{stream: stream, tok: tok, at: now})
		r.seenJTI[tok.JTI] = true
		return nil
	}
}

// complete reports whether every SET sent, and a verification SET per stream, was
// handled.
func (r *demoRecorder) complete() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for jti := range r.sent {
		if !r.seenJTI[jti] {
			return false
		}
	}
	verified := map[string]bool{}
	for _, s := range r.seen {
		if s.tok.Event.Type() == ssf.EventTypeVerification {
			verified[s.stream] = true
		}
	}
	return len(verified) == len(r.verifying)
}

// evaluate fills the rows from what was seen, checking each SET against what was sent
// on that stream. The caller holds r.mu.
func (r *demoRecorder) evaluate(issuer string) {
	handled := map[string]bool{}
	for _, s := range r.seen {
		tok, stream := s.tok, s.stream
		typ := tok.Event.Type()
		if handled[tok.JTI] {
			r.problem("%s stream: SET %s (%s) was processed twice", stream, tok.JTI, shortName(typ))
			continue
		}
		handled[tok.JTI] = true
		if typ == ssf.EventTypeVerification {
			row := r.row(stream, typ)
			row.delivered++
			started, ok := r.verifying[stream]
			if ok && tok.Issuer == issuer {
				row.verified++
				row.latencies = append(row.latencies, s.at.Sub(started))
			} else {
				r.problem("%s stream: unexpected verification SET %s", stream, tok.JTI)
			}
			continue
		}
		sent, ok := r.sent[tok.JTI]
		if !ok || sent.stream != stream {
			r.problem("%s stream: SET %s (%s) was never sent on it", stream, tok.JTI, shortName(typ))
			continue
		}
		row := r.row(stream, sent.eventType)
		row.delivered++
		row.latencies = append(row.latencies, s.at.Sub(sent.at))
		switch {
		case typ != sent.eventType:
			r.problem("%s stream: SET %s carries %s, %s was sent", stream, tok.JTI, shortName(typ), shortName(sent.eventType))
		case !subject.Equal(tok.Subject, sent.subject):
			r.problem("%s stream: SET %s names another subject than the one sent", stream, tok.JTI)
		case tok.TxnID != sent.txn || tok.Issuer != issuer:
			r.problem("%s stream: SET %s has txn %q and iss %q, want %q and %q", stream, tok.JTI, tok.TxnID, tok.Issuer, sent.txn, issuer)
		default:
			row.verified++
		}
	}
	for jti, sent := range r.sent {
		if !handled[jti] {
			r.problem("%s stream: SET %s (%s) never reached the handler", sent.stream, jti, shortName(sent.eventType))
		}
	}
}

// subjectText is a short text form of a subject for one output line.
func subjectText(s subject.Identifier) string {
	if s == nil {
		return "-"
	}
	data, err := s.MarshalJSON()
	if err != nil {
		return s.Format()
	}
	return string(data)
}

// demoReceiver is one receiver node of the demo.
type demoReceiver struct {
	name, client, token string
	node                *server.ReceiverNode
	inbox               store.Store
}

func (a *app) runDemo(ctx context.Context, f *demoFlags, logChanged bool) error {
	began := time.Now()
	log, err := a.logger()
	if err != nil {
		return err
	}
	if !logChanged {
		log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	dir, err := os.MkdirTemp("", "sigshare-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	ca, err := server.NewDevCA()
	if err != nil {
		return err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM(), 0o644); err != nil {
		return err
	}
	serverTLS := func() (*server.TLSOptions, error) {
		c, err := ca.ServerConfig()
		if err != nil {
			return nil, err
		}
		return &server.TLSOptions{Config: c}, nil
	}
	key, _, err := server.LoadOrGenerateSigningKey(filepath.Join(dir, "signing-key.pem"), f.alg)
	if err != nil {
		return err
	}
	sk, err := keys.NewSigningKeys(key)
	if err != nil {
		return err
	}
	txStore, err := server.OpenSQLite(ctx, filepath.Join(dir, "transmitter.db"), nil)
	if err != nil {
		return err
	}
	defer txStore.Close()

	txListener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("cannot listen on loopback: %w", err)
	}
	issuer := server.BaseURL(txListener, true)
	adminToken := rand.Text()
	receivers := []*demoReceiver{
		{name: "push", client: "push-receiver", token: rand.Text()},
		{name: "poll", client: "poll-receiver", token: rand.Text()},
	}
	var clients []server.StaticClient
	for _, r := range receivers {
		clients = append(clients, server.StaticClient{Name: r.client, Token: r.token})
	}
	txTLS, err := serverTLS()
	if err != nil {
		return err
	}
	txOpts := server.TransmitterOptions{
		Issuer:                    issuer,
		Store:                     txStore,
		Keys:                      sk,
		StaticClients:             clients,
		AdminToken:                adminToken,
		TLS:                       *txTLS,
		InsecureAllowLoopbackPush: true,
		PushRootCAs:               ca.Pool(),
		Logger:                    log.With("node", "transmitter"),
	}
	txOpts.Push.Backoff.Initial = 200 * time.Millisecond
	tx, err := server.NewTransmitter(ctx, txOpts)
	if err != nil {
		txListener.Close()
		return err
	}
	if err := tx.Start(txListener); err != nil {
		return err
	}
	// At the end the receivers shut down together (each finishes its work in flight and
	// sends its last acknowledgements), then the transmitter.
	var nodes []interface{ Shutdown(context.Context) error }
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for _, n := range nodes {
			wg.Go(func() { n.Shutdown(sctx) })
		}
		wg.Wait()
		tx.Shutdown(sctx)
		for _, r := range receivers {
			if r.inbox != nil {
				r.inbox.Close()
			}
		}
	}()

	rec := newDemoRecorder()
	for _, r := range receivers {
		inbox, err := server.OpenSQLite(ctx, filepath.Join(dir, "receiver-"+r.name+".db"), nil)
		if err != nil {
			return err
		}
		r.inbox = inbox
		mux := receiver.NewMux()
		mux.Fallback(rec.handler(r.name))
		rTLS, err := serverTLS()
		if err != nil {
			return err
		}
		delivery := ssf.DeliveryPoll
		if r.name == "push" {
			delivery = ssf.DeliveryPush
		}
		name := r.name
		opts := server.ReceiverOptions{
			Issuer:      issuer,
			Credentials: receiver.BearerToken(r.token),
			RootCAs:     ca.Pool(),
			Delivery:    delivery,
			Description: "sigshare demo (" + r.name + ")",
			Store:       inbox,
			Mux:         mux,
			TLS:         *rTLS,
			Logger:      log.With("node", r.name+"-receiver"),
		}
		opts.Receiver.Hooks = receiver.Hooks{
			Rejected: func(_ receiver.Transport, code string) {
				rec.mu.Lock()
				rec.rejected[name]++
				rec.problem("%s stream: the receiver refused a SET: %s", name, code)
				rec.mu.Unlock()
			},
			Duplicate: func(receiver.Transport) {
				rec.mu.Lock()
				rec.dupes[name]++
				rec.mu.Unlock()
			},
		}
		opts.Receiver.Poller.ErrorBackoff = 100 * time.Millisecond
		node, err := server.NewReceiver(ctx, opts)
		if err != nil {
			return err
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("cannot listen on loopback: %w", err)
		}
		sctx, cancel := context.WithTimeout(ctx, f.timeout)
		err = node.Start(sctx, l)
		cancel()
		if err != nil {
			l.Close()
			return fmt.Errorf("%s receiver: %w", r.name, err)
		}
		r.node = node
		nodes = append(nodes, node)
	}
	streamOf := map[string]string{} // stream id → receiver name
	for _, r := range receivers {
		streamOf[r.node.Stream().StreamID] = r.name
	}

	// Verification first (SSF §8.1.4): each receiver asks for a verification event.
	for _, r := range receivers {
		rec.mu.Lock()
		rec.verifying[r.name] = time.Now()
		rec.mu.Unlock()
		if _, err := r.node.Receiver().RequestVerification(ctx); err != nil {
			return fmt.Errorf("%s receiver: requesting verification: %w", r.name, err)
		}
	}

	// Every CAEP and RISC event type the transmitter emits.
	reg := ssf.DefaultRegistry()
	var types []string
	var skipped []string
	for _, uri := range tx.Transmitter().EventsSupported() {
		switch namespace(uri) {
		case "caep", "risc":
			types = append(types, uri)
		}
	}
	for _, uri := range reg.Types() {
		if ns := namespace(uri); (ns == "caep" || ns == "risc") && !slices.Contains(types, uri) {
			skipped = append(skipped, uri)
		}
	}
	sort.Strings(types)
	tr := tx.Transmitter()
	for _, uri := range types {
		s, ok := samples[uri]
		if !ok {
			return fmt.Errorf("the demo has no example of %s", uri)
		}
		subj, ev, err := s.build(reg, uri, time.Now())
		if err != nil {
			return err
		}
		at := time.Now()
		res, err := tr.Emit(ctx, subj, ev, transmitter.EmitOptions{})
		if err != nil {
			return fmt.Errorf("emitting %s: %w", shortName(uri), err)
		}
		rec.mu.Lock()
		for _, q := range res.SETs {
			name, ok := streamOf[q.StreamID]
			if !ok {
				continue
			}
			rec.sent[q.JTI] = &demoSent{stream: name, eventType: uri, subject: subj, txn: res.Txn, at: at}
			rec.row(name, uri).sent++
		}
		rec.mu.Unlock()
	}
	for _, r := range receivers {
		rec.mu.Lock()
		rec.row(r.name, ssf.EventTypeVerification).sent++
		rec.mu.Unlock()
	}

	// Wait until every SET was handled and the transmitter holds nothing for the streams.
	deadline := time.Now().Add(f.timeout)
	var leftover string
	for {
		leftover = ""
		if rec.complete() {
			infos, err := tr.Streams(ctx)
			if err != nil {
				return err
			}
			for _, in := range infos {
				if name, ok := streamOf[in.StreamID]; ok && (in.Outbox.Pending > 0 || in.Outbox.Dead > 0) {
					leftover += fmt.Sprintf(" %s stream: %d undelivered, %d dead letters;", name, in.Outbox.Pending, in.Outbox.Dead)
				}
			}
			if leftover == "" {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	elapsed := time.Since(began)

	rec.mu.Lock()
	rec.evaluate(issuer)
	ok := a.printDemoSummary(rec, receivers, issuer, f.alg, skipped, leftover, elapsed)
	rec.live = a.stdout
	rec.mu.Unlock()
	if !ok {
		return errors.New("the demo failed: see the summary above")
	}
	if !f.keep {
		return nil
	}
	a.printKeep(issuer, adminToken, caFile, receivers)
	<-ctx.Done()
	fmt.Fprintln(a.stdout, "stopping")
	return nil
}

// printDemoSummary prints the table and the verdict, and reports whether all is well.
func (a *app) printDemoSummary(rec *demoRecorder, receivers []*demoReceiver, issuer, alg string, skipped []string, leftover string, elapsed time.Duration) bool {
	w := a.stdout
	fmt.Fprintf(w, "sigshare demo: transmitter %s, signing with %s, TLS with a generated CA\n", issuer, alg)
	fmt.Fprintf(w, "streams: push (RFC 8935) to %s, poll (RFC 8936)\n\n", receivers[0].node.URL()+server.PushPath)
	type line struct{ stream, typ, sent, delivered, verified, p50, max string }
	lines := []line{{"STREAM", "EVENT TYPE", "SENT", "DELIVERED", "VERIFIED", "LATENCY p50", "max"}}
	var sent, delivered, verified int
	allOK := len(rec.problems) == 0 && leftover == ""
	for _, r := range receivers {
		var keys []string
		for k := range rec.rows {
			if k[0] == r.name {
				keys = append(keys, k[1])
			}
		}
		sort.Slice(keys, func(i, j int) bool {
			oi, oj := typeOrder(keys[i]), typeOrder(keys[j])
			if oi != oj {
				return oi < oj
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			row := rec.rows[[2]string{r.name, k}]
			sent += row.sent
			delivered += row.delivered
			verified += row.verified
			if row.sent == 0 || row.delivered != row.sent || row.verified != row.sent {
				allOK = false
			}
			p50, worst := "-", "-"
			if len(row.latencies) > 0 {
				l := slices.Clone(row.latencies)
				slices.Sort(l)
				p50, worst = fmtLatency(l[(len(l)-1)/2]), fmtLatency(l[len(l)-1])
			}
			lines = append(lines, line{r.name, shortName(k), fmt.Sprint(row.sent), fmt.Sprint(row.delivered), fmt.Sprint(row.verified), p50, worst})
		}
	}
	lines = append(lines, line{"TOTAL", "", fmt.Sprint(sent), fmt.Sprint(delivered), fmt.Sprint(verified), "", ""})
	width := 0
	for _, l := range lines {
		width = max(width, len(l.typ))
	}
	for _, l := range lines {
		text := fmt.Sprintf("%-6s  %-*s  %4s  %9s  %8s  %11s  %6s", l.stream, width, l.typ, l.sent, l.delivered, l.verified, l.p50, l.max)
		fmt.Fprintln(w, strings.TrimRight(text, " "))
	}
	fmt.Fprintln(w)
	for _, uri := range skipped {
		fmt.Fprintf(w, "not sent: %s is deprecated; transmitters emit its replacement instead\n", shortName(uri))
	}
	var dupes, rejected int
	for _, r := range receivers {
		dupes += rec.dupes[r.name]
		rejected += rec.rejected[r.name]
	}
	if dupes > 0 {
		fmt.Fprintf(w, "redelivered SETs recognised as duplicates (not processed again): %d\n", dupes)
	}
	for _, p := range rec.problems {
		fmt.Fprintf(w, "PROBLEM: %s\n", p)
	}
	if leftover != "" {
		fmt.Fprintf(w, "PROBLEM: the transmitter still holds SETs:%s\n", strings.TrimSuffix(leftover, ";"))
	}
	if allOK {
		fmt.Fprintf(w, "verdict: OK, %d SETs sent, each delivered once, verified and acknowledged, in %.1fs\n", sent, elapsed.Seconds())
	} else {
		fmt.Fprintf(w, "verdict: FAILED, %d sent, %d delivered, %d verified, %d refused by the receivers, in %.1fs\n", sent, delivered, verified, rejected, elapsed.Seconds())
	}
	return allOK
}

// typeOrder sorts the summary: SSF, then CAEP, then RISC.
func typeOrder(uri string) int {
	switch namespace(uri) {
	case "ssf":
		return 0
	case "caep":
		return 1
	case "risc":
		return 2
	}
	return 3
}

func fmtLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// printKeep prints how to reach the servers of a kept demo.
func (a *app) printKeep(issuer, adminToken, caFile string, receivers []*demoReceiver) {
	w := a.stdout
	push, poll := receivers[0], receivers[1]
	fmt.Fprintf(w, `
The servers keep running; Ctrl-C stops them.

  transmitter (issuer)   %s
  push receiver          %s  stream %s
  poll receiver          %s  stream %s
  CA certificate         %s
  admin token            %s
  push receiver token    %s
  poll receiver token    %s

Metrics: %s/metrics, %s/metrics, %s/metrics

Try, in another terminal:

  sigshare stream list --issuer %s --token %s --ca-file %s
  sigshare emit --transmitter %s --admin-token %s --ca-file %s \
      --type session-revoked --subject-email alice@example.com
  curl --cacert %s %s/.well-known/ssf-configuration

Events that arrive from now on are printed here:
`,
		issuer, push.node.URL()+server.PushPath, push.node.Stream().StreamID, poll.node.URL(), poll.node.Stream().StreamID,
		caFile, adminToken, push.token, poll.token,
		issuer, push.node.URL(), poll.node.URL(),
		issuer, push.token, caFile,
		issuer, adminToken, caFile,
		caFile, issuer)
}
