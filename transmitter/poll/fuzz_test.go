package poll

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
)

// FuzzPollRequest sends arbitrary bodies to the handler: the answer is 200 with a valid
// poll response, or 400/413 with a JSON error body; never a server error.
func FuzzPollRequest(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"returnImmediately":true}`, `{"maxEvents":0,"ack":["j1"]}`,
		`{"maxEvents":2,"returnImmediately":true,"ack":["j1","j2"],"setErrs":{"j3":{"err":"invalid_key","description":"x"}}}`,
		`{"maxEvents":-1}`, `[]`, ``, `{"ack":[null]}`, `{"setErrs":{"":{"err":"x","description":""}}}`,
		`{"maxEvents":1e400}`, `{"maxEvents":9223372036854775808}`, `{"unknown":{"nested":[1,2]}}`,
	} {
		f.Add(seed)
	}
	e := newEnv(f, func(c *Config) {
		c.LongPollTimeout = time.Millisecond
		c.MaxWaitingPolls = -1
		c.MaxBodyBytes = 4096
		c.Authorize = func(*http.Request, string) error { return nil }
	})
	e.stream("s", ssf.DeliveryPoll)
	f.Fuzz(func(t *testing.T, body string) {
		var sets []*store.OutboxSET
		for _, j := range []string{"j1", "j2", "j3"} {
			sets = append(sets, &store.OutboxSET{StreamID: "s", JTI: j, SET: fakeSET(j), CreatedAt: time.Now()})
		}
		if err := e.st.Enqueue(context.Background(), sets); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/poll/s", strings.NewReader(body))
		req.SetPathValue("stream_id", "s")
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var r ssf.PollResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Validate() != nil {
				t.Fatalf("200 with an invalid poll response %q: %v", rec.Body, err)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			var er ssf.ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &er); err != nil || er.Description == "" {
				t.Fatalf("%d with body %q", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		// Reset the stream's outbox for the next input.
		_, _ = e.st.Ack(req.Context(), "s", []string{"j1", "j2", "j3"})
		if _, err := e.st.Replay(req.Context(), "s", nil); err != nil {
			t.Fatal(err)
		}
		_, _ = e.st.Ack(req.Context(), "s", []string{"j1", "j2", "j3"})
	})
}
