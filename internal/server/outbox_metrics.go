package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigshare/sigshare/transmitter"
)

// outboxCollectInterval is the least time between two reads of the store by the outbox
// collector: scrapes in between are answered from the last read.
const outboxCollectInterval = 10 * time.Second

// outboxCollectTimeout bounds one read of the store by the outbox collector.
const outboxCollectTimeout = 5 * time.Second

// outboxCollector reports the transmitter's queues as gauges read from the store at
// scrape time (at most every outboxCollectInterval): SETs per stream and state, and
// streams per status. Every node that shares a store reports the same values, so
// aggregate them across nodes with max, not sum.
type outboxCollector struct {
	streams func(ctx context.Context) ([]transmitter.StreamInfo, error)
	now     func() time.Time
	log     *slog.Logger

	sets, byStatus, up, age *prometheus.Desc

	mu     sync.Mutex
	last   time.Time
	infos  []transmitter.StreamInfo
	ok     bool
	readAt time.Time
}

func newOutboxCollector(streams func(context.Context) ([]transmitter.StreamInfo, error), log *slog.Logger) *outboxCollector {
	const ns = "sigshare_transmitter"
	return &outboxCollector{
		streams: streams,
		now:     time.Now,
		log:     log,
		sets: prometheus.NewDesc(ns+"_outbox_sets",
			"SETs in a stream's outbox, by state: pending (not yet delivered or acknowledged; leased ones included), leased (being delivered now) and dead (dead letters). The same on every node sharing the store.",
			[]string{"stream_id", "state"}, nil),
		byStatus: prometheus.NewDesc(ns+"_streams",
			"Streams by status (enabled, paused, disabled). The same on every node sharing the store.",
			[]string{"status"}, nil),
		up: prometheus.NewDesc(ns+"_outbox_collect_success",
			"1 if the last read of the outbox counts from the store succeeded, else 0 (the outbox gauges are then left out).",
			nil, nil),
		age: prometheus.NewDesc(ns+"_outbox_collect_age_seconds",
			"Age of the outbox counts reported (they are read from the store at most every 10 seconds).",
			nil, nil),
	}
}

// invalidate makes the next scrape read the store again (a stream was deleted: its
// series must go at once).
func (c *outboxCollector) invalidate() {
	c.mu.Lock()
	c.last = time.Time{}
	c.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.sets
	ch <- c.byStatus
	ch <- c.up
	ch <- c.age
}

// Collect implements prometheus.Collector. It reads the store when the last read is
// older than outboxCollectInterval; scrapes run one at a time here.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if c.last.IsZero() || now.Sub(c.last) >= outboxCollectInterval {
		c.last = now
		ctx, cancel := context.WithTimeout(context.Background(), outboxCollectTimeout)
		infos, err := c.streams(ctx)
		cancel()
		if err != nil {
			c.ok = false
			c.log.Warn("metrics: reading the outbox counts failed", "err", err)
		} else {
			c.infos, c.ok, c.readAt = infos, true, now
		}
	}
	if !c.ok {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, now.Sub(c.readAt).Seconds())
	statuses := map[string]int{"enabled": 0, "paused": 0, "disabled": 0}
	for _, in := range c.infos {
		statuses[string(in.Status)]++
		ch <- prometheus.MustNewConstMetric(c.sets, prometheus.GaugeValue, float64(in.Outbox.Pending), in.StreamID, "pending")
		ch <- prometheus.MustNewConstMetric(c.sets, prometheus.GaugeValue, float64(in.Outbox.Leased), in.StreamID, "leased")
		ch <- prometheus.MustNewConstMetric(c.sets, prometheus.GaugeValue, float64(in.Outbox.Dead), in.StreamID, "dead")
	}
	for status, n := range statuses {
		ch <- prometheus.MustNewConstMetric(c.byStatus, prometheus.GaugeValue, float64(n), status)
	}
}
