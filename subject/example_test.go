package subject_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sigshare/sigshare/subject"
)

// Build an email subject and encode it (RFC 9493 §3.2.2).
func ExampleEmail() {
	id := &subject.Email{Email: "user@example.com"}
	b, err := json.Marshal(id)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))

	// Encoding is strict: an invalid identifier does not encode.
	_, err = json.Marshal(&subject.Email{Email: "not-an-address"})
	fmt.Println(errors.Is(err, subject.ErrInvalid))
	// Output:
	// {"format":"email","email":"user@example.com"}
	// true
}

// Build a Complex Subject (SSF §3.3).
func ExampleComplex() {
	id := &subject.Complex{
		User:   &subject.IssSub{Iss: "https://idp.example.com/", Sub: "jane.smith"},
		Device: &subject.Opaque{ID: "e9297990"},
	}
	b, _ := json.Marshal(id)
	fmt.Println(string(b))
	fmt.Println(id.MemberNames())
	// Output:
	// {"format":"complex","user":{"format":"iss_sub","iss":"https://idp.example.com/","sub":"jane.smith"},"device":{"format":"opaque","id":"e9297990"}}
	// [user device]
}

// Parse a subject strictly and act on its type.
func ExampleParse() {
	id, err := subject.Parse([]byte(`{"format":"phone_number","phone_number":"+1 206 555 0123"}`))
	if err != nil {
		panic(err)
	}
	switch v := id.(type) {
	case *subject.PhoneNumber:
		fmt.Println("phone", v.PhoneNumber)
	case *subject.Raw:
		fmt.Println("unknown format", v.FormatName)
	}

	_, err = subject.Parse([]byte(`{"format":"iss_sub","iss":"https://idp.example.com/"}`))
	fmt.Println(err)
	// Output:
	// phone +1 206 555 0123
	// subject: iss_sub: member "sub" is missing
}

// Accept the legacy subject Google's RISC transmitter sends (RISC §3.1), and see what
// was tolerated.
func ExampleParseLenient() {
	legacy := []byte(`{"subject_type":"iss-sub","iss":"https://accounts.google.com/","sub":"7375626A656374"}`)

	_, err := subject.Parse(legacy)
	fmt.Println(err)

	id, tolerated, err := subject.ParseLenient(legacy)
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(id)
	fmt.Println(string(b))
	fmt.Println(tolerated, tolerated.Has(subject.LenientSubjectType))
	// Output:
	// subject: member "format" is missing (found the legacy member "subject_type"; ParseLenient accepts it)
	// {"format":"iss_sub","iss":"https://accounts.google.com/","sub":"7375626A656374"}
	// subject_type|legacy-format-name true
}

// Decide whether an event's subject matches a subject a receiver added (SSF §8.1.3.1).
func ExampleMatch() {
	added, _ := subject.Parse([]byte(`{"format":"complex","tenant":{"format":"opaque","id":"example-a38h4792-uw2"}}`))
	event, _ := subject.Parse([]byte(`{"format":"complex","tenant":{"format":"opaque","id":"example-a38h4792-uw2"},"user":{"format":"email","email":"jdoe@example.com"}}`))
	fmt.Println(subject.Match(added, event)) // user is absent from added: a wildcard

	// A simple subject matches a Complex Subject that names it.
	user := &subject.Email{Email: "jdoe@EXAMPLE.com"}
	fmt.Println(subject.Match(user, event)) // email domains compare case-insensitively

	other, _ := subject.Parse([]byte(`{"format":"complex","tenant":{"format":"opaque","id":"another-tenant"}}`))
	fmt.Println(subject.Match(other, event))
	// Output:
	// true
	// true
	// false
}

// Configure matching: fold the case of the whole address and apply the receiver's own
// canonicalization (RFC 9493 §3.2.2.1).
func ExampleMatcher() {
	m := subject.Matcher{
		FoldEmailLocalCase: true,
		CanonicalizeEmail: func(addr string) string {
			local, domain, _ := strings.Cut(addr, "@")
			local, _, _ = strings.Cut(local, "+")
			return local + "@" + domain
		},
	}
	a := &subject.Email{Email: "JDoe+news@example.com"}
	b := &subject.Email{Email: "jdoe@Example.com"}
	fmt.Println(subject.Match(a, b), m.Match(a, b))
	key, _ := m.Canonical(a)
	fmt.Println(string(key))
	// Output:
	// false true
	// {"email":"jdoe@example.com","format":"email"}
}

// Use the canonical form as a database key.
func ExampleCanonical() {
	id, _ := subject.Parse([]byte(`{"ip-addresses":["2001:0db8:0000:0000:0000:8a2e:0370:7334","10.29.37.75"],"format":"ip-addresses"}`))
	key, err := subject.Canonical(id)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(key))
	// Output:
	// {"format":"ip-addresses","ip-addresses":["10.29.37.75","2001:db8::8a2e:370:7334"]}
}
