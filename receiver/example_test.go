package receiver_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
)

// A Receiver with a typed session-revoked handler behind an RFC 8935 push endpoint. The
// Transmitter's half (a signing key, a signed SET, the POST) is simulated here.
func Example_push() {
	ctx := context.Background()
	// The Transmitter's key. A real Receiver uses receiver.NewStreamVerifier, which
	// fetches the keys from the metadata's jwks_uri.
	key, err := keys.Generate("RS256")
	if err != nil {
		log.Fatal(err)
	}
	transmitterKeys, _ := keys.NewSigningKeys(key)

	// The Receiver.
	verifier, err := set.NewVerifier(transmitterKeys, set.Config{
		Issuer:    "https://transmitter.example.com",
		Audiences: []string{"https://receiver.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	inbox := memory.New() // store/sqlite in production: it survives restarts
	mux := receiver.NewMux()
	receiver.On(mux, func(ctx context.Context, tok *set.Token, ev *caep.SessionRevoked) error {
		fmt.Printf("revoking the sessions of %s (%s)\n", tok.Subject.(*subject.Email).Email, ev.ReasonAdmin["en"])
		return nil
	})
	worker, _ := receiver.NewWorker(receiver.WorkerConfig{Inbox: inbox, Mux: mux})
	recipient, _ := receiver.NewRecipient(receiver.RecipientConfig{
		Verifier: verifier, Inbox: inbox, StreamID: "f67e39a0a4d34d56b3aa1bc4cff0069f", Notify: worker.Notify,
	})
	endpoint, _ := receiver.NewPushHandler(receiver.PushHandlerConfig{
		Recipient:     recipient,
		Authorization: "Bearer push-secret", // the stream's delivery.authorization_header
	})
	srv := httptest.NewServer(endpoint) // in production: mux.Handle("POST /ssf/push", endpoint)
	defer srv.Close()

	// The Transmitter pushes a SET.
	signer, _ := set.NewSigner(key, set.SignerOptions{})
	raw, _ := signer.Sign(&set.Token{
		Issuer:   "https://transmitter.example.com",
		Audience: ssf.Audience{"https://receiver.example.com"},
		Subject:  &subject.Email{Email: "user@example.com"},
		Event:    &caep.SessionRevoked{Common: caep.Common{ReasonAdmin: event.Localized{"en": "Landspeed Policy Violation"}}},
	})
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(raw))
	req.Header.Set("Content-Type", receiver.MediaTypeSET)
	req.Header.Set("Authorization", "Bearer push-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("push answered", resp.Status)

	// The worker handles recorded SETs asynchronously; go worker.Run(ctx) in production.
	if _, err := worker.RunOnce(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// push answered 202 Accepted
	// revoking the sessions of user@example.com (Landspeed Policy Violation)
}

// A poll Receiver wired end to end: discovery, OAuth client credentials, an idempotent
// stream, the verifier of the stream, and the poller feeding the worker.
func Example_poller() {
	ctx := context.Background()
	disc, err := receiver.Discover(ctx, "https://transmitter.example.com", receiver.DiscoveryOptions{})
	if err != nil {
		log.Fatal(err)
	}
	creds, err := receiver.NewClientCredentials(receiver.ClientCredentialsConfig{
		TokenURL: "https://as.example.com/token", ClientID: "receiver-1", ClientSecret: "…",
	})
	if err != nil {
		log.Fatal(err)
	}
	states, _ := receiver.NewVerificationStates(receiver.VerificationStatesConfig{})
	client, err := receiver.NewClient(receiver.ClientConfig{
		Metadata: disc.Metadata, Issuer: disc.Issuer, Credentials: creds, States: states,
	})
	if err != nil {
		log.Fatal(err)
	}
	// No delivery: poll (SSF §8.1.1.1). EnsureStream reuses the stream at every start.
	stream, _, err := client.EnsureStream(ctx, ssf.StreamConfig{
		EventsRequested: []string{caep.EventTypeSessionRevoked, caep.EventTypeCredentialChange},
	})
	if err != nil {
		log.Fatal(err)
	}
	opts := receiver.VerifierOptions{}
	verifier, jwks, err := receiver.NewStreamVerifier(disc.Metadata, stream, opts)
	if err != nil {
		log.Fatal(err)
	}
	defer jwks.Close()

	inbox := memory.New() // store/sqlite in production
	mux := receiver.NewMux()
	receiver.On(mux, func(ctx context.Context, tok *set.Token, ev *caep.CredentialChange) error {
		fmt.Println("credential", ev.ChangeType, "for", tok.Subject)
		return nil
	})
	var poller *receiver.Poller
	worker, _ := receiver.NewWorker(receiver.WorkerConfig{
		Inbox: inbox, Mux: mux, Decode: opts.DecodeOptions(), AckReady: func() { poller.AckNow() },
	})
	recipient, _ := receiver.NewRecipient(receiver.RecipientConfig{
		Verifier: verifier, Inbox: inbox, StreamID: stream.StreamID, States: states, Notify: worker.Notify,
	})
	poller, err = receiver.NewPoller(receiver.PollerConfig{
		Endpoint: stream.Delivery.EndpointURL, Recipient: recipient, Credentials: creds,
	})
	if err != nil {
		log.Fatal(err)
	}
	go func() { _ = worker.Run(ctx) }()
	if _, err := client.RequestVerification(ctx, stream.StreamID); err != nil {
		log.Print(err)
	}
	_ = poller.Run(ctx)
}
