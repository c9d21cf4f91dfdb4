package ssf_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/sigshare/sigshare/ssf"
)

// A Receiver builds a create-stream request (SSF §8.1.1.1) from the Receiver-supplied
// members only, checks it, and sends its JSON to the configuration endpoint.
func ExampleStreamConfig_ReceiverSupplied() {
	want := ssf.StreamConfig{
		Delivery: &ssf.Delivery{
			Method:              ssf.DeliveryPush,
			EndpointURL:         "https://receiver.example.com/events",
			AuthorizationHeader: "Bearer receiver-push-token",
		},
		EventsRequested: []string{
			"https://schemas.openid.net/secevent/caep/event-type/session-revoked",
			"https://schemas.openid.net/secevent/caep/event-type/credential-change",
		},
		Description: "CAEP events for the web app",
	}
	req := want.ReceiverSupplied()
	if err := req.ValidateRequest(); err != nil {
		fmt.Println(err)
		return
	}
	body, err := json.MarshalIndent(req, "", "  ")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(body))
	fmt.Println(req.Delivery) // the authorization header never reaches a log
	// Output:
	// {
	//   "delivery": {
	//     "method": "urn:ietf:rfc:8935",
	//     "endpoint_url": "https://receiver.example.com/events",
	//     "authorization_header": "Bearer receiver-push-token"
	//   },
	//   "events_requested": [
	//     "https://schemas.openid.net/secevent/caep/event-type/session-revoked",
	//     "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	//   ],
	//   "description": "CAEP events for the web app"
	// }
	// delivery{method=urn:ietf:rfc:8935 endpoint_url=https://receiver.example.com/events authorization_header=[redacted]}
}

// The metadata of an issuer with a path is served with the well-known segment inserted
// before the path (SSF §7.2).
func ExampleWellKnownURL() {
	for _, issuer := range []string{"https://tr.example.com", "https://tr.example.com/issuer1/"} {
		u, err := ssf.WellKnownURL(issuer)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(u)
	}
	// Output:
	// https://tr.example.com/.well-known/ssf-configuration
	// https://tr.example.com/.well-known/ssf-configuration/issuer1
}

// A compatible discovery client tries these locations in order.
func ExampleDiscoveryCandidateURLs() {
	urls, _ := ssf.DiscoveryCandidateURLs("https://accounts.google.com")
	for _, u := range urls {
		fmt.Println(u)
	}
	// Output:
	// https://accounts.google.com/.well-known/ssf-configuration
	// https://accounts.google.com/.well-known/sse-configuration
	// https://accounts.google.com/.well-known/risc-configuration
}

// A Receiver reads a Transmitter's metadata leniently and logs what it had to tolerate.
func ExampleParseMetadataLenient() {
	doc := []byte(`{
	  "issuer": "https://accounts.google.com",
	  "jwks_uri": "https://www.googleapis.com/oauth2/v3/certs",
	  "delivery_methods_supported": ["http://schemas.openid.net/secevent/risc/delivery-method/push"],
	  "get_status_endpoint": "https://risc.googleapis.com/v1beta/stream/status"
	}`)
	m, notes, err := ssf.ParseMetadataLenient(doc)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range notes {
		fmt.Println("tolerated:", n)
	}
	fmt.Println(m.Validate() == nil, m.CheckIssuer("https://accounts.google.com") == nil, m.SupportsDelivery(ssf.DeliveryPush))
	fmt.Println(m.StatusEndpoint)
	// Output:
	// tolerated: non-standard member "get_status_endpoint" mapped to "status_endpoint"
	// tolerated: delivery method "http://schemas.openid.net/secevent/risc/delivery-method/push" treated as its https equivalent
	// tolerated: spec_version absent: assumed "1_0-ID1" (SSF §7.1)
	// true true true
	// https://risc.googleapis.com/v1beta/stream/status
}

// The server maps an error to a status code and body; the client maps it back.
func ExampleErrorFromResponse() {
	h := http.Header{}
	h.Set("Retry-After", "60")
	err := ssf.ErrorFromResponse(http.StatusTooManyRequests, h,
		[]byte(`{"error":"too_many_requests","error_description":"min_verification_interval is 60 s"}`))
	if rl, ok := errors.AsType[*ssf.RateLimitError](err); ok {
		fmt.Println(errors.Is(err, ssf.ErrTooManyRequests), rl.RetryAfter)
	}
	fmt.Println(ssf.HTTPStatus(err))
	// Output:
	// true 1m0s
	// 429
}
