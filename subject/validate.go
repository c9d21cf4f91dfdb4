package subject

import (
	"net/netip"
	"strings"
)

// Each check below returns "" when the value is acceptable, otherwise the reason, worded
// to follow `member "x"` in an error message. The checks are deliberately sane rather
// than exhaustive: they reject values that cannot be what the format says, and they do
// not second-guess values that are merely unusual.

// checkRequired is the rule every required member shares (RFC 9493 §3.2: members are
// REQUIRED and MUST NOT be null or empty).
func checkRequired(v string) string {
	if v == "" {
		return "must not be empty"
	}
	return ""
}

// checkAccount: an acct: URI, acct:userpart@host (RFC 9493 §3.2.1, RFC 7565). The scheme
// is matched case-insensitively (RFC 3986 §3.1).
func checkAccount(v string) string {
	if v == "" {
		return "must not be empty"
	}
	if len(v) < 5 || !asciiEqualFold(v[:5], "acct:") {
		return `is not an acct: URI (RFC 7565)`
	}
	if r := checkURIChars(v); r != "" {
		return r
	}
	rest := v[5:]
	at := strings.LastIndexByte(rest, '@')
	if at <= 0 || at == len(rest)-1 {
		return `is not an acct: URI: want acct:userpart@host (RFC 7565)`
	}
	return ""
}

// checkEmail: an RFC 5322 addr-spec, local-part@domain (RFC 9493 §3.2.2). Only sane
// checks: one "@" outside a quoted local part, both sides non-empty, no whitespace or
// control characters outside quotes, no empty domain labels.
func checkEmail(v string) string {
	if v == "" {
		return "must not be empty"
	}
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return `is not an addr-spec: no "@"`
	}
	local, domain := v[:at], v[at+1:]
	if local == "" {
		return `is not an addr-spec: empty local part before "@"`
	}
	if domain == "" {
		return `is not an addr-spec: empty domain after "@"`
	}
	quoted := len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"'
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c < 0x20 || c == 0x7f {
			return "is not an addr-spec: control character in local part"
		}
		if !quoted && (c == ' ' || c == '@' || c == '"') {
			return "is not an addr-spec: unquoted local part contains " + quoteByte(c)
		}
	}
	if domain[0] == '[' {
		if domain[len(domain)-1] != ']' {
			return "is not an addr-spec: unterminated domain literal"
		}
		return checkNoSpace(domain, "domain")
	}
	if r := checkNoSpace(domain, "domain"); r != "" {
		return r
	}
	if domain[0] == '.' || domain[len(domain)-1] == '.' || strings.Contains(domain, "..") {
		return "is not an addr-spec: empty label in domain"
	}
	return ""
}

func checkNoSpace(v, part string) string {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c <= ' ' || c == 0x7f {
			return "is not an addr-spec: whitespace or control character in " + part
		}
	}
	return ""
}

func quoteByte(c byte) string {
	switch c {
	case ' ':
		return "a space"
	case '"':
		return `'"'`
	}
	return "'" + string(rune(c)) + "'"
}

// checkPhoneNumber: "+" then the digits of an E.164 number (RFC 9493 §3.2.5). Spaces
// between digits are accepted (the SSF §5 example writes "+1 206 555 0123") and are not
// significant for Equal, Match and Canonical. E.164 numbers have at most 15 digits.
func checkPhoneNumber(v string) string {
	if v == "" {
		return "must not be empty"
	}
	if v[0] != '+' {
		return `is not an E.164 number: must start with "+"`
	}
	digits := 0
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ':
			if i == 1 || i == len(v)-1 {
				return `is not an E.164 number: space right after "+" or at the end`
			}
		default:
			return `is not an E.164 number: only digits and spaces may follow "+"`
		}
	}
	if digits == 0 {
		return `is not an E.164 number: no digits after "+"`
	}
	if digits > 15 {
		return "is not an E.164 number: more than 15 digits"
	}
	return ""
}

// checkDID: a DID or DID URL, did:method:method-specific-id… (RFC 9493 §3.2.6, W3C DID
// Core §3.1, §3.2). The method name is lower-case letters and digits.
func checkDID(v string) string {
	if v == "" {
		return "must not be empty"
	}
	if !strings.HasPrefix(v, "did:") {
		return `is not a DID URL: must start with "did:"`
	}
	rest := v[4:]
	colon := strings.IndexByte(rest, ':')
	if colon <= 0 {
		return `is not a DID URL: want did:method:id`
	}
	for i := 0; i < colon; i++ {
		if c := rest[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return "is not a DID URL: method name must be lower-case letters and digits"
		}
	}
	if colon == len(rest)-1 {
		return "is not a DID URL: empty method-specific id"
	}
	return checkURIChars(v)
}

// checkURI: an absolute RFC 3986 URI, scheme ":" … (RFC 9493 §3.2.7).
func checkURI(v string) string {
	if v == "" {
		return "must not be empty"
	}
	colon := strings.IndexByte(v, ':')
	if colon <= 0 {
		return "is not an absolute URI: no scheme (RFC 3986 §3.1)"
	}
	for i := 0; i < colon; i++ {
		c := v[i]
		alpha := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !alpha || !(alpha || c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.') {
			return "is not an absolute URI: invalid scheme (RFC 3986 §3.1)"
		}
	}
	return checkURIChars(v)
}

// checkURIChars checks that v uses only characters RFC 3986 allows in a URI, with valid
// percent-encoding and at most one "#".
func checkURIChars(v string) string {
	fragment := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~:/?[]@!$&'()*+,;=", c) >= 0:
		case c == '#':
			if fragment {
				return `is not a URI: second "#"`
			}
			fragment = true
		case c == '%':
			if i+2 >= len(v) || !isHex(v[i+1]) || !isHex(v[i+2]) {
				return "is not a URI: invalid percent-encoding"
			}
			i += 2
		default:
			return "is not a URI: character " + quoteChar(v, i) + " is not allowed (RFC 3986 §2)"
		}
	}
	return ""
}

func quoteChar(v string, i int) string {
	r := []rune(v[i:])
	if len(r) == 0 {
		return "?"
	}
	switch r[0] {
	case ' ':
		return "space"
	}
	if r[0] < 0x20 || r[0] == 0x7f {
		return "control character"
	}
	return "'" + string(r[0]) + "'"
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// checkIPAddress: the RFC 4001 textual form of an IPv4 or IPv6 address (SSF §3.5.3), as
// net/netip parses it. Zones (fe80::1%eth0) are rejected: a zone is not part of an
// address another host can observe.
func checkIPAddress(v string) string {
	a, err := netip.ParseAddr(v)
	if err != nil {
		if v == "" {
			return "must not be empty"
		}
		return "is not an IPv4 or IPv6 address: " + err.Error()
	}
	if a.Zone() != "" {
		return "is not an IPv4 or IPv6 address: has a zone"
	}
	return ""
}

// asciiEqualFold reports whether a and b are equal under ASCII case folding.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}
