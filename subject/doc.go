// Package subject implements subject identifiers for Security Event Tokens: the formats
// of RFC 9493 §3 (account, email, iss_sub, opaque, phone_number, did, uri, aliases), their
// use in the "sub_id" claim (RFC 9493 §4), the formats SSF 1.0 adds (SSF §3.5: jwt_id,
// saml_assertion_id, ip-addresses), SSF Complex Subjects (SSF §3.3), proprietary formats
// (SSF §3.4, kept as *Raw) and subject matching (SSF §8.1.3.1).
//
// # Types
//
// Each format has a type with exported fields named after its members, used through a
// pointer: *Account, *Email, *IssSub, *Opaque, *PhoneNumber, *DID, *URI, *Aliases,
// *JWTID, *SAMLAssertionID, *IPAddresses, *Complex, and *Raw for unknown formats. All
// implement Identifier. Build one with a composite literal:
//
//	id := &subject.Email{Email: "user@example.com"}
//	b, err := json.Marshal(id) // {"format":"email","email":"user@example.com"}
//
// # Decoding and encoding
//
// Parse decodes strictly (SSF 1.0 Final). ParseLenient also accepts the legacy shapes
// real transmitters send ("subject_type", draft-era format names, Complex Subjects without
// "format", opaque "sub") and reports each tolerance it used as a Leniency. Both reject
// invalid JSON and duplicate member names (SEC-19).
//
// Encoding is strict: MarshalJSON fails when Validate fails and writes "format" first,
// then the members in a fixed order. Identifiers built in code carry only the members
// their format defines (RFC 9493 §3). Members a decoded identifier carried beyond those
// are kept and written back, so that what was received re-encodes unchanged (AMB-6); see
// the Extra method. Errors wrap ErrInvalid and are *Error values naming the format and
// member at fault.
//
// # Equality and matching
//
// Equal, Canonical and Match implement "identical" and the SSF §8.1.3.1 matching rules;
// Matcher documents each rule and holds the options that change them (AMB-7).
package subject
