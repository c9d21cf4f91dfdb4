// Package server assembles complete sigshare nodes from the SDK packages: a transmitter
// node (package transmitter with its RFC 8935 push engine, RFC 8936 poll endpoint, store,
// signing keys, receiver authentication and operator API) and a receiver node (package
// receiver with its push endpoint, poller, inbox and worker), each served over HTTP(S)
// with Prometheus metrics at /metrics and health checks at /healthz and /readyz.
//
// This is the one place where nodes are put together: the sigshare command line (its
// transmitter, receiver and demo commands) and the integration tests and benchmarks use
// it, so that what they run is what users run.
//
// What it implements, and where the rules come from:
//
//   - SSF 1.0 §7 and §8 (discovery and stream management) through package transmitter
//     and package receiver; this package only wires them.
//   - RFC 8935 (push) and RFC 8936 (poll) delivery: the push engine runs beside the
//     transmitter's HTTP surface and stops cleanly (requests in flight finish and their
//     outcome is recorded) on Shutdown.
//   - SSF §4.1.4 and CAEP Interoperability Profile §2.6 (IOP-16): signing keys are
//     loaded from a file or generated and saved with permission 0600
//     ([LoadOrGenerateSigningKey]); RS256 is the default algorithm.
//   - SEC-1, SEC-17: TLS 1.2 at least (1.3 preferred by negotiation) when the node serves
//     TLS; push endpoints are reached through the SSRF guard of internal/netguard unless
//     the Insecure... switches allow loopback or private addresses.
//
// Metrics: the SDK packages import no metrics library; they expose Hooks. Each node
// registers its metrics on its own prometheus.Registry (never the global default), and
// wires them to the hooks of package transmitter, transmitter/push, transmitter/poll
// and receiver. The metric names are listed in docs/operations.md.
package server
