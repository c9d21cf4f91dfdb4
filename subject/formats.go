package subject

import (
	"encoding/json"
	"net/netip"
	"strconv"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// RawMember is one member of a JSON object kept as raw JSON: a member a decoded
// identifier carried that its format does not define (AMB-6), or a member of an
// identifier whose format this package does not know (*Raw).
type RawMember struct {
	// Name is the member name.
	Name string
	// Value is the member's value, one JSON value.
	Value json.RawMessage
}

// extraMembers holds the undeclared members an identifier was decoded with, in input
// order. Identifiers built in code have none, so what we build encodes strictly
// (RFC 9493 §3), while what we decoded re-encodes with everything it carried (AMB-6).
type extraMembers []RawMember

// Extra returns a copy of the members the identifier was decoded with that its format
// does not define, in input order; nil for identifiers built in code. MarshalJSON writes
// them back after the defined members. Equal, Match and Canonical ignore them (AMB-6:
// receivers ignore unknown members).
func (x *extraMembers) Extra() []RawMember {
	if x == nil || len(*x) == 0 {
		return nil
	}
	out := make([]RawMember, len(*x))
	for i, m := range *x {
		out[i] = RawMember{Name: m.Name, Value: append(json.RawMessage(nil), m.Value...)}
	}
	return out
}

func (x *extraMembers) size() int {
	n := 0
	for _, m := range *x {
		n += len(m.Name) + len(m.Value) + 4
	}
	return n
}

// appendRawMembers appends ,"name":value for each member.
func appendRawMembers(b []byte, ms []RawMember) []byte {
	for _, m := range ms {
		b = append(b, ',')
		b = appendString(b, m.Name)
		b = append(b, ':')
		b = jsonwire.AppendCompact(b, m.Value)
	}
	return b
}

// appendHead starts an identifier object: {"format":"<format>"
func appendHead(b []byte, format string) []byte {
	b = append(b, `{"format":`...)
	return appendString(b, format)
}

// appendMember appends ,"name":"value".
func appendMember(b []byte, name, value string) []byte {
	b = append(b, ',')
	b = appendString(b, name)
	b = append(b, ':')
	return appendString(b, value)
}

// nilError reports a nil pointer used as an identifier.
func nilError(format, typ string) error {
	return &Error{Format: format, Reason: "nil *" + typ}
}

// check runs one member check.
func check(format, member, value string, fn func(string) string) error {
	if r := fn(value); r != "" {
		return memberError(format, member, r)
	}
	return nil
}

// Account is an account subject identifier (RFC 9493 §3.2.1).
type Account struct {
	// URI is an acct: URI (RFC 7565), e.g. "acct:example.user@service.example.com".
	URI string
	extraMembers
}

// Format returns "account".
func (*Account) Format() string { return FormatAccount }

// Validate checks that URI is an acct: URI.
func (a *Account) Validate() error {
	if a == nil {
		return nilError(FormatAccount, "Account")
	}
	return check(FormatAccount, "uri", a.URI, checkAccount)
}

// MarshalJSON encodes {"format":"account","uri":…}; it fails when Validate fails.
func (a *Account) MarshalJSON() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a.appendJSON(make([]byte, 0, 32+len(a.URI)+a.size()))
}

func (a *Account) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatAccount)
	b = appendMember(b, "uri", a.URI)
	return append(appendRawMembers(b, a.extraMembers), '}'), nil
}

// UnmarshalJSON decodes an account identifier strictly, like Parse.
func (a *Account) UnmarshalJSON(data []byte) error { return unmarshalAs(a, FormatAccount, data) }

// Email is an email subject identifier (RFC 9493 §3.2.2).
type Email struct {
	// Email is the address, an RFC 5322 addr-spec, e.g. "user@example.com".
	Email string
	extraMembers
}

// Format returns "email".
func (*Email) Format() string { return FormatEmail }

// Validate checks that Email is an addr-spec (local-part@domain; sane checks only).
func (e *Email) Validate() error {
	if e == nil {
		return nilError(FormatEmail, "Email")
	}
	return check(FormatEmail, "email", e.Email, checkEmail)
}

// MarshalJSON encodes {"format":"email","email":…}; it fails when Validate fails.
func (e *Email) MarshalJSON() ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e.appendJSON(make([]byte, 0, 32+len(e.Email)+e.size()))
}

func (e *Email) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatEmail)
	b = appendMember(b, "email", e.Email)
	return append(appendRawMembers(b, e.extraMembers), '}'), nil
}

// UnmarshalJSON decodes an email identifier strictly, like Parse.
func (e *Email) UnmarshalJSON(data []byte) error { return unmarshalAs(e, FormatEmail, data) }

// IssSub is an issuer and subject identifier (RFC 9493 §3.2.3), like the "iss" and "sub"
// claims of an OpenID Connect ID Token.
type IssSub struct {
	// Iss is the issuer, e.g. "https://issuer.example.com/".
	Iss string
	// Sub is the subject, unique within the issuer.
	Sub string
	extraMembers
}

// Format returns "iss_sub".
func (*IssSub) Format() string { return FormatIssSub }

// Validate checks that Iss and Sub are non-empty.
func (s *IssSub) Validate() error {
	if s == nil {
		return nilError(FormatIssSub, "IssSub")
	}
	if err := check(FormatIssSub, "iss", s.Iss, checkRequired); err != nil {
		return err
	}
	return check(FormatIssSub, "sub", s.Sub, checkRequired)
}

// MarshalJSON encodes {"format":"iss_sub","iss":…,"sub":…}; it fails when Validate fails.
func (s *IssSub) MarshalJSON() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s.appendJSON(make([]byte, 0, 40+len(s.Iss)+len(s.Sub)+s.size()))
}

func (s *IssSub) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatIssSub)
	b = appendMember(b, "iss", s.Iss)
	b = appendMember(b, "sub", s.Sub)
	return append(appendRawMembers(b, s.extraMembers), '}'), nil
}

// UnmarshalJSON decodes an iss_sub identifier strictly, like Parse.
func (s *IssSub) UnmarshalJSON(data []byte) error { return unmarshalAs(s, FormatIssSub, data) }

// Opaque is an opaque subject identifier (RFC 9493 §3.2.4): a string with no semantics
// asserted, such as a UUID or a database key. SSF uses {"format":"opaque","id":<stream_id>}
// as the subject of verification and stream-updated events.
type Opaque struct {
	// ID is the identifier.
	ID string
	extraMembers
}

// Format returns "opaque".
func (*Opaque) Format() string { return FormatOpaque }

// Validate checks that ID is non-empty.
func (o *Opaque) Validate() error {
	if o == nil {
		return nilError(FormatOpaque, "Opaque")
	}
	return check(FormatOpaque, "id", o.ID, checkRequired)
}

// MarshalJSON encodes {"format":"opaque","id":…}; it fails when Validate fails.
func (o *Opaque) MarshalJSON() ([]byte, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	return o.appendJSON(make([]byte, 0, 32+len(o.ID)+o.size()))
}

func (o *Opaque) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatOpaque)
	b = appendMember(b, "id", o.ID)
	return append(appendRawMembers(b, o.extraMembers), '}'), nil
}

// UnmarshalJSON decodes an opaque identifier strictly, like Parse.
func (o *Opaque) UnmarshalJSON(data []byte) error { return unmarshalAs(o, FormatOpaque, data) }

// PhoneNumber is a phone number subject identifier (RFC 9493 §3.2.5).
type PhoneNumber struct {
	// PhoneNumber is an E.164 number with its "+" prefix, e.g. "+12065550100". Spaces
	// between digits are accepted ("+1 206 555 0123", SSF §5) and are not significant
	// for Equal, Match and Canonical; MarshalJSON writes the value as it is.
	PhoneNumber string
	extraMembers
}

// Format returns "phone_number".
func (*PhoneNumber) Format() string { return FormatPhoneNumber }

// Validate checks that PhoneNumber is "+" followed by up to 15 digits (spaces allowed
// between digits).
func (p *PhoneNumber) Validate() error {
	if p == nil {
		return nilError(FormatPhoneNumber, "PhoneNumber")
	}
	return check(FormatPhoneNumber, "phone_number", p.PhoneNumber, checkPhoneNumber)
}

// MarshalJSON encodes {"format":"phone_number","phone_number":…}; it fails when Validate
// fails.
func (p *PhoneNumber) MarshalJSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p.appendJSON(make([]byte, 0, 48+len(p.PhoneNumber)+p.size()))
}

func (p *PhoneNumber) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatPhoneNumber)
	b = appendMember(b, "phone_number", p.PhoneNumber)
	return append(appendRawMembers(b, p.extraMembers), '}'), nil
}

// UnmarshalJSON decodes a phone_number identifier strictly, like Parse.
func (p *PhoneNumber) UnmarshalJSON(data []byte) error {
	return unmarshalAs(p, FormatPhoneNumber, data)
}

// DID is a Decentralized Identifier subject identifier (RFC 9493 §3.2.6).
type DID struct {
	// URL is a DID URL or a bare DID, e.g. "did:example:123456". The member is "url".
	URL string
	extraMembers
}

// Format returns "did".
func (*DID) Format() string { return FormatDID }

// Validate checks that URL is a DID URL (did:method:id…).
func (d *DID) Validate() error {
	if d == nil {
		return nilError(FormatDID, "DID")
	}
	return check(FormatDID, "url", d.URL, checkDID)
}

// MarshalJSON encodes {"format":"did","url":…}; it fails when Validate fails.
func (d *DID) MarshalJSON() ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return d.appendJSON(make([]byte, 0, 32+len(d.URL)+d.size()))
}

func (d *DID) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatDID)
	b = appendMember(b, "url", d.URL)
	return append(appendRawMembers(b, d.extraMembers), '}'), nil
}

// UnmarshalJSON decodes a did identifier strictly, like Parse.
func (d *DID) UnmarshalJSON(data []byte) error { return unmarshalAs(d, FormatDID, data) }

// URI is a URI subject identifier (RFC 9493 §3.2.7).
type URI struct {
	// URI is an absolute RFC 3986 URI, e.g. "https://user.example.com/".
	URI string
	extraMembers
}

// Format returns "uri".
func (*URI) Format() string { return FormatURI }

// Validate checks that URI is an absolute RFC 3986 URI.
func (u *URI) Validate() error {
	if u == nil {
		return nilError(FormatURI, "URI")
	}
	return check(FormatURI, "uri", u.URI, checkURI)
}

// MarshalJSON encodes {"format":"uri","uri":…}; it fails when Validate fails.
func (u *URI) MarshalJSON() ([]byte, error) {
	if err := u.Validate(); err != nil {
		return nil, err
	}
	return u.appendJSON(make([]byte, 0, 32+len(u.URI)+u.size()))
}

func (u *URI) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatURI)
	b = appendMember(b, "uri", u.URI)
	return append(appendRawMembers(b, u.extraMembers), '}'), nil
}

// UnmarshalJSON decodes a uri identifier strictly, like Parse.
func (u *URI) UnmarshalJSON(data []byte) error { return unmarshalAs(u, FormatURI, data) }

// JWTID identifies a JWT by its issuer and "jti" (SSF §3.5.1).
type JWTID struct {
	// Iss is the "iss" claim of the JWT.
	Iss string
	// JTI is the "jti" claim of the JWT.
	JTI string
	extraMembers
}

// Format returns "jwt_id".
func (*JWTID) Format() string { return FormatJWTID }

// Validate checks that Iss and JTI are non-empty.
func (j *JWTID) Validate() error {
	if j == nil {
		return nilError(FormatJWTID, "JWTID")
	}
	if err := check(FormatJWTID, "iss", j.Iss, checkRequired); err != nil {
		return err
	}
	return check(FormatJWTID, "jti", j.JTI, checkRequired)
}

// MarshalJSON encodes {"format":"jwt_id","iss":…,"jti":…}; it fails when Validate fails.
func (j *JWTID) MarshalJSON() ([]byte, error) {
	if err := j.Validate(); err != nil {
		return nil, err
	}
	return j.appendJSON(make([]byte, 0, 40+len(j.Iss)+len(j.JTI)+j.size()))
}

func (j *JWTID) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatJWTID)
	b = appendMember(b, "iss", j.Iss)
	b = appendMember(b, "jti", j.JTI)
	return append(appendRawMembers(b, j.extraMembers), '}'), nil
}

// UnmarshalJSON decodes a jwt_id identifier strictly, like Parse.
func (j *JWTID) UnmarshalJSON(data []byte) error { return unmarshalAs(j, FormatJWTID, data) }

// SAMLAssertionID identifies a SAML 2.0 assertion (SSF §3.5.2).
type SAMLAssertionID struct {
	// Issuer is the Issuer of the assertion.
	Issuer string
	// AssertionID is the ID of the assertion. The member is "assertion_id".
	AssertionID string
	extraMembers
}

// Format returns "saml_assertion_id".
func (*SAMLAssertionID) Format() string { return FormatSAMLAssertionID }

// Validate checks that Issuer and AssertionID are non-empty.
func (s *SAMLAssertionID) Validate() error {
	if s == nil {
		return nilError(FormatSAMLAssertionID, "SAMLAssertionID")
	}
	if err := check(FormatSAMLAssertionID, "issuer", s.Issuer, checkRequired); err != nil {
		return err
	}
	return check(FormatSAMLAssertionID, "assertion_id", s.AssertionID, checkRequired)
}

// MarshalJSON encodes {"format":"saml_assertion_id","issuer":…,"assertion_id":…}; it
// fails when Validate fails.
func (s *SAMLAssertionID) MarshalJSON() ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return s.appendJSON(make([]byte, 0, 64+len(s.Issuer)+len(s.AssertionID)+s.size()))
}

func (s *SAMLAssertionID) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatSAMLAssertionID)
	b = appendMember(b, "issuer", s.Issuer)
	b = appendMember(b, "assertion_id", s.AssertionID)
	return append(appendRawMembers(b, s.extraMembers), '}'), nil
}

// UnmarshalJSON decodes a saml_assertion_id identifier strictly, like Parse.
func (s *SAMLAssertionID) UnmarshalJSON(data []byte) error {
	return unmarshalAs(s, FormatSAMLAssertionID, data)
}

// IPAddresses lists the IP addresses of the subject as observed by the transmitter
// (SSF §3.5.3). Format and member name are both "ip-addresses".
type IPAddresses struct {
	// Addresses are IPv4 or IPv6 addresses in RFC 4001 textual form; at least one.
	// MarshalJSON writes them as they are; Equal, Match and Canonical compare them as a
	// set of parsed addresses (order, duplicates and textual form are not significant).
	Addresses []string
	extraMembers
}

// Format returns "ip-addresses".
func (*IPAddresses) Format() string { return FormatIPAddresses }

// Validate checks that there is at least one address and that each is a valid IPv4 or
// IPv6 address without a zone.
func (p *IPAddresses) Validate() error {
	if p == nil {
		return nilError(FormatIPAddresses, "IPAddresses")
	}
	if len(p.Addresses) == 0 {
		return memberError(FormatIPAddresses, FormatIPAddresses, "must not be empty (want at least one address)")
	}
	for i, a := range p.Addresses {
		if r := checkIPAddress(a); r != "" {
			return memberError(FormatIPAddresses, FormatIPAddresses+"["+strconv.Itoa(i)+"]", r)
		}
	}
	return nil
}

// Addrs returns the parsed addresses, in order.
func (p *IPAddresses) Addrs() ([]netip.Addr, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := make([]netip.Addr, len(p.Addresses))
	for i, a := range p.Addresses {
		out[i], _ = netip.ParseAddr(a)
	}
	return out, nil
}

// MarshalJSON encodes {"format":"ip-addresses","ip-addresses":[…]}; it fails when
// Validate fails.
func (p *IPAddresses) MarshalJSON() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	n := 48 + p.size()
	for _, a := range p.Addresses {
		n += len(a) + 3
	}
	return p.appendJSON(make([]byte, 0, n))
}

func (p *IPAddresses) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatIPAddresses)
	b = append(b, `,"ip-addresses":[`...)
	for i, a := range p.Addresses {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, a)
	}
	b = append(b, ']')
	return append(appendRawMembers(b, p.extraMembers), '}'), nil
}

// UnmarshalJSON decodes an ip-addresses identifier strictly, like Parse.
func (p *IPAddresses) UnmarshalJSON(data []byte) error {
	return unmarshalAs(p, FormatIPAddresses, data)
}

// unmarshalAs decodes data strictly into dst, whose format must be format.
func unmarshalAs[T any, P interface {
	*T
	Identifier
}](dst P, format string, data []byte) error {
	id, err := Parse(data)
	if err != nil {
		return err
	}
	v, ok := id.(P)
	if !ok {
		return &Error{Format: format, Member: "format", Reason: "is " + strconv.Quote(id.Format()) + ", want " + strconv.Quote(format)}
	}
	*dst = *v
	return nil
}
