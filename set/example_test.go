package set_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/keys"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// Build a CAEP session-revoked SET (CAEP §3.1) and sign it with RS256 (CAEP-IOP §2.6).
func ExampleSigner_Sign() {
	key, err := keys.Generate("RS256")
	if err != nil {
		log.Fatal(err)
	}
	signer, err := set.NewSigner(key.WithKeyID("2026-01"), set.SignerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	tok := &set.Token{
		Issuer:   "https://idp.example.com/",
		JTI:      "24c63fb56e5a2d77a6b512616ca9fa24",
		IssuedAt: time.Unix(1767225600, 0),
		Audience: ssf.Audience{"https://sp.example.com/caep"},
		TxnID:    "8675309",
		Subject: &subject.Complex{
			User:    &subject.Email{Email: "jane@example.com"},
			Session: &subject.Opaque{ID: "dMTlD|1600802906337.16|16008.16"},
		},
		Event: &caep.SessionRevoked{Common: caep.Common{
			InitiatingEntity: caep.InitiatingEntityPolicy,
			ReasonAdmin:      event.Localized{"en": "Landspeed Policy Violation: C076E82F"},
			EventTimestamp:   1767225590,
		}},
	}
	raw, err := signer.Sign(tok)
	if err != nil {
		log.Fatal(err)
	}
	header, _, err := set.ParseUnverified(raw, set.DecodeOptions{})
	if err != nil {
		log.Fatal(err)
	}
	claims, _ := tok.MarshalJSON()
	fmt.Println(header.Algorithm, header.KeyID, header.Type)
	fmt.Println(string(claims))
	// Output:
	// RS256 2026-01 secevent+jwt
	// {"iss":"https://idp.example.com/","jti":"24c63fb56e5a2d77a6b512616ca9fa24","iat":1767225600,"aud":"https://sp.example.com/caep","txn":"8675309","sub_id":{"format":"complex","user":{"format":"email","email":"jane@example.com"},"session":{"format":"opaque","id":"dMTlD|1600802906337.16|16008.16"}},"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"event_timestamp":1767225590,"initiating_entity":"policy","reason_admin":{"en":"Landspeed Policy Violation: C076E82F"}}}}
}

// Verify a SET against the transmitter's JWK Set and map failures to RFC 8935 responses.
func ExampleVerifier_Verify() {
	// The transmitter's side: a key, its published JWK Set, a signed SET.
	key, err := keys.Generate("ES256")
	if err != nil {
		log.Fatal(err)
	}
	published, err := keys.NewSigningKeys(key)
	if err != nil {
		log.Fatal(err)
	}
	jwks, err := published.MarshalJWKS()
	if err != nil {
		log.Fatal(err)
	}
	signer, err := set.NewSigner(key, set.SignerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	raw, err := signer.Sign(&set.Token{
		Issuer:   "https://idp.example.com/",
		Audience: ssf.Audience{"https://sp.example.com/caep"},
		Subject:  &subject.IssSub{Iss: "https://idp.example.com/", Sub: "jane"},
		Event:    &caep.SessionRevoked{},
	})
	if err != nil {
		log.Fatal(err)
	}

	// The receiver's side: the JWK Set (normally a keys.RemoteKeySet on jwks_uri).
	ks, err := keys.ParseJWKS(jwks)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := set.NewVerifier(ks, set.Config{
		Issuer:    "https://idp.example.com/",
		Audiences: []string{"https://sp.example.com/caep"},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, token := range []string{raw, raw[:len(raw)-4] + "AAAA"} {
		tok, err := verifier.Verify(context.Background(), token)
		var e *set.Error
		switch {
		case errors.Is(err, set.ErrDiscard):
			fmt.Println("202, event discarded") // valid SET, critical subject member
		case errors.As(err, &e):
			fmt.Println("400", e.Code) // {"err": e.Code, "description": e.Description}
		case err != nil:
			fmt.Println("503") // key set unreachable: let the transmitter retry
		default:
			fmt.Println("202", event.TypeName(tok.Event.Type()), tok.Subject.Format())
		}
	}
	// Output:
	// 202 caep session-revoked iss_sub
	// 400 invalid_key
}

// Sign a SET, then encrypt it to the receiver's public key (RFC 7519 §5.2 nested JWT).
func ExampleSignerOptions_encryptTo() {
	signingKey, err := keys.Generate("EdDSA")
	if err != nil {
		log.Fatal(err)
	}
	receiverKey, err := keys.GenerateEncryptionKey("ECDH-ES")
	if err != nil {
		log.Fatal(err)
	}
	recipient := receiverKey.Public() // what the receiver publishes or hands over
	signer, err := set.NewSigner(signingKey, set.SignerOptions{EncryptTo: &recipient})
	if err != nil {
		log.Fatal(err)
	}
	raw, err := signer.Sign(&set.Token{
		Issuer:   "https://transmitter.example.com",
		Audience: ssf.Audience{"receiver.example.com"},
		Subject:  &subject.Opaque{ID: "f67e39a0a4d34d56b3aa1bc4cff0069f"},
		Event:    &ssf.Verification{State: "VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo="},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("parts:", strings.Count(raw, ".")+1)

	published, err := keys.NewSigningKeys(signingKey)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := set.NewVerifier(published, set.Config{
		Issuer:         "https://transmitter.example.com",
		Audiences:      []string{"receiver.example.com"},
		DecryptionKeys: []*keys.DecryptionKey{receiverKey},
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := verifier.Verify(context.Background(), raw)
	if err != nil {
		log.Fatal(err)
	}
	err = set.CheckVerification(tok, "f67e39a0a4d34d56b3aa1bc4cff0069f", "VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo=")
	fmt.Println("verification:", err == nil)
	// Output:
	// parts: 5
	// verification: true
}

// Accept SETs from a transmitter built for an earlier draft, and see what was tolerated.
func ExampleCompatibility() {
	claims := `{"iss":"https://org.okta.com","jti":"j1","iat":1615305159,"aud":"https://sp.example.com/caep",
	  "events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{
	    "subject":{"format":"iss_sub","iss":"https://org.okta.com","sub":"okta-user-id1"},
	    "event_timestamp":1615304991643}}}`
	tok, err := set.ParseClaims([]byte(claims), set.DecodeOptions{Compatibility: set.FullCompatibility()})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Leniency)
	fmt.Println(tok.Event.(*caep.SessionRevoked).EventTimestamp)
	_, err = set.ParseClaims([]byte(claims), set.DecodeOptions{})
	fmt.Println(err)
	// Output:
	// in-event-subject|event_timestamp-milliseconds
	// 1615304991
	// set: invalid_request: sub_id is required (SSF §3.1)
}
