package push

import (
	"testing"

	"github.com/sigshare/sigshare/transmitter/internal/deliverytest"
)

// newSQLiteStore is deliverytest.SQLiteStore.
var newSQLiteStore = deliverytest.SQLiteStore

// The end-to-end tests again, on store/sqlite.
func TestEndToEndOnSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	orig := newStore
	newStore = newSQLiteStore
	defer func() { newStore = orig }()
	for _, tc := range []struct {
		name string
		f    func(*testing.T)
	}{
		{"HeadersAndAuthorization", TestPushRequest_HeadersAndAuthorization},
		{"RetriesUntilSuccess", TestPushRetriesUntilSuccess},
		{"RetryRecordsState", TestPushRetryRecordsState},
		{"RetryAfter", TestPushRetryAfter},
		{"OutcomeTable", TestPushOutcomeTable},
		{"Timeout", TestPushTimeout},
		{"SSRFGuard", TestPushSSRFGuardRefusesLoopbackByDefault},
		{"DeadLetterAfterMaxAttemptsThenReplay", TestPushDeadLetterAfterMaxAttemptsThenReplay},
		{"DeadLetterAfterMaxAge", TestPushDeadLetterAfterMaxAge},
		{"OrderWithinStream", TestPushOrderWithinStream},
		{"OrderAfterStreamWideFailure", TestPushOrderAfterStreamWideFailure},
		{"ManyStreamsConcurrently", TestPushManyStreamsConcurrently},
		{"ShutdownGivesBackUnsentSETs", TestPushShutdownGivesBackUnsentSETs},
		{"ReclaimsItsOwnLeasesAtStart", TestPushReclaimsItsOwnLeasesAtStart},
		{"HoldsNoMoreThanItsBound", TestPushHoldsNoMoreThanItsBound},
		{"AcknowledgesInBatches", TestPushAcknowledgesInBatches},
		{"DeadLetterAttempts", TestPushDeadLetterAttempts},
		{"RenewsExpiringLeases", TestPushRenewsExpiringLeases},
		{"DropsSETsTakenOver", TestPushDropsSETsTakenOverByAnotherEngine},
		{"PausedStream", TestPushPausedStream},
		{"DisabledStream", TestPushDisabledStreamOnlyControl},
		{"SwitchedToPoll", TestPushSkipsStreamsSwitchedToPoll},
		{"WakesOnEnqueue", TestPushWakesOnEnqueue},
		{"LeaseErrors", TestPushLeaseErrors},
		{"CredentialsFixedByPatch", TestPushCredentialsFixedByPatch},
		{"VectorTransmissionRequest", TestVectorTransmissionRequest},
		{"VectorResponses", TestVectorResponses},
	} {
		t.Run(tc.name, tc.f)
	}
}
