// Package inboxorder puts the inbox SETs a SQL store backend read back in the order the
// store.InboxStore contract gives them (InboxLease, InboxDeadLetters): by ReceivedAt,
// then in the order they were added.
package inboxorder

import (
	"cmp"
	"slices"

	"github.com/sigshare/sigshare/store"
)

// Record is an inbox SET read from its row, with the row's insertion order.
type Record struct {
	// RID is the row ID the backend assigned when the SET was added: a later add has a
	// larger RID.
	RID int64
	// SET is the stored SET.
	SET *store.InboxSET
}

// Sort orders recs (in place) by SET.ReceivedAt, then RID, and returns their SETs in that
// order, as a new slice (empty, not nil, for no records).
func Sort(recs []Record) []*store.InboxSET {
	slices.SortFunc(recs, func(a, b Record) int {
		if c := a.SET.ReceivedAt.Compare(b.SET.ReceivedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.RID, b.RID)
	})
	out := make([]*store.InboxSET, len(recs))
	for i, r := range recs {
		out[i] = r.SET
	}
	return out
}
