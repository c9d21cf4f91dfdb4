package ssf

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DefaultSubjects is the value of the metadata member "default_subjects" (SSF §7.1).
type DefaultSubjects string

// Values of default_subjects (SSF §7.1). Absent means the behaviour is unspecified.
const (
	// DefaultSubjectsAll: every subject appropriate for a new stream is in it by
	// default; the Receiver may remove subjects.
	DefaultSubjectsAll DefaultSubjects = "ALL"
	// DefaultSubjectsNone: no subject is in a new stream until the Receiver adds it.
	DefaultSubjectsNone DefaultSubjects = "NONE"
)

// Specification versions named by the metadata member spec_version (SSF §7.1, DIFF-1).
const (
	SpecVersion1_0    = "1_0"     // SSF 1.0 Final (2025-08)
	SpecVersion1_0ID3 = "1_0-ID3" // SSF 1.0 draft 03 (2024-06)
	SpecVersion1_0ID2 = "1_0-ID2" // SSF 1.0 draft 02 (2023-10)
	// SpecVersion1_0ID1 is the 2021 SSE framework; a Transmitter whose metadata has no
	// spec_version is assumed to implement it (SSF §7.1).
	SpecVersion1_0ID1 = "1_0-ID1"
)

// SpecURNOAuth2 is the spec_urn of OAuth 2.0 (RFC 6749), the authorization scheme the
// CAEP Interoperability Profile requires (IOP-9).
const SpecURNOAuth2 = "urn:ietf:rfc:6749"

// AuthorizationScheme is one element of the metadata member "authorization_schemes"
// (SSF §7.1.1).
type AuthorizationScheme struct {
	// SpecURN is the URN of the protocol that authorizes calls to the Transmitter's
	// APIs, e.g. "urn:ietf:rfc:6749" (OAuth 2.0) or "urn:ietf:rfc:8705" (OAuth mTLS).
	SpecURN string
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

// MarshalJSON implements json.Marshaler.
func (s AuthorizationScheme) MarshalJSON() ([]byte, error) {
	e := newEncoder()
	e.str("spec_urn", s.SpecURN)
	if err := e.extra("authorization scheme", s.Extra, func(n string) bool { return n == "spec_urn" }); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (s *AuthorizationScheme) UnmarshalJSON(data []byte) error {
	v, err := decodeAuthorizationScheme(data, "authorization scheme", "")
	if err != nil {
		return err
	}
	*s = v
	return nil
}

func decodeAuthorizationScheme(data []byte, object, prefix string) (AuthorizationScheme, error) {
	dec, err := newDecoder(object, prefix, data)
	if err != nil {
		return AuthorizationScheme{}, err
	}
	var s AuthorizationScheme
	s.SpecURN, _ = dec.str("spec_urn")
	s.Extra, err = dec.rest()
	return s, err
}

// urnPattern is the shape of a URN (RFC 8141 §2): "urn:", a namespace identifier of
// 2–32 characters, ":", a non-empty namespace-specific string.
var urnPattern = regexp.MustCompile(`^(?i:urn):[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]:\S+$`)

// Metadata is the Transmitter Configuration Metadata (SSF §7.1), served at the
// well-known URL (SSF §7.2).
//
// Decoding with encoding/json checks member types and keeps unknown members in Extra;
// it changes nothing. [ParseMetadataLenient] is the receiver-side decoder that also
// accepts what real Transmitters publish. Encoding omits empty strings and empty arrays
// (SSF §7.2.3). [Metadata.Validate] checks the SSF rules,
// [Metadata.ValidateInteropProfile] those of the CAEP Interoperability Profile.
type Metadata struct {
	// SpecVersion is "spec_version", e.g. "1_0". Absent means "1_0-ID1" (see
	// EffectiveSpecVersion).
	SpecVersion string
	// Issuer is "issuer" (REQUIRED): https URL without query or fragment, identical to
	// the "iss" of the Transmitter's SETs.
	Issuer string
	// JWKSURI is "jwks_uri": the Transmitter's JWK Set (https).
	JWKSURI string
	// DeliveryMethodsSupported is "delivery_methods_supported": delivery method URIs.
	DeliveryMethodsSupported []string
	// ConfigurationEndpoint is "configuration_endpoint" (https).
	ConfigurationEndpoint string
	// StatusEndpoint is "status_endpoint" (https).
	StatusEndpoint string
	// AddSubjectEndpoint is "add_subject_endpoint" (https).
	AddSubjectEndpoint string
	// RemoveSubjectEndpoint is "remove_subject_endpoint" (https).
	RemoveSubjectEndpoint string
	// VerificationEndpoint is "verification_endpoint" (https).
	VerificationEndpoint string
	// CriticalSubjectMembers is "critical_subject_members": Complex Subject member names
	// a Receiver must understand.
	CriticalSubjectMembers []string
	// AuthorizationSchemes is "authorization_schemes" (SSF §7.1.1).
	AuthorizationSchemes []AuthorizationScheme
	// DefaultSubjects is "default_subjects": DefaultSubjectsAll, DefaultSubjectsNone or
	// empty (unspecified).
	DefaultSubjects DefaultSubjects
	// Extra holds members this type does not define, unchanged.
	Extra map[string]json.RawMessage
}

const objMetadata = "transmitter metadata"

func metadataReserved(name string) bool {
	switch name {
	case "spec_version", "issuer", "jwks_uri", "delivery_methods_supported",
		"configuration_endpoint", "status_endpoint", "add_subject_endpoint",
		"remove_subject_endpoint", "verification_endpoint", "critical_subject_members",
		"authorization_schemes", "default_subjects":
		return true
	}
	return false
}

// MarshalJSON implements json.Marshaler. Empty strings and empty arrays are omitted.
func (m Metadata) MarshalJSON() ([]byte, error) {
	e := newEncoder()
	e.optStr("spec_version", m.SpecVersion)
	e.optStr("issuer", m.Issuer)
	e.optStr("jwks_uri", m.JWKSURI)
	if len(m.DeliveryMethodsSupported) > 0 {
		e.strs("delivery_methods_supported", m.DeliveryMethodsSupported)
	}
	e.optStr("configuration_endpoint", m.ConfigurationEndpoint)
	e.optStr("status_endpoint", m.StatusEndpoint)
	e.optStr("add_subject_endpoint", m.AddSubjectEndpoint)
	e.optStr("remove_subject_endpoint", m.RemoveSubjectEndpoint)
	e.optStr("verification_endpoint", m.VerificationEndpoint)
	if len(m.CriticalSubjectMembers) > 0 {
		e.strs("critical_subject_members", m.CriticalSubjectMembers)
	}
	if len(m.AuthorizationSchemes) > 0 {
		e.name("authorization_schemes")
		e.buf = append(e.buf, '[')
		for i, s := range m.AuthorizationSchemes {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			b, err := s.MarshalJSON()
			if err != nil {
				return nil, fmt.Errorf("ssf: transmitter metadata member \"authorization_schemes[%d]\": %w", i, err)
			}
			e.buf = append(e.buf, b...)
		}
		e.buf = append(e.buf, ']')
	}
	e.optStr("default_subjects", string(m.DefaultSubjects))
	if err := e.extra(objMetadata, m.Extra, metadataReserved); err != nil {
		return nil, err
	}
	return e.bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler. It checks member types only; a present
// empty array decodes to an empty non-nil slice, so that Validate can report it.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	v, err := decodeMetadata(data)
	if err != nil {
		return err
	}
	*m = *v
	return nil
}

func decodeMetadata(data []byte) (*Metadata, error) {
	dec, err := newDecoder(objMetadata, "", data)
	if err != nil {
		return nil, err
	}
	var m Metadata
	m.SpecVersion, _ = dec.str("spec_version")
	m.Issuer, _ = dec.str("issuer")
	m.JWKSURI, _ = dec.str("jwks_uri")
	m.DeliveryMethodsSupported = dec.strs("delivery_methods_supported")
	m.ConfigurationEndpoint, _ = dec.str("configuration_endpoint")
	m.StatusEndpoint, _ = dec.str("status_endpoint")
	m.AddSubjectEndpoint, _ = dec.str("add_subject_endpoint")
	m.RemoveSubjectEndpoint, _ = dec.str("remove_subject_endpoint")
	m.VerificationEndpoint, _ = dec.str("verification_endpoint")
	m.CriticalSubjectMembers = dec.strs("critical_subject_members")
	if raw, ok := dec.take("authorization_schemes"); ok {
		if k := jsonKind(raw); k != "array" {
			dec.addErr(dec.fail("authorization_schemes", "want an array of objects, got %s", k))
		} else {
			var elems []json.RawMessage
			if err := json.Unmarshal(raw, &elems); err != nil {
				dec.addErr(dec.fail("authorization_schemes", "%v", err))
			} else {
				m.AuthorizationSchemes = make([]AuthorizationScheme, 0, len(elems))
				for i, el := range elems {
					s, err := decodeAuthorizationScheme(el, objMetadata, "authorization_schemes["+strconv.Itoa(i)+"].")
					if err != nil {
						dec.addErr(err)
						continue
					}
					m.AuthorizationSchemes = append(m.AuthorizationSchemes, s)
				}
			}
		}
	}
	ds, _ := dec.str("default_subjects")
	m.DefaultSubjects = DefaultSubjects(ds)
	m.Extra, err = dec.rest()
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// EffectiveSpecVersion returns SpecVersion, or "1_0-ID1" when it is empty (SSF §7.1:
// a Transmitter that states no version implements 1_0-ID1).
func (m *Metadata) EffectiveSpecVersion() string {
	if m.SpecVersion == "" {
		return SpecVersion1_0ID1
	}
	return m.SpecVersion
}

// SupportsDelivery reports whether delivery_methods_supported lists method, treating
// the legacy RISC URIs (https and http spellings) as the URNs (DIFF-4).
func (m *Metadata) SupportsDelivery(method string) bool {
	method = NormalizeDeliveryMethod(method)
	for _, s := range m.DeliveryMethodsSupported {
		if NormalizeDeliveryMethod(s) == method {
			return true
		}
	}
	return false
}

// SupportsAuthorizationScheme reports whether authorization_schemes lists specURN
// (URN comparison: the "urn:" prefix and the namespace identifier are case-insensitive,
// RFC 8141 §3).
func (m *Metadata) SupportsAuthorizationScheme(specURN string) bool {
	for _, s := range m.AuthorizationSchemes {
		if urnEqual(s.SpecURN, specURN) {
			return true
		}
	}
	return false
}

func urnEqual(a, b string) bool {
	na, ra, okA := splitURN(a)
	nb, rb, okB := splitURN(b)
	if !okA || !okB {
		return a == b
	}
	return strings.EqualFold(na, nb) && ra == rb
}

// splitURN splits "urn:NID:NSS" into NID and NSS.
func splitURN(s string) (nid, nss string, ok bool) {
	if len(s) < 4 || !strings.EqualFold(s[:4], "urn:") {
		return "", "", false
	}
	nid, nss, ok = strings.Cut(s[4:], ":")
	return nid, nss, ok
}

// Validate checks m against SSF 1.0 §7.1 and §7.2.3 (https everywhere): see
// [Metadata.ValidateWith].
func (m *Metadata) Validate() error { return m.ValidateWith(ValidateOptions{}) }

// ValidateWith checks m against SSF 1.0 §7.1 and §7.2.3:
//
//   - issuer is present and an https URL without query or fragment (SSF-DISC-2);
//   - jwks_uri and every endpoint URL, when present, are absolute https URLs
//     (SSF-DISC-3, -5..-9; conformance TM3);
//   - spec_version, when present, has the form "<major>_<minor>" optionally followed by
//     "-ID<n>" (SSF-DISC-1);
//   - no array member is a present empty array (SSF-DISC-13, TM12), and no element is
//     empty; delivery methods are absolute URIs;
//   - every authorization scheme has a spec_urn that is a URN (SSF-DISC-11, TM7);
//   - default_subjects, when present, is ALL or NONE (SSF-DISC-12, TM6).
//
// With InsecureAllowHTTP, http URLs are accepted in place of https.
func (m *Metadata) ValidateWith(opts ValidateOptions) error {
	var errs []error
	bad := func(member string, err error) {
		errs = append(errs, &MemberError{Object: objMetadata, Member: member, Err: err})
	}
	if m.Issuer == "" {
		bad("issuer", errors.New("is required (SSF §7.1)"))
	} else if err := checkURL(m.Issuer, opts.InsecureAllowHTTP, true); err != nil {
		bad("issuer", err)
	}
	if m.SpecVersion != "" {
		if _, ok := parseSpecVersion(m.SpecVersion); !ok {
			bad("spec_version", fmt.Errorf("%q is not a specification version such as \"1_0\" or \"1_0-ID2\"", m.SpecVersion))
		}
	}
	for _, u := range []struct{ name, value string }{
		{"jwks_uri", m.JWKSURI},
		{"configuration_endpoint", m.ConfigurationEndpoint},
		{"status_endpoint", m.StatusEndpoint},
		{"add_subject_endpoint", m.AddSubjectEndpoint},
		{"remove_subject_endpoint", m.RemoveSubjectEndpoint},
		{"verification_endpoint", m.VerificationEndpoint},
	} {
		if u.value == "" {
			continue
		}
		if err := checkURL(u.value, opts.InsecureAllowHTTP, false); err != nil {
			bad(u.name, err)
		}
	}
	checkArray := func(name string, v []string, each func(string) error) {
		if v != nil && len(v) == 0 {
			bad(name, errors.New("is an empty array; an empty multi-valued member must be omitted (SSF §7.2.3)"))
		}
		for i, s := range v {
			if err := each(s); err != nil {
				bad(name+"["+strconv.Itoa(i)+"]", err)
			}
		}
	}
	checkArray("delivery_methods_supported", m.DeliveryMethodsSupported, func(s string) error {
		if !isAbsoluteURI(s) {
			return fmt.Errorf("%q is not an absolute URI", s)
		}
		return nil
	})
	checkArray("critical_subject_members", m.CriticalSubjectMembers, func(s string) error {
		if s == "" {
			return errors.New("is empty")
		}
		return nil
	})
	if m.AuthorizationSchemes != nil && len(m.AuthorizationSchemes) == 0 {
		bad("authorization_schemes", errors.New("is an empty array; an empty multi-valued member must be omitted (SSF §7.2.3)"))
	}
	for i, s := range m.AuthorizationSchemes {
		name := "authorization_schemes[" + strconv.Itoa(i) + "].spec_urn"
		switch {
		case s.SpecURN == "":
			bad(name, errors.New("is required (SSF §7.1.1)"))
		case !urnPattern.MatchString(s.SpecURN):
			bad(name, fmt.Errorf("%q is not a URN (urn:<namespace>:<string>)", s.SpecURN))
		}
	}
	switch m.DefaultSubjects {
	case "", DefaultSubjectsAll, DefaultSubjectsNone:
	default:
		bad("default_subjects", fmt.Errorf("%q: want %q or %q (SSF §7.1)", m.DefaultSubjects, DefaultSubjectsAll, DefaultSubjectsNone))
	}
	return errors.Join(errs...)
}

// InteropOptions configures [Metadata.ValidateInteropProfile]. The zero value applies
// CAEP Interoperability Profile 1.0 draft 02.
type InteropOptions struct {
	// MinSpecVersion is the lowest acceptable spec_version. Empty means "1_0" (IOP-2,
	// profile draft 02). "1_0-ID2" accepts what the OpenID conformance suite accepts
	// (TM10) and what profile draft 01 required.
	MinSpecVersion string
}

// ValidateInteropProfile checks m against SSF ([Metadata.Validate], https only: IOP-1)
// and the metadata requirements of the CAEP Interoperability Profile (IOP-2..IOP-9,
// conformance TM7, TM10, TM11): spec_version present and at least
// opts.MinSpecVersion; delivery_methods_supported, jwks_uri, configuration_endpoint,
// status_endpoint and verification_endpoint present; authorization_schemes lists
// urn:ietf:rfc:6749.
func (m *Metadata) ValidateInteropProfile(opts InteropOptions) error {
	var errs []error
	if err := m.Validate(); err != nil {
		errs = append(errs, err)
	}
	bad := func(member, format string, args ...any) {
		errs = append(errs, memberErr(objMetadata, member, format, args...))
	}
	minVersion := opts.MinSpecVersion
	if minVersion == "" {
		minVersion = SpecVersion1_0
	}
	switch {
	case m.SpecVersion == "":
		bad("spec_version", "is required by the CAEP Interoperability Profile (IOP-2)")
	default:
		if c, err := CompareSpecVersions(m.SpecVersion, minVersion); err == nil && c < 0 {
			bad("spec_version", "%q is older than %q (IOP-2)", m.SpecVersion, minVersion)
		} else if err != nil {
			if _, ok := parseSpecVersion(minVersion); !ok {
				bad("spec_version", "InteropOptions.MinSpecVersion %q is not a specification version", minVersion)
			} // an invalid m.SpecVersion is already reported by Validate
		}
	}
	if len(m.DeliveryMethodsSupported) == 0 {
		bad("delivery_methods_supported", "is required by the CAEP Interoperability Profile (IOP-3)")
	}
	for _, r := range []struct{ name, value, id string }{
		{"jwks_uri", m.JWKSURI, "IOP-4"},
		{"configuration_endpoint", m.ConfigurationEndpoint, "IOP-5"},
		{"status_endpoint", m.StatusEndpoint, "IOP-6"},
		{"verification_endpoint", m.VerificationEndpoint, "IOP-8"},
	} {
		if r.value == "" {
			bad(r.name, "is required by the CAEP Interoperability Profile (%s)", r.id)
		}
	}
	if !m.SupportsAuthorizationScheme(SpecURNOAuth2) {
		bad("authorization_schemes", "must list {\"spec_urn\": %q} for the CAEP Interoperability Profile (IOP-9)", SpecURNOAuth2)
	}
	return errors.Join(errs...)
}

// CheckIssuer reports whether the metadata issuer is identical to issuer, the Issuer
// from which the well-known URL was built (SSF §7.2.4; exact string comparison).
func (m *Metadata) CheckIssuer(issuer string) error {
	if m.Issuer != issuer {
		return memberErr(objMetadata, "issuer", "%q is not identical to the issuer %q the metadata was requested for (SSF §7.2.4)", m.Issuer, issuer)
	}
	return nil
}

// CheckLocation reports whether configURL, the URL the metadata was fetched from, is
// one of the locations derived from the metadata's own issuer
// ([DiscoveryCandidateURLs]). A Receiver that was handed a configuration URL directly
// uses it to confirm the document belongs to the issuer it names (SSF §7.2.4).
func (m *Metadata) CheckLocation(configURL string) error {
	candidates, err := DiscoveryCandidateURLs(m.Issuer)
	if err != nil {
		return &MemberError{Object: objMetadata, Member: "issuer", Err: err}
	}
	for _, c := range candidates {
		if c == configURL {
			return nil
		}
	}
	return memberErr(objMetadata, "issuer", "%q does not lead to %q: the configuration URL is not built from the issuer (SSF §7.2, §7.2.4)", m.Issuer, configURL)
}

// specVersion is a parsed spec_version: major, minor and implementer's-draft number
// (0 for a final version).
type specVersion struct{ major, minor, draft int }

var specVersionPattern = regexp.MustCompile(`^([0-9]{1,4})_([0-9]{1,4})(?:-ID([1-9][0-9]{0,3}))?$`)

func parseSpecVersion(s string) (specVersion, bool) {
	m := specVersionPattern.FindStringSubmatch(s)
	if m == nil {
		return specVersion{}, false
	}
	var v specVersion
	v.major, _ = strconv.Atoi(m[1])
	v.minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.draft, _ = strconv.Atoi(m[3])
	}
	return v, true
}

// CompareSpecVersions compares two spec_version values: -1 if a is older than b, 0 if
// equal, +1 if newer. Implementer's drafts precede the final version they lead to:
// 1_0-ID1 < 1_0-ID2 < 1_0-ID3 < 1_0 < 1_1-ID1 < 1_1. A value that is not of the form
// "<major>_<minor>[-ID<n>]" is an error.
func CompareSpecVersions(a, b string) (int, error) {
	va, ok := parseSpecVersion(a)
	if !ok {
		return 0, fmt.Errorf("ssf: %q is not a specification version", a)
	}
	vb, ok := parseSpecVersion(b)
	if !ok {
		return 0, fmt.Errorf("ssf: %q is not a specification version", b)
	}
	key := func(v specVersion) [3]int {
		d := v.draft
		if d == 0 {
			d = 1 << 30 // final sorts after every draft
		}
		return [3]int{v.major, v.minor, d}
	}
	ka, kb := key(va), key(vb)
	for i := range ka {
		switch {
		case ka[i] < kb[i]:
			return -1, nil
		case ka[i] > kb[i]:
			return 1, nil
		}
	}
	return 0, nil
}

// isAbsoluteURI reports whether s starts with a URI scheme (RFC 3986 §3.1) followed by
// a non-empty remainder.
func isAbsoluteURI(s string) bool {
	scheme, rest, ok := strings.Cut(s, ":")
	if !ok || scheme == "" || rest == "" || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	for i, c := range scheme {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}
