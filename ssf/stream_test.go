package ssf

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pushConfig is a complete push stream configuration.
func pushConfig() *StreamConfig {
	return &StreamConfig{
		StreamID:                "f67e39a0a4d34d56b3aa1bc4cff0069f",
		Issuer:                  "https://tr.example.com",
		Audience:                Audience{"https://receiver.example.com/web", "https://receiver.example.com/mobile"},
		EventsSupported:         []string{"urn:example:type_1", "urn:example:type_2", "urn:example:type_3"},
		EventsRequested:         []string{"urn:example:type_2", "urn:example:type_3", "urn:example:type_4"},
		EventsDelivered:         []string{"urn:example:type_2", "urn:example:type_3"},
		Delivery:                &Delivery{Method: DeliveryPush, EndpointURL: "https://receiver.example.com/events", AuthorizationHeader: "Bearer push-secret"},
		MinVerificationInterval: intp(30),
		Description:             "Stream for Receiver A",
		InactivityTimeout:       intp(86400),
	}
}

// pollConfig is a complete poll stream configuration.
func pollConfig() *StreamConfig {
	c := pushConfig()
	c.Delivery = &Delivery{Method: DeliveryPoll, EndpointURL: "https://tr.example.com/ssf/poll/f67e"}
	return c
}

func TestStreamConfigRoundTripAllMembers(t *testing.T) {
	for _, c := range []*StreamConfig{pushConfig(), pollConfig()} {
		c.Extra = map[string]json.RawMessage{"format": json.RawMessage(`"iss_sub"`)}
		data := mustMarshal(t, c)
		var got StreamConfig
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(c, &got, rawJSONComparer); d != "" {
			t.Errorf("round trip (-want +got):\n%s", d)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("Validate: %v", err)
		}
	}
}

func TestStreamConfigEncoding(t *testing.T) {
	// A single audience is written as a string (SSF §4.1.8); present empty arrays as [];
	// absent members are omitted.
	c := StreamConfig{StreamID: "s1", Issuer: "https://tr.example.com", Audience: Audience{"https://r.example"}, EventsDelivered: []string{}}
	sameJSON(t, []byte(`{"stream_id":"s1","iss":"https://tr.example.com","aud":"https://r.example","events_delivered":[]}`), mustMarshal(t, c))
	sameJSON(t, []byte(`{}`), mustMarshal(t, StreamConfig{}))
	_, err := json.Marshal(StreamConfig{Delivery: &Delivery{}})
	wantMemberError(t, err, "method", "is required")
	_, err = json.Marshal(StreamConfig{Extra: map[string]json.RawMessage{"aud": json.RawMessage(`"x"`)}})
	wantMemberError(t, err, "aud", "collides")
	_, err = json.Marshal(StreamConfig{Delivery: &Delivery{Method: DeliveryPush, Extra: map[string]json.RawMessage{"url": json.RawMessage(`"x"`)}}})
	wantMemberError(t, err, "url", "collides")
}

func TestStreamConfigDecodeWrongTypes(t *testing.T) {
	for _, tc := range []struct {
		name, json, member, msg string
	}{
		{"array", `[{"stream_id":"a"}]`, "", "want a JSON object, got array"},
		{"null", `null`, "", "want a JSON object, got null"},
		{"string", `"stream"`, "", "want a JSON object, got string"},
		{"stream_id number", `{"stream_id": 42}`, "stream_id", "want a string, got number"},
		{"iss boolean", `{"iss": true}`, "iss", "want a string, got boolean"},
		{"aud number", `{"aud": 7}`, "aud", "want a string or an array of strings, got number"},
		{"aud array with number", `{"aud": ["a", 7]}`, "aud", "non-string element"},
		{"aud object", `{"aud": {"a":1}}`, "aud", "got object"},
		{"events_supported string", `{"events_supported": "urn:x"}`, "events_supported", "want an array of strings, got string"},
		{"events_requested element", `{"events_requested": [1]}`, "events_requested[0]", "want a string, got number"},
		{"events_requested null element", `{"events_requested": ["urn:a", null]}`, "events_requested[1]", "want a string, got null"},
		{"events_delivered object", `{"events_delivered": {}}`, "events_delivered", "got object"},
		{"delivery string", `{"delivery": "urn:ietf:rfc:8935"}`, "delivery", "want a JSON object, got string"},
		{"delivery without method", `{"delivery": {"endpoint_url": "https://r.example/e"}}`, "delivery.method", "is required"},
		{"delivery method number", `{"delivery": {"method": 8935}}`, "delivery.method", "want a string, got number"},
		{"delivery method empty", `{"delivery": {"method": ""}}`, "delivery.method", "is empty"},
		{"delivery legacy method empty", `{"delivery": {"delivery_method": ""}}`, "delivery.delivery_method", "is empty"},
		{"delivery endpoint_url array", `{"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": ["https://r.example"]}}`, "delivery.endpoint_url", "want a string, got array"},
		{"delivery authorization_header number", `{"delivery": {"method": "urn:ietf:rfc:8935", "authorization_header": 1}}`, "delivery.authorization_header", "want a string"},
		{"delivery legacy url number", `{"delivery": {"method": "urn:ietf:rfc:8935", "url": 1}}`, "delivery.url", "want a string"},
		{"delivery legacy method disagrees", `{"delivery": {"method": "urn:ietf:rfc:8935", "delivery_method": "urn:ietf:rfc:8936"}}`, "delivery.delivery_method", "disagrees"},
		{"delivery legacy url disagrees", `{"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": "https://a.example", "url": "https://b.example"}}`, "delivery.url", "disagrees"},
		{"min_verification_interval string", `{"min_verification_interval": "30"}`, "min_verification_interval", "want a non-negative integer, got string"},
		{"min_verification_interval negative", `{"min_verification_interval": -1}`, "min_verification_interval", "non-negative"},
		{"min_verification_interval fraction", `{"min_verification_interval": 1.5}`, "min_verification_interval", "non-negative integer, got 1.5"},
		{"min_verification_interval huge", `{"min_verification_interval": 1e300}`, "min_verification_interval", "non-negative integer"},
		{"description number", `{"description": 5}`, "description", "want a string, got number"},
		{"inactivity_timeout bool", `{"inactivity_timeout": false}`, "inactivity_timeout", "got boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c StreamConfig
			err := json.Unmarshal([]byte(tc.json), &c)
			wantMemberError(t, err, tc.member, tc.msg)
			if me := memberErrors(err)[0]; me.Object != "stream configuration" {
				t.Errorf("Object = %q", me.Object)
			}
			if HTTPStatus(err) != 400 {
				t.Errorf("HTTPStatus = %d, want 400", HTTPStatus(err))
			}
		})
	}
}

func TestStreamConfigDecodeSeveralProblems(t *testing.T) {
	var c StreamConfig
	err := json.Unmarshal([]byte(`{"stream_id": 1, "iss": 2, "delivery": {"method": 3}}`), &c)
	onlyMembers(t, err, "stream_id", "iss", "delivery.method")
	if n := len(memberErrors(err)); n != 3 {
		t.Errorf("want every member reported, got %d: %v", n, err)
	}
}

func TestStreamConfigDecodeLenientForms(t *testing.T) {
	var c StreamConfig
	err := json.Unmarshal([]byte(`{"stream_id":"s","aud":"https://r.example","min_verification_interval":30.0,"inactivity_timeout":3e2,"description":null,"events_requested":null,"format":"email"}`), &c)
	if err != nil {
		t.Fatal(err)
	}
	if *c.MinVerificationInterval != 30 || *c.InactivityTimeout != 300 {
		t.Errorf("integral numbers: %d %d", *c.MinVerificationInterval, *c.InactivityTimeout)
	}
	if c.EventsRequested != nil || c.Description != "" {
		t.Error("null members must be absent")
	}
	if string(c.Extra["format"]) != `"email"` { // ID1 receiver-chosen format, DIFF-8
		t.Errorf("Extra = %q", c.Extra)
	}
	if d := cmp.Diff(Audience{"https://r.example"}, c.Audience); d != "" {
		t.Error(d)
	}
}

func TestDeliveryLegacyInput(t *testing.T) {
	// DIFF-4: RISC delivery URIs (https and http) and the member names delivery_method
	// and url are synonyms on input; output uses the URNs and standard names.
	for _, tc := range []struct{ in, want string }{
		{`{"delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","url":"https://r.example/e"}`, `{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r.example/e"}`},
		{`{"delivery_method":"http://schemas.openid.net/secevent/risc/delivery-method/push","url":"https://r.example/e"}`, `{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r.example/e"}`},
		{`{"method":"https://schemas.openid.net/secevent/risc/delivery-method/poll"}`, `{"method":"urn:ietf:rfc:8936"}`},
		{`{"method":"http://schemas.openid.net/secevent/risc/delivery-method/poll","endpoint_url":"https://t.example/p"}`, `{"method":"urn:ietf:rfc:8936","endpoint_url":"https://t.example/p"}`},
		{`{"method":"urn:ietf:rfc:8935","delivery_method":"https://schemas.openid.net/secevent/risc/delivery-method/push","endpoint_url":"https://r.example/e","url":"https://r.example/e"}`, `{"method":"urn:ietf:rfc:8935","endpoint_url":"https://r.example/e"}`},
		{`{"method":"urn:example:webhook","endpoint_url":"https://r.example/e","x":1}`, `{"method":"urn:example:webhook","endpoint_url":"https://r.example/e","x":1}`},
	} {
		var d Delivery
		if err := json.Unmarshal([]byte(tc.in), &d); err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		sameJSON(t, []byte(tc.want), mustMarshal(t, d))
	}
	var d Delivery
	wantMemberError(t, json.Unmarshal([]byte(`{"url":"https://r.example"}`), &d), "method", "is required")
	for _, tc := range []struct {
		method     string
		push, poll bool
	}{
		{DeliveryPush, true, false},
		{LegacyDeliveryPush, true, false},
		{DeliveryPoll, false, true},
		{"http://schemas.openid.net/secevent/risc/delivery-method/poll", false, true},
		{"urn:example:webhook", false, false},
	} {
		d := Delivery{Method: tc.method}
		if d.IsPush() != tc.push || d.IsPoll() != tc.poll {
			t.Errorf("%s: IsPush %v IsPoll %v", tc.method, d.IsPush(), d.IsPoll())
		}
	}
}

func TestDeliveryValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		d       Delivery
		request bool // validate as a request (create/update/replace)
		opts    ValidateOptions
		member  string
		msg     string
	}{
		{"method missing", Delivery{EndpointURL: "https://r.example"}, false, ValidateOptions{}, "method", "is required"},
		{"unknown method", Delivery{Method: "urn:example:webhook", EndpointURL: "https://r.example"}, false, ValidateOptions{}, "method", "unsupported delivery method"},
		{"unknown method in request", Delivery{Method: "urn:example:webhook"}, true, ValidateOptions{}, "method", "unsupported delivery method"},
		{"push without endpoint (SSF-DELIV-2)", Delivery{Method: DeliveryPush}, true, ValidateOptions{}, "endpoint_url", "required for push"},
		{"push http endpoint", Delivery{Method: DeliveryPush, EndpointURL: "http://r.example/e"}, true, ValidateOptions{}, "endpoint_url", "must use https"},
		{"push relative endpoint", Delivery{Method: DeliveryPush, EndpointURL: "/events"}, true, ValidateOptions{}, "endpoint_url", "not an absolute URL"},
		{"push endpoint without host", Delivery{Method: DeliveryPush, EndpointURL: "https:///events"}, false, ValidateOptions{}, "endpoint_url", "no host"},
		{"push ws endpoint", Delivery{Method: DeliveryPush, EndpointURL: "wss://r.example/e"}, false, ValidateOptions{InsecureAllowHTTP: true}, "endpoint_url", "not wss"},
		{"poll without endpoint in configuration (SSF-STREAM-16)", Delivery{Method: DeliveryPoll}, false, ValidateOptions{}, "endpoint_url", "Transmitter supplies"},
		{"poll http endpoint in configuration", Delivery{Method: DeliveryPoll, EndpointURL: "http://t.example/p"}, false, ValidateOptions{}, "endpoint_url", "must use https"},
		{"authorization header with CRLF", Delivery{Method: DeliveryPush, EndpointURL: "https://r.example", AuthorizationHeader: "Bearer a\r\nX-Evil: 1"}, true, ValidateOptions{}, "authorization_header", "line break"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.d.validate(objDelivery, "", tc.opts, tc.request)
			wantMemberError(t, err, tc.member, tc.msg)
			onlyMembers(t, err, tc.member)
		})
	}
	for _, d := range []Delivery{
		{Method: DeliveryPush, EndpointURL: "https://r.example/e", AuthorizationHeader: "Bearer x"},
		{Method: DeliveryPoll, EndpointURL: "https://t.example/p"},
		{Method: LegacyDeliveryPush, EndpointURL: "https://r.example/e"},
	} {
		if err := d.Validate(); err != nil {
			t.Errorf("%v: %v", d, err)
		}
	}
	local := Delivery{Method: DeliveryPush, EndpointURL: "http://127.0.0.1:9000/events"}
	if err := local.ValidateWith(ValidateOptions{InsecureAllowHTTP: true}); err != nil {
		t.Errorf("InsecureAllowHTTP: %v", err)
	}
	// In a request the poll endpoint_url is the Transmitter's: not checked.
	poll := Delivery{Method: DeliveryPoll, EndpointURL: "not a url"}
	if err := poll.validate(objDelivery, "", ValidateOptions{}, true); err != nil {
		t.Errorf("poll request: %v", err)
	}
}

func TestDeliveryRedactsAuthorizationHeader(t *testing.T) {
	d := Delivery{Method: DeliveryPush, EndpointURL: "https://r.example/e", AuthorizationHeader: "Bearer push-secret"}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("stream", "delivery", d)
	for _, s := range []string{d.String(), fmt.Sprint(d), fmt.Sprintf("%v", &d), buf.String()} {
		if strings.Contains(s, "push-secret") {
			t.Errorf("secret leaked: %s", s)
		}
		if !strings.Contains(s, "redacted") {
			t.Errorf("no redaction marker: %s", s)
		}
	}
	// The wire form keeps it (the Receiver supplied it; AMB-12).
	if !strings.Contains(string(mustMarshal(t, d)), "push-secret") {
		t.Error("authorization_header missing from JSON")
	}
}

func TestStreamConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*StreamConfig)
		member string
		msg    string
	}{
		{"stream_id missing (SSF-STREAM-3, TS5)", func(c *StreamConfig) { c.StreamID = "" }, "stream_id", "is required"},
		{"iss missing (SSF-STREAM-4)", func(c *StreamConfig) { c.Issuer = "" }, "iss", "is required"},
		{"iss http", func(c *StreamConfig) { c.Issuer = "http://tr.example.com" }, "iss", "must use https"},
		{"iss query", func(c *StreamConfig) { c.Issuer = "https://tr.example.com?a=b" }, "iss", "query"},
		{"iss fragment", func(c *StreamConfig) { c.Issuer = "https://tr.example.com#a" }, "iss", "fragment"},
		{"aud missing (SSF-STREAM-5)", func(c *StreamConfig) { c.Audience = nil }, "aud", "is required"},
		{"aud empty array", func(c *StreamConfig) { c.Audience = Audience{} }, "aud", "is required"},
		{"aud empty value", func(c *StreamConfig) { c.Audience = Audience{"a", ""} }, "aud", "value 1 is empty"},
		{"events_delivered missing (SSF-STREAM-8)", func(c *StreamConfig) { c.EventsDelivered = nil }, "events_delivered", "is required"},
		{"events_supported empty URI", func(c *StreamConfig) { c.EventsSupported = []string{""} }, "events_supported[0]", "empty event type"},
		{"events_requested empty URI", func(c *StreamConfig) { c.EventsRequested = []string{"urn:a", ""} }, "events_requested[1]", "empty event type"},
		{"events_delivered empty URI", func(c *StreamConfig) { c.EventsDelivered = []string{""} }, "events_delivered[0]", "empty event type"},
		{"delivery missing (SSF-STREAM-9)", func(c *StreamConfig) { c.Delivery = nil }, "delivery", "is required"},
		{"delivery unknown method (IOP-10, TS4)", func(c *StreamConfig) { c.Delivery.Method = "urn:example:x" }, "delivery.method", "unsupported"},
		{"push endpoint missing", func(c *StreamConfig) { c.Delivery.EndpointURL = "" }, "delivery.endpoint_url", "required for push"},
		{"poll endpoint missing", func(c *StreamConfig) { c.Delivery = &Delivery{Method: DeliveryPoll} }, "delivery.endpoint_url", "Transmitter supplies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pushConfig()
			tc.mutate(c)
			err := c.Validate()
			wantMemberError(t, err, tc.member, tc.msg)
			onlyMembers(t, err, tc.member)
		})
	}
	c := pushConfig()
	c.EventsDelivered = []string{} // present and empty is fine (AMB-5)
	c.Issuer = "http://127.0.0.1:8080"
	c.Delivery.EndpointURL = "http://127.0.0.1:9090/events"
	if err := c.ValidateWith(ValidateOptions{InsecureAllowHTTP: true}); err != nil {
		t.Errorf("InsecureAllowHTTP: %v", err)
	}
}

func TestStreamConfigValidateRequest(t *testing.T) {
	ok := []StreamConfig{
		{}, // no delivery: poll (AMB-4, SSF-STREAM-16)
		{Delivery: &Delivery{Method: DeliveryPoll}},
		{Delivery: &Delivery{Method: DeliveryPush, EndpointURL: "https://r.example/e"}, EventsRequested: []string{"urn:a"}, Description: "d"},
		{EventsRequested: []string{}},                                  // SHOULD NOT be empty, but allowed
		{StreamID: "x", Issuer: "not checked", Audience: Audience{""}}, // Transmitter-supplied members are ignored
	}
	for i, c := range ok {
		if err := c.ValidateRequest(); err != nil {
			t.Errorf("%d: %v", i, err)
		}
	}
	for _, tc := range []struct {
		c      StreamConfig
		member string
		msg    string
	}{
		{StreamConfig{Delivery: &Delivery{Method: DeliveryPush}}, "delivery.endpoint_url", "required for push"},
		{StreamConfig{Delivery: &Delivery{Method: DeliveryPush, EndpointURL: "http://r.example"}}, "delivery.endpoint_url", "https"},
		{StreamConfig{Delivery: &Delivery{Method: "urn:x:y"}}, "delivery.method", "unsupported"},
		{StreamConfig{EventsRequested: []string{""}}, "events_requested[0]", "empty"},
	} {
		err := tc.c.ValidateRequest()
		wantMemberError(t, err, tc.member, tc.msg)
		onlyMembers(t, err, tc.member)
	}
	local := StreamConfig{Delivery: &Delivery{Method: DeliveryPush, EndpointURL: "http://localhost:1/e"}}
	if err := local.ValidateRequestWith(ValidateOptions{InsecureAllowHTTP: true}); err != nil {
		t.Error(err)
	}
	if got := (&StreamConfig{}).EffectiveDeliveryMethod(); got != DeliveryPoll {
		t.Errorf("EffectiveDeliveryMethod without delivery = %q, want poll (AMB-4)", got)
	}
}

func TestReceiverSupplied(t *testing.T) {
	c := pollConfig()
	c.Extra = map[string]json.RawMessage{"format": json.RawMessage(`"email"`)}
	want := []string{"stream_id", "iss", "aud", "events_supported", "events_delivered", "min_verification_interval", "inactivity_timeout", "delivery.endpoint_url"}
	if d := cmp.Diff(want, c.TransmitterSuppliedPresent()); d != "" {
		t.Errorf("TransmitterSuppliedPresent (-want +got):\n%s", d)
	}
	rs := c.ReceiverSupplied()
	// RS5: only events_requested, delivery (without the poll URL) and description.
	sameJSON(t, []byte(`{"events_requested":["urn:example:type_2","urn:example:type_3","urn:example:type_4"],"delivery":{"method":"urn:ietf:rfc:8936"},"description":"Stream for Receiver A"}`), mustMarshal(t, rs))
	if len(rs.TransmitterSuppliedPresent()) != 0 {
		t.Errorf("ReceiverSupplied has %q", rs.TransmitterSuppliedPresent())
	}
	// The copy is deep.
	rs.EventsRequested[0] = "changed"
	rs.Delivery.Method = "changed"
	if c.EventsRequested[0] == "changed" || c.Delivery.Method == "changed" {
		t.Error("ReceiverSupplied shares memory with the original")
	}
	push := pushConfig().ReceiverSupplied()
	if push.Delivery.EndpointURL == "" || push.Delivery.AuthorizationHeader == "" {
		t.Error("push endpoint_url and authorization_header are Receiver-supplied")
	}
}

func TestStreamConfigClone(t *testing.T) {
	c := pushConfig()
	c.Extra = map[string]json.RawMessage{"x": json.RawMessage(`1`)}
	cl := c.Clone()
	if d := cmp.Diff(c, cl); d != "" {
		t.Fatal(d)
	}
	*cl.MinVerificationInterval = 1
	cl.Audience[0] = "z"
	cl.Extra["x"][0] = '2'
	cl.Delivery.EndpointURL = "z"
	if *c.MinVerificationInterval == 1 || c.Audience[0] == "z" || string(c.Extra["x"]) != "1" || c.Delivery.EndpointURL == "z" {
		t.Error("Clone shares memory")
	}
}

func TestStreamUpdateDecode(t *testing.T) {
	var u StreamUpdate
	err := json.Unmarshal([]byte(`{"stream_id":"s","description":"","iss":"https://tr.example.com","aud":[],"events_delivered":[],"min_verification_interval":0,"events_requested":null,"x":true}`), &u)
	if err != nil {
		t.Fatal(err)
	}
	if u.Description == nil || *u.Description != "" {
		t.Error(`"description":"" is a present empty description`)
	}
	if u.Issuer == nil || u.Audience == nil || u.EventsDelivered == nil || u.MinVerificationInterval == nil {
		t.Errorf("presence lost: %+v", u)
	}
	if u.EventsRequested != nil || u.Delivery != nil || u.InactivityTimeout != nil || u.EventsSupported != nil {
		t.Errorf("absent members present: %+v", u)
	}
	sameJSON(t, []byte(`{"stream_id":"s","description":"","iss":"https://tr.example.com","aud":[],"events_delivered":[],"min_verification_interval":0,"x":true}`), mustMarshal(t, u))
	// stream_id is always written, also when empty (the caller forgot it; Validate says so).
	sameJSON(t, []byte(`{"stream_id":""}`), mustMarshal(t, StreamUpdate{}))

	for _, tc := range []struct{ json, member, msg string }{
		{`[]`, "", "want a JSON object"},
		{`{"stream_id": 1}`, "stream_id", "want a string"},
		{`{"description": []}`, "description", "want a string"},
		{`{"iss": 1}`, "iss", "want a string"},
		{`{"aud": 1}`, "aud", "want a string or an array"},
		{`{"events_requested": "urn:a"}`, "events_requested", "want an array"},
		{`{"events_supported": [true]}`, "events_supported[0]", "want a string"},
		{`{"events_delivered": 1}`, "events_delivered", "want an array"},
		{`{"delivery": []}`, "delivery", "want a JSON object"},
		{`{"delivery": {"method": "urn:ietf:rfc:8935", "endpoint_url": 1}}`, "delivery.endpoint_url", "want a string"},
		{`{"min_verification_interval": "1"}`, "min_verification_interval", "non-negative integer"},
		{`{"inactivity_timeout": -5}`, "inactivity_timeout", "non-negative integer"},
	} {
		var u StreamUpdate
		err := json.Unmarshal([]byte(tc.json), &u)
		wantMemberError(t, err, tc.member, tc.msg)
		if me := memberErrors(err)[0]; me.Object != "update request" {
			t.Errorf("%s: Object = %q", tc.json, me.Object)
		}
	}
}

func TestStreamUpdateValidate(t *testing.T) {
	for _, tc := range []struct {
		u      StreamUpdate
		member string
		msg    string
	}{
		{StreamUpdate{}, "stream_id", "is required"},
		{StreamUpdate{StreamID: "s", EventsRequested: []string{""}}, "events_requested[0]", "empty"},
		{StreamUpdate{StreamID: "s", Delivery: &Delivery{Method: DeliveryPush}}, "delivery.endpoint_url", "required for push"},
		{StreamUpdate{StreamID: "s", Delivery: &Delivery{Method: "urn:x:y"}}, "delivery.method", "unsupported"},
	} {
		err := tc.u.Validate()
		wantMemberError(t, err, tc.member, tc.msg)
		onlyMembers(t, err, tc.member)
	}
	u := StreamUpdate{StreamID: "s", Delivery: &Delivery{Method: DeliveryPush, EndpointURL: "http://localhost/e"}}
	if err := u.ValidateWith(ValidateOptions{InsecureAllowHTTP: true}); err != nil {
		t.Error(err)
	}
}

func TestStreamUpdateCheckTransmitterSupplied(t *testing.T) {
	current := pollConfig()
	s := func(v string) *string { return &v }
	for _, tc := range []struct {
		name   string
		u      StreamUpdate
		member string // "" = no error
	}{
		{"only receiver-supplied", StreamUpdate{EventsRequested: []string{"urn:example:type_1"}, Description: s("B")}, ""},
		{"equal transmitter-supplied", StreamUpdate{Issuer: s("https://tr.example.com"), MinVerificationInterval: intp(30), InactivityTimeout: intp(86400)}, ""},
		{"aud in another order", StreamUpdate{Audience: Audience{"https://receiver.example.com/mobile", "https://receiver.example.com/web"}}, ""},
		{"events_supported as a set", StreamUpdate{EventsSupported: []string{"urn:example:type_3", "urn:example:type_1", "urn:example:type_2", "urn:example:type_2"}}, ""},
		// SSF-STREAM-22: events_delivered is compared with the value before the update,
		// even though the same request changes events_requested.
		{"events_delivered before update", StreamUpdate{EventsRequested: []string{"urn:example:type_1"}, EventsDelivered: []string{"urn:example:type_2", "urn:example:type_3"}}, ""},
		{"events_delivered after update", StreamUpdate{EventsRequested: []string{"urn:example:type_1"}, EventsDelivered: []string{"urn:example:type_1"}}, "events_delivered"},
		{"iss differs", StreamUpdate{Issuer: s("https://other.example")}, "iss"},
		{"iss empty", StreamUpdate{Issuer: s("")}, "iss"},
		{"aud differs", StreamUpdate{Audience: Audience{"https://receiver.example.com/web"}}, "aud"},
		{"aud empty", StreamUpdate{Audience: Audience{}}, "aud"},
		{"events_supported differs", StreamUpdate{EventsSupported: []string{"urn:example:type_1"}}, "events_supported"},
		{"min_verification_interval differs", StreamUpdate{MinVerificationInterval: intp(0)}, "min_verification_interval"},
		{"inactivity_timeout differs", StreamUpdate{InactivityTimeout: intp(1)}, "inactivity_timeout"},
		{"poll endpoint_url differs", StreamUpdate{Delivery: &Delivery{Method: DeliveryPoll, EndpointURL: "https://tr.example.com/ssf/poll/other"}}, "delivery.endpoint_url"},
		{"poll endpoint_url equal", StreamUpdate{Delivery: &Delivery{Method: DeliveryPoll, EndpointURL: "https://tr.example.com/ssf/poll/f67e"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.u.StreamID = current.StreamID
			err := tc.u.CheckTransmitterSupplied(current)
			if tc.member == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantMemberError(t, err, tc.member, "Transmitter-supplied")
			onlyMembers(t, err, tc.member)
			if HTTPStatus(err) != 400 {
				t.Errorf("HTTPStatus = %d, want 400 (SSF-STREAM-23)", HTTPStatus(err))
			}
			if _, err := tc.u.Apply(current); err == nil {
				t.Error("Apply accepted the request")
			}
		})
	}
	u := StreamUpdate{StreamID: "other"}
	wantMemberError(t, u.CheckTransmitterSupplied(current), "stream_id", "does not identify")
	// When the stream is push, a poll endpoint_url in the request cannot be compared:
	// the Transmitter assigns one.
	u = StreamUpdate{StreamID: current.StreamID, Delivery: &Delivery{Method: DeliveryPoll, EndpointURL: "https://x.example"}}
	if err := u.CheckTransmitterSupplied(pushConfig()); err != nil {
		t.Error(err)
	}
	// Several offending members are all reported.
	u = StreamUpdate{StreamID: current.StreamID, Issuer: s("https://x.example"), InactivityTimeout: intp(2)}
	if n := len(memberErrors(u.CheckTransmitterSupplied(current))); n != 2 {
		t.Errorf("want 2 problems, got %d", n)
	}
}

func TestStreamUpdateApply(t *testing.T) {
	current := pushConfig()
	empty := ""
	got, err := (&StreamUpdate{StreamID: current.StreamID, Description: &empty}).Apply(current)
	if err != nil {
		t.Fatal(err)
	}
	want := pushConfig()
	want.Description = ""
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("clear description (-want +got):\n%s", d)
	}
	// Nothing present: nothing changes.
	got, _ = (&StreamUpdate{StreamID: current.StreamID}).Apply(current)
	if d := cmp.Diff(current, got); d != "" {
		t.Error(d)
	}
	// Switch to poll: the poll URL is left for the Transmitter.
	got, _ = (&StreamUpdate{StreamID: current.StreamID, Delivery: &Delivery{Method: LegacyDeliveryPoll, EndpointURL: "https://ignored.example"}}).Apply(current)
	if got.Delivery.Method != DeliveryPoll || got.Delivery.EndpointURL != "" {
		t.Errorf("switch to poll: %+v", got.Delivery)
	}
	// Poll stays poll: the Transmitter's URL is kept.
	pc := pollConfig()
	got, _ = (&StreamUpdate{StreamID: pc.StreamID, Delivery: &Delivery{Method: DeliveryPoll}}).Apply(pc)
	if got.Delivery.EndpointURL != pc.Delivery.EndpointURL {
		t.Errorf("poll URL lost: %+v", got.Delivery)
	}
	// The result does not share memory with current.
	got.EventsDelivered[0] = "changed"
	if pc.EventsDelivered[0] == "changed" {
		t.Error("Apply shares memory")
	}
}

func TestReplaceCheckTransmitterSupplied(t *testing.T) {
	current := pushConfig()
	// SSF-STREAM-24: absent Transmitter-supplied members are ignored.
	req := StreamConfig{StreamID: current.StreamID, Delivery: &Delivery{Method: DeliveryPush, EndpointURL: "https://receiver.example.com/v2"}}
	if err := req.CheckTransmitterSupplied(current); err != nil {
		t.Fatal(err)
	}
	got, err := req.ApplyReplace(current)
	if err != nil {
		t.Fatal(err)
	}
	// Absent Receiver-supplied members are deleted.
	if got.Description != "" || got.EventsRequested != nil {
		t.Errorf("absent Receiver-supplied members kept: %+v", got)
	}
	if got.Delivery.EndpointURL != "https://receiver.example.com/v2" || got.Delivery.AuthorizationHeader != "" {
		t.Errorf("delivery: %+v", got.Delivery)
	}
	if got.Issuer != current.Issuer || got.MinVerificationInterval == nil {
		t.Error("Transmitter-supplied members must come from current")
	}
	// A full GET-modify-PUT passes.
	full := current.Clone()
	full.Description = "C"
	if _, err := full.ApplyReplace(current); err != nil {
		t.Errorf("GET-modify-PUT: %v", err)
	}
	for _, tc := range []struct {
		name   string
		mutate func(*StreamConfig)
		member string
	}{
		{"stream_id", func(c *StreamConfig) { c.StreamID = "other" }, "stream_id"},
		{"iss", func(c *StreamConfig) { c.Issuer = "https://x.example" }, "iss"},
		{"aud", func(c *StreamConfig) { c.Audience = Audience{"x"} }, "aud"},
		{"events_supported", func(c *StreamConfig) { c.EventsSupported = []string{} }, "events_supported"},
		{"events_delivered", func(c *StreamConfig) { c.EventsDelivered = []string{"urn:example:type_4"} }, "events_delivered"},
		{"min_verification_interval", func(c *StreamConfig) { c.MinVerificationInterval = intp(31) }, "min_verification_interval"},
		{"inactivity_timeout", func(c *StreamConfig) { c.InactivityTimeout = intp(0) }, "inactivity_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := current.Clone()
			tc.mutate(req)
			err := req.CheckTransmitterSupplied(current)
			wantMemberError(t, err, tc.member, "")
			onlyMembers(t, err, tc.member)
			if me := memberErrors(err)[0]; me.Object != "replace request" {
				t.Errorf("Object = %q", me.Object)
			}
			if _, err := req.ApplyReplace(current); err == nil {
				t.Error("ApplyReplace accepted")
			}
		})
	}
}
