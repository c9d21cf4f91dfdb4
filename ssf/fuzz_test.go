package ssf

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// addVectorSeeds adds the "json" member of every vector of the given kinds as a seed.
func addVectorSeeds(f *testing.F, kinds ...string) {
	files, _ := filepath.Glob(filepath.Join("testdata", "vectors", "*", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var v wireVector
		if err := json.Unmarshal(data, &v); err != nil {
			f.Fatal(err)
		}
		for _, k := range kinds {
			if v.Kind == k && len(v.JSON) > 0 {
				f.Add([]byte(v.JSON))
			}
		}
	}
}

// stable checks the decoder invariants for one type: anything that decodes also
// validates without panicking, encodes, and decodes again to an equal value.
func stable[T any](t *testing.T, data []byte, validate func(*T) error, opts ...cmp.Option) {
	t.Helper()
	var first T
	if err := json.Unmarshal(data, &first); err != nil {
		if HTTPStatus(err) != 400 {
			t.Fatalf("decoding error %v maps to %d, want 400", err, HTTPStatus(err))
		}
		return
	}
	_ = validate(&first)
	enc, err := json.Marshal(&first)
	if err != nil {
		t.Fatalf("%T decoded from %q does not encode: %v", first, data, err)
	}
	var second T
	if err := json.Unmarshal(enc, &second); err != nil {
		t.Fatalf("%T: re-decoding %s: %v", first, enc, err)
	}
	opts = append(opts, rawJSONComparer)
	if d := cmp.Diff(first, second, opts...); d != "" {
		t.Fatalf("%T changed in a round trip through %s (-first +second):\n%s", first, enc, d)
	}
}

func FuzzStreamConfig(f *testing.F) {
	addVectorSeeds(f, "stream-config", "request")
	f.Add([]byte(`{"delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"https://r.example"},"aud":"a","min_verification_interval":3e1,"x":null}`))
	f.Add([]byte(`{"stream_id":"s","description":"","iss":"","aud":[],"events_delivered":[],"delivery":{"method":"urn:ietf:rfc:8936","endpoint_url":"https://t/p"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		stable(t, data, func(c *StreamConfig) error {
			_ = c.ValidateRequest()
			_ = c.ReceiverSupplied()
			_ = c.TransmitterSuppliedPresent()
			_, _ = c.ApplyReplace(c.Clone())
			return c.Validate()
		})
		stable(t, data, func(u *StreamUpdate) error {
			var current StreamConfig
			if json.Unmarshal(data, &current) == nil {
				_, _ = u.Apply(&current)
			}
			return u.Validate()
		})
		stable(t, data, func(d *Delivery) error { return d.Validate() })
		stable(t, data, func(l *[]StreamConfig) error { return nil })
	})
}

func FuzzMetadata(f *testing.F) {
	addVectorSeeds(f, "metadata")
	f.Add([]byte(`{"issuer":"https://a.example","spec_version":"10","get_status_endpoint":"https://a.example/s","delivery_methods_supported":[],"authorization_schemes":[{"spec_urn":"urn:ietf:rfc:6749","x":1}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Strict. Encoding omits empty arrays, so compare them as equal to absent.
		stable(t, data, func(m *Metadata) error {
			_ = m.ValidateInteropProfile(InteropOptions{})
			_ = m.CheckLocation("https://a.example/.well-known/ssf-configuration")
			return m.Validate()
		}, cmpopts.EquateEmpty())
		// Lenient: the result encodes and decodes strictly to the same value.
		m, _, err := ParseMetadataLenient(data)
		if err != nil {
			return
		}
		_ = m.Validate()
		enc, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("lenient result does not encode: %v", err)
		}
		var again Metadata
		if err := json.Unmarshal(enc, &again); err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if d := cmp.Diff(m, &again, rawJSONComparer, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("lenient round trip (-first +second):\n%s", d)
		}
		// Lenient parsing is idempotent.
		m2, _, err := ParseMetadataLenient(enc)
		if err != nil {
			t.Fatalf("second lenient parse: %v", err)
		}
		if d := cmp.Diff(m, m2, rawJSONComparer, cmpopts.EquateEmpty()); d != "" {
			t.Fatalf("lenient parse not idempotent (-first +second):\n%s", d)
		}
	})
}

func FuzzPollRequest(f *testing.F) {
	addVectorSeeds(f, "poll-request", "poll-response", "error")
	f.Add([]byte(`{"maxEvents":1e1,"returnImmediately":false,"ack":[],"setErrs":{"j":{"err":"invalid_key","description":"d","x":[1]}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		stable(t, data, func(r *PollRequest) error {
			_ = r.BatchSize(100)
			return r.Validate()
		}, cmpopts.EquateEmpty())
		stable(t, data, func(r *PollResponse) error { return r.Validate() }, cmpopts.EquateEmpty())
		stable(t, data, func(e *SETError) error { return e.Validate() })
	})
}

// FuzzMessages covers the remaining parsers: status, verification and subject requests
// (strict and lenient), audience and the error-body reader of ErrorFromResponse.
func FuzzMessages(f *testing.F) {
	addVectorSeeds(f, "status", "request", "error")
	f.Add([]byte(`["a","b"]`))
	f.Add([]byte(`{"error":"not_found","error_description":"x"}`))
	f.Add([]byte(`{"stream_id":"s","subject":{"user":{"subject_type":"iss-sub","iss":"https://i.example","sub":"u"}},"verified":false}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		stable(t, data, func(s *StreamStatus) error { return s.Validate() })
		stable(t, data, func(r *VerifyRequest) error { return r.Validate() })
		stable(t, data, func(a *Audience) error { _ = a.Contains("x"); return a.validate() })
		stable(t, data, func(r *AddSubjectRequest) error { _ = r.IsVerified(); return r.Validate() }, subjectComparer)
		stable(t, data, func(r *RemoveSubjectRequest) error { return r.Validate() }, subjectComparer)
		// A lenient result encodes and then decodes strictly to the same request.
		if r, _, err := ParseAddSubjectRequestLenient(data); err == nil {
			enc, err := json.Marshal(r)
			if err != nil {
				t.Fatalf("lenient add-subject request does not encode: %v", err)
			}
			var again AddSubjectRequest
			if err := json.Unmarshal(enc, &again); err != nil {
				t.Fatalf("normalized request %s is not strict: %v", enc, err)
			}
			if d := cmp.Diff(r, &again, subjectComparer, rawJSONComparer); d != "" {
				t.Fatal(d)
			}
		}
		for _, status := range []int{400, 429} {
			err := ErrorFromResponse(status, nil, data)
			if HTTPStatus(err) != status {
				t.Fatalf("ErrorFromResponse(%d) maps back to %d", status, HTTPStatus(err))
			}
			r := NewErrorResponse(err)
			if _, err := json.Marshal(r); err != nil {
				t.Fatal(err)
			}
		}
	})
}
