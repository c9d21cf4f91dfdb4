package e2e

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/sigshare/sigshare/caep"
	"github.com/sigshare/sigshare/event"
	"github.com/sigshare/sigshare/internal/server"
	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/set"
	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/subject"
	"github.com/sigshare/sigshare/transmitter"
)

// benchWindow bounds the SETs emitted and not yet handled by a receiver: enough to keep
// every stage busy (the push engine holds up to 200 leased SETs, a poll answer up to
// 1000), few enough that the latency measured is the pipeline's, not an ever-growing
// backlog's (by Little's law the median latency is at most about
// benchWindow ÷ throughput).
const benchWindow = 512

// BenchmarkPipeline measures the data plane end to end: a transmitter node
// (internal/server, SQLite store in b.TempDir, TLS on loopback) emitting in process
// (Transmitter.Emit from several goroutines, at most benchWindow SETs in flight), and one
// Receiver (package receiver: verification with the transmitter's JWK Set, memory inbox,
// worker, handler) per stream, by push or by poll, with RS256 and ES256 keys, for 1 and
// 100 streams. b.N counts SETs.
//
// Metrics: SETs/s delivered (emit start to the last handler call), p50-ms and p99-ms
// emit-to-handler latency; next to them the bare crypto of the same key on the same
// machine: sign/s-1 (one goroutine), sign/s-N and verify/s-N (GOMAXPROCS goroutines);
// ratio = SETs/s ÷ sign/s-N (1 means signing alone saturates the CPUs); crypto-ratio =
// SETs/s ÷ the rate at which the CPUs can both sign and verify each SET (the receiver
// verifies on the same CPUs here), i.e. the share of the CPU that went to signing and
// verifying.
func BenchmarkPipeline(b *testing.B) {
	for _, m := range []struct{ name, uri string }{{"push", ssf.DeliveryPush}, {"poll", ssf.DeliveryPoll}} {
		for _, alg := range []string{"RS256", "ES256"} {
			for _, streams := range []int{1, 100} {
				b.Run(fmt.Sprintf("%s/%s/streams=%d", m.name, alg, streams), func(b *testing.B) {
					benchPipeline(b, m.uri, alg, streams)
				})
			}
		}
	}
}

// benchSink receives the SETs of every receiver and measures their latency.
type benchSink struct {
	starts sync.Map // txn → time.Time the Emit call started
	mu     sync.Mutex
	lat    []time.Duration
	want   int
	done   chan struct{}
	window *window
}

func (s *benchSink) handle(_ context.Context, tok *set.Token) error {
	now := time.Now()
	v, ok := s.starts.Load(tok.TxnID)
	if !ok {
		return nil // not a benchmark event (verification, stream-updated)
	}
	s.mu.Lock()
	s.lat = append(s.lat, now.Sub(v.(time.Time)))
	n := len(s.lat)
	s.mu.Unlock()
	s.window.release(1)
	if n == s.want {
		close(s.done)
	}
	return nil
}

// window is a counting semaphore acquired in one piece (no partial holds).
type window struct {
	mu       sync.Mutex
	cond     *sync.Cond
	inflight int
	size     int
}

func newWindow(size int) *window {
	w := &window{size: size}
	w.cond = sync.NewCond(&w.mu)
	return w
}

func (w *window) acquire(n int) {
	w.mu.Lock()
	for w.inflight+n > w.size {
		w.cond.Wait()
	}
	w.inflight += n
	w.mu.Unlock()
}

func (w *window) release(n int) {
	w.mu.Lock()
	w.inflight -= n
	w.mu.Unlock()
	w.cond.Broadcast()
}

// unblock lets every waiter go (the benchmark is over).
func (w *window) unblock() {
	w.mu.Lock()
	w.size = 1 << 30
	w.mu.Unlock()
	w.cond.Broadcast()
}

func benchPipeline(b *testing.B, method, alg string, streams int) {
	ca := newCA(b)
	var clients []server.StaticClient
	for i := range streams {
		clients = append(clients, server.StaticClient{Name: "bench-" + strconv.Itoa(i), Token: "bench-token-" + strconv.Itoa(i)})
	}
	tx := startTx(b, ca, alg, func(o *server.TransmitterOptions) { o.StaticClients = clients })

	events := max(1, b.N/streams)
	sink := &benchSink{want: events * streams, done: make(chan struct{}), window: newWindow(max(benchWindow, 2*streams))}
	var site *receiverSite
	if method == ssf.DeliveryPush {
		site = startSite(b, ca)
	}
	for i := range streams {
		mux := receiver.NewMux()
		mux.Fallback(sink.handle)
		o := rcvOptions{
			token:  clients[i].Token,
			events: []string{caep.EventTypeSessionRevoked},
			mux:    mux,
			poller: receiver.PollerConfig{MaxEvents: 1000},
			worker: receiver.WorkerConfig{BatchSize: 64, IdleInterval: time.Second},
		}
		if site != nil {
			o.site, o.path = site, "/push/"+strconv.Itoa(i)
		}
		startReceiver(b, tx.issuer, ca, o)
	}

	tr := tx.node.Transmitter()
	subj := &subject.Email{Email: "bench@example.com"}
	var ev event.Event = &caep.SessionRevoked{Common: caep.Common{EventTimestamp: event.Timestamp(time.Now().Unix())}}
	emitters := 16
	if streams > 1 {
		emitters = 4
	}
	var next atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	for range emitters {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(events) {
					return
				}
				sink.window.acquire(streams)
				txn := "bench-" + strconv.FormatInt(i, 10)
				sink.starts.Store(txn, time.Now())
				res, err := tr.Emit(ctx, subj, ev, transmitter.EmitOptions{Txn: txn})
				if err != nil {
					if ctx.Err() == nil {
						b.Errorf("Emit: %v", err)
					}
					return
				}
				if len(res.SETs) != streams {
					b.Errorf("Emit queued %d SETs, want %d", len(res.SETs), streams)
					return
				}
			}
		})
	}
	select {
	case <-sink.done:
	case <-time.After(10 * time.Minute):
		b.Errorf("after 10 minutes %d of %d SETs handled", len(sink.snapshot()), sink.want)
	}
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	b.StopTimer()
	cancel()
	sink.window.unblock()
	wg.Wait()

	lat := sink.snapshot()
	slices.Sort(lat)
	rate := float64(len(lat)) / elapsed.Seconds()
	b.ReportMetric(rate, "SETs/s")
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50-ms")
		b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)])/1e6, "p99-ms")
	}
	perSET := cpu / time.Duration(max(1, len(lat)))
	b.ReportMetric(float64(perSET)/1e3, "cpu-µs/SET")
	c := measureCrypto(b, alg)
	b.ReportMetric(c.sign1, "sign/s-1")
	b.ReportMetric(c.signN, "sign/s-N")
	b.ReportMetric(c.verifyN, "verify/s-N")
	b.ReportMetric(rate/c.signN, "ratio")
	b.ReportMetric(rate*(1/c.signN+1/c.verifyN), "crypto-ratio")
	b.ReportMetric(float64(c.signCPU)/float64(perSET), "sign-share")
	b.ReportMetric(float64(c.signCPU+c.verifyCPU)/float64(perSET), "crypto-share")
}

func (s *benchSink) snapshot() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lat)
}

// cryptoRates are the bare signature and verification rates of one key, in calls per
// second of wall time and in CPU time per call.
type cryptoRates struct {
	sign1, signN, verifyN float64       // calls/s
	signCPU, verifyCPU    time.Duration // CPU per call
}

// cryptoSpan is how long each rate is measured.
const cryptoSpan = 300 * time.Millisecond

// measureCrypto measures the bare crypto of the algorithm's key (the key the node signs
// with): crypto.Signer.Sign of a SHA-256 digest (what a JWS signature costs without
// building or encoding anything) on one goroutine and on GOMAXPROCS goroutines, and
// go-jose parsing and verification of a compact JWS of that key on GOMAXPROCS
// goroutines (what the receiver's signature check costs at least).
func measureCrypto(b *testing.B, alg string) cryptoRates {
	b.Helper()
	k := signingKey(b, alg)
	signer := k.Signer()
	digest := sha256.Sum256([]byte("sigshare bare signing rate"))
	sign := func() {
		if _, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
	js, err := jose.NewSigner(k.JOSESigningKey(), nil)
	if err != nil {
		b.Fatal(err)
	}
	obj, err := js.Sign([]byte(`{"iss":"https://tr.example.com","jti":"x"}`))
	if err != nil {
		b.Fatal(err)
	}
	compact, err := obj.CompactSerialize()
	if err != nil {
		b.Fatal(err)
	}
	pub := k.Public()
	verify := func() {
		o, err := jose.ParseSignedCompact(compact, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.Verify(pub); err != nil {
			b.Fatal(err)
		}
	}
	var r cryptoRates
	r.sign1, r.signCPU = rateOf(1, sign)
	r.signN, _ = rateOf(runtime.GOMAXPROCS(0), sign)
	r.verifyN, r.verifyCPU = rateOf(runtime.GOMAXPROCS(0), verify)
	return r
}

// rateOf runs f on n goroutines for cryptoSpan and returns the calls per second and the
// process CPU time per call.
func rateOf(n int, f func()) (float64, time.Duration) {
	var calls atomic.Int64
	cpu0 := processCPU()
	start := time.Now()
	stop := start.Add(cryptoSpan)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for time.Now().Before(stop) {
				f()
				calls.Add(1)
			}
		})
	}
	wg.Wait()
	c := calls.Load()
	return float64(c) / time.Since(start).Seconds(), (processCPU() - cpu0) / time.Duration(c)
}

// processCPU returns the CPU time (user and system) the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
