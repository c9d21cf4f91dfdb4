// Package multinode holds the tests and benchmarks of several transmitter nodes (separate
// processes) sharing one PostgreSQL database through store/postgres: RFC 8935 push
// delivery (transmitter/push) stays at-least-once when a node is killed (SIGKILL)
// mid-delivery, delivers each SET exactly once when no node fails, and scales its
// delivered SETs per second with the number of nodes.
//
// The test binary re-executes itself: with SIGSHARE_MULTINODE_NODE set it runs one
// transmitter node (transmitter.Transmitter serving its HTTP surface, and a push
// engine) on the database and schema named by the environment, prints the address it
// listens on, and stops when sent SIGTERM or when its standard input closes (the parent
// died). The parent starts two or three such nodes, creates push streams (management
// API, SSF §8.1.1) to a receiver it serves with net/http/httptest, emits events through
// different nodes (operator API POST /admin/events), and checks what the receiver got.
//
// The package has no API. Its tests skip unless SIGSHARE_TEST_POSTGRES names a database
// (see store/postgres):
//
//	go test -race ./internal/multinode
//	go test -run='^$' -bench=Delivery -benchtime=2000x ./internal/multinode
package multinode
