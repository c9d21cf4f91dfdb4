package subject

import "encoding/json"

// Identifier is one Subject Identifier (RFC 9493 §3) or an SSF Complex Subject (SSF §3.3).
//
// Every format has a concrete type in this package, always used through a pointer
// (*Email, *IssSub, …, *Complex); formats this package does not know decode to *Raw,
// which keeps every member so that it round-trips unchanged (SSF §3.4 (c)). Encoding is
// strict: MarshalJSON writes the "format" member first, then the members the format
// defines (plus any extra members that were decoded, AMB-6), and fails when Validate
// fails. Build one with a composite literal, e.g. &subject.Email{Email: "a@example.com"}.
//
// Code outside this package may implement Identifier too; Equal, Match and Canonical then
// work on the value's JSON encoding.
type Identifier interface {
	// Format returns the value of the "format" member, e.g. "email" or "complex".
	Format() string
	// Validate reports whether every member the format requires is present and well formed
	// (RFC 9493 §3.2, SSF §3.3, §3.5). Its errors wrap ErrInvalid.
	Validate() error
	json.Marshaler
}

// Format names (the value of the "format" member).
const (
	FormatAccount         = "account"           // RFC 9493 §3.2.1
	FormatEmail           = "email"             // RFC 9493 §3.2.2
	FormatIssSub          = "iss_sub"           // RFC 9493 §3.2.3
	FormatOpaque          = "opaque"            // RFC 9493 §3.2.4
	FormatPhoneNumber     = "phone_number"      // RFC 9493 §3.2.5
	FormatDID             = "did"               // RFC 9493 §3.2.6
	FormatURI             = "uri"               // RFC 9493 §3.2.7
	FormatAliases         = "aliases"           // RFC 9493 §3.2.8
	FormatJWTID           = "jwt_id"            // SSF §3.5.1
	FormatSAMLAssertionID = "saml_assertion_id" // SSF §3.5.2
	FormatIPAddresses     = "ip-addresses"      // SSF §3.5.3 (with a hyphen)
	FormatComplex         = "complex"           // SSF §3.3
)

// Member names of a Complex Subject defined by SSF §3.3.1. Other names are allowed.
const (
	MemberUser        = "user"
	MemberDevice      = "device"
	MemberSession     = "session"
	MemberApplication = "application"
	MemberTenant      = "tenant"
	MemberOrgUnit     = "org_unit"
	MemberGroup       = "group"
)

// legacyFormats maps format names used by earlier drafts and by peers (DIFF-9, AMB-9,
// SUBJ-25) to the registered names. Parse rejects them; ParseLenient maps them.
func legacyFormat(name string) (string, bool) {
	switch name {
	case "iss-sub":
		return FormatIssSub, true
	case "phone", "phone-number":
		return FormatPhoneNumber, true
	case "jwt-id":
		return FormatJWTID, true
	case "saml-assertion-id":
		return FormatSAMLAssertionID, true
	}
	return "", false
}

// knownFormat reports whether name is a format this package has a type for.
func knownFormat(name string) bool {
	switch name {
	case FormatAccount, FormatEmail, FormatIssSub, FormatOpaque, FormatPhoneNumber,
		FormatDID, FormatURI, FormatAliases, FormatJWTID, FormatSAMLAssertionID,
		FormatIPAddresses, FormatComplex:
		return true
	}
	return false
}
