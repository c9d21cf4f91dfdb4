package inboxorder

import (
	"slices"
	"testing"
	"time"

	"github.com/sigshare/sigshare/store"
)

// TestSort: InboxLease and InboxDeadLetters return SETs by ReceivedAt (the instant, in
// whatever zone), then in the order they were added (RID).
func TestSort(t *testing.T) {
	elsewhere := time.FixedZone("UTC+1", 3600)
	recs := []Record{
		{7, &store.InboxSET{JTI: "late", ReceivedAt: time.Unix(1900000002, 0).UTC()}},
		{9, &store.InboxSET{JTI: "tie-second", ReceivedAt: time.Unix(1900000001, 0).UTC()}},
		{3, &store.InboxSET{JTI: "tie-first", ReceivedAt: time.Unix(1900000001, 0).In(elsewhere)}},
		{1, &store.InboxSET{JTI: "early", ReceivedAt: time.Unix(1900000000, 0).UTC()}},
	}
	var got []string
	for _, s := range Sort(recs) {
		got = append(got, s.JTI)
	}
	if want := []string{"early", "tie-first", "tie-second", "late"}; !slices.Equal(got, want) {
		t.Errorf("Sort = %q, want %q", got, want)
	}
	if out := Sort(nil); out == nil || len(out) != 0 {
		t.Errorf("Sort(nil) = %#v, want an empty slice", out)
	}
}
