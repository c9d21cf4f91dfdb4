package sqlite

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/ssf"
)

// FuzzConfigRoundTrip checks that every stream configuration the SSF decoder produces
// is stored in a SQLite database and read back unchanged (presence of members, raw extra
// members, legacy delivery method URIs as decoded): the record of
// store/internal/record (fuzzed there on its own) through this backend's config column.
func FuzzConfigRoundTrip(f *testing.F) {
	for _, s := range []string{
		`{"stream_id":"s","iss":"https://tx.example.com","aud":["a","b"],"events_supported":[],"events_delivered":["x"],"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r/x","authorization_header":"Bearer t","x":{"y":[1, 2]}},"min_verification_interval":0,"format":"iss_sub"}`,
		`{"aud":"single","delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/poll","url":"https://t/p"},"description":"","inactivity_timeout":86400}`,
		`{}`,
		`{"events_requested":null,"extra":{"a":"\u00e9"}}`,
	} {
		f.Add([]byte(s))
	}
	st, err := Open(f.Context(), filepath.Join(f.TempDir(), "db"), Options{Synchronous: SynchronousNormal})
	if err != nil {
		f.Fatalf("Open: %v", err)
	}
	f.Cleanup(func() { st.Close() })
	n := 0
	f.Fuzz(func(t *testing.T, data []byte) {
		var c ssf.StreamConfig
		if json.Unmarshal(data, &c) != nil {
			return
		}
		n++
		s := testStream(fmt.Sprintf("f%d", n))
		s.Config = c
		if err := st.CreateStream(t.Context(), s); err != nil {
			t.Fatalf("CreateStream: %v", err)
		}
		got, err := st.GetStream(t.Context(), s.ID)
		if err != nil {
			t.Fatalf("GetStream: %v", err)
		}
		if d := cmp.Diff(c, got.Config); d != "" {
			t.Fatalf("stored configuration differs (-decoded +stored):\n%s", d)
		}
		if err := st.DeleteStream(t.Context(), s.ID); err != nil {
			t.Fatalf("DeleteStream: %v", err)
		}
	})
}
