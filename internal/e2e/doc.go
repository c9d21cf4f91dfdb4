// Package e2e holds sigshare's end-to-end tests and benchmarks: complete transmitter
// nodes (internal/server, the assembly the sigshare command runs) talking to receivers
// built with package receiver, over real HTTP(S) on loopback. It has no API; everything
// lives in its _test.go files.
//
// What it checks, and where the rules come from:
//
//   - Crash safety (RFC 8935 §2, RFC 8936 §2.4, PUSH-8, POLL-8: at-least-once delivery,
//     receivers de-duplicate by jti): the sigshare binary, built once by TestMain, runs "sigshare transmitter"
//     on a SQLite file and is killed with SIGKILL repeatedly while events are emitted
//     through the operator API (POST /admin/events) and delivered by push or by poll.
//     Every SET whose emission was answered 200 must arrive, verified, at least once
//     (TestCrashRestartPush, TestCrashRestartPoll). Nothing in the store is touched:
//     each restart reclaims the push leases of the killed runs (the node id is
//     "local" for a SQLite file), and SETs a killed run returned to a poll whose answer
//     was lost come back after --poll-lease (3s in the test).
//   - Issue 4's data-plane behaviour end to end (push with and without
//     authorization_header, retries, backoff and Retry-After, dead letters and replay
//     through the operator API, every poll request shape, long polling, paused and
//     disabled streams, subject filtering, verification with and without state): see
//     the Test functions of push_test.go, poll_test.go and stream_test.go.
//   - bugs_test.go holds regression tests for defects these tests found (a graceful
//     restart stranding leased SETs, dead letters under-counting attempts), now fixed.
//   - Throughput and latency (BenchmarkPipeline, bench_test.go): emit-to-handler latency
//     and delivered SETs per second for push and poll, RS256 and ES256, 1 and 100
//     streams, next to the bare crypto of the same key measured in the same run, so that
//     the ratios show how much besides signing the data plane costs.
//
// Running:
//
//	go test -race ./internal/e2e/
//	go test -run='^$' -bench=Pipeline -benchtime=3000x ./internal/e2e/
//
// Profiling one case (the bare-crypto measurement is left out of the profile):
//
//	go test -run='^$' -bench='Pipeline/push/ES256/streams=1$' -benchtime=4000x \
//	    -cpuprofile=cpu.out -o e2e.test ./internal/e2e/
//	go tool pprof -top -cum -ignore='rateOf|measureCrypto' e2e.test cpu.out
//
// b.N counts SETs (with 100 streams, b.N/100 events are emitted). Use -benchtime=Nx with
// N of a few thousand: a time-based -benchtime grows b.N from 1, building the nodes and
// receivers again each time. The metrics: SETs/s (delivered, emit start to last handler
// call), p50-ms and p99-ms (emit-to-handler latency, with at most 512 SETs in flight),
// cpu-µs/SET (process CPU, transmitter and receivers together, per SET), sign/s-1 and
// sign/s-N (crypto.Signer.Sign of the node's key on 1 and GOMAXPROCS goroutines),
// verify/s-N (go-jose verification of that key's JWS), ratio (SETs/s ÷ sign/s-N),
// crypto-ratio (SETs/s ÷ the rate at which the CPUs could sign and verify each SET),
// sign-share and crypto-share (CPU per bare signature, and per signature plus
// verification, ÷ cpu-µs/SET: the part of the CPU that went to crypto). On a machine
// shared with other work the wall-clock rates are noisy; the CPU shares much less so.
package e2e
