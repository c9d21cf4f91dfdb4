package subject

import (
	"encoding/json"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sigshare/sigshare/internal/jsonwire"
)

// allowUnexported lets go-cmp compare the decoded extras.
var allowUnexported = cmp.AllowUnexported(Account{}, Email{}, IssSub{}, Opaque{}, PhoneNumber{}, DID{}, URI{}, JWTID{}, SAMLAssertionID{}, IPAddresses{}, Aliases{})

// TestMarshalBuilt: built identifiers encode to exactly the SSF Final shape, "format"
// first, members in a fixed order, and decode back to the same value.
func TestMarshalBuilt(t *testing.T) {
	cases := []struct {
		id   Identifier
		want string
	}{
		{&Account{URI: "acct:example.user@service.example.com"}, `{"format":"account","uri":"acct:example.user@service.example.com"}`},
		{&Email{Email: "user@example.com"}, `{"format":"email","email":"user@example.com"}`},
		{&IssSub{Iss: "https://issuer.example.com/", Sub: "145234573"}, `{"format":"iss_sub","iss":"https://issuer.example.com/","sub":"145234573"}`},
		{&Opaque{ID: "11112222333344445555"}, `{"format":"opaque","id":"11112222333344445555"}`},
		{&PhoneNumber{PhoneNumber: "+12065550100"}, `{"format":"phone_number","phone_number":"+12065550100"}`},
		{&DID{URL: "did:example:123456"}, `{"format":"did","url":"did:example:123456"}`},
		{&URI{URI: "https://user.example.com/"}, `{"format":"uri","uri":"https://user.example.com/"}`},
		{&JWTID{Iss: "https://idp.example.com/", JTI: "B70BA622"}, `{"format":"jwt_id","iss":"https://idp.example.com/","jti":"B70BA622"}`},
		{&SAMLAssertionID{Issuer: "https://idp.example.com/", AssertionID: "_8e8d"}, `{"format":"saml_assertion_id","issuer":"https://idp.example.com/","assertion_id":"_8e8d"}`},
		{&IPAddresses{Addresses: []string{"10.29.37.75", "2001:db8::1"}}, `{"format":"ip-addresses","ip-addresses":["10.29.37.75","2001:db8::1"]}`},
		{&Aliases{Identifiers: []Identifier{&Email{Email: "user@example.com"}, &PhoneNumber{PhoneNumber: "+12065550100"}}}, `{"format":"aliases","identifiers":[{"format":"email","email":"user@example.com"},{"format":"phone_number","phone_number":"+12065550100"}]}`},
		{
			// Members in the order of Members: defined names in SSF order, then others sorted.
			&Complex{
				Group:  &Opaque{ID: "g"},
				Tenant: &Opaque{ID: "t"},
				User:   &Email{Email: "u@example.com"},
				Other:  map[string]Identifier{"zeta": &Opaque{ID: "z"}, "alpha": &Opaque{ID: "a"}},
			},
			`{"format":"complex","user":{"format":"email","email":"u@example.com"},"tenant":{"format":"opaque","id":"t"},"group":{"format":"opaque","id":"g"},"alpha":{"format":"opaque","id":"a"},"zeta":{"format":"opaque","id":"z"}}`,
		},
		{&Raw{FormatName: "catalog_item", Members: []RawMember{{Name: "catalog_id", Value: json.RawMessage(` "c0384" `)}, {Name: "n", Value: json.RawMessage(`[1, 2]`)}}}, `{"format":"catalog_item","catalog_id":"c0384","n":[1,2]}`},
		// Strings are escaped minimally and deterministically.
		{&Opaque{ID: "a\"b\\c\n\u0001é<>&"}, `{"format":"opaque","id":"a\"b\\c\n\u0001é<>&"}`},
	}
	for _, tc := range cases {
		t.Run(tc.id.Format(), func(t *testing.T) {
			got, err := tc.id.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("MarshalJSON\n got: %s\nwant: %s", got, tc.want)
			}
			back, err := Parse(got)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(normalizeRaw(tc.id), back, allowUnexported); diff != "" {
				t.Errorf("Parse(MarshalJSON(x)) differs from x (-want +got):\n%s", diff)
			}
		})
	}
}

// normalizeRaw compacts the member values of a *Raw, as decoding does.
func normalizeRaw(id Identifier) Identifier {
	r, ok := id.(*Raw)
	if !ok {
		return id
	}
	out := &Raw{FormatName: r.FormatName}
	for _, m := range r.Members {
		out.Members = append(out.Members, RawMember{Name: m.Name, Value: jsonwire.AppendCompact(nil, m.Value)})
	}
	return out
}

// TestValidateBuilt: Validate and MarshalJSON (directly and through json.Marshal) refuse
// every invalid built identifier with the documented error.
func TestValidateBuilt(t *testing.T) {
	cases := []struct {
		name string
		id   Identifier
		want string
	}{
		{"nil email", (*Email)(nil), `subject: email: nil *Email`},
		{"empty email", &Email{}, `subject: email: member "email" must not be empty`},
		{"bad email", &Email{Email: "nope"}, `subject: email: member "email" is not an addr-spec: no "@"`},
		{"empty account", &Account{}, `subject: account: member "uri" must not be empty`},
		{"empty iss", &IssSub{Sub: "s"}, `subject: iss_sub: member "iss" must not be empty`},
		{"empty sub", &IssSub{Iss: "i"}, `subject: iss_sub: member "sub" must not be empty`},
		{"empty opaque", &Opaque{}, `subject: opaque: member "id" must not be empty`},
		{"bad phone", &PhoneNumber{PhoneNumber: "206"}, `subject: phone_number: member "phone_number" is not an E.164 number: must start with "+"`},
		{"bad did", &DID{URL: "example:1"}, `subject: did: member "url" is not a DID URL: must start with "did:"`},
		{"bad uri", &URI{URI: "no-scheme"}, `subject: uri: member "uri" is not an absolute URI: no scheme (RFC 3986 §3.1)`},
		{"empty jti", &JWTID{Iss: "i"}, `subject: jwt_id: member "jti" must not be empty`},
		{"empty assertion id", &SAMLAssertionID{Issuer: "i"}, `subject: saml_assertion_id: member "assertion_id" must not be empty`},
		{"no addresses", &IPAddresses{}, `subject: ip-addresses: member "ip-addresses" must not be empty (want at least one address)`},
		{"bad address", &IPAddresses{Addresses: []string{"10.0.0.1", "x"}}, `subject: ip-addresses: member "ip-addresses[1]" is not an IPv4 or IPv6 address: ParseAddr("x"): unable to parse IP`},
		{"no aliases", &Aliases{}, `subject: aliases: member "identifiers" must not be empty (RFC 9493 §3.2.8: at least one identifier)`},
		{"nil alias", &Aliases{Identifiers: []Identifier{nil}}, `subject: aliases: member "identifiers[0]" is nil`},
		{"typed nil alias", &Aliases{Identifiers: []Identifier{(*Email)(nil)}}, `subject: aliases: member "identifiers[0]": email: nil *Email`},
		{"nested aliases", &Aliases{Identifiers: []Identifier{&Aliases{Identifiers: []Identifier{&Opaque{ID: "1"}}}}}, `subject: aliases: member "identifiers[0]": aliases: aliases cannot contain aliases (RFC 9493 §3.2.8)`},
		{"complex in aliases", &Aliases{Identifiers: []Identifier{&Complex{User: &Opaque{ID: "1"}}}}, `subject: aliases: member "identifiers[0]": complex: a Complex Subject cannot be an element of aliases (RFC 9493 §3.2.8 lists Subject Identifiers)`},
		{"invalid alias", &Aliases{Identifiers: []Identifier{&Opaque{}}}, `subject: aliases: member "identifiers[0]": opaque: member "id" must not be empty`},
		{"empty complex", &Complex{}, `subject: complex: has no members (SSF §3.3: at least one)`},
		{"complex nil others", &Complex{Other: map[string]Identifier{"x": nil}}, `subject: complex: has no members (SSF §3.3: at least one)`},
		{"nested complex", &Complex{User: &Complex{User: &Opaque{ID: "1"}}}, `subject: complex: member "user": complex: a Complex Subject cannot be a member of a Complex Subject (SSF §3.3: members are simple identifiers)`},
		{"invalid member", &Complex{Device: &Opaque{}}, `subject: complex: member "device": opaque: member "id" must not be empty`},
		{"typed nil member", &Complex{Device: (*Opaque)(nil)}, `subject: complex: member "device": opaque: nil *Opaque`},
		{"defined name in Other", &Complex{Other: map[string]Identifier{"user": &Opaque{ID: "1"}}}, `subject: complex: member "user" is in Other; use the field for it`},
		{"format in Other", &Complex{User: &Opaque{ID: "1"}, Other: map[string]Identifier{"format": &Opaque{ID: "1"}}}, `subject: complex: member "format" cannot be a member name in Other`},
		{"empty name in Other", &Complex{Other: map[string]Identifier{"": &Opaque{ID: "1"}}}, `subject: complex: has a member with an empty name`},
		{"nil raw", (*Raw)(nil), `subject: nil *Raw`},
		{"raw no format", &Raw{}, `subject: member "format" must not be empty`},
		{"raw known format", &Raw{FormatName: "email", Members: []RawMember{{Name: "email", Value: json.RawMessage(`"a@b"`)}}}, `subject: email: member "format" is a known format; a *Raw cannot carry it`},
		{"raw legacy format", &Raw{FormatName: "phone"}, `subject: phone: member "format" is a legacy name of "phone_number" (DIFF-9); a *Raw cannot carry it`},
		{"raw format member", &Raw{FormatName: "x", Members: []RawMember{{Name: "format", Value: json.RawMessage(`"y"`)}}}, `subject: x: member "format" must not be in Members; it is FormatName`},
		{"raw duplicate member", &Raw{FormatName: "x", Members: []RawMember{{Name: "a", Value: json.RawMessage(`1`)}, {Name: "a", Value: json.RawMessage(`2`)}}}, `subject: x: member "a" appears more than once (duplicate member name)`},
		{"raw invalid value", &Raw{FormatName: "x", Members: []RawMember{{Name: "a", Value: json.RawMessage(`{1}`)}}}, `subject: x: member "a": invalid JSON at offset 1: want a member name`},
		{"raw empty value", &Raw{FormatName: "x", Members: []RawMember{{Name: "a"}}}, `subject: x: member "a": invalid JSON at offset 0: unexpected end of input, want a value`},
		{"raw two values", &Raw{FormatName: "x", Members: []RawMember{{Name: "a", Value: json.RawMessage(`1 2`)}}}, `subject: x: member "a": invalid JSON at offset 2: data after the JSON value`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for what, err := range map[string]error{
				"Validate":    tc.id.Validate(),
				"MarshalJSON": second(tc.id.MarshalJSON()),
				"Canonical":   second(Canonical(tc.id)),
			} {
				if err == nil {
					t.Fatalf("%s accepted an invalid identifier", what)
				}
				if got := err.Error(); got != tc.want {
					t.Errorf("%s error\n got: %s\nwant: %s", what, got, tc.want)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("%s error does not wrap ErrInvalid", what)
				}
			}
			// Through encoding/json the error still wraps ErrInvalid. (encoding/json
			// writes null for a nil pointer without calling MarshalJSON.)
			if isNil(tc.id) {
				return
			}
			if _, err := json.Marshal(tc.id); !errors.Is(err, ErrInvalid) {
				t.Errorf("json.Marshal error %v does not wrap ErrInvalid", err)
			}
		})
	}
}

func second[T any](_ T, err error) error { return err }

// foreign is an Identifier implemented outside this package's types.
type foreign struct{ raw string }

func (f foreign) Format() string               { return "email" }
func (f foreign) Validate() error              { return nil }
func (f foreign) MarshalJSON() ([]byte, error) { return []byte(f.raw), nil }

// TestForeignIdentifier: identifiers of other packages nest, compare and canonicalize
// through their JSON.
func TestForeignIdentifier(t *testing.T) {
	f := foreign{raw: `{ "email": "a@Example.com", "format": "email" }`}
	c := &Complex{User: f}
	got, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"format":"complex","user":{"email":"a@Example.com","format":"email"}}`; string(got) != want {
		t.Errorf("Marshal = %s, want %s", got, want)
	}
	if !Equal(f, &Email{Email: "a@example.com"}) || !Match(c, &Email{Email: "a@example.com"}) {
		t.Errorf("foreign identifier does not compare by its JSON")
	}
	key, err := Canonical(f)
	if err != nil || string(key) != `{"email":"a@example.com","format":"email"}` {
		t.Errorf("Canonical = %s, %v", key, err)
	}
	bad := &Complex{User: foreign{raw: `{"format":"email"`}}
	if _, err := json.Marshal(bad); err == nil {
		t.Errorf("Marshal accepted a foreign identifier with invalid JSON")
	}
	if Equal(foreign{raw: `nope`}, &Email{Email: "a@b"}) {
		t.Errorf("Equal accepted a foreign identifier with invalid JSON")
	}
	// A failing foreign identifier deep inside fails the whole encoding; it never
	// yields a truncated document.
	deep := &Complex{User: &Aliases{Identifiers: []Identifier{foreign{raw: `{"format":"email"`}}}}
	if out, err := deep.MarshalJSON(); err == nil || !errors.Is(err, ErrInvalid) {
		t.Errorf("MarshalJSON = %s, %v; want an error", out, err)
	}
	// A foreign member whose JSON is not a valid subject has no canonical form.
	odd := &Complex{User: foreign{raw: `{"format":"email","email":"no-at-sign"}`}}
	if key, err := Canonical(odd); err == nil {
		t.Errorf("Canonical = %s; want an error", key)
	}
	key, err = Canonical(&Complex{User: f, Device: &Opaque{ID: "d"}})
	if want := `{"device":{"format":"opaque","id":"d"},"format":"complex","user":{"email":"a@example.com","format":"email"}}`; err != nil || string(key) != want {
		t.Errorf("Canonical = %s, %v; want %s", key, err, want)
	}
}

// TestComplexHelpers: Members, MemberNames, Get, Set (SSF §3.3, §3.6).
func TestComplexHelpers(t *testing.T) {
	c := &Complex{}
	c.Set(MemberDevice, &Opaque{ID: "d"})
	c.Set(MemberUser, &Email{Email: "u@example.com"})
	c.Set("zone", &Opaque{ID: "z"})
	c.Set("app_instance", &Opaque{ID: "a"})
	c.Set(MemberOrgUnit, &Opaque{ID: "o"})
	if c.User == nil || c.Device == nil || c.OrgUnit == nil || len(c.Other) != 2 {
		t.Fatalf("Set did not use the fields: %+v", c)
	}
	wantNames := []string{"user", "device", "org_unit", "app_instance", "zone"}
	if diff := cmp.Diff(wantNames, c.MemberNames()); diff != "" {
		t.Errorf("MemberNames (-want +got):\n%s", diff)
	}
	ms := c.Members()
	if len(ms) != 5 || ms[0].Name != "user" || ms[0].Identifier != c.User || ms[4].Name != "zone" {
		t.Errorf("Members = %+v", ms)
	}
	if c.Get("zone") != c.Other["zone"] || c.Get(MemberUser) != c.User || c.Get("nothing") != nil || c.Get(MemberGroup) != nil {
		t.Errorf("Get is wrong")
	}
	c.Set("zone", nil)
	c.Set(MemberUser, nil)
	if diff := cmp.Diff([]string{"device", "org_unit", "app_instance"}, c.MemberNames()); diff != "" {
		t.Errorf("after removal (-want +got):\n%s", diff)
	}
	var nilComplex *Complex
	if nilComplex.Members() != nil || nilComplex.MemberNames() != nil || nilComplex.Get("user") != nil {
		t.Errorf("nil *Complex helpers are not empty")
	}
	// Every defined member name has a field.
	for _, name := range []string{MemberUser, MemberDevice, MemberSession, MemberApplication, MemberTenant, MemberOrgUnit, MemberGroup} {
		var x Complex
		x.Set(name, &Opaque{ID: name})
		if len(x.Other) != 0 || x.Get(name) == nil {
			t.Errorf("member %q has no field", name)
		}
		b, err := json.Marshal(&x)
		if err != nil {
			t.Fatal(err)
		}
		if want := `{"format":"complex","` + name + `":{"format":"opaque","id":"` + name + `"}}`; string(b) != want {
			t.Errorf("got %s, want %s", b, want)
		}
	}
}

// TestRawHelpers: Raw.Get and Format on nil.
func TestRawHelpers(t *testing.T) {
	id, err := Parse([]byte(`{"format":"catalog_item","catalog_id":"c","n":[1]}`))
	if err != nil {
		t.Fatal(err)
	}
	r := id.(*Raw)
	if string(r.Get("catalog_id")) != `"c"` || string(r.Get("n")) != `[1]` || r.Get("format") != nil {
		t.Errorf("Get is wrong: %+v", r)
	}
	var nilRaw *Raw
	if nilRaw.Format() != "" || nilRaw.Get("x") != nil {
		t.Errorf("nil *Raw helpers are not empty")
	}
}

// TestIPAddressesAddrs: Addrs parses the addresses.
func TestIPAddressesAddrs(t *testing.T) {
	p := &IPAddresses{Addresses: []string{"10.29.37.75", "2001:0db8:0000:0000:0000:8a2e:0370:7334"}}
	got, err := p.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Addr{netip.MustParseAddr("10.29.37.75"), netip.MustParseAddr("2001:db8::8a2e:370:7334")}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("Addrs (-want +got):\n%s", diff)
	}
	if _, err := (&IPAddresses{}).Addrs(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Addrs of an empty list: %v", err)
	}
}

// TestUnmarshalJSON: each type decodes strictly from JSON, also as a struct field, and
// refuses another format.
func TestUnmarshalJSON(t *testing.T) {
	var req struct {
		StreamID string  `json:"stream_id"`
		Subject  Email   `json:"subject"`
		Stream   *Opaque `json:"sub_id"`
	}
	in := `{"stream_id":"s1","subject":{"format":"email","email":"example.user@example.com"},"sub_id":{"format":"opaque","id":"s1"}}`
	if err := json.Unmarshal([]byte(in), &req); err != nil {
		t.Fatal(err)
	}
	if req.Subject.Email != "example.user@example.com" || req.Stream.ID != "s1" {
		t.Errorf("decoded %+v", req)
	}
	var e Email
	err := json.Unmarshal([]byte(`{"format":"phone_number","phone_number":"+1"}`), &e)
	if err == nil || err.Error() != `subject: email: member "format" is "phone_number", want "email"` || !errors.Is(err, ErrInvalid) {
		t.Errorf("wrong format: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"format":"email"}`), &e); err == nil || err.Error() != `subject: email: member "email" is missing` {
		t.Errorf("invalid email: %v", err)
	}
	// Every type, round trip through encoding/json.
	for _, id := range []Identifier{
		&Account{URI: "acct:a@b"}, &Email{Email: "a@b"}, &IssSub{Iss: "i", Sub: "s"}, &Opaque{ID: "o"},
		&PhoneNumber{PhoneNumber: "+1"}, &DID{URL: "did:x:y"}, &URI{URI: "urn:x"}, &JWTID{Iss: "i", JTI: "j"},
		&SAMLAssertionID{Issuer: "i", AssertionID: "a"}, &IPAddresses{Addresses: []string{"::1"}},
		&Aliases{Identifiers: []Identifier{&Email{Email: "a@b"}}}, &Complex{User: &Email{Email: "a@b"}},
		&Raw{FormatName: "x", Members: []RawMember{{Name: "k", Value: json.RawMessage(`"v"`)}}},
	} {
		b, err := json.Marshal(id)
		if err != nil {
			t.Fatal(err)
		}
		var dst Identifier
		switch id.(type) {
		case *Account:
			dst = new(Account)
		case *Email:
			dst = new(Email)
		case *IssSub:
			dst = new(IssSub)
		case *Opaque:
			dst = new(Opaque)
		case *PhoneNumber:
			dst = new(PhoneNumber)
		case *DID:
			dst = new(DID)
		case *URI:
			dst = new(URI)
		case *JWTID:
			dst = new(JWTID)
		case *SAMLAssertionID:
			dst = new(SAMLAssertionID)
		case *IPAddresses:
			dst = new(IPAddresses)
		case *Aliases:
			dst = new(Aliases)
		case *Complex:
			dst = new(Complex)
		case *Raw:
			dst = new(Raw)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatalf("%T: %v", id, err)
		}
		if diff := cmp.Diff(id, dst, allowUnexported); diff != "" {
			t.Errorf("%T round trip (-want +got):\n%s", id, diff)
		}
		// A different format is refused.
		if err := json.Unmarshal([]byte(`{"format":"opaque","id":"1"}`), dst); err == nil && id.Format() != FormatOpaque {
			t.Errorf("%T accepted an opaque identifier", id)
		}
	}
	var r Raw
	if err := json.Unmarshal([]byte(`{"format":"email","email":"a@b"}`), &r); err == nil || err.Error() != `subject: email: member "format" is a known format; decode it with Parse` {
		t.Errorf("Raw accepted a known format: %v", err)
	}
}

// TestErrorMessage covers the message forms of *Error.
func TestErrorMessage(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{&Error{Reason: "r"}, "subject: r"},
		{&Error{Format: "f", Reason: "r"}, "subject: f: r"},
		{&Error{Member: "m", Reason: "r"}, `subject: member "m" r`},
		{&Error{Format: "f", Member: "m", Reason: "r"}, `subject: f: member "m" r`},
		{&Error{Format: "f", Member: "m", Err: &Error{Format: "g", Reason: "r"}}, `subject: f: member "m": g: r`},
		{&Error{Format: "f", Err: &Error{Member: "m", Reason: "r"}}, `subject: f: member "m" r`},
		{&Error{Format: "f", Member: "m", Err: errors.New("plain")}, `subject: f: member "m": plain`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	inner := errors.New("inner")
	e := &Error{Err: inner}
	if !errors.Is(e, ErrInvalid) || !errors.Is(e, inner) {
		t.Errorf("errors.Is does not see ErrInvalid and the cause")
	}
}

// TestNilReceivers: a nil pointer of every type fails Validate and MarshalJSON with an
// error naming the type, and never matches.
func TestNilReceivers(t *testing.T) {
	for _, tc := range []struct {
		id   Identifier
		want string
	}{
		{(*Account)(nil), "subject: account: nil *Account"},
		{(*Email)(nil), "subject: email: nil *Email"},
		{(*IssSub)(nil), "subject: iss_sub: nil *IssSub"},
		{(*Opaque)(nil), "subject: opaque: nil *Opaque"},
		{(*PhoneNumber)(nil), "subject: phone_number: nil *PhoneNumber"},
		{(*DID)(nil), "subject: did: nil *DID"},
		{(*URI)(nil), "subject: uri: nil *URI"},
		{(*JWTID)(nil), "subject: jwt_id: nil *JWTID"},
		{(*SAMLAssertionID)(nil), "subject: saml_assertion_id: nil *SAMLAssertionID"},
		{(*IPAddresses)(nil), "subject: ip-addresses: nil *IPAddresses"},
		{(*Aliases)(nil), "subject: aliases: nil *Aliases"},
		{(*Complex)(nil), "subject: complex: nil *Complex"},
		{(*Raw)(nil), "subject: nil *Raw"},
	} {
		if err := tc.id.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("%T.Validate() = %v, want %s", tc.id, err, tc.want)
		}
		if _, err := tc.id.MarshalJSON(); err == nil || err.Error() != tc.want {
			t.Errorf("%T.MarshalJSON() error = %v, want %s", tc.id, err, tc.want)
		}
		if Match(tc.id, tc.id) || Equal(tc.id, &Opaque{ID: "x"}) {
			t.Errorf("%T nil matched", tc.id)
		}
		if hasForeign(tc.id) {
			t.Errorf("%T nil counted as foreign", tc.id)
		}
	}
}
