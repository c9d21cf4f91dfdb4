package server

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sigshare/sigshare/ssf"
	"github.com/sigshare/sigshare/store"
	"github.com/sigshare/sigshare/transmitter"
)

// gatherGauges returns the gauges of family name as "label=value,...: value" lines,
// sorted.
func gatherGauges(t *testing.T, reg *prometheus.Registry, name string) []string {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var out []string
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			out = append(out, strings.Join(labels, ",")+": "+strconv.FormatFloat(m.GetGauge().GetValue(), 'g', -1, 64))
		}
	}
	sort.Strings(out)
	return out
}

// The outbox gauges (issue 7 operations, IOP-7: what a paused stream holds) come from
// the store at scrape time, at most every outboxCollectInterval; a failed read is
// reported by sigshare_transmitter_outbox_collect_success 0 instead of stale values,
// and invalidate makes a deleted stream's series go at the next scrape.
func TestOutboxCollector(t *testing.T) {
	var reads atomic.Int32
	var fail atomic.Bool
	infos := []transmitter.StreamInfo{
		{StreamID: "s1", Status: ssf.StatusPaused, Outbox: store.OutboxCounts{Pending: 7, Dead: 2}},
		{StreamID: "s2", Status: ssf.StatusEnabled, Outbox: store.OutboxCounts{Pending: 3, Leased: 3}},
	}
	c := newOutboxCollector(func(context.Context) ([]transmitter.StreamInfo, error) {
		reads.Add(1)
		if fail.Load() {
			return nil, errors.New("store down")
		}
		return infos, nil
	}, slog.New(slog.DiscardHandler))
	now := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	c.now = func() time.Time { return now }
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)

	want := []string{
		"state=dead,stream_id=s1: 2", "state=dead,stream_id=s2: 0",
		"state=leased,stream_id=s1: 0", "state=leased,stream_id=s2: 3",
		"state=pending,stream_id=s1: 7", "state=pending,stream_id=s2: 3",
	}
	if diff := cmp.Diff(want, gatherGauges(t, reg, "sigshare_transmitter_outbox_sets")); diff != "" {
		t.Errorf("outbox_sets (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"status=disabled: 0", "status=enabled: 1", "status=paused: 1"},
		gatherGauges(t, reg, "sigshare_transmitter_streams")); diff != "" {
		t.Errorf("streams (-want +got):\n%s", diff)
	}
	if got := gatherGauges(t, reg, "sigshare_transmitter_outbox_collect_success"); !cmp.Equal(got, []string{": 1"}) {
		t.Errorf("collect_success = %q, want 1", got)
	}

	// Within the interval the store is not read again; the age says how old the values are.
	now = now.Add(4 * time.Second)
	if got := gatherGauges(t, reg, "sigshare_transmitter_outbox_collect_age_seconds"); !cmp.Equal(got, []string{": 4"}) {
		t.Errorf("collect_age_seconds = %q, want 4", got)
	}
	// Each gatherGauges call is one scrape; only the first read the store.
	if r := reads.Load(); r != 1 {
		t.Errorf("%d store reads for scrapes within %v, want 1", r, outboxCollectInterval)
	}

	// invalidate: the next scrape reads again, and a deleted stream is gone.
	infos = infos[1:]
	c.invalidate()
	if got := gatherGauges(t, reg, "sigshare_transmitter_outbox_sets"); len(got) != 3 || strings.Contains(strings.Join(got, " "), "s1") {
		t.Errorf("after invalidate: %q, want the three series of s2", got)
	}

	// A failed read: success 0 and no outbox series, not the old values.
	fail.Store(true)
	now = now.Add(outboxCollectInterval)
	if got := gatherGauges(t, reg, "sigshare_transmitter_outbox_collect_success"); !cmp.Equal(got, []string{": 0"}) {
		t.Errorf("collect_success after a failed read = %q, want 0", got)
	}
	if got := gatherGauges(t, reg, "sigshare_transmitter_outbox_sets"); len(got) != 0 {
		t.Errorf("outbox series after a failed read: %q, want none", got)
	}
}
