package subject

import "encoding/json"

// Identifier is one Subject Identifier (RFC 9493 §3) or an SSF Complex Subject (SSF §3.3).
//
// Every format has a concrete type in this package; formats this package does not know
// decode to *Raw, which keeps every member so that it round-trips unchanged (SSF §3.4 (c)).
// Encoding is strict: MarshalJSON writes the "format" member and the members the format
// defines (plus any extra members that were decoded), and fails when Validate fails.
type Identifier interface {
	// Format returns the value of the "format" member, e.g. "email" or "complex".
	Format() string
	// Validate reports whether every member the format requires is present and well formed
	// (RFC 9493 §3.2, SSF §3.3, §3.5).
	Validate() error
	json.Marshaler
}
