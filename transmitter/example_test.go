package transmitter_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
	"github.com/sigshare/sigshare/transmitter"
)

// Start a Transmitter and serve its HTTP surface: discovery, JWK Set, the management
// API for Receivers holding static bearer tokens, and the operator API.
func Example() {
	key, err := keys.Generate("RS256") // CAEP-IOP §2.6 requires RS256
	if err != nil {
		log.Fatal(err)
	}
	signing, err := keys.NewSigningKeys(key)
	if err != nil {
		log.Fatal(err)
	}
	receivers, err := transmitter.NewStaticTokens(map[string]transmitter.Client{
		"token-for-acme": {ID: "acme"},
	})
	if err != nil {
		log.Fatal(err)
	}
	tr, err := transmitter.New(transmitter.Config{
		Issuer:        "https://ssf.example.com",
		Store:         memory.New(),
		Keys:          signing,
		Authenticator: receivers,
		AdminToken:    "operator-secret",
	})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: ":8443", Handler: tr.Handler(), ReadHeaderTimeout: 10 * time.Second}
	_ = srv // srv.ListenAndServeTLS(certFile, keyFile); go tr.Run(ctx) for inactivity

	m := tr.Metadata()
	fmt.Println(m.ConfigurationEndpoint)
	fmt.Println(m.VerificationEndpoint)
	fmt.Println(m.JWKSURI)
	// Output:
	// https://ssf.example.com/ssf/stream
	// https://ssf.example.com/ssf/verify
	// https://ssf.example.com/jwks.json
}

// Emit a CAEP session-revoked event: every stream that delivers the type and includes
// the subject gets one signed SET, queued in one transaction.
func ExampleTransmitter_Emit() {
	key, err := keys.Generate("ES256")
	if err != nil {
		log.Fatal(err)
	}
	signing, err := keys.NewSigningKeys(key)
	if err != nil {
		log.Fatal(err)
	}
	tr, err := transmitter.New(transmitter.Config{Issuer: "https://ssf.example.com", Store: memory.New(), Keys: signing})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	// A Receiver creates a poll stream (in process here; over HTTP in production).
	acme := transmitter.WithClient(ctx, &transmitter.Client{ID: "acme"})
	if _, err := tr.CreateStream(acme, ssf.StreamConfig{EventsRequested: []string{caep.EventTypeSessionRevoked}}); err != nil {
		log.Fatal(err)
	}

	res, err := tr.Emit(ctx,
		&subject.Email{Email: "alice@example.com"},
		&caep.SessionRevoked{Common: caep.Common{
			InitiatingEntity: caep.InitiatingEntityPolicy,
			ReasonAdmin:      event.Localized{"en": "Landspeed policy violation"},
			EventTimestamp:   event.TimestampOf(time.Now()),
		}},
		transmitter.EmitOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.EventType)
	fmt.Println(len(res.SETs), "SET queued")
	// Output:
	// https://schemas.openid.net/secevent/caep/event-type/session-revoked
	// 1 SET queued
}

// An operator creates a static push stream for a Receiver that never calls the
// management API, here an Okta org taking legacy SETs (vendors §5.2 item 8). The
// endpoint would be https://{org}.okta.com/security/api/v1/security-events; an address
// literal keeps the example off DNS.
func ExampleTransmitter_CreateStaticStream() {
	key, err := keys.Generate("RS256") // Okta takes RS256 only
	if err != nil {
		log.Fatal(err)
	}
	signing, err := keys.NewSigningKeys(key)
	if err != nil {
		log.Fatal(err)
	}
	tr, err := transmitter.New(transmitter.Config{Issuer: "https://ssf.example.com", Store: memory.New(), Keys: signing})
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := tr.CreateStaticStream(context.Background(), transmitter.StaticStreamRequest{
		ClientID:        "okta-acme",
		Delivery:        &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "https://203.0.113.7/security/api/v1/security-events"},
		EventsRequested: []string{caep.EventTypeSessionRevoked},
		Audience:        ssf.Audience{"https://acme.okta.com"},
		Profile:         "legacy",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(cfg.Audience)
	fmt.Println(cfg.EventsDelivered)
	fmt.Println(cfg.InactivityTimeout == nil)
	// Output:
	// [https://acme.okta.com]
	// [https://schemas.openid.net/secevent/caep/event-type/session-revoked]
	// true
}
