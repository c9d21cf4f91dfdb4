package record

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/ssf"
)

func TestConfigCoversStreamConfig(t *testing.T) {
	// config copies every field of ssf.StreamConfig and ssf.Delivery by name; a new field
	// there must be added to config/delivery (and to this count).
	if n := reflect.TypeFor[ssf.StreamConfig]().NumField(); n != reflect.TypeFor[config]().NumField() || n != 11 {
		t.Errorf("ssf.StreamConfig has %d fields, config %d (11 known): update record.go", n, reflect.TypeFor[config]().NumField())
	}
	if n := reflect.TypeFor[ssf.Delivery]().NumField(); n != reflect.TypeFor[delivery]().NumField() || n != 4 {
		t.Errorf("ssf.Delivery has %d fields, delivery %d (4 known): update record.go", n, reflect.TypeFor[delivery]().NumField())
	}
}

// TestStoredBytes pins the stored form: existing databases hold these bytes, so Encode
// must keep writing them and Decode must keep reading them.
func TestStoredBytes(t *testing.T) {
	one, zero := 1, 0
	for _, tc := range []struct {
		name   string
		c      ssf.StreamConfig
		stored string
	}{
		{"empty", ssf.StreamConfig{},
			`{"stream_id":"","iss":"","aud":null,"events_supported":null,"events_requested":null,"events_delivered":null,"delivery":null,"min_verification_interval":null,"description":"","inactivity_timeout":null,"extra":null}`},
		{"every field", ssf.StreamConfig{StreamID: "s1", Issuer: "https://tx.example.com", Audience: ssf.Audience{"a", "b"},
			EventsSupported: []string{}, EventsDelivered: []string{"x"}, MinVerificationInterval: &zero,
			Description: "d\x00<é>&", InactivityTimeout: &one,
			Extra: map[string]json.RawMessage{"z": json.RawMessage(`{"y": [1, 2]}`), "a": json.RawMessage(`"\u00e9"`)},
			Delivery: &ssf.Delivery{Method: "urn:ietf:rfc:8935", EndpointURL: "https://r/x?a=1&b=2", AuthorizationHeader: "Bearer t",
				Extra: map[string]json.RawMessage{}}},
			`{"stream_id":"s1","iss":"https://tx.example.com","aud":["a","b"],"events_supported":[],"events_requested":null,"events_delivered":["x"],"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r/x?a=1\u0026b=2","authorization_header":"Bearer t","extra":{}},"min_verification_interval":0,"description":"d\u0000\u003cé\u003e\u0026","inactivity_timeout":1,"extra":{"a":"Ilx1MDBlOSI=","z":"eyJ5IjogWzEsIDJdfQ=="}}`},
		{"empty delivery and extra", ssf.StreamConfig{Delivery: &ssf.Delivery{}, Extra: map[string]json.RawMessage{}},
			`{"stream_id":"","iss":"","aud":null,"events_supported":null,"events_requested":null,"events_delivered":null,"delivery":{"method":"","endpoint_url":"","authorization_header":"","extra":null},"min_verification_interval":null,"description":"","inactivity_timeout":null,"extra":{}}`},
	} {
		got, err := Encode(&tc.c)
		if err != nil || got != tc.stored {
			t.Errorf("%s: Encode = %s, %v; want %s", tc.name, got, err, tc.stored)
		}
		back, err := Decode(tc.stored)
		if err != nil {
			t.Fatalf("%s: Decode: %v", tc.name, err)
		}
		if d := cmp.Diff(tc.c, back); d != "" {
			t.Errorf("%s: Decode differs (-encoded +decoded):\n%s", tc.name, d)
		}
	}
}

func TestDecodeRefusesGarbage(t *testing.T) {
	if _, err := Decode(`{"aud":"x"`); err == nil {
		t.Fatal("Decode of truncated JSON succeeded")
	}
}

// FuzzRecord feeds each input two ways: as an SSF stream configuration, which must come
// back from its record unchanged (presence of members, raw extra members byte for byte,
// legacy delivery method URIs as decoded), and as a stored record, which Decode must read
// without panicking into a configuration whose record is read back the same.
func FuzzRecord(f *testing.F) {
	for _, s := range []string{
		`{"stream_id":"s","iss":"https://tx.example.com","aud":["a","b"],"events_supported":[],"events_delivered":["x"],"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r/x","authorization_header":"Bearer t","x":{"y":[1, 2]}},"min_verification_interval":0,"format":"iss_sub"}`,
		`{"aud":"single","delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/poll","url":"https://t/p"},"description":"","inactivity_timeout":86400}`,
		`{}`,
		`{"events_requested":null,"extra":{"a":"\u00e9"}}`,
		`{"description":"nul \u0000 inside","x":[ 1 ,2 ]}`,
		`{"stream_id":"s","delivery":{"method":"m","extra":{"k":"eyJ5Ijp0cnVlfQ=="}},"extra":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var wire ssf.StreamConfig
		if json.Unmarshal(data, &wire) == nil {
			stored, err := Encode(&wire)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			back, err := Decode(stored)
			if err != nil {
				t.Fatalf("Decode(%s): %v", stored, err)
			}
			if d := cmp.Diff(wire, back); d != "" {
				t.Fatalf("configuration differs after its record (-wire +stored):\n%s", d)
			}
		}
		c, err := Decode(string(data))
		if err != nil {
			return
		}
		again, err := Encode(&c)
		if err != nil {
			t.Fatalf("Encode of a decoded record: %v", err)
		}
		c2, err := Decode(again)
		if err != nil {
			t.Fatalf("Decode(%s) of an encoded record: %v", again, err)
		}
		if d := cmp.Diff(c, c2); d != "" {
			t.Fatalf("record read back differs (-first +second):\n%s", d)
		}
	})
}
