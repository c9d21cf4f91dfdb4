package ssf

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/subject"
)

// subjectComparer compares subject identifiers by their JSON encoding.
var subjectComparer = cmp.Comparer(func(a, b subject.Identifier) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	x, errA := a.MarshalJSON()
	y, errB := b.MarshalJSON()
	return errA == nil && errB == nil && bytes.Equal(x, y)
})

func testAddSubjectVector(t *testing.T, v *wireVector) {
	r := roundTrip[AddSubjectRequest](t, v.JSON)
	if err := r.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if r.Subject.Format() != "email" || r.Verified == nil || !r.IsVerified() {
		t.Errorf("decoded %+v", r)
	}
	lr, used, err := ParseAddSubjectRequestLenient(v.JSON)
	if err != nil || used != 0 {
		t.Fatalf("lenient: %v, tolerated %v", err, used)
	}
	if d := cmp.Diff(r, lr, subjectComparer); d != "" {
		t.Error(d)
	}
}

func testRemoveSubjectVector(t *testing.T, v *wireVector) {
	if v.Valid {
		t.Fatal("vector is documented as invalid")
	}
	// Strict: the draft format name "phone" is rejected (AMB-9), naming the member.
	var r RemoveSubjectRequest
	err := json.Unmarshal(v.JSON, &r)
	wantMemberError(t, err, "subject", "legacy name of \"phone_number\"")
	if !errors.Is(err, subject.ErrInvalid) {
		t.Errorf("error does not wrap subject.ErrInvalid: %v", err)
	}
	if HTTPStatus(err) != 400 {
		t.Errorf("HTTPStatus = %d", HTTPStatus(err))
	}
	// Lenient: accepted and normalized to phone_number; the tolerance is reported.
	lr, used, err := ParseRemoveSubjectRequestLenient(v.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if !used.Has(subject.LenientLegacyFormatName) {
		t.Errorf("tolerated %v, want legacy-format-name", used)
	}
	if err := lr.Validate(); err != nil {
		t.Error(err)
	}
	sameJSON(t, []byte(`{"stream_id":"f67e39a0a4d34d56b3aa1bc4cff0069f","subject":{"format":"phone_number","phone_number":"+12065550123"}}`), mustMarshal(t, lr))
}

func TestSubjectRequestsDecodeWrongTypes(t *testing.T) {
	for _, tc := range []struct{ json, member, msg string }{
		{`[]`, "", "want a JSON object, got array"},
		{`{"stream_id": 1, "subject": {"format":"email","email":"a@example.com"}}`, "stream_id", "want a string, got number"},
		{`{"stream_id": "s", "subject": "a@example.com"}`, "subject", "want a subject identifier object, got string"},
		{`{"stream_id": "s", "subject": [{"format":"email","email":"a@example.com"}]}`, "subject", "got array"},
		{`{"stream_id": "s", "subject": {"format":"email"}}`, "subject", `member "email"`},
		{`{"stream_id": "s", "subject": {"email":"a@example.com"}}`, "subject", "format"},
		{`{"stream_id": "s", "subject": {"format":"email","email":"a@example.com","email":"b@example.com"}}`, "subject", "duplicate"},
	} {
		var a AddSubjectRequest
		wantMemberError(t, json.Unmarshal([]byte(tc.json), &a), tc.member, tc.msg)
		var r RemoveSubjectRequest
		err := json.Unmarshal([]byte(tc.json), &r)
		wantMemberError(t, err, tc.member, tc.msg)
		if me := memberErrors(err)[0]; me.Object != "remove-subject request" {
			t.Errorf("Object = %q", me.Object)
		}
	}
	var a AddSubjectRequest
	wantMemberError(t, json.Unmarshal([]byte(`{"stream_id":"s","verified":"true"}`), &a), "verified", "want a boolean, got string")
	_, _, err := ParseAddSubjectRequestLenient([]byte(`{"stream_id":"s","subject":{"format":"phone","phone_number":"x"}}`))
	wantMemberError(t, err, "subject", "phone_number")
	_, _, err = ParseRemoveSubjectRequestLenient([]byte(`"x"`))
	wantMemberError(t, err, "", "want a JSON object")
}

func TestSubjectRequestsLenient(t *testing.T) {
	// Legacy shapes: subject_type with a draft name, and a Complex Subject without
	// "format" (vendors §5.1 item 1).
	data := []byte(`{"stream_id":"s","subject":{"user":{"subject_type":"iss-sub","iss":"https://idp.example.com/","sub":"u1"},"tenant":{"format":"opaque","id":"t1"}},"verified":false}`)
	var strict AddSubjectRequest
	wantMemberError(t, json.Unmarshal(data, &strict), "subject", "")
	r, used, err := ParseAddSubjectRequestLenient(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []subject.Leniency{subject.LenientSubjectType, subject.LenientLegacyFormatName, subject.LenientComplexWithoutFormat} {
		if !used.Has(l) {
			t.Errorf("tolerated %v, want %v", used, l)
		}
	}
	if r.Subject.Format() != "complex" || r.IsVerified() {
		t.Errorf("decoded %+v", r)
	}
	// The normalized request decodes strictly.
	var again AddSubjectRequest
	if err := json.Unmarshal(mustMarshal(t, r), &again); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(r, &again, subjectComparer); d != "" {
		t.Error(d)
	}
}

func TestSubjectRequestsEncodeAndValidate(t *testing.T) {
	email := &subject.Email{Email: "user@example.com"}
	f := false
	jsonEqualStr := func(want string, v any) { t.Helper(); sameJSON(t, []byte(want), mustMarshal(t, v)) }
	jsonEqualStr(`{"stream_id":"s","subject":{"format":"email","email":"user@example.com"}}`, AddSubjectRequest{StreamID: "s", Subject: email})
	jsonEqualStr(`{"stream_id":"s","subject":{"format":"email","email":"user@example.com"},"verified":false}`, AddSubjectRequest{StreamID: "s", Subject: email, Verified: &f})
	jsonEqualStr(`{"stream_id":"s","subject":{"format":"email","email":"user@example.com"}}`, RemoveSubjectRequest{StreamID: "s", Subject: email})
	jsonEqualStr(`{"stream_id":"s"}`, RemoveSubjectRequest{StreamID: "s"})

	if !(&AddSubjectRequest{}).IsVerified() || (&AddSubjectRequest{Verified: &f}).IsVerified() {
		t.Error("IsVerified: omitted means verified (SSF §8.1.3.2)")
	}

	bad := &subject.Email{Email: "not an address"}
	_, err := json.Marshal(AddSubjectRequest{StreamID: "s", Subject: bad})
	wantMemberError(t, err, "subject", "")
	_, err = json.Marshal(RemoveSubjectRequest{StreamID: "s", Subject: bad})
	wantMemberError(t, err, "subject", "")
	_, err = json.Marshal(AddSubjectRequest{Extra: map[string]json.RawMessage{"verified": json.RawMessage(`true`)}})
	wantMemberError(t, err, "verified", "collides")
	_, err = json.Marshal(RemoveSubjectRequest{Extra: map[string]json.RawMessage{"subject": json.RawMessage(`{}`)}})
	wantMemberError(t, err, "subject", "collides")

	for _, tc := range []struct {
		err    error
		member string
		msg    string
	}{
		{(&AddSubjectRequest{Subject: email}).Validate(), "stream_id", "is required"},
		{(&AddSubjectRequest{StreamID: "s"}).Validate(), "subject", "is required"},
		{(&AddSubjectRequest{StreamID: "s", Subject: bad}).Validate(), "subject", "email"},
		{(&RemoveSubjectRequest{Subject: email}).Validate(), "stream_id", "is required"},
		{(&RemoveSubjectRequest{StreamID: "s"}).Validate(), "subject", "is required"},
		{(&RemoveSubjectRequest{StreamID: "s", Subject: bad}).Validate(), "subject", "email"},
	} {
		wantMemberError(t, tc.err, tc.member, tc.msg)
		onlyMembers(t, tc.err, tc.member)
	}
	var r RemoveSubjectRequest
	if err := json.Unmarshal([]byte(`{"stream_id":"s","subject":null,"x":1}`), &r); err != nil || r.Subject != nil || string(r.Extra["x"]) != "1" {
		t.Errorf("%v %+v", err, r)
	}
	if !strings.Contains((&RemoveSubjectRequest{StreamID: "s"}).Validate().Error(), "remove-subject request") {
		t.Error("error does not name the object")
	}
}
