package ssftest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
)

// Managers are the implementations under test, all talking to the same Transmitter.
type Managers struct {
	// A and B act as two different Receiver clients (different client ids).
	A, B ssf.Manager
	// Anonymous, when not nil, sends no credentials: every method must fail with
	// ssf.ErrUnauthorized.
	Anonymous ssf.Manager
}

// Harness describes the implementation under test.
type Harness struct {
	// New returns managers for a fresh Transmitter that has no streams. It is called
	// once per subtest; cleanup belongs to t.Cleanup.
	New func(t *testing.T) Managers
	// Issuer, when not empty, is the "iss" every stream configuration must carry
	// (SSF-STREAM-14).
	Issuer string
	// InsecureHTTP accepts http:// URLs (issuer, endpoints) in configurations: for
	// loopback test servers.
	InsecureHTTP bool
	// PushEndpoint is a push endpoint_url the Transmitter accepts. Empty: the push tests
	// are skipped.
	PushEndpoint string
	// MultipleStreams is true when a client may have several streams; false when a
	// second create must fail with ssf.ErrConflict (SSF-STREAM-17).
	MultipleStreams bool
	// VerifyRateLimited is true when a second verification request right after a first
	// one must fail with ssf.ErrTooManyRequests (min_verification_interval,
	// SSF-STREAM-10).
	VerifyRateLimited bool
	// EventType is an event type the Transmitter supports, used in events_requested.
	// Empty: the CAEP session-revoked type.
	EventType string
}

const sessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("ssftest: Harness.New is required")
	}
	if h.EventType == "" {
		h.EventType = sessionRevoked
	}
	s := &suite{h: h}
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, m Managers)
	}{
		{"CreatePoll", s.createPoll},
		{"CreatePush", s.createPush},
		{"CreateEventsRequested", s.createEventsRequested},
		{"CreateInvalid", s.createInvalid},
		{"CreateSecond", s.createSecond},
		{"Get", s.get},
		{"List", s.list},
		{"Update", s.update},
		{"UpdateInvalid", s.updateInvalid},
		{"Replace", s.replace},
		{"ReplaceInvalid", s.replaceInvalid},
		{"Delete", s.delete},
		{"Status", s.status},
		{"StatusInvalid", s.statusInvalid},
		{"Subjects", s.subjects},
		{"SubjectsInvalid", s.subjectsInvalid},
		{"Verify", s.verify},
		{"VerifyInvalid", s.verifyInvalid},
		{"Isolation", s.isolation},
		{"Unauthenticated", s.unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, h.New(t))
		})
	}
}

type suite struct{ h Harness }

func (s *suite) opts() ssf.ValidateOptions {
	return ssf.ValidateOptions{InsecureAllowHTTP: s.h.InsecureHTTP}
}

// checkConfig checks a configuration returned by the Transmitter (SSF §8.1.1, TS5).
func (s *suite) checkConfig(t *testing.T, cfg *ssf.StreamConfig) {
	t.Helper()
	if cfg == nil {
		t.Fatal("configuration is nil")
	}
	if err := cfg.ValidateWith(s.opts()); err != nil {
		t.Errorf("configuration is invalid: %v", err)
	}
	if s.h.Issuer != "" && cfg.Issuer != s.h.Issuer {
		t.Errorf("iss = %q, want the issuer %q (SSF-STREAM-14)", cfg.Issuer, s.h.Issuer)
	}
	if cfg.Delivery != nil && cfg.Delivery.EndpointURL == "" {
		t.Errorf("delivery.endpoint_url is empty")
	}
}

func (s *suite) mustCreate(t *testing.T, m ssf.Manager, req ssf.StreamConfig) *ssf.StreamConfig {
	t.Helper()
	cfg, err := m.CreateStream(t.Context(), req)
	if err != nil {
		t.Fatalf("CreateStream: %v", err)
	}
	s.checkConfig(t, cfg)
	return cfg
}

// wantErr checks that err matches target.
func wantErr(t *testing.T, op string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error = %v, want one matching %v", op, err, target)
	}
}

// wantInvalid checks that err reports an invalid request: ErrBadRequest from the
// Transmitter, or a local refusal by a client that validates before sending; never
// another management error.
func wantInvalid(t *testing.T, op string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want a bad-request error", op)
		return
	}
	for _, other := range []error{ssf.ErrNotFound, ssf.ErrUnauthorized, ssf.ErrForbidden, ssf.ErrConflict, ssf.ErrTooManyRequests, ssf.ErrAccepted} {
		if errors.Is(err, other) {
			t.Errorf("%s: error = %v, want a bad-request error", op, err)
		}
	}
}

func (s *suite) createPoll(t *testing.T, m Managers) {
	cfg := s.mustCreate(t, m.A, ssf.StreamConfig{Description: "poll stream"})
	if cfg.StreamID == "" {
		t.Fatal("stream_id is empty")
	}
	if got := cfg.EffectiveDeliveryMethod(); got != ssf.DeliveryPoll {
		t.Errorf("delivery method = %q, want poll (SSF §8.1.1.1: no delivery means poll)", got)
	}
	if cfg.Description != "poll stream" {
		t.Errorf("description = %q, want %q", cfg.Description, "poll stream")
	}
	if cfg.EventsDelivered == nil {
		t.Error("events_delivered is absent")
	}
	explicit := s.mustCreate(t, m.B, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.DeliveryPoll}})
	if explicit.EffectiveDeliveryMethod() != ssf.DeliveryPoll || explicit.Delivery.EndpointURL == "" {
		t.Errorf("explicit poll: delivery = %v, want poll with a Transmitter-supplied endpoint_url", explicit.Delivery)
	}
	if explicit.Delivery.EndpointURL == cfg.Delivery.EndpointURL {
		t.Errorf("two streams share the poll endpoint_url %q (SSF-DELIV-4: unique per stream)", cfg.Delivery.EndpointURL)
	}
}

func (s *suite) createPush(t *testing.T, m Managers) {
	if s.h.PushEndpoint == "" {
		t.Skip("no push endpoint")
	}
	d := &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: s.h.PushEndpoint, AuthorizationHeader: "Bearer push-secret"}
	cfg := s.mustCreate(t, m.A, ssf.StreamConfig{Delivery: d})
	if cfg.EffectiveDeliveryMethod() != ssf.DeliveryPush || cfg.Delivery.EndpointURL != s.h.PushEndpoint {
		t.Errorf("delivery = %v, want push to %s", cfg.Delivery, s.h.PushEndpoint)
	}
	if cfg.Delivery.AuthorizationHeader != d.AuthorizationHeader {
		t.Errorf("authorization_header not returned to its owner (AMB-12)")
	}
	legacy := s.mustCreate(t, m.B, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.LegacyDeliveryPush, EndpointURL: s.h.PushEndpoint}})
	if legacy.Delivery.Method != ssf.DeliveryPush {
		t.Errorf("legacy RISC push method: method = %q, want %q (DIFF-4)", legacy.Delivery.Method, ssf.DeliveryPush)
	}
}

func (s *suite) createEventsRequested(t *testing.T, m Managers) {
	const unknown = "https://example.com/event-type/not-supported-anywhere"
	cfg := s.mustCreate(t, m.A, ssf.StreamConfig{EventsRequested: []string{s.h.EventType, unknown}})
	if !slices.Equal(cfg.EventsRequested, []string{s.h.EventType, unknown}) {
		t.Errorf("events_requested = %v, want it as sent", cfg.EventsRequested)
	}
	if !slices.Equal(cfg.EventsDelivered, []string{s.h.EventType}) {
		t.Errorf("events_delivered = %v, want [%s]: requested ∩ supported (SSF-STREAM-8)", cfg.EventsDelivered, s.h.EventType)
	}
	all := s.mustCreate(t, m.B, ssf.StreamConfig{})
	if all.EventsSupported != nil {
		for _, e := range all.EventsDelivered {
			if !slices.Contains(all.EventsSupported, e) {
				t.Errorf("events_delivered has %s, which is not in events_supported", e)
			}
		}
		if len(all.EventsDelivered) != len(all.EventsSupported) {
			t.Errorf("without events_requested, events_delivered = %v, want every supported type %v (AMB-5)", all.EventsDelivered, all.EventsSupported)
		}
	}
	if !s.h.MultipleStreams {
		if err := m.A.DeleteStream(t.Context(), cfg.StreamID); err != nil {
			t.Fatalf("DeleteStream: %v", err)
		}
	}
	none := s.mustCreate(t, m.A, ssf.StreamConfig{EventsRequested: []string{}})
	if none.EventsDelivered == nil || len(none.EventsDelivered) != 0 {
		t.Errorf("events_requested []: events_delivered = %v, want []", none.EventsDelivered)
	}
}

func (s *suite) createInvalid(t *testing.T, m Managers) {
	ctx := t.Context()
	_, err := m.A.CreateStream(ctx, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: "urn:example:carrier-pigeon"}})
	wantInvalid(t, "unsupported delivery method", err)
	_, err = m.A.CreateStream(ctx, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.DeliveryPush}})
	wantInvalid(t, "push without endpoint_url", err)
	_, err = m.A.CreateStream(ctx, ssf.StreamConfig{Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: "ftp://receiver.example/events"}})
	wantInvalid(t, "push to an ftp URL", err)
	list, err := m.A.ListStreams(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("after refused creates: ListStreams = %d streams, %v; want none", len(list), err)
	}
}

func (s *suite) createSecond(t *testing.T, m Managers) {
	first := s.mustCreate(t, m.A, ssf.StreamConfig{})
	second, err := m.A.CreateStream(t.Context(), ssf.StreamConfig{})
	if s.h.MultipleStreams {
		if err != nil {
			t.Fatalf("second CreateStream: %v, want a new stream (SSF-STREAM-17)", err)
		}
		if second.StreamID == first.StreamID {
			t.Errorf("second stream has the same stream_id %q", first.StreamID)
		}
	} else {
		wantErr(t, "second CreateStream", err, ssf.ErrConflict)
	}
	// Another client is another Receiver: its first stream is always allowed.
	s.mustCreate(t, m.B, ssf.StreamConfig{})
}

func (s *suite) get(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{Description: "read me", EventsRequested: []string{s.h.EventType}})
	got, err := m.A.GetStream(ctx, created.StreamID)
	if err != nil {
		t.Fatalf("GetStream: %v", err)
	}
	s.checkConfig(t, got)
	if got.StreamID != created.StreamID || got.Description != created.Description ||
		!slices.Equal(got.EventsDelivered, created.EventsDelivered) || !got.Audience.Equal(created.Audience) {
		t.Errorf("GetStream = %+v, want the created configuration %+v", got, created)
	}
	_, err = m.A.GetStream(ctx, "no-such-stream")
	wantErr(t, "GetStream(unknown)", err, ssf.ErrNotFound)
	_, err = m.A.GetStream(ctx, "")
	wantInvalid(t, "GetStream(\"\")", err)
}

func (s *suite) list(t *testing.T, m Managers) {
	ctx := t.Context()
	list, err := m.A.ListStreams(ctx)
	if err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	if list == nil || len(list) != 0 {
		t.Errorf("ListStreams without streams = %#v, want an empty, non-nil slice (SSF-STREAM-20)", list)
	}
	a1 := s.mustCreate(t, m.A, ssf.StreamConfig{})
	want := []string{a1.StreamID}
	if s.h.MultipleStreams {
		want = append(want, s.mustCreate(t, m.A, ssf.StreamConfig{}).StreamID)
	}
	s.mustCreate(t, m.B, ssf.StreamConfig{})
	list, err = m.A.ListStreams(ctx)
	if err != nil {
		t.Fatalf("ListStreams: %v", err)
	}
	var ids []string
	for i := range list {
		s.checkConfig(t, &list[i])
		ids = append(ids, list[i].StreamID)
	}
	slices.Sort(ids)
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("ListStreams ids = %v, want exactly the client's own %v", ids, want)
	}
}

func (s *suite) update(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{Description: "before", EventsRequested: []string{s.h.EventType}})
	desc := "after"
	got, err := m.A.UpdateStream(ctx, ssf.StreamUpdate{StreamID: created.StreamID, Description: &desc})
	if err != nil {
		t.Fatalf("UpdateStream(description): %v", err)
	}
	s.checkConfig(t, got)
	if got.Description != "after" {
		t.Errorf("description = %q, want %q", got.Description, "after")
	}
	if !slices.Equal(got.EventsRequested, created.EventsRequested) || got.Delivery.Method != created.Delivery.Method {
		t.Errorf("absent members changed: %+v, was %+v (SSF-STREAM-22)", got, created)
	}
	// Transmitter-supplied members equal to their current values are accepted.
	iss := created.Issuer
	got, err = m.A.UpdateStream(ctx, ssf.StreamUpdate{
		StreamID: created.StreamID, Issuer: &iss, Audience: created.Audience,
		EventsDelivered: created.EventsDelivered, EventsRequested: []string{},
	})
	if err != nil {
		t.Fatalf("UpdateStream(current Transmitter-supplied values): %v", err)
	}
	if len(got.EventsDelivered) != 0 {
		t.Errorf("events_requested []: events_delivered = %v, want [] (recomputed)", got.EventsDelivered)
	}
	if s.h.PushEndpoint != "" {
		got, err = m.A.UpdateStream(ctx, ssf.StreamUpdate{StreamID: created.StreamID, Delivery: &ssf.Delivery{Method: ssf.DeliveryPush, EndpointURL: s.h.PushEndpoint}})
		if err != nil {
			t.Fatalf("UpdateStream(to push): %v", err)
		}
		if got.EffectiveDeliveryMethod() != ssf.DeliveryPush || got.Delivery.EndpointURL != s.h.PushEndpoint {
			t.Errorf("delivery = %v, want push", got.Delivery)
		}
		got, err = m.A.UpdateStream(ctx, ssf.StreamUpdate{StreamID: created.StreamID, Delivery: &ssf.Delivery{Method: ssf.DeliveryPoll}})
		if err != nil {
			t.Fatalf("UpdateStream(back to poll): %v", err)
		}
		if got.EffectiveDeliveryMethod() != ssf.DeliveryPoll || got.Delivery.EndpointURL == "" {
			t.Errorf("delivery = %v, want poll with a Transmitter-supplied endpoint_url", got.Delivery)
		}
	}
	read, err := m.A.GetStream(ctx, created.StreamID)
	if err != nil || read.Description != "after" {
		t.Errorf("GetStream after update: description %q, %v; want the update stored", read.Description, err)
	}
}

func (s *suite) updateInvalid(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{Description: "unchanged"})
	wrong := "https://not-the-issuer.example"
	desc := "changed"
	_, err := m.A.UpdateStream(ctx, ssf.StreamUpdate{StreamID: created.StreamID, Issuer: &wrong, Description: &desc})
	wantErr(t, "UpdateStream(wrong iss)", err, ssf.ErrBadRequest)
	_, err = m.A.UpdateStream(ctx, ssf.StreamUpdate{StreamID: created.StreamID, Audience: ssf.Audience{"someone-else"}, Description: &desc})
	wantErr(t, "UpdateStream(other aud)", err, ssf.ErrBadRequest)
	_, err = m.A.UpdateStream(ctx, ssf.StreamUpdate{StreamID: created.StreamID, EventsDelivered: []string{"https://example.com/x"}, Description: &desc})
	wantErr(t, "UpdateStream(wrong events_delivered)", err, ssf.ErrBadRequest)
	_, err = m.A.UpdateStream(ctx, ssf.StreamUpdate{StreamID: created.StreamID, Delivery: &ssf.Delivery{Method: "urn:example:carrier-pigeon"}})
	wantInvalid(t, "UpdateStream(unsupported method)", err)
	_, err = m.A.UpdateStream(ctx, ssf.StreamUpdate{StreamID: "no-such-stream", Description: &desc})
	wantErr(t, "UpdateStream(unknown)", err, ssf.ErrNotFound)
	_, err = m.A.UpdateStream(ctx, ssf.StreamUpdate{Description: &desc})
	wantInvalid(t, "UpdateStream(no stream_id)", err)
	got, err := m.A.GetStream(ctx, created.StreamID)
	if err != nil || got.Description != "unchanged" {
		t.Errorf("after refused updates: description %q, %v; want it unchanged", got.Description, err)
	}
}

func (s *suite) replace(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{Description: "to be deleted", EventsRequested: []string{s.h.EventType}})
	// GET, edit, PUT (SSF §8.1.1.4): the whole configuration, Transmitter-supplied
	// members included, is a valid replace request.
	cur, err := m.A.GetStream(ctx, created.StreamID)
	if err != nil {
		t.Fatalf("GetStream: %v", err)
	}
	cur.EventsRequested = nil
	cur.Description = ""
	got, err := m.A.ReplaceStream(ctx, *cur)
	if err != nil {
		t.Fatalf("ReplaceStream: %v", err)
	}
	s.checkConfig(t, got)
	if got.Description != "" {
		t.Errorf("description = %q, want it deleted (absent in the replace request)", got.Description)
	}
	if got.EventsRequested != nil {
		t.Errorf("events_requested = %v, want it deleted", got.EventsRequested)
	}
	if got.StreamID != created.StreamID || got.Issuer != created.Issuer || !got.Audience.Equal(created.Audience) {
		t.Errorf("Transmitter-supplied members changed: %+v, was %+v", got, created)
	}
}

func (s *suite) replaceInvalid(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{Description: "unchanged"})
	req := *created
	req.Audience = ssf.Audience{"someone-else"}
	req.Description = "changed"
	_, err := m.A.ReplaceStream(ctx, req)
	wantErr(t, "ReplaceStream(other aud)", err, ssf.ErrBadRequest)
	req = *created
	req.Issuer = "https://not-the-issuer.example"
	_, err = m.A.ReplaceStream(ctx, req)
	wantErr(t, "ReplaceStream(wrong iss)", err, ssf.ErrBadRequest)
	_, err = m.A.ReplaceStream(ctx, ssf.StreamConfig{StreamID: "no-such-stream"})
	wantErr(t, "ReplaceStream(unknown)", err, ssf.ErrNotFound)
	_, err = m.A.ReplaceStream(ctx, ssf.StreamConfig{Description: "no id"})
	wantInvalid(t, "ReplaceStream(no stream_id)", err)
	got, err := m.A.GetStream(ctx, created.StreamID)
	if err != nil || got.Description != "unchanged" {
		t.Errorf("after refused replaces: description %q, %v; want it unchanged", got.Description, err)
	}
}

func (s *suite) delete(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{})
	if err := m.A.DeleteStream(ctx, created.StreamID); err != nil {
		t.Fatalf("DeleteStream: %v", err)
	}
	_, err := m.A.GetStream(ctx, created.StreamID)
	wantErr(t, "GetStream(deleted)", err, ssf.ErrNotFound)
	wantErr(t, "DeleteStream(deleted)", m.A.DeleteStream(ctx, created.StreamID), ssf.ErrNotFound)
	_, err = m.A.GetStatus(ctx, created.StreamID)
	wantErr(t, "GetStatus(deleted)", err, ssf.ErrNotFound)
	// A new stream never gets a deleted stream's id (AMB-23).
	again := s.mustCreate(t, m.A, ssf.StreamConfig{})
	if again.StreamID == created.StreamID {
		t.Errorf("a new stream reuses the deleted stream_id %q", created.StreamID)
	}
}

func (s *suite) status(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{})
	st, err := m.A.GetStatus(ctx, created.StreamID)
	if err != nil {
		t.Fatalf("GetStatus: %v", err)
	}
	if st.StreamID != created.StreamID || st.Status != ssf.StatusEnabled {
		t.Errorf("initial status = %+v, want enabled", st)
	}
	for _, want := range []ssf.StreamStatus{
		{StreamID: created.StreamID, Status: ssf.StatusPaused, Reason: "maintenance"},
		{StreamID: created.StreamID, Status: ssf.StatusPaused, Reason: "still maintenance"},
		{StreamID: created.StreamID, Status: ssf.StatusDisabled},
		{StreamID: created.StreamID, Status: ssf.StatusEnabled, Reason: "back"},
	} {
		got, err := m.A.UpdateStatus(ctx, want)
		if err != nil {
			t.Fatalf("UpdateStatus(%s): %v", want.Status, err)
		}
		if got.StreamID != want.StreamID || got.Status != want.Status || got.Reason != want.Reason {
			t.Errorf("UpdateStatus(%+v) = %+v", want, got)
		}
		read, err := m.A.GetStatus(ctx, created.StreamID)
		if err != nil || read.Status != want.Status || read.Reason != want.Reason {
			t.Errorf("GetStatus after UpdateStatus(%+v) = %+v, %v", want, read, err)
		}
	}
}

func (s *suite) statusInvalid(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{})
	_, err := m.A.UpdateStatus(ctx, ssf.StreamStatus{StreamID: created.StreamID, Status: "sleeping"})
	wantInvalid(t, "UpdateStatus(sleeping)", err)
	_, err = m.A.UpdateStatus(ctx, ssf.StreamStatus{StreamID: "no-such-stream", Status: ssf.StatusPaused})
	wantErr(t, "UpdateStatus(unknown)", err, ssf.ErrNotFound)
	_, err = m.A.GetStatus(ctx, "no-such-stream")
	wantErr(t, "GetStatus(unknown)", err, ssf.ErrNotFound)
	st, err := m.A.GetStatus(ctx, created.StreamID)
	if err != nil || st.Status != ssf.StatusEnabled {
		t.Errorf("after refused updates: status %+v, %v; want enabled", st, err)
	}
}

func (s *suite) subjects(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{})
	email := &subject.Email{Email: "user@example.com"}
	no := false
	for _, req := range []ssf.AddSubjectRequest{
		{StreamID: created.StreamID, Subject: email},
		{StreamID: created.StreamID, Subject: &subject.IssSub{Iss: "https://idp.example.com/", Sub: "145234573"}, Verified: &no},
		{StreamID: created.StreamID, Subject: &subject.Complex{
			User:   &subject.Email{Email: "user@example.com"},
			Tenant: &subject.Opaque{ID: "tenant-1"},
		}},
	} {
		if err := m.A.AddSubject(ctx, req); err != nil {
			t.Errorf("AddSubject(%s): %v", req.Subject.Format(), err)
		}
	}
	if err := m.A.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: created.StreamID, Subject: email}); err != nil {
		t.Errorf("AddSubject again: %v (adding is idempotent)", err)
	}
	if err := m.A.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: created.StreamID, Subject: email}); err != nil {
		t.Errorf("RemoveSubject: %v", err)
	}
	if err := m.A.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: created.StreamID, Subject: &subject.Email{Email: "never-added@example.com"}}); err != nil {
		t.Errorf("RemoveSubject(never added): %v", err)
	}
}

func (s *suite) subjectsInvalid(t *testing.T, m Managers) {
	ctx := t.Context()
	created := s.mustCreate(t, m.A, ssf.StreamConfig{})
	email := &subject.Email{Email: "user@example.com"}
	wantErr(t, "AddSubject(unknown stream)", m.A.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: "no-such-stream", Subject: email}), ssf.ErrNotFound)
	wantErr(t, "RemoveSubject(unknown stream)", m.A.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: "no-such-stream", Subject: email}), ssf.ErrNotFound)
	wantInvalid(t, "AddSubject(no subject)", m.A.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: created.StreamID}))
	wantInvalid(t, "AddSubject(invalid email)", m.A.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: created.StreamID, Subject: &subject.Email{Email: "not an address"}}))
	wantInvalid(t, "RemoveSubject(no subject)", m.A.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: created.StreamID}))
	// The stream's own subject is always part of it (SSF §8.1.4.1, §8.1.5).
	err := m.A.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: created.StreamID, Subject: &subject.Opaque{ID: created.StreamID}})
	wantErr(t, "RemoveSubject(the stream's own subject)", err, ssf.ErrBadRequest)
}

func (s *suite) verify(t *testing.T, m Managers) {
	ctx := t.Context()
	a := s.mustCreate(t, m.A, ssf.StreamConfig{})
	if err := m.A.Verify(ctx, ssf.VerifyRequest{StreamID: a.StreamID, State: "state-1"}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	err := m.A.Verify(ctx, ssf.VerifyRequest{StreamID: a.StreamID})
	if s.h.VerifyRateLimited {
		wantErr(t, "Verify again at once", err, ssf.ErrTooManyRequests)
		if rl, ok := errors.AsType[*ssf.RateLimitError](err); ok && rl.RetryAfter <= 0 {
			t.Errorf("rate-limit error without a retry time: %v", rl)
		}
	} else if err != nil {
		t.Errorf("Verify again: %v", err)
	}
	b := s.mustCreate(t, m.B, ssf.StreamConfig{})
	if err := m.B.Verify(ctx, ssf.VerifyRequest{StreamID: b.StreamID}); err != nil {
		t.Errorf("Verify without state: %v", err)
	}
}

func (s *suite) verifyInvalid(t *testing.T, m Managers) {
	ctx := t.Context()
	wantErr(t, "Verify(unknown)", m.A.Verify(ctx, ssf.VerifyRequest{StreamID: "no-such-stream"}), ssf.ErrNotFound)
	wantInvalid(t, "Verify(no stream_id)", m.A.Verify(ctx, ssf.VerifyRequest{}))
}

// isolation: nothing client B does can read, change or reveal client A's stream.
func (s *suite) isolation(t *testing.T, m Managers) {
	ctx := t.Context()
	a := s.mustCreate(t, m.A, ssf.StreamConfig{Description: "A's"})
	id := a.StreamID
	desc := "B was here"
	email := &subject.Email{Email: "user@example.com"}
	unknown := func(op string, err error) {
		t.Helper()
		wantErr(t, "B "+op+" on A's stream", err, ssf.ErrNotFound)
	}
	_, err := m.B.GetStream(ctx, id)
	unknown("GetStream", err)
	_, err = m.B.UpdateStream(ctx, ssf.StreamUpdate{StreamID: id, Description: &desc})
	unknown("UpdateStream", err)
	_, err = m.B.ReplaceStream(ctx, ssf.StreamConfig{StreamID: id, Description: desc})
	unknown("ReplaceStream", err)
	_, err = m.B.GetStatus(ctx, id)
	unknown("GetStatus", err)
	_, err = m.B.UpdateStatus(ctx, ssf.StreamStatus{StreamID: id, Status: ssf.StatusDisabled})
	unknown("UpdateStatus", err)
	unknown("AddSubject", m.B.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: id, Subject: email}))
	unknown("RemoveSubject", m.B.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: id, Subject: email}))
	unknown("Verify", m.B.Verify(ctx, ssf.VerifyRequest{StreamID: id}))
	unknown("DeleteStream", m.B.DeleteStream(ctx, id))
	list, err := m.B.ListStreams(ctx)
	if err != nil || len(list) != 0 {
		t.Errorf("B ListStreams = %d streams, %v; want none of A's", len(list), err)
	}
	got, err := m.A.GetStream(ctx, id)
	if err != nil || got.Description != "A's" {
		t.Errorf("A's stream after B's attempts: %+v, %v; want it unchanged", got, err)
	}
	st, err := m.A.GetStatus(ctx, id)
	if err != nil || st.Status != ssf.StatusEnabled {
		t.Errorf("A's status after B's attempts: %+v, %v; want enabled", st, err)
	}
}

func (s *suite) unauthenticated(t *testing.T, m Managers) {
	if m.Anonymous == nil {
		t.Skip("no anonymous manager")
	}
	ctx := t.Context()
	a := s.mustCreate(t, m.A, ssf.StreamConfig{})
	id := a.StreamID
	desc := "x"
	email := &subject.Email{Email: "user@example.com"}
	for _, c := range []struct {
		op string
		fn func(context.Context) error
	}{
		{"CreateStream", func(ctx context.Context) error {
			_, err := m.Anonymous.CreateStream(ctx, ssf.StreamConfig{})
			return err
		}},
		{"GetStream", func(ctx context.Context) error { _, err := m.Anonymous.GetStream(ctx, id); return err }},
		{"ListStreams", func(ctx context.Context) error { _, err := m.Anonymous.ListStreams(ctx); return err }},
		{"UpdateStream", func(ctx context.Context) error {
			_, err := m.Anonymous.UpdateStream(ctx, ssf.StreamUpdate{StreamID: id, Description: &desc})
			return err
		}},
		{"ReplaceStream", func(ctx context.Context) error {
			_, err := m.Anonymous.ReplaceStream(ctx, ssf.StreamConfig{StreamID: id})
			return err
		}},
		{"DeleteStream", func(ctx context.Context) error { return m.Anonymous.DeleteStream(ctx, id) }},
		{"GetStatus", func(ctx context.Context) error { _, err := m.Anonymous.GetStatus(ctx, id); return err }},
		{"UpdateStatus", func(ctx context.Context) error {
			_, err := m.Anonymous.UpdateStatus(ctx, ssf.StreamStatus{StreamID: id, Status: ssf.StatusPaused})
			return err
		}},
		{"AddSubject", func(ctx context.Context) error {
			return m.Anonymous.AddSubject(ctx, ssf.AddSubjectRequest{StreamID: id, Subject: email})
		}},
		{"RemoveSubject", func(ctx context.Context) error {
			return m.Anonymous.RemoveSubject(ctx, ssf.RemoveSubjectRequest{StreamID: id, Subject: email})
		}},
		{"Verify", func(ctx context.Context) error { return m.Anonymous.Verify(ctx, ssf.VerifyRequest{StreamID: id}) }},
	} {
		wantErr(t, "anonymous "+c.op, c.fn(ctx), ssf.ErrUnauthorized)
	}
	if _, err := m.A.GetStream(ctx, id); err != nil {
		t.Errorf("A's stream after anonymous attempts: %v", err)
	}
}
