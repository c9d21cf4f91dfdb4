package receiver

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store/memory"
	"github.com/sigshare/sigshare/subject"
)

// FuzzPushBody feeds arbitrary bodies and Content-Types to the push endpoint, strict and
// compatible: it answers 202, 400 with a valid RFC 8935 error body, 415 or 413, and
// never panics.
func FuzzPushBody(f *testing.F) {
	tt := newTestTransmitter(f, "https://tr.example.com", "https://receiver.example.com", "stream-1", nil)
	raw, _ := tt.sign(f, &caep.SessionRevoked{}, &subject.Email{Email: "a@example.com"})
	f.Add(raw, MediaTypeSET, false)
	f.Add(`"`+raw+`"`, "application/json", true)
	f.Add(" "+raw+"\n", "text/plain", true)
	f.Add(raw[:len(raw)-5], MediaTypeSET, false)
	f.Add("a.b.c", MediaTypeSET, false)
	f.Add("a.b.c.d.e", "application/jwt", true)
	f.Add(`"\u0022"`, "application/json", true)
	for _, c := range loadNegative(f) {
		f.Add(c.compact(f), MediaTypeSET, false)
	}
	v, err := set.NewVerifier(testKeySet(f), set.Config{Issuer: tt.issuer, Audiences: []string{tt.aud}, Compatibility: set.FullCompatibility()})
	if err != nil {
		f.Fatal(err)
	}
	st := memory.New()
	defer st.Close()
	rec, _ := NewRecipient(RecipientConfig{Verifier: v, Inbox: st, StreamID: "stream-1"})
	strict, _ := NewPushHandler(PushHandlerConfig{Recipient: rec, MaxBodyBytes: 8 << 10})
	compat, _ := NewPushHandler(PushHandlerConfig{Recipient: rec, MaxBodyBytes: 8 << 10, Compatibility: true})
	f.Fuzz(func(t *testing.T, body, contentType string, lenient bool) {
		h := strict
		if lenient {
			h = compat
		}
		w := push(h, body, contentType, "")
		switch w.Code {
		case http.StatusAccepted:
			if w.Body.Len() != 0 {
				t.Fatalf("202 with a body %q", w.Body)
			}
		case http.StatusBadRequest:
			var e ssf.SETError
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
				t.Fatalf("400 body %q: %v", w.Body, err)
			}
			if !ssf.IsRegisteredSETErrorCode(e.Err) || e.Description == "" || w.Header().Get("Content-Language") != "en" {
				t.Fatalf("400 %+v %v", e, w.Header())
			}
		case http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}

// FuzzPollResponse decodes arbitrary poll answers: an accepted one has a sets object of
// compact SETs and re-encodes to an equal value.
func FuzzPollResponse(f *testing.F) {
	for _, s := range []string{
		`{"sets":{}}`,
		`{"sets":{"4d3559ec67504aaba65d40b0363faad8":"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln"},"moreAvailable":true}`,
		`{"sets":{"j":"a.b.c.d.e"},"moreAvailable":false,"x":[1,2]}`,
		`{"sets":null}`, `{"sets":{"j":1}}`, `{}`, `[]`, `null`, `{"sets":{"":"a.b.c"}}`,
		`{"sets":{"a":"a.b.c","a":"d.e.f"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pr, err := decodePollResponse(data)
		if err != nil {
			return
		}
		for jti, s := range pr.Sets {
			if n := strings.Count(s, ".") + 1; jti == "" || (n != 3 && n != 5) {
				t.Fatalf("accepted %q: %q", jti, s)
			}
		}
		b, err := json.Marshal(pr)
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", pr, err)
		}
		again, err := decodePollResponse(b)
		if err != nil {
			t.Fatalf("decoding the re-encoding %s: %v", b, err)
		}
		if d := cmp.Diff(pr.Sets, again.Sets); d != "" || pr.MoreAvailable != again.MoreAvailable {
			t.Fatalf("round trip differs: %s", d)
		}
	})
}
