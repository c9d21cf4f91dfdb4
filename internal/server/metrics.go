package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/transmitter"
	"github.com/sigshare/sigshare/transmitter/poll"
	"github.com/sigshare/sigshare/transmitter/push"
)

// latencyBuckets are the histogram buckets of delivery latencies, in seconds: from a
// millisecond (loopback) to an hour (a receiver that was down).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}

// metricsHandler serves reg in the Prometheus text format.
func metricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: false})
}

// registerRuntime adds the Go runtime and process collectors to reg.
func registerRuntime(reg *prometheus.Registry) {
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

// transmitterMetrics are the metrics of a transmitter node, fed by the hooks of package
// transmitter, transmitter/push and transmitter/poll.
type transmitterMetrics struct {
	eventsAccepted *prometheus.CounterVec
	eventsNoStream *prometheus.CounterVec
	setsQueued     *prometheus.CounterVec
	setsDelivered  *prometheus.CounterVec
	pushRetried    *prometheus.CounterVec
	pushFailed     *prometheus.CounterVec
	deadLettered   *prometheus.CounterVec
	pushLatency    *prometheus.HistogramVec
	pollRequests   *prometheus.CounterVec
	pollSetsServed *prometheus.CounterVec
	pollWait       prometheus.Histogram
	receiverErrors *prometheus.CounterVec
	authFailures   *prometheus.CounterVec
	streamsCreated prometheus.Counter
	streamsDeleted prometheus.Counter
	statusChanges  *prometheus.CounterVec
	verifications  *prometheus.CounterVec
	pollRejected   *prometheus.CounterVec
	perStreamVecs  []deletePartial
	outbox         *outboxCollector // nil until the node registers it
}

// deletePartial is the part of a metric vector used to forget a deleted stream's series.
type deletePartial interface {
	DeletePartialMatch(labels prometheus.Labels) int
}

func newTransmitterMetrics(reg prometheus.Registerer) *transmitterMetrics {
	const ns = "sigshare_transmitter"
	m := &transmitterMetrics{
		eventsAccepted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "events_accepted_total",
			Help: "Events accepted for emission, by event type (each is queued on every matching stream)."}, []string{"event_type"}),
		eventsNoStream: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "events_unmatched_total",
			Help: "Events accepted that no stream receives, by event type."}, []string{"event_type"}),
		setsQueued: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sets_queued_total",
			Help: "SETs written to the outbox, by stream and event type (events, verification and stream-updated SETs)."}, []string{"stream_id", "event_type"}),
		setsDelivered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sets_delivered_total",
			Help: "SETs the receiver confirmed: a 2xx push answer (RFC 8935) or a poll acknowledgement (RFC 8936), by stream and method."}, []string{"stream_id", "method"}),
		pushRetried: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "push_retries_total",
			Help: "Push SETs rescheduled after a failure, by stream and reason."}, []string{"stream_id", "reason"}),
		pushFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "push_request_failures_total",
			Help: "Push requests that did not end in a 2xx answer, by stream and reason."}, []string{"stream_id", "reason"}),
		deadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sets_dead_lettered_total",
			Help: "SETs parked as dead letters, by stream and reason (push: rejected, max_attempts, max_age; poll: receiver_error)."}, []string{"stream_id", "reason"}),
		pushLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "push_delivery_latency_seconds",
			Help: "Time from queueing a SET to the receiver's 2xx answer, by stream.", Buckets: latencyBuckets}, []string{"stream_id"}),
		pollRequests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "poll_requests_total",
			Help: "Poll requests (RFC 8936) answered with SETs or an empty answer (200), by stream."}, []string{"stream_id"}),
		pollSetsServed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "poll_sets_served_total",
			Help: "SETs returned in poll answers (a SET not acknowledged in time is returned again), by stream."}, []string{"stream_id"}),
		pollWait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Name: "poll_request_duration_seconds",
			Help: "Duration of answered poll requests, long-poll waiting included.", Buckets: latencyBuckets}),
		pollRejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "poll_rejected_total",
			Help: "Poll requests answered with an error, by HTTP status (no stream label: the stream id of a refused request is chosen by the caller)."}, []string{"status"}),
		receiverErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "poll_receiver_errors_total",
			Help: "SETs a poll receiver reported as invalid (setErrs), by stream and RFC 8935 error code."}, []string{"stream_id", "code"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "auth_failures_total",
			Help: "Requests refused for their credentials, by API (management, poll, admin) and RFC 6750 error code."}, []string{"api", "code"}),
		streamsCreated: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "streams_created_total",
			Help: "Streams created."}),
		streamsDeleted: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "streams_deleted_total",
			Help: "Streams deleted."}),
		statusChanges: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "stream_status_changes_total",
			Help: "Stream status changes, by new status and initiator (receiver or transmitter)."}, []string{"status", "by"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "verifications_total",
			Help: "Verification SETs queued, by whether the receiver asked (solicited) or the transmitter sent one on its own."}, []string{"solicited"}),
	}
	reg.MustRegister(m.eventsAccepted, m.eventsNoStream, m.setsQueued, m.setsDelivered, m.pushRetried, m.pushFailed,
		m.deadLettered, m.pushLatency, m.pollRequests, m.pollSetsServed, m.pollWait, m.pollRejected, m.receiverErrors,
		m.authFailures, m.streamsCreated, m.streamsDeleted, m.statusChanges, m.verifications)
	m.perStreamVecs = []deletePartial{m.setsQueued, m.setsDelivered, m.pushRetried, m.pushFailed, m.deadLettered,
		m.pushLatency, m.pollRequests, m.pollSetsServed, m.receiverErrors}
	return m
}

// forgetStream deletes the series of a deleted stream, so that stream ids (random,
// never reused) do not accumulate.
func (m *transmitterMetrics) forgetStream(streamID string) {
	for _, v := range m.perStreamVecs {
		v.DeletePartialMatch(prometheus.Labels{"stream_id": streamID})
	}
	if m.outbox != nil {
		m.outbox.invalidate()
	}
}

// transmitterHooks returns the hooks of package transmitter, chained before next.
func (m *transmitterMetrics) transmitterHooks(next transmitter.Hooks) transmitter.Hooks {
	return transmitter.Hooks{
		EventAccepted: func(eventType string, streams int) {
			m.eventsAccepted.WithLabelValues(eventType).Inc()
			if streams == 0 {
				m.eventsNoStream.WithLabelValues(eventType).Inc()
			}
			if next.EventAccepted != nil {
				next.EventAccepted(eventType, streams)
			}
		},
		SETQueued: func(streamID, eventType string) {
			m.setsQueued.WithLabelValues(streamID, eventType).Inc()
			if next.SETQueued != nil {
				next.SETQueued(streamID, eventType)
			}
		},
		StreamCreated: func(streamID, clientID string) {
			m.streamsCreated.Inc()
			if next.StreamCreated != nil {
				next.StreamCreated(streamID, clientID)
			}
		},
		StreamDeleted: func(streamID, clientID string) {
			m.streamsDeleted.Inc()
			m.forgetStream(streamID)
			if next.StreamDeleted != nil {
				next.StreamDeleted(streamID, clientID)
			}
		},
		StatusChanged: func(streamID string, from, to ssf.Status, byTransmitter bool) {
			by := "receiver"
			if byTransmitter {
				by = "transmitter"
			}
			m.statusChanges.WithLabelValues(string(to), by).Inc()
			if next.StatusChanged != nil {
				next.StatusChanged(streamID, from, to, byTransmitter)
			}
		},
		VerificationRequested: func(streamID string, solicited bool) {
			m.verifications.WithLabelValues(strconv.FormatBool(solicited)).Inc()
			if next.VerificationRequested != nil {
				next.VerificationRequested(streamID, solicited)
			}
		},
		AuthFailure: func(api, code string) {
			m.authFailures.WithLabelValues(api, code).Inc()
			if next.AuthFailure != nil {
				next.AuthFailure(api, code)
			}
		},
	}
}

// pushHooks returns the hooks of the push engine, chained before next.
func (m *transmitterMetrics) pushHooks(next push.Hooks) push.Hooks {
	return push.Hooks{
		Delivered: func(streamID string, latency time.Duration) {
			m.setsDelivered.WithLabelValues(streamID, "push").Inc()
			m.pushLatency.WithLabelValues(streamID).Observe(latency.Seconds())
			if next.Delivered != nil {
				next.Delivered(streamID, latency)
			}
		},
		Retried: func(streamID string, reason push.Reason) {
			m.pushRetried.WithLabelValues(streamID, string(reason)).Inc()
			if next.Retried != nil {
				next.Retried(streamID, reason)
			}
		},
		DeadLettered: func(streamID string, reason push.Reason) {
			m.deadLettered.WithLabelValues(streamID, string(reason)).Inc()
			if next.DeadLettered != nil {
				next.DeadLettered(streamID, reason)
			}
		},
		RequestFailed: func(streamID string, reason push.Reason) {
			m.pushFailed.WithLabelValues(streamID, string(reason)).Inc()
			if next.RequestFailed != nil {
				next.RequestFailed(streamID, reason)
			}
		},
	}
}

// pollHooks returns the hooks of the poll endpoint, chained before next.
func (m *transmitterMetrics) pollHooks(next poll.Hooks) poll.Hooks {
	return poll.Hooks{
		Served: func(streamID string, delivered int, waited time.Duration) {
			m.pollRequests.WithLabelValues(streamID).Inc()
			m.pollSetsServed.WithLabelValues(streamID).Add(float64(delivered))
			m.pollWait.Observe(waited.Seconds())
			if next.Served != nil {
				next.Served(streamID, delivered, waited)
			}
		},
		Acknowledged: func(streamID string, n int) {
			m.setsDelivered.WithLabelValues(streamID, "poll").Add(float64(n))
			if next.Acknowledged != nil {
				next.Acknowledged(streamID, n)
			}
		},
		ReceiverError: func(streamID, code string) {
			m.receiverErrors.WithLabelValues(streamID, code).Inc()
			m.deadLettered.WithLabelValues(streamID, "receiver_error").Inc()
			if next.ReceiverError != nil {
				next.ReceiverError(streamID, code)
			}
		},
		Rejected: func(streamID string, status int) {
			m.pollRejected.WithLabelValues(strconv.Itoa(status)).Inc()
			if next.Rejected != nil {
				next.Rejected(streamID, status)
			}
		},
	}
}
