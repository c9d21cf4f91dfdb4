package poll

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
		{"ReturnsSETs", TestPollReturnsSETs},
		{"EmptyAnswerHasSets", TestPollEmptyAnswerHasSets},
		{"RequestVariants", TestPollRequestVariants},
		{"MoreAvailable", TestPollMoreAvailable},
		{"AckAndPoll", TestPollAckAndPoll},
		{"SetErrsDeadLetterAndReplay", TestPollSetErrsDeadLetterAndReplay},
		{"SetErrsUnregisteredCode", TestPollSetErrsUnregisteredCode},
		{"LongPollWakesOnEnqueue", TestPollLongPollWakesOnEnqueue},
		{"LongPollIgnoresOtherStreams", TestPollLongPollIgnoresOtherStreams},
		{"LongPollTimeout", TestPollLongPollTimeout},
		{"AckOnlyLongPolls", TestPollAckOnlyLongPolls},
		{"RedeliveryAfterLease", TestPollRedeliveryAfterLease},
		{"PausedAndDisabledStreams", TestPollPausedAndDisabledStreams},
		{"LongPollWakesOnResume", TestPollLongPollWakesOnResume},
		{"Authorization", TestPollAuthorization},
		{"UnknownAndPushStreams", TestPollUnknownAndPushStreams},
		{"MalformedRequests", TestPollMalformedRequests},
		{"TooManyWaitingPolls", TestPollTooManyWaitingPolls},
		{"TouchesStream", TestPollTouchesStream},
		{"AcksSurviveLaterFailure", TestPollAcksSurviveLaterFailure},
		{"ClientGoesAway", TestPollClientGoesAway},
		{"VectorPollExchange", TestVectorPollExchange},
	} {
		t.Run(tc.name, tc.f)
	}
}
