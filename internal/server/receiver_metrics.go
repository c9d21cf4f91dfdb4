package server

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigshare/sigshare/receiver"
	"github.com/sigshare/sigshare/set"
)

// receiverMetrics are the metrics of a receiver node, fed by the hooks of package
// receiver.
type receiverMetrics struct {
	received    *prometheus.CounterVec
	verified    *prometheus.CounterVec
	rejected    *prometheus.CounterVec
	duplicates  *prometheus.CounterVec
	discarded   *prometheus.CounterVec
	tolerated   *prometheus.CounterVec
	handled     *prometheus.CounterVec
	handlerTime *prometheus.HistogramVec
	polls       *prometheus.CounterVec
	pollTime    prometheus.Histogram
	pollSETs    prometheus.Counter
	pollAcks    prometheus.Counter
	pollErrs    prometheus.Counter
}

func newReceiverMetrics(reg prometheus.Registerer) *receiverMetrics {
	const ns = "sigshare_receiver"
	m := &receiverMetrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sets_received_total",
			Help: "SETs that arrived, before verification, by transport (push or poll)."}, []string{"transport"}),
		verified: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sets_verified_total",
			Help: "SETs that passed verification (duplicates included), by transport and event type."}, []string{"transport", "event_type"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "verification_failures_total",
			Help: "SETs refused, by transport and RFC 8935 error code."}, []string{"transport", "code"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sets_duplicate_total",
			Help: "SETs received again (same iss and jti), not processed twice, by transport."}, []string{"transport"}),
		discarded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sets_discarded_total",
			Help: "Valid SETs whose event was discarded (critical subject member not understood, SSF §3.6), by transport and event type."}, []string{"transport", "event_type"}),
		tolerated: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "push_tolerated_total",
			Help: "Push requests that needed a compatibility-mode tolerance, by what was tolerated."}, []string{"transport", "what"}),
		handled: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "handler_attempts_total",
			Help: "Handler attempts, by event type and outcome (success, unhandled, discarded, retry, dead)."}, []string{"event_type", "outcome"}),
		handlerTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "handler_duration_seconds",
			Help: "Duration of handler attempts, by event type.", Buckets: latencyBuckets}, []string{"event_type"}),
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "poll_requests_total",
			Help: "Poll requests sent (RFC 8936), by HTTP status (0: no answer)."}, []string{"status"}),
		pollTime: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "poll_request_duration_seconds",
			Help: "Duration of poll requests, long-poll waiting included.", Buckets: latencyBuckets}),
		pollSETs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "poll_sets_received_total",
			Help: "SETs received in poll answers."}),
		pollAcks: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "poll_acks_sent_total",
			Help: "Acknowledgements sent in poll requests."}),
		pollErrs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "poll_set_errors_sent_total",
			Help: "SET errors (setErrs) reported in poll requests."}),
	}
	reg.MustRegister(m.received, m.verified, m.rejected, m.duplicates, m.discarded, m.tolerated, m.handled,
		m.handlerTime, m.polls, m.pollTime, m.pollSETs, m.pollAcks, m.pollErrs)
	return m
}

// hooks returns the receiver hooks, chained before next.
func (m *receiverMetrics) hooks(next receiver.Hooks) receiver.Hooks {
	return receiver.Hooks{
		Received: func(t receiver.Transport) {
			m.received.WithLabelValues(string(t)).Inc()
			if next.Received != nil {
				next.Received(t)
			}
		},
		Verified: func(t receiver.Transport, eventType string, leniency set.Leniency) {
			m.verified.WithLabelValues(string(t), eventType).Inc()
			if next.Verified != nil {
				next.Verified(t, eventType, leniency)
			}
		},
		Rejected: func(t receiver.Transport, code string) {
			m.rejected.WithLabelValues(string(t), code).Inc()
			if next.Rejected != nil {
				next.Rejected(t, code)
			}
		},
		Duplicate: func(t receiver.Transport) {
			m.duplicates.WithLabelValues(string(t)).Inc()
			if next.Duplicate != nil {
				next.Duplicate(t)
			}
		},
		Discarded: func(t receiver.Transport, eventType string) {
			m.discarded.WithLabelValues(string(t), eventType).Inc()
			if next.Discarded != nil {
				next.Discarded(t, eventType)
			}
		},
		Tolerated: func(t receiver.Transport, what string) {
			m.tolerated.WithLabelValues(string(t), what).Inc()
			if next.Tolerated != nil {
				next.Tolerated(t, what)
			}
		},
		Handled: func(eventType string, outcome receiver.Outcome, d time.Duration) {
			m.handled.WithLabelValues(eventType, string(outcome)).Inc()
			m.handlerTime.WithLabelValues(eventType).Observe(d.Seconds())
			if next.Handled != nil {
				next.Handled(eventType, outcome, d)
			}
		},
		PollRequest: func(status, sets, acks, setErrs int, d time.Duration, err error) {
			m.polls.WithLabelValues(strconv.Itoa(status)).Inc()
			m.pollTime.Observe(d.Seconds())
			m.pollSETs.Add(float64(sets))
			m.pollAcks.Add(float64(acks))
			m.pollErrs.Add(float64(setErrs))
			if next.PollRequest != nil {
				next.PollRequest(status, sets, acks, setErrs, d, err)
			}
		},
	}
}
