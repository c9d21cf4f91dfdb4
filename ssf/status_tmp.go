package ssf

// Status is the status of a stream (SSF §8.1.2.1).
//
// Temporary definition: the events colleague's branch defines Status in events.go; this
// file is deleted when that branch lands on main.
type Status string

// Stream status values (SSF §8.1.2.1).
const (
	StatusEnabled  Status = "enabled"
	StatusPaused   Status = "paused"
	StatusDisabled Status = "disabled"
)
