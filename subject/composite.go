package subject

import (
	"slices"
	"strconv"

	"github.com/sigshare/sigshare/internal/jsonwire"
)

// appender is implemented by this package's identifier types: append the JSON encoding
// of an identifier that has already been validated.
type appender interface {
	appendJSON(b []byte) ([]byte, error)
}

// appendIdentifier appends the encoding of a validated identifier. Identifiers of other
// packages are encoded with their MarshalJSON, checked and compacted.
func appendIdentifier(b []byte, id Identifier) ([]byte, error) {
	if a, ok := id.(appender); ok {
		return a.appendJSON(b)
	}
	raw, err := id.MarshalJSON()
	if err != nil {
		return nil, err
	}
	var buf [8]member
	if _, err := scanObject(raw, buf[:0]); err != nil {
		return nil, err
	}
	return jsonwire.AppendCompact(b, raw), nil
}

// hasForeign reports whether id is, or contains, an Identifier implemented outside this
// package.
func hasForeign(id Identifier) bool {
	switch x := id.(type) {
	case *Aliases:
		if x == nil {
			return false
		}
		for _, el := range x.Identifiers {
			if el != nil && hasForeign(el) {
				return true
			}
		}
		return false
	case *Complex:
		if x == nil {
			return false
		}
		found := false
		x.each(func(_ string, m Identifier) bool {
			found = hasForeign(m)
			return !found
		})
		return found
	case appender:
		return false
	}
	return id != nil
}

// isNil reports whether id is nil or a nil pointer of one of this package's types.
func isNil(id Identifier) bool {
	switch v := id.(type) {
	case nil:
		return true
	case *Account:
		return v == nil
	case *Email:
		return v == nil
	case *IssSub:
		return v == nil
	case *Opaque:
		return v == nil
	case *PhoneNumber:
		return v == nil
	case *DID:
		return v == nil
	case *URI:
		return v == nil
	case *JWTID:
		return v == nil
	case *SAMLAssertionID:
		return v == nil
	case *IPAddresses:
		return v == nil
	case *Aliases:
		return v == nil
	case *Complex:
		return v == nil
	case *Raw:
		return v == nil
	}
	return false
}

// Aliases lists several identifiers of one subject (RFC 9493 §3.2.8).
type Aliases struct {
	// Identifiers holds at least one identifier. None may be aliases (no nesting,
	// RFC 9493 §3.2.8) or complex (a Complex Subject is an SSF construct, not an RFC 9493
	// Subject Identifier). Formats may repeat; exact duplicates are allowed but should be
	// avoided (RFC 9493: SHOULD NOT).
	Identifiers []Identifier
	extraMembers
}

// Format returns "aliases".
func (*Aliases) Format() string { return FormatAliases }

// Validate checks that there is at least one identifier, none nested aliases or complex,
// and each valid.
func (a *Aliases) Validate() error {
	if a == nil {
		return nilError(FormatAliases, "Aliases")
	}
	if len(a.Identifiers) == 0 {
		return memberError(FormatAliases, "identifiers", "must not be empty (RFC 9493 §3.2.8: at least one identifier)")
	}
	for i, id := range a.Identifiers {
		name := "identifiers[" + strconv.Itoa(i) + "]"
		if id == nil {
			return memberError(FormatAliases, name, "is nil")
		}
		if err := placeError(id.Format(), placeAliasElement); err != nil {
			return nested(FormatAliases, name, err)
		}
		if err := id.Validate(); err != nil {
			return nested(FormatAliases, name, err)
		}
	}
	return nil
}

// MarshalJSON encodes {"format":"aliases","identifiers":[…]}; it fails when Validate
// fails.
func (a *Aliases) MarshalJSON() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return a.appendJSON(make([]byte, 0, 64*len(a.Identifiers)+a.size()))
}

func (a *Aliases) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatAliases)
	b = append(b, `,"identifiers":[`...)
	for i, id := range a.Identifiers {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendIdentifier(b, id); err != nil {
			return nil, nested(FormatAliases, "identifiers["+strconv.Itoa(i)+"]", err)
		}
	}
	b = append(b, ']')
	return append(appendRawMembers(b, a.extraMembers), '}'), nil
}

// UnmarshalJSON decodes an aliases identifier strictly, like Parse.
func (a *Aliases) UnmarshalJSON(data []byte) error { return unmarshalAs(a, FormatAliases, data) }

// Complex is an SSF Complex Subject (SSF §3.3): several simple identifiers that together
// describe one subject principal, each under a member name. Nil members are absent.
// Absent members are wildcards for matching (SSF §8.1.3.1, see Match).
//
// A member's value is a simple Subject Identifier, which includes aliases (RFC 9493
// defines aliases as a Subject Identifier format; nothing in SSF excludes it) but not
// another Complex Subject.
type Complex struct {
	// User is the "user" member: the user account.
	User Identifier
	// Device is the "device" member: the device.
	Device Identifier
	// Session is the "session" member: the session.
	Session Identifier
	// Application is the "application" member: the application.
	Application Identifier
	// Tenant is the "tenant" member: the tenant.
	Tenant Identifier
	// OrgUnit is the "org_unit" member: the organizational unit.
	OrgUnit Identifier
	// Group is the "group" member: the group.
	Group Identifier
	// Other holds members whose names SSF §3.3.1 does not define (SSF allows any other
	// name). Keys must not be "format", empty, or one of the names above.
	Other map[string]Identifier
}

// Member is one member of a Complex Subject.
type Member struct {
	// Name is the member name, e.g. "user".
	Name string
	// Identifier is the member's value.
	Identifier Identifier
}

// definedMembers lists the SSF §3.3.1 member names in the order Members uses.
var definedMembers = [...]string{MemberUser, MemberDevice, MemberSession, MemberApplication, MemberTenant, MemberOrgUnit, MemberGroup}

// isDefinedMember reports whether name is one of the SSF §3.3.1 member names.
func isDefinedMember(name string) bool {
	switch name {
	case MemberUser, MemberDevice, MemberSession, MemberApplication, MemberTenant, MemberOrgUnit, MemberGroup:
		return true
	}
	return false
}

// field returns a pointer to the field for a defined member name, or nil.
func (c *Complex) field(name string) *Identifier {
	switch name {
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

// Format returns "complex".
func (*Complex) Format() string { return FormatComplex }

// Get returns the member called name, or nil when it is absent.
func (c *Complex) Get(name string) Identifier {
	if c == nil {
		return nil
	}
	if f := c.field(name); f != nil {
		return *f
	}
	return c.Other[name]
}

// Set sets the member called name to id, using the field for a defined name and Other
// for any other name. A nil id removes the member.
func (c *Complex) Set(name string, id Identifier) {
	if f := c.field(name); f != nil {
		*f = id
		return
	}
	if id == nil {
		delete(c.Other, name)
		return
	}
	if c.Other == nil {
		c.Other = make(map[string]Identifier)
	}
	c.Other[name] = id
}

// Members returns the members that are present, in a stable order: the SSF §3.3.1 names
// in the order user, device, session, application, tenant, org_unit, group, then the
// other names in byte order. MarshalJSON writes members in this order.
func (c *Complex) Members() []Member {
	if c == nil {
		return nil
	}
	out := make([]Member, 0, c.count())
	c.each(func(name string, id Identifier) bool {
		out = append(out, Member{Name: name, Identifier: id})
		return true
	})
	return out
}

// MemberNames returns the names of the members that are present, in the order of
// Members. A verifier applies critical_subject_members (SSF §3.6, §7.1) to these.
func (c *Complex) MemberNames() []string {
	if c == nil {
		return nil
	}
	out := make([]string, 0, c.count())
	c.each(func(name string, _ Identifier) bool {
		out = append(out, name)
		return true
	})
	return out
}

// count returns how many members are present.
func (c *Complex) count() int {
	n := 0
	for _, id := range c.Other {
		if id != nil {
			n++
		}
	}
	for _, f := range [...]Identifier{c.User, c.Device, c.Session, c.Application, c.Tenant, c.OrgUnit, c.Group} {
		if f != nil {
			n++
		}
	}
	return n
}

// each calls fn for every present member in the order of Members until fn returns false.
func (c *Complex) each(fn func(name string, id Identifier) bool) {
	for _, name := range definedMembers {
		if id := *c.field(name); id != nil {
			if !fn(name, id) {
				return
			}
		}
	}
	if len(c.Other) == 0 {
		return
	}
	names := make([]string, 0, len(c.Other))
	for name, id := range c.Other {
		if id != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		if !fn(name, c.Other[name]) {
			return
		}
	}
}

// Validate checks that there is at least one member, that each member name is usable and
// each member a valid simple identifier (not complex).
func (c *Complex) Validate() error {
	if c == nil {
		return nilError(FormatComplex, "Complex")
	}
	if err := c.validateShape(); err != nil {
		return err
	}
	var err error
	c.each(func(name string, id Identifier) bool {
		if e := id.Validate(); e != nil {
			err = nested(FormatComplex, name, e)
			return false
		}
		return true
	})
	return err
}

// validateShape checks everything but the members' own validity.
func (c *Complex) validateShape() error {
	for name, id := range c.Other {
		switch {
		case name == "":
			return &Error{Format: FormatComplex, Reason: "has a member with an empty name"}
		case name == "format":
			return memberError(FormatComplex, name, `cannot be a member name in Other`)
		case isDefinedMember(name):
			if id != nil {
				return memberError(FormatComplex, name, "is in Other; use the field for it")
			}
		}
	}
	if c.count() == 0 {
		return &Error{Format: FormatComplex, Reason: "has no members (SSF §3.3: at least one)"}
	}
	var err error
	c.each(func(name string, id Identifier) bool {
		if e := placeError(id.Format(), placeComplexMember); e != nil {
			err = nested(FormatComplex, name, e)
			return false
		}
		return true
	})
	return err
}

// MarshalJSON encodes {"format":"complex",…members in the order of Members}; it fails
// when Validate fails.
func (c *Complex) MarshalJSON() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c.appendJSON(make([]byte, 0, 24+72*c.count()))
}

func (c *Complex) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, FormatComplex)
	var err error
	c.each(func(name string, id Identifier) bool {
		b = append(b, ',')
		b = appendString(b, name)
		b = append(b, ':')
		if b, err = appendIdentifier(b, id); err != nil {
			err = nested(FormatComplex, name, err)
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// UnmarshalJSON decodes a Complex Subject strictly, like Parse.
func (c *Complex) UnmarshalJSON(data []byte) error { return unmarshalAs(c, FormatComplex, data) }

// Raw is a subject identifier of a format this package does not know (SSF §3.4 (c):
// proprietary formats agreed between the parties, e.g. "catalog_item"). It keeps every
// member as raw JSON so that the identifier round-trips unchanged.
type Raw struct {
	// FormatName is the value of the "format" member.
	FormatName string
	// Members are the other members, in input order; none is called "format".
	Members []RawMember
}

// Format returns FormatName.
func (r *Raw) Format() string {
	if r == nil {
		return ""
	}
	return r.FormatName
}

// Get returns the raw value of the member called name, or nil.
func (r *Raw) Get(name string) []byte {
	if r == nil {
		return nil
	}
	for _, m := range r.Members {
		if m.Name == name {
			return m.Value
		}
	}
	return nil
}

// Validate checks that FormatName is set and is not a format this package has a type
// for (nor a legacy name of one), that member names are unique and not "format", and that
// every value is one valid JSON value.
func (r *Raw) Validate() error {
	if r == nil {
		return nilError("", "Raw")
	}
	switch {
	case r.FormatName == "":
		return memberError("", "format", "must not be empty")
	case knownFormat(r.FormatName):
		return memberError(r.FormatName, "format", "is a known format; a *Raw cannot carry it")
	}
	if canonical, ok := legacyFormat(r.FormatName); ok {
		return memberError(r.FormatName, "format", "is a legacy name of "+strconv.Quote(canonical)+" (DIFF-9); a *Raw cannot carry it")
	}
	var names map[string]struct{} // for many members; a few are compared directly
	for i, m := range r.Members {
		if m.Name == "format" {
			return memberError(r.FormatName, "format", "must not be in Members; it is FormatName")
		}
		dup := false
		if len(r.Members) <= smallRaw {
			dup = slices.ContainsFunc(r.Members[:i], func(p RawMember) bool { return p.Name == m.Name })
		} else {
			if names == nil {
				names = make(map[string]struct{}, len(r.Members))
			}
			_, dup = names[m.Name]
			names[m.Name] = struct{}{}
		}
		if dup {
			return memberError(r.FormatName, m.Name, "appears more than once (duplicate member name)")
		}
		if err := validJSON(m.Value); err != nil {
			return nested(r.FormatName, m.Name, err)
		}
	}
	return nil
}

// smallRaw is how many members Raw.Validate checks for duplicates without a map.
const smallRaw = 16

// MarshalJSON encodes {"format":…, members in order}; it fails when Validate fails.
func (r *Raw) MarshalJSON() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	n := 16 + len(r.FormatName)
	for _, m := range r.Members {
		n += len(m.Name) + len(m.Value) + 4
	}
	return r.appendJSON(make([]byte, 0, n))
}

func (r *Raw) appendJSON(b []byte) ([]byte, error) {
	b = appendHead(b, r.FormatName)
	return append(appendRawMembers(b, r.Members), '}'), nil
}

// UnmarshalJSON decodes an identifier of an unknown format strictly, like Parse. It
// fails when the format is one this package has a type for.
func (r *Raw) UnmarshalJSON(data []byte) error {
	id, err := Parse(data)
	if err != nil {
		return err
	}
	v, ok := id.(*Raw)
	if !ok {
		return memberError(id.Format(), "format", "is a known format; decode it with Parse")
	}
	*r = *v
	return nil
}
