package postgres

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/store/internal/record"
)

// FuzzConfigRoundTrip checks that every stream configuration the SSF decoder produces is
// stored and read back unchanged (presence of members, raw extra members byte for byte,
// legacy delivery method URIs as decoded). A configuration the codec refuses must be
// refused with ErrInvalidText, never changed.
func FuzzConfigRoundTrip(f *testing.F) {
	for _, s := range []string{
		`{"stream_id":"s","iss":"https://tx.example.com","aud":["a","b"],"events_supported":[],"events_delivered":["x"],"delivery":{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r/x","authorization_header":"Bearer t","x":{"y":[1, 2]}},"min_verification_interval":0,"format":"iss_sub"}`,
		`{"aud":"single","delivery":{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/poll","url":"https://t/p"},"description":"","inactivity_timeout":86400}`,
		`{}`,
		`{"events_requested":null,"extra":{"a":"\u00e9"}}`,
		`{"description":"nul \u0000 inside","x":[ 1 ,2 ]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c ssf.StreamConfig
		if json.Unmarshal(data, &c) != nil {
			return
		}
		enc, err := encodeConfig(&c)
		if errors.Is(err, ErrInvalidText) {
			return
		}
		if err != nil {
			t.Fatalf("encodeConfig: %v", err)
		}
		got, err := record.Decode(enc)
		if err != nil {
			t.Fatalf("record.Decode(%s): %v", enc, err)
		}
		if d := cmp.Diff(c, got); d != "" {
			t.Fatalf("stored configuration differs (-decoded +stored):\n%s", d)
		}
	})
}

func TestConfigInvalidUTF8Refused(t *testing.T) {
	c := ssf.StreamConfig{Delivery: &ssf.Delivery{AuthorizationHeader: "Bearer \xff secret"}}
	_, err := encodeConfig(&c)
	if !errors.Is(err, ErrInvalidText) || strings.Contains(err.Error(), "secret") {
		t.Fatalf("encodeConfig with an invalid UTF-8 authorization header = %v; want ErrInvalidText without the value", err)
	}
}

func TestEncodeTimes(t *testing.T) {
	var e enc
	if v := e.ts("t", time.Time{}); v != negInf {
		t.Errorf("zero time encoded as %+v, want -infinity", v)
	}
	ns := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600))
	if v := e.ts("t", ns); !v.Time.Equal(time.Date(2030, 1, 2, 2, 4, 5, 123456000, time.UTC)) {
		t.Errorf("nanoseconds encoded as %v, want truncated to the microsecond", v.Time)
	}
	if v := e.until("t", maxTime.Add(-time.Hour), 1<<63-1); !v.Time.Equal(maxTime) {
		t.Errorf("a lease past year 9999 ends %v, want clamped to %v", v.Time, maxTime)
	}
	if v := e.until("t", time.Time{}, time.Hour); !v.Time.Equal(time.Time{}.Add(time.Hour)) {
		t.Errorf("a lease from the zero time ends %v", v.Time)
	}
	if e.err != nil {
		t.Fatalf("valid times refused: %v", e.err)
	}
	for _, bad := range []time.Time{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)} {
		var e enc
		e.ts("CreatedAt", bad)
		if !errors.Is(e.err, ErrTimeRange) || !strings.Contains(e.err.Error(), "CreatedAt") {
			t.Errorf("time %v: error %v, want ErrTimeRange naming the field", bad, e.err)
		}
	}
}

// TestUnstorableValues: text PostgreSQL cannot hold is refused on writes with
// ErrInvalidText (naming the field, not echoing the value); lookups by such keys find
// nothing; times outside years 1..9999 are refused with ErrTimeRange.
func TestUnstorableValues(t *testing.T) {
	st := openStore(t, freshSchema(t), Options{})
	ctx := t.Context()
	mkStream(t, st, "s1", ssf.DeliveryPush, ssf.StatusEnabled)

	err := st.Enqueue(ctx, []*store.OutboxSET{set("s1", "ok"), set("s1", "nul\x00jti")})
	if !errors.Is(err, ErrInvalidText) || !strings.Contains(err.Error(), "JTI") {
		t.Fatalf("Enqueue with a NUL in a jti = %v, want ErrInvalidText naming JTI", err)
	}
	_, err = st.InboxAdd(ctx, &store.InboxSET{Issuer: "https://tx\xff", JTI: "j", ReceivedAt: at(0)})
	if !errors.Is(err, ErrInvalidText) {
		t.Fatalf("InboxAdd with invalid UTF-8 = %v, want ErrInvalidText", err)
	}
	bad := mkStreamValue("bad\x00id")
	if err := st.CreateStream(ctx, bad); !errors.Is(err, ErrInvalidText) {
		t.Fatalf("CreateStream with a NUL in the ID = %v, want ErrInvalidText", err)
	}
	// A stream description may hold a NUL: the configuration is JSON text (escaped).
	withNUL := mkStreamValue("s2")
	withNUL.Config.Description = "a\x00b"
	if err := st.CreateStream(ctx, withNUL); err != nil {
		t.Fatalf("CreateStream with a NUL in the description: %v", err)
	}
	if got, err := st.GetStream(ctx, "s2"); err != nil || got.Config.Description != "a\x00b" {
		t.Fatalf("GetStream(s2) = %+v, %v", got, err)
	}

	if _, err := st.GetStream(ctx, "s1\x00"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetStream with a NUL = %v, want ErrNotFound", err)
	}
	if err := st.DeleteStream(ctx, "\xff"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteStream with invalid UTF-8 = %v, want ErrNotFound", err)
	}
	if found, err := st.Ack(ctx, "s1", []string{"a\x00"}); err != nil || len(found) != 0 {
		t.Errorf("Ack of a NUL jti = %v, %v", found, err)
	}
	if err := st.Retry(ctx, "s1", "x\x00", "w", at(1), ""); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Retry of a NUL jti = %v, want ErrNotFound", err)
	}
	if err := st.InboxDone(ctx, "i", "j\x00", "", at(1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("InboxDone of a NUL jti = %v, want ErrNotFound", err)
	}
	if subs, err := st.ListSubjects(ctx, "\x00"); err != nil || len(subs) != 0 {
		t.Errorf("ListSubjects(NUL) = %v, %v", subs, err)
	}

	late := mkStreamValue("s3")
	late.CreatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.CreateStream(ctx, late); !errors.Is(err, ErrTimeRange) {
		t.Fatalf("CreateStream in year 10000 = %v, want ErrTimeRange", err)
	}
	// The longest lease is clamped, not refused.
	must(t, st.Enqueue(ctx, []*store.OutboxSET{set("s1", "a")}))
	got, err := st.Lease(ctx, store.LeaseRequest{Owner: "w", Limit: 1, Duration: 1<<63 - 1, Now: maxTime.Add(-time.Hour)})
	if err != nil || len(got) != 1 || !got[0].LeaseUntil.Equal(maxTime) {
		t.Fatalf("Lease with the longest duration = %v, %v", got, err)
	}
}

func mkStreamValue(id string) *store.Stream {
	return &store.Stream{ID: id, ClientID: "c", Status: ssf.StatusEnabled, CreatedAt: at(0),
		Config: ssf.StreamConfig{StreamID: id, Delivery: &ssf.Delivery{Method: ssf.DeliveryPoll}}}
}

// TestTimesRoundTrip: times come back as the same instant (microseconds), in UTC; the
// zero time stays zero.
func TestTimesRoundTrip(t *testing.T) {
	st := openStore(t, freshSchema(t), Options{})
	s := mkStreamValue("s1")
	s.CreatedAt = time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC) // the earliest non-zero time stored
	s.UpdatedAt = time.Date(2030, 1, 2, 3, 4, 5, 999999000, time.FixedZone("CET", 3600))
	s.LastActivityAt = maxTime
	must(t, st.CreateStream(t.Context(), s))
	got, err := st.GetStream(t.Context(), "s1")
	must(t, err)
	for name, p := range map[string][2]time.Time{
		"CreatedAt": {got.CreatedAt, s.CreatedAt}, "UpdatedAt": {got.UpdatedAt, s.UpdatedAt},
		"LastActivityAt": {got.LastActivityAt, s.LastActivityAt}, "LastVerificationAt": {got.LastVerificationAt, time.Time{}},
	} {
		if !p[0].Equal(p[1]) || p[0].Location() != time.UTC {
			t.Errorf("%s = %v, want %v in UTC", name, p[0], p[1])
		}
	}
}
