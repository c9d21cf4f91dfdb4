// Package e2e holds sigshare's end-to-end tests and benchmarks: complete transmitter
// nodes (internal/server, the assembly the sigshare command runs) talking to receivers
// built with package receiver, over real HTTP(S) on loopback. It has no API; everything
// lives in its _test.go files.
//
// What it checks, and where the rules come from:
//
//   - Crash safety (RFC 8935 §2 and RFC 8936 §2.4: at-least-once delivery; SSF §8.1.2.1,
//     SET-22): the sigshare binary, built once by TestMain, runs "sigshare transmitter"
//     on a SQLite file and is killed with SIGKILL repeatedly while events are emitted
//     through the operator API (POST /admin/events) and delivered by push or by poll.
//     Every SET whose emission was answered 200 must arrive, verified, at least once
//     (TestCrashRestartPush, TestCrashRestartPoll). A SET leased by a killed process is
//     leased again only when its lease expires (five minutes by default, not
//     configurable on the command line); the tests then fast-forward that clock through
//     the store (see releaseDeadLeases) instead of waiting, and report how many SETs
//     needed it.
//   - Issue 4's data-plane behaviour end to end (push with and without
//     authorization_header, retries, backoff and Retry-After, dead letters and replay
//     through the operator API, every poll request shape, long polling, paused and
//     disabled streams, subject filtering, verification with and without state): see
//     the Test functions of push_test.go, poll_test.go and stream_test.go.
//   - Throughput and latency (benchmarks, bench_test.go): emit-to-handler latency and
//     delivered SETs per second for push and poll, RS256 and ES256, 1 and 100 streams,
//     next to the bare signing rate of the same key, so that the ratio shows how much
//     besides signing the data plane costs.
//
// Running:
//
//	go test -race ./internal/e2e/                     # every test, well under a minute
//	go test -run='^$' -bench=. -benchtime=2000x ./internal/e2e/
//	go test -run='^$' -bench='Pipeline/push/ES256/streams=1$' -benchtime=4000x \
//	    -cpuprofile=cpu.out ./internal/e2e/ && go tool pprof -top cpu.out
//
// The benchmarks count SETs: b.N is the number of SETs delivered (with 100 streams,
// b.N/100 events are emitted). Use -benchtime=Nx with N of a few thousand; a time-based
// -benchtime makes the framework grow b.N from 1, which restarts the pipeline each
// time. Run them on an otherwise idle machine: the receiver's verification shares the
// CPUs with the transmitter's signing, as it would on a single host.
package e2e
