package ssf

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPollRequestDefault(t *testing.T) {
	var r PollRequest
	if err := json.Unmarshal([]byte(`{}`), &r); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(PollRequest{}, r); d != "" {
		t.Error(d)
	}
	if r.BatchSize(0) != -1 {
		t.Errorf("omitted maxEvents is no limit (AMB-25), BatchSize = %d", r.BatchSize(0))
	}
	sameJSON(t, []byte(`{}`), mustMarshal(t, r))
}

func TestPollRequestEncoding(t *testing.T) {
	r := PollRequest{
		MaxEvents:         intp(0),
		ReturnImmediately: true,
		Ack:               []string{"a", "b"},
		SetErrs: map[string]SETError{
			"z": {Err: CodeInvalidState, Description: "state mismatch"},
			"c": {Err: CodeInvalidKey},
		},
		Extra: map[string]json.RawMessage{"vendor": json.RawMessage(`1`)},
	}
	got := string(mustMarshal(t, r))
	want := `{"maxEvents":0,"returnImmediately":true,"ack":["a","b"],"setErrs":{"c":{"err":"invalid_key","description":""},"z":{"err":"invalid_state","description":"state mismatch"}},"vendor":1}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	_, err := json.Marshal(PollRequest{MaxEvents: intp(-1)})
	wantMemberError(t, err, "maxEvents", "negative")
	_, err = json.Marshal(PollRequest{Extra: map[string]json.RawMessage{"ack": json.RawMessage(`[]`)}})
	wantMemberError(t, err, "ack", "collides")
	_, err = json.Marshal(PollRequest{SetErrs: map[string]SETError{"j": {Err: "x", Extra: map[string]json.RawMessage{"err": json.RawMessage(`"y"`)}}}})
	wantMemberError(t, err, "err", "collides")
}

func TestPollRequestDecodeWrongTypes(t *testing.T) {
	for _, tc := range []struct{ json, member, msg string }{
		{`[]`, "", "want a JSON object, got array"},
		{`null`, "", "got null"},
		{`{"maxEvents": "10"}`, "maxEvents", "want a non-negative integer, got string"},
		{`{"maxEvents": -1}`, "maxEvents", "non-negative integer, got -1"},
		{`{"maxEvents": 2.5}`, "maxEvents", "non-negative integer, got 2.5"},
		{`{"maxEvents": true}`, "maxEvents", "got boolean"},
		{`{"returnImmediately": "true"}`, "returnImmediately", "want a boolean, got string"},
		{`{"returnImmediately": 1}`, "returnImmediately", "want a boolean, got number"},
		{`{"ack": "4d35"}`, "ack", "want an array of strings, got string"},
		{`{"ack": ["4d35", 7]}`, "ack[1]", "want a string, got number"},
		{`{"setErrs": []}`, "setErrs", "want an object keyed by jti, got array"},
		{`{"setErrs": {"4d35": "invalid_key"}}`, "setErrs.4d35", "want a JSON object, got string"},
		{`{"setErrs": {"4d35": {"err": 1}}}`, "setErrs.4d35.err", "want a string, got number"},
		{`{"setErrs": {"4d35": {"err": "invalid_key", "description": {}}}}`, "setErrs.4d35.description", "want a string, got object"},
	} {
		var r PollRequest
		err := r.UnmarshalJSON([]byte(tc.json))
		wantMemberError(t, err, tc.member, tc.msg)
		if me := memberErrors(err)[0]; me.Object != "poll request" {
			t.Errorf("%s: Object = %q", tc.json, me.Object)
		}
	}
	// maxEvents written as an integral float is an integer.
	var r PollRequest
	if err := json.Unmarshal([]byte(`{"maxEvents": 10.0, "ack": [], "setErrs": {}}`), &r); err != nil || *r.MaxEvents != 10 {
		t.Errorf("%v %v", err, r.MaxEvents)
	}
}

func TestPollRequestValidate(t *testing.T) {
	for _, tc := range []struct {
		r      PollRequest
		member string
		msg    string
	}{
		{PollRequest{Ack: []string{"a", ""}}, "ack[1]", "empty jti"},
		{PollRequest{SetErrs: map[string]SETError{"": {Err: CodeInvalidKey}}}, "setErrs", "empty jti"},
		{PollRequest{SetErrs: map[string]SETError{"j": {}}}, "setErrs.j.err", "is required"},
		{PollRequest{SetErrs: map[string]SETError{"j": {Err: "invalid key"}}}, "setErrs.j.err", "uses only"},
		{PollRequest{MaxEvents: intp(-2)}, "maxEvents", "negative"},
	} {
		err := tc.r.Validate()
		wantMemberError(t, err, tc.member, tc.msg)
		onlyMembers(t, err, tc.member)
	}
	// An unregistered but well-formed code is valid: the registry is extensible.
	r := PollRequest{SetErrs: map[string]SETError{"j": {Err: "vendor_specific_1"}}}
	if err := r.Validate(); err != nil {
		t.Error(err)
	}
}

func TestPollRequestBatchSize(t *testing.T) {
	for _, tc := range []struct {
		max         *int
		limit, want int
	}{
		{nil, 0, -1},
		{nil, 100, 100},
		{intp(10), 0, 10},
		{intp(10), 100, 10},
		{intp(500), 100, 100},
		{intp(0), 100, 0},
	} {
		r := PollRequest{MaxEvents: tc.max}
		if got := r.BatchSize(tc.limit); got != tc.want {
			t.Errorf("BatchSize(max %v, limit %d) = %d, want %d", tc.max, tc.limit, got, tc.want)
		}
	}
}

func TestPollResponse(t *testing.T) {
	// sets is always present, {} when empty (RFC 8936 §2.5).
	sameJSON(t, []byte(`{"sets":{}}`), mustMarshal(t, PollResponse{}))
	sameJSON(t, []byte(`{"sets":{"a":"x.y.z"},"moreAvailable":true}`), mustMarshal(t, PollResponse{Sets: map[string]string{"a": "x.y.z"}, MoreAvailable: true}))

	for _, tc := range []struct{ json, member, msg string }{
		{`"sets"`, "", "want a JSON object, got string"},
		{`{"sets": []}`, "sets", "want an object keyed by jti, got array"},
		{`{"sets": {"a": 1}}`, "sets.a", "want a string, got number"},
		{`{"sets": {"a": {"alg":"none"}}}`, "sets.a", "want a string, got object"},
		{`{"sets": {}, "moreAvailable": "true"}`, "moreAvailable", "want a boolean, got string"},
	} {
		var r PollResponse
		wantMemberError(t, r.UnmarshalJSON([]byte(tc.json)), tc.member, tc.msg)
	}
	var missing PollResponse
	if err := json.Unmarshal([]byte(`{"moreAvailable": false}`), &missing); err != nil {
		t.Fatal(err)
	}
	wantMemberError(t, missing.Validate(), "sets", "is required")
	for _, tc := range []struct {
		r      PollResponse
		member string
		msg    string
	}{
		{PollResponse{Sets: map[string]string{"a": "not-a-jwt"}}, "sets.a", "1 parts"},
		{PollResponse{Sets: map[string]string{"a": "a.b.c.d"}}, "sets.a", "4 parts"},
		{PollResponse{Sets: map[string]string{"": "a.b.c"}}, "sets", "empty jti"},
	} {
		err := tc.r.Validate()
		wantMemberError(t, err, tc.member, tc.msg)
	}
	ok := PollResponse{Sets: map[string]string{"jws": "a.b.c", "jwe": "a.b.c.d.e"}}
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
	_, err := json.Marshal(PollResponse{Extra: map[string]json.RawMessage{"sets": json.RawMessage(`{}`)}})
	wantMemberError(t, err, "sets", "collides")
}

func TestSETError(t *testing.T) {
	for _, code := range []string{CodeInvalidRequest, CodeInvalidKey, CodeInvalidIssuer, CodeInvalidAudience, CodeAuthenticationFailed, CodeAccessDenied, CodeInvalidState} {
		if !IsRegisteredSETErrorCode(code) {
			t.Errorf("%s not registered", code)
		}
		e := SETError{Err: code}
		if err := e.Validate(); err != nil {
			t.Error(err)
		}
	}
	if IsRegisteredSETErrorCode("setData") { // SSF draft 02's unregistered code, DIFF-10
		t.Error("setData is not registered")
	}
	for _, tc := range []struct {
		e   SETError
		msg string
	}{
		{SETError{}, "is required"},
		{SETError{Err: "invalid-key"}, "uses only"},
		{SETError{Err: "ключ"}, "uses only"},
	} {
		wantMemberError(t, tc.e.Validate(), "err", tc.msg)
	}
	for _, tc := range []struct{ json, member, msg string }{
		{`[]`, "", "want a JSON object"},
		{`{"err": null, "description": 5}`, "description", "want a string"},
		{`{"err": ["invalid_key"]}`, "err", "want a string"},
	} {
		var e SETError
		wantMemberError(t, json.Unmarshal([]byte(tc.json), &e), tc.member, tc.msg)
	}
	e := &SETError{Err: CodeInvalidAudience, Description: "aud is not ours"}
	var target *SETError
	if !errors.As(error(e), &target) || !strings.Contains(e.Error(), "invalid_audience: aud is not ours") {
		t.Errorf("Error() = %q", e.Error())
	}
	if (&SETError{Err: "x"}).Error() != "ssf: SET error x" {
		t.Error((&SETError{Err: "x"}).Error())
	}
	// description is always written (RFC 8935 §2.3 names both members).
	sameJSON(t, []byte(`{"err":"invalid_key","description":""}`), mustMarshal(t, SETError{Err: CodeInvalidKey}))
}

func TestStreamStatus(t *testing.T) {
	for _, st := range []Status{StatusEnabled, StatusPaused, StatusDisabled} {
		s := StreamStatus{StreamID: "s", Status: st}
		if err := s.Validate(); err != nil {
			t.Error(err)
		}
		sameJSON(t, []byte(`{"stream_id":"s","status":"`+string(st)+`"}`), mustMarshal(t, s))
	}
	for _, tc := range []struct {
		s      StreamStatus
		member string
		msg    string
	}{
		{StreamStatus{Status: StatusEnabled}, "stream_id", "is required"},
		{StreamStatus{StreamID: "s"}, "status", "is required"},
		{StreamStatus{StreamID: "s", Status: "Enabled"}, "status", `"Enabled": want "enabled", "paused" or "disabled"`},
		{StreamStatus{StreamID: "s", Status: "deleted"}, "status", "want"},
	} {
		err := tc.s.Validate()
		wantMemberError(t, err, tc.member, tc.msg)
		onlyMembers(t, err, tc.member)
	}
	// Decoding keeps an unknown value for Validate to report.
	var s StreamStatus
	if err := json.Unmarshal([]byte(`{"stream_id":"s","status":"suspended","subject":{}}`), &s); err != nil || s.Status != "suspended" {
		t.Errorf("%v %q", err, s.Status)
	}
	if _, ok := s.Extra["subject"]; !ok { // ID1 per-subject status member, AMB-8
		t.Error("extra member lost")
	}
	for _, tc := range []struct{ json, member, msg string }{
		{`[]`, "", "want a JSON object"},
		{`{"stream_id": 1}`, "stream_id", "want a string"},
		{`{"status": true}`, "status", "want a string"},
		{`{"reason": {"en": "x"}}`, "reason", "want a string"},
	} {
		var s StreamStatus
		wantMemberError(t, json.Unmarshal([]byte(tc.json), &s), tc.member, tc.msg)
	}
	_, err := json.Marshal(StreamStatus{Extra: map[string]json.RawMessage{"status": json.RawMessage(`"x"`)}})
	wantMemberError(t, err, "status", "collides")
}

func TestVerifyRequest(t *testing.T) {
	sameJSON(t, []byte(`{"stream_id":"s"}`), mustMarshal(t, VerifyRequest{StreamID: "s"}))
	wantMemberError(t, (&VerifyRequest{State: "x"}).Validate(), "stream_id", "is required")
	for _, tc := range []struct{ json, member, msg string }{
		{`"s"`, "", "want a JSON object"},
		{`{"stream_id": 1}`, "stream_id", "want a string"},
		{`{"stream_id": "s", "state": 7}`, "state", "want a string, got number"},
	} {
		var r VerifyRequest
		wantMemberError(t, json.Unmarshal([]byte(tc.json), &r), tc.member, tc.msg)
	}
	var r VerifyRequest
	if err := json.Unmarshal([]byte(`{"stream_id":"s","state":null}`), &r); err != nil || r.State != "" {
		t.Errorf("null state: %v %q", err, r.State)
	}
	_, err := json.Marshal(VerifyRequest{Extra: map[string]json.RawMessage{"state": json.RawMessage(`"x"`)}})
	wantMemberError(t, err, "state", "collides")
}
