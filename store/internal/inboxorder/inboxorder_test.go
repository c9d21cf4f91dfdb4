package inboxorder

import (
	"slices"
	"testing"
	"time"

	"github.com/sigshare/sigshare/store"
)

func TestSort(t *testing.T) {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	in := func(jti string, sec int, loc *time.Location) *store.InboxSET {
		return &store.InboxSET{JTI: jti, ReceivedAt: t0.Add(time.Duration(sec) * time.Second).In(loc)}
	}
	recs := []Record{
		{RID: 7, SET: in("late", 2, time.UTC)},
		{RID: 9, SET: in("tie-second", 1, time.UTC)},
		{RID: 3, SET: in("tie-first", 1, time.FixedZone("x", 3600))}, // the same instant in another zone
		{RID: 1, SET: in("early", 0, time.UTC)},
	}
	var got []string
	for _, s := range Sort(recs) {
		got = append(got, s.JTI)
	}
	if want := []string{"early", "tie-first", "tie-second", "late"}; !slices.Equal(got, want) {
		t.Errorf("Sort = %q, want %q (ReceivedAt, then insertion)", got, want)
	}
	if out := Sort(nil); out == nil || len(out) != 0 {
		t.Errorf("Sort(nil) = %#v, want an empty slice", out)
	}
}
