package subject

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
)

// Matcher decides when two subjects are the same (Equal, Canonical) and when an event's
// subject is one a receiver added (Match, SSF §8.1.3.1). The zero Matcher applies the
// default rules, which the package-level Equal, Match and Canonical use:
//
// Identical (AMB-7). Two simple identifiers are identical when they have the same format
// and the same values of the members the format defines, compared as decoded JSON
// strings (escapes and member order are not significant), with these format-specific
// normalizations:
//   - email: the domain part is compared ignoring ASCII case (domain names are
//     case-insensitive, RFC 5321 §2.4, RFC 4343); the local part is compared exactly
//     (RFC 5321 §2.4 leaves its case to the mailbox's host; RFC 9493 §3.2.2.1 leaves
//     canonicalization to the recipient: see FoldEmailLocalCase, CanonicalizeEmail);
//   - phone_number: spaces are not significant ("+1 206 555 0123" = "+12065550123");
//   - ip-addresses: the addresses are compared as a set of parsed addresses (order,
//     duplicates and textual form, e.g. IPv6 zero compression, are not significant;
//     an IPv4-mapped IPv6 address such as ::ffff:10.0.0.1 is not the IPv4 address);
//   - aliases: the identifiers are compared as a set (order and duplicates are not
//     significant).
//
// Every other value (account and uri URIs, did URLs, iss, sub, id, jti, issuer,
// assertion_id) is compared exactly, byte for byte. Members a format does not define
// (AMB-6) are ignored. Identifiers of unknown formats (*Raw) are identical when their
// canonical JSON is: same format, same member names, and values equal as JSON with
// object member order, insignificant whitespace and string escapes not significant;
// numbers are compared as written (1.0 and 1 differ). Two Complex Subjects are identical
// when they have the same member names and identical members.
type Matcher struct {
	// FoldEmailLocalCase makes email comparison ignore the ASCII case of the local part
	// too. Zero value: the local part is compared exactly.
	FoldEmailLocalCase bool

	// CanonicalizeEmail, if set, maps each email address, after the built-in folding, to
	// the form compared and written by Canonical: the receiver's own canonicalization
	// (RFC 9493 §3.2.2.1), e.g. removing "+tag" suffixes. It must be deterministic.
	// Zero value: no further canonicalization.
	CanonicalizeEmail func(address string) string

	// AllowDisjointComplex makes two Complex Subjects that have no member name in common
	// match, as the SSF §8.1.3.1 rule says when read literally (every member is absent in
	// one of them). Zero value: they do not match, so that a receiver that added
	// {"tenant": T} does not receive events about {"user": U} that name no tenant at all
	// (an information-harvesting risk, SSF §9.2).
	AllowDisjointComplex bool

	// SeparateSimpleAndComplex makes a simple subject never match a Complex Subject.
	// Zero value: a simple subject matches a Complex Subject that has a member identical
	// to it (a receiver that added a user's email gets the events whose Complex Subject
	// names that user).
	SeparateSimpleAndComplex bool
}

// Match reports whether two subjects match under the default Matcher: whether an event
// about one should be delivered to a receiver that added the other (SSF §8.1.3.1).
func Match(a, b Identifier) bool { return Matcher{}.Match(a, b) }

// Equal reports whether two subjects are identical under the default Matcher. It does
// not validate them. Equal(a, b) holds exactly when Canonical(a) and Canonical(b) are
// equal (for valid a and b).
func Equal(a, b Identifier) bool { return Matcher{}.Equal(a, b) }

// Canonical returns the canonical JSON of a subject under the default Matcher; see
// Matcher.Canonical.
func Canonical(id Identifier) ([]byte, error) { return Matcher{}.Canonical(id) }

// Match reports whether two subjects match (SSF §8.1.3.1, SSF-SUBJECT-2). The relation
// is symmetric:
//
//   - two simple subjects match when they are identical (see Matcher);
//   - two Complex Subjects match when every member name present in both has identical
//     members in both (a member absent from either is a wildcard), and at
//     least one member name is present in both (unless AllowDisjointComplex is set);
//   - a simple subject and a Complex Subject match when one of the complex subject's
//     members is identical to the simple one, unless SeparateSimpleAndComplex is set;
//   - aliases match a subject when any of their identifiers matches it; this also holds
//     for an aliases member of a Complex Subject, so {"user": aliases[A, B]} matches
//     {"user": A}.
//
// A nil subject matches nothing. Match does not validate its arguments.
func (m Matcher) Match(a, b Identifier) bool {
	a, b = own(a), own(b)
	if a == nil || b == nil {
		return false
	}
	return m.match(a, b)
}

func (m *Matcher) match(a, b Identifier) bool {
	if x, ok := a.(*Aliases); ok {
		for _, id := range x.Identifiers {
			if id != nil && m.match(own(id), b) {
				return true
			}
		}
		return false
	}
	if y, ok := b.(*Aliases); ok {
		for _, id := range y.Identifiers {
			if id != nil && m.match(a, own(id)) {
				return true
			}
		}
		return false
	}
	ca, aComplex := a.(*Complex)
	cb, bComplex := b.(*Complex)
	switch {
	case aComplex && bComplex:
		return m.complexMatch(ca, cb)
	case aComplex:
		return !m.SeparateSimpleAndComplex && m.hasMatchingMember(ca, b)
	case bComplex:
		return !m.SeparateSimpleAndComplex && m.hasMatchingMember(cb, a)
	}
	return m.equal(a, b)
}

// complexMatch applies the SSF §8.1.3.1 rule to two Complex Subjects.
func (m *Matcher) complexMatch(a, b *Complex) bool {
	if a == nil || b == nil {
		return false
	}
	common := false
	for _, name := range definedMembers {
		x, y := *a.field(name), *b.field(name)
		if x == nil || y == nil {
			continue
		}
		common = true
		if !m.match(own(x), own(y)) {
			return false
		}
	}
	for name, x := range a.Other {
		y := b.Other[name]
		if x == nil || y == nil {
			continue
		}
		common = true
		if !m.match(own(x), own(y)) {
			return false
		}
	}
	return common || m.AllowDisjointComplex
}

// hasMatchingMember reports whether a member of c matches the simple subject s.
func (m *Matcher) hasMatchingMember(c *Complex, s Identifier) bool {
	if c == nil {
		return false
	}
	for _, name := range definedMembers {
		if x := *c.field(name); x != nil && m.match(own(x), s) {
			return true
		}
	}
	for _, x := range c.Other {
		if x != nil && m.match(own(x), s) {
			return true
		}
	}
	return false
}

// own returns id as one of this package's types: identifiers of other packages are
// re-decoded from their JSON (strictly). It returns nil for nil, nil pointers and
// identifiers that do not encode to a valid subject.
func own(id Identifier) Identifier {
	if isNil(id) {
		return nil
	}
	if _, ok := id.(appender); ok {
		return id
	}
	raw, err := id.MarshalJSON()
	if err != nil {
		return nil
	}
	parsed, err := Parse(raw)
	if err != nil {
		return nil
	}
	return parsed
}

// Equal reports whether two subjects are identical under m (see Matcher). It does not
// validate them. Two nil subjects are equal.
func (m Matcher) Equal(a, b Identifier) bool {
	a, b = own(a), own(b)
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return m.equal(a, b)
}

func (m *Matcher) equal(a, b Identifier) bool {
	switch x := a.(type) {
	case *Email:
		y, ok := b.(*Email)
		return ok && m.emailEqual(x.Email, y.Email)
	case *Account:
		y, ok := b.(*Account)
		return ok && x.URI == y.URI
	case *IssSub:
		y, ok := b.(*IssSub)
		return ok && x.Iss == y.Iss && x.Sub == y.Sub
	case *Opaque:
		y, ok := b.(*Opaque)
		return ok && x.ID == y.ID
	case *PhoneNumber:
		y, ok := b.(*PhoneNumber)
		return ok && phoneEqual(x.PhoneNumber, y.PhoneNumber)
	case *DID:
		y, ok := b.(*DID)
		return ok && x.URL == y.URL
	case *URI:
		y, ok := b.(*URI)
		return ok && x.URI == y.URI
	case *JWTID:
		y, ok := b.(*JWTID)
		return ok && x.Iss == y.Iss && x.JTI == y.JTI
	case *SAMLAssertionID:
		y, ok := b.(*SAMLAssertionID)
		return ok && x.Issuer == y.Issuer && x.AssertionID == y.AssertionID
	case *IPAddresses:
		y, ok := b.(*IPAddresses)
		return ok && ipSubset(x.Addresses, y.Addresses) && ipSubset(y.Addresses, x.Addresses)
	case *Aliases:
		y, ok := b.(*Aliases)
		return ok && m.idSubset(x.Identifiers, y.Identifiers) && m.idSubset(y.Identifiers, x.Identifiers)
	case *Complex:
		y, ok := b.(*Complex)
		return ok && m.complexEqual(x, y)
	case *Raw:
		y, ok := b.(*Raw)
		if !ok || x.FormatName != y.FormatName || len(x.Members) != len(y.Members) {
			return false
		}
		return bytes.Equal(m.appendCanonical(nil, x), m.appendCanonical(nil, y))
	}
	return false
}

// emailEqual compares two addresses under m's email rules without allocating (unless
// CanonicalizeEmail is set).
func (m *Matcher) emailEqual(a, b string) bool {
	if m.CanonicalizeEmail != nil {
		return m.emailKey(a) == m.emailKey(b)
	}
	ia, ib := strings.LastIndexByte(a, '@'), strings.LastIndexByte(b, '@')
	if ia < 0 || ib < 0 {
		return a == b
	}
	la, lb := a[:ia], b[:ib]
	if m.FoldEmailLocalCase {
		if !asciiEqualFold(la, lb) {
			return false
		}
	} else if la != lb {
		return false
	}
	return asciiEqualFold(a[ia+1:], b[ib+1:])
}

// emailKey returns the canonical form of an address under m.
func (m *Matcher) emailKey(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at >= 0 {
		local, domain := a[:at], a[at+1:]
		if m.FoldEmailLocalCase {
			local = lowerASCIIString(local)
		}
		if d := lowerASCIIString(domain); d != domain || local != a[:at] {
			a = local + "@" + d
		}
	}
	if m.CanonicalizeEmail != nil {
		a = m.CanonicalizeEmail(a)
	}
	return a
}

// lowerASCIIString maps ASCII upper-case letters to lower case, allocating only when
// something changes.
func lowerASCIIString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}

// phoneEqual compares two phone numbers ignoring spaces.
func phoneEqual(a, b string) bool {
	i, j := 0, 0
	for {
		for i < len(a) && a[i] == ' ' {
			i++
		}
		for j < len(b) && b[j] == ' ' {
			j++
		}
		if i == len(a) || j == len(b) {
			return i == len(a) && j == len(b)
		}
		if a[i] != b[j] {
			return false
		}
		i++
		j++
	}
}

// phoneKey removes spaces from a phone number.
func phoneKey(p string) string {
	if strings.IndexByte(p, ' ') < 0 {
		return p
	}
	return strings.ReplaceAll(p, " ", "")
}

// ipSubset reports whether every address of a is in b, comparing parsed addresses (or
// the text, for a value that does not parse).
func ipSubset(a, b []string) bool {
outer:
	for _, x := range a {
		px, errx := netip.ParseAddr(x)
		for _, y := range b {
			if x == y {
				continue outer
			}
			if errx == nil {
				if py, err := netip.ParseAddr(y); err == nil && px == py {
					continue outer
				}
			}
		}
		return false
	}
	return true
}

// idSubset reports whether every identifier of a has an identical one in b.
func (m *Matcher) idSubset(a, b []Identifier) bool {
outer:
	for _, x := range a {
		x = own(x)
		for _, y := range b {
			y = own(y)
			if x == nil && y == nil || x != nil && y != nil && m.equal(x, y) {
				continue outer
			}
		}
		return false
	}
	return true
}

// complexEqual reports whether two Complex Subjects have the same member names with
// identical members.
func (m *Matcher) complexEqual(a, b *Complex) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	for _, name := range definedMembers {
		x, y := own(*a.field(name)), own(*b.field(name))
		if x == nil || y == nil {
			if x != nil || y != nil {
				return false
			}
			continue
		}
		if !m.equal(x, y) {
			return false
		}
	}
	n := 0
	for name, x := range a.Other {
		if x == nil {
			continue
		}
		n++
		y := b.Other[name]
		if y == nil || !m.equal(own(x), own(y)) {
			return false
		}
	}
	for _, y := range b.Other {
		if y != nil {
			n--
		}
	}
	return n == 0
}

// Canonical returns a deterministic JSON encoding of a valid subject, suitable as a
// database key for exact matching: canonical forms are byte-equal exactly when m.Equal
// holds. It is a key, not a wire form; do not send it.
//
// The encoding has no insignificant whitespace, object members sorted by name (byte
// order of UTF-8, "format" among them), and strings escaped minimally (quote, backslash
// and control characters; everything else as UTF-8). Members a format does not define are
// left out (AMB-6). Values are normalized as Matcher describes: email domains in lower
// case (and the local part too under FoldEmailLocalCase, then CanonicalizeEmail), phone
// numbers without spaces, ip-addresses sorted, de-duplicated and in RFC 5952 / dotted
// decimal form, aliases identifiers in canonical form sorted and de-duplicated.
//
// Canonical fails with an error wrapping ErrInvalid when Validate fails.
func (m Matcher) Canonical(id Identifier) ([]byte, error) {
	if id == nil {
		return nil, &Error{Reason: "nil identifier"}
	}
	if err := id.Validate(); err != nil {
		return nil, err
	}
	o := id
	if hasForeign(id) {
		// Identifiers of other packages are taken by their JSON, decoded strictly.
		raw, err := id.MarshalJSON()
		if err != nil {
			return nil, err
		}
		if o, err = Parse(raw); err != nil {
			return nil, err
		}
	}
	return m.appendCanonical(make([]byte, 0, canonicalSize(o)), o), nil
}

// canonicalSize estimates the length of a canonical form, to allocate once.
func canonicalSize(id Identifier) int {
	switch x := id.(type) {
	case *Complex:
		n := 24
		x.each(func(name string, id Identifier) bool {
			n += len(name) + 4 + canonicalSize(id)
			return true
		})
		return n
	case *Aliases:
		n := 40
		for _, el := range x.Identifiers {
			n += canonicalSize(el) + 1
		}
		return n
	case *Email:
		return 32 + len(x.Email)
	case *IssSub:
		return 40 + len(x.Iss) + len(x.Sub)
	case *Opaque:
		return 32 + len(x.ID)
	}
	return 128
}

// appendCanonical appends the canonical JSON of a validated identifier of this package.
func (m *Matcher) appendCanonical(b []byte, id Identifier) []byte {
	switch x := id.(type) {
	case *Email:
		b = append(b, `{"email":`...)
		b = appendString(b, m.emailKey(x.Email))
		return append(b, `,"format":"email"}`...)
	case *Account:
		return appendCanonical1(b, FormatAccount, "uri", x.URI)
	case *IssSub:
		return appendCanonical2(b, FormatIssSub, "iss", x.Iss, "sub", x.Sub)
	case *Opaque:
		return appendCanonical1(b, FormatOpaque, "id", x.ID)
	case *PhoneNumber:
		return appendCanonical1(b, FormatPhoneNumber, "phone_number", phoneKey(x.PhoneNumber))
	case *DID:
		return appendCanonical1(b, FormatDID, "url", x.URL)
	case *URI:
		return appendCanonical1(b, FormatURI, "uri", x.URI)
	case *JWTID:
		return appendCanonical2(b, FormatJWTID, "iss", x.Iss, "jti", x.JTI)
	case *SAMLAssertionID:
		b = append(b, `{"assertion_id":`...)
		b = appendString(b, x.AssertionID)
		b = append(b, `,"format":"saml_assertion_id","issuer":`...)
		b = appendString(b, x.Issuer)
		return append(b, '}')
	case *IPAddresses:
		addrs := make([]netip.Addr, 0, len(x.Addresses))
		for _, s := range x.Addresses {
			if a, err := netip.ParseAddr(s); err == nil {
				addrs = append(addrs, a)
			}
		}
		slices.SortFunc(addrs, netip.Addr.Compare)
		addrs = slices.Compact(addrs)
		b = append(b, `{"format":"ip-addresses","ip-addresses":[`...)
		for i, a := range addrs {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = a.AppendTo(b)
			b = append(b, '"')
		}
		return append(b, "]}"...)
	case *Aliases:
		keys := make([][]byte, 0, len(x.Identifiers))
		for _, el := range x.Identifiers {
			if el = own(el); el != nil {
				keys = append(keys, m.appendCanonical(nil, el))
			}
		}
		slices.SortFunc(keys, bytes.Compare)
		keys = slices.CompactFunc(keys, bytes.Equal)
		b = append(b, `{"format":"aliases","identifiers":[`...)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, k...)
		}
		return append(b, "]}"...)
	case *Complex:
		var buf [8]string
		names := append(buf[:0], "format")
		x.each(func(name string, _ Identifier) bool {
			names = append(names, name)
			return true
		})
		slices.Sort(names)
		b = append(b, '{')
		for i, name := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, name)
			b = append(b, ':')
			if name == "format" {
				b = appendString(b, FormatComplex)
				continue
			}
			b = m.appendCanonical(b, own(x.Get(name)))
		}
		return append(b, '}')
	case *Raw:
		ms := make([]RawMember, 0, len(x.Members)+1)
		ms = append(ms, x.Members...)
		ms = append(ms, RawMember{Name: "format"})
		slices.SortFunc(ms, func(p, q RawMember) int { return strings.Compare(p.Name, q.Name) })
		b = append(b, '{')
		for i, mem := range ms {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, mem.Name)
			b = append(b, ':')
			if mem.Value == nil && mem.Name == "format" {
				b = appendString(b, x.FormatName)
				continue
			}
			b = appendCanonicalValue(b, mem.Value)
		}
		return append(b, '}')
	}
	return b
}

// appendCanonical1 writes {"format":<format>,"<name>":<value>} for formats whose one
// member name sorts after "format".
func appendCanonical1(b []byte, format, name, value string) []byte {
	b = appendHead(b, format)
	b = appendMember(b, name, value)
	return append(b, '}')
}

// appendCanonical2 is appendCanonical1 for two members, both sorting after "format".
func appendCanonical2(b []byte, format, name1, value1, name2, value2 string) []byte {
	b = appendHead(b, format)
	b = appendMember(b, name1, value1)
	b = appendMember(b, name2, value2)
	return append(b, '}')
}

// appendCanonicalValue appends the canonical form of one validated JSON value: objects
// with members sorted by name, strings escaped minimally, numbers and literals as
// written, no insignificant whitespace.
func appendCanonicalValue(b, raw []byte) []byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return b
	}
	switch raw[0] {
	case '"':
		return appendString(b, jsonRules().Unquote(raw))
	case '{':
		ms, _ := scanObject(raw, nil)
		slices.SortFunc(ms, func(p, q member) int { return bytes.Compare(p.Name, q.Name) })
		b = append(b, '{')
		for i, mem := range ms {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, string(mem.Name))
			b = append(b, ':')
			b = appendCanonicalValue(b, mem.Value)
		}
		return append(b, '}')
	case '[':
		elems, _ := scanArray(raw, nil)
		b = append(b, '[')
		for i, e := range elems {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonicalValue(b, e)
		}
		return append(b, ']')
	}
	return append(b, raw...)
}
