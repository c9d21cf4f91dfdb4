package server

import (
	"context"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
	"github.com/sigshare/sigshare/transmitter"
)

// A push and a poll receiver node against a transmitter node, all over TLS with a
// development CA: each gets the event once, verified, and the transmitter holds nothing
// afterwards; the receivers' metrics count it.
func TestReceiverNodesPushAndPoll(t *testing.T) {
	e := newTxEnv(t, func(o *TransmitterOptions) {
		o.StaticClients = []StaticClient{{Name: "rcv-push", Token: "t-push"}, {Name: "rcv-poll", Token: "t-poll"}}
	})
	ctx := context.Background()

	type got struct {
		stream string
		tok    *set.Token
	}
	var mu sync.Mutex
	var seen []got
	nodes := map[string]*ReceiverNode{}
	for _, c := range []struct{ name, token, delivery string }{
		{"push", "t-push", ssf.DeliveryPush},
		{"poll", "t-poll", ssf.DeliveryPoll},
	} {
		inbox, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), c.name+".db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { inbox.Close() })
		mux := receiver.NewMux()
		name := c.name
		mux.Fallback(func(_ context.Context, tok *set.Token) error {
			mu.Lock()
			seen = append(seen, got{name, tok})
			mu.Unlock()
			return nil
		})
		tlsConf, err := e.ca.ServerConfig()
		if err != nil {
			t.Fatal(err)
		}
		node, err := NewReceiver(ctx, ReceiverOptions{
			Issuer:          e.node.Issuer(),
			Credentials:     receiver.BearerToken(c.token),
			RootCAs:         e.ca.Pool(),
			Delivery:        c.delivery,
			EventsRequested: []string{caep.EventTypeSessionRevoked},
			Store:           inbox,
			Mux:             mux,
			TLS:             TLSOptions{Config: tlsConf},
			Logger:          quietLogger(),
		})
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := node.Start(ctx, l); err != nil {
			t.Fatalf("%s receiver: %v", c.name, err)
		}
		t.Cleanup(func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := node.Shutdown(sctx); err != nil {
				t.Errorf("%s receiver shutdown: %v", name, err)
			}
		})
		nodes[c.name] = node
		if got := node.Stream().EffectiveDeliveryMethod(); got != c.delivery {
			t.Errorf("%s receiver stream uses %s", c.name, got)
		}
	}
	if !strings.HasSuffix(nodes["push"].Stream().Delivery.EndpointURL, PushPath) || !strings.HasPrefix(nodes["push"].Stream().Delivery.EndpointURL, "https://127.0.0.1:") {
		t.Errorf("push endpoint_url %s", nodes["push"].Stream().Delivery.EndpointURL)
	}

	alice := &subject.Email{Email: "alice@example.com"}
	res, err := e.node.Transmitter().Emit(ctx, alice, &caep.SessionRevoked{}, transmitter.EmitOptions{})
	if err != nil || len(res.SETs) != 2 {
		t.Fatalf("emit: %v %+v", err, res)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		infos, err := e.node.Transmitter().Streams(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pending := 0
		for _, in := range infos {
			pending += in.Outbox.Pending
		}
		if n == 2 && pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handled %d SETs, %d still pending at the transmitter", n, pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	streams := map[string]bool{}
	for _, g := range seen {
		streams[g.stream] = true
		if g.tok.Event.Type() != caep.EventTypeSessionRevoked || !subject.Equal(g.tok.Subject, alice) || g.tok.Issuer != e.node.Issuer() {
			t.Errorf("%s got %+v", g.stream, g.tok)
		}
	}
	if !streams["push"] || !streams["poll"] {
		t.Errorf("streams that got the event: %v", streams)
	}
	for name, want := range map[string]string{
		"push": `sigshare_receiver_sets_verified_total{event_type="` + caep.EventTypeSessionRevoked + `",transport="push"} 1`,
		"poll": `sigshare_receiver_handler_attempts_total{event_type="` + caep.EventTypeSessionRevoked + `",outcome="success"} 1`,
	} {
		resp, err := e.client.Get(nodes[name].URL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(body), want) {
			t.Errorf("%s receiver /metrics lacks %s", name, want)
		}
		if resp, err := e.client.Get(nodes[name].URL() + "/readyz"); err != nil || resp.StatusCode != 200 {
			t.Errorf("%s receiver /readyz: %v %v", name, err, resp)
		}
	}
	status, body := e.do(t, "GET", "/metrics", "", nil)
	if status != 200 || !strings.Contains(string(body), `sigshare_transmitter_sets_delivered_total{method="push"`) {
		t.Errorf("transmitter metrics: %d", status)
	}
}

func TestNewReceiverRefusesIncompleteOptions(t *testing.T) {
	ctx := context.Background()
	if _, err := NewReceiver(ctx, ReceiverOptions{}); err == nil || !strings.Contains(err.Error(), "issuer") {
		t.Errorf("no issuer: %v", err)
	}
	if _, err := NewReceiver(ctx, ReceiverOptions{Issuer: "https://tr.example.com", Mux: receiver.NewMux()}); err == nil || !strings.Contains(err.Error(), "store") {
		t.Errorf("no store: %v", err)
	}
	st, _ := OpenSQLite(ctx, filepath.Join(t.TempDir(), "r.db"), nil)
	defer st.Close()
	if _, err := NewReceiver(ctx, ReceiverOptions{Issuer: "https://tr.example.com", Store: st, Mux: receiver.NewMux(), Delivery: "carrier-pigeon"}); err == nil {
		t.Error("an unknown delivery method was accepted")
	}
	n, err := NewReceiver(ctx, ReceiverOptions{Issuer: "https://127.0.0.1:1", Store: st, Mux: receiver.NewMux(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := n.Start(sctx, nil); err == nil {
		t.Error("Start against an unreachable transmitter succeeded")
	}
}
