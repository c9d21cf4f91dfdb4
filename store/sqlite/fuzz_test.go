package sqlite

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/ssf"
)

// FuzzConfigRoundTrip checks that every stream configuration the SSF decoder produces
// is stored and read back unchanged (presence of members, raw extra members, legacy
// delivery method URIs as decoded).
func FuzzConfigRoundTrip(f *testing.F) {
	for _, s := range []string{
		`{"stream_id":"s","iss":"https://tx.example.com","aud":["a","b"],"events_supported":[],"events_delivered":["x"],"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r/x","authorization_header":"Bearer t","x":{"y":[1, 2]}},"min_verification_interval":0,"format":"iss_sub"}`,
		`{"aud":"single","delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/poll","url":"https://t/p"},"description":"","inactivity_timeout":86400}`,
		`{}`,
		`{"events_requested":null,"extra":{"a":"\u00e9"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c ssf.StreamConfig
		if json.Unmarshal(data, &c) != nil {
			return
		}
		enc, err := encodeConfig(&c)
		if err != nil {
			t.Fatalf("encodeConfig: %v", err)
		}
		got, err := decodeConfig(enc)
		if err != nil {
			t.Fatalf("decodeConfig(%s): %v", enc, err)
		}
		if d := cmp.Diff(c, got); d != "" {
			t.Fatalf("stored configuration differs (-decoded +stored):\n%s", d)
		}
	})
}
