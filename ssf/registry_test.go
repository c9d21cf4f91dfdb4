package ssf_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/risc"
	"github.com/sigshare/sigshare/ssf"
)

// allTypes maps every type URI of the default registry to the Go type Decode returns.
var allTypes = map[string]reflect.Type{
	caep.EventTypeSessionRevoked:                  reflect.TypeFor[*caep.SessionRevoked](),
	caep.EventTypeTokenClaimsChange:               reflect.TypeFor[*caep.TokenClaimsChange](),
	caep.EventTypeCredentialChange:                reflect.TypeFor[*caep.CredentialChange](),
	caep.EventTypeAssuranceLevelChange:            reflect.TypeFor[*caep.AssuranceLevelChange](),
	caep.EventTypeDeviceComplianceChange:          reflect.TypeFor[*caep.DeviceComplianceChange](),
	caep.EventTypeSessionEstablished:              reflect.TypeFor[*caep.SessionEstablished](),
	caep.EventTypeSessionPresented:                reflect.TypeFor[*caep.SessionPresented](),
	caep.EventTypeRiskLevelChange:                 reflect.TypeFor[*caep.RiskLevelChange](),
	risc.EventTypeAccountCredentialChangeRequired: reflect.TypeFor[*risc.AccountCredentialChangeRequired](),
	risc.EventTypeAccountPurged:                   reflect.TypeFor[*risc.AccountPurged](),
	risc.EventTypeAccountDisabled:                 reflect.TypeFor[*risc.AccountDisabled](),
	risc.EventTypeAccountEnabled:                  reflect.TypeFor[*risc.AccountEnabled](),
	risc.EventTypeIdentifierChanged:               reflect.TypeFor[*risc.IdentifierChanged](),
	risc.EventTypeIdentifierRecycled:              reflect.TypeFor[*risc.IdentifierRecycled](),
	risc.EventTypeCredentialCompromise:            reflect.TypeFor[*risc.CredentialCompromise](),
	risc.EventTypeOptIn:                           reflect.TypeFor[*risc.OptIn](),
	risc.EventTypeOptOutInitiated:                 reflect.TypeFor[*risc.OptOutInitiated](),
	risc.EventTypeOptOutCancelled:                 reflect.TypeFor[*risc.OptOutCancelled](),
	risc.EventTypeOptOutEffective:                 reflect.TypeFor[*risc.OptOutEffective](),
	risc.EventTypeRecoveryActivated:               reflect.TypeFor[*risc.RecoveryActivated](),
	risc.EventTypeRecoveryInformationChanged:      reflect.TypeFor[*risc.RecoveryInformationChanged](),
	risc.EventTypeSessionsRevoked:                 reflect.TypeFor[*risc.SessionsRevoked](),
	ssf.EventTypeVerification:                     reflect.TypeFor[*ssf.Verification](),
	ssf.EventTypeStreamUpdated:                    reflect.TypeFor[*ssf.StreamUpdated](),
}

// legacyAliases are the aliases DIFF-3 and vendors.md §5.1 item 4 call for.
var legacyAliases = map[string]string{
	"https://schemas.openid.net/secevent/sse/event-type/verification":    ssf.EventTypeVerification,
	"https://schemas.openid.net/secevent/risc/event-type/verification":   ssf.EventTypeVerification,
	"https://schemas.openid.net/secevent/sse/event-type/stream-updated":  ssf.EventTypeStreamUpdated,
	"https://schemas.openid.net/secevent/caep/event-type/stream-updated": ssf.EventTypeStreamUpdated,
}

type vector struct {
	JSON   json.RawMessage `json:"json"`
	Claims json.RawMessage `json:"claims"`
}

// eventsIn returns the events claim of the SET in a vector file.
func eventsIn(t *testing.T, path string) map[string]json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v vector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	claims := v.JSON
	if claims == nil {
		claims = v.Claims
	}
	var set struct {
		Events map[string]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(claims, &set); err != nil || len(set.Events) == 0 {
		t.Fatalf("%s: no events (%v)", path, err)
	}
	return set.Events
}

// rawJSON compares json.RawMessage values (Extra members, Raw payloads) as JSON values:
// encoding/json compacts and HTML-escapes them on the way out.
var rawJSON = cmp.Transformer("rawJSON", func(m json.RawMessage) any {
	var v any
	if err := json.Unmarshal(m, &v); err != nil {
		return "invalid JSON: " + string(m)
	}
	return v
})

func jsonEqual(t *testing.T, want, got []byte) {
	t.Helper()
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got %s: %v", got, err)
	}
	if d := cmp.Diff(w, g); d != "" {
		t.Errorf("re-encoded payload differs (-want +got):\n%s", d)
	}
}

// TestDefaultRegistryVectors: the SSF §5 example SETs, the SSF §4.1.8, §8.1.4.2 and
// §8.1.5 SETs: every event decodes through the default registry into its Go type,
// validates and re-encodes to equal JSON. (ssf-5-ex6 is invalid only for its iat; its
// event is valid.)
func TestDefaultRegistryVectors(t *testing.T) {
	r := ssf.DefaultRegistry()
	files, _ := filepath.Glob("testdata/events/*.json")
	if len(files) != 9 {
		t.Fatalf("found %d vectors, want 9", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			for uri, p := range eventsIn(t, f) {
				ev, err := r.Decode(uri, p)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got, want := reflect.TypeOf(ev), allTypes[uri]; got != want || want == nil {
					t.Fatalf("Decode returned %v, want %v", got, want)
				}
				if err := ev.Validate(); err != nil {
					t.Fatal(err)
				}
				out, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				jsonEqual(t, p, out)
			}
		})
	}
}

// TestDefaultRegistryNegative: generated vectors 13 and 14 are rejected with the reason
// named (CAEP-8 change_type REQUIRED; CAEP-3 initiating_entity enumeration).
func TestDefaultRegistryNegative(t *testing.T) {
	r := ssf.DefaultRegistry()
	for file, want := range map[string]string{
		"13-credential-change-no-change-type.json": `caep credential-change: member "change_type" is required`,
		"14-initiating-entity-robot.json":          `caep session-revoked: member "initiating_entity" must be one of admin, user, policy, system (got "robot")`,
	} {
		for uri, p := range eventsIn(t, "testdata/events/negative/"+file) {
			if _, err := r.Decode(uri, p); err == nil || err.Error() != want || !errors.Is(err, event.ErrInvalid) {
				t.Errorf("%s: Decode error = %v, want %q", file, err, want)
			}
		}
	}
}

// TestVendorPayloads: payloads real peers send (vendors.md §4) decode strictly when
// their only deviation is an extra member, and keep it: the legacy in-event subject
// (SET-13, DIFF-5), txn inside the event (authentik), Okta's credential type
// ALL_FACTORS; Okta's own event types decode to *event.Raw.
func TestVendorPayloads(t *testing.T) {
	r := ssf.DefaultRegistry()
	want := map[string]reflect.Type{
		"authentik-verification-set.json":                   reflect.TypeFor[*ssf.Verification](),
		"authentik-session-revoked.json":                    reflect.TypeFor[*caep.SessionRevoked](),
		"google-risc-account-disabled.json":                 reflect.TypeFor[*risc.AccountDisabled](),
		"okta-transmitter-session-revoked.json":             reflect.TypeFor[*caep.SessionRevoked](),
		"okta-transmitter-credential-change-reset-all.json": reflect.TypeFor[*caep.CredentialChange](),
		"omnissa-device-compliance-change.json":             reflect.TypeFor[*caep.DeviceComplianceChange](),
		"okta-receiver-user-risk-change.json":               reflect.TypeFor[*event.Raw](),
	}
	files, _ := filepath.Glob("testdata/events/vendor/*.json")
	if len(files) != len(want) {
		t.Fatalf("found %d vendor vectors, want %d", len(files), len(want))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			for uri, p := range eventsIn(t, f) {
				ev, err := r.Decode(uri, p)
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				if got := reflect.TypeOf(ev); got != want[filepath.Base(f)] {
					t.Fatalf("Decode returned %v, want %v", got, want[filepath.Base(f)])
				}
				out, err := json.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				if filepath.Base(f) == "authentik-verification-set.json" {
					p = json.RawMessage(`{}`) // "state": null is absent (vendors.md §5.1 item 5)
				}
				jsonEqual(t, p, out)
				if strings.Contains(string(p), `"subject"`) {
					extra := reflect.ValueOf(ev).Elem().FieldByName("Extra")
					if extra.IsValid() && extra.MapIndex(reflect.ValueOf("subject")).IsZero() {
						t.Error("in-event subject not kept in Extra")
					}
				}
			}
		})
	}
}

// TestDefaultRegistryContents: every CAEP, RISC and SSF type and every alias; a new
// registry on every call.
func TestDefaultRegistryContents(t *testing.T) {
	r := ssf.DefaultRegistry()
	var want []string
	for uri := range allTypes {
		want = append(want, uri)
	}
	slices.Sort(want)
	if d := cmp.Diff(want, r.Types()); d != "" {
		t.Errorf("Types() (-want +got):\n%s", d)
	}
	if d := cmp.Diff(legacyAliases, r.Aliases()); d != "" {
		t.Errorf("Aliases() (-want +got):\n%s", d)
	}
	// Independent registries: registering in one does not change another.
	custom := "https://schemas.okta.com/secevent/okta/event-type/user-risk-change"
	if err := r.Register(custom, func() event.Event { return &event.Raw{EventType: custom} }); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ssf.DefaultRegistry().Types(), custom) {
		t.Error("DefaultRegistry shares state between calls")
	}
	// RegisterEvents twice fails.
	if err := ssf.RegisterEvents(r); !errors.Is(err, event.ErrRegistration) {
		t.Errorf("second RegisterEvents = %v", err)
	}
}

// TestDeprecatedTypes: only RISC sessions-revoked is deprecated (RISC-15).
func TestDeprecatedTypes(t *testing.T) {
	r := ssf.DefaultRegistry()
	for _, uri := range r.Types() {
		ev, err := r.Decode(uri, []byte(validPayload(uri)))
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		d, ok := ev.(event.Deprecated)
		if ok != (uri == risc.EventTypeSessionsRevoked) {
			t.Errorf("%s: deprecated = %v", uri, ok)
		}
		if ok && d.ReplacedBy() != caep.EventTypeSessionRevoked {
			t.Errorf("ReplacedBy() = %s", d.ReplacedBy())
		}
	}
}

// validPayloads is a minimal valid payload per type that needs members; see
// validPayload.
var validPayloads = map[string]string{
	caep.EventTypeTokenClaimsChange:      `{"claims":{"role":"admin"}}`,
	caep.EventTypeCredentialChange:       `{"credential_type":"password","change_type":"update"}`,
	caep.EventTypeAssuranceLevelChange:   `{"namespace":"NIST-AAL","current_level":"nist-aal2"}`,
	caep.EventTypeDeviceComplianceChange: `{"previous_status":"compliant","current_status":"not-compliant"}`,
	caep.EventTypeRiskLevelChange:        `{"principal":"USER","current_level":"HIGH"}`,
	risc.EventTypeCredentialCompromise:   `{"credential_type":"password"}`,
	ssf.EventTypeStreamUpdated:           `{"status":"enabled"}`,
}

// validPayload returns a minimal valid payload for a type of the default registry.
func validPayload(uri string) string {
	if p, ok := validPayloads[uri]; ok {
		return p
	}
	return `{}`
}

// TestAliases: Canonical resolves the legacy URIs (DIFF-3); Decode does not, so strict
// decoding stays strict.
func TestAliases(t *testing.T) {
	r := ssf.DefaultRegistry()
	for alias, canonical := range legacyAliases {
		if got, ok := r.Canonical(alias); !ok || got != canonical {
			t.Errorf("Canonical(%s) = %s, %v", alias, got, ok)
		}
		ev, err := r.Decode(alias, []byte(`{"status":"paused"}`))
		if err != nil {
			t.Fatal(err)
		}
		if raw, ok := ev.(*event.Raw); !ok || raw.Type() != alias {
			t.Errorf("Decode(%s) = %T, want *event.Raw", alias, ev)
		}
		c, _ := r.Canonical(alias)
		ev, err = r.Decode(c, []byte(validPayload(c)))
		if err != nil || reflect.TypeOf(ev) != allTypes[canonical] {
			t.Errorf("Decode(Canonical(%s)) = %T, %v", alias, ev, err)
		}
	}
	if got, ok := r.Canonical(caep.EventTypeSessionRevoked); !ok || got != caep.EventTypeSessionRevoked {
		t.Errorf("Canonical of a registered type = %s, %v", got, ok)
	}
	const unknown = "https://schemas.openid.net/secevent/oauth/event-type/token-revoked"
	if got, ok := r.Canonical(unknown); ok || got != unknown {
		t.Errorf("Canonical of an unknown type = %s, %v", got, ok)
	}
}

// TestConcurrentDecode exercises one registry from many goroutines while another
// registers (run with -race).
func TestConcurrentDecode(t *testing.T) {
	r := ssf.DefaultRegistry()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				for uri := range allTypes {
					if _, err := r.Decode(uri, []byte(validPayload(uri))); err != nil {
						t.Error(err)
						return
					}
				}
				if g == 0 && i%20 == 0 {
					uri := "urn:example:event:" + string(rune('a'+i/20))
					if err := r.Register(uri, func() event.Event { return &event.Raw{EventType: uri} }); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// FuzzDecode decodes arbitrary payloads as every registered type (and as an alias and
// an unknown type). Property: a successful decode re-encodes to valid JSON, which decodes
// again to an equal value.
func FuzzDecode(f *testing.F) {
	r := ssf.DefaultRegistry()
	types := append(r.Types(), ssf.LegacyEventTypeVerificationSSE, "urn:example:unknown")
	for i, uri := range types {
		f.Add(uint(i), []byte(validPayload(uri)))
	}
	for _, dir := range []string{"testdata/events", "testdata/events/vendor", "testdata/events/negative"} {
		files, _ := filepath.Glob(dir + "/*.json")
		for _, file := range files {
			b, _ := os.ReadFile(file)
			var v vector
			_ = json.Unmarshal(b, &v)
			var set struct {
				Events map[string]json.RawMessage `json:"events"`
			}
			_ = json.Unmarshal(append(v.JSON, v.Claims...), &set)
			for uri, p := range set.Events {
				f.Add(uint(slices.Index(types, uri)), []byte(p))
			}
		}
	}
	f.Fuzz(func(t *testing.T, idx uint, payload []byte) {
		uri := types[idx%uint(len(types))]
		ev, err := r.Decode(uri, payload)
		if err != nil {
			if !errors.Is(err, event.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		direct, err := ev.(json.Marshaler).MarshalJSON()
		if err != nil {
			t.Fatalf("MarshalJSON after a successful Decode: %v", err)
		}
		if !json.Valid(direct) {
			t.Fatalf("MarshalJSON produced invalid JSON: %s", direct)
		}
		out, err := json.Marshal(ev)
		if err != nil {
			t.Fatalf("Marshal after a successful Decode: %v", err)
		}
		again, err := r.Decode(uri, out)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", out, err)
		}
		if d := cmp.Diff(ev, again, rawJSON); d != "" {
			t.Fatalf("decode → encode → decode changed the value (-first +second):\n%s\npayload %q\nencoded %s", d, payload, out)
		}
	})
}

// BenchmarkDefaultRegistry builds the default registry.
func BenchmarkDefaultRegistry(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ssf.DefaultRegistry()
	}
}
