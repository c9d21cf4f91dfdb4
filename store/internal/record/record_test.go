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

// storedForms are configurations with their stored bytes: existing databases hold these
// bytes, so Encode must keep writing them and Decode must keep reading them.
var storedForms = []struct {
	name   string
	c      ssf.StreamConfig
	stored string
}{
	{"empty", ssf.StreamConfig{},
		`{"stream_id":"","iss":"","aud":null,"events_supported":null,"events_requested":null,"events_delivered":null,"delivery":null,"min_verification_interval":null,"description":"","inactivity_timeout":null,"extra":null}`},
	{"every field", ssf.StreamConfig{StreamID: "s1", Issuer: "https://tx.example.com", Audience: ssf.Audience{"a", "b"},
		EventsSupported: []string{}, EventsDelivered: []string{"x"}, MinVerificationInterval: new(0),
		Description: "d\x00<é>&", InactivityTimeout: new(1),
		Extra: map[string]json.RawMessage{"z": json.RawMessage(`{"y": [1, 2]}`), "a": json.RawMessage(`"\u00e9"`)},
		Delivery: &ssf.Delivery{Method: "urn:ietf:rfc:8935", EndpointURL: "https://r/x?a=1&b=2", AuthorizationHeader: "Bearer t",
			Extra: map[string]json.RawMessage{}}},
		`{"stream_id":"s1","iss":"https://tx.example.com","aud":["a","b"],"events_supported":[],"events_requested":null,"events_delivered":["x"],"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r/x?a=1\u0026b=2","authorization_header":"Bearer t","extra":{}},"min_verification_interval":0,"description":"d\u0000\u003cé\u003e\u0026","inactivity_timeout":1,"extra":{"a":"Ilx1MDBlOSI=","z":"eyJ5IjogWzEsIDJdfQ=="}}`},
	{"empty delivery and extra", ssf.StreamConfig{Delivery: &ssf.Delivery{}, Extra: map[string]json.RawMessage{}},
		`{"stream_id":"","iss":"","aud":null,"events_supported":null,"events_requested":null,"events_delivered":null,"delivery":{"method":"","endpoint_url":"","authorization_header":"","extra":null},"min_verification_interval":null,"description":"","inactivity_timeout":null,"extra":{}}`},
}

func TestStoredBytes(t *testing.T) {
	for _, tc := range storedForms {
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

// reread returns c after a trip through its record.
func reread(t *testing.T, c *ssf.StreamConfig) ssf.StreamConfig {
	t.Helper()
	stored, err := Encode(c)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	back, err := Decode(stored)
	if err != nil {
		t.Fatalf("Decode(%s): %v", stored, err)
	}
	return back
}

// FuzzRecord feeds each input two ways: as an SSF stream configuration, which must come
// back from its record unchanged (presence of members, raw extra members byte for byte,
// legacy delivery method URIs as decoded), and as a stored record, which Decode must read
// without panicking into a configuration whose record is read back the same.
func FuzzRecord(f *testing.F) {
	for _, tc := range storedForms {
		f.Add([]byte(tc.stored))
	}
	f.Add([]byte(`{"aud":"one","delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"https://r/p","k":[ true ]},"events_requested":[],"extra_member":{"n":null}}`))
	f.Add([]byte(`{"stream_id":"s\u0000","min_verification_interval":30,"description":"\ud800"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var wire ssf.StreamConfig
		if json.Unmarshal(data, &wire) == nil {
			if d := cmp.Diff(wire, reread(t, &wire)); d != "" {
				t.Fatalf("configuration differs after its record (-wire +stored):\n%s", d)
			}
		}
		if c, err := Decode(string(data)); err == nil {
			if d := cmp.Diff(c, reread(t, &c)); d != "" {
				t.Fatalf("record read back differs (-first +second):\n%s", d)
			}
		}
	})
}
