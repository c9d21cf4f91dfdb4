package subject

import (
	"bytes"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) Identifier {
	t.Helper()
	id, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("Parse(%s): %v", s, err)
	}
	return id
}

const (
	jdoe      = `{"format":"email","email":"jdoe@example.com"}`
	jdoeUpper = `{"format":"email","email":"jdoe@EXAMPLE.com"}`
	jdoeLocal = `{"format":"email","email":"JDoe@example.com"}`
	jdoeTag   = `{"format":"email","email":"jdoe+news@example.com"}`
	phone     = `{"format":"phone_number","phone_number":"+12065550123"}`
	phoneSp   = `{"format":"phone_number","phone_number":"+1 206 555 0123"}`
	tenantA   = `{"format":"opaque","id":"tenant-a"}`
	tenantB   = `{"format":"opaque","id":"tenant-b"}`
)

func complexOf(members ...string) string {
	return `{"format":"complex",` + strings.Join(members, ",") + `}`
}

func aliasesOf(ids ...string) string {
	return `{"format":"aliases","identifiers":[` + strings.Join(ids, ",") + `]}`
}

// stripPlusTag is a receiver canonicalization: drop "+tag" from the local part.
func stripPlusTag(a string) string {
	at := strings.LastIndexByte(a, '@')
	if plus := strings.IndexByte(a[:max(at, 0)], '+'); plus >= 0 {
		return a[:plus] + a[at:]
	}
	return a
}

// TestMatch covers every matching rule Matcher documents (SSF §8.1.3.1,
// SSF-SUBJECT-2, AMB-7). Each case is checked in both argument orders.
func TestMatch(t *testing.T) {
	fold := Matcher{FoldEmailLocalCase: true}
	hook := Matcher{CanonicalizeEmail: stripPlusTag}
	literal := Matcher{AllowDisjointComplex: true}
	separate := Matcher{SeparateSimpleAndComplex: true}
	cases := []struct {
		name string
		m    Matcher
		a, b string
		want bool
	}{
		// Simple subjects: identical only.
		{"same email", Matcher{}, jdoe, jdoe, true},
		{"different email", Matcher{}, jdoe, `{"format":"email","email":"other@example.com"}`, false},
		{"email domain case folded by default", Matcher{}, jdoe, jdoeUpper, true},
		{"email local case exact by default", Matcher{}, jdoe, jdoeLocal, false},
		{"email local case folded on request", fold, jdoe, jdoeLocal, true},
		{"email receiver canonicalization", hook, jdoe, jdoeTag, true},
		{"email plus tag differs by default", Matcher{}, jdoe, jdoeTag, false},
		{"email escapes not significant", Matcher{}, jdoe, `{"format":"email","email":"jdoe\u0040example.com"}`, true},
		{"same address, other format", Matcher{}, jdoe, `{"format":"account","uri":"acct:jdoe@example.com"}`, false},
		{"phone spaces not significant", Matcher{}, phone, phoneSp, true},
		{"different phone", Matcher{}, phone, `{"format":"phone_number","phone_number":"+12065550124"}`, false},
		{"iss_sub same", Matcher{}, `{"format":"iss_sub","iss":"https://i/","sub":"1"}`, `{"sub":"1","iss":"https://i/","format":"iss_sub"}`, true},
		{"iss_sub other issuer", Matcher{}, `{"format":"iss_sub","iss":"https://i/","sub":"1"}`, `{"format":"iss_sub","iss":"https://i","sub":"1"}`, false},
		{"uri compared exactly", Matcher{}, `{"format":"uri","uri":"https://example.com/"}`, `{"format":"uri","uri":"https://EXAMPLE.com/"}`, false},
		{"opaque compared exactly", Matcher{}, tenantA, `{"format":"opaque","id":"Tenant-A"}`, false},
		{"jwt_id", Matcher{}, `{"format":"jwt_id","iss":"i","jti":"j"}`, `{"format":"jwt_id","iss":"i","jti":"j"}`, true},
		{"saml", Matcher{}, `{"format":"saml_assertion_id","issuer":"i","assertion_id":"a"}`, `{"format":"saml_assertion_id","issuer":"i","assertion_id":"b"}`, false},
		{"did", Matcher{}, `{"format":"did","url":"did:example:1"}`, `{"format":"did","url":"did:example:1"}`, true},
		{"ip text forms", Matcher{}, `{"format":"ip-addresses","ip-addresses":["2001:0db8:0000:0000:0000:8a2e:0370:7334"]}`, `{"format":"ip-addresses","ip-addresses":["2001:db8::8a2e:370:7334"]}`, true},
		{"ip order and duplicates", Matcher{}, `{"format":"ip-addresses","ip-addresses":["10.0.0.1","10.0.0.2","10.0.0.1"]}`, `{"format":"ip-addresses","ip-addresses":["10.0.0.2","10.0.0.1"]}`, true},
		{"ip subset is not identical", Matcher{}, `{"format":"ip-addresses","ip-addresses":["10.0.0.1"]}`, `{"format":"ip-addresses","ip-addresses":["10.0.0.1","10.0.0.2"]}`, false},
		{"ipv4-mapped differs", Matcher{}, `{"format":"ip-addresses","ip-addresses":["10.0.0.1"]}`, `{"format":"ip-addresses","ip-addresses":["::ffff:10.0.0.1"]}`, false},
		{"raw member order and whitespace", Matcher{}, `{"format":"x","a":{"p":1,"q":[true,"\u00e9"]},"b":"s"}`, `{"b":"s","format":"x","a":{ "q":[ true,"é"],"p":1}}`, true},
		{"raw numbers as written", Matcher{}, `{"format":"x","n":1}`, `{"format":"x","n":1.0}`, false},
		{"raw other format", Matcher{}, `{"format":"x","n":1}`, `{"format":"y","n":1}`, false},
		{"raw missing member", Matcher{}, `{"format":"x","n":1}`, `{"format":"x","n":1,"m":2}`, false},
		{"extras ignored (AMB-6)", Matcher{}, jdoe, `{"format":"email","email":"jdoe@example.com","x-note":"hi"}`, true},

		// Aliases match when any of their identifiers does.
		{"aliases contain subject", Matcher{}, aliasesOf(phone, jdoe), jdoe, true},
		{"aliases do not contain subject", Matcher{}, aliasesOf(phone), jdoe, false},
		{"aliases overlap", Matcher{}, aliasesOf(phone, jdoe), aliasesOf(`{"format":"email","email":"x@y"}`, phoneSp), true},
		{"aliases disjoint", Matcher{}, aliasesOf(phone), aliasesOf(jdoe), false},
		{"aliases with complex", Matcher{}, aliasesOf(phone, jdoe), complexOf(`"user":`+jdoe, `"tenant":`+tenantA), true},

		// Complex Subjects: absent members are wildcards; present in both must be identical.
		{"complex tenant wildcard user (M1)", Matcher{}, complexOf(`"tenant":` + tenantA), complexOf(`"tenant":`+tenantA, `"user":`+jdoe), true},
		{"complex tenant differs", Matcher{}, complexOf(`"tenant":` + tenantA), complexOf(`"tenant":`+tenantB, `"user":`+jdoe), false},
		{"complex user identical, device absent (M2)", Matcher{}, complexOf(`"user":`+jdoe, `"device":{"format":"ip-addresses","ip-addresses":["10.29.37.75"]}`), complexOf(`"user":` + jdoe), true},
		{"complex group differs (M3)", Matcher{}, complexOf(`"user":`+jdoe, `"group":{"format":"did","url":"did:example:1"}`), complexOf(`"user":`+jdoe, `"group":{"format":"did","url":"did:example:2"}`), false},
		{"complex member normalization", Matcher{}, complexOf(`"user":` + jdoe), complexOf(`"user":` + jdoeUpper), true},
		{"complex other members compared", Matcher{}, complexOf(`"user":`+jdoe, `"team":{"format":"opaque","id":"t1"}`), complexOf(`"user":`+jdoe, `"team":{"format":"opaque","id":"t2"}`), false},
		{"complex other member absent", Matcher{}, complexOf(`"user":`+jdoe, `"team":{"format":"opaque","id":"t1"}`), complexOf(`"user":` + jdoe), true},
		{"complex aliases member", Matcher{}, complexOf(`"user":` + aliasesOf(phone, jdoe)), complexOf(`"user":`+jdoe, `"tenant":`+tenantA), true},
		{"complex aliases member no match", Matcher{}, complexOf(`"user":` + aliasesOf(phone)), complexOf(`"user":` + jdoe), false},
		{"complex disjoint members match (literal rule)", literal, complexOf(`"tenant":` + tenantA), complexOf(`"user":` + jdoe), true},
		{"complex disjoint members, default rule", Matcher{}, complexOf(`"tenant":` + tenantA), complexOf(`"user":` + jdoe), false},
		{"complex common member, default rule", Matcher{}, complexOf(`"tenant":` + tenantA), complexOf(`"tenant":`+tenantA, `"user":`+jdoe), true},
		{"complex disjoint other members, default rule", Matcher{}, complexOf(`"x":` + tenantA), complexOf(`"y":` + tenantA), false},

		// Simple and complex: the simple subject matches a member identical to it.
		{"simple in complex", Matcher{}, jdoe, complexOf(`"user":`+jdoeUpper, `"device":`+tenantA), true},
		{"simple in complex other member", Matcher{}, tenantA, complexOf(`"team":` + tenantA), true},
		{"simple not in complex", Matcher{}, jdoe, complexOf(`"user":{"format":"email","email":"x@y"}`, `"tenant":`+tenantA), false},
		{"simple in complex aliases member", Matcher{}, jdoe, complexOf(`"user":` + aliasesOf(phone, jdoe)), true},
		{"simple in complex, SeparateSimpleAndComplex", separate, jdoe, complexOf(`"user":` + jdoe), false},
		{"simple vs simple, SeparateSimpleAndComplex", separate, jdoe, jdoe, true},
		{"complex vs complex, SeparateSimpleAndComplex", separate, complexOf(`"user":` + jdoe), complexOf(`"user":` + jdoe), true},
		{"aliases in complex, SeparateSimpleAndComplex", separate, aliasesOf(jdoe), complexOf(`"user":` + jdoe), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := mustParse(t, tc.a), mustParse(t, tc.b)
			if got := tc.m.Match(a, b); got != tc.want {
				t.Errorf("Match(a, b) = %v, want %v", got, tc.want)
			}
			if got := tc.m.Match(b, a); got != tc.want {
				t.Errorf("Match(b, a) = %v, want %v (not symmetric)", got, tc.want)
			}
		})
	}
}

func TestMatchNil(t *testing.T) {
	e := &Email{Email: "a@b"}
	if Match(nil, e) || Match(e, nil) || Match(nil, nil) || Match((*Email)(nil), e) {
		t.Errorf("nil matched")
	}
	if !Equal(nil, nil) || Equal(nil, e) || Equal(e, (*Email)(nil)) || !Equal((*Email)(nil), nil) {
		t.Errorf("Equal with nil is wrong")
	}
	if _, err := Canonical(nil); err == nil {
		t.Errorf("Canonical(nil) succeeded")
	}
	// Nil members and elements are skipped, not matched.
	if (Matcher{AllowDisjointComplex: true}).Match(&Complex{User: e, Device: nil}, &Complex{Device: e}) != true {
		t.Errorf("disjoint complex with a nil member should match under the literal rule")
	}
	if Match(&Complex{User: e, Device: nil}, &Complex{Device: e}) {
		t.Errorf("a nil member counted as a common member")
	}
	if Match(&Aliases{Identifiers: []Identifier{nil}}, e) {
		t.Errorf("nil alias matched")
	}
}

// TestEqual: identical means the same format and identical members; aliases and IP
// addresses compare as sets; Equal is not Match.
func TestEqual(t *testing.T) {
	cases := []struct {
		name string
		a, b string
		want bool
	}{
		{"aliases order", aliasesOf(jdoe, phone), aliasesOf(phoneSp, jdoeUpper), true},
		{"aliases duplicates", aliasesOf(jdoe, jdoe), aliasesOf(jdoe), true},
		{"aliases subset", aliasesOf(jdoe), aliasesOf(jdoe, phone), false},
		{"aliases vs member", aliasesOf(jdoe), jdoe, false},
		{"complex member order", complexOf(`"user":`+jdoe, `"tenant":`+tenantA), complexOf(`"tenant":`+tenantA, `"user":`+jdoe), true},
		{"complex fewer members", complexOf(`"user":` + jdoe), complexOf(`"user":`+jdoe, `"tenant":`+tenantA), false},
		{"complex other members", complexOf(`"x":` + jdoe), complexOf(`"y":` + jdoe), false},
		{"complex other member count", complexOf(`"x":` + jdoe), complexOf(`"x":`+jdoe, `"y":`+jdoe), false},
		{"complex vs its member", complexOf(`"user":` + jdoe), jdoe, false},
		{"different types", jdoe, phone, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := mustParse(t, tc.a), mustParse(t, tc.b)
			if got := Equal(a, b); got != tc.want {
				t.Errorf("Equal(a, b) = %v, want %v", got, tc.want)
			}
			if got := Equal(b, a); got != tc.want {
				t.Errorf("Equal(b, a) = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCanonical: the exact canonical form of each kind of identifier.
func TestCanonical(t *testing.T) {
	cases := []struct {
		name string
		m    Matcher
		in   string
		want string
	}{
		{"email", Matcher{}, `{"format":"email","email":"JDoe@Example.COM"}`, `{"email":"JDoe@example.com","format":"email"}`},
		{"email fold local", Matcher{FoldEmailLocalCase: true}, `{"format":"email","email":"JDoe@Example.COM"}`, `{"email":"jdoe@example.com","format":"email"}`},
		{"email hook", Matcher{CanonicalizeEmail: stripPlusTag}, `{"format":"email","email":"jdoe+x@Example.com"}`, `{"email":"jdoe@example.com","format":"email"}`},
		{"extras left out", Matcher{}, `{"x":1,"format":"email","email":"a@b"}`, `{"email":"a@b","format":"email"}`},
		{"account", Matcher{}, `{"uri":"acct:a@b","format":"account"}`, `{"format":"account","uri":"acct:a@b"}`},
		{"iss_sub", Matcher{}, `{"sub":"s","iss":"i","format":"iss_sub"}`, `{"format":"iss_sub","iss":"i","sub":"s"}`},
		{"opaque escapes", Matcher{}, `{"format":"opaque","id":"a\/b\u00e9\u0001\""}`, `{"format":"opaque","id":"a/bé\u0001\""}`},
		{"phone", Matcher{}, phoneSp, `{"format":"phone_number","phone_number":"+12065550123"}`},
		{"did", Matcher{}, `{"format":"did","url":"did:example:1"}`, `{"format":"did","url":"did:example:1"}`},
		{"uri", Matcher{}, `{"format":"uri","uri":"urn:x"}`, `{"format":"uri","uri":"urn:x"}`},
		{"jwt_id", Matcher{}, `{"jti":"j","format":"jwt_id","iss":"i"}`, `{"format":"jwt_id","iss":"i","jti":"j"}`},
		{"saml", Matcher{}, `{"format":"saml_assertion_id","issuer":"i","assertion_id":"a"}`, `{"assertion_id":"a","format":"saml_assertion_id","issuer":"i"}`},
		{"ip", Matcher{}, `{"format":"ip-addresses","ip-addresses":["2001:0db8:0000:0000:0000:8a2e:0370:7334","10.29.37.75","10.0.0.1","10.29.37.75"]}`, `{"format":"ip-addresses","ip-addresses":["10.0.0.1","10.29.37.75","2001:db8::8a2e:370:7334"]}`},
		{"aliases", Matcher{}, aliasesOf(phoneSp, jdoeUpper, jdoe), `{"format":"aliases","identifiers":[{"email":"jdoe@example.com","format":"email"},{"format":"phone_number","phone_number":"+12065550123"}]}`},
		{"complex", Matcher{}, complexOf(`"user":`+jdoe, `"tenant":`+tenantA, `"app":`+tenantB, `"group":`+phoneSp), `{"app":{"format":"opaque","id":"tenant-b"},"format":"complex","group":{"format":"phone_number","phone_number":"+12065550123"},"tenant":{"format":"opaque","id":"tenant-a"},"user":{"email":"jdoe@example.com","format":"email"}}`},
		{"raw", Matcher{}, `{"format":"x","z":{"b":[1, "\u00e9", {"d":null,"c":true}],"a":-0.5e+3},"a":"s"}`, `{"a":"s","format":"x","z":{"a":-0.5e+3,"b":[1,"é",{"c":true,"d":null}]}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.m.Canonical(mustParse(t, tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("Canonical\n got: %s\nwant: %s", got, tc.want)
			}
			// The canonical form is itself a valid identifier with the same canonical form.
			again, err := tc.m.Canonical(mustParse(t, string(got)))
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("Canonical is not idempotent: %s", again)
			}
		})
	}
}

// corpus is a set of identifiers with many near-equal pairs.
var corpus = []string{
	jdoe, jdoeUpper, jdoeLocal, jdoeTag, `{"format":"email","email":"jdoe@example.com","x":1}`,
	`{"format":"email","email":"\"a b\"@example.com"}`,
	phone, phoneSp, `{"format":"phone_number","phone_number":"+12065550124"}`,
	tenantA, tenantB, `{"format":"opaque","id":"TENANT-A"}`,
	`{"format":"account","uri":"acct:jdoe@example.com"}`, `{"format":"account","uri":"ACCT:jdoe@example.com"}`,
	`{"format":"iss_sub","iss":"i","sub":"s"}`, `{"format":"iss_sub","iss":"s","sub":"i"}`,
	`{"format":"jwt_id","iss":"i","jti":"s"}`, `{"format":"saml_assertion_id","issuer":"i","assertion_id":"s"}`,
	`{"format":"did","url":"did:example:1"}`, `{"format":"uri","uri":"did:example:1"}`,
	`{"format":"ip-addresses","ip-addresses":["10.0.0.1","::1"]}`, `{"format":"ip-addresses","ip-addresses":["0:0:0:0:0:0:0:1","10.0.0.1","10.0.0.1"]}`,
	`{"format":"ip-addresses","ip-addresses":["10.0.0.1"]}`,
	aliasesOf(jdoe, phone), aliasesOf(phoneSp, jdoeUpper), aliasesOf(jdoe), aliasesOf(jdoe, jdoe),
	complexOf(`"user":` + jdoe), complexOf(`"user":` + jdoeUpper), complexOf(`"user":`+jdoe, `"tenant":`+tenantA),
	complexOf(`"tenant":`+tenantA, `"user":`+jdoe), complexOf(`"x":` + jdoe), complexOf(`"user":` + aliasesOf(jdoe, phone)),
	complexOf(`"user":` + aliasesOf(phoneSp, jdoe)),
	`{"format":"x","a":1}`, `{"format":"x","a":1.0}`, `{"a":1,"format":"x"}`, `{"format":"x","a":"1"}`, `{"format":"y","a":1}`,
	`{"format":"x","a":{"p":[1,{"q":"\u00e9"}],"r":null}}`, `{"format":"x","a":{"r":null,"p":[1,{"q":"é"}]}}`,
}

// TestEqualCanonicalConsistent: for every pair of the corpus and every Matcher option,
// Equal holds exactly when the canonical forms are byte-equal.
func TestEqualCanonicalConsistent(t *testing.T) {
	ids := make([]Identifier, len(corpus))
	for i, s := range corpus {
		ids[i] = mustParse(t, s)
	}
	for _, m := range []Matcher{{}, {FoldEmailLocalCase: true}, {CanonicalizeEmail: stripPlusTag}} {
		keys := make([][]byte, len(ids))
		for i, id := range ids {
			k, err := m.Canonical(id)
			if err != nil {
				t.Fatal(err)
			}
			keys[i] = k
		}
		for i := range ids {
			for j := range ids {
				eq := m.Equal(ids[i], ids[j])
				if eq != bytes.Equal(keys[i], keys[j]) {
					t.Errorf("%+v: Equal(%s, %s) = %v but canonical forms %s and %s", m, corpus[i], corpus[j], eq, keys[i], keys[j])
				}
				if eq && !m.Match(ids[i], ids[j]) {
					t.Errorf("Equal but not Match: %s, %s", corpus[i], corpus[j])
				}
				if m.Match(ids[i], ids[j]) != m.Match(ids[j], ids[i]) {
					t.Errorf("Match not symmetric: %s, %s", corpus[i], corpus[j])
				}
			}
		}
	}
}
