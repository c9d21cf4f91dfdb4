package subject

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// Parse decodes one subject identifier strictly, as SSF 1.0 Final defines it: a JSON
// object with a string "format" member (SUBJ-1). Known formats are validated (required
// members present, of the right JSON type, non-empty and well formed) and decode to their
// type; an unknown format decodes to *Raw (SSF §3.4 (c)); a Complex Subject decodes to
// *Complex, whose members must be simple identifiers (SSF §3.3). Members a format does
// not define are kept (AMB-6, see Extra). Legacy shapes (a "subject_type" member, format
// names like "iss-sub" or "phone", a Complex Subject without "format") are rejected with
// an error that says so; ParseLenient accepts them.
//
// The whole input must be valid JSON: UTF-8 strings, no duplicate member names in any
// object (SEC-19), nesting at most 64 deep, nothing after the object. Every error wraps
// ErrInvalid and is an *Error.
func Parse(data []byte) (Identifier, error) {
	var d decoder
	return d.top(data)
}

// Leniency is the set of legacy shapes ParseLenient tolerated in one input. It is zero
// when the input was strictly valid.
type Leniency uint8

const (
	// LenientSubjectType: the format was given by a "subject_type" member instead of
	// "format" (RISC §3.1, RFC 8417 §2.1.4, Google; SUBJ-25, DIFF-9).
	LenientSubjectType Leniency = 1 << iota
	// LenientLegacyFormatName: a format had a draft-era name: "iss-sub", "phone",
	// "phone-number", "jwt-id" or "saml-assertion-id" (DIFF-9, AMB-9).
	LenientLegacyFormatName
	// LenientComplexWithoutFormat: a Complex Subject had no "format":"complex" member
	// (SSE ID1, DIFF-6; Okta, authentik).
	LenientComplexWithoutFormat
	// LenientOpaqueSub: an opaque identifier carried its value in "sub" instead of "id"
	// (Okta's documentation form).
	LenientOpaqueSub
)

// leniencyNames names each Leniency bit, in bit order.
var leniencyNames = [...]string{"subject_type", "legacy-format-name", "complex-without-format", "opaque-sub"}

// Has reports whether every tolerance in t was used.
func (l Leniency) Has(t Leniency) bool { return l&t == t }

// String names the tolerances used, joined with "|", e.g. "subject_type|legacy-format-name";
// "none" when l is zero.
func (l Leniency) String() string {
	if l == 0 {
		return "none"
	}
	var parts []string
	for i, name := range leniencyNames {
		if l&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if rest := l &^ (1<<len(leniencyNames) - 1); rest != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return strings.Join(parts, "|")
}

// ParseLenient decodes one subject identifier like Parse, and also accepts the legacy
// shapes real peers send (vendors.md §5.1 item 1, SUBJ-25, DIFF-6, DIFF-9, AMB-9):
//
//   - "subject_type" instead of "format" (if both are present they must agree; the
//     "subject_type" member is dropped);
//   - the format names "iss-sub", "phone", "phone-number", "jwt-id", "saml-assertion-id",
//     mapped to iss_sub, phone_number, jwt_id, saml_assertion_id;
//   - at the top level, an object without "format" whose members all have object values
//     and include at least one SSF §3.3.1 name (user, device, …): a Complex Subject;
//   - an opaque identifier with "sub" instead of "id".
//
// These apply inside Complex Subjects and aliases too. The identifier returned is
// normalized: encoding it gives the SSF 1.0 Final shape. The Leniency says which
// tolerances were needed; it is zero when Parse would have accepted the input as it is.
// Everything else (JSON syntax, duplicate names, member checks) is as strict as Parse.
func ParseLenient(data []byte) (Identifier, Leniency, error) {
	d := decoder{lenient: true}
	id, err := d.top(data)
	if err != nil {
		return nil, 0, err
	}
	return id, d.used, nil
}

// place is where an identifier sits, which limits its format.
type place uint8

const (
	placeTop           place = iota // a subject: any format
	placeComplexMember              // a member of a Complex Subject: simple (aliases allowed)
	placeAliasElement               // an element of aliases: simple, not aliases
)

// placeError reports a format that cannot appear at p.
func placeError(format string, p place) error {
	switch {
	case format == FormatComplex && p == placeComplexMember:
		return &Error{Format: format, Reason: "a Complex Subject cannot be a member of a Complex Subject (SSF §3.3: members are simple identifiers)"}
	case format == FormatComplex && p == placeAliasElement:
		return &Error{Format: format, Reason: "a Complex Subject cannot be an element of aliases (RFC 9493 §3.2.8 lists Subject Identifiers)"}
	case format == FormatAliases && p == placeAliasElement:
		return &Error{Format: format, Reason: "aliases cannot contain aliases (RFC 9493 §3.2.8)"}
	}
	return nil
}

// decoder decodes identifiers; lenient selects ParseLenient's tolerances, used collects
// the tolerances applied.
type decoder struct {
	lenient bool
	used    Leniency
}

// top decodes a whole input document.
func (d *decoder) top(data []byte) (Identifier, error) {
	var buf [8]member
	ms, err := scanObject(data, buf[:0])
	if err != nil {
		return nil, err
	}
	return d.object(ms, placeTop)
}

// nested decodes an object value taken from an already validated document.
func (d *decoder) nested(raw []byte, p place) (Identifier, error) {
	var buf [8]member
	ms, err := scanObject(raw, buf[:0])
	if err != nil {
		return nil, err
	}
	return d.object(ms, p)
}

// object decodes one identifier from its members.
func (d *decoder) object(ms []member, p place) (Identifier, error) {
	format, carrier, err := d.format(ms, p)
	if err != nil {
		return nil, err
	}
	if err := placeError(format, p); err != nil {
		return nil, err
	}
	switch format {
	case FormatAccount:
		v, extra, err := d.strings(FormatAccount, ms, carrier, namesURI)
		if err != nil {
			return nil, err
		}
		id := &Account{URI: v[0], extraMembers: extra}
		return valid(id, id.Validate())
	case FormatEmail:
		v, extra, err := d.strings(FormatEmail, ms, carrier, namesEmail)
		if err != nil {
			return nil, err
		}
		id := &Email{Email: v[0], extraMembers: extra}
		return valid(id, id.Validate())
	case FormatIssSub:
		v, extra, err := d.strings(FormatIssSub, ms, carrier, namesIssSub)
		if err != nil {
			return nil, err
		}
		id := &IssSub{Iss: v[0], Sub: v[1], extraMembers: extra}
		return valid(id, id.Validate())
	case FormatOpaque:
		names := namesOpaque
		if d.lenient && lacks(ms, "id") && hasString(ms, "sub") {
			names = namesOpaqueSub
			d.used |= LenientOpaqueSub
		}
		v, extra, err := d.strings(FormatOpaque, ms, carrier, names)
		if err != nil {
			return nil, err
		}
		if r := checkRequired(v[0]); r != "" {
			return nil, memberError(FormatOpaque, names[0], r)
		}
		id := &Opaque{ID: v[0], extraMembers: extra}
		return valid(id, id.Validate())
	case FormatPhoneNumber:
		v, extra, err := d.strings(FormatPhoneNumber, ms, carrier, namesPhone)
		if err != nil {
			return nil, err
		}
		id := &PhoneNumber{PhoneNumber: v[0], extraMembers: extra}
		return valid(id, id.Validate())
	case FormatDID:
		v, extra, err := d.strings(FormatDID, ms, carrier, namesDID)
		if err != nil {
			return nil, err
		}
		id := &DID{URL: v[0], extraMembers: extra}
		return valid(id, id.Validate())
	case FormatURI:
		v, extra, err := d.strings(FormatURI, ms, carrier, namesURI)
		if err != nil {
			return nil, err
		}
		id := &URI{URI: v[0], extraMembers: extra}
		return valid(id, id.Validate())
	case FormatJWTID:
		v, extra, err := d.strings(FormatJWTID, ms, carrier, namesJWTID)
		if err != nil {
			return nil, err
		}
		id := &JWTID{Iss: v[0], JTI: v[1], extraMembers: extra}
		return valid(id, id.Validate())
	case FormatSAMLAssertionID:
		v, extra, err := d.strings(FormatSAMLAssertionID, ms, carrier, namesSAML)
		if err != nil {
			return nil, err
		}
		id := &SAMLAssertionID{Issuer: v[0], AssertionID: v[1], extraMembers: extra}
		return valid(id, id.Validate())
	case FormatIPAddresses:
		return d.ipAddresses(ms, carrier)
	case FormatAliases:
		return d.aliases(ms, carrier)
	case FormatComplex:
		return d.complex(ms, carrier)
	}
	return d.raw(format, ms, carrier)
}

// valid returns id, or the validation error.
func valid(id Identifier, err error) (Identifier, error) {
	if err != nil {
		return nil, err
	}
	return id, nil
}

// Declared string members per format.
var (
	namesEmail     = []string{"email"}
	namesIssSub    = []string{"iss", "sub"}
	namesOpaque    = []string{"id"}
	namesOpaqueSub = []string{"sub"}
	namesPhone     = []string{"phone_number"}
	namesDID       = []string{"url"}
	namesURI       = []string{"uri"}
	namesJWTID     = []string{"iss", "jti"}
	namesSAML      = []string{"issuer", "assertion_id"}
)

// skip reports whether m is the member that carried the format (carrier is empty for a
// Complex Subject without one).
func skip(m *member, carrier string) bool {
	return carrier != "" && named(m, carrier)
}

// format determines the format name of an identifier object and the name of the member
// that carried it: "format", or in lenient mode "subject_type" when "format" is absent
// (a "subject_type" next to "format" is an ordinary extra member, as in Parse).
func (d *decoder) format(ms []member, p place) (name, carrier string, err error) {
	var fm, st *member
	for i := range ms {
		switch {
		case named(&ms[i], "format"):
			fm = &ms[i]
		case named(&ms[i], "subject_type"):
			st = &ms[i]
		}
	}
	switch {
	case fm != nil:
		carrier = "format"
		if name, err = formatValue(fm, carrier); err != nil {
			return "", "", err
		}
	case !d.lenient && st != nil:
		return "", "", memberError("", "format", `is missing (found the legacy member "subject_type"; ParseLenient accepts it)`)
	case !d.lenient && p == placeTop && legacyComplex(ms):
		return "", "", memberError("", "format", `is missing (looks like a Complex Subject without "format":"complex"; ParseLenient accepts it)`)
	case st != nil:
		carrier = "subject_type"
		if name, err = formatValue(st, carrier); err != nil {
			return "", "", err
		}
		d.used |= LenientSubjectType
	case p == placeTop && legacyComplex(ms):
		d.used |= LenientComplexWithoutFormat
		return FormatComplex, "", nil
	default:
		return "", "", memberError("", "format", "is missing")
	}
	if canonical, ok := legacyFormat(name); ok {
		if !d.lenient {
			return "", "", memberError(name, "format", "is a legacy name of "+strconv.Quote(canonical)+" (DIFF-9); ParseLenient accepts it")
		}
		d.used |= LenientLegacyFormatName
		name = canonical
	}
	return name, carrier, nil
}

// formatValue decodes the string value of the member carrying the format. Known names
// are returned as constants, so decoding them does not allocate.
func formatValue(m *member, memberName string) (string, error) {
	if m.Kind != jsonwire.String {
		return "", memberError("", memberName, "must be a string, not "+m.Kind.String())
	}
	body := m.Value[1 : len(m.Value)-1]
	if len(body) == 0 {
		return "", memberError("", memberName, "must not be empty")
	}
	if bytes.IndexByte(body, '\\') < 0 {
		switch string(body) {
		case FormatEmail:
			return FormatEmail, nil
		case FormatIssSub:
			return FormatIssSub, nil
		case FormatComplex:
			return FormatComplex, nil
		case FormatOpaque:
			return FormatOpaque, nil
		case FormatPhoneNumber:
			return FormatPhoneNumber, nil
		case FormatAccount:
			return FormatAccount, nil
		case FormatDID:
			return FormatDID, nil
		case FormatURI:
			return FormatURI, nil
		case FormatAliases:
			return FormatAliases, nil
		case FormatJWTID:
			return FormatJWTID, nil
		case FormatSAMLAssertionID:
			return FormatSAMLAssertionID, nil
		case FormatIPAddresses:
			return FormatIPAddresses, nil
		}
	}
	return jsonRules().Unquote(m.Value), nil
}

// legacyComplex reports whether an object without "format" has the SSE ID1 Complex
// Subject shape (DIFF-6): at least one member, every value an object, at least one
// member name defined by SSF §3.3.1.
func legacyComplex(ms []member) bool {
	defined := false
	for i := range ms {
		if ms[i].Kind != jsonwire.Object {
			return false
		}
		if isDefinedMember(string(ms[i].Name)) {
			defined = true
		}
	}
	return defined
}

func lacks(ms []member, name string) bool {
	for i := range ms {
		if named(&ms[i], name) {
			return false
		}
	}
	return true
}

func hasString(ms []member, name string) bool {
	for i := range ms {
		if named(&ms[i], name) {
			return ms[i].Kind == jsonwire.String
		}
	}
	return false
}

// strings decodes the declared string members names (at most two) of format; every
// other member except the format member becomes an extra member. A declared member that
// is missing or not a string is an error.
func (d *decoder) strings(format string, ms []member, carrier string, names []string) ([2]string, extraMembers, error) {
	var vals [2]string
	var seen uint8
	var extra extraMembers
	for i := range ms {
		m := &ms[i]
		if skip(m, carrier) {
			continue
		}
		declared := false
		for j, name := range names {
			if named(m, name) {
				if m.Kind != jsonwire.String {
					return vals, nil, memberError(format, name, "must be a string, not "+m.Kind.String())
				}
				vals[j] = jsonRules().Unquote(m.Value)
				seen |= 1 << j
				declared = true
				break
			}
		}
		if !declared {
			extra = append(extra, rawMember(m))
		}
	}
	for j, name := range names {
		if seen&(1<<j) == 0 {
			return vals, nil, memberError(format, name, "is missing")
		}
	}
	return vals, extra, nil
}

// rawMember copies a member for keeping, without insignificant whitespace.
func rawMember(m *member) RawMember {
	return RawMember{Name: string(m.Name), Value: jsonwire.AppendCompact(make([]byte, 0, len(m.Value)), m.Value)}
}

func (d *decoder) ipAddresses(ms []member, carrier string) (Identifier, error) {
	id := &IPAddresses{}
	found := false
	for i := range ms {
		m := &ms[i]
		if skip(m, carrier) {
			continue
		}
		if !named(m, FormatIPAddresses) {
			id.extraMembers = append(id.extraMembers, rawMember(m))
			continue
		}
		found = true
		if m.Kind != jsonwire.Array {
			return nil, memberError(FormatIPAddresses, FormatIPAddresses, "must be an array of strings, not "+m.Kind.String())
		}
		var buf [4][]byte
		elems, err := scanArray(m.Value, buf[:0])
		if err != nil {
			return nil, err
		}
		id.Addresses = make([]string, len(elems))
		for j, e := range elems {
			if e[0] != '"' {
				return nil, memberError(FormatIPAddresses, FormatIPAddresses+"["+strconv.Itoa(j)+"]", "must be a string, not "+jsonwire.KindOf(e[0]).String())
			}
			id.Addresses[j] = jsonRules().Unquote(e)
		}
	}
	if !found {
		return nil, memberError(FormatIPAddresses, FormatIPAddresses, "is missing")
	}
	return valid(id, id.Validate())
}

func (d *decoder) aliases(ms []member, carrier string) (Identifier, error) {
	id := &Aliases{}
	found := false
	for i := range ms {
		m := &ms[i]
		if skip(m, carrier) {
			continue
		}
		if !named(m, "identifiers") {
			id.extraMembers = append(id.extraMembers, rawMember(m))
			continue
		}
		found = true
		if m.Kind != jsonwire.Array {
			return nil, memberError(FormatAliases, "identifiers", "must be an array of identifiers, not "+m.Kind.String())
		}
		var buf [4][]byte
		elems, err := scanArray(m.Value, buf[:0])
		if err != nil {
			return nil, err
		}
		if len(elems) == 0 {
			return nil, memberError(FormatAliases, "identifiers", "must not be empty (RFC 9493 §3.2.8: at least one identifier)")
		}
		id.Identifiers = make([]Identifier, len(elems))
		for j, e := range elems {
			name := "identifiers[" + strconv.Itoa(j) + "]"
			if e[0] != '{' {
				return nil, memberError(FormatAliases, name, "must be an object (a subject identifier), not "+jsonwire.KindOf(e[0]).String())
			}
			el, err := d.nested(e, placeAliasElement)
			if err != nil {
				return nil, nested(FormatAliases, name, err)
			}
			id.Identifiers[j] = el
		}
	}
	if !found {
		return nil, memberError(FormatAliases, "identifiers", "is missing")
	}
	return id, nil
}

func (d *decoder) complex(ms []member, carrier string) (Identifier, error) {
	c := &Complex{}
	n := 0
	for i := range ms {
		m := &ms[i]
		if skip(m, carrier) {
			continue
		}
		if len(m.Name) == 0 {
			return nil, &Error{Format: FormatComplex, Reason: "has a member with an empty name"}
		}
		if m.Kind != jsonwire.Object {
			return nil, memberError(FormatComplex, string(m.Name), "must be an object (a simple subject identifier), not "+m.Kind.String())
		}
		id, err := d.nested(m.Value, placeComplexMember)
		if err != nil {
			return nil, nested(FormatComplex, string(m.Name), err)
		}
		if f := c.fieldBytes(m.Name); f != nil {
			*f = id
		} else {
			if c.Other == nil {
				c.Other = make(map[string]Identifier)
			}
			c.Other[string(m.Name)] = id
		}
		n++
	}
	if n == 0 {
		return nil, &Error{Format: FormatComplex, Reason: "has no members (SSF §3.3: at least one)"}
	}
	return c, nil
}

// fieldBytes is field for a name given as bytes, without allocating.
func (c *Complex) fieldBytes(name []byte) *Identifier {
	switch string(name) {
	case MemberUser:
		return &c.User
	case MemberDevice:
		return &c.Device
	case MemberSession:
		return &c.Session
	case MemberApplication:
		return &c.Application
	case MemberTenant:
		return &c.Tenant
	case MemberOrgUnit:
		return &c.OrgUnit
	case MemberGroup:
		return &c.Group
	}
	return nil
}

func (d *decoder) raw(format string, ms []member, carrier string) (Identifier, error) {
	r := &Raw{FormatName: format}
	for i := range ms {
		m := &ms[i]
		if skip(m, carrier) {
			continue
		}
		r.Members = append(r.Members, rawMember(m))
	}
	return r, nil
}
